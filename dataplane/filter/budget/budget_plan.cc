#include "budget/budget_plan.h"

#include <algorithm>

#include "budget/fair_share.h"

namespace sipwall {

MeterParams meter_for_rate(double per_second, uint64_t min_burst) {
  MeterParams p;
  if (per_second <= 0) return p;
  p.closed = false;
  p.cost = static_cast<double>(kNanosPerSecond * kBudgetUnitsPerNano) / per_second;
  // At most 2.56e11 units per message at 1/s: far inside 64 bits with 16 fraction bits.
  p.cost_q16 = static_cast<uint64_t>(std::min(p.cost * 65536.0 + 0.5, 1.8e19));
  p.tolerance = std::max(kBudgetBurst * kBudgetUnitsPerNano, p.cost_of(min_burst));
  p.chunk = p.tolerance / kCreditChunksPerTolerance;
  return p;
}

BudgetPlan BudgetPlan::build(const BudgetRate& rate, std::span<const uint32_t> reserves) {
  BudgetPlan plan;
  plan.rate = rate;
  const double msgs = static_cast<double>(rate.messages_per_s);
  const double bytes = static_cast<double>(rate.bytes_per_s);
  const double share = rate.untrusted_percent / 100.0;
  double reserved = 0;
  for (const uint32_t r : reserves) reserved += r;
  plan.total = {meter_for_rate(msgs, 1), meter_for_rate(bytes, kBudgetBurstFrameBytes)};
  const auto untrusted = static_cast<size_t>(Tier::untrusted);
  const auto trusted = static_cast<size_t>(Tier::trusted);
  plan.tier[untrusted] = {meter_for_rate(msgs * share, 1),
                          meter_for_rate(bytes * share, kBudgetBurstFrameBytes)};
  plan.tier[trusted] = {meter_for_rate(std::max(0.0, msgs * (1 - share) - reserved), 1),
                        meter_for_rate(bytes * (1 - share), kBudgetBurstFrameBytes)};
  for (const uint32_t r : reserves) plan.reserves.push_back(meter_for_rate(r, 1));
  plan.untrusted_per_window =
      msgs * share * static_cast<double>(kFairWindow) / static_cast<double>(kNanosPerSecond);
  return plan;
}

}  // namespace sipwall
