#include "bridge/exception_path.h"

#include <gtest/gtest.h>

#include "frame_builder.h"

namespace sipwall {
namespace {

using test::Bytes;
using test::FrameBuilder;

constexpr MacAddress kTap{0x02, 0xaa, 0, 0, 0, 0x01};
constexpr MacAddress kCarrier{0x02, 0xcc, 0, 0, 0, 0x02};
constexpr MacAddress kCore{0x02, 0xdd, 0, 0, 0, 0x03};
constexpr MacAddress kBroadcast{0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
constexpr MacAddress kSolicitedNode{0x33, 0x33, 0xff, 0, 0, 0x01};
constexpr const char* kService = "198.51.100.1";
constexpr const char* kService6 = "2001:db8::1";
constexpr const char* kCarrierIp = "192.0.2.2";
constexpr const char* kCarrierIp6 = "2001:db8::2";
constexpr Nanos kNow = 1000 * kNanosPerSecond;
constexpr uint8_t kIcmp6 = 58;

Bytes arp(uint16_t op, const char* sender, const char* target) {
  Bytes a = {0, 1, 8, 0, 6, 4, 0, static_cast<uint8_t>(op)};
  a.insert(a.end(), 6, 0x11);
  const auto s = IpAddress::parse(sender)->bytes;
  a.insert(a.end(), s.begin(), s.begin() + 4);
  a.insert(a.end(), 6, 0);
  const auto t = IpAddress::parse(target)->bytes;
  a.insert(a.end(), t.begin(), t.begin() + 4);
  return a;
}

// ICMPv6 neighbour solicitation (135) or advertisement (136) about `target`.
Bytes nd(uint8_t type, const char* target) {
  Bytes m = {type, 0, 0, 0, 0, 0, 0, 0};
  const auto t = IpAddress::parse(target)->bytes;
  m.insert(m.end(), t.begin(), t.end());
  return m;
}

Bytes icmp_echo(uint8_t type, uint16_t id) {
  return {type, 0, 0, 0, static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0, 1};
}

class ExceptionPathTest : public ::testing::Test {
 protected:
  ExceptionPathTest() : classifier_(PortConfig{}), path_(kTap, macs_, flows_) {
    const IpAddress addresses[] = {*IpAddress::parse(kService), *IpAddress::parse(kService6)};
    services_ = *ServiceAddresses::build(addresses);
    view_ = {&services_, &classifier_};
  }

  // A frame from the carrier to the tap's MAC.
  FrameBuilder to_tap(const char* src = kCarrierIp, const char* dst = kService) const {
    FrameBuilder b;
    b.macs(kTap, kCarrier);
    if (IpAddress::parse(src)->is_v4()) {
      b.ipv4(src, dst);
    } else {
      b.ipv6(src, dst);
    }
    return b;
  }
  // A frame the tap sends.
  FrameBuilder from_tap(MacAddress dst_mac, const char* src = kService,
                        const char* dst = kCarrierIp) const {
    FrameBuilder b;
    b.macs(dst_mac, kTap);
    if (IpAddress::parse(src)->is_v4()) {
      b.ipv4(src, dst);
    } else {
      b.ipv6(src, dst);
    }
    return b;
  }

  TapIngress in(const Bytes& frame, BridgeSide side = BridgeSide::outside, Nanos now = kNow) {
    return path_.ingress(side, frame, view_, now);
  }
  TapEgress out(const Bytes& frame, Nanos now = kNow) { return path_.egress(frame, view_, now); }

  MacTable macs_{64, 300 * kNanosPerSecond, 1};
  TapFlowTable flows_{64, 60 * kNanosPerSecond, 2};
  TrafficClassifier classifier_;
  ServiceAddresses services_;
  ServiceView view_;
  ExceptionPath path_;
};

TEST_F(ExceptionPathTest, FramesForOthersAreBridgedAndTheirSourceLearned) {
  FrameBuilder b;
  b.macs(kCore, kCarrier).ipv4(kCarrierIp, "192.0.2.3");
  EXPECT_EQ(in(b.udp(5060, 5060, "INVITE")), TapIngress::bridge);
  EXPECT_EQ(macs_.lookup(kCarrier, kNow), BridgeSide::outside);
  b.macs(kCarrier, kCore);
  EXPECT_EQ(in(b.udp(5060, 5060, "SIP/2.0 200 OK"), BridgeSide::inside), TapIngress::bridge);
  EXPECT_EQ(macs_.lookup(kCore, kNow), BridgeSide::inside);
}

TEST_F(ExceptionPathTest, SignalingToAServicePortIsForTheTap) {
  EXPECT_EQ(in(to_tap().udp(5062, 5060, "OPTIONS")), TapIngress::signaling);
  EXPECT_EQ(in(to_tap().tcp(40000, 5060, test::kTcpSyn, "")), TapIngress::signaling);
  EXPECT_EQ(in(to_tap().tcp(40000, 5061, test::kTcpSyn, "")), TapIngress::signaling);
  EXPECT_EQ(in(to_tap(kCarrierIp6, kService6).udp(5062, 5060, "OPTIONS")), TapIngress::signaling);
  EXPECT_EQ(in(to_tap().vlan(100).udp(5062, 5060, "OPTIONS")), TapIngress::signaling);
  EXPECT_EQ(in(to_tap().udp(5062, 5060, "OPTIONS"), BridgeSide::inside), TapIngress::signaling);
  EXPECT_EQ(path_.counters().in(BridgeSide::outside, TapIngress::signaling), 5u);
  EXPECT_EQ(path_.counters().in(BridgeSide::inside, TapIngress::signaling), 1u);
}

TEST_F(ExceptionPathTest, WhatTheTapDoesNotServeIsDroppedAndCounted) {
  EXPECT_EQ(in(to_tap().udp(5062, 7777, "probe")), TapIngress::not_served);
  EXPECT_EQ(in(to_tap().tcp(40000, 22, test::kTcpSyn, "")), TapIngress::not_served);
  // A SIP source port does not open the control plane's other ports.
  EXPECT_EQ(in(to_tap().tcp(5060, 22, test::kTcpSyn, "")), TapIngress::not_served);
  EXPECT_EQ(in(to_tap().udp(5060, 7777, "SIP/2.0 200 OK")), TapIngress::not_served);
  // Not a service address, though the tap's MAC.
  EXPECT_EQ(in(to_tap(kCarrierIp, "198.51.100.7").udp(5062, 5060, "OPTIONS")),
            TapIngress::not_served);
  EXPECT_EQ(in(to_tap().frame(test::kProtoIcmp, icmp_echo(8, 1))), TapIngress::not_served);
  EXPECT_EQ(in(to_tap().ethernet(0x88cc, Bytes(40, 0))), TapIngress::not_served);  // LLDP
  EXPECT_EQ(in(to_tap().udp(5062, 7777, "probe"), BridgeSide::inside), TapIngress::not_served);
  EXPECT_EQ(path_.counters().in(BridgeSide::outside, TapIngress::not_served), 7u);
  EXPECT_EQ(path_.counters().in(BridgeSide::inside, TapIngress::not_served), 1u);
}

TEST_F(ExceptionPathTest, ArpAboutAServiceAddressReachesTheTap) {
  FrameBuilder b;
  b.macs(kBroadcast, kCarrier);
  EXPECT_EQ(in(b.ethernet(0x0806, arp(1, kCarrierIp, kService))), TapIngress::bridge_copy);
  EXPECT_EQ(in(b.ethernet(0x0806, arp(1, kCarrierIp, "192.0.2.3"))), TapIngress::bridge);
  // The answer to the tap's own request.
  b.macs(kTap, kCore);
  EXPECT_EQ(in(b.ethernet(0x0806, arp(2, "192.0.2.3", kService)), BridgeSide::inside),
            TapIngress::neighbor);
  EXPECT_EQ(in(b.ethernet(0x0806, arp(2, "192.0.2.3", "192.0.2.4"))), TapIngress::not_served);
  b.vlan(42);
  EXPECT_EQ(in(b.ethernet(0x0806, arp(2, "192.0.2.3", kService))), TapIngress::neighbor);
}

TEST_F(ExceptionPathTest, NeighbourDiscoveryAboutAServiceAddressReachesTheTap) {
  FrameBuilder b;
  b.macs(kSolicitedNode, kCarrier).ipv6(kCarrierIp6, "ff02::1:ff00:1");
  EXPECT_EQ(in(b.frame(kIcmp6, nd(135, kService6))), TapIngress::bridge_copy);
  EXPECT_EQ(in(b.frame(kIcmp6, nd(135, "2001:db8::3"))), TapIngress::bridge);
  // The advertisement answering the tap's solicitation is about the peer, sent to the tap.
  EXPECT_EQ(in(to_tap(kCarrierIp6, kService6).frame(kIcmp6, nd(136, kCarrierIp6))),
            TapIngress::neighbor);
  EXPECT_EQ(in(to_tap(kCarrierIp6, "2001:db8::3").frame(kIcmp6, nd(136, kCarrierIp6))),
            TapIngress::not_served);
}

TEST_F(ExceptionPathTest, RepliesToTheTapsOwnFlowsReachItUntilTheFlowExpires) {
  EXPECT_EQ(in(to_tap().udp(53, 40000, "answer")), TapIngress::not_served);
  // (That frame taught where the carrier is.)
  EXPECT_EQ(out(from_tap(kCarrier).udp(40000, 53, "query")), TapEgress::outside);
  EXPECT_EQ(in(to_tap().udp(53, 40000, "answer")), TapIngress::reply);
  EXPECT_EQ(in(to_tap().udp(53, 40001, "answer")), TapIngress::not_served);
  EXPECT_EQ(in(to_tap("192.0.2.9").udp(53, 40000, "answer")), TapIngress::not_served);
  EXPECT_EQ(in(to_tap().udp(53, 40000, "late"), BridgeSide::outside, kNow + 61 * kNanosPerSecond),
            TapIngress::not_served);
  // TCP: the SYN-ACK of a connection the control plane opened.
  EXPECT_EQ(out(from_tap(kCarrier).tcp(41000, 443, test::kTcpSyn, "")), TapEgress::outside);
  EXPECT_EQ(in(to_tap().tcp(443, 41000, test::kTcpSyn | test::kTcpAck, "")), TapIngress::reply);
  // ICMP echo by identifier.
  EXPECT_EQ(out(from_tap(kCarrier).frame(test::kProtoIcmp, icmp_echo(8, 77))), TapEgress::outside);
  EXPECT_EQ(in(to_tap().frame(test::kProtoIcmp, icmp_echo(0, 77))), TapIngress::reply);
  EXPECT_EQ(in(to_tap().frame(test::kProtoIcmp, icmp_echo(0, 78))), TapIngress::not_served);
}

TEST_F(ExceptionPathTest, IcmpErrorsAboutTheTapsFlowsReachIt) {
  FrameBuilder sent = from_tap(kCarrier, kService, "192.0.2.9");
  const Bytes query = sent.udp(40000, 53, "query");
  EXPECT_EQ(out(query), TapEgress::flood);
  // Port unreachable from the router, quoting the IP header and 8 octets of the datagram.
  const Bytes quoted(query.begin() + 14, query.begin() + 14 + 28);
  Bytes error = {3, 3, 0, 0, 0, 0, 0, 0};
  error.insert(error.end(), quoted.begin(), quoted.end());
  EXPECT_EQ(in(to_tap().frame(test::kProtoIcmp, error)), TapIngress::icmp_error);
  Bytes other = error;
  other[8 + 20 + 1] ^= 1;  // another source port: a flow the tap never sent
  EXPECT_EQ(in(to_tap().frame(test::kProtoIcmp, other)), TapIngress::not_served);
  EXPECT_EQ(in(to_tap().frame(test::kProtoIcmp, Bytes(error.begin(), error.begin() + 20))),
            TapIngress::not_served);  // truncated quote
}

TEST_F(ExceptionPathTest, TheTapsFramesLeaveWhereTheDestinationWasLearned) {
  FrameBuilder b;
  b.macs(kCore, kCarrier).ipv4(kCarrierIp, "192.0.2.3");
  in(b.udp(1, 1, "x"));
  b.macs(kCarrier, kCore);
  in(b.udp(1, 1, "x"), BridgeSide::inside);
  EXPECT_EQ(out(from_tap(kCarrier).udp(5060, 5062, "SIP/2.0 200 OK")), TapEgress::outside);
  EXPECT_EQ(out(from_tap(kCore, kService, "192.0.2.3").udp(5060, 5062, "x")), TapEgress::inside);
  EXPECT_EQ(out(from_tap(kCore).vlan(7).udp(5060, 5062, "x")), TapEgress::inside);
  EXPECT_EQ(out(from_tap({0x02, 0, 0, 0, 0, 0x99}).udp(5060, 5062, "x")), TapEgress::flood);
  FrameBuilder request;
  request.macs(kBroadcast, kTap);
  EXPECT_EQ(out(request.ethernet(0x0806, arp(1, kService, kCarrierIp))), TapEgress::flood);
  EXPECT_EQ(out(from_tap(kCarrier, kService6, kCarrierIp6).udp(5060, 5062, "x")),
            TapEgress::outside);
  EXPECT_EQ(path_.counters().out(TapEgress::outside), 2u);
  EXPECT_EQ(path_.counters().out(TapEgress::inside), 2u);
  EXPECT_EQ(path_.counters().out(TapEgress::flood), 2u);
}

TEST_F(ExceptionPathTest, TheTapMaySendOnlyFromAServiceAddress) {
  EXPECT_EQ(out(from_tap(kCarrier, "198.51.100.7").udp(22, 40000, "ssh")),
            TapEgress::not_service_source);
  EXPECT_EQ(out(from_tap(kCarrier, "fe80::1", "ff02::2").frame(kIcmp6, Bytes{133, 0, 0, 0})),
            TapEgress::not_service_source);
  FrameBuilder b;
  b.macs(kBroadcast, kTap);
  EXPECT_EQ(out(b.ethernet(0x0806, arp(1, "198.51.100.7", kCarrierIp))),
            TapEgress::not_service_source);
  EXPECT_EQ(out(b.ethernet(0x88cc, Bytes(40, 0))), TapEgress::not_service_source);
  EXPECT_EQ(out(Bytes(10, 0)), TapEgress::malformed);
  // Nothing it was refused to send is remembered as its flow.
  EXPECT_EQ(in(to_tap(kCarrierIp, "198.51.100.7").udp(40000, 22, "x")), TapIngress::not_served);
  EXPECT_EQ(path_.counters().out(TapEgress::not_service_source), 4u);
  EXPECT_EQ(path_.counters().out(TapEgress::malformed), 1u);
}

// The one case where the two users of the service addresses answer differently: none
// configured. The pipeline then punts signaling to every destination (as before `service`
// existed); the tap holds no address of ours, so nothing is for it and it may send nothing.
TEST_F(ExceptionPathTest, WithoutServiceAddressesTheTapServesNothing) {
  const ServiceAddresses none;
  view_ = {&none, &classifier_};
  EXPECT_TRUE(none.punts_to(*IpAddress::parse(kService)));  // the pipeline's answer
  EXPECT_EQ(in(to_tap().udp(5062, 5060, "OPTIONS")), TapIngress::not_served);
  EXPECT_EQ(in(to_tap(kCarrierIp6, kService6).udp(5062, 5060, "OPTIONS")), TapIngress::not_served);
  FrameBuilder who_has;
  who_has.macs(kBroadcast, kCarrier);
  EXPECT_EQ(in(who_has.ethernet(0x0806, arp(1, kCarrierIp, kService))), TapIngress::bridge);
  EXPECT_EQ(out(from_tap(kCarrier).udp(5060, 5062, "SIP/2.0 200 OK")),
            TapEgress::not_service_source);
  view_ = {nullptr, &classifier_};  // a view without a policy behind it: the same
  EXPECT_EQ(in(to_tap().udp(5062, 5060, "OPTIONS")), TapIngress::not_served);
  EXPECT_EQ(out(from_tap(kCarrier).udp(5060, 5062, "x")), TapEgress::not_service_source);
}

}  // namespace
}  // namespace sipwall
