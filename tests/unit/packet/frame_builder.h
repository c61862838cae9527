#pragma once

// Test helper: builds Ethernet frames (VLAN tags, IPv4 with options, IPv6 with extension
// headers, UDP, TCP) with correct lengths and checksums, and fragments datagrams into IPv4 or
// IPv6 fragments. Header-only so any test can include it.
//
//   FrameBuilder b;
//   b.ipv4("192.0.2.1", "192.0.2.2").vlan(100);
//   Bytes frame = b.udp(5060, 5060, "INVITE ...");
//   std::vector<Bytes> frags = b.udp_fragments(5060, 5060, big_sdp_message, 512);

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "common/ip_address.h"

namespace sipwall::test {

using Bytes = std::vector<uint8_t>;

inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoUdp = 17;
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoEsp = 50;
inline constexpr uint8_t kIpv6HopByHop = 0;
inline constexpr uint8_t kIpv6Routing = 43;
inline constexpr uint8_t kIpv6Fragment = 44;
inline constexpr uint8_t kIpv6NoNext = 59;
inline constexpr uint8_t kIpv6DestOptions = 60;

inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08,
                         kTcpAck = 0x10;

inline Bytes to_bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

inline void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}
inline void put32(Bytes& b, uint32_t v) {
  put16(b, static_cast<uint16_t>(v >> 16));
  put16(b, static_cast<uint16_t>(v));
}
inline void set16(Bytes& b, size_t at, uint16_t v) {
  b.at(at) = static_cast<uint8_t>(v >> 8);
  b.at(at + 1) = static_cast<uint8_t>(v);
}
inline void append(Bytes& b, std::span<const uint8_t> tail) {
  b.insert(b.end(), tail.begin(), tail.end());
}

// One's-complement sum (RFC 1071), not yet inverted.
inline uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data) {
  for (size_t i = 0; i + 1 < data.size(); i += 2) sum += uint32_t{data[i]} << 8 | data[i + 1];
  if (data.size() % 2 != 0) sum += uint32_t{data.back()} << 8;
  return sum;
}
inline uint16_t checksum_finish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}
inline uint16_t internet_checksum(std::span<const uint8_t> data) {
  return checksum_finish(checksum_add(0, data));
}

// Ethernet minimum frame (without FCS) is 60 bytes; the rest is padding the parser must ignore.
inline Bytes pad_to(Bytes frame, size_t size = 60, uint8_t fill = 0) {
  if (frame.size() < size) frame.resize(size, fill);
  return frame;
}

// An IPv6 extension header: `type` is this header's protocol number; `body` is everything after
// the next-header and length bytes. Generic headers are zero-padded to a multiple of 8.
struct Ipv6Ext {
  uint8_t type = kIpv6DestOptions;
  Bytes body;
};
// Options headers padded with PadN; total_len is a multiple of 8 (>= 8).
inline Ipv6Ext ipv6_options_ext(uint8_t type, size_t total_len = 8) {
  Ipv6Ext e{type, Bytes(total_len - 2, 0)};
  e.body[0] = 1;  // PadN
  e.body[1] = static_cast<uint8_t>(total_len - 4);
  return e;
}
inline Ipv6Ext hop_by_hop_ext(size_t total_len = 8) {
  return ipv6_options_ext(kIpv6HopByHop, total_len);
}
inline Ipv6Ext dest_options_ext(size_t total_len = 8) {
  return ipv6_options_ext(kIpv6DestOptions, total_len);
}
// Routing header with segments left 0 (type 4, segment routing, no segments).
inline Ipv6Ext routing_ext(size_t total_len = 8) {
  Ipv6Ext e{kIpv6Routing, Bytes(total_len - 2, 0)};
  e.body[0] = 4;
  return e;
}
inline Ipv6Ext fragment_ext(uint32_t offset, bool more, uint32_t id) {
  Bytes body;  // after next header + reserved: offset/flags, identification
  put16(body, static_cast<uint16_t>((offset & 0xFFF8u) | (more ? 1 : 0)));
  put32(body, id);
  return {kIpv6Fragment, body};
}
// The wire bytes of one extension header followed by `next_header`.
inline Bytes ipv6_ext_bytes(const Ipv6Ext& e, uint8_t next_header) {
  Bytes out{next_header, 0};
  append(out, e.body);
  if (e.type != kIpv6Fragment) {
    out.resize((out.size() + 7) / 8 * 8, 0);
    out[1] = static_cast<uint8_t>(out.size() / 8 - 1);
  }
  return out;
}

class FrameBuilder {
 public:
  static constexpr uint16_t kVlan = 0x8100;
  static constexpr uint16_t kQinQ = 0x88A8;

  FrameBuilder() { ipv4("192.0.2.1", "198.51.100.2"); }

  // L2: destination and source MAC addresses (default 02:00:00:00:00:02 and ..:01).
  FrameBuilder& macs(std::array<uint8_t, 6> dst, std::array<uint8_t, 6> src) {
    dst_mac_ = dst;
    src_mac_ = src;
    return *this;
  }
  // L2: tags are added outermost first.
  FrameBuilder& vlan(uint16_t tci, uint16_t tpid = kVlan) {
    vlans_.emplace_back(tpid, tci);
    return *this;
  }
  FrameBuilder& ipv4(std::string_view src, std::string_view dst) {
    return addresses(src, dst, IpFamily::v4);
  }
  FrameBuilder& ipv6(std::string_view src, std::string_view dst) {
    return addresses(src, dst, IpFamily::v6);
  }
  // IPv4 options, zero-padded (end of options list) to a multiple of 4.
  FrameBuilder& ipv4_options(Bytes options) {
    options.resize((options.size() + 3) / 4 * 4, 0);
    v4_options_ = std::move(options);
    return *this;
  }
  // IPv6 extension headers of the unfragmentable part (before any fragment header).
  FrameBuilder& ipv6_ext(Ipv6Ext ext) {
    v6_exts_.push_back(std::move(ext));
    return *this;
  }
  FrameBuilder& ip_id(uint32_t id) {
    id_ = id;
    return *this;
  }
  FrameBuilder& ttl(uint8_t ttl) {
    ttl_ = ttl;
    return *this;
  }
  FrameBuilder& dont_fragment(bool df) {
    df_ = df;
    return *this;
  }

  const IpAddress& src() const { return src_; }
  const IpAddress& dst() const { return dst_; }
  size_t l3_offset() const { return 14 + 4 * vlans_.size(); }

  // L4 segments with checksums over this builder's addresses.
  Bytes udp_segment(uint16_t sport, uint16_t dport, std::span<const uint8_t> payload) const {
    Bytes s;
    put16(s, sport);
    put16(s, dport);
    put16(s, static_cast<uint16_t>(8 + payload.size()));
    put16(s, 0);
    append(s, payload);
    uint16_t sum = l4_checksum(kProtoUdp, s);
    set16(s, 6, sum == 0 ? 0xFFFF : sum);
    return s;
  }
  Bytes udp_segment(uint16_t sport, uint16_t dport, std::string_view payload) const {
    return udp_segment(sport, dport, to_bytes(payload));
  }
  Bytes tcp_segment(uint16_t sport, uint16_t dport, uint8_t flags, std::span<const uint8_t> payload,
                    Bytes options = {}, uint32_t seq = 1000, uint32_t ack = 0) const {
    options.resize((options.size() + 3) / 4 * 4, 1);  // NOP padding
    Bytes s;
    put16(s, sport);
    put16(s, dport);
    put32(s, seq);
    put32(s, ack);
    s.push_back(static_cast<uint8_t>(((20 + options.size()) / 4) << 4));
    s.push_back(flags);
    put16(s, 65535);  // window
    put16(s, 0);      // checksum
    put16(s, 0);      // urgent pointer
    append(s, options);
    append(s, payload);
    set16(s, 16, l4_checksum(kProtoTcp, s));
    return s;
  }
  Bytes tcp_segment(uint16_t sport, uint16_t dport, uint8_t flags, std::string_view payload) const {
    return tcp_segment(sport, dport, flags, to_bytes(payload));
  }

  // Whole frames.
  Bytes ethernet(uint16_t ethertype, std::span<const uint8_t> payload) const {
    Bytes f(dst_mac_.begin(), dst_mac_.end());
    f.insert(f.end(), src_mac_.begin(), src_mac_.end());
    for (const auto& [tpid, tci] : vlans_) {
      put16(f, tpid);
      put16(f, tci);
    }
    put16(f, ethertype);
    append(f, payload);
    return f;
  }
  // An unfragmented IP packet carrying `l4` (any protocol) in a frame.
  Bytes frame(uint8_t proto, std::span<const uint8_t> l4) const {
    return src_.is_v4() ? ethernet(0x0800, ipv4_packet(proto, l4, 0, false))
                        : ethernet(0x86DD, ipv6_packet(proto, l4, nullptr));
  }
  Bytes udp(uint16_t sport, uint16_t dport, std::string_view payload) const {
    return frame(kProtoUdp, udp_segment(sport, dport, payload));
  }
  Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, std::string_view payload) const {
    return frame(kProtoTcp, tcp_segment(sport, dport, flags, payload));
  }

  // One fragment carrying `piece` at byte `offset` of the fragmentable part (`proto` is the
  // IPv4 protocol / IPv6 fragment header next header). No checks, so tests can build bad ones.
  Bytes fragment(uint8_t proto, std::span<const uint8_t> piece, uint32_t offset, bool more) const {
    if (src_.is_v4()) return ethernet(0x0800, ipv4_packet(proto, piece, offset, more));
    const Ipv6Ext frag = fragment_ext(offset, more, id_);
    return ethernet(0x86DD, ipv6_packet(proto, piece, &frag));
  }
  // Splits `l4` into fragments carrying `fragment_size` bytes each (rounded down to a multiple
  // of 8; the last one carries the rest), in order.
  std::vector<Bytes> fragments(uint8_t proto, std::span<const uint8_t> l4,
                               size_t fragment_size) const {
    fragment_size = fragment_size / 8 * 8;
    if (fragment_size == 0) throw std::invalid_argument("fragment_size < 8");
    std::vector<Bytes> out;
    for (size_t off = 0; off < l4.size(); off += fragment_size) {
      const size_t n = std::min(fragment_size, l4.size() - off);
      out.push_back(
          fragment(proto, l4.subspan(off, n), static_cast<uint32_t>(off), off + n < l4.size()));
    }
    return out;
  }
  std::vector<Bytes> udp_fragments(uint16_t sport, uint16_t dport, std::span<const uint8_t> payload,
                                   size_t fragment_size) const {
    return fragments(kProtoUdp, udp_segment(sport, dport, payload), fragment_size);
  }

  // Raw L3 packets (no Ethernet header).
  Bytes ipv4_packet(uint8_t proto, std::span<const uint8_t> payload, uint32_t frag_offset,
                    bool more) const {
    const size_t ihl = 20 + v4_options_.size();
    Bytes p;
    p.push_back(static_cast<uint8_t>(0x40 | (ihl / 4)));
    p.push_back(0);  // DSCP/ECN
    put16(p, static_cast<uint16_t>(ihl + payload.size()));
    put16(p, static_cast<uint16_t>(id_));
    put16(p, static_cast<uint16_t>((df_ ? 0x4000 : 0) | (more ? 0x2000 : 0) |
                                   ((frag_offset / 8) & 0x1FFF)));
    p.push_back(ttl_);
    p.push_back(proto);
    put16(p, 0);
    append(p, std::span<const uint8_t>(src_.bytes.data(), 4));
    append(p, std::span<const uint8_t>(dst_.bytes.data(), 4));
    append(p, v4_options_);
    set16(p, 10, internet_checksum(p));
    append(p, payload);
    return p;
  }
  // `fragment` (if set) goes after the configured extension headers.
  Bytes ipv6_packet(uint8_t proto, std::span<const uint8_t> payload,
                    const Ipv6Ext* fragment) const {
    std::vector<const Ipv6Ext*> chain;
    for (const auto& e : v6_exts_) chain.push_back(&e);
    if (fragment != nullptr) chain.push_back(fragment);
    Bytes exts;
    for (size_t i = 0; i < chain.size(); ++i) {
      append(exts, ipv6_ext_bytes(*chain[i], i + 1 < chain.size() ? chain[i + 1]->type : proto));
    }
    Bytes p = {0x60, 0, 0, 0};
    put16(p, static_cast<uint16_t>(exts.size() + payload.size()));
    p.push_back(chain.empty() ? proto : chain[0]->type);
    p.push_back(ttl_);
    append(p, src_.bytes);
    append(p, dst_.bytes);
    append(p, exts);
    append(p, payload);
    return p;
  }

 private:
  FrameBuilder& addresses(std::string_view src, std::string_view dst, IpFamily family) {
    const auto s = IpAddress::parse(src);
    const auto d = IpAddress::parse(dst);
    if (!s || !d || s->family != family || d->family != family) {
      throw std::invalid_argument("bad test address");
    }
    src_ = *s;
    dst_ = *d;
    return *this;
  }
  // Checksum over the pseudo-header (RFC 768 / RFC 8200 8.1) and the segment.
  uint16_t l4_checksum(uint8_t proto, std::span<const uint8_t> segment) const {
    const size_t alen = src_.is_v4() ? 4 : 16;
    uint32_t sum = checksum_add(0, std::span<const uint8_t>(src_.bytes.data(), alen));
    sum = checksum_add(sum, std::span<const uint8_t>(dst_.bytes.data(), alen));
    sum += proto;
    sum += static_cast<uint32_t>(segment.size() & 0xFFFF) +
           static_cast<uint32_t>(segment.size() >> 16);
    return checksum_finish(checksum_add(sum, segment));
  }

  std::vector<std::pair<uint16_t, uint16_t>> vlans_;
  IpAddress src_, dst_;
  Bytes v4_options_;
  std::array<uint8_t, 6> dst_mac_{0x02, 0, 0, 0, 0, 0x02};
  std::array<uint8_t, 6> src_mac_{0x02, 0, 0, 0, 0, 0x01};
  std::vector<Ipv6Ext> v6_exts_;
  uint32_t id_ = 0x1234;
  uint8_t ttl_ = 64;
  bool df_ = false;
};

}  // namespace sipwall::test
