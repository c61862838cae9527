#include "bridge/mac_table.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

constexpr Nanos kAge = 300 * kNanosPerSecond;

MacAddress mac(uint32_t n) {
  return {0x02,
          0x00,
          static_cast<uint8_t>(n >> 24),
          static_cast<uint8_t>(n >> 16),
          static_cast<uint8_t>(n >> 8),
          static_cast<uint8_t>(n)};
}

TEST(MacTable, UnknownAddressesAreUnknown) {
  MacTable t(64, kAge, 1);
  EXPECT_EQ(t.lookup(mac(1), 0), std::nullopt);
}

TEST(MacTable, LearnsTheSideAStationWasSeenOn) {
  MacTable t(64, kAge, 1);
  t.learn(mac(1), BridgeSide::outside, 10);
  t.learn(mac(2), BridgeSide::inside, 10);
  EXPECT_EQ(t.lookup(mac(1), 20), BridgeSide::outside);
  EXPECT_EQ(t.lookup(mac(2), 20), BridgeSide::inside);
}

TEST(MacTable, AStationThatMovesIsRelearnedAtOnce) {
  MacTable t(64, kAge, 1);
  t.learn(mac(1), BridgeSide::outside, 10);
  t.learn(mac(1), BridgeSide::inside, 11);  // within the refresh interval: still rewritten
  EXPECT_EQ(t.lookup(mac(1), 12), BridgeSide::inside);
}

TEST(MacTable, AWorkerWithAnOlderClockDoesNotMoveTheLastSightingBack) {
  MacTable t(64, kAge, 1);
  const Nanos seen = 10 * kNanosPerSecond;
  t.learn(mac(1), BridgeSide::outside, seen);
  t.learn(mac(1), BridgeSide::outside, seen - kNanosPerMilli);  // another worker, a burst earlier
  EXPECT_EQ(t.lookup(mac(1), seen + kAge - kNanosPerMilli / 2), BridgeSide::outside);
}

TEST(MacTable, EntriesAgeOutUnlessRefreshed) {
  MacTable t(64, kAge, 1);
  t.learn(mac(1), BridgeSide::outside, 0);
  t.learn(mac(2), BridgeSide::outside, 0);
  t.learn(mac(2), BridgeSide::outside, kAge / 2);  // seen again
  EXPECT_EQ(t.lookup(mac(1), kAge - 1), BridgeSide::outside);
  EXPECT_EQ(t.lookup(mac(1), kAge), std::nullopt);
  EXPECT_EQ(t.lookup(mac(2), kAge), BridgeSide::outside);
  EXPECT_EQ(t.lookup(mac(2), kAge / 2 + kAge), std::nullopt);
}

TEST(MacTable, AFullTableReplacesTheLeastRecentlySeen) {
  MacTable t(64, kAge, 7);
  // Far more stations than slots: every lookup of the newest ones must still succeed.
  for (uint32_t i = 0; i < 1000; ++i) t.learn(mac(i), BridgeSide::inside, i * kNanosPerSecond);
  const Nanos now = 1000 * kNanosPerSecond;
  EXPECT_EQ(t.lookup(mac(999), now), BridgeSide::inside);
  size_t known = 0;
  for (uint32_t i = 0; i < 1000; ++i) known += t.lookup(mac(i), now).has_value();
  EXPECT_LE(known, t.capacity());
  EXPECT_GE(known, t.capacity() / 2);
}

}  // namespace
}  // namespace sipwall
