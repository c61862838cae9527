#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/prefetch.h"
#include "common/time.h"

namespace sipwall {

inline constexpr Nanos kFairWindow = 100 * kNanosPerMilli;
inline constexpr size_t kFairSlots = 4096;  // 8 bytes each: 32 KiB per worker and budget

// Fair parts of the untrusted share on one worker, in the manner of stochastic fair queueing: a
// keyed hash of the source aggregate picks one of kFairSlots slots, and each slot counts the
// untrusted messages it asked for and was granted in the current window (kFairWindow of packet
// time). At each window's end the fair part for the next window becomes
//
//   fair = ceil(C / n),  C = max(floor, granted in the last window),  n = slots that asked
//
// (n = 1 when nobody asked: the first window, or after a pause).
// where floor is this worker's untrusted share of one window. The guarantee: while the budget is
// contended, a slot (one heavy aggregate, plus whatever collides with it) is granted at most
// `fair` untrusted messages per window; a slot that asks for less is never refused by this gate,
// only by an empty budget. So one heavy sender cannot starve the light ones; it keeps what they
// leave (the caller lets an over-fair slot borrow while the budget is at least half full).
// Collisions: n active aggregates share 4096 slots, so with more than a few thousand senders
// fairness is per slot (like SFQ's buckets); the seed is secret live, so nobody can aim at a slot.
// Memory and work are constant: one slot read and write per untrusted message.
class FairShare {
 public:
  FairShare();

  // Rolls the window when `now` passed its end; `floor` is this worker's untrusted share of one
  // window in messages. Then counts a request from `hash`; true when that slot had already been
  // granted its fair part this window.
  bool over_fair_part(uint64_t hash, Nanos now, double floor) {
    if (window_over(now)) roll(now, floor);
    return over_fair_part(hash);
  }
  // The same in two steps, so the caller computes `floor` only when the window rolls (once per
  // kFairWindow, not per message): roll() when window_over(now), then over_fair_part(hash).
  bool window_over(Nanos now) const { return now >= window_end_ || window_end_ == 0; }
  void roll(Nanos now, double floor);
  bool over_fair_part(uint64_t hash) {
    Slot& s = slot(hash);
    if (s.epoch != epoch_) {
      s.epoch = epoch_;
      s.used = 0;
      ++active_;
    }
    return s.used >= fair_part_;
  }
  // Counts a message granted to `hash` (after over_fair_part for the same packet).
  void granted(uint64_t hash) {
    ++slot(hash).used;
    ++granted_;
  }
  // Asks for `hash`'s slot ahead of over_fair_part (a burst prefetches its packets' slots).
  void prefetch(uint64_t hash) const { prefetch_for_write(&slots_[index(hash)]); }

  uint32_t fair_part() const { return fair_part_; }
  uint32_t active_slots() const { return active_; }

 private:
  // Trivial, and allocated by new Slot[n](), so the table is zeroed by one memset (a vector's
  // element loop cost sanitizer builds more than the rest of building a pipeline).
  struct Slot {
    uint32_t epoch;  // the window the count belongs to
    uint32_t used;   // granted in that window
  };
  static size_t index(uint64_t hash) { return (hash >> 20) & (kFairSlots - 1); }
  Slot& slot(uint64_t hash) { return slots_[index(hash)]; }

  std::unique_ptr<Slot[]> slots_;  // kFairSlots, zeroed
  uint32_t epoch_ = 1;
  Nanos window_end_ = 0;
  uint32_t active_ = 0;
  uint64_t granted_ = 0;
  uint32_t fair_part_ = 0;  // set by the first roll()
};

}  // namespace sipwall
