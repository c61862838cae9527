#pragma once

#include <cstdint>
#include <limits>

#include "limit/limit_config.h"

namespace sipwall {

// Exact token arithmetic. Tokens are kept in nano-tokens (1 token = 1e9), so refilling for
// elapsed_ns at rate r tokens/s adds exactly elapsed_ns * r nano-tokens: no division, no
// rounding, no drift, and the same inputs always give the same result.
inline constexpr uint64_t kNanoTokensPerToken = 1'000'000'000ULL;

// burst * 1e9 <= 4.3e18 < 2^63, so a full bucket always fits.
constexpr uint64_t bucket_capacity(BucketParams p) {
  return uint64_t{p.burst} * kNanoTokensPerToken;
}

// Tokens after elapsed_ns of refill, capped at the burst. Saturates instead of overflowing
// for huge gaps; a stored value above a (since lowered) burst is clamped.
constexpr uint64_t refill(uint64_t tokens, uint64_t elapsed_ns, BucketParams p) {
  const uint64_t cap = bucket_capacity(p);
  if (tokens >= cap) return cap;
  uint64_t added = 0;
  if (__builtin_mul_overflow(elapsed_ns, uint64_t{p.rate_per_sec}, &added)) return cap;
  return added >= cap - tokens ? cap : tokens + added;
}

// Nanoseconds until a bucket holding `tokens` is full again, rounded up (so a bucket judged
// full really is). UINT64_MAX when it never refills.
constexpr uint64_t nanos_until_full(uint64_t tokens, BucketParams p) {
  const uint64_t cap = bucket_capacity(p);
  if (tokens >= cap) return 0;
  if (p.rate_per_sec == 0) return std::numeric_limits<uint64_t>::max();
  const uint64_t deficit = cap - tokens;
  return deficit / p.rate_per_sec + (deficit % p.rate_per_sec != 0 ? 1 : 0);
}

}  // namespace sipwall
