#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "common/ip_address.h"
#include "common/keyed_hash.h"
#include "common/time.h"

namespace sipwall {

// Dynamic bans with expiry, filled by the control plane (applied between bursts).
//
// A hash table keyed by (family, prefix length, masked address), open addressing with linear
// probing and backward-shift deletion (no tombstones), at most half full. Fixed capacity:
// everything is allocated in the constructor. is_banned() masks the address with each
// distinct prefix length in use for its family (kept as a short list, longest first) and
// probes once per length, so a /32 ban, a /24 ban and a /64 ban all match.
//
// A ban holds while now < until; at now == until it has expired. Expired entries are
// ignored by is_banned() and reclaimed by expire(). Single writer; not thread-safe.
class BanTable {
 public:
  explicit BanTable(size_t capacity, uint64_t hash_seed = 0);
  ~BanTable();
  BanTable(const BanTable&) = delete;
  BanTable& operator=(const BanTable&) = delete;

  // Bans the prefix until `until`; banning a banned prefix again replaces its expiry.
  // False when the table is full (call expire() first) or the length exceeds the family.
  bool ban(const IpPrefix& prefix, Nanos until);
  // False when the prefix was not banned (expired but unreclaimed entries count as banned).
  bool unban(const IpPrefix& prefix);
  bool is_banned(const IpAddress& address, Nanos now) const;
  // Removes every entry with until <= now; returns how many.
  size_t expire(Nanos now);

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  // Distinct prefix lengths banned in a family, longest first.
  std::span<const uint8_t> lengths(IpFamily family) const;

 private:
  struct Slot;
  struct Key;
  struct Lengths {
    std::array<uint32_t, 129> count{};  // entries per prefix length
    std::array<uint8_t, 129> in_use{};  // the lengths with count > 0, longest first
    size_t n = 0;
  };

  Key key_of(const IpAddress& masked, uint8_t length) const;
  size_t find(const Key& k) const;  // slot index, or slot_mask_ + 1 when absent
  void erase_at(size_t index);
  void count_length(IpFamily family, uint8_t length, int delta);

  KeyHash hash_;
  size_t capacity_;
  size_t slot_mask_;
  size_t size_ = 0;
  std::unique_ptr<Slot[]> slots_;
  std::array<Lengths, 2> lengths_{};
  // Per prefix length: the address masks as two 64-bit words in memory byte order.
  std::array<std::array<uint64_t, 2>, 129> masks_{};
};

}  // namespace sipwall
