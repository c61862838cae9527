// FailureTracker's bounds: a full table of live entries refuses new keys (counted), sweeps at
// most once a second, and makes room once entries expire.
#include "control/policy/failure_tracker.h"

#include <gtest/gtest.h>

namespace sipwall::policy {
namespace {

IpAddress nth(uint32_t i) {
  return IpAddress::v4(0x0a000000u + i);
}

TEST(FailureTracker, FullTableRefusesNewSourcesUntilEntriesExpire) {
  FailureLimits l;
  l.capacity = 16;
  l.source_failures = 3;
  l.window = 10 * kNanosPerSecond;
  l.ban_max = 10 * kNanosPerSecond;
  l.ban = 5 * kNanosPerSecond;
  FailureTracker t(l);
  const Nanos t0 = 100 * kNanosPerSecond;
  for (uint32_t i = 0; i < 16; ++i) t.record_failure(nth(i), "", t0);
  EXPECT_EQ(t.sources(), 16u);
  // Full of live entries: the 17th source is not counted, whatever it does.
  for (int k = 0; k < 5; ++k) EXPECT_FALSE(t.record_failure(nth(99), "", t0).ban.has_value());
  EXPECT_GT(t.table_full(), 0u);
  EXPECT_FALSE(t.is_banned(nth(99), t0));
  // A known source still is.
  t.record_failure(nth(1), "", t0);
  EXPECT_TRUE(t.record_failure(nth(1), "", t0).ban.has_value());
  // Once the windows are over, a sweep makes room.
  const Nanos later = t0 + 11 * kNanosPerSecond;
  for (int k = 0; k < 2; ++k) t.record_failure(nth(99), "", later);
  EXPECT_TRUE(t.record_failure(nth(99), "", later).ban.has_value());
  EXPECT_TRUE(t.is_banned(nth(99), later));
  // The banned source's entry outlives the sweep (its ban and its offence are live).
  EXPECT_TRUE(t.is_banned(nth(1), t0 + 4 * kNanosPerSecond));
}

TEST(FailureTracker, UserLockoutIsPerSource) {
  FailureLimits l;
  l.account_failures = 2;
  FailureTracker t(l);
  t.record_failure(nth(1), "alice", 0);
  EXPECT_TRUE(t.record_failure(nth(1), "alice", 0).locked_out);
  EXPECT_TRUE(t.is_locked_out(nth(1), "alice", 1));
  EXPECT_FALSE(t.is_locked_out(nth(2), "alice", 1));
  EXPECT_FALSE(t.is_locked_out(nth(1), "bob", 1));
  t.record_success(nth(1), "alice");
  EXPECT_FALSE(t.is_locked_out(nth(1), "alice", 1));
}

}  // namespace
}  // namespace sipwall::policy
