#include "packet/packet_parser.h"

#include <gtest/gtest.h>

#include <list>
#include <random>
#include <string>

#include "frame_builder.h"

namespace sipwall {
namespace {

using test::Bytes;
using test::FrameBuilder;

constexpr std::string_view kSip = "OPTIONS sip:a@example.com SIP/2.0\r\n\r\n";

std::string payload_string(const ParsedPacket& p) {
  return std::string(p.l4_payload.begin(), p.l4_payload.end());
}

// Parses a copy that stays alive until the end of the test program, so the spans in `out`
// can be inspected even when the frame was a temporary.
ParseStatus parse(Bytes frame, ParsedPacket& out) {
  static std::list<Bytes> kept;
  return parse_packet(kept.emplace_back(std::move(frame)), out);
}

// Parses an exact-size heap copy so ASan catches any read past the end.
ParseStatus parse_exact(std::span<const uint8_t> bytes, ParsedPacket& out) {
  const Bytes copy(bytes.begin(), bytes.end());
  return parse_packet(copy, out);
}

FrameBuilder v6_builder() {
  FrameBuilder b;
  b.ipv6("2001:db8::1", "2001:db8::2");
  return b;
}

TEST(PacketParser, Ipv4Udp) {
  FrameBuilder b;
  b.ttl(33);
  ParsedPacket p;
  ASSERT_EQ(parse(b.udp(5062, 5060, kSip), p), ParseStatus::ok);
  EXPECT_TRUE(p.is_ip);
  EXPECT_EQ(p.ethertype, kEtherTypeIpv4);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_EQ(p.src, *IpAddress::parse("192.0.2.1"));
  EXPECT_EQ(p.dst, *IpAddress::parse("198.51.100.2"));
  EXPECT_EQ(p.ttl, 33);
  EXPECT_EQ(p.ip_proto, kIpProtoUdp);
  EXPECT_EQ(p.l4, L4Proto::udp);
  EXPECT_EQ(p.src_port, 5062);
  EXPECT_EQ(p.dst_port, 5060);
  EXPECT_EQ(payload_string(p), kSip);
  EXPECT_EQ(p.l3_payload.size(), kSip.size() + 8);
  EXPECT_FALSE(p.frag.is_fragment);
  EXPECT_TRUE(p.fragment_data.empty());
}

TEST(PacketParser, EthernetPaddingIsIgnored) {
  FrameBuilder b;
  const Bytes frame = test::pad_to(b.udp(1, 2, "hi"), 60, 0xEE);
  ASSERT_EQ(frame.size(), 60u);
  ParsedPacket p;
  ASSERT_EQ(parse(frame, p), ParseStatus::ok);
  EXPECT_EQ(payload_string(p), "hi");

  auto v6 = v6_builder();
  const Bytes f6 = test::pad_to(v6.udp(1, 2, "x"), 120, 0xEE);
  ASSERT_EQ(parse(f6, p), ParseStatus::ok);
  EXPECT_EQ(payload_string(p), "x");
}

TEST(PacketParser, UdpPayloadIsBoundedByUdpLength) {
  FrameBuilder b;
  Bytes seg = b.udp_segment(1, 2, "abcdef");
  test::set16(seg, 4, 8 + 3);  // UDP length shorter than the IP payload
  ParsedPacket p;
  ASSERT_EQ(parse(b.frame(test::kProtoUdp, seg), p), ParseStatus::ok);
  EXPECT_EQ(payload_string(p), "abc");
}

TEST(PacketParser, Ipv4Tcp) {
  FrameBuilder b;
  const Bytes seg = b.tcp_segment(40000, 5061, test::kTcpPsh | test::kTcpAck, test::to_bytes("REG"),
                                  Bytes{2, 4, 0x05, 0xB4});  // MSS option
  ParsedPacket p;
  ASSERT_EQ(parse(b.frame(test::kProtoTcp, seg), p), ParseStatus::ok);
  EXPECT_EQ(p.l4, L4Proto::tcp);
  EXPECT_EQ(p.src_port, 40000);
  EXPECT_EQ(p.dst_port, 5061);
  EXPECT_EQ(p.tcp_flags, test::kTcpPsh | test::kTcpAck);
  EXPECT_EQ(payload_string(p), "REG");
}

TEST(PacketParser, OtherL4IsNotMalformed) {
  FrameBuilder b;
  ParsedPacket p;
  ASSERT_EQ(parse(b.frame(test::kProtoIcmp, Bytes{8, 0, 0, 0, 0, 1, 0, 1}), p), ParseStatus::ok);
  EXPECT_EQ(p.l4, L4Proto::other);
  EXPECT_EQ(p.ip_proto, test::kProtoIcmp);
  EXPECT_EQ(p.l3_payload.size(), 8u);
  EXPECT_TRUE(p.l4_payload.empty());
}

TEST(PacketParser, VlanAndQinQ) {
  struct Case {
    std::vector<std::pair<uint16_t, uint16_t>> tags;  // tpid, tci
  };
  const std::vector<Case> cases = {
      {{{0x8100, 100}}},
      {{{0x88A8, 10}}},
      {{{0x88A8, 10}, {0x8100, 20}}},
      {{{0x8100, 10}, {0x8100, 20}}},
      {{{0x8100, 10}, {0x88A8, 20}}},
  };
  for (const auto& c : cases) {
    FrameBuilder b;
    for (const auto& [tpid, tci] : c.tags) b.vlan(tci, tpid);
    ParsedPacket p;
    ASSERT_EQ(parse(b.udp(1, 5060, kSip), p), ParseStatus::ok);
    EXPECT_EQ(p.vlan_count, c.tags.size());
    for (size_t i = 0; i < c.tags.size(); ++i) EXPECT_EQ(p.vlan_tci[i], c.tags[i].second);
    EXPECT_EQ(p.l3_offset, 14 + 4 * c.tags.size());
    EXPECT_EQ(p.dst_port, 5060);
    EXPECT_EQ(payload_string(p), kSip);
  }
}

TEST(PacketParser, ThreeVlanTagsAreMalformed) {
  FrameBuilder b;
  b.vlan(1, 0x88A8).vlan(2).vlan(3);
  ParsedPacket p;
  EXPECT_EQ(parse(b.udp(1, 2, "x"), p), ParseStatus::malformed_l3);
}

TEST(PacketParser, NonIpIsTransitNotMalformed) {
  FrameBuilder b;
  b.vlan(7);
  ParsedPacket p;
  for (const uint16_t type : {0x0806, 0x88CC, 0x8863, 0x0042 /* 802.3 length */, 0x9100}) {
    ASSERT_EQ(parse(b.ethernet(type, Bytes(46, 0)), p), ParseStatus::ok) << type;
    EXPECT_FALSE(p.is_ip);
    EXPECT_EQ(p.ethertype, type);
    EXPECT_EQ(p.l4, L4Proto::none);
  }
  // Even an empty non-IP payload is fine.
  ASSERT_EQ(parse(b.ethernet(0x0806, {}), p), ParseStatus::ok);
}

TEST(PacketParser, ReusedOutputIsFullyReset) {
  auto b = v6_builder();
  b.vlan(3).vlan(4);
  ParsedPacket p;
  ASSERT_EQ(parse(b.fragment(kIpProtoTcp, b.tcp_segment(1, 2, 0x12, "abcd"), 0, true), p),
            ParseStatus::ok);
  ASSERT_TRUE(p.frag.is_fragment);
  FrameBuilder plain;
  ASSERT_EQ(parse(plain.ethernet(0x0806, Bytes(28, 0)), p), ParseStatus::ok);
  const ParsedPacket empty{};
  EXPECT_EQ(p.ethertype, 0x0806);
  EXPECT_EQ(p.vlan_count, 0);
  EXPECT_EQ(p.vlan_tci, empty.vlan_tci);
  EXPECT_EQ(p.l3_offset, 14);
  EXPECT_FALSE(p.is_ip);
  EXPECT_EQ(p.src, empty.src);
  EXPECT_EQ(p.dst, empty.dst);
  EXPECT_EQ(p.ttl, 0);
  EXPECT_EQ(p.ip_proto, 0);
  EXPECT_EQ(p.l4, L4Proto::none);
  EXPECT_EQ(p.src_port + p.dst_port + p.tcp_flags, 0);
  EXPECT_TRUE(p.l3_payload.empty() && p.l4_payload.empty() && p.fragment_data.empty());
  EXPECT_FALSE(p.frag.is_fragment || p.frag.more || p.frag.headers_complete);
  EXPECT_EQ(p.frag.id + p.frag.offset + p.frag.next_header, 0u);
}

TEST(PacketParser, Ipv4Options) {
  for (size_t opt_len : {4u, 8u, 20u, 40u}) {
    FrameBuilder b;
    Bytes options(opt_len, 1);  // NOPs
    options.back() = 0;         // end of list
    b.ipv4_options(options);
    ParsedPacket p;
    ASSERT_EQ(parse(b.udp(1, 5060, kSip), p), ParseStatus::ok) << opt_len;
    EXPECT_EQ(payload_string(p), kSip);
  }
}

TEST(PacketParser, Ipv4HeaderErrorsAreMalformedL3) {
  FrameBuilder b;
  const Bytes good = b.udp(1, 2, "payload");
  const size_t l3 = b.l3_offset();
  ParsedPacket p;
  auto with = [&](auto mutate) {
    Bytes f = good;
    mutate(f);
    return parse(f, p);
  };
  EXPECT_EQ(with([&](Bytes& f) { f[l3] = 0x35; }), ParseStatus::malformed_l3);  // version 3
  EXPECT_EQ(with([&](Bytes& f) { f[l3] = 0x44; }), ParseStatus::malformed_l3);  // IHL 4
  EXPECT_EQ(with([&](Bytes& f) { f[l3] = 0x4F; }), ParseStatus::malformed_l3);  // options > len
  EXPECT_EQ(with([&](Bytes& f) { test::set16(f, l3 + 2, 19); }), ParseStatus::malformed_l3);
  EXPECT_EQ(
      with([&](Bytes& f) { test::set16(f, l3 + 2, static_cast<uint16_t>(f.size() - l3 + 1)); }),
      ParseStatus::malformed_l3);
  // Total length shorter than the frame just trims (padding); the UDP length then overflows.
  EXPECT_EQ(with([&](Bytes& f) { test::set16(f, l3 + 2, 20 + 8); }), ParseStatus::malformed_l4);
}

TEST(PacketParser, UdpAndTcpErrorsAreMalformedL4) {
  FrameBuilder b;
  ParsedPacket p;
  Bytes udp = b.udp_segment(1, 2, "abc");
  test::set16(udp, 4, 7);
  EXPECT_EQ(parse(b.frame(test::kProtoUdp, udp), p), ParseStatus::malformed_l4);
  test::set16(udp, 4, static_cast<uint16_t>(udp.size() + 1));
  EXPECT_EQ(parse(b.frame(test::kProtoUdp, udp), p), ParseStatus::malformed_l4);
  test::set16(udp, 4, 0);
  EXPECT_EQ(parse(b.frame(test::kProtoUdp, udp), p), ParseStatus::malformed_l4);

  Bytes tcp = b.tcp_segment(1, 2, test::kTcpSyn, "");
  tcp[12] = 4 << 4;  // data offset 4
  EXPECT_EQ(parse(b.frame(test::kProtoTcp, tcp), p), ParseStatus::malformed_l4);
  tcp[12] = 6 << 4;  // 24-byte header in a 20-byte segment
  EXPECT_EQ(parse(b.frame(test::kProtoTcp, tcp), p), ParseStatus::malformed_l4);
  tcp[12] = 5 << 4;
  EXPECT_EQ(parse(b.frame(test::kProtoTcp, tcp), p), ParseStatus::ok);
  EXPECT_EQ(p.tcp_flags, test::kTcpSyn);
}

TEST(PacketParser, Ipv6UdpAndTcp) {
  auto b = v6_builder();
  b.ttl(7);
  ParsedPacket p;
  ASSERT_EQ(parse(b.udp(5060, 5070, kSip), p), ParseStatus::ok);
  EXPECT_EQ(p.ethertype, kEtherTypeIpv6);
  EXPECT_EQ(p.src, *IpAddress::parse("2001:db8::1"));
  EXPECT_EQ(p.dst, *IpAddress::parse("2001:db8::2"));
  EXPECT_EQ(p.ttl, 7);
  EXPECT_EQ(p.l4, L4Proto::udp);
  EXPECT_EQ(p.dst_port, 5070);
  EXPECT_EQ(payload_string(p), kSip);
  ASSERT_EQ(parse(b.tcp(5061, 5061, test::kTcpAck, "data"), p), ParseStatus::ok);
  EXPECT_EQ(p.l4, L4Proto::tcp);
  EXPECT_EQ(payload_string(p), "data");
}

TEST(PacketParser, Ipv6ExtensionChain) {
  auto b = v6_builder();
  b.ipv6_ext(test::hop_by_hop_ext(8))
      .ipv6_ext(test::dest_options_ext(16))
      .ipv6_ext(test::routing_ext(24))
      .ipv6_ext(test::dest_options_ext(8));
  ParsedPacket p;
  ASSERT_EQ(parse(b.udp(1, 5060, kSip), p), ParseStatus::ok);
  EXPECT_EQ(p.ip_proto, kIpProtoUdp);
  EXPECT_EQ(p.dst_port, 5060);
  EXPECT_EQ(payload_string(p), kSip);
}

TEST(PacketParser, Ipv6ChainLimits) {
  ParsedPacket p;
  {
    auto b = v6_builder();
    for (unsigned i = 0; i < kMaxIpv6ExtensionHeaders; ++i) b.ipv6_ext(test::dest_options_ext());
    EXPECT_EQ(parse(b.udp(1, 2, "x"), p), ParseStatus::ok);
    b.ipv6_ext(test::dest_options_ext());
    EXPECT_EQ(parse(b.udp(1, 2, "x"), p), ParseStatus::malformed_l3) << "chain too long";
  }
  {
    auto b = v6_builder();
    b.ipv6_ext(test::dest_options_ext()).ipv6_ext(test::hop_by_hop_ext());
    EXPECT_EQ(parse(b.udp(1, 2, "x"), p), ParseStatus::malformed_l3) << "hop-by-hop not first";
  }
  {
    auto b = v6_builder();
    b.ipv6_ext(test::dest_options_ext());
    Bytes f = b.udp(1, 2, "x");
    f[b.l3_offset() + 40 + 1] = 10;  // header length 88 > payload
    EXPECT_EQ(parse(f, p), ParseStatus::malformed_l3);
  }
}

TEST(PacketParser, Ipv6StopsAtEspAndNoNextHeader) {
  auto b = v6_builder();
  b.ipv6_ext(test::dest_options_ext());
  ParsedPacket p;
  ASSERT_EQ(parse(b.frame(test::kProtoEsp, Bytes(32, 0xAB)), p), ParseStatus::ok);
  EXPECT_EQ(p.l4, L4Proto::other);
  EXPECT_EQ(p.ip_proto, test::kProtoEsp);
  EXPECT_EQ(p.l3_payload.size(), 32u);
  ASSERT_EQ(parse(b.frame(test::kIpv6NoNext, {}), p), ParseStatus::ok);
  EXPECT_EQ(p.l4, L4Proto::other);
  EXPECT_EQ(p.ip_proto, test::kIpv6NoNext);
}

TEST(PacketParser, Ipv6HeaderErrorsAreMalformedL3) {
  auto b = v6_builder();
  const Bytes good = b.udp(1, 2, "abc");
  const size_t l3 = b.l3_offset();
  ParsedPacket p;
  Bytes f = good;
  f[l3] = 0x40;
  EXPECT_EQ(parse(f, p), ParseStatus::malformed_l3) << "version";
  f = good;
  test::set16(f, l3 + 4, 0);
  EXPECT_EQ(parse(f, p), ParseStatus::malformed_l3) << "jumbogram";
  f = good;
  test::set16(f, l3 + 4, static_cast<uint16_t>(f.size() - l3 - 40 + 1));
  EXPECT_EQ(parse(f, p), ParseStatus::malformed_l3) << "payload length past the frame";
}

TEST(PacketParser, Ipv6AtomicFragmentIsAWholePacket) {
  auto b = v6_builder();
  const Bytes seg = b.udp_segment(1, 5060, kSip);
  const Bytes f = b.fragment(test::kProtoUdp, seg, 0, false);
  ParsedPacket p;
  ASSERT_EQ(parse(f, p), ParseStatus::ok);
  EXPECT_FALSE(p.frag.is_fragment);
  EXPECT_EQ(p.l4, L4Proto::udp);
  EXPECT_EQ(payload_string(p), kSip);
}

TEST(PacketParser, Ipv4Fragments) {
  FrameBuilder b;
  b.ip_id(0xBEEF);
  const auto frags = b.udp_fragments(5070, 5060, test::to_bytes(std::string(100, 'a')), 48);
  ASSERT_EQ(frags.size(), 3u);  // 108 bytes: 48 + 48 + 12
  ParsedPacket p;
  ASSERT_EQ(parse(frags[0], p), ParseStatus::ok);
  EXPECT_TRUE(p.frag.is_fragment);
  EXPECT_EQ(p.frag.id, 0xBEEFu);
  EXPECT_EQ(p.frag.offset, 0u);
  EXPECT_TRUE(p.frag.more);
  EXPECT_EQ(p.frag.next_header, kIpProtoUdp);
  EXPECT_TRUE(p.frag.headers_complete);
  EXPECT_EQ(p.l4, L4Proto::udp);
  EXPECT_EQ(p.src_port, 5070);
  EXPECT_EQ(p.dst_port, 5060);
  EXPECT_TRUE(p.l4_payload.empty());
  EXPECT_EQ(p.fragment_data.size(), 48u);

  ASSERT_EQ(parse(frags[2], p), ParseStatus::ok);
  EXPECT_TRUE(p.frag.is_fragment);
  EXPECT_EQ(p.frag.offset, 96u);
  EXPECT_FALSE(p.frag.more);
  EXPECT_EQ(p.l4, L4Proto::none);
  EXPECT_EQ(p.src_port, 0);
  EXPECT_EQ(p.ip_proto, kIpProtoUdp);
  EXPECT_EQ(p.fragment_data.size(), 12u);
}

TEST(PacketParser, FragmentLengthRules) {
  for (const bool v6 : {false, true}) {
    FrameBuilder b = v6 ? v6_builder() : FrameBuilder{};
    ParsedPacket p;
    // A non-last fragment must carry a non-zero multiple of 8 bytes.
    EXPECT_EQ(parse(b.fragment(kIpProtoUdp, Bytes(12, 1), 0, true), p), ParseStatus::malformed_l3);
    EXPECT_EQ(parse(b.fragment(kIpProtoUdp, {}, 8, true), p), ParseStatus::malformed_l3);
    // Past 65535 bytes.
    EXPECT_EQ(parse(b.fragment(kIpProtoUdp, Bytes(16, 1), 65528, false), p),
              ParseStatus::malformed_l3);
    // A tiny first fragment is not malformed by itself; reassembly refuses it.
    ASSERT_EQ(parse(b.fragment(kIpProtoTcp, Bytes(8, 1), 0, true), p), ParseStatus::ok);
    EXPECT_FALSE(p.frag.headers_complete);
    EXPECT_EQ(p.l4, L4Proto::none);
    EXPECT_EQ(p.ip_proto, kIpProtoTcp);
  }
}

TEST(PacketParser, Ipv6Fragments) {
  auto b = v6_builder();
  b.ip_id(0xA1B2C3D4).ipv6_ext(test::hop_by_hop_ext());
  const auto frags = b.udp_fragments(5060, 5080, test::to_bytes(std::string(60, 'x')), 32);
  ASSERT_EQ(frags.size(), 3u);
  ParsedPacket p;
  ASSERT_EQ(parse(frags[0], p), ParseStatus::ok);
  EXPECT_TRUE(p.frag.is_fragment);
  EXPECT_EQ(p.frag.id, 0xA1B2C3D4u);
  EXPECT_TRUE(p.frag.headers_complete);
  EXPECT_EQ(p.dst_port, 5080);
  ASSERT_EQ(parse(frags[1], p), ParseStatus::ok);
  EXPECT_EQ(p.frag.offset, 32u);
  EXPECT_TRUE(p.frag.more);
  EXPECT_EQ(p.fragment_data.size(), 32u);

  // Destination options in the fragmentable part are walked for the first fragment.
  Bytes l4 = test::ipv6_ext_bytes(test::dest_options_ext(16), kIpProtoUdp);
  test::append(l4, b.udp_segment(1, 5060, "abc"));
  ASSERT_EQ(parse(b.fragment(test::kIpv6DestOptions, l4, 0, true), p), ParseStatus::malformed_l3)
      << "27 bytes is not a multiple of 8";
  l4.resize(24);  // options (16) + UDP header (8)
  ASSERT_EQ(parse(b.fragment(test::kIpv6DestOptions, l4, 0, true), p), ParseStatus::ok);
  EXPECT_TRUE(p.frag.headers_complete);
  EXPECT_EQ(p.ip_proto, kIpProtoUdp);
  EXPECT_EQ(p.frag.next_header, test::kIpv6DestOptions);
  l4.resize(16);  // UDP header in the next fragment: RFC 7112 violation
  ASSERT_EQ(parse(b.fragment(test::kIpv6DestOptions, l4, 0, true), p), ParseStatus::ok);
  EXPECT_FALSE(p.frag.headers_complete);
  EXPECT_EQ(p.ip_proto, test::kIpv6DestOptions);
}

TEST(PacketParser, NestedIpv6FragmentHeaderIsMalformed) {
  auto b = v6_builder();
  b.ipv6_ext(test::fragment_ext(0, false, 1));  // atomic fragment...
  ParsedPacket p;
  // ...followed by a real fragment header.
  EXPECT_EQ(parse(b.fragment(kIpProtoUdp, Bytes(16, 0), 0, true), p), ParseStatus::malformed_l3);
}

// Every prefix of a valid frame is refused as malformed_l3 (the IP length covers it all) and
// never read past its end.
TEST(PacketParser, TruncationAtEveryOffset) {
  std::vector<Bytes> frames;
  {
    FrameBuilder b;
    frames.push_back(b.udp(1, 5060, kSip));
    b.vlan(5, 0x88A8).vlan(6).ipv4_options(Bytes{7, 7, 4, 0, 0, 0, 0});
    frames.push_back(b.tcp(1, 5060, test::kTcpAck, kSip));
    frames.push_back(b.fragment(kIpProtoUdp, Bytes(24, 3), 0, true));
  }
  {
    auto b = v6_builder();
    b.vlan(9).ipv6_ext(test::hop_by_hop_ext()).ipv6_ext(test::routing_ext(16));
    frames.push_back(b.udp(1, 5060, kSip));
    frames.push_back(b.fragment(kIpProtoUdp, Bytes(24, 3), 8, true));
  }
  for (const Bytes& frame : frames) {
    ParsedPacket p;
    ASSERT_EQ(parse_exact(frame, p), ParseStatus::ok);
    for (size_t n = 0; n < frame.size(); ++n) {
      EXPECT_EQ(parse_exact(std::span(frame).first(n), p), ParseStatus::malformed_l3) << n;
    }
  }
}

// With consistent IP lengths, every cut inside the UDP segment is malformed_l4; TCP only until
// its header is complete (TCP has no length field).
TEST(PacketParser, L4TruncationAtEveryOffset) {
  for (const bool v6 : {false, true}) {
    FrameBuilder b = v6 ? v6_builder() : FrameBuilder{};
    const Bytes udp = b.udp_segment(1, 5060, kSip);
    const Bytes tcp = b.tcp_segment(1, 5060, test::kTcpAck, test::to_bytes(kSip), Bytes(8, 1));
    ParsedPacket p;
    for (size_t n = 0; n < udp.size(); ++n) {
      const Bytes cut(udp.begin(), udp.begin() + static_cast<long>(n));
      // An empty IPv6 payload reads as a jumbogram, which is an L3 error.
      EXPECT_EQ(parse_exact(b.frame(kIpProtoUdp, cut), p),
                v6 && n == 0 ? ParseStatus::malformed_l3 : ParseStatus::malformed_l4)
          << n;
    }
    for (size_t n = 0; n <= tcp.size(); ++n) {
      const Bytes cut(tcp.begin(), tcp.begin() + static_cast<long>(n));
      EXPECT_EQ(parse_exact(b.frame(kIpProtoTcp, cut), p), v6 && n == 0 ? ParseStatus::malformed_l3
                                                           : n < 28     ? ParseStatus::malformed_l4
                                                                        : ParseStatus::ok)
          << n;
    }
  }
}

// Random corruption of valid frames: any status is fine, but parsing must stay in bounds and
// the spans must lie inside the frame.
TEST(PacketParser, RandomCorruptionStaysInBounds) {
  std::mt19937 rng(12345);
  FrameBuilder v4;
  v4.vlan(3);
  auto v6 = v6_builder();
  v6.ipv6_ext(test::hop_by_hop_ext()).ipv6_ext(test::dest_options_ext(16));
  const std::vector<Bytes> seeds = {v4.udp(1, 5060, kSip), v4.tcp(1, 5060, 0x18, kSip),
                                    v6.udp(1, 5060, kSip),
                                    v6.fragment(kIpProtoUdp, Bytes(40, 1), 0, true)};
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes f = seeds[rng() % seeds.size()];
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) f[rng() % f.size()] = static_cast<uint8_t>(rng());
    f.resize(rng() % (f.size() + 1));
    const Bytes copy = f;
    ParsedPacket p;
    if (parse_packet(copy, p) != ParseStatus::ok) continue;
    const auto inside = [&](std::span<const uint8_t> s) {
      return s.empty() ||
             (s.data() >= copy.data() && s.data() + s.size() <= copy.data() + copy.size());
    };
    EXPECT_TRUE(inside(p.l4_payload));
    EXPECT_TRUE(inside(p.l3_payload));
    EXPECT_TRUE(inside(p.fragment_data));
  }
}

}  // namespace
}  // namespace sipwall
