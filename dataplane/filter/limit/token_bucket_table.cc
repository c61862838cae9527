#include "limit/token_bucket_table.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "limit/token_math.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace sipwall {

using limit_detail::Bucket;
using limit_detail::Entry;
using limit_detail::kSlotsPerBucket;
using limit_detail::kTickShift;

namespace {

constexpr size_t kMinSlots = 16;  // two buckets: the candidates must be able to differ
constexpr size_t kMaxSlots = size_t{1} << 27;
// The two bucket indexes use hash bits 0..23 and 24..47 and the tag bits 48..63, so they stay
// independent up to 2^24 buckets.
static_assert(kMaxSlots / kSlotsPerBucket <= (size_t{1} << 24));

// Bit 2i (and 2i+1) set when slot i's tag equals `tag`.
inline uint32_t match_tags(const Bucket& b, uint16_t tag) {
#if defined(__SSE2__)
  const __m128i tags = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.tag.data()));
  const __m128i eq = _mm_cmpeq_epi16(tags, _mm_set1_epi16(static_cast<short>(tag)));
  return static_cast<uint32_t>(_mm_movemask_epi8(eq));
#else
  uint32_t mask = 0;
  for (unsigned i = 0; i < kSlotsPerBucket; ++i) {
    if (b.tag[i] == tag) mask |= 3u << (2 * i);
  }
  return mask;
#endif
}

inline unsigned first_slot(uint32_t mask) {
  return static_cast<unsigned>(std::countr_zero(mask)) / 2;
}
inline uint32_t drop_slot(uint32_t mask, unsigned slot) {
  return mask & ~(3u << (2 * slot));
}

inline uint32_t now_tick(Nanos now) {
  return static_cast<uint32_t>(now >> kTickShift);
}

// First tick at which the bucket is surely full again (rounded up), modulo 2^32.
inline uint32_t full_tick(Nanos now, uint64_t until_full_ns) {
  constexpr uint64_t kTickMask = (uint64_t{1} << kTickShift) - 1;
  uint64_t ahead = until_full_ns >= (uint64_t{limit_detail::kMaxTicksAhead} << kTickShift)
                       ? limit_detail::kMaxTicksAhead
                       : ((now & kTickMask) + until_full_ns + kTickMask) >> kTickShift;
  ahead = std::min<uint64_t>(ahead, limit_detail::kMaxTicksAhead);
  return static_cast<uint32_t>((now >> kTickShift) + ahead);
}

// Ticks until full (<= 0: full since that many ticks).
inline int32_t ticks_until_full(const Bucket& b, unsigned slot, uint32_t now_t) {
  return static_cast<int32_t>(b.full_tick[slot] - now_t);
}

// 2 MiB aligned and, on Linux, backed by transparent huge pages where the system allows
// it: a random lookup in a table of tens of MB otherwise also pays a TLB miss. A table smaller
// than a huge page (tests, fuzzing) gets cache-line-aligned memory instead of 2 MiB.
Bucket* allocate_buckets(size_t count) {
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t raw = count * sizeof(Bucket);
  const size_t align = raw >= kHugePage ? kHugePage : std::max<size_t>(alignof(Bucket), 64);
  const size_t bytes = (raw + align - 1) / align * align;
  void* mem = std::aligned_alloc(align, bytes);
  if (mem == nullptr) throw std::bad_alloc();
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (align == kHugePage) (void)madvise(mem, bytes, MADV_HUGEPAGE);  // a hint: failure costs speed
#endif
  // Value-initialised: every tag is 0 (empty), and every page is touched now, not later.
  Bucket* buckets = static_cast<Bucket*>(mem);
  std::uninitialized_value_construct_n(buckets, count);
  return buckets;
}

}  // namespace

void TokenBucketTable::FreeBuckets::operator()(Bucket* buckets) const {
  std::free(buckets);
}

struct TokenBucketTable::Probe {
  uint64_t lo;
  uint64_t hi;
  uint32_t extra;
  uint16_t tag;
  Bucket* first;
  Bucket* second;
};

TokenBucketTable::TokenBucketTable(size_t requested, uint64_t hash_seed)
    : hash_(hash_seed),
      bucket_count_(std::bit_ceil(std::clamp(requested, kMinSlots, kMaxSlots)) / kSlotsPerBucket),
      bucket_mask_(bucket_count_ - 1),
      buckets_(allocate_buckets(bucket_count_)) {
  stats_.capacity = capacity();
}

TokenBucketTable::~TokenBucketTable() = default;

TokenBucketTable::Probe TokenBucketTable::probe(const BucketKey& key, uint64_t key_hash) const {
  const limit_detail::KeyWords w = limit_detail::words_of(key);
  Probe p{};
  p.lo = w.lo;
  p.hi = w.hi;
  p.extra = w.extra;
  p.tag = static_cast<uint16_t>(key_hash >> 48);
  if (p.tag == 0) p.tag = 1;  // 0 marks an empty slot
  p.first = &buckets_[first_bucket(key_hash)];
  p.second = &buckets_[second_bucket(key_hash)];
  return p;
}

TokenBucketTable::Slot TokenBucketTable::find(const Probe& p) const {
  // Both tag compares before any branch, so the two header-line misses overlap.
  const std::array<uint32_t, 2> matches = {match_tags(*p.first, p.tag),
                                           match_tags(*p.second, p.tag)};
  const std::array<Bucket*, 2> buckets = {p.first, p.second};
  for (size_t n = 0; n < 2; ++n) {
    for (uint32_t m = matches[n]; m != 0;) {
      const unsigned i = first_slot(m);
      const Entry& e = buckets[n]->entry[i];
      if (e.addr_lo == p.lo && e.addr_hi == p.hi && e.extra == p.extra) return {buckets[n], i};
      m = drop_slot(m, i);
    }
  }
  return {nullptr, 0};
}

TokenBucketTable::Slot TokenBucketTable::insert(const Probe& p, Nanos now) {
  const uint32_t free1 = match_tags(*p.first, 0);
  const uint32_t free2 = match_tags(*p.second, 0);
  Slot slot{nullptr, 0};
  if (free1 != 0 || free2 != 0) {
    // The emptier bucket (ties: the first) keeps both candidates balanced.
    const bool use_first = std::popcount(free1) >= std::popcount(free2);
    slot = use_first ? Slot{p.first, first_slot(free1)} : Slot{p.second, first_slot(free2)};
    ++stats_.size;
  } else {
    // Lowest score loses: [63] not full again, [47..32] hits, [31..0] ticks until full (biased).
    const uint32_t now_t = now_tick(now);
    uint64_t best = UINT64_MAX;
    for (Bucket* b : {p.first, p.second}) {
      for (unsigned i = 0; i < kSlotsPerBucket; ++i) {
        const int32_t until = ticks_until_full(*b, i, now_t);
        const uint64_t score = (uint64_t{until > 0} << 63) | (uint64_t{b->hits[i]} << 32) |
                               (static_cast<uint32_t>(until) ^ 0x8000'0000u);
        if (score < best) {
          best = score;
          slot = {b, i};
        }
      }
    }
    ++((best >> 63) != 0 ? stats_.evictions_busy : stats_.evictions_idle);
  }
  ++stats_.inserts;
  Bucket& b = *slot.bucket;
  b.tag[slot.index] = p.tag;
  b.hits[slot.index] = 0;
  b.entry[slot.index] = Entry{p.lo, p.hi, 0, now, p.extra, 0};
  return slot;
}

bool TokenBucketTable::consume(const BucketKey& key, uint64_t key_hash, BucketParams params,
                               Nanos now) {
  const Probe p = probe(key, key_hash);
  Slot slot = find(p);
  const bool fresh = slot.bucket == nullptr;
  if (fresh) slot = insert(p, now);

  Bucket& b = *slot.bucket;
  Entry& e = b.entry[slot.index];
  // A new source starts full; time going backwards refills nothing and re-anchors.
  uint64_t tokens =
      fresh ? bucket_capacity(params) : refill(e.tokens, now > e.last ? now - e.last : 0, params);
  const bool conforming = tokens >= kNanoTokensPerToken;
  if (conforming) tokens -= kNanoTokensPerToken;
  e.tokens = tokens;
  e.last = now;
  if (b.hits[slot.index] != UINT16_MAX) ++b.hits[slot.index];
  b.full_tick[slot.index] = full_tick(now, nanos_until_full(tokens, params));
  ++(conforming ? stats_.conforming : stats_.limited);
  return conforming;
}

std::optional<uint64_t> TokenBucketTable::tokens(const BucketKey& key, BucketParams params,
                                                 Nanos now) const {
  const Slot slot = find(probe(key, hash(key)));
  if (slot.bucket == nullptr) return std::nullopt;
  const Entry& e = slot.bucket->entry[slot.index];
  return refill(e.tokens, now > e.last ? now - e.last : 0, params) / kNanoTokensPerToken;
}

TableStats TokenBucketTable::stats() const {
  return stats_;
}

}  // namespace sipwall
