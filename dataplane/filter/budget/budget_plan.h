#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "budget/budget_config.h"
#include "budget/shared_meter.h"
#include "common/time.h"

namespace sipwall {

// A budget's meters may run this far ahead (the burst they tolerate): 10 ms of their rate, and
// at least one message (or one jumbo frame of bytes).
inline constexpr Nanos kBudgetBurst = 10 * kNanosPerMilli;
inline constexpr uint64_t kBudgetBurstFrameBytes = 9216;
// A worker prepays a meter's tolerance in this many parts (MeterCredit): with W workers the
// meters hold back at most W/16 of their burst in prepaid credit.
inline constexpr uint64_t kCreditChunksPerTolerance = 16;
// Reserved shares per budget: `trust` statements with reserve=N, numbered in rule-file order.
inline constexpr size_t kMaxReserves = 256;
inline constexpr uint16_t kNoReserve = UINT16_MAX;

// A message and its bytes: each tier and the total are metered in both.
struct MeterPair {
  MeterParams messages;
  MeterParams bytes;
};

// One budget (punt or pass) turned into meter parameters, computed once per rule load so the hot
// path multiplies instead of dividing. The shares partition the total, so traffic each share
// admits can never take the total over its rate:
//   total     = messages_per_s, bytes_per_s
//   untrusted = untrusted_percent of the total
//   trusted   = the rest, minus the reserves (messages); bytes: the rest
//   reserve i = its `reserve=` messages/s
// A packet is charged to its share and to the total; once its share is spent it may still use
// what the total has left over (what nobody else's share took): that is the work-conserving part.
struct BudgetPlan {
  BudgetRate rate;
  MeterPair total;
  MeterPair tier[kTierCount];
  std::vector<MeterParams> reserves;  // by reserve slot
  // Untrusted messages per fairness window at the untrusted share (all workers): the floor of
  // what the fairness table divides among the active source aggregates.
  double untrusted_per_window = 0;

  // `reserves`: reserve=N of each reserving trust prefix, in order (the punt budget; the pass
  // budget gets none).
  static BudgetPlan build(const BudgetRate& rate, std::span<const uint32_t> reserves);
};

MeterParams meter_for_rate(double per_second, uint64_t min_burst);

}  // namespace sipwall
