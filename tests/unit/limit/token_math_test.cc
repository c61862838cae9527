#include "limit/token_math.h"

#include "common/time.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace sipwall {
namespace {

constexpr uint64_t kToken = kNanoTokensPerToken;

TEST(TokenMath, RefillIsElapsedTimesRateCappedAtBurst) {
  constexpr BucketParams p{20, 40};
  static_assert(refill(0, 50'000'000, p) == kToken);  // 20/s: one token per 50 ms
  EXPECT_EQ(refill(0, 49'999'999, p), kToken - 20);
  EXPECT_EQ(refill(3 * kToken, 1, p), 3 * kToken + 20);
  EXPECT_EQ(refill(39 * kToken, 10 * kNanosPerSecond, p), 40 * kToken);
  EXPECT_EQ(refill(0, 0, p), 0u);
}

TEST(TokenMath, HugeGapsSaturateInsteadOfOverflowing) {
  constexpr BucketParams p{std::numeric_limits<uint32_t>::max(),
                           std::numeric_limits<uint32_t>::max()};
  EXPECT_EQ(refill(0, std::numeric_limits<uint64_t>::max(), p), bucket_capacity(p));
  EXPECT_EQ(refill(bucket_capacity(p) - 1, std::numeric_limits<uint64_t>::max() / 2, p),
            bucket_capacity(p));
  EXPECT_EQ(bucket_capacity(p), 4'294'967'295ULL * kToken);
}

TEST(TokenMath, StoredTokensAboveALoweredBurstAreClamped) {
  EXPECT_EQ(refill(100 * kToken, 0, BucketParams{10, 20}), 20 * kToken);
}

TEST(TokenMath, RateZeroNeverRefillsAndBurstZeroHoldsNothing) {
  EXPECT_EQ(refill(0, kNanosPerSecond, BucketParams{0, 10}), 0u);
  EXPECT_EQ(nanos_until_full(0, BucketParams{0, 10}), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(refill(0, kNanosPerSecond, BucketParams{10, 0}), 0u);
  EXPECT_EQ(nanos_until_full(0, BucketParams{10, 0}), 0u);
}

TEST(TokenMath, TimeUntilFullRoundsUp) {
  EXPECT_EQ(nanos_until_full(39 * kToken, BucketParams{20, 40}), 50'000'000u);
  EXPECT_EQ(nanos_until_full(40 * kToken, BucketParams{20, 40}), 0u);
  // 3/s: one token takes 333'333'333.3 ns -> 333'333'334.
  EXPECT_EQ(nanos_until_full(9 * kToken, BucketParams{3, 10}), 333'333'334u);
  EXPECT_EQ(refill(9 * kToken, 333'333'334, BucketParams{3, 10}), 10 * kToken);
  EXPECT_LT(refill(9 * kToken, 333'333'333, BucketParams{3, 10}), 10 * kToken);
}

}  // namespace
}  // namespace sipwall
