#include "bridge/tap_flow_table.h"

#include <gtest/gtest.h>

namespace sipwall {
namespace {

constexpr Nanos kTtl = 60 * kNanosPerSecond;

TapFlow flow(uint16_t local_port = 40000, const char* remote = "192.0.2.9") {
  return TapFlow{17, *IpAddress::parse("198.51.100.1"), local_port, *IpAddress::parse(remote), 53};
}

TEST(TapFlowTable, ARecordedFlowIsKnownUntilItExpires) {
  TapFlowTable t(64, kTtl, 1);
  EXPECT_FALSE(t.contains(flow(), 0));
  t.record(flow(), 0);
  EXPECT_TRUE(t.contains(flow(), kTtl - 1));
  EXPECT_FALSE(t.contains(flow(), kTtl));
}

TEST(TapFlowTable, EveryFieldOfTheFlowCounts) {
  TapFlowTable t(64, kTtl, 1);
  t.record(flow(), 0);
  EXPECT_FALSE(t.contains(flow(40001), 1));
  EXPECT_FALSE(t.contains(flow(40000, "192.0.2.10"), 1));
  TapFlow tcp = flow();
  tcp.ip_proto = 6;
  EXPECT_FALSE(t.contains(tcp, 1));
  TapFlow swapped = flow();
  std::swap(swapped.local_port, swapped.remote_port);
  EXPECT_FALSE(t.contains(swapped, 1));
  TapFlow v6{17, *IpAddress::parse("2001:db8::1"), 40000, *IpAddress::parse("2001:db8::9"), 53};
  EXPECT_FALSE(t.contains(v6, 1));
  t.record(v6, 1);
  EXPECT_TRUE(t.contains(v6, 2));
}

TEST(TapFlowTable, TrafficOnAFlowKeepsItAlive) {
  TapFlowTable t(64, kTtl, 1);
  t.record(flow(), 0);
  t.record(flow(), kTtl - kNanosPerSecond);
  EXPECT_TRUE(t.contains(flow(), 2 * kTtl - 2 * kNanosPerSecond));
  EXPECT_FALSE(t.contains(flow(), 2 * kTtl));
}

TEST(TapFlowTable, AWorkerWithAnOlderClockDoesNotShortenAFlow) {
  TapFlowTable t(64, kTtl, 1);
  const Nanos sent = 10 * kNanosPerSecond;
  t.record(flow(), sent);
  t.record(flow(), sent - kNanosPerMilli);  // another worker, a burst earlier
  EXPECT_TRUE(t.contains(flow(), sent + kTtl - kNanosPerMilli / 2));
}

TEST(TapFlowTable, AFullTableKeepsTheNewestFlows) {
  TapFlowTable t(64, kTtl, 3);
  for (uint16_t p = 0; p < 2000; ++p) t.record(flow(p), p);
  EXPECT_TRUE(t.contains(flow(1999), 2000));
  size_t known = 0;
  for (uint16_t p = 0; p < 2000; ++p) known += t.contains(flow(p), 2000);
  EXPECT_LE(known, t.capacity());
  EXPECT_GE(known, t.capacity() / 2);
}

}  // namespace
}  // namespace sipwall
