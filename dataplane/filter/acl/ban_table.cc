#include "acl/ban_table.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace sipwall {

struct BanTable::Key {
  uint64_t lo;
  uint64_t hi;
  uint32_t extra;  // length | family << 8 | 1 << 16 (never 0: 0 marks an empty slot)
  uint32_t hash;

  bool same(const Key& o) const { return lo == o.lo && hi == o.hi && extra == o.extra; }
};

struct BanTable::Slot {
  Key key{};  // key.extra == 0: empty
  Nanos until = 0;
};

namespace {

size_t family_index(IpFamily f) {
  return f == IpFamily::v4 ? 0 : 1;
}

}  // namespace

BanTable::BanTable(size_t capacity, uint64_t hash_seed)
    : hash_(hash_seed),
      capacity_(std::max<size_t>(capacity, 1)),
      slot_mask_(std::bit_ceil(capacity_ * 2) - 1),
      slots_(std::make_unique<Slot[]>(slot_mask_ + 1)) {
  for (unsigned len = 0; len <= 128; ++len) {
    std::array<uint8_t, 16> ones;
    ones.fill(0xFF);
    const IpAddress m = IpAddress::v6(ones).masked(len);
    std::memcpy(&masks_[len][0], m.bytes.data(), 8);
    std::memcpy(&masks_[len][1], m.bytes.data() + 8, 8);
  }
}

BanTable::~BanTable() = default;

BanTable::Key BanTable::key_of(const IpAddress& masked, uint8_t length) const {
  Key k{};
  std::memcpy(&k.lo, masked.bytes.data(), 8);
  std::memcpy(&k.hi, masked.bytes.data() + 8, 8);
  k.extra = uint32_t{length} | (uint32_t{static_cast<uint8_t>(masked.family)} << 8) | (1u << 16);
  k.hash = static_cast<uint32_t>(hash_(k.lo, k.hi, k.extra) >> 32);
  return k;
}

size_t BanTable::find(const Key& k) const {
  for (size_t i = k.hash & slot_mask_;; i = (i + 1) & slot_mask_) {
    const Slot& s = slots_[i];
    if (s.key.extra == 0) return slot_mask_ + 1;
    if (s.key.same(k)) return i;
  }
}

bool BanTable::ban(const IpPrefix& prefix, Nanos until) {
  if (prefix.length > prefix.address.bit_width()) return false;
  const Key k = key_of(prefix.address.masked(prefix.length), prefix.length);
  size_t i = k.hash & slot_mask_;
  for (; slots_[i].key.extra != 0; i = (i + 1) & slot_mask_) {
    if (slots_[i].key.same(k)) {
      slots_[i].until = until;
      return true;
    }
  }
  if (size_ == capacity_) return false;
  slots_[i] = Slot{k, until};
  ++size_;
  count_length(prefix.address.family, prefix.length, +1);
  return true;
}

bool BanTable::unban(const IpPrefix& prefix) {
  if (prefix.length > prefix.address.bit_width()) return false;
  const size_t i = find(key_of(prefix.address.masked(prefix.length), prefix.length));
  if (i > slot_mask_) return false;
  erase_at(i);
  return true;
}

bool BanTable::is_banned(const IpAddress& address, Nanos now) const {
  const Lengths& ls = lengths_[family_index(address.family)];
  uint64_t lo, hi;
  std::memcpy(&lo, address.bytes.data(), 8);
  std::memcpy(&hi, address.bytes.data() + 8, 8);
  const uint32_t family_bits = uint32_t{static_cast<uint8_t>(address.family)} << 8;
  for (size_t n = 0; n < ls.n; ++n) {
    const uint8_t len = ls.in_use[n];
    Key k{lo & masks_[len][0], hi & masks_[len][1], uint32_t{len} | family_bits | (1u << 16), 0};
    k.hash = static_cast<uint32_t>(hash_(k.lo, k.hi, k.extra) >> 32);
    const size_t i = find(k);
    if (i <= slot_mask_ && now < slots_[i].until) return true;
  }
  return false;
}

size_t BanTable::expire(Nanos now) {
  size_t removed = 0;
  for (size_t i = 0; i <= slot_mask_;) {
    if (slots_[i].key.extra != 0 && slots_[i].until <= now) {
      erase_at(i);  // may shift a later entry into i: look at i again
      ++removed;
    } else {
      ++i;
    }
  }
  return removed;
}

void BanTable::erase_at(size_t index) {
  const Key gone = slots_[index].key;
  count_length(static_cast<IpFamily>((gone.extra >> 8) & 0xFF), gone.extra & 0xFF, -1);
  --size_;
  // Backward-shift: pull later members of the probe run into the hole when their home slot
  // allows it, so lookups never need tombstones.
  size_t hole = index;
  for (size_t j = (hole + 1) & slot_mask_; slots_[j].key.extra != 0; j = (j + 1) & slot_mask_) {
    const size_t home = slots_[j].key.hash & slot_mask_;
    // Movable when home is not cyclically within (hole, j].
    const bool home_after_hole = ((home - hole - 1) & slot_mask_) < ((j - hole) & slot_mask_);
    if (!home_after_hole) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
}

void BanTable::count_length(IpFamily family, uint8_t length, int delta) {
  Lengths& ls = lengths_[family_index(family)];
  const uint32_t before = ls.count[length];
  ls.count[length] = static_cast<uint32_t>(static_cast<int64_t>(before) + delta);
  if ((before == 0) == (ls.count[length] == 0)) return;
  ls.n = 0;
  for (int len = 128; len >= 0; --len) {
    if (ls.count[static_cast<size_t>(len)] != 0) ls.in_use[ls.n++] = static_cast<uint8_t>(len);
  }
}

std::span<const uint8_t> BanTable::lengths(IpFamily family) const {
  const Lengths& ls = lengths_[family_index(family)];
  return {ls.in_use.data(), ls.n};
}

}  // namespace sipwall
