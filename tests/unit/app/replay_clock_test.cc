#include "replay_clock.h"

#include <gtest/gtest.h>

#include <vector>

namespace sipwall {
namespace {

TEST(ReplayClock, PlaysTheTableRoundAfterRoundEachOnePeriodLater) {
  const std::vector<Nanos> times = {0, 10, 700};
  ReplayClock clock(times, 1000);
  std::vector<Nanos> got;
  for (int i = 0; i < 8; ++i) got.push_back(clock.next());
  EXPECT_EQ(got, (std::vector<Nanos>{0, 10, 700, 1000, 1010, 1700, 2000, 2010}));
}

TEST(ReplayClock, OnePacketTableAdvancesByThePeriod) {
  const std::vector<Nanos> times = {5};
  ReplayClock clock(times, kNanosPerSecond);
  EXPECT_EQ(clock.next(), 5u);
  EXPECT_EQ(clock.next(), 5 + kNanosPerSecond);
  EXPECT_EQ(clock.next(), 5 + 2 * kNanosPerSecond);
}

}  // namespace
}  // namespace sipwall
