#include "offline_driver.h"

#include <rte_ethdev.h>

#include <array>

namespace sipwall {

OfflineDriver::OfflineDriver(Worker& worker, std::span<const Nanos> packet_times)
    : worker_(worker), times_(packet_times), mbufs_(packet_times.size(), nullptr) {}

void OfflineDriver::decide(uint64_t cookie, const Decision& decision) {
  if (observer_) observer_(cookie, decision);
  worker_.route(mbufs_[cookie], decision);
}

void OfflineDriver::run() {
  const WorkerSetup& setup = worker_.setup();
  const uint64_t expected = times_.size();
  // The PMD returns nothing once the file is read; give up if packets went missing.
  constexpr uint32_t kIdlePolls = 100'000;
  uint32_t idle = 0;
  Pipeline& pipeline = worker_.pipeline();
  std::array<rte_mbuf*, kBurstSize> pkts;
  while (received_ < expected && idle < kIdlePolls) {
    const uint16_t n = rte_eth_rx_burst(setup.ports.outside, setup.queue, pkts.data(), kBurstSize);
    idle = n == 0 ? idle + 1 : 0;
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      const uint64_t seq = received_++;
      if (seq >= expected) {
        // More packets than the pre-scan counted: never index past the timestamp table.
        rte_pktmbuf_free(m);
        continue;
      }
      mbufs_[seq] = m;
      const Nanos now = times_[seq];
      if (before_packet_) before_packet_(seq);
      pipeline.expire(now, *this);
      pipeline.process(worker_.frame_of(m, 0), seq, now, *this);
    }
    worker_.flush_all();
  }
  pipeline.drain(*this);  // fragments of datagrams the capture never completed
  worker_.flush_all();
}

}  // namespace sipwall
