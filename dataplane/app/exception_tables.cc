#include "exception_tables.h"

#include <rte_random.h>

#include "port_setup.h"
#include "tap_setup.h"

namespace sipwall {

std::string ExceptionTables::start(uint16_t tap_port, uint16_t outside_port,
                                   const FilterConfig& config, const LiveOptions& options) {
  TapSettings tap;
  tap.ifindex = port_ifindex(tap_port);
  tap.mtu = port_mtu(outside_port);
  tap.addresses = config.service_addresses;
  tap.v4_prefix = options.tap_v4_prefix;
  tap.v6_prefix = options.tap_v6_prefix;
  tap.gateways = options.tap_gateways;
  if (auto e = configure_tap(tap); !e.empty()) return "punt port " + port_name(tap_port) + ": " + e;
  // Random seeds: the flow table's keys come from traffic others can choose.
  macs_ = std::make_unique<MacTable>(kMacCapacity, kMacMaxAge, rte_rand());
  flows_ = std::make_unique<TapFlowTable>(kFlowCapacity, kFlowTtl, rte_rand());
  tap_mac_ = port_mac(tap_port);
  return {};
}

ExceptionShared ExceptionTables::shared() const {
  return ExceptionShared{macs_.get(), flows_.get(), tap_mac_};
}

}  // namespace sipwall
