#include "packet/packet_parser.h"

#include <cstring>

#include "common/byte_order.h"

namespace sipwall {
namespace {

constexpr size_t kEthernetHeader = 14;
constexpr size_t kVlanTag = 4;
constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;
constexpr size_t kIpv6FragmentHeader = 8;
constexpr size_t kUdpHeader = 8;
constexpr size_t kTcpMinHeader = 20;
constexpr uint32_t kMaxIpPayload = 65535;

constexpr uint8_t kIpv6HopByHop = 0;
constexpr uint8_t kIpv6Routing = 43;
constexpr uint8_t kIpv6Fragment = 44;
constexpr uint8_t kIpv6DestOptions = 60;

inline bool is_vlan_tpid(uint16_t type) {
  return type == kEtherTypeVlan || type == kEtherTypeQinQ;
}

// `a` is freshly value-initialised, so only the used bytes need writing.
inline void set_address(IpAddress& a, IpFamily family, const uint8_t* p) {
  a.family = family;
  std::memcpy(a.bytes.data(), p, family == IpFamily::v4 ? 4 : 16);
}

// Walks hop-by-hop / routing / destination-options headers from data[off] (type nh). Stops at
// the first other header (a fragment header or the upper layer) with nh/off naming it.
// False if a header does not fit, the chain is too long, or hop-by-hop is not first.
bool skip_ipv6_extensions(std::span<const uint8_t> data, bool hop_by_hop_allowed, uint8_t& nh,
                          size_t& off, unsigned& count) {
  while (nh == kIpv6HopByHop || nh == kIpv6Routing || nh == kIpv6DestOptions) {
    // RFC 8200 4.1: hop-by-hop may only follow the fixed header directly.
    if (nh == kIpv6HopByHop && !(hop_by_hop_allowed && count == 0)) return false;
    if (++count > kMaxIpv6ExtensionHeaders) return false;
    if (data.size() - off < 8) return false;
    const size_t len = (size_t{data[off + 1]} + 1) * 8;
    if (data.size() - off < len) return false;
    nh = data[off];
    off += len;
  }
  return true;
}

ParseStatus parse_transport(uint8_t proto, std::span<const uint8_t> d, bool complete,
                            ParsedPacket& out) {
  out.ip_proto = proto;
  out.l3_payload = d;
  if (proto == kIpProtoUdp) {
    if (d.size() < kUdpHeader) return ParseStatus::malformed_l4;
    if (complete) {
      const size_t udp_len = load_be16(d.data() + 4);
      if (udp_len < kUdpHeader || udp_len > d.size()) return ParseStatus::malformed_l4;
      out.l4_payload = d.subspan(kUdpHeader, udp_len - kUdpHeader);
    }
    out.l4 = L4Proto::udp;
  } else if (proto == kIpProtoTcp) {
    if (d.size() < kTcpMinHeader) return ParseStatus::malformed_l4;
    const size_t data_offset = size_t{static_cast<uint8_t>(d[12] >> 4)} * 4;
    if (data_offset < kTcpMinHeader || data_offset > d.size()) return ParseStatus::malformed_l4;
    if (complete) out.l4_payload = d.subspan(data_offset);
    out.tcp_flags = d[13];
    out.l4 = L4Proto::tcp;
  } else {
    out.l4 = L4Proto::other;
    return ParseStatus::ok;
  }
  out.src_port = load_be16(d.data());
  out.dst_port = load_be16(d.data() + 2);
  return ParseStatus::ok;
}

ParseStatus mark_fragment(IpFamily family, uint32_t id, uint32_t offset, bool more,
                          uint8_t next_header, std::span<const uint8_t> data, ParsedPacket& out) {
  // Every fragment but the last carries a non-zero multiple of 8 bytes (RFC 791, RFC 8200 4.5),
  // and no fragment may reach past the 16-bit length.
  if (more && (data.empty() || data.size() % 8 != 0)) return ParseStatus::malformed_l3;
  if (offset + data.size() > kMaxIpPayload) return ParseStatus::malformed_l3;
  out.frag.is_fragment = true;
  out.frag.id = id;
  out.frag.offset = offset;
  out.frag.more = more;
  out.frag.next_header = next_header;
  out.fragment_data = data;
  if (offset == 0) {
    // Peek at the headers for early classification; the verdict waits for reassembly.
    out.frag.headers_complete =
        parse_upper_layer(family, next_header, data, /*complete=*/false, out) == ParseStatus::ok;
    if (!out.frag.headers_complete) {
      out.l4 = L4Proto::none;
      out.src_port = out.dst_port = 0;
      out.tcp_flags = 0;
    }
  }
  if (!out.frag.headers_complete) out.ip_proto = next_header;
  out.l3_payload = {};
  out.l4_payload = {};
  return ParseStatus::ok;
}

ParseStatus parse_ipv4(std::span<const uint8_t> l3, ParsedPacket& out) {
  if (l3.size() < kIpv4MinHeader) return ParseStatus::malformed_l3;
  const uint8_t* p = l3.data();
  const size_t ihl = size_t{static_cast<uint8_t>(p[0] & 0x0F)} * 4;
  const size_t total = load_be16(p + 2);
  // ihl <= total <= size also proves the options fit.
  if ((p[0] >> 4) != 4 || ihl < kIpv4MinHeader || total < ihl || total > l3.size()) {
    return ParseStatus::malformed_l3;
  }
  out.is_ip = true;
  set_address(out.src, IpFamily::v4, p + 12);
  set_address(out.dst, IpFamily::v4, p + 16);
  out.ttl = p[8];
  const uint8_t proto = p[9];
  const auto payload = l3.subspan(ihl, total - ihl);
  const uint16_t flags_offset = load_be16(p + 6);
  const uint32_t frag_offset = uint32_t{flags_offset & 0x1FFFu} * 8;
  const bool more = (flags_offset & 0x2000u) != 0;
  if (frag_offset != 0 || more) {
    return mark_fragment(IpFamily::v4, load_be16(p + 4), frag_offset, more, proto, payload, out);
  }
  return parse_transport(proto, payload, /*complete=*/true, out);
}

ParseStatus parse_ipv6(std::span<const uint8_t> l3, ParsedPacket& out) {
  if (l3.size() < kIpv6Header) return ParseStatus::malformed_l3;
  const uint8_t* p = l3.data();
  const size_t payload_len = load_be16(p + 4);
  // Payload length 0 means a jumbogram, which cannot occur on Ethernet.
  if ((p[0] >> 4) != 6 || payload_len == 0 || payload_len > l3.size() - kIpv6Header) {
    return ParseStatus::malformed_l3;
  }
  out.is_ip = true;
  set_address(out.src, IpFamily::v6, p + 8);
  set_address(out.dst, IpFamily::v6, p + 24);
  out.ttl = p[7];
  const auto data = l3.subspan(kIpv6Header, payload_len);

  uint8_t nh = p[6];
  size_t off = 0;
  unsigned count = 0;
  if (!skip_ipv6_extensions(data, /*hop_by_hop_allowed=*/true, nh, off, count)) {
    return ParseStatus::malformed_l3;
  }
  if (nh != kIpv6Fragment) return parse_transport(nh, data.subspan(off), /*complete=*/true, out);

  if (data.size() - off < kIpv6FragmentHeader || ++count > kMaxIpv6ExtensionHeaders) {
    return ParseStatus::malformed_l3;
  }
  const uint8_t* f = data.data() + off;
  const uint8_t frag_nh = f[0];
  const uint16_t offset_flags = load_be16(f + 2);
  const uint32_t frag_offset = offset_flags & 0xFFF8u;
  const bool more = (offset_flags & 1u) != 0;
  const auto rest = data.subspan(off + kIpv6FragmentHeader);
  // An atomic fragment (offset 0, M = 0) is processed as a whole packet (RFC 6946).
  if (frag_offset == 0 && !more) {
    return parse_upper_layer(IpFamily::v6, frag_nh, rest, /*complete=*/true, out);
  }
  return mark_fragment(IpFamily::v6, load_be32(f + 4), frag_offset, more, frag_nh, rest, out);
}

// Catches a new ParsedPacket field that reset() would not clear.
static_assert(sizeof(ParsedPacket) == 120, "update reset() for the new ParsedPacket field");

// Same as out = ParsedPacket{}, which gcc turns into a `rep stos` that cost about half of a
// whole parse; plain field stores are merged into a few vector stores instead.
inline void reset(ParsedPacket& out) {
  out.ethertype = 0;
  out.vlan_count = 0;
  out.vlan_tci = {};
  out.l3_offset = 0;
  out.is_ip = false;
  out.reassembled = false;
  out.src.bytes = {};
  out.src.family = IpFamily::v4;
  out.dst.bytes = {};
  out.dst.family = IpFamily::v4;
  out.ttl = 0;
  out.ip_proto = 0;
  out.l4 = L4Proto::none;
  out.src_port = 0;
  out.dst_port = 0;
  out.tcp_flags = 0;
  out.l3_payload = {};
  out.l4_payload = {};
  out.frag = FragmentInfo{};
  out.fragment_data = {};
}

}  // namespace

ParseStatus parse_upper_layer(IpFamily family, uint8_t next_header, std::span<const uint8_t> data,
                              bool complete, ParsedPacket& out) {
  size_t off = 0;
  if (family == IpFamily::v6) {
    unsigned count = 0;
    // Hop-by-hop and a second fragment header cannot appear past a fragment header.
    if (!skip_ipv6_extensions(data, /*hop_by_hop_allowed=*/false, next_header, off, count) ||
        next_header == kIpv6Fragment) {
      return ParseStatus::malformed_l3;
    }
  }
  return parse_transport(next_header, data.subspan(off), complete, out);
}

ParseStatus parse_packet(std::span<const uint8_t> frame, ParsedPacket& out) {
  reset(out);
  if (frame.size() < kEthernetHeader) return ParseStatus::malformed_l3;
  uint16_t type = load_be16(frame.data() + 12);
  size_t off = kEthernetHeader;
  while (is_vlan_tpid(type)) {
    // A third tag is refused rather than forwarded uninspected.
    if (out.vlan_count == kMaxVlanTags || frame.size() - off < kVlanTag) {
      return ParseStatus::malformed_l3;
    }
    out.vlan_tci[out.vlan_count++] = load_be16(frame.data() + off);
    type = load_be16(frame.data() + off + 2);
    off += kVlanTag;
  }
  out.ethertype = type;
  out.l3_offset = static_cast<uint16_t>(off);
  const auto l3 = frame.subspan(off);
  if (type == kEtherTypeIpv4) return parse_ipv4(l3, out);
  if (type == kEtherTypeIpv6) return parse_ipv6(l3, out);
  return ParseStatus::ok;  // ARP, LLDP, ...: transit, not malformed
}

}  // namespace sipwall
