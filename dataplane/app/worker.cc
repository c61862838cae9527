#include "worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf_dyn.h>

#include "worker_mailbox.h"

namespace sipwall {
namespace {

int g_seq_offset = -1;

uint64_t& sequence_of(rte_mbuf* m) {
  return *RTE_MBUF_DYNFIELD(m, g_seq_offset, uint64_t*);
}

// A datagram can release this many held fragments at once; TX queues flush before overflowing.
constexpr size_t kQueueCapacity = 4 * 1024;
constexpr size_t kMaxFrame = 64 * 1024;

}  // namespace

bool Worker::register_sequence_field() {
  static const rte_mbuf_dynfield desc = {"sipwall_rx_seq", sizeof(uint64_t), alignof(uint64_t), 0};
  g_seq_offset = rte_mbuf_dynfield_register(&desc);
  return g_seq_offset >= 0;
}

Worker::Worker(const WorkerSetup& setup, const FilterPolicy& policy, size_t counter_slots)
    : setup_(setup),
      pipeline_(policy, setup.queue, counter_slots, setup.budgets),
      replay_(setup.packet_times, setup.replay_period),
      tsc_hz_(rte_get_tsc_hz()),
      linear_(kMaxBurst * kMaxFrame) {
  to_inside_.reserve(kQueueCapacity);
  to_punt_.reserve(kQueueCapacity);
}

Nanos Worker::tsc_now() const {
  // Split so the multiplication cannot overflow: the remainder is below the TSC frequency.
  const uint64_t tsc = rte_rdtsc();
  return tsc / tsc_hz_ * kNanosPerSecond + tsc % tsc_hz_ * kNanosPerSecond / tsc_hz_;
}

Nanos Worker::packet_time(uint64_t seq) {
  if (setup_.clock == ClockMode::capture) return setup_.packet_times[seq];
  return replay_.next();
}

std::span<const uint8_t> Worker::frame_of(rte_mbuf* m, size_t slot) {
  if (m->nb_segs == 1) return {rte_pktmbuf_mtod(m, const uint8_t*), m->data_len};
  // A chained (jumbo) frame is copied whole into this burst slot's own buffer.
  uint8_t* buffer = linear_.data() + slot * kMaxFrame;
  const uint32_t len = std::min<uint32_t>(m->pkt_len, static_cast<uint32_t>(kMaxFrame));
  const auto* p = static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, len, buffer));
  return {p, len};
}

void Worker::decide(uint64_t cookie, const Decision& decision) {
  auto* m = reinterpret_cast<rte_mbuf*>(cookie);
  if (observer_) observer_(sequence_of(m), decision);  // offline only, where the field is set
  switch (decision.verdict) {
    case Verdict::pass:
      to_inside_.push_back(m);
      if (to_inside_.size() == kQueueCapacity) send(to_inside_, setup_.ports.inside);
      break;
    case Verdict::punt:
      to_punt_.push_back(m);
      if (to_punt_.size() == kQueueCapacity) send(to_punt_, setup_.ports.punt);
      break;
    case Verdict::drop:
      rte_pktmbuf_free(m);
      break;
  }
}

void Worker::send(std::vector<rte_mbuf*>& queue, std::optional<uint16_t> port) {
  size_t sent = 0;
  if (port) {
    // A few retries ride out a momentarily full ring without stalling the loop.
    for (int attempt = 0; attempt < 4 && sent < queue.size(); ++attempt) {
      sent += rte_eth_tx_burst(
          *port, setup_.queue, queue.data() + sent,
          static_cast<uint16_t>(std::min<size_t>(queue.size() - sent, UINT16_MAX)));
    }
  }
  io_.tx_sent += sent;
  io_.tx_failed += queue.size() - sent;
  for (size_t i = sent; i < queue.size(); ++i) rte_pktmbuf_free(queue[i]);
  queue.clear();
}

void Worker::flush_all() {
  if (!to_inside_.empty()) send(to_inside_, setup_.ports.inside);
  if (!to_punt_.empty()) send(to_punt_, setup_.ports.punt);
}

void Worker::filter_burst(std::span<rte_mbuf*> pkts) {
  if (pkts.empty()) return;
  if (offline()) {
    // Offline, expiry runs before every packet so the result never depends on burst sizes.
    for (rte_mbuf* m : pkts) {
      const uint64_t seq = next_seq_++;
      sequence_of(m) = seq;
      const Nanos now = packet_time(seq);
      if (before_packet_) before_packet_(seq);
      pipeline_.expire(now, *this);
      pipeline_.process(frame_of(m, 0), reinterpret_cast<uint64_t>(m), now, *this);
    }
    flush_all();
    return;
  }
  // Live, one TSC read per burst is precise enough for rates and costs far less than per packet.
  const bool live = setup_.clock == ClockMode::tsc;
  const Nanos burst_now = live ? tsc_now() : 0;
  std::array<PacketRef, kMaxBurst> refs;
  const size_t n = std::min(pkts.size(), kMaxBurst);
  for (size_t i = 0; i < n; ++i) {
    // The sequence number is only read by the offline observer; writing it live would touch the
    // mbuf's second cache line for nothing.
    rte_mbuf* m = pkts[i];
    const uint64_t seq = next_seq_++;
    refs[i] = PacketRef{frame_of(m, i), reinterpret_cast<uint64_t>(m),
                        live ? burst_now : packet_time(seq)};
  }
  pipeline_.process_burst(std::span<const PacketRef>(refs.data(), n), *this);
  pipeline_.expire(refs[n - 1].now, *this);
  flush_all();
  if (pkts.size() > n) filter_burst(pkts.subspan(n));
}

void Worker::expire_while_idle() {
  // Held fragments must time out on a quiet link too; once a millisecond is plenty.
  const uint64_t tsc = rte_rdtsc();
  if (tsc - last_idle_expire_tsc_ < tsc_hz_ / 1000) return;
  last_idle_expire_tsc_ = tsc;
  pipeline_.expire(tsc_now(), *this);
  flush_all();
}

void Worker::forward_inside_burst() {
  std::array<rte_mbuf*, kBurstSize> pkts;
  const uint16_t n = rte_eth_rx_burst(setup_.ports.inside, setup_.queue, pkts.data(), kBurstSize);
  if (n == 0) return;
  io_.rx_inside += n;
  const uint16_t sent = rte_eth_tx_burst(setup_.ports.outside, setup_.queue, pkts.data(), n);
  io_.tx_sent += sent;
  io_.tx_failed += n - sent;
  for (uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(pkts[i]);
}

void Worker::adopt_published_policy() {
  const FilterPolicy* published = setup_.feed.current->load(std::memory_order_acquire);
  if (published != &pipeline_.policy()) pipeline_.adopt(*published);
}

void Worker::run(const std::atomic<bool>& stop) {
  if (setup_.feed.qsbr) {
    rte_rcu_qsbr_thread_register(setup_.feed.qsbr, setup_.feed.thread_id);
    rte_rcu_qsbr_thread_online(setup_.feed.qsbr, setup_.feed.thread_id);
  }
  run_loop(stop);
  if (setup_.feed.qsbr) {
    // An offline thread no longer holds up reloads; a reloader waiting on it can go on.
    rte_rcu_qsbr_thread_offline(setup_.feed.qsbr, setup_.feed.thread_id);
    rte_rcu_qsbr_thread_unregister(setup_.feed.qsbr, setup_.feed.thread_id);
  }
}

void Worker::run_loop(const std::atomic<bool>& stop) {
  std::array<rte_mbuf*, kBurstSize> pkts;
  const uint64_t expected = setup_.packet_times.size();
  // Offline, the PMD returns nothing once the file is read; give up if packets went missing.
  constexpr uint32_t kOfflineIdlePolls = 100'000;
  uint32_t idle = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    // A burst is judged wholly by one policy: the switch happens only here, between bursts.
    if (setup_.feed.current) adopt_published_policy();
    if (setup_.mailbox && setup_.mailbox->pending()) setup_.mailbox->drain(pipeline_, tsc_now());
    const uint16_t n =
        rte_eth_rx_burst(setup_.ports.outside, setup_.queue, pkts.data(), kBurstSize);
    io_.rx_outside += n;
    if (offline() && io_.rx_outside > expected) {
      // More packets than the pre-scan counted: never index past the timestamp table.
      for (uint16_t i = 0; i < n; ++i) rte_pktmbuf_free(pkts[i]);
      break;
    }
    filter_burst(std::span<rte_mbuf*>(pkts.data(), n));
    if (n == 0 && setup_.clock == ClockMode::tsc) expire_while_idle();
    if (setup_.poll_inside) forward_inside_burst();
    if (setup_.feed.qsbr) rte_rcu_qsbr_quiescent(setup_.feed.qsbr, setup_.feed.thread_id);
    if (offline()) {
      if (io_.rx_outside == expected) break;
      idle = n == 0 ? idle + 1 : 0;
      if (idle == kOfflineIdlePolls) break;
    }
  }
  if (offline()) {
    pipeline_.drain(*this);  // fragments of datagrams the capture never completed
    flush_all();
  }
}

}  // namespace sipwall
