#include "worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "worker_mailbox.h"

namespace sipwall {
namespace {

// A datagram can release this many held fragments at once; TX queues flush before overflowing.
constexpr size_t kQueueCapacity = 4 * 1024;
constexpr size_t kMaxFrame = 64 * 1024;

}  // namespace

IoCounters& IoCounters::operator+=(const IoCounters& o) {
  rx_outside += o.rx_outside;
  rx_inside += o.rx_inside;
  tx_sent += o.tx_sent;
  tx_failed += o.tx_failed;
  rx_punt += o.rx_punt;
  for (size_t i = 0; i < tx_by_port.size(); ++i) {
    tx_by_port[i] += o.tx_by_port[i];
    tx_failed_by_port[i] += o.tx_failed_by_port[i];
  }
  idle_sleeps += o.idle_sleeps;
  busy_polls += o.busy_polls;
  idle_polls += o.idle_polls;
  busy_cycles += o.busy_cycles;
  idle_cycles += o.idle_cycles;
  exception += o.exception;
  return *this;
}

Worker::Worker(const WorkerSetup& setup, const FilterPolicy& policy, size_t counter_slots)
    : setup_(setup),
      pipeline_(policy, setup.queue, counter_slots, setup.budgets),
      replay_(setup.packet_times, setup.replay_period),
      tsc_hz_(rte_get_tsc_hz()),
      linear_(kMaxBurst * kMaxFrame) {
  to_inside_.reserve(kQueueCapacity);
  to_punt_.reserve(kQueueCapacity);
  to_outside_.reserve(kQueueCapacity);
  const ExceptionShared& shared = setup.exception;
  if (shared.macs && shared.tap_flows && setup.ports.punt) {
    exception_.emplace(shared.tap_mac, *shared.macs, *shared.tap_flows);
  }
}

IoCounters Worker::io() const {
  IoCounters io = io_;
  if (exception_) io.exception = exception_->counters();
  return io;
}

ServiceView Worker::service_view() const {
  const FilterPolicy& policy = pipeline_.policy();
  return {&policy.services(), &policy.classifier()};
}

Nanos Worker::tsc_now() const {
  // Split so the multiplication cannot overflow: the remainder is below the TSC frequency.
  const uint64_t tsc = rte_rdtsc();
  return tsc / tsc_hz_ * kNanosPerSecond + tsc % tsc_hz_ * kNanosPerSecond / tsc_hz_;
}

std::span<const uint8_t> Worker::frame_of(rte_mbuf* m, size_t slot) {
  if (m->nb_segs == 1) return {rte_pktmbuf_mtod(m, const uint8_t*), m->data_len};
  // A chained (jumbo) frame is copied whole into this burst slot's own buffer.
  uint8_t* buffer = linear_.data() + slot * kMaxFrame;
  const uint32_t len = std::min<uint32_t>(m->pkt_len, static_cast<uint32_t>(kMaxFrame));
  const auto* p = static_cast<const uint8_t*>(rte_pktmbuf_read(m, 0, len, buffer));
  return {p, len};
}

// Inlined: every passed and punted packet is queued here (a call per packet showed in the
// instruction counts of mix a).
[[gnu::always_inline]] inline void Worker::push(std::vector<rte_mbuf*>& queue, rte_mbuf* m,
                                                std::optional<uint16_t> port) {
  queue.push_back(m);
  if (queue.size() == kQueueCapacity) [[unlikely]] {
    send(queue, port);
  }
}

void Worker::decide(uint64_t cookie, const Decision& decision) {
  route(reinterpret_cast<rte_mbuf*>(cookie), decision);
}

void Worker::route(rte_mbuf* m, const Decision& decision) {
  switch (decision.verdict) {
    case Verdict::pass:
      // The filter passes what is not signaling; addressed to the tap, that is not served.
      if (exception_ && exception_->to_tap_mac({rte_pktmbuf_mtod(m, const uint8_t*),
                                                std::min<size_t>(m->data_len, 6)})) {
        exception_->count_filtered_pass();
        rte_pktmbuf_free(m);
        break;
      }
      push(to_inside_, m, setup_.ports.inside);
      break;
    case Verdict::punt:
      push(to_punt_, m, setup_.ports.punt);
      break;
    case Verdict::drop:
      rte_pktmbuf_free(m);
      break;
  }
}

void Worker::punt_copy(rte_mbuf* m) {
  rte_mbuf* copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
  if (copy) {
    push(to_punt_, copy, setup_.ports.punt);
  } else {
    ++io_.tx_failed;  // the pool is empty: the copy is lost, the original goes on
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
  const PortRole role = &queue == &to_punt_     ? PortRole::punt
                        : &queue == &to_inside_ ? PortRole::inside
                                                : PortRole::outside;
  io_.tx_by_port[static_cast<size_t>(role)] += sent;
  io_.tx_failed_by_port[static_cast<size_t>(role)] += queue.size() - sent;
  for (size_t i = sent; i < queue.size(); ++i) rte_pktmbuf_free(queue[i]);
  queue.clear();
}

void Worker::flush_all() {
  if (!to_inside_.empty()) send(to_inside_, setup_.ports.inside);
  if (!to_punt_.empty()) send(to_punt_, setup_.ports.punt);
  if (!to_outside_.empty()) send(to_outside_, setup_.ports.outside);
}

void Worker::filter_burst(std::span<rte_mbuf*> pkts) {
  if (pkts.empty()) return;
  // Live, one TSC read per burst is precise enough for rates and costs far less than per packet.
  const bool live = setup_.clock == ClockMode::tsc;
  const Nanos burst_now = live ? tsc_now() : 0;
  std::array<PacketRef, kMaxBurst> refs;
  const size_t n = std::min(pkts.size(), kMaxBurst);
  const ServiceView service = exception_ ? service_view() : ServiceView{};
  size_t judged = 0;
  for (size_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    const PacketRef ref{frame_of(m, judged), reinterpret_cast<uint64_t>(m),
                        live ? burst_now : replay_.next()};
    if (exception_) {
      switch (exception_->ingress(BridgeSide::outside, ref.frame, service, ref.now)) {
        case TapIngress::bridge_copy:
          punt_copy(m);
          break;
        case TapIngress::bridge:
        case TapIngress::signaling:
          break;
        case TapIngress::reply:
        case TapIngress::icmp_error:
        case TapIngress::neighbor:
          push(to_punt_, m, setup_.ports.punt);
          continue;
        case TapIngress::not_served:
          rte_pktmbuf_free(m);
          continue;
      }
    }
    refs[judged++] = ref;
  }
  if (judged > 0) {
    pipeline_.process_burst(std::span<const PacketRef>(refs.data(), judged), *this);
    pipeline_.expire(refs[judged - 1].now, *this);
  }
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

uint16_t Worker::forward_inside_burst() {
  std::array<rte_mbuf*, kBurstSize> pkts;
  const uint16_t n = rte_eth_rx_burst(setup_.ports.inside, setup_.queue, pkts.data(), kBurstSize);
  if (n == 0) return 0;
  io_.rx_inside += n;
  if (!exception_) {
    const uint16_t sent = rte_eth_tx_burst(setup_.ports.outside, setup_.queue, pkts.data(), n);
    io_.tx_sent += sent;
    io_.tx_by_port[static_cast<size_t>(PortRole::outside)] += sent;
    io_.tx_failed += n - sent;
    io_.tx_failed_by_port[static_cast<size_t>(PortRole::outside)] += n - sent;
    for (uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(pkts[i]);
    return n;
  }
  // The core is trusted: its frames are not filtered, but only what the tap serves reaches it.
  const Nanos now = tsc_now();
  const ServiceView service = service_view();
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    switch (exception_->ingress(BridgeSide::inside, frame_of(m, 0), service, now)) {
      case TapIngress::bridge_copy:
        punt_copy(m);
        push(to_outside_, m, setup_.ports.outside);
        break;
      case TapIngress::bridge:
        push(to_outside_, m, setup_.ports.outside);
        break;
      case TapIngress::signaling:
      case TapIngress::reply:
      case TapIngress::icmp_error:
      case TapIngress::neighbor:
        push(to_punt_, m, setup_.ports.punt);
        break;
      case TapIngress::not_served:
        rte_pktmbuf_free(m);
        break;
    }
  }
  flush_all();
  return n;
}

uint16_t Worker::forward_tap_burst() {
  std::array<rte_mbuf*, kBurstSize> pkts;
  const uint16_t n = rte_eth_rx_burst(*setup_.ports.punt, setup_.queue, pkts.data(), kBurstSize);
  if (n == 0) return 0;
  io_.rx_punt += n;
  const Nanos now = tsc_now();
  const ServiceView service = service_view();
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    switch (exception_->egress(frame_of(m, 0), service, now)) {
      case TapEgress::outside:
        push(to_outside_, m, setup_.ports.outside);
        break;
      case TapEgress::inside:
        push(to_inside_, m, setup_.ports.inside);
        break;
      case TapEgress::flood:
        if (rte_mbuf* copy = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX)) {
          push(to_inside_, copy, setup_.ports.inside);
        } else {
          ++io_.tx_failed;
        }
        push(to_outside_, m, setup_.ports.outside);
        break;
      case TapEgress::not_service_source:
      case TapEgress::malformed:
        rte_pktmbuf_free(m);
        break;
    }
  }
  flush_all();
  return n;
}

void Worker::idle_backoff(bool idle) {
  if (!idle) {
    idle_polls_ = 0;
    return;
  }
  if (setup_.idle_sleep_us == 0 || ++idle_polls_ < kIdlePollsBeforeSleep) return;
  // Only after a run of empty polls, so a busy link never pays for the system call.
  idle_polls_ = kIdlePollsBeforeSleep;
  ++io_.idle_sleeps;
  rte_delay_us_sleep(setup_.idle_sleep_us);
}

void Worker::count_iteration(bool idle) {
  // One TSC read per iteration: a burst of packets shares it, an empty poll is idle time anyway.
  const uint64_t now = rte_rdtsc();
  const uint64_t spent = now - loop_tsc_;
  loop_tsc_ = now;
  if (idle) {
    ++io_.idle_polls;
    io_.idle_cycles += spent;
  } else {
    ++io_.busy_polls;
    io_.busy_cycles += spent;
  }
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
  loop_tsc_ = rte_rdtsc();
  while (!stop.load(std::memory_order_relaxed)) {
    // A burst is judged wholly by one policy: the switch happens only here, between bursts.
    if (setup_.feed.current) adopt_published_policy();
    if (setup_.mailbox && setup_.mailbox->pending()) setup_.mailbox->drain(pipeline_, tsc_now());
    const uint16_t n =
        rte_eth_rx_burst(setup_.ports.outside, setup_.queue, pkts.data(), kBurstSize);
    io_.rx_outside += n;
    filter_burst(std::span<rte_mbuf*>(pkts.data(), n));
    if (n == 0 && setup_.clock == ClockMode::tsc) expire_while_idle();
    uint16_t others = 0;
    if (setup_.poll_inside) others += forward_inside_burst();
    if (exception_) others += forward_tap_burst();
    const bool idle = n == 0 && others == 0;
    if (setup_.clock == ClockMode::tsc) idle_backoff(idle);
    count_iteration(idle);
    if (setup_.feed.qsbr) rte_rcu_qsbr_quiescent(setup_.feed.qsbr, setup_.feed.thread_id);
  }
}

}  // namespace sipwall
