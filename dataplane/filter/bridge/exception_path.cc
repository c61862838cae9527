#include "bridge/exception_path.h"

#include <algorithm>
#include <cstring>

#include "packet/packet_parser.h"

namespace sipwall {
namespace {

constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoIcmpv6 = 58;

// ARP for IPv4 over Ethernet: sender at 8..17, target at 18..27 (hardware, then protocol).
constexpr size_t kArpLength = 28;
constexpr size_t kArpSenderIp = 14;
constexpr size_t kArpTargetIp = 24;

// ICMP types this path understands.
constexpr uint8_t kIcmpEchoReply = 0, kIcmpUnreachable = 3, kIcmpEchoRequest = 8,
                  kIcmpTimeExceeded = 11, kIcmpParameterProblem = 12;
constexpr uint8_t kIcmp6Unreachable = 1, kIcmp6TooBig = 2, kIcmp6TimeExceeded = 3,
                  kIcmp6ParameterProblem = 4, kIcmp6EchoRequest = 128, kIcmp6EchoReply = 129,
                  kNdRouterSolicit = 133, kNdRedirect = 137;
constexpr uint8_t kNdNeighborSolicit = 135, kNdNeighborAdvert = 136;
constexpr size_t kIcmpHeader = 8;

uint16_t read16(std::span<const uint8_t> b, size_t at) {
  return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}

std::span<const uint8_t, 6> dst_mac(std::span<const uint8_t> frame) {
  return frame.first<6>();
}
std::span<const uint8_t, 6> src_mac(std::span<const uint8_t> frame) {
  return frame.subspan<6, 6>();
}

// The ARP payload of a frame, empty unless it is long enough for IPv4 over Ethernet.
std::span<const uint8_t> arp_of(std::span<const uint8_t> frame, const ParsedPacket& p) {
  if (p.ethertype != kEtherTypeArp || frame.size() < p.l3_offset + kArpLength) return {};
  return frame.subspan(p.l3_offset, kArpLength);
}

IpAddress arp_ip(std::span<const uint8_t> arp, size_t at) {
  return IpAddress::v4(arp.subspan(at).first<4>());
}

bool is_icmp(const ParsedPacket& p) {
  return p.is_ip && ((p.src.is_v4() && p.ip_proto == kIpProtoIcmp) ||
                     (!p.src.is_v4() && p.ip_proto == kIpProtoIcmpv6));
}

// Neighbour discovery (router/neighbour solicitation and advertisement, redirect).
bool is_nd(const ParsedPacket& p) {
  if (!is_icmp(p) || p.src.is_v4() || p.l3_payload.empty()) return false;
  const uint8_t type = p.l3_payload[0];
  return type >= kNdRouterSolicit && type <= kNdRedirect;
}

// NS and NA carry the address they are about after the ICMPv6 header.
bool nd_target_is(const ParsedPacket& p, const ServiceView& service) {
  if (p.l3_payload.size() < kIcmpHeader + 16) return false;
  const uint8_t type = p.l3_payload[0];
  if (type != kNdNeighborSolicit && type != kNdNeighborAdvert) return false;
  return service.is_service_address(IpAddress::v6(p.l3_payload.subspan(kIcmpHeader).first<16>()));
}

bool is_echo(const ParsedPacket& p, bool request) {
  if (!is_icmp(p) || p.l3_payload.size() < kIcmpHeader) return false;
  const uint8_t type = p.l3_payload[0];
  if (p.src.is_v4()) return type == (request ? kIcmpEchoRequest : kIcmpEchoReply);
  return type == (request ? kIcmp6EchoRequest : kIcmp6EchoReply);
}

bool is_icmp_error(const ParsedPacket& p) {
  if (!is_icmp(p) || p.l3_payload.empty()) return false;
  const uint8_t type = p.l3_payload[0];
  if (p.src.is_v4()) {
    return type == kIcmpUnreachable || type == kIcmpTimeExceeded || type == kIcmpParameterProblem;
  }
  return type == kIcmp6Unreachable || type == kIcmp6TooBig || type == kIcmp6TimeExceeded ||
         type == kIcmp6ParameterProblem;
}

// The flow an ICMP error quotes: the leading headers of a datagram the tap sent, so its
// source is the local side. Only UDP, TCP and ICMP echo quoted without IPv6 extension headers.
std::optional<TapFlow> quoted_flow(const ParsedPacket& p) {
  const auto inner = p.l3_payload.subspan(std::min(kIcmpHeader, p.l3_payload.size()));
  TapFlow f;
  size_t l4 = 0;
  if (p.src.is_v4()) {
    if (inner.size() < 20 || inner[0] >> 4 != 4) return std::nullopt;
    l4 = size_t{inner[0] & 0x0Fu} * 4;
    f.ip_proto = inner[9];
    f.local = IpAddress::v4(inner.subspan<12, 4>());
    f.remote = IpAddress::v4(inner.subspan<16, 4>());
  } else {
    if (inner.size() < 40 || inner[0] >> 4 != 6) return std::nullopt;
    l4 = 40;
    f.ip_proto = inner[6];
    f.local = IpAddress::v6(inner.subspan<8, 16>());
    f.remote = IpAddress::v6(inner.subspan<24, 16>());
  }
  // RFC 792 quotes at least 8 octets of the transport header: the ports, or type/code/id.
  if (inner.size() < l4 + 8) return std::nullopt;
  if (f.ip_proto == kIpProtoUdp || f.ip_proto == kIpProtoTcp) {
    f.local_port = read16(inner, l4);
    f.remote_port = read16(inner, l4 + 2);
  } else if (f.ip_proto == kIpProtoIcmp || f.ip_proto == kIpProtoIcmpv6) {
    f.local_port = read16(inner, l4 + 4);  // the echo identifier
  } else {
    return std::nullopt;
  }
  return f;
}

// The flow a frame belongs to, seen from the tap's side. `from_tap` says which end is local.
std::optional<TapFlow> flow_of(const ParsedPacket& p, bool from_tap) {
  TapFlow f;
  f.ip_proto = p.ip_proto;
  f.local = from_tap ? p.src : p.dst;
  f.remote = from_tap ? p.dst : p.src;
  if (p.l4 == L4Proto::udp || p.l4 == L4Proto::tcp) {
    if (p.frag.is_fragment && p.frag.offset != 0) return std::nullopt;  // no ports
    f.local_port = from_tap ? p.src_port : p.dst_port;
    f.remote_port = from_tap ? p.dst_port : p.src_port;
    return f;
  }
  if (is_echo(p, from_tap)) {
    f.local_port = read16(p.l3_payload, 4);
    return f;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(TapIngress r) {
  switch (r) {
    case TapIngress::bridge:
      return "bridge";
    case TapIngress::bridge_copy:
      return "bridge_copy";
    case TapIngress::signaling:
      return "signaling";
    case TapIngress::reply:
      return "reply";
    case TapIngress::icmp_error:
      return "icmp_error";
    case TapIngress::neighbor:
      return "neighbor";
    case TapIngress::not_served:
      return "not_served";
  }
  return "?";
}

std::string_view to_string(TapEgress r) {
  switch (r) {
    case TapEgress::outside:
      return "outside";
    case TapEgress::inside:
      return "inside";
    case TapEgress::flood:
      return "flood";
    case TapEgress::not_service_source:
      return "not_service_source";
    case TapEgress::malformed:
      return "malformed";
  }
  return "?";
}

ExceptionCounters& ExceptionCounters::operator+=(const ExceptionCounters& o) {
  for (size_t s = 0; s < ingress.size(); ++s) {
    for (size_t i = 0; i < kTapIngressCount; ++i) ingress[s][i] += o.ingress[s][i];
  }
  for (size_t i = 0; i < kTapEgressCount; ++i) egress[i] += o.egress[i];
  return *this;
}

bool ExceptionPath::to_tap_mac(std::span<const uint8_t> frame) const {
  return frame.size() >= 6 && std::equal(tap_mac_.begin(), tap_mac_.end(), frame.begin());
}

TapIngress ExceptionPath::ingress(BridgeSide from, std::span<const uint8_t> frame,
                                  const ServiceView& service, Nanos now) {
  TapIngress r = TapIngress::bridge;
  if (frame.size() >= 14) {
    if (!is_group_mac(src_mac(frame))) macs_.learn(src_mac(frame), from, now);
    const bool to_tap = to_tap_mac(frame);
    // The common case, a unicast frame for someone else, costs one MAC comparison.
    if (to_tap || is_group_mac(dst_mac(frame))) r = classify_ingress(frame, to_tap, service, now);
  }
  ++counters_.ingress[static_cast<size_t>(from)][static_cast<size_t>(r)];
  return r;
}

TapIngress ExceptionPath::classify_ingress(std::span<const uint8_t> frame, bool unicast_to_tap,
                                           const ServiceView& service, Nanos now) const {
  const TapIngress otherwise = unicast_to_tap ? TapIngress::not_served : TapIngress::bridge;
  ParsedPacket p;
  if (parse_packet(frame, p) != ParseStatus::ok) return otherwise;
  if (const auto arp = arp_of(frame, p); !arp.empty()) {
    // Requests for a service address, and replies to the tap's own requests.
    if (!service.is_service_address(arp_ip(arp, kArpTargetIp))) return otherwise;
    return unicast_to_tap ? TapIngress::neighbor : TapIngress::bridge_copy;
  }
  if (!p.is_ip) return otherwise;
  if (is_nd(p)) {
    // Solicitations for a service address, and advertisements answering the tap.
    if (!nd_target_is(p, service) && !service.is_service_address(p.dst)) return otherwise;
    return unicast_to_tap ? TapIngress::neighbor : TapIngress::bridge_copy;
  }
  if (!unicast_to_tap || !service.is_service_address(p.dst)) return otherwise;
  // Later fragments carry no ports: the filter reassembles and judges the whole datagram.
  if (p.frag.is_fragment && p.frag.offset != 0) return TapIngress::signaling;
  if (p.l4 == L4Proto::udp || p.l4 == L4Proto::tcp) {
    // Signaling is judged on the destination port alone: a peer's source port 5060 must not
    // open every port of the control plane.
    const TrafficClass cls = service.classifier->classify(p.ip_proto, p.dst_port, p.dst_port);
    if (cls == TrafficClass::sip_udp || cls == TrafficClass::sip_tcp ||
        cls == TrafficClass::sip_tls) {
      return TapIngress::signaling;
    }
  }
  if (const auto f = flow_of(p, false); f && flows_.contains(*f, now)) return TapIngress::reply;
  if (is_icmp_error(p)) {
    const auto f = quoted_flow(p);
    if (f && service.is_service_address(f->local) && flows_.contains(*f, now)) {
      return TapIngress::icmp_error;
    }
  }
  return TapIngress::not_served;
}

TapEgress ExceptionPath::egress(std::span<const uint8_t> frame, const ServiceView& service,
                                Nanos now) {
  TapEgress r = TapEgress::malformed;
  ParsedPacket p;
  if (frame.size() >= 14 && parse_packet(frame, p) == ParseStatus::ok) {
    bool allowed = false;
    if (const auto arp = arp_of(frame, p); !arp.empty()) {
      allowed = service.is_service_address(arp_ip(arp, kArpSenderIp));
    } else if (p.is_ip) {
      allowed = service.is_service_address(p.src);
      if (allowed) {
        if (const auto f = flow_of(p, true)) flows_.record(*f, now);
      }
    }
    if (!allowed) {
      r = TapEgress::not_service_source;
    } else if (is_group_mac(dst_mac(frame))) {
      r = TapEgress::flood;
    } else {
      const auto side = macs_.lookup(dst_mac(frame), now);
      r = !side                          ? TapEgress::flood
          : *side == BridgeSide::outside ? TapEgress::outside
                                         : TapEgress::inside;
    }
  }
  ++counters_.egress[static_cast<size_t>(r)];
  return r;
}

}  // namespace sipwall
