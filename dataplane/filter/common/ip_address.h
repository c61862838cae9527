#pragma once

#include <endian.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sipwall {

enum class IpFamily : uint8_t { v4, v6 };

// An IPv4 or IPv6 address in network byte order. IPv4 uses bytes[0..3]; the rest stay zero,
// so two addresses compare equal exactly when family and bytes match.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  IpFamily family = IpFamily::v4;

  static IpAddress v4(std::span<const uint8_t, 4> octets);
  static IpAddress v4(uint32_t host_order);
  static IpAddress v6(std::span<const uint8_t, 16> octets);
  static std::optional<IpAddress> parse(std::string_view text);

  bool is_v4() const { return family == IpFamily::v4; }
  unsigned bit_width() const { return is_v4() ? 32 : 128; }
  uint32_t v4_host_order() const;
  // The address with every bit past prefix_len cleared (prefix_len is clamped to the width).
  // Inline: it runs for every token bucket key.
  IpAddress masked(unsigned prefix_len) const;
  std::string to_string() const;

  bool operator==(const IpAddress&) const = default;
};

struct IpPrefix {
  IpAddress address;  // already masked to length
  uint8_t length = 0;

  // "192.0.2.0/24", "2001:db8::/32", or a bare address (full length).
  static std::optional<IpPrefix> parse(std::string_view text);
  bool contains(const IpAddress& a) const;
  std::string to_string() const;

  bool operator==(const IpPrefix&) const = default;
};

inline IpAddress IpAddress::masked(unsigned prefix_len) const {
  const unsigned width = bit_width();
  if (prefix_len >= width) return *this;
  // Two 64-bit words in network order: one AND each instead of a loop over the bytes.
  uint64_t words[2];
  std::memcpy(words, bytes.data(), 16);
  for (unsigned w = 0; w < 2; ++w) {
    const unsigned keep = std::min(64u, prefix_len - std::min(prefix_len, 64 * w));
    const uint64_t mask = keep == 0 ? 0 : ~uint64_t{0} << (64 - keep);
    words[w] &= htobe64(mask);
  }
  IpAddress a;
  a.family = family;
  std::memcpy(a.bytes.data(), words, 16);
  return a;
}

}  // namespace sipwall
