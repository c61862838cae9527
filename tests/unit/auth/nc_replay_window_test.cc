#include "control/auth/nc_replay_window.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

constexpr Nanos kLife = 300 * kNanosPerSecond;
constexpr Nanos kStart = 1000 * kNanosPerSecond;

TEST(NcReplayWindow, EachNcOnce) {
  NcReplayWindow w(64, kLife, kStart);
  const Nanos issued = kStart + 1;
  EXPECT_EQ(w.check_and_record(7, issued, 1, issued), NcCheck::fresh);
  EXPECT_EQ(w.check_and_record(7, issued, 1, issued), NcCheck::replay);
  EXPECT_EQ(w.check_and_record(7, issued, 2, issued), NcCheck::fresh);
  EXPECT_EQ(w.check_and_record(7, issued, 2, issued), NcCheck::replay);
  // Another nonce has its own window.
  EXPECT_EQ(w.check_and_record(8, issued, 1, issued), NcCheck::fresh);
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(w.check_and_record(7, issued, 0, issued), NcCheck::too_old);
}

TEST(NcReplayWindow, OutOfOrderInsideTheWindow) {
  NcReplayWindow w(64, kLife, kStart);
  const Nanos t = kStart + 1;
  EXPECT_EQ(w.check_and_record(1, t, 10, t), NcCheck::fresh);
  EXPECT_EQ(w.check_and_record(1, t, 5, t), NcCheck::fresh);  // late, never seen
  EXPECT_EQ(w.check_and_record(1, t, 5, t), NcCheck::replay);
  EXPECT_EQ(w.check_and_record(1, t, 10 + 63, t), NcCheck::fresh);
  EXPECT_EQ(w.check_and_record(1, t, 10, t), NcCheck::replay);   // 63 back: still in
  EXPECT_EQ(w.check_and_record(1, t, 9, t), NcCheck::too_old);   // 64 back
  EXPECT_EQ(w.check_and_record(1, t, 1000, t), NcCheck::fresh);  // a jump clears the window
  EXPECT_EQ(w.check_and_record(1, t, 999, t), NcCheck::fresh);
  EXPECT_EQ(w.check_and_record(1, t, 1000, t), NcCheck::replay);
}

TEST(NcReplayWindow, NoncesFromBeforeCreationAreStale) {
  // A restart forgets every window: nonces it issued before cannot be trusted to be unused.
  NcReplayWindow w(64, kLife, kStart);
  EXPECT_EQ(w.check_and_record(1, kStart, 1, kStart + 5), NcCheck::stale);
  EXPECT_EQ(w.check_and_record(1, kStart - 1, 1, kStart + 5), NcCheck::stale);
  EXPECT_EQ(w.size(), 0u);
}

TEST(NcReplayWindow, FullTableLosesTheOldestAndRaisesTheHorizon) {
  NcReplayWindow w(1, kLife, kStart);  // one bucket of kWays entries
  ASSERT_EQ(w.capacity(), NcReplayWindow::kWays);
  const Nanos now = kStart + 100;
  for (uint64_t id = 0; id < NcReplayWindow::kWays; ++id) {
    EXPECT_EQ(w.check_and_record(id, kStart + 1 + id, 1, now), NcCheck::fresh);
  }
  EXPECT_EQ(w.size(), NcReplayWindow::kWays);
  // A nonce older than every live entry finds no room.
  EXPECT_EQ(w.check_and_record(50, kStart + 1, 1, now), NcCheck::stale);
  EXPECT_EQ(w.horizon(), kStart);
  // A newer one evicts the oldest (id 0, issued kStart + 1) ...
  EXPECT_EQ(w.check_and_record(100, kStart + 50, 1, now), NcCheck::fresh);
  EXPECT_EQ(w.horizon(), kStart + 1);
  // ... whose replay is then refused as stale, not accepted into a new window.
  EXPECT_EQ(w.check_and_record(0, kStart + 1, 1, now), NcCheck::stale);
  // The others kept their windows.
  EXPECT_EQ(w.check_and_record(1, kStart + 2, 1, now), NcCheck::replay);
  EXPECT_EQ(w.size(), NcReplayWindow::kWays);
}

TEST(NcReplayWindow, ExpiredEntriesAreReusedWithoutRaisingTheHorizon) {
  NcReplayWindow w(1, kLife, kStart);
  for (uint64_t id = 0; id < NcReplayWindow::kWays; ++id) {
    EXPECT_EQ(w.check_and_record(id, kStart + 1, 1, kStart + 1), NcCheck::fresh);
  }
  const Nanos later = kStart + 1 + kLife + 1;  // every entry's nonce has expired
  EXPECT_EQ(w.check_and_record(99, later, 1, later), NcCheck::fresh);
  EXPECT_EQ(w.horizon(), kStart);
}

}  // namespace
}  // namespace sipwall
