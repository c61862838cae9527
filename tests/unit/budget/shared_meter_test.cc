#include "budget/shared_meter.h"

#include <gtest/gtest.h>

#include "budget/budget_plan.h"

namespace sipwall {
namespace {

constexpr BudgetTime kMs = kNanosPerMilli * kBudgetUnitsPerNano;

TEST(SharedMeter, BurstThenRate) {
  const MeterParams p = meter_for_rate(1000, 1);  // 1000/s, 10 ms of burst = 10 messages
  SharedMeter m;
  int burst = 0;
  while (m.try_take(0, p.cost_of(1), p)) ++burst;
  EXPECT_EQ(burst, 10);
  EXPECT_FALSE(m.try_take(0, p.cost_of(1), p));
  EXPECT_TRUE(m.try_take(1 * kMs, p.cost_of(1), p));  // one more per millisecond
  EXPECT_FALSE(m.try_take(1 * kMs, p.cost_of(1), p));
}

TEST(SharedMeter, LongRunRateHolds) {
  const MeterParams p = meter_for_rate(5000, 1);
  SharedMeter m;
  int granted = 0;
  for (BudgetTime t = 0; t < 1000 * kMs; t += kMs / 100) granted += m.try_take(t, p.cost_of(1), p);
  EXPECT_NEAR(granted, 5000 + 50, 2);  // one second of rate plus the 10 ms burst
}

TEST(SharedMeter, RefusedTakeChangesNothingAndGiveBackRestores) {
  const MeterParams p = meter_for_rate(100, 1);
  SharedMeter m;
  ASSERT_TRUE(m.try_take(0, p.cost_of(1), p));
  const double before = m.level(0, p);
  EXPECT_FALSE(m.try_take(0, p.cost_of(5), p));
  EXPECT_EQ(m.level(0, p), before);
  ASSERT_TRUE(m.try_take(5000 * kMs, p.cost_of(1), p));
  m.give_back(p.cost_of(1));
  EXPECT_EQ(m.level(5000 * kMs, p), 1.0);
}

TEST(SharedMeter, ChargeRunsIntoBoundedDebt) {
  const MeterParams p = meter_for_rate(1000, 1);
  SharedMeter m;
  for (int i = 0; i < 1000; ++i) m.charge(0, p.cost_of(1), p);
  EXPECT_EQ(m.level(0, p), 0.0);
  EXPECT_FALSE(m.try_take(0, p.cost_of(1), p));
  // Debt is capped at one tolerance: after 2 tolerances (20 ms) the meter is full again.
  EXPECT_EQ(m.level(20 * kMs, p), 1.0);
}

TEST(SharedMeter, ClosedMeterRefusesEverything) {
  const MeterParams p = meter_for_rate(0, 1);
  SharedMeter m;
  EXPECT_FALSE(m.try_take(1000 * kMs, 0, p));
}

}  // namespace
}  // namespace sipwall
