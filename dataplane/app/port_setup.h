#pragma once

#include <rte_mempool.h>

#include <array>
#include <cstdint>
#include <string>

namespace sipwall {

struct PortQueues {
  uint16_t rx = 1;
  uint16_t tx = 1;
};

// Configures and starts one port: `rx` RX queues spread by RSS on the IP addresses only, so
// every packet of one source reaches the same worker and its token buckets; promiscuous,
// because sipwall sits inline. Returns an error text, empty on success.
std::string setup_port(uint16_t port, PortQueues queues, rte_mempool* pool);

std::string port_name(uint16_t port);

// The punt port is a net_tap: the kernel interface of the control plane (exception path).
bool is_tap_port(uint16_t port);
// The kernel interface index of a tap port (0 if unknown), its MAC address, a port's MTU.
unsigned port_ifindex(uint16_t port);
std::array<uint8_t, 6> port_mac(uint16_t port);
uint16_t port_mtu(uint16_t port);

}  // namespace sipwall
