#pragma once

#include <cstdint>

namespace sipwall {

// Nanoseconds from the dataplane's one clock: TSC when live, packet timestamps offline.
using Nanos = uint64_t;

inline constexpr Nanos kNanosPerSecond = 1'000'000'000ULL;
inline constexpr Nanos kNanosPerMilli = 1'000'000ULL;

}  // namespace sipwall
