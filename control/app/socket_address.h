#pragma once

// IpAddress + port <-> sockaddr, and the non-blocking sockets sipwall-control opens.

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "common/ip_address.h"
#include "common/result.h"

namespace sipwall::control {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

SocketAddress to_sockaddr(const IpAddress& address, uint16_t port);
// False for a family other than IPv4/IPv6.
bool from_sockaddr(const sockaddr_storage& s, IpAddress& address, uint16_t& port);

// Bound, non-blocking, close-on-exec; listening for `stream`. Errors name the address.
Result<int> open_udp(const IpAddress& address, uint16_t port);
Result<int> open_tcp_listener(const IpAddress& address, uint16_t port, int backlog);

// "192.0.2.1:5060", "[2001:db8::1]:5060".
std::string format_endpoint(const IpAddress& address, uint16_t port);
// The host as SIP writes it (IPv6 in brackets).
std::string sip_host(const IpAddress& address);

}  // namespace sipwall::control
