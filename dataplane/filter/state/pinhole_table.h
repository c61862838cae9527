#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "state/expiring_table.h"

namespace sipwall {

// Media pinholes: (destination address, destination port) opened for a while, reference-counted
// per call. Each `pinhole open` adds or refreshes the reference of one call (its call id; the
// empty id is the reference of a caller that gave none); a close removes only that call's
// reference, and the pinhole admits media while any live reference does. So one call's BYE
// cannot close the media of another call that shares the address and port.
//
// A reference may restrict the sources it admits to a prefix (the peer's media address from
// its SDP). One ExpiringTable with Identity::key_and_id: the references of one (address, port)
// hash alike and sit in one probe run, at most kMaxRefsPerPinhole of them.
class PinholeTable {
 public:
  using Handle = ExpiringTable::Handle;
  static constexpr Handle kNoHandle = ExpiringTable::kNoHandle;
  static constexpr size_t kMaxRefsPerPinhole = 16;

  // `capacity` counts references (one per call and pinhole).
  PinholeTable(size_t capacity, uint64_t hash_seed);

  // added, extended, exists; full when the table or the pinhole's reference list is full.
  ExpiringTable::Upsert open(const IpAddress& address, uint16_t port,
                             const std::optional<IpPrefix>& src, const EntryId& call, Owner owner,
                             Nanos until, Nanos now);
  // removed or not_found: only the reference of `call` goes.
  Outcome close(const IpAddress& address, uint16_t port, const EntryId& call, Nanos now);
  // True when a live reference of (dst, port) admits `src`.
  bool admits(const IpAddress& dst, uint16_t port, const IpAddress& src, Nanos now) const;

  size_t flush(std::optional<Owner> owner) { return table_.erase_owned(owner); }
  size_t expire_some(Nanos now, size_t budget) { return table_.expire_some(now, budget); }

  // f(Handle, const TableEntry&, const IpAddress& address, uint16_t port) for every reference.
  template <typename F>
  void for_each(F&& f) const {
    table_.for_each(
        [&](Handle h, const TableEntry& e) { f(h, e, address_of(e.key), port_of(e.key)); });
  }
  const TableEntry& entry(Handle h) const { return table_.entry(h); }
  static IpAddress address_of(const TableKey& key);
  static uint16_t port_of(const TableKey& key);

  size_t size() const { return table_.size(); }
  size_t capacity() const { return table_.capacity(); }
  uint64_t full_rejections() const { return table_.full_rejections(); }

 private:
  ExpiringTable table_;
};

}  // namespace sipwall
