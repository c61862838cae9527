#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "app_options.h"
#include "bridge/mac_table.h"
#include "bridge/tap_flow_table.h"
#include "pipeline/filter_config.h"
#include "worker.h"

namespace sipwall {

// The exception path's shared tables for a live run whose punt port is a net_tap, and the
// tap's kernel side set up at start (see tap_setup.h).
class ExceptionTables {
 public:
  static constexpr size_t kMacCapacity = 4096;
  static constexpr Nanos kMacMaxAge = 300 * kNanosPerSecond;  // as a Linux bridge's default
  static constexpr size_t kFlowCapacity = 65536;
  // Long enough for a SIP transaction and a TCP connection's keepalive interval.
  static constexpr Nanos kFlowTtl = 300 * kNanosPerSecond;

  // Configures the tap (up, MTU of the outside port, the service addresses, routes) and sizes
  // the tables. Returns an error text, empty on success.
  std::string start(uint16_t tap_port, uint16_t outside_port, const FilterConfig& config,
                    const LiveOptions& options);

  // What every worker shares; empty (no exception path) until start() succeeded.
  ExceptionShared shared() const;

 private:
  std::unique_ptr<MacTable> macs_;
  std::unique_ptr<TapFlowTable> flows_;
  MacAddress tap_mac_{};
};

}  // namespace sipwall
