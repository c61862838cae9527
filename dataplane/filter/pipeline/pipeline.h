#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "common/time.h"
#include "common/verdict.h"
#include "pipeline/decision_sink.h"
#include "pipeline/filter_config.h"
#include "pipeline/filter_policy.h"
#include "pipeline/table_use.h"
#include "pipeline/worker_counters.h"
#include "state/dynamic_state.h"
#include "state/state_update.h"

namespace sipwall {

struct SharedBudgets;

// One frame to judge: its bytes, the caller's cookie for it and its time on the one clock.
struct PacketRef {
  std::span<const uint8_t> frame;
  uint64_t cookie = 0;
  Nanos now = 0;
};

inline constexpr size_t kMaxBurst = 64;
// Positions of each dynamic table that one expire() call visits.
inline constexpr size_t kExpireBudget = 64;

// One worker's filter: every stage in order, with the worker's own tables and counters.
// Nothing here allocates, locks or makes a system call once constructed.
//
//   parse -> ACL / ban -> (IP reassembly) -> classify ->
//     SIP/UDP:  token buckets -> tier + punt/pass budget -> SIP validation -> signatures -> punt
//               (to a service address) or pass (transit)
//     TCP SIP:  SYN bucket -> tier + budget -> punt (the control plane terminates TCP and TLS)
//     RTP/RTCP: flow bucket -> header checks -> pinhole (when enforced) -> pass
//     other:    pass (transit)
class Pipeline {
 public:
  // Tables are sized from `policy` (a later policy cannot resize them); this pipeline is worker
  // `worker` of the policy. Signature hit counters have `counter_slots` entries (0: as many as
  // the policy has rules). `budgets` is the punt/pass budget state every worker shares (it must
  // outlive the pipeline); nullptr gives this pipeline budgets of its own (one worker, tests).
  Pipeline(const FilterPolicy& policy, size_t worker, size_t counter_slots = 0,
           SharedBudgets* budgets = nullptr);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Judges one frame from the outside port. The sink hears about this packet now, later (a held
  // fragment), and possibly about earlier held fragments whose datagram this one completes.
  void process(std::span<const uint8_t> frame, uint64_t cookie, Nanos now, DecisionSink& sink);

  // The same for up to kMaxBurst frames, in order: every frame is parsed and its token buckets
  // prefetched first, so the table's cache misses overlap instead of adding up.
  void process_burst(std::span<const PacketRef> burst, DecisionSink& sink);

  // Drops fragments whose datagram timed out and reclaims a bounded number of expired dynamic
  // entries (kExpireBudget positions per table). Call between bursts.
  void expire(Nanos now, DecisionSink& sink);
  // Drops everything still held (the end of an offline capture).
  void drain(DecisionSink& sink);

  // Applies a change to this worker's dynamic state (bans, trusted sources, pinholes, the
  // pinhole switch) at time `now`. Call between bursts, from the worker's thread.
  ApplyResult apply(const StateUpdate& update, Nanos now);
  // True while a dynamic trust entry (added by the control plane or the operator) holds for
  // `source`. Rule-file trust and ACL allow entries are not in the dynamic state.
  bool trusted_dynamic(const IpAddress& source, Nanos now) const;
  // The id of the ban a `ban` drop names (Decision::rule is its BanHandle); valid while the
  // sink's decide() runs, since bans change only between bursts. "" when the ban has no id.
  std::string_view ban_id(RuleIndex rule) const;
  const DynamicState& dynamic_state() const;

  // Switches to another policy between bursts: a pointer switch, nothing allocated. Token
  // bucket, dynamic (ban, trust, pinhole, the pinhole switch) and fragment state carries over,
  // so a source keeps its tokens when its limit survives the reload. FilterConfig's
  // enforce_pinholes and table sizes count only for the first policy.
  void adopt(const FilterPolicy& policy);
  const FilterPolicy& policy() const;

  const WorkerCounters& counters() const;
  // Occupancy of the token-bucket and fragment tables (any thread; see TableUse).
  TableUse table_use() const;

 private:
  struct Stages;
  std::unique_ptr<Stages> stages_;
};

}  // namespace sipwall
