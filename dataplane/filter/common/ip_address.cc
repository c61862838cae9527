#include "common/ip_address.h"

#include <arpa/inet.h>
#include <endian.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace sipwall {

IpAddress IpAddress::v4(std::span<const uint8_t, 4> octets) {
  IpAddress a;
  std::memcpy(a.bytes.data(), octets.data(), 4);
  a.family = IpFamily::v4;
  return a;
}

IpAddress IpAddress::v4(uint32_t host_order) {
  const std::array<uint8_t, 4> o = {
      static_cast<uint8_t>(host_order >> 24), static_cast<uint8_t>(host_order >> 16),
      static_cast<uint8_t>(host_order >> 8), static_cast<uint8_t>(host_order)};
  return v4(std::span<const uint8_t, 4>(o));
}

IpAddress IpAddress::v6(std::span<const uint8_t, 16> octets) {
  IpAddress a;
  std::memcpy(a.bytes.data(), octets.data(), 16);
  a.family = IpFamily::v6;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  char buf[65];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t out[16];
  if (inet_pton(AF_INET, buf, out) == 1) return v4(std::span<const uint8_t, 4>(out, 4));
  if (inet_pton(AF_INET6, buf, out) == 1) return v6(std::span<const uint8_t, 16>(out, 16));
  return std::nullopt;
}

uint32_t IpAddress::v4_host_order() const {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  unsigned len = addr->bit_width();
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty() ||
        len > addr->bit_width()) {
      return std::nullopt;
    }
  }
  return IpPrefix{addr->masked(len), static_cast<uint8_t>(len)};
}

bool IpPrefix::contains(const IpAddress& a) const {
  return a.family == address.family && a.masked(length) == address;
}

std::string IpPrefix::to_string() const {
  return address.to_string() + "/" + std::to_string(length);
}

}  // namespace sipwall
