#include "state/pinhole_table.h"

#include <cstring>

namespace sipwall {
namespace {

// port | family << 16 | 1 << 24: never 0, which marks a free entry.
TableKey key_of(const IpAddress& address, uint16_t port) {
  TableKey k;
  std::memcpy(&k.lo, address.bytes.data(), 8);
  std::memcpy(&k.hi, address.bytes.data() + 8, 8);
  k.extra = port | (uint32_t{static_cast<uint8_t>(address.family)} << 16) | (1u << 24);
  return k;
}

}  // namespace

PinholeTable::PinholeTable(size_t capacity, uint64_t hash_seed)
    : table_(capacity, hash_seed, ExpiringTable::Identity::key_and_id, kMaxRefsPerPinhole) {}

IpAddress PinholeTable::address_of(const TableKey& key) {
  IpAddress a;
  std::memcpy(a.bytes.data(), &key.lo, 8);
  std::memcpy(a.bytes.data() + 8, &key.hi, 8);
  a.family = static_cast<IpFamily>((key.extra >> 16) & 0xFF);
  return a;
}

uint16_t PinholeTable::port_of(const TableKey& key) {
  return static_cast<uint16_t>(key.extra & 0xFFFF);
}

ExpiringTable::Upsert PinholeTable::open(const IpAddress& address, uint16_t port,
                                         const std::optional<IpPrefix>& src, const EntryId& call,
                                         Owner owner, Nanos until, Nanos now) {
  TableEntry e;
  e.key = key_of(address, port);
  e.until = until;
  e.id = call;
  e.owner = owner;
  if (src) {
    if (src->length > src->address.bit_width()) return {Outcome::invalid, kNoHandle};
    e.has_src = true;
    e.src = IpPrefix{src->address.masked(src->length), src->length};
  }
  return table_.upsert(e, now);
}

Outcome PinholeTable::close(const IpAddress& address, uint16_t port, const EntryId& call,
                            Nanos now) {
  return table_.erase(key_of(address, port), call, now);
}

bool PinholeTable::admits(const IpAddress& dst, uint16_t port, const IpAddress& src,
                          Nanos now) const {
  return table_.find_live(key_of(dst, port), now, [&](const TableEntry& e) {
    return !e.has_src || e.src.contains(src);
  }) != kNoHandle;
}

}  // namespace sipwall
