#pragma once

#include <rte_mbuf.h>

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/time.h"
#include "pipeline/decision_sink.h"
#include "worker.h"

namespace sipwall {

// Offline replay of a capture through one Worker's pipeline and ports. The live worker loop
// knows nothing of it: this driver brings the capture clock (packet_times[i] is the time of the
// i-th packet read, 0-based), hears every decision with the packet's sequence number, runs a
// hook before each packet (reloads and commands scheduled at that packet), expires before
// every packet so the result never depends on burst sizes, and drains held fragments at the end.
class OfflineDriver final : private DecisionSink {
 public:
  using Observer = std::function<void(uint64_t seq, const Decision&)>;
  using BeforePacket = std::function<void(uint64_t seq)>;

  // `worker` reads the capture on its outside port and queue; one time per packet.
  OfflineDriver(Worker& worker, std::span<const Nanos> packet_times);

  void set_observer(Observer observer) { observer_ = std::move(observer); }
  void set_before_packet(BeforePacket hook) { before_packet_ = std::move(hook); }

  // Reads and judges until every packet of the capture was decided, or the port ran dry.
  void run();

  // Packets read from the capture (more than packet_times.size() means the pre-scan was wrong:
  // the extra ones are freed unjudged).
  uint64_t received() const { return received_; }

 private:
  void decide(uint64_t cookie, const Decision& decision) override;

  Worker& worker_;
  std::span<const Nanos> times_;
  std::vector<rte_mbuf*> mbufs_;  // by sequence number: the pipeline's cookie offline
  Observer observer_;
  BeforePacket before_packet_;
  uint64_t received_ = 0;
};

}  // namespace sipwall
