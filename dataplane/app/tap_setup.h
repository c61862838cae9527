#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/ip_address.h"

namespace sipwall {

// How the dataplane sets up the kernel side of a net_tap punt port. DPDK 22.11's tap has no
// persistence: the interface and its addresses vanish with the process, so the dataplane
// configures them at every start and a restart brings the service back by itself.
struct TapSettings {
  unsigned ifindex = 0;
  uint16_t mtu = 1500;
  std::vector<IpAddress> addresses;  // the service addresses
  uint8_t v4_prefix = 32;            // on-link prefix length the addresses get
  uint8_t v6_prefix = 128;
  std::vector<IpAddress> gateways;  // a default route per family via each
};

// Brings the interface up with `mtu`, adds the addresses (IPv6 without duplicate address
// detection, usable at once) and the default routes, over rtnetlink. Returns an error text,
// empty on success. Addresses and routes that already exist are replaced, not an error.
std::string configure_tap(const TapSettings& settings);

}  // namespace sipwall
