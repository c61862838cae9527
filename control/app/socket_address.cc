#include "control/app/socket_address.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sipwall::control {

SocketAddress to_sockaddr(const IpAddress& address, uint16_t port) {
  SocketAddress out;
  if (address.is_v4()) {
    auto* s = reinterpret_cast<sockaddr_in*>(&out.storage);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    std::memcpy(&s->sin_addr, address.bytes.data(), 4);
    out.length = sizeof(sockaddr_in);
  } else {
    auto* s = reinterpret_cast<sockaddr_in6*>(&out.storage);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    std::memcpy(&s->sin6_addr, address.bytes.data(), 16);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

bool from_sockaddr(const sockaddr_storage& s, IpAddress& address, uint16_t& port) {
  if (s.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&s);
    address = IpAddress::v4(
        std::span<const uint8_t, 4>(reinterpret_cast<const uint8_t*>(&a->sin_addr), 4));
    port = ntohs(a->sin_port);
    return true;
  }
  if (s.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&s);
    address = IpAddress::v6(
        std::span<const uint8_t, 16>(reinterpret_cast<const uint8_t*>(&a->sin6_addr), 16));
    port = ntohs(a->sin6_port);
    return true;
  }
  return false;
}

namespace {

Result<int> open_socket(const IpAddress& address, uint16_t port, int type, int backlog) {
  const SocketAddress sa = to_sockaddr(address, port);
  const int fd = socket(sa.storage.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const std::string where = format_endpoint(address, port);
  if (fd < 0) return Result<int>::failure(where + ": socket: " + std::strerror(errno));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!address.is_v4()) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&sa.storage), sa.length) != 0) {
    const std::string e = std::strerror(errno);
    close(fd);
    return Result<int>::failure(where + ": bind: " + e);
  }
  if (type == SOCK_STREAM && listen(fd, backlog) != 0) {
    const std::string e = std::strerror(errno);
    close(fd);
    return Result<int>::failure(where + ": listen: " + e);
  }
  return fd;
}

}  // namespace

Result<int> open_udp(const IpAddress& address, uint16_t port) {
  return open_socket(address, port, SOCK_DGRAM, 0);
}

Result<int> open_tcp_listener(const IpAddress& address, uint16_t port, int backlog) {
  return open_socket(address, port, SOCK_STREAM, backlog);
}

// Appended piecewise: GCC 12 -O3 raises a false -Wrestrict on "literal" + std::string.
std::string sip_host(const IpAddress& address) {
  if (address.is_v4()) return address.to_string();
  std::string out = "[";
  out += address.to_string();
  out += "]";
  return out;
}

std::string format_endpoint(const IpAddress& address, uint16_t port) {
  std::string out = sip_host(address);
  out += ":";
  out += std::to_string(port);
  return out;
}

}  // namespace sipwall::control
