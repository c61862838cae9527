#include "state/expiring_prefix_table.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace sipwall {
namespace {

size_t family_index(IpFamily f) {
  return f == IpFamily::v4 ? 0 : 1;
}

// length | family << 8 | 1 << 16: never 0, which marks a free entry.
uint32_t extra_of(IpFamily family, unsigned length) {
  return length | (uint32_t{static_cast<uint8_t>(family)} << 8) | (1u << 16);
}

// Per prefix length: the address mask as two 64-bit words in memory byte order. Computed at
// compile time: every table (one per worker, per control-plane shadow) shares it.
using Word = std::array<uint8_t, 8>;
constexpr std::array<std::array<uint64_t, 2>, 129> kMasks = [] {
  std::array<std::array<uint64_t, 2>, 129> masks{};
  for (int len = 0; len <= 128; ++len) {
    std::array<Word, 2> words{};
    for (int i = 0; i < 16; ++i) {
      const int bits = std::clamp(len - 8 * i, 0, 8);
      words[i / 8][i % 8] = static_cast<uint8_t>(0xFF00 >> bits);
    }
    masks[len] = {std::bit_cast<uint64_t>(words[0]), std::bit_cast<uint64_t>(words[1])};
  }
  return masks;
}();

TableKey key_of(const IpPrefix& prefix) {
  const IpAddress masked = prefix.address.masked(prefix.length);
  TableKey k;
  std::memcpy(&k.lo, masked.bytes.data(), 8);
  std::memcpy(&k.hi, masked.bytes.data() + 8, 8);
  k.extra = extra_of(masked.family, prefix.length);
  return k;
}

bool valid(const IpPrefix& prefix) {
  return prefix.length <= prefix.address.bit_width();
}

}  // namespace

ExpiringPrefixTable::ExpiringPrefixTable(size_t capacity, uint64_t hash_seed)
    : table_(capacity, hash_seed, ExpiringTable::Identity::key) {
  table_.set_remove_hook(&ExpiringPrefixTable::on_remove, this);
}

IpPrefix ExpiringPrefixTable::prefix_of(const TableKey& key) {
  IpPrefix p;
  std::memcpy(p.address.bytes.data(), &key.lo, 8);
  std::memcpy(p.address.bytes.data() + 8, &key.hi, 8);
  p.address.family = static_cast<IpFamily>((key.extra >> 8) & 0xFF);
  p.length = static_cast<uint8_t>(key.extra & 0xFF);
  return p;
}

void ExpiringPrefixTable::on_remove(void* self, const TableEntry& removed) {
  const IpPrefix p = prefix_of(removed.key);
  static_cast<ExpiringPrefixTable*>(self)->count_length(p.address.family, p.length, -1);
}

ExpiringTable::Upsert ExpiringPrefixTable::add(const IpPrefix& prefix, Nanos until,
                                               const EntryId& id, Owner owner, Nanos now,
                                               BanLabel label) {
  if (!valid(prefix)) return {Outcome::invalid, kNoHandle};
  TableEntry e;
  e.key = key_of(prefix);
  e.until = until;
  e.id = id;
  e.owner = owner;
  e.label = label;
  const auto r = table_.upsert(e, now);
  if (r.outcome == Outcome::added) count_length(prefix.address.family, prefix.length, +1);
  return r;
}

Outcome ExpiringPrefixTable::remove(const IpPrefix& prefix, Nanos now) {
  if (!valid(prefix)) return Outcome::invalid;
  return table_.erase(key_of(prefix), EntryId{}, now);
}

ExpiringPrefixTable::Handle ExpiringPrefixTable::find(const IpPrefix& prefix) const {
  if (!valid(prefix)) return kNoHandle;
  // Any stored entry, expired or not: a time before every expiry.
  return table_.find_live(key_of(prefix), 0);
}

ExpiringPrefixTable::Handle ExpiringPrefixTable::probe(const Lengths& ls, const IpAddress& address,
                                                       Nanos now) const {
  uint64_t lo, hi;
  std::memcpy(&lo, address.bytes.data(), 8);
  std::memcpy(&hi, address.bytes.data() + 8, 8);
  for (size_t n = 0; n < ls.n; ++n) {
    const uint8_t len = ls.in_use[n];
    const TableKey k{lo & kMasks[len][0], hi & kMasks[len][1], extra_of(address.family, len)};
    if (const Handle h = table_.find_live(k, now); h != kNoHandle) return h;
  }
  return kNoHandle;
}

void ExpiringPrefixTable::count_length(IpFamily family, uint8_t length, int delta) {
  Lengths& ls = lengths_[family_index(family)];
  const uint32_t before = ls.count[length];
  ls.count[length] = static_cast<uint32_t>(static_cast<int64_t>(before) + delta);
  if ((before == 0) == (ls.count[length] == 0)) return;
  ls.n = 0;
  for (int len = 128; len >= 0; --len) {
    if (ls.count[static_cast<size_t>(len)] != 0) ls.in_use[ls.n++] = static_cast<uint8_t>(len);
  }
}

std::span<const uint8_t> ExpiringPrefixTable::lengths(IpFamily family) const {
  const Lengths& ls = lengths_[family_index(family)];
  return {ls.in_use.data(), ls.n};
}

}  // namespace sipwall
