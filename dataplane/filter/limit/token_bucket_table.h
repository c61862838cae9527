#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>

#include "common/keyed_hash.h"
#include "common/prefetch.h"
#include "common/time.h"
#include "limit/bucket_key.h"
#include "limit/bucket_layout.h"
#include "limit/limit_config.h"

namespace sipwall {

namespace limit_detail {
// A key as the hash and the stored entries see it.
struct KeyWords {
  uint64_t lo;     // source address bytes 0..7 as loaded from memory
  uint64_t hi;     // bytes 8..15
  uint32_t extra;  // port | limit << 16 | family << 24
};

inline KeyWords words_of(const BucketKey& key) {
  KeyWords w{};
  std::memcpy(&w.lo, key.source.bytes.data(), 8);
  std::memcpy(&w.hi, key.source.bytes.data() + 8, 8);
  w.extra = uint32_t{key.port} | (uint32_t{key.limit} << 16) |
            (uint32_t{static_cast<uint8_t>(key.source.family)} << 24);
  return w;
}
}  // namespace limit_detail

struct TableStats {
  size_t capacity = 0;          // slots (the requested capacity rounded up)
  size_t size = 0;              // sources tracked now
  uint64_t inserts = 0;         // new sources
  uint64_t evictions_idle = 0;  // victims whose bucket was full again (nothing lost)
  uint64_t evictions_busy = 0;  // victims still below their burst (state lost)
  uint64_t conforming = 0;      // consume() == true
  uint64_t limited = 0;         // consume() == false

  bool operator==(const TableStats&) const = default;
};

// Per-source token buckets for one worker core: fixed capacity, allocated and pre-faulted in
// the constructor, then no allocation, no lock and no system call. Not thread-safe: one table
// per worker (RSS on L3 sends a source to the same core every time).
//
// Layout: 2^k buckets of 8 slots (bucket_layout.h): 48 bytes per source, so the default
// 1,048,576 sources take 48 MiB (2 MiB aligned, transparent huge pages requested). A key's
// source prefix and port hash (keyed hash, seeded) to two candidate buckets and, with its limit
// slot, to a 16-bit tag; a lookup compares the 8 tags of each bucket at once and the full key
// only on a tag match. New keys go to the emptier bucket. The limit slot changes the tag only,
// so the limits one packet takes tokens from (all SIP + its method) share the two buckets and
// their cache lines, and almost never each other's tag (only the empty marker 0 is remapped).
//
// Eviction, when both candidate buckets are full, picks among their 16 entries, in order:
//   1. entries whose bucket is full again (idle long enough to refill): dropping one loses
//      nothing, because a re-created entry starts full too;
//   2. then the fewest packets seen (a saturating per-entry count), so a long-lived source
//      with history is never pushed out by one-packet sources;
//   3. then the entry that will be full soonest (for full entries: idle the longest);
//   4. then the lowest slot (deterministic).
// So a flood of spoofed one-packet sources only ever replaces idle entries and each other;
// a rate-limited flooder keeps its empty bucket and stays limited.
//
// Time: the caller's clock (TSC live, packet timestamps offline). If time goes backwards the
// entry gets no refill and is re-anchored at the new time. All arithmetic is integer, so the
// same seed and the same calls give the same results.
class TokenBucketTable {
 public:
  // capacity is rounded up to a power of two, at least 16 and at most 2^27 slots.
  TokenBucketTable(size_t capacity, uint64_t hash_seed);
  ~TokenBucketTable();
  TokenBucketTable(const TokenBucketTable&) = delete;
  TokenBucketTable& operator=(const TokenBucketTable&) = delete;

  // The key's keyed hash: computed once per packet and handed to prefetch() and consume(),
  // which would otherwise each hash again. Bits 0..47 (the buckets) depend on the source and
  // port only; the limit slot goes into the tag bits 48..63 through an odd multiplier, which
  // maps distinct slots to distinct 16-bit values.
  uint64_t hash(const BucketKey& key) const {
    const limit_detail::KeyWords w = limit_detail::words_of(key);
    constexpr uint32_t kSlotMask = 0xffu << 16;
    const uint64_t h = hash_(w.lo, w.hi, w.extra & ~kSlotMask);
    return h ^ (uint64_t{static_cast<uint16_t>(key.limit * 0x9E37u)} << 48);
  }

  // Takes one token; true = conforming, false = over the limit (the packet is a flood drop).
  // A source seen for the first time starts with a full bucket. `key_hash` is hash(key).
  bool consume(const BucketKey& key, uint64_t key_hash, BucketParams params, Nanos now);
  bool consume(const BucketKey& key, BucketParams params, Nanos now) {
    return consume(key, hash(key), params, now);
  }

  // Prefetches the header lines of the key's two candidate buckets. For bursts: prefetch every
  // packet's keys, then consume them in order.
  void prefetch(uint64_t key_hash) const {
    // Only the two header lines: prefetching whole buckets (12 lines a key) for a burst ran out
    // of line-fill buffers and stalled. Prefetching the matched entry lines too, a few packets
    // ahead, gained nothing: the misses in flight are the limit (mix b: no prefetch 518 ns per
    // packet, headers 470, headers and entries 487).
    prefetch_for_write(&buckets_[first_bucket(key_hash)]);
    prefetch_for_write(&buckets_[second_bucket(key_hash)]);
  }
  void prefetch(const BucketKey& key) const { prefetch(hash(key)); }

  // Tokens the key's bucket holds at `now` (whole tokens, rounded down), or nullopt when the
  // source is not tracked. Read-only: for tests, control-plane queries and debugging.
  std::optional<uint64_t> tokens(const BucketKey& key, BucketParams params, Nanos now) const;

  TableStats stats() const;
  size_t capacity() const { return bucket_count_ * limit_detail::kSlotsPerBucket; }

 private:
  struct Probe;
  struct Slot {
    limit_detail::Bucket* bucket;
    unsigned index;
  };

  Probe probe(const BucketKey& key, uint64_t key_hash) const;
  size_t first_bucket(uint64_t key_hash) const { return key_hash & bucket_mask_; }
  size_t second_bucket(uint64_t key_hash) const {
    const size_t b1 = first_bucket(key_hash);
    const size_t b2 = (key_hash >> 24) & bucket_mask_;
    return b2 == b1 ? b2 ^ 1 : b2;
  }
  Slot find(const Probe& p) const;
  Slot insert(const Probe& p, Nanos now);

  struct FreeBuckets {
    void operator()(limit_detail::Bucket* buckets) const;
  };

  KeyHash hash_;
  size_t bucket_count_;
  size_t bucket_mask_;
  std::unique_ptr<limit_detail::Bucket[], FreeBuckets> buckets_;
  TableStats stats_;
};

}  // namespace sipwall
