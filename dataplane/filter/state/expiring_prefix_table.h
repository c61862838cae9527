#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "state/expiring_table.h"

namespace sipwall {

// Bans and trusted sources: IP prefixes with an expiry, an owner and an id, matched by the
// longest live prefix that contains an address. One ExpiringTable keyed by (family, length,
// masked address); match() masks the address with each distinct prefix length in use for its
// family (kept as a short list, longest first) and probes once per length, so /32, /24 and /64
// entries all match and the cost grows with the number of lengths in use, not of entries.
class ExpiringPrefixTable {
 public:
  using Handle = ExpiringTable::Handle;
  static constexpr Handle kNoHandle = ExpiringTable::kNoHandle;

  ExpiringPrefixTable(size_t capacity, uint64_t hash_seed);

  // Outcome added, extended, exists, full; invalid when the length exceeds the family.
  // Host bits past the length are ignored (192.0.2.77/24 is 192.0.2.0/24).
  // `label`: a ban's metric series (BanLabels), kept with the id.
  ExpiringTable::Upsert add(const IpPrefix& prefix, Nanos until, const EntryId& id, Owner owner,
                            Nanos now, BanLabel label = kOtherBanLabel);
  // removed or not_found (invalid for a bad length). Removes whatever the owner.
  Outcome remove(const IpPrefix& prefix, Nanos now);
  // The live entry with the longest prefix containing `address`, or kNoHandle. Inline for an
  // empty family (no bans, no dynamic trust: every packet asks), which costs no call.
  Handle match(const IpAddress& address, Nanos now) const {
    const Lengths& ls = lengths_[address.is_v4() ? 0 : 1];
    return ls.n == 0 ? kNoHandle : probe(ls, address, now);
  }
  // The stored entry for exactly this prefix (live or expired, as long as its until > 0), or
  // kNoHandle.
  Handle find(const IpPrefix& prefix) const;

  size_t flush(std::optional<Owner> owner) { return table_.erase_owned(owner); }
  size_t expire_some(Nanos now, size_t budget) { return table_.expire_some(now, budget); }

  // f(Handle, const TableEntry&, const IpPrefix&) for every stored entry.
  template <typename F>
  void for_each(F&& f) const {
    table_.for_each([&](Handle h, const TableEntry& e) { f(h, e, prefix_of(e.key)); });
  }
  const TableEntry& entry(Handle h) const { return table_.entry(h); }
  TableEntry& entry(Handle h) { return table_.entry(h); }
  static IpPrefix prefix_of(const TableKey& key);

  size_t size() const { return table_.size(); }
  size_t capacity() const { return table_.capacity(); }
  uint64_t full_rejections() const { return table_.full_rejections(); }
  // Distinct prefix lengths stored for a family, longest first.
  std::span<const uint8_t> lengths(IpFamily family) const;

 private:
  struct Lengths {
    std::array<uint32_t, 129> count{};  // entries per prefix length
    std::array<uint8_t, 129> in_use{};  // the lengths with count > 0, longest first
    size_t n = 0;
  };

  Handle probe(const Lengths& ls, const IpAddress& address, Nanos now) const;
  static void on_remove(void* self, const TableEntry& removed);
  void count_length(IpFamily family, uint8_t length, int delta);

  ExpiringTable table_;
  std::array<Lengths, 2> lengths_{};
};

}  // namespace sipwall
