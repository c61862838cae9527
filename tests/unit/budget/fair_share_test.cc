#include "budget/fair_share.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

uint64_t hash_of_slot(uint64_t slot) {
  return slot << 20;  // FairShare picks the slot from bits 20 and up
}

TEST(FairShare, TheFirstWindowAllowsOneAggregateTheWholeFloor) {
  FairShare f;
  int granted = 0;
  while (granted < 1000 && !f.over_fair_part(hash_of_slot(1), 0, 10)) {
    f.granted(hash_of_slot(1));
    ++granted;
  }
  EXPECT_EQ(granted, 10);
}

TEST(FairShare, FairPartIsLastWindowsCapacityOverItsActiveSlots) {
  FairShare f;
  // Window 0: 4 slots ask, 40 messages granted in all.
  for (uint64_t s = 0; s < 4; ++s) {
    for (int i = 0; i < 10; ++i) {
      f.over_fair_part(hash_of_slot(s), 0, 8);
      f.granted(hash_of_slot(s));
    }
  }
  // Window 1: fair = ceil(max(floor 8, granted 40) / 4) = 10.
  int before_refusal = 0;
  while (before_refusal < 1000 && !f.over_fair_part(hash_of_slot(7), kFairWindow, 8)) {
    f.granted(hash_of_slot(7));
    ++before_refusal;
  }
  EXPECT_EQ(f.fair_part(), 10u);
  EXPECT_EQ(before_refusal, 10);
  // Another slot is not affected by slot 7 being over.
  EXPECT_FALSE(f.over_fair_part(hash_of_slot(8), kFairWindow + 1, 8));
}

TEST(FairShare, FloorWinsWhenLittleWasGranted) {
  FairShare f;
  for (uint64_t s = 0; s < 5; ++s) f.over_fair_part(hash_of_slot(s), 0, 100);
  f.over_fair_part(hash_of_slot(0), kFairWindow, 100);
  EXPECT_EQ(f.fair_part(), 20u);  // ceil(100 / 5)
}

TEST(FairShare, AnIdleGapForgetsTheOldCounts) {
  FairShare f;
  for (uint64_t s = 0; s < 100; ++s) f.over_fair_part(hash_of_slot(s), 0, 1);
  f.over_fair_part(hash_of_slot(0), 10 * kFairWindow, 7);
  EXPECT_EQ(f.fair_part(), 7u);  // the floor, not the old count's 1
}

}  // namespace
}  // namespace sipwall
