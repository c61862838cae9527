#include "bridge/mac_table.h"

#include <bit>

namespace sipwall {
namespace {

constexpr size_t kProbe = 4;  // slots looked at per address: one or two cache lines
constexpr uint64_t kAddressMask = (uint64_t{1} << 48) - 1;
constexpr uint64_t kInsideBit = uint64_t{1} << 48;
constexpr uint64_t kValidBit = uint64_t{1} << 49;
// A station's frames keep arriving; rewriting its slot for each would bounce the cache line
// between workers. Refreshing once in this interval is enough for an age counted in minutes.
constexpr Nanos kRefreshInterval = kNanosPerSecond;

}  // namespace

MacTable::MacTable(size_t capacity, Nanos max_age, uint64_t hash_seed)
    : mask_(std::bit_ceil(std::max<size_t>(capacity, 64)) - 1),
      max_age_(max_age),
      hash_(hash_seed) {
  slots_ = std::make_unique<Slot[]>(mask_ + 1);
}

uint64_t MacTable::pack(std::span<const uint8_t, 6> mac) {
  uint64_t v = 0;
  for (const uint8_t b : mac) v = v << 8 | b;
  return v;
}

size_t MacTable::home(uint64_t key) const {
  return hash_(key, 0, 0) & mask_;
}

void MacTable::learn(std::span<const uint8_t, 6> mac, BridgeSide side, Nanos now) {
  const uint64_t key = pack(mac);
  const uint64_t entry = key | kValidBit | (side == BridgeSide::inside ? kInsideBit : 0);
  const size_t start = home(key);
  Slot* victim = nullptr;
  Nanos victim_seen = UINT64_MAX;
  for (size_t i = 0; i < kProbe; ++i) {
    Slot& s = slots_[(start + i) & mask_];
    const uint64_t e = s.entry.load(std::memory_order_relaxed);
    const Nanos seen = s.seen.load(std::memory_order_relaxed);
    if ((e & kValidBit) != 0 && (e & kAddressMask) == key) {
      // Workers read their clocks at different moments: one whose `now` is behind the stored
      // time must not move it back (and rewrite a line every worker reads).
      if (e != entry || (now > seen && now - seen >= kRefreshInterval)) {
        s.entry.store(entry, std::memory_order_relaxed);
        s.seen.store(now, std::memory_order_relaxed);
      }
      return;
    }
    // An empty slot counts as the oldest; otherwise the least recently seen is replaced.
    const Nanos age_key = (e & kValidBit) == 0 ? 0 : seen;
    if (age_key < victim_seen) {
      victim = &s;
      victim_seen = age_key;
    }
  }
  victim->seen.store(now, std::memory_order_relaxed);
  victim->entry.store(entry, std::memory_order_relaxed);
}

std::optional<BridgeSide> MacTable::lookup(std::span<const uint8_t, 6> mac, Nanos now) const {
  const uint64_t key = pack(mac);
  const size_t start = home(key);
  for (size_t i = 0; i < kProbe; ++i) {
    const Slot& s = slots_[(start + i) & mask_];
    const uint64_t e = s.entry.load(std::memory_order_relaxed);
    if ((e & kValidBit) == 0 || (e & kAddressMask) != key) continue;
    const Nanos seen = s.seen.load(std::memory_order_relaxed);
    if (now > seen && now - seen >= max_age_) return std::nullopt;
    return (e & kInsideBit) != 0 ? BridgeSide::inside : BridgeSide::outside;
  }
  return std::nullopt;
}

}  // namespace sipwall
