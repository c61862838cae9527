#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "acl/service_addresses.h"
#include "bridge/mac_table.h"
#include "bridge/tap_flow_table.h"
#include "classify/traffic_classifier.h"
#include "common/ip_address.h"
#include "common/time.h"

namespace sipwall {

// Where a frame arriving on the outside or inside port goes, as far as the tap is concerned.
enum class TapIngress : uint8_t {
  bridge,       // not for the tap: on through the filter (outside) or out (inside)
  bridge_copy,  // ARP/ND broadcast about a service address: on as usual, and a copy to the tap
  signaling,    // to a service address's SIP/TLS port: the filter judges it (outside) first
  reply,        // a reply to a flow the tap opened: to the tap
  icmp_error,   // an ICMP error about a flow the tap opened: to the tap
  neighbor,     // ARP/ND for a service address sent to the tap's MAC: to the tap
  not_served,   // addressed to the tap but nothing it serves: dropped
};
inline constexpr size_t kTapIngressCount = 7;

// Where a frame the tap sent goes.
enum class TapEgress : uint8_t {
  outside,             // its destination was learned on the outside port
  inside,              // ... on the inside port
  flood,               // broadcast, multicast or unknown destination: both ports
  not_service_source,  // its source is not a service address (ARP sender, IP source): dropped
  malformed,           // could not be parsed: dropped
};
inline constexpr size_t kTapEgressCount = 5;

std::string_view to_string(TapIngress r);
std::string_view to_string(TapEgress r);

inline bool tap_ingress_drops(TapIngress r) {
  return r == TapIngress::not_served;
}
inline bool tap_egress_drops(TapEgress r) {
  return r == TapEgress::not_service_source || r == TapEgress::malformed;
}

// Per-worker counts, each frame once: ingress by the port it arrived on.
struct ExceptionCounters {
  std::array<std::array<uint64_t, kTapIngressCount>, 2> ingress{};  // [BridgeSide][TapIngress]
  std::array<uint64_t, kTapEgressCount> egress{};

  uint64_t in(BridgeSide side, TapIngress r) const {
    return ingress[static_cast<size_t>(side)][static_cast<size_t>(r)];
  }
  uint64_t out(TapEgress r) const { return egress[static_cast<size_t>(r)]; }
  ExceptionCounters& operator+=(const ExceptionCounters& o);
};

// What the control plane serves, read from the active policy: its service addresses (the
// policy's own lookup table; none configured: nothing is served) and its SIP/TLS ports.
struct ServiceView {
  const ServiceAddresses* addresses = nullptr;  // nullptr: none
  const TrafficClassifier* classifier = nullptr;

  bool is_service_address(const IpAddress& a) const {
    return addresses != nullptr && addresses->contains(a);
  }
};

// The exception path's decisions for one worker: which frames from the outside and inside
// ports reach the tap (the control plane's kernel), and where the tap's frames go. No DPDK:
// the worker hands in frame bytes and moves the mbufs as told.
//
// To the tap (frames from port 0 or 1), only what the control plane serves:
//   - frames to the tap's MAC whose destination IP is a service address and that are
//       signaling to a SIP/TLS port (judged by the filter first when they come from outside),
//       replies to a flow the tap sent (its TapFlowTable), or ICMP errors about such a flow;
//   - ARP and IPv6 neighbour discovery about a service address (a copy when broadcast or
//     multicast, since the other side may need it too).
//   Anything else to the tap's MAC is dropped as not_served: a service listening on all of
//   the control plane's addresses is never exposed.
// From the tap: the source must be a service address (IP source, ARP sender); the frame goes
// where its destination MAC was learned, to both ports when unknown or a group address.
// Neither direction is filtered or punted again; VLAN tags are left as they are.
class ExceptionPath {
 public:
  ExceptionPath(MacAddress tap_mac, MacTable& macs, TapFlowTable& flows)
      : tap_mac_(tap_mac), macs_(macs), flows_(flows) {}

  TapIngress ingress(BridgeSide from, std::span<const uint8_t> frame, const ServiceView& service,
                     Nanos now);
  TapEgress egress(std::span<const uint8_t> frame, const ServiceView& service, Nanos now);

  // True when a frame is addressed to the tap's MAC (a filter pass of such a frame is dropped).
  bool to_tap_mac(std::span<const uint8_t> frame) const;
  // The filter passed (judged not to be signaling) a frame ingress() sent it as signaling, e.g.
  // a reassembled datagram to no SIP port: it is dropped, counted as outside not_served too.
  void count_filtered_pass() {
    ++counters_.ingress[static_cast<size_t>(BridgeSide::outside)]
                       [static_cast<size_t>(TapIngress::not_served)];
  }

  const ExceptionCounters& counters() const { return counters_; }
  const MacAddress& tap_mac() const { return tap_mac_; }

 private:
  TapIngress classify_ingress(std::span<const uint8_t> frame, bool unicast_to_tap,
                              const ServiceView& service, Nanos now) const;

  MacAddress tap_mac_;
  MacTable& macs_;
  TapFlowTable& flows_;
  ExceptionCounters counters_;
};

}  // namespace sipwall
