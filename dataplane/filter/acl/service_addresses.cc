#include "acl/service_addresses.h"

#include <vector>

namespace sipwall {

Result<ServiceAddresses> ServiceAddresses::build(std::span<const IpAddress> addresses) {
  std::vector<AclEntry> entries;
  entries.reserve(addresses.size());
  for (const IpAddress& a : addresses) {
    entries.push_back({{a, static_cast<uint8_t>(a.bit_width())}, AclEntry{}.action});
  }
  auto table = PrefixTable::build(entries);
  if (!table.ok()) return Result<ServiceAddresses>::failure(table.error());
  ServiceAddresses s;
  s.table_ = std::move(table.value());
  s.none_ = addresses.empty();
  return s;
}

}  // namespace sipwall
