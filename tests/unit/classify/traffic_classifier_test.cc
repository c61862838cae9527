#include "classify/traffic_classifier.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;

TEST(TrafficClassifier, DefaultPortsSplitSipMediaAndTransit) {
  const TrafficClassifier c{PortConfig{}};
  EXPECT_EQ(c.classify(kUdp, 40000, 5060), TrafficClass::sip_udp);  // request to us
  EXPECT_EQ(c.classify(kUdp, 5060, 40000), TrafficClass::sip_udp);  // response from carrier
  EXPECT_EQ(c.classify(kTcp, 40000, 5060), TrafficClass::sip_tcp);
  EXPECT_EQ(c.classify(kTcp, 40000, 5061), TrafficClass::sip_tls);
  EXPECT_EQ(c.classify(kTcp, 5061, 40000), TrafficClass::sip_tls);
  EXPECT_EQ(c.classify(kUdp, 30000, 10000), TrafficClass::rtp);
  EXPECT_EQ(c.classify(kUdp, 30000, 10001), TrafficClass::rtcp);
  EXPECT_EQ(c.classify(kUdp, 30000, 20000), TrafficClass::rtp);
  EXPECT_EQ(c.classify(kUdp, 30000, 20001), TrafficClass::transit);
  EXPECT_EQ(c.classify(kUdp, 30000, 9999), TrafficClass::transit);
  // Media is matched on the destination only: a reply to an ephemeral port is transit.
  EXPECT_EQ(c.classify(kUdp, 12000, 53), TrafficClass::transit);
  EXPECT_EQ(c.classify(kTcp, 40000, 10000), TrafficClass::transit);
  EXPECT_EQ(c.classify(1, 0, 5060), TrafficClass::transit);  // ICMP
}

TEST(TrafficClassifier, ConfiguredRangesReplaceTheDefaults) {
  PortConfig ports;
  ports.sip_udp = {{5060, 5062}, {5080, 5080}};
  ports.media = {{30000, 30010}};
  const TrafficClassifier c{ports};
  EXPECT_EQ(c.classify(kUdp, 1, 5062), TrafficClass::sip_udp);
  EXPECT_EQ(c.classify(kUdp, 1, 5080), TrafficClass::sip_udp);
  EXPECT_EQ(c.classify(kUdp, 1, 5063), TrafficClass::transit);
  EXPECT_EQ(c.classify(kUdp, 1, 10000), TrafficClass::transit);
  EXPECT_EQ(c.classify(kUdp, 1, 30010), TrafficClass::rtp);
  EXPECT_EQ(c.classify(kUdp, 65535, 65535), TrafficClass::transit);
}

TEST(PortRanges, ParsesListsAndRejectsNonsense) {
  const auto ok = parse_port_ranges("5060,10000-20000,65535");
  ASSERT_TRUE(ok.error.empty()) << ok.error;
  ASSERT_EQ(ok.ranges.size(), 3u);
  EXPECT_EQ(ok.ranges[1], (PortRange{10000, 20000}));
  EXPECT_EQ(ok.ranges[2], (PortRange{65535, 65535}));
  for (const char* bad : {"", "x", "5060-", "20000-10000", "65536", "5060,", "1-2-3", "-5"}) {
    const auto r = parse_port_ranges(bad);
    EXPECT_FALSE(r.error.empty()) << bad;
    EXPECT_TRUE(r.ranges.empty()) << bad;
  }
}

}  // namespace
}  // namespace sipwall
