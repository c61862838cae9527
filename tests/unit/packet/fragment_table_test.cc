#include "packet/fragment_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>
#include <string>

#include "common/sanitizer.h"
#include "frame_builder.h"

namespace sipwall {
namespace {

using test::Bytes;
using test::FrameBuilder;
using Status = FragmentTable::Status;
using Cookies = std::vector<uint64_t>;

constexpr Nanos kTimeout = FragmentConfig{}.timeout;

struct SinkCall {
  FragmentDrop why;
  Cookies cookies;
  bool operator==(const SinkCall&) const = default;
};

// What a Result said, copied out before the next call invalidates its spans.
struct Outcome {
  Status status = Status::held;
  FragmentDrop why = FragmentDrop::none;
  Cookies cookies;  // sorted
  ParseStatus datagram_status = ParseStatus::ok;
  std::string payload;  // reassembled L4 payload
  uint16_t dst_port = 0;
  bool operator==(const Outcome&) const = default;
};

Bytes sip_payload(size_t size) {
  std::string s = "INVITE sip:bob@example.com SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n";
  for (size_t i = 0; s.size() < size; ++i) s += "a=x-filler:" + std::to_string(i) + "\r\n";
  s.resize(size);
  return test::to_bytes(s);
}

FrameBuilder v4_builder(uint32_t id = 0x1234) {
  FrameBuilder b;
  b.ip_id(id);
  return b;
}
FrameBuilder v6_builder(uint32_t id = 0x1234) {
  FrameBuilder b;
  b.ipv6("2001:db8::10", "2001:db8::20").ip_id(id);
  return b;
}

class Harness {
 public:
  explicit Harness(FragmentConfig cfg = {}) : table(cfg) {}

  auto sink() {
    return [this](FragmentDrop why, std::span<const uint64_t> c) {
      sunk.push_back({why, Cookies(c.begin(), c.end())});
    };
  }

  Outcome add(const Bytes& frame, uint64_t cookie, Nanos now = 0) {
    ParsedPacket p;
    EXPECT_EQ(parse_packet(frame, p), ParseStatus::ok);
    EXPECT_TRUE(p.frag.is_fragment);
    return record(table.add(p, cookie, now, sink()));
  }
  Outcome record(const FragmentTable::Result& r) {
    Outcome o;
    o.status = r.status;
    o.why = r.why;
    o.cookies.assign(r.cookies.begin(), r.cookies.end());
    std::sort(o.cookies.begin(), o.cookies.end());
    EXPECT_EQ(r.datagram != nullptr, r.status == Status::complete);
    if (r.datagram != nullptr) {
      last_datagram = *r.datagram;
      o.datagram_status = r.datagram_status;
      o.payload.assign(r.datagram->l4_payload.begin(), r.datagram->l4_payload.end());
      o.dst_port = r.datagram->dst_port;
    }
    return o;
  }

  FragmentTable table;
  std::vector<SinkCall> sunk;
  ParsedPacket last_datagram;  // spans dangle after the next call; only header fields are used
};

Cookies iota(uint64_t first, size_t n) {
  Cookies c(n);
  std::iota(c.begin(), c.end(), first);
  return c;
}

Outcome held() {
  return Outcome{};
}
Outcome dropped(FragmentDrop why, Cookies c) {
  Outcome o;
  o.status = Status::dropped;
  o.why = why;
  o.cookies = std::move(c);
  std::sort(o.cookies.begin(), o.cookies.end());
  return o;
}

class FragmentOrder : public ::testing::TestWithParam<IpFamily> {
 protected:
  FrameBuilder builder() const { return GetParam() == IpFamily::v4 ? v4_builder() : v6_builder(); }
};

TEST_P(FragmentOrder, InOrderReverseAndShuffled) {
  const FrameBuilder b = builder();
  const Bytes payload = sip_payload(1800);
  const auto frags = b.udp_fragments(5062, 5060, payload, 256);
  ASSERT_EQ(frags.size(), 8u);

  std::vector<std::vector<size_t>> orders;
  std::vector<size_t> order(frags.size());
  std::iota(order.begin(), order.end(), 0);
  orders.push_back(order);
  orders.emplace_back(order.rbegin(), order.rend());
  std::mt19937 rng(7);
  for (int i = 0; i < 20; ++i) {
    std::shuffle(order.begin(), order.end(), rng);
    orders.push_back(order);
  }
  for (const auto& ord : orders) {
    Harness h;
    for (size_t i = 0; i + 1 < ord.size(); ++i) {
      ASSERT_EQ(h.add(frags[ord[i]], ord[i]), held());
    }
    const Outcome o = h.add(frags[ord.back()], ord.back());
    ASSERT_EQ(o.status, Status::complete);
    EXPECT_EQ(o.cookies, iota(0, frags.size()));
    EXPECT_EQ(o.datagram_status, ParseStatus::ok);
    EXPECT_EQ(o.payload, std::string(payload.begin(), payload.end()));
    EXPECT_EQ(o.dst_port, 5060);
    const ParsedPacket& d = h.last_datagram;
    EXPECT_TRUE(d.reassembled);
    EXPECT_TRUE(d.is_ip);
    EXPECT_FALSE(d.frag.is_fragment);
    EXPECT_EQ(d.src, b.src());
    EXPECT_EQ(d.dst, b.dst());
    EXPECT_EQ(d.l4, L4Proto::udp);
    EXPECT_EQ(d.src_port, 5062);
    EXPECT_EQ(h.table.in_use(), 0u);
    EXPECT_TRUE(h.sunk.empty());
  }
}

TEST_P(FragmentOrder, OverlapDropsTheWholeDatagramAndLaterFragments) {
  const FrameBuilder b = builder();
  const Bytes seg = b.udp_segment(1, 5060, sip_payload(300));
  const std::span<const uint8_t> s(seg);
  Harness h;
  EXPECT_EQ(h.add(b.fragment(kIpProtoUdp, s.subspan(0, 64), 0, true), 1), held());
  EXPECT_EQ(h.add(b.fragment(kIpProtoUdp, s.subspan(128, 64), 128, true), 2), held());
  // Overlaps the first fragment by 8 bytes (RFC 5722).
  EXPECT_EQ(h.add(b.fragment(kIpProtoUdp, s.subspan(56, 64), 56, true), 3),
            dropped(FragmentDrop::overlap, {1, 2, 3}));
  EXPECT_EQ(h.table.in_use(), 1u);
  // Fragments not yet received are dropped too, even the ones that would fit.
  EXPECT_EQ(h.add(b.fragment(kIpProtoUdp, s.subspan(64, 64), 64, true), 4),
            dropped(FragmentDrop::overlap, {4}));
  EXPECT_EQ(h.add(b.fragment(kIpProtoUdp, s.subspan(192), 192, false), 5),
            dropped(FragmentDrop::overlap, {5}));
  // The poisoned entry expires silently: its fragments were already handed back.
  h.table.expire(kTimeout, h.sink());
  EXPECT_EQ(h.table.in_use(), 0u);
  EXPECT_TRUE(h.sunk.empty());
}

TEST_P(FragmentOrder, DuplicatesAreDroppedAloneButChangedCopiesAreOverlaps) {
  const FrameBuilder b = builder();
  const auto frags = b.udp_fragments(1, 5060, sip_payload(200), 64);
  ASSERT_EQ(frags.size(), 4u);
  Harness h;
  EXPECT_EQ(h.add(frags[1], 1), held());
  EXPECT_EQ(h.add(frags[1], 11), dropped(FragmentDrop::duplicate, {11}));
  EXPECT_EQ(h.add(frags[0], 0), held());
  EXPECT_EQ(h.add(frags[2], 2), held());
  const Outcome o = h.add(frags[3], 3);
  EXPECT_EQ(o.status, Status::complete);
  EXPECT_EQ(o.cookies, iota(0, 4));

  Bytes changed = frags[1];
  changed.back() ^= 0xFF;
  EXPECT_EQ(h.add(frags[1], 1), held());
  EXPECT_EQ(h.add(changed, 2), dropped(FragmentDrop::overlap, {1, 2}));
}

TEST_P(FragmentOrder, OversizeDatagram) {
  FragmentConfig cfg;
  cfg.max_datagram_bytes = 1000;
  Harness h(cfg);
  const auto frags = builder().udp_fragments(1, 5060, sip_payload(1200), 256);
  ASSERT_EQ(frags.size(), 5u);
  for (uint64_t i = 0; i < 3; ++i) EXPECT_EQ(h.add(frags[i], i), held());
  EXPECT_EQ(h.add(frags[3], 3), dropped(FragmentDrop::too_big, {0, 1, 2, 3}));
  EXPECT_EQ(h.add(frags[4], 4), dropped(FragmentDrop::too_big, {4}));
}

TEST_P(FragmentOrder, TooManyFragments) {
  FragmentConfig cfg;
  cfg.max_fragments_per_datagram = 4;
  Harness h(cfg);
  const auto frags = builder().udp_fragments(1, 5060, sip_payload(300), 56);
  ASSERT_EQ(frags.size(), 6u);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(h.add(frags[5 - i], 5 - i), held());
  EXPECT_EQ(h.add(frags[1], 1), dropped(FragmentDrop::too_many, {1, 2, 3, 4, 5}));
  EXPECT_EQ(h.add(frags[0], 0), dropped(FragmentDrop::too_many, {0}));
}

TEST_P(FragmentOrder, TinyTcpFirstFragment) {
  const FrameBuilder b = builder();
  const Bytes seg = b.tcp_segment(1, 5061, test::kTcpAck, sip_payload(100));
  const auto frags = b.fragments(kIpProtoTcp, seg, 8);
  Harness h;
  EXPECT_EQ(h.add(frags[2], 2), held());
  EXPECT_EQ(h.add(frags[1], 1), held());
  EXPECT_EQ(h.add(frags[0], 0), dropped(FragmentDrop::tiny_first, {0, 1, 2}));
  EXPECT_EQ(h.add(frags[3], 3), dropped(FragmentDrop::tiny_first, {3}));
}

TEST_P(FragmentOrder, TcpDatagramReassembles) {
  const FrameBuilder b = builder();
  const Bytes payload = sip_payload(700);
  const auto frags = b.fragments(kIpProtoTcp, b.tcp_segment(1, 5061, test::kTcpAck, payload), 240);
  Harness h;
  for (size_t i = frags.size(); i-- > 1;) EXPECT_EQ(h.add(frags[i], i), held());
  const Outcome o = h.add(frags[0], 0);
  ASSERT_EQ(o.status, Status::complete);
  EXPECT_EQ(o.payload, std::string(payload.begin(), payload.end()));
  EXPECT_EQ(h.last_datagram.l4, L4Proto::tcp);
  EXPECT_EQ(h.last_datagram.tcp_flags, test::kTcpAck);
}

TEST_P(FragmentOrder, InconsistentEnds) {
  const FrameBuilder b = builder();
  const Bytes seg = b.udp_segment(1, 5060, sip_payload(200));
  const std::span<const uint8_t> s(seg);
  Harness h;
  EXPECT_EQ(h.add(b.fragment(kIpProtoUdp, s.subspan(64), 64, false), 1), held());
  // A second "last" fragment ending elsewhere.
  EXPECT_EQ(h.add(b.fragment(kIpProtoUdp, s.subspan(64, 32), 64 + 128, false), 2),
            dropped(FragmentDrop::inconsistent, {1, 2}));

  // Data past the known end.
  auto b2 = builder();
  b2.ip_id(99);
  EXPECT_EQ(h.add(b2.fragment(kIpProtoUdp, s.subspan(64), 64, false), 3), held());
  EXPECT_EQ(h.add(b2.fragment(kIpProtoUdp, s.subspan(0, 64), 256, true), 4),
            dropped(FragmentDrop::inconsistent, {3, 4}));
  // A last fragment that ends before data already held.
  auto b3 = builder();
  b3.ip_id(100);
  EXPECT_EQ(h.add(b3.fragment(kIpProtoUdp, s.subspan(0, 64), 128, true), 5), held());
  EXPECT_EQ(h.add(b3.fragment(kIpProtoUdp, s.subspan(0, 20), 64, false), 6),
            dropped(FragmentDrop::inconsistent, {5, 6}));
}

TEST_P(FragmentOrder, BadUdpLengthInReassembledDatagram) {
  const FrameBuilder b = builder();
  Bytes seg = b.udp_segment(1, 5060, sip_payload(200));
  test::set16(seg, 4, static_cast<uint16_t>(seg.size() + 8));
  const auto frags = b.fragments(kIpProtoUdp, seg, 128);
  Harness h;
  EXPECT_EQ(h.add(frags[0], 0), held());
  const Outcome o = h.add(frags[1], 1);
  EXPECT_EQ(o.status, Status::complete);
  EXPECT_EQ(o.datagram_status, ParseStatus::malformed_l4);
  EXPECT_EQ(o.cookies, iota(0, 2));
}

TEST_P(FragmentOrder, TimeoutExpiresWithHeldFragments) {
  const auto frags = builder().udp_fragments(1, 5060, sip_payload(300), 128);
  Harness h;
  EXPECT_EQ(h.add(frags[0], 0, 100), held());
  EXPECT_EQ(h.add(frags[1], 1, 200), held());
  h.table.expire(100 + kTimeout - 1, h.sink());
  EXPECT_TRUE(h.sunk.empty());
  h.table.expire(100 + kTimeout, h.sink());
  EXPECT_EQ(h.sunk, (std::vector<SinkCall>{{FragmentDrop::timeout, {0, 1}}}));
  EXPECT_EQ(h.table.in_use(), 0u);
  // The last fragment arrives too late: it starts a new datagram that never completes.
  EXPECT_EQ(h.add(frags[2], 2, 100 + kTimeout), held());
  EXPECT_EQ(h.table.in_use(), 1u);
}

TEST_P(FragmentOrder, AddExpiresStaleDatagramsFirst) {
  const auto frags = builder().udp_fragments(1, 5060, sip_payload(300), 128);
  Harness h;
  EXPECT_EQ(h.add(frags[0], 0, 0), held());
  EXPECT_EQ(h.add(frags[1], 1, 0), held());
  // Same datagram, but past the timeout: the stale part is reported, not completed.
  EXPECT_EQ(h.add(frags[2], 2, kTimeout), held());
  EXPECT_EQ(h.sunk, (std::vector<SinkCall>{{FragmentDrop::timeout, {0, 1}}}));
}

TEST_P(FragmentOrder, TableFullDropsNewDatagramsUntilEntriesExpire) {
  FragmentConfig cfg;
  cfg.max_datagrams = 2;
  Harness h(cfg);
  const Bytes payload = sip_payload(300);
  auto first_of = [&](uint32_t id) {
    auto b = builder();
    b.ip_id(id);
    return b.udp_fragments(1, 5060, payload, 128);
  };
  EXPECT_EQ(h.add(first_of(1)[0], 10, 0), held());
  EXPECT_EQ(h.add(first_of(2)[0], 20, 1), held());
  EXPECT_EQ(h.add(first_of(3)[0], 30, 2), dropped(FragmentDrop::table_full, {30}));
  // Known datagrams still progress while the table is full.
  EXPECT_EQ(h.add(first_of(2)[1], 21, 3), held());
  EXPECT_EQ(h.table.in_use(), 2u);
  // Once the oldest expires, its entry is reclaimed for the new datagram.
  EXPECT_EQ(h.add(first_of(3)[0], 31, kTimeout), held());
  EXPECT_EQ(h.sunk, (std::vector<SinkCall>{{FragmentDrop::timeout, {10}}}));
  EXPECT_EQ(h.table.in_use(), 2u);
  h.table.drain(h.sink());
  EXPECT_EQ(h.sunk.size(), 3u);
  EXPECT_EQ(h.sunk[1], (SinkCall{FragmentDrop::flushed, {20, 21}}));
  EXPECT_EQ(h.sunk[2], (SinkCall{FragmentDrop::flushed, {31}}));
  EXPECT_EQ(h.table.in_use(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Families, FragmentOrder, ::testing::Values(IpFamily::v4, IpFamily::v6),
                         [](const auto& info) {
                           return info.param == IpFamily::v4 ? "Ipv4" : "Ipv6";
                         });

TEST(FragmentTable, Ipv6DestinationOptionsInTheFragmentablePart) {
  const FrameBuilder b = v6_builder();
  const Bytes payload = sip_payload(400);
  Bytes l4 = test::ipv6_ext_bytes(test::dest_options_ext(16), kIpProtoUdp);
  test::append(l4, b.udp_segment(1, 5060, payload));
  const auto frags = b.fragments(test::kIpv6DestOptions, l4, 128);
  Harness h;
  for (size_t i = frags.size(); i-- > 1;) EXPECT_EQ(h.add(frags[i], i), held());
  const Outcome o = h.add(frags[0], 0);
  ASSERT_EQ(o.status, Status::complete);
  EXPECT_EQ(o.payload, std::string(payload.begin(), payload.end()));
  EXPECT_EQ(h.last_datagram.ip_proto, kIpProtoUdp);

  // The same with only the options header in the first fragment: tiny first fragment.
  const auto tiny = b.fragments(test::kIpv6DestOptions, l4, 16);
  EXPECT_EQ(h.add(tiny[1], 1), held());
  EXPECT_EQ(h.add(tiny[0], 0), dropped(FragmentDrop::tiny_first, {0, 1}));
}

TEST(FragmentTable, VlanAndTtlComeFromTheFirstFragment) {
  FrameBuilder b = v4_builder();
  b.vlan(10, 0x88A8).vlan(20).ttl(9);
  const auto frags = b.udp_fragments(1, 5060, sip_payload(300), 128);
  Harness h;
  EXPECT_EQ(h.add(frags[2], 2), held());
  EXPECT_EQ(h.add(frags[0], 0), held());
  ASSERT_EQ(h.add(frags[1], 1).status, Status::complete);
  EXPECT_EQ(h.last_datagram.vlan_count, 2);
  EXPECT_EQ(h.last_datagram.vlan_tci[0], 10);
  EXPECT_EQ(h.last_datagram.vlan_tci[1], 20);
  EXPECT_EQ(h.last_datagram.ttl, 9);
  EXPECT_EQ(h.last_datagram.l3_offset, 22);
}

TEST(FragmentTable, KeysSeparateFamiliesProtocolsAndIds) {
  // Same id everywhere; v4 UDP and v4 TCP differ by protocol, v6 by family.
  const FrameBuilder v4 = v4_builder(7);
  const FrameBuilder v6 = v6_builder(7);
  FrameBuilder v4_other_src = v4_builder(7);
  v4_other_src.ipv4("192.0.2.99", "198.51.100.2");
  const Bytes pu = sip_payload(500), pt = sip_payload(450), p6 = sip_payload(520),
              po = sip_payload(300);
  const std::vector<std::vector<Bytes>> sets = {
      v4.udp_fragments(1, 5060, pu, 128),
      v4.fragments(kIpProtoTcp, v4.tcp_segment(1, 5061, test::kTcpAck, pt), 128),
      v6.udp_fragments(1, 5062, p6, 128),
      v4_other_src.udp_fragments(1, 5063, po, 128),
  };
  const std::vector<const Bytes*> payloads = {&pu, &pt, &p6, &po};
  Harness h;
  std::vector<std::pair<size_t, size_t>> seq;  // (set, fragment)
  for (size_t i = 0; i < 8; ++i) {
    for (size_t s = 0; s < sets.size(); ++s) {
      if (i < sets[s].size()) seq.emplace_back(s, i);
    }
  }
  std::mt19937 rng(3);
  std::shuffle(seq.begin(), seq.end(), rng);
  std::vector<size_t> seen(sets.size(), 0);
  size_t completed = 0;
  for (const auto& [s, i] : seq) {
    const Outcome o = h.add(sets[s][i], s * 100 + i);
    if (++seen[s] < sets[s].size()) {
      EXPECT_EQ(o, held());
      continue;
    }
    ++completed;
    ASSERT_EQ(o.status, Status::complete);
    EXPECT_EQ(o.cookies, iota(s * 100, sets[s].size()));
    EXPECT_EQ(o.payload, std::string(payloads[s]->begin(), payloads[s]->end()));
    EXPECT_EQ(o.dst_port, 5060 + s);
  }
  EXPECT_EQ(completed, sets.size());
  EXPECT_EQ(h.table.in_use(), 0u);
}

TEST(FragmentTable, NonFragmentInputIsRefused) {
  Harness h;
  ParsedPacket p;
  ASSERT_EQ(parse_packet(v4_builder().udp(1, 2, "x"), p), ParseStatus::ok);
  EXPECT_EQ(h.record(h.table.add(p, 5, 0, h.sink())), dropped(FragmentDrop::inconsistent, {5}));
  EXPECT_EQ(h.table.in_use(), 0u);
}

TEST(FragmentTable, DrainFlushesEverythingOldestFirst) {
  Harness h;
  for (uint32_t id = 1; id <= 3; ++id) {
    const auto frags = v6_builder(id).udp_fragments(1, 5060, sip_payload(300), 128);
    EXPECT_EQ(h.add(frags[0], id * 10, id), held());
    EXPECT_EQ(h.add(frags[2], id * 10 + 2, id), held());
  }
  EXPECT_EQ(h.table.in_use(), 3u);
  h.table.drain(h.sink());
  EXPECT_EQ(h.sunk, (std::vector<SinkCall>{{FragmentDrop::flushed, {10, 12}},
                                           {FragmentDrop::flushed, {20, 22}},
                                           {FragmentDrop::flushed, {30, 32}}}));
  EXPECT_EQ(h.table.in_use(), 0u);
  h.table.drain(h.sink());
  EXPECT_EQ(h.sunk.size(), 3u);
}

// reset() forgets held datagrams unreported and the clock: an earlier timestamp than any seen
// before no longer counts as stale, and a full table takes new datagrams again.
TEST(FragmentTable, ResetForgetsDatagramsAndTheClock) {
  FragmentConfig cfg;
  cfg.max_datagrams = 2;
  Harness h(cfg);
  const auto a = v4_builder(1).udp_fragments(1, 5060, sip_payload(300), 128);
  const auto b = v4_builder(2).udp_fragments(1, 5060, sip_payload(300), 128);
  EXPECT_EQ(h.add(a[0], 0, 10 * kTimeout), held());
  EXPECT_EQ(h.add(b[0], 1, 10 * kTimeout), held());
  h.table.reset();
  EXPECT_EQ(h.table.in_use(), 0u);
  EXPECT_TRUE(h.sunk.empty());
  // Before the reset these would be judged at 10 x timeout: a[1] would start a new datagram.
  EXPECT_EQ(h.add(a[1], 2, 0), held());
  EXPECT_EQ(h.add(a[2], 3, 1), held());
  EXPECT_EQ(h.add(b[1], 4, 2), held());
  const Outcome done = h.add(a[0], 5, 3);
  EXPECT_EQ(done.status, Status::complete);
  EXPECT_EQ(done.cookies, (Cookies{2, 3, 5}));
  const Bytes payload = sip_payload(300);
  EXPECT_EQ(done.payload, std::string(payload.begin(), payload.end()));
  h.table.drain(h.sink());
  EXPECT_EQ(h.sunk, (std::vector<SinkCall>{{FragmentDrop::flushed, {4}}}));
}

TEST(FragmentTable, DropReasonNames) {
  EXPECT_EQ(to_string(FragmentDrop::overlap), "overlap");
  EXPECT_EQ(to_string(FragmentDrop::table_full), "table_full");
  for (size_t i = 0; i < kFragmentDropCount; ++i) {
    EXPECT_NE(to_string(static_cast<FragmentDrop>(i)), "unknown");
  }
}

// Many interleaved datagrams through a small table: every one completes (exercises hash
// deletion and entry reuse), and two runs of the same sequence give identical results.
std::vector<Outcome> churn(uint32_t seed, std::vector<SinkCall>& sunk) {
  FragmentConfig cfg;
  cfg.max_datagrams = 8;
  Harness h(cfg);
  std::mt19937 rng(seed);
  std::vector<Outcome> log;
  struct Live {
    std::vector<Bytes> remaining, sent;
  };
  std::vector<Live> active;
  uint64_t cookie = 0;
  Nanos now = 0;
  for (uint32_t id = 0; id < 2000 || !active.empty();) {
    if (id < 2000 && active.size() < cfg.max_datagrams) {
      FrameBuilder b = (rng() % 2 != 0) ? v4_builder(id) : v6_builder(id);
      if (rng() % 3 == 0) b.ipv4("10.0.0." + std::to_string(rng() % 4 + 1), "10.0.1.1").ip_id(id);
      auto frags = b.udp_fragments(1, 5060, sip_payload(600 + rng() % 1200), 8 * (4 + rng() % 32));
      std::shuffle(frags.begin(), frags.end(), rng);
      active.push_back({std::move(frags), {}});
      ++id;
      continue;
    }
    const size_t k = rng() % active.size();
    Live& d = active[k];
    now += rng() % 1000;
    if (!d.sent.empty() && rng() % 10 == 0) {  // retransmission of a held fragment
      log.push_back(h.add(d.sent[rng() % d.sent.size()], cookie++, now));
      continue;
    }
    d.sent.push_back(std::move(d.remaining.back()));
    d.remaining.pop_back();
    log.push_back(h.add(d.sent.back(), cookie++, now));
    if (d.remaining.empty()) active.erase(active.begin() + static_cast<long>(k));
  }
  sunk = h.sunk;
  EXPECT_EQ(h.table.in_use(), 0u);
  return log;
}

TEST(FragmentTable, ChurnCompletesEverythingDeterministically) {
  std::vector<SinkCall> sunk_a, sunk_b;
  const auto a = churn(42, sunk_a);
  const auto b = churn(42, sunk_b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(sunk_a, sunk_b);
  EXPECT_TRUE(sunk_a.empty());
  size_t complete = 0;
  for (const Outcome& o : a) {
    complete += o.status == Status::complete;
    if (o.status == Status::dropped) {
      EXPECT_EQ(o.why, FragmentDrop::duplicate);
    }
  }
  EXPECT_EQ(complete, 2000u);
}

// Views into a completed datagram live until the next call; the buffer is recycled, not freed,
// so only the table's own poisoning lets ASan see a view kept too long.
#ifdef SIPWALL_ASAN
volatile unsigned g_sum;

// Out of line and with a visible effect, so no read is optimised away.
[[gnu::noinline]] unsigned read_all(std::span<const uint8_t> bytes) {
  unsigned sum = 0;
  for (const uint8_t b : bytes) sum += b;
  g_sum = sum;
  return sum;
}

struct Completed {
  std::span<const uint8_t> payload;
  std::span<const uint64_t> cookies;
  const ParsedPacket* datagram = nullptr;
};

Completed complete_one(FragmentTable& table) {
  const auto frags = v4_builder().udp_fragments(5062, 5060, sip_payload(600), 256);
  Completed c;
  for (size_t i = 0; i < frags.size(); ++i) {
    ParsedPacket p;
    EXPECT_EQ(parse_packet(frags[i], p), ParseStatus::ok);
    const auto r = table.add(p, i, 0, [](FragmentDrop, std::span<const uint64_t>) {});
    if (r.status == Status::complete) c = {r.datagram->l4_payload, r.cookies, r.datagram};
  }
  EXPECT_NE(c.datagram, nullptr);
  return c;
}

// Tables live on the heap here, as in a Pipeline: ASan unpoisons stack memory wholesale on
// some paths (no-return calls), which would hide the poisoned datagram.
TEST(FragmentTableDeathTest, ViewsOfACompletedDatagramArePoisonedAtTheNextCall) {
  const auto noop = [](FragmentDrop, std::span<const uint64_t>) {};
  const auto owned = std::make_unique<FragmentTable>();
  FragmentTable& table = *owned;
  const Completed c = complete_one(table);
  EXPECT_GT(read_all(c.payload), 0u);  // valid until the next call
  EXPECT_EQ(c.cookies.size(), 3u);
  table.expire(0, noop);
  EXPECT_DEATH(read_all(c.payload), "use-after-poison");
  EXPECT_DEATH(read_all({reinterpret_cast<const uint8_t*>(c.cookies.data()), 8}),
               "use-after-poison");
  EXPECT_DEATH(read_all({reinterpret_cast<const uint8_t*>(&c.datagram->dst_port), 2}),
               "use-after-poison");
  // The next datagram reuses the entry and the datagram; its own views are readable again.
  const Completed again = complete_one(table);
  EXPECT_GT(read_all(again.payload), 0u);
  EXPECT_EQ(again.datagram->dst_port, 5060);
}

TEST(FragmentTableDeathTest, CookiesPassedToASinkArePoisonedAfterIt) {
  const auto owned = std::make_unique<FragmentTable>();
  FragmentTable& table = *owned;
  const auto frags = v4_builder().udp_fragments(5062, 5060, sip_payload(600), 256);
  ParsedPacket p;
  ASSERT_EQ(parse_packet(frags[0], p), ParseStatus::ok);
  ASSERT_EQ(table.add(p, 7, 0, [](FragmentDrop, std::span<const uint64_t>) {}).status,
            Status::held);
  std::span<const uint64_t> kept;
  table.expire(kTimeout, [&](FragmentDrop why, std::span<const uint64_t> c) {
    EXPECT_EQ(why, FragmentDrop::timeout);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0], 7u);  // readable during the call
    kept = c;
  });
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_DEATH(read_all({reinterpret_cast<const uint8_t*>(kept.data()), 8}), "use-after-poison");
}
#else
TEST(FragmentTableDeathTest, ViewsOfACompletedDatagramArePoisonedAtTheNextCall) {
  GTEST_SKIP() << "needs an ASan build (poisoning is compiled in only there)";
}
#endif

}  // namespace
}  // namespace sipwall
