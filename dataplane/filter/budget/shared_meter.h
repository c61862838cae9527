#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace sipwall {

// Time on a budget's scale: 1/256 ns since the budget's first packet (2^64 units = 833 days),
// fine enough that a byte at 400 Mbit/s (20 ps) still costs 5 units.
using BudgetTime = uint64_t;
inline constexpr uint64_t kBudgetUnitsPerNano = 256;

// What one meter charges: `cost` units of time per message or byte, and how far ahead of now its
// theoretical arrival time may run (the burst it tolerates, in time units).
struct MeterParams {
  double cost = 0;         // units per message / byte; 0 with `closed`
  uint64_t tolerance = 0;  // burst, in units
  bool closed = true;      // rate 0: nothing conforms, forced charges are ignored
  // What a worker prepays beyond a message's cost when its credit runs out (MeterCredit), in
  // units: a sixteenth of the tolerance. 0: each message takes exactly its cost.
  uint64_t chunk = 0;

  // `cost` in 1/65536 units: cost_of() multiplies integers (a double to unsigned conversion
  // costs a dozen instructions without AVX-512, and a decision makes four of them).
  uint64_t cost_q16 = 0;

  uint64_t cost_of(uint64_t n) const {
    __extension__ using u128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<u128>(n) * cost_q16 + 0x8000) >> 16);
  }
};

// A token bucket shared by every worker, as GCRA (the generic cell rate algorithm): one atomic,
// the theoretical arrival time (TAT). Taking n tokens advances the TAT by n × cost; it conforms
// while TAT − now stays within the tolerance. Refill is implicit in time passing, so nothing
// refills it and no lock is needed. A refused take is a plain load (no write, no cache line
// taken away from other workers); writes happen only for granted messages, at most the budget's
// rate in total, so the line's traffic is bounded by the budget, not by the packet rate.
class SharedMeter {
 public:
  // Takes `cost` units if they fit; false leaves the meter untouched.
  bool try_take(BudgetTime now, uint64_t cost, const MeterParams& p) {
    if (p.closed) return false;
    uint64_t tat = tat_.load(std::memory_order_relaxed);
    while (true) {
      const uint64_t next = std::max(tat, now) + cost;
      if (next - now > p.tolerance) return false;
      if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return true;
    }
  }

  // Takes `cost + extra` units if they fit, else `cost` if that fits (one load for both);
  // returns what it took: 0 when not even `cost` fits, and then the meter is untouched.
  uint64_t take_up_to(BudgetTime now, uint64_t cost, uint64_t extra, const MeterParams& p) {
    if (p.closed) return 0;
    uint64_t tat = tat_.load(std::memory_order_relaxed);
    while (true) {
      const uint64_t from = std::max(tat, now);
      uint64_t take = cost + extra;
      if (from + take - now > p.tolerance) take = cost;
      if (from + take - now > p.tolerance) return 0;
      if (tat_.compare_exchange_weak(tat, from + take, std::memory_order_relaxed)) return take;
    }
  }

  // Charges `cost` whether or not it fits (traffic another meter admitted still uses this one's
  // capacity), running at most one tolerance into debt.
  void charge(BudgetTime now, uint64_t cost, const MeterParams& p) {
    if (p.closed) return;
    uint64_t tat = tat_.load(std::memory_order_relaxed);
    while (true) {
      const uint64_t next = std::min(std::max(tat, now) + cost, now + 2 * p.tolerance);
      if (next <= tat) return;
      if (tat_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return;
    }
  }

  // Returns what try_take() took when a companion meter refused the same packet.
  void give_back(uint64_t cost) { tat_.fetch_sub(cost, std::memory_order_relaxed); }

  // Tokens left at `now` as a fraction of the tolerance (1: full bucket, 0: empty or in debt).
  double level(BudgetTime now, const MeterParams& p) const {
    if (p.closed || p.tolerance == 0) return 0;
    const uint64_t tat = tat_.load(std::memory_order_relaxed);
    if (tat <= now) return 1;
    const uint64_t used = tat - now;
    return used >= p.tolerance ? 0
                               : 1 - static_cast<double>(used) / static_cast<double>(p.tolerance);
  }

 private:
  std::atomic<uint64_t> tat_{0};
};

}  // namespace sipwall
