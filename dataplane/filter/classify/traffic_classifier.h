#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sipwall {

struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;

  bool contains(uint16_t port) const { return port >= first && port <= last; }
  bool operator==(const PortRange&) const = default;
};

struct PortConfig {
  std::vector<PortRange> sip_udp{{5060, 5060}};
  std::vector<PortRange> sip_tcp{{5060, 5060}};
  std::vector<PortRange> sip_tls{{5061, 5061}};
  std::vector<PortRange> media{{10000, 20000}};
};

enum class TrafficClass : uint8_t { sip_udp, sip_tcp, sip_tls, rtp, rtcp, transit };

std::string_view to_string(TrafficClass c);

// Decides what a packet is from its protocol and ports. Port sets are bitmaps built once, so
// classification is a few bit tests whatever the number of configured ranges.
class TrafficClassifier {
 public:
  explicit TrafficClassifier(const PortConfig& ports);

  // ip_proto is the IANA number (6 TCP, 17 UDP). SIP matches on either port, because responses
  // and requests both travel between a SIP port and an ephemeral one; media matches on the
  // destination port only, the one sipwall's side opened. Even media ports carry RTP, odd RTCP.
  TrafficClass classify(uint8_t ip_proto, uint16_t src_port, uint16_t dst_port) const;

 private:
  using PortSet = std::bitset<65536>;
  static PortSet to_set(const std::vector<PortRange>& ranges);

  PortSet sip_udp_;
  PortSet sip_tcp_;
  PortSet sip_tls_;
  PortSet media_;
};

// "5060", "10000-20000" or a comma-separated list of those; error text on failure.
struct PortRangeParse {
  std::vector<PortRange> ranges;
  std::string error;
};
PortRangeParse parse_port_ranges(std::string_view text);

}  // namespace sipwall
