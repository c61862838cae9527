#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/time.h"

namespace sipwall::limit_detail {

inline constexpr unsigned kSlotsPerBucket = 8;

// One tracked source. The key is stored exactly (the hash tag only skips compares).
struct Entry {
  uint64_t addr_lo = 0;  // masked source address, bytes 0..7 as loaded from memory
  uint64_t addr_hi = 0;  // bytes 8..15
  uint64_t tokens = 0;   // nano-tokens (see token_math.h)
  Nanos last = 0;        // time of the last refill
  uint32_t extra = 0;    // port | class << 16 | family << 24
  uint32_t reserved = 0;
};
static_assert(sizeof(Entry) == 40);

// Eviction time unit: 2^20 ns (~1.05 ms). Stored modulo 2^32 (wraps after ~52 days) and
// compared as a signed difference, which is exact for entries touched within ~26 days.
inline constexpr unsigned kTickShift = 20;
inline constexpr uint32_t kMaxTicksAhead = 1u << 30;

// Eight slots: the first cache line holds everything a lookup or an eviction decision reads
// (tags, history, idle time); the key and the exact bucket state follow in five more lines.
struct alignas(64) Bucket {
  std::array<uint16_t, kSlotsPerBucket> tag{};        // 0 = empty slot
  std::array<uint16_t, kSlotsPerBucket> hits{};       // packets seen, saturating
  std::array<uint32_t, kSlotsPerBucket> full_tick{};  // tick from which the bucket is full again
  std::array<Entry, kSlotsPerBucket> entry{};
};
static_assert(sizeof(Bucket) == 384);

// Memory per tracked source: 48 bytes (40 B entry + 8 B of the bucket's header line).
inline constexpr size_t kBytesPerEntry = sizeof(Bucket) / kSlotsPerBucket;
static_assert(kBytesPerEntry == 48 && kBytesPerEntry <= 64);

}  // namespace sipwall::limit_detail
