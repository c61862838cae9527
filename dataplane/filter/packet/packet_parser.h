#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/ip_address.h"

namespace sipwall {

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // 802.1Q C-tag
inline constexpr uint16_t kEtherTypeQinQ = 0x88A8;  // 802.1ad S-tag

inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;

inline constexpr size_t kMaxVlanTags = 2;
// Extension headers walked per IPv6 header chain before the packet counts as malformed.
inline constexpr unsigned kMaxIpv6ExtensionHeaders = 8;

enum class L4Proto : uint8_t { none, udp, tcp, other };
enum class ParseStatus : uint8_t { ok, malformed_l3, malformed_l4 };

struct FragmentInfo {
  bool is_fragment = false;
  uint32_t id = 0;      // IPv4: 16-bit identification; IPv6: fragment header identification
  uint32_t offset = 0;  // bytes
  bool more = false;
  // Protocol of the fragmentable part: IPv4 protocol field, or the IPv6 fragment header's
  // next header (may be an extension header such as destination options).
  uint8_t next_header = 0;
  // First fragment (offset 0) only: it holds the rest of the extension chain and the whole
  // UDP/TCP header. False means a tiny first fragment (RFC 1858 / RFC 7112 evasion).
  bool headers_complete = false;
};

// TCP header flag bits (ParsedPacket::tcp_flags).
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpAck = 0x10;

// The result of parsing one frame (or a reassembled datagram, see FragmentTable).
// Spans point into the parsed buffer and live as long as it does.
struct ParsedPacket {
  uint16_t ethertype = 0;  // after any VLAN tags
  uint8_t vlan_count = 0;
  std::array<uint16_t, kMaxVlanTags> vlan_tci{};  // outer first
  uint16_t l3_offset = 0;                         // of the IP header from the frame start

  bool is_ip = false;
  bool reassembled = false;  // set on the datagram FragmentTable hands back
  IpAddress src, dst;
  uint8_t ttl = 0;       // IPv4 TTL / IPv6 hop limit
  uint8_t ip_proto = 0;  // final upper-layer protocol (after IPv6 extension headers)

  L4Proto l4 = L4Proto::none;
  uint16_t src_port = 0, dst_port = 0;  // host order
  uint8_t tcp_flags = 0;                // kTcpSyn, kTcpAck, ... as in the TCP header
  // From the upper-layer header to the end of the IP payload (any protocol).
  std::span<const uint8_t> l3_payload;
  // UDP data bounded by the UDP length / TCP data after the TCP header.
  std::span<const uint8_t> l4_payload;

  FragmentInfo frag;
  // Fragments only: the fragmentable part carried by this fragment (after the IPv4 header or
  // the IPv6 fragment header), i.e. the bytes that reassembly copies.
  std::span<const uint8_t> fragment_data;
};

// Parses an Ethernet II frame (up to two 802.1Q/802.1ad tags in any order). Non-IP ethertypes
// return ok with is_ip == false. Fragments (IPv4 MF/offset, IPv6 fragment header) are parsed up
// to L3 only; a first fragment also gets ip_proto/l4/ports when its headers are present, with
// an empty l4_payload. Trailing Ethernet padding past the IP length is ignored.
// Checksums are not verified. Allocation-free; `out` is fully overwritten.
ParseStatus parse_packet(std::span<const uint8_t> frame, ParsedPacket& out);

// Parses what follows the IP header(s): for IPv6, `data` starts with header `next_header` and
// may continue with extension headers (hop-by-hop and fragment headers are malformed here);
// then UDP/TCP. Fills ip_proto, l4, ports, tcp_flags, l3_payload, l4_payload.
// `complete` = false for a first fragment: the UDP length is not checked against the data and
// l4_payload stays empty; only the headers must fit. Used by the parser and by reassembly.
ParseStatus parse_upper_layer(IpFamily family, uint8_t next_header, std::span<const uint8_t> data,
                              bool complete, ParsedPacket& out);

}  // namespace sipwall
