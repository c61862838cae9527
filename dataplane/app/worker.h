#pragma once

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "bridge/exception_path.h"
#include "common/time.h"
#include "pipeline/pipeline.h"
#include "replay_clock.h"

namespace sipwall {

inline constexpr uint16_t kBurstSize = 32;

struct WorkerPorts {
  uint16_t outside = 0;
  uint16_t inside = 1;
  std::optional<uint16_t> punt;
};

// Where a worker's time comes from when it judges bursts: one clock source per run. Offline
// replay does not go through the burst path at all: OfflineDriver brings the capture's clock.
enum class ClockMode : uint8_t {
  tsc,     // live: the TSC, read once per burst
  replay,  // benchmarks: packet_times repeated, each repetition `replay_period` later
};

// How a live worker learns of a rule reload: it reads `current` before each burst and adopts a
// new policy there, and reports a quiescent state to `qsbr` after each burst, so the reloader
// knows when no worker can still be using the old policy and frees it.
struct PolicyFeed {
  const std::atomic<const FilterPolicy*>* current = nullptr;
  rte_rcu_qsbr* qsbr = nullptr;
  unsigned thread_id = 0;
};

class WorkerMailbox;

// The exception path's tables, shared by every worker (set live when the punt port is a tap).
// Without them, the punt port is only written (offline, benchmarks, a pcap punt port).
struct ExceptionShared {
  MacTable* macs = nullptr;
  TapFlowTable* tap_flows = nullptr;
  MacAddress tap_mac{};
};

struct WorkerSetup {
  WorkerPorts ports;
  uint16_t queue = 0;
  bool poll_inside = true;
  ClockMode clock = ClockMode::tsc;
  std::span<const Nanos> packet_times;  // ClockMode::replay only
  Nanos replay_period = 0;
  PolicyFeed feed;
  WorkerMailbox* mailbox = nullptr;  // live: dynamic-state updates, applied between bursts
  // The punt/pass budgets every worker shares (owned by the caller); nullptr: this worker's own.
  SharedBudgets* budgets = nullptr;
  ExceptionShared exception;
  // Live: after kIdlePollsBeforeSleep polls in a row found every queue empty, sleep
  // idle_sleep_us between polls (0: busy-poll always), so idle workers leave the CPU to
  // whatever shares it.
  uint32_t idle_sleep_us = 0;
};

inline constexpr uint32_t kIdlePollsBeforeSleep = 256;

// Counters of the DPDK shell itself (the filter counts verdicts in WorkerCounters).
// The roles of the ports, as metrics and counters name them.
enum class PortRole : uint8_t { outside, inside, punt };

struct IoCounters {
  uint64_t rx_outside = 0;
  uint64_t rx_inside = 0;
  uint64_t tx_sent = 0;
  uint64_t tx_failed = 0;  // the TX ring was full (or no mbuf for a copy): freed, not sent
  uint64_t rx_punt = 0;    // frames the tap (control plane) sent
  // Frames sent, by port role (PortRole): what tx_sent counts, split by where it went.
  std::array<uint64_t, 3> tx_by_port{};
  // Frames not sent (ring full), by port role: a full punt ring is a control plane not reading.
  std::array<uint64_t, 3> tx_failed_by_port{};
  uint64_t idle_sleeps = 0;
  // The poll loop's load: a poll-mode core is always at 100% CPU, so the share of loop time
  // spent on iterations that moved packets is its real load. An iteration is busy when any of
  // its RX polls returned packets; its TSC cycles (sleeps included) go to the same side.
  uint64_t busy_polls = 0;
  uint64_t idle_polls = 0;
  uint64_t busy_cycles = 0;
  uint64_t idle_cycles = 0;
  ExceptionCounters exception;

  IoCounters& operator+=(const IoCounters& o);
};

// One lcore's poll loop around one Pipeline: RX a burst from the outside port, judge it, TX pass
// to the inside port and punt to the punt port, free drops; traffic from the inside is
// forwarded out unfiltered. With an exception path (ExceptionShared), the worker also polls its
// punt RX queue and moves frames between the tap and ports 0/1 as ExceptionPath decides.
class Worker final : private DecisionSink {
 public:
  // This worker is worker `setup.queue` of `policy` (and of every policy published later).
  Worker(const WorkerSetup& setup, const FilterPolicy& policy, size_t counter_slots = 0);

  // The live poll loop: polls its queues until `stop` is set.
  void run(const std::atomic<bool>& stop);

  // Judges one burst from the outside port and sends or frees every decided packet.
  void filter_burst(std::span<rte_mbuf*> pkts);

  // For a driver that judges packets itself (offline replay): sends or frees a decided packet
  // as the verdict says, and flushes the TX queues.
  void route(rte_mbuf* m, const Decision& decision);
  void flush_all();
  // The frame's bytes (a chained mbuf copied into burst slot `slot`'s buffer).
  std::span<const uint8_t> frame_of(rte_mbuf* m, size_t slot);
  const WorkerSetup& setup() const { return setup_; }

  const WorkerCounters& counters() const { return pipeline_.counters(); }
  // Counters of the shell, the exception path's included.
  IoCounters io() const;
  // Occupancy of this worker's token-bucket and fragment tables.
  TableUse table_use() const { return pipeline_.table_use(); }
  uint64_t tsc_hz() const { return tsc_hz_; }
  Pipeline& pipeline() { return pipeline_; }

 private:
  void decide(uint64_t cookie, const Decision& decision) override;
  Nanos tsc_now() const;
  uint16_t forward_inside_burst();
  uint16_t forward_tap_burst();
  ServiceView service_view() const;
  // Queues a copy of `m` for the tap (ARP/ND broadcast the other side needs too).
  void punt_copy(rte_mbuf* m);
  void push(std::vector<rte_mbuf*>& queue, rte_mbuf* m, std::optional<uint16_t> port);
  void adopt_published_policy();
  void run_loop(const std::atomic<bool>& stop);
  void expire_while_idle();
  void idle_backoff(bool idle);
  void count_iteration(bool idle);
  void send(std::vector<rte_mbuf*>& queue, std::optional<uint16_t> port);

  WorkerSetup setup_;
  Pipeline pipeline_;
  ReplayClock replay_;  // ClockMode::replay only
  IoCounters io_;
  std::optional<ExceptionPath> exception_;
  uint32_t idle_polls_ = 0;
  uint64_t tsc_hz_ = 0;
  uint64_t loop_tsc_ = 0;  // the TSC at the end of the previous loop iteration
  uint64_t last_idle_expire_tsc_ = 0;
  std::vector<rte_mbuf*> to_inside_;
  std::vector<rte_mbuf*> to_punt_;
  std::vector<rte_mbuf*> to_outside_;  // exception path: inside and tap frames going out
  std::vector<uint8_t> linear_;        // one buffer per burst slot for chained frames
};

}  // namespace sipwall
