#include "classify/traffic_classifier.h"

#include <charconv>

namespace sipwall {
namespace {

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;

}  // namespace

std::string_view to_string(TrafficClass c) {
  switch (c) {
    case TrafficClass::sip_udp:
      return "sip_udp";
    case TrafficClass::sip_tcp:
      return "sip_tcp";
    case TrafficClass::sip_tls:
      return "sip_tls";
    case TrafficClass::rtp:
      return "rtp";
    case TrafficClass::rtcp:
      return "rtcp";
    case TrafficClass::transit:
      return "transit";
  }
  return "?";
}

TrafficClassifier::PortSet TrafficClassifier::to_set(const std::vector<PortRange>& ranges) {
  PortSet set;
  for (const auto& r : ranges) {
    for (uint32_t p = r.first; p <= r.last; ++p) set.set(p);
  }
  return set;
}

TrafficClassifier::TrafficClassifier(const PortConfig& ports)
    : sip_udp_(to_set(ports.sip_udp)),
      sip_tcp_(to_set(ports.sip_tcp)),
      sip_tls_(to_set(ports.sip_tls)),
      media_(to_set(ports.media)) {}

TrafficClass TrafficClassifier::classify(uint8_t ip_proto, uint16_t src_port,
                                         uint16_t dst_port) const {
  if (ip_proto == kProtoUdp) {
    if (sip_udp_.test(dst_port) || sip_udp_.test(src_port)) return TrafficClass::sip_udp;
    if (media_.test(dst_port)) return (dst_port & 1) ? TrafficClass::rtcp : TrafficClass::rtp;
    return TrafficClass::transit;
  }
  if (ip_proto == kProtoTcp) {
    if (sip_tls_.test(dst_port) || sip_tls_.test(src_port)) return TrafficClass::sip_tls;
    if (sip_tcp_.test(dst_port) || sip_tcp_.test(src_port)) return TrafficClass::sip_tcp;
  }
  return TrafficClass::transit;
}

PortRangeParse parse_port_ranges(std::string_view text) {
  PortRangeParse out;
  auto parse_port = [](std::string_view s, uint16_t& port) {
    unsigned v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v > 65535) return false;
    port = static_cast<uint16_t>(v);
    return true;
  };
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto dash = item.find('-');
    PortRange r;
    const bool ok = dash == std::string_view::npos
                        ? parse_port(item, r.first) && parse_port(item, r.last)
                        : parse_port(item.substr(0, dash), r.first) &&
                              parse_port(item.substr(dash + 1), r.last);
    if (!ok || r.first > r.last) {
      out.error = "bad port range '" + std::string(item) + "' (expected PORT or FIRST-LAST)";
      out.ranges.clear();
      return out;
    }
    out.ranges.push_back(r);
    if (comma != std::string_view::npos && text.empty()) {
      out.error = "trailing ',' in port list";
      out.ranges.clear();
      return out;
    }
  }
  if (out.ranges.empty()) out.error = "empty port list";
  return out;
}

}  // namespace sipwall
