#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/time.h"
#include "common/verdict.h"
#include "pipeline/decision_sink.h"
#include "pipeline/filter_config.h"
#include "pipeline/worker_counters.h"

namespace sipwall {

class SignatureSet;

// One frame to judge: its bytes, the caller's cookie for it and its time on the one clock.
struct PacketRef {
  std::span<const uint8_t> frame;
  uint64_t cookie = 0;
  Nanos now = 0;
};

inline constexpr size_t kMaxBurst = 64;

// One worker's filter: every stage in order, with the worker's own tables and counters.
// Nothing here allocates, locks or makes a system call once constructed.
//
//   parse -> ACL / ban -> (IP reassembly) -> classify ->
//     SIP/UDP:  token buckets -> SIP validation -> signatures -> punt
//     TCP SIP:  punt (the control plane terminates TCP and TLS)
//     RTP/RTCP: flow bucket -> header checks -> pinhole (when enforced) -> pass
//     other:    pass (transit)
class Pipeline {
 public:
  Pipeline(const FilterConfig& config, const SignatureSet& signatures);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Judges one frame from the outside port. The sink hears about this packet now, later (a held
  // fragment), and possibly about earlier held fragments whose datagram this one completes.
  void process(std::span<const uint8_t> frame, uint64_t cookie, Nanos now, DecisionSink& sink);

  // The same for up to kMaxBurst frames, in order: every frame is parsed and its token buckets
  // prefetched first, so the table's cache misses overlap instead of adding up.
  void process_burst(std::span<const PacketRef> burst, DecisionSink& sink);

  // Drops fragments whose datagram timed out. Call between bursts.
  void expire(Nanos now, DecisionSink& sink);
  // Drops everything still held (the end of an offline capture).
  void drain(DecisionSink& sink);

  // Dynamic state the control plane will push between bursts.
  bool ban(const IpPrefix& prefix, Nanos until);
  bool open_pinhole(const IpAddress& address, uint16_t port, Nanos until);

  const WorkerCounters& counters() const;
  const SignatureSet& signatures() const;

 private:
  struct Stages;
  std::unique_ptr<Stages> stages_;
};

}  // namespace sipwall
