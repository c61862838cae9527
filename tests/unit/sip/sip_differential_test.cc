// Differential tests: the optimised validator (SIMD class scans, bitmask fast paths) against
// the frozen byte-loop implementation in reference/ over the corpus, thousands of mutated
// messages and random header values. Every SipError and every SipMessage view (offset and
// size) must be identical. Also runs every scanned span at every length 0..80 flush against the
// end of an exactly-sized heap buffer, so ASan sees any SIMD read past the datagram.

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "reference/sip_header_values.h"
#include "reference/sip_uri.h"
#include "reference/sip_validator.h"
#include "sip/sip_header_values.h"
#include "sip/sip_uri.h"
#include "sip/sip_validator.h"
#include "sip_corpus.h"
#include "sip_pair.h"

namespace sipwall {
namespace {

using test::Buf;
using test::compare;
using test::Pair;
using test::show;

std::vector<Pair*> pairs() {
  static Pair strict(SipProfile::strict);
  static Pair liberal(SipProfile::liberal);
  static Pair tight(SipProfile::strict, SipLimits{.max_message_bytes = 900,
                                                  .max_header_lines = 12,
                                                  .max_header_line_bytes = 60,
                                                  .max_via_values = 2});
  return {&strict, &liberal, &tight};
}

// Checks `msg` with every validator pair; counts failures into `failures` (reports the first few).
void check_all(std::string_view msg, size_t& failures, size_t& runs) {
  for (Pair* p : pairs()) {
    ++runs;
    const std::string d = compare(*p, msg);
    if (!d.empty() && ++failures <= 10) {
      ADD_FAILURE() << d << " for profile "
                    << (p->fast.config().profile == SipProfile::strict ? "strict" : "liberal")
                    << ": " << show(msg);
    }
  }
}

// Short messages built around the fast-path shapes (simple Via, <sip:...>;tag= name-addrs).
// The last ones sit on the edges where a fast path hands over to the full parser: scheme case,
// '@' and ':' in the userinfo, ports, '=' in URI parameters, escapes, '?', IPv6 hosts, trailing
// dots, quoted display names, LWS around separators.
std::vector<std::string> shaped_messages() {
  return {
      "OPTIONS sip:a.example.com SIP/2.0\r\nVia: SIP/2.0/UDP h.example.com;branch=z9hG4bK1\r\n"
      "From: <sip:a@b.example.com>;tag=x\r\nTo: sip:b@c.example.com\r\nCall-ID: 1@h\r\n"
      "CSeq: 2 OPTIONS\r\nContact: <sip:a@[2001:db8::1]:5060>;expires=30\r\n\r\n",
      "SIP/2.0 200 OK\r\nv: SIP/2.0/TCP 10.0.0.1:5061;received=10.0.0.2;rport=5070,"
      "SIP/2.0/UDP [2001:db8::9]\r\nf: \"A\" <sips:x@y.example>;tag=1\r\nt: B <sip:y@z.example>\r\n"
      "i: abc\r\nCSeq: 9 INVITE\r\nm: *\r\nl: 0\r\n\r\n",
      "REGISTER sip:reg.example.com SIP/2.0\r\nVia: SIP/2.0/UDP 255.255.255.255\r\n"
      "From: <sip:u@reg.example.com>;tag=a\r\nTo: <sip:u@reg.example.com>\r\nCall-ID: q\r\n"
      "CSeq: 1 REGISTER\r\nContact: <sip:u@1.2.3.4;transport=tcp?h=v>;q=0.5,<tel:+1234>\r\n\r\n",
      "INVITE SIPS:u@h.example.com.:65535;a=b;c SIP/2.0\r\n"
      "Via: sip/2.0/udp 1.2.3.4:5060;branch=z9hG4bK1;rport;received=10.0.0.2\r\n"
      "From: \"A \\\"B\" <sip:u:pw@h.example.com;x=%41>;tag=1;y\r\n"
      "To: \"\"  <sips:h-1.example.com:1;maddr=2001:db8::1;lr>\r\nCall-ID: c@d\r\n"
      "CSeq: 3 INVITE\r\nContact: <sip:h.example.com>, \"x\" <sip:a@b.c;p=1>\r\n\r\n",
      "REGISTER sip:1.2.3.4:5060;transport=udp SIP/2.0\r\n"
      "Via: SIP/2.0/TLS a.b.c;branch=\"q\" , SIP/2.0/UDP a.b;x=y\r\n"
      "From: <sip:u@a.b.c>\t;tag=1\r\nTo: <sip:u@a.b.c;x> ;y=1\r\nCall-ID: c\r\n"
      "CSeq: 3 REGISTER\r\nContact: < sip:u@a.b.c >;expires=1\r\n\r\n",
      "OPTIONS sip:u@[::1]:5060 SIP/2.0\r\nVia: SIP/2.0/UDP  h.example.com:0;a=[::1]\r\n"
      "From: x <sip:u@a.b.c?h=v>;tag=1\r\nTo: <sip:u@a.b.c;x=y;z>\r\nCall-ID: c\r\n"
      "CSeq: 3 OPTIONS\r\nContact: <sip:u@a.b.c:65536>\r\n\r\n",
  };
}

std::vector<std::string> base_messages() {
  std::vector<std::string> out = {testing::typical_invite()};
  for (auto& s : shaped_messages()) out.push_back(s);
  for (const char* set : {"rfc4475", "rfc5118"}) {
    for (const auto& e : testing::load_manifest(set)) out.push_back(testing::load_message(e));
  }
  return out;
}

// Bytes that matter to the grammar, plus a few that matter to no class.
const std::string kSpecials = std::string(" \t\r\n\"\\<>;:,=@?&/.[]%+-_!~*'()`{}|^#$") +
                              std::string("\0\x7f\x80\xff", 4) + "aZ09";

TEST(SipDifferential, CorpusAndShapedMessages) {
  size_t failures = 0;
  size_t runs = 0;
  for (const auto& m : base_messages()) check_all(m, failures, runs);
  EXPECT_EQ(failures, 0u);
  EXPECT_GT(runs, 150u);
}

TEST(SipDifferential, TruncationsOfEveryMessage) {
  size_t failures = 0;
  size_t runs = 0;
  for (const auto& m : base_messages()) {
    for (size_t len = 0; len <= m.size(); ++len)
      check_all(std::string_view(m).substr(0, len), failures, runs);
  }
  EXPECT_EQ(failures, 0u);
}

// Every special byte inserted at, and substituted for, every header-section position of the
// typical INVITE and the shaped messages.
TEST(SipDifferential, SpecialBytesAtEveryPosition) {
  size_t failures = 0;
  size_t runs = 0;
  std::vector<std::string> bases = shaped_messages();
  bases.push_back(testing::typical_invite());
  for (const auto& m : bases) {
    const size_t hdr_end = m.find("\r\n\r\n") + 4;
    for (size_t pos = 0; pos < hdr_end; ++pos) {
      for (const char c : kSpecials) {
        std::string ins = m;
        ins.insert(pos, 1, c);
        check_all(ins, failures, runs);
        std::string sub = m;
        sub[pos] = c;
        check_all(sub, failures, runs);
      }
    }
  }
  EXPECT_EQ(failures, 0u);
  EXPECT_GT(runs, 100000u);
}

// Random byte flips, deletions and special-byte insertions over every corpus message.
TEST(SipDifferential, RandomMutationsOfCorpus) {
  std::mt19937_64 rng(4475);
  size_t failures = 0;
  size_t runs = 0;
  const auto bases = base_messages();
  for (const auto& m : bases) {
    if (m.empty()) continue;
    for (int k = 0; k < 300; ++k) {
      std::string s = m;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !s.empty(); ++e) {
        const size_t pos = rng() % s.size();
        switch (rng() % 4) {
          case 0:
            s[pos] = static_cast<char>(s[pos] ^ (1u << (rng() % 8)));
            break;
          case 1:
            s.erase(pos, 1);
            break;
          case 2:
            s.insert(pos, 1, kSpecials[rng() % kSpecials.size()]);
            break;
          default:
            s[pos] = kSpecials[rng() % kSpecials.size()];
            break;
        }
      }
      check_all(s, failures, runs);
    }
  }
  EXPECT_EQ(failures, 0u);
}

// Random header values from grammar fragments, in the deep-checked headers.
const std::vector<std::string> kFragments = {
    "sip:",
    "sips:",
    "tel:",
    "SIP/2.0/",
    "UDP",
    "TCP",
    " ",
    "  ",
    "\t",
    "\r\n ",
    "\r\n",
    "<",
    ">",
    "\"",
    "\\\"",
    "\\",
    ";",
    "=",
    ",",
    ":",
    "@",
    "?",
    "&",
    "%2F",
    "%",
    "%g1",
    "[",
    "]",
    "::",
    "2001:db8::1",
    "[2001:db8::1]",
    "10.0.0.1",
    "255.255.255.255",
    "256.1.1.1",
    "example.com",
    "a-b.c",
    "-a",
    "a-",
    "a..b",
    "x.",
    ".",
    "1.2.3",
    "5060",
    "65536",
    "0",
    "tag",
    "branch",
    "z9hG4bK776",
    "user=phone",
    "transport=tcp",
    "lr",
    "rport",
    "received",
    "q=0.5",
    "user",
    "pass",
    "Alice",
    "*",
    "+1234",
    "abc",
    "ABC",
    "~",
    "!",
    "'",
    "(",
    ")",
    "{",
    "}",
    "/",
    ".",
    "\x80",
    "\xff",
    std::string("\0", 1),
    "\x7f",
    "$",
    "+",
    "-",
    "_",
};

std::string random_value(std::mt19937_64& rng) {
  std::string v;
  const int n = static_cast<int>(rng() % 12);
  for (int i = 0; i < n; ++i) v += kFragments[rng() % kFragments.size()];
  return v;
}

// Plausible values with one random fragment spliced in somewhere.
const std::vector<std::pair<std::string, std::string>> kShapes = {
    {"Via", "SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK-524287-1---4f1a0c2b9e;rport"},
    {"Via", "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds, SIP/2.0/TCP [::1]:5061"},
    {"From", "\"Alice Caller\" <sip:+12125550199@carrier.example.com;user=phone>;tag=8d2b1f"},
    {"To", "<sip:+14155550123@core.example.net;user=phone>"},
    {"To", "sip:bob:pw@biloxi.com;transport=udp;tag=a6c85cf"},
    {"Contact", "<sip:+12125550199@198.51.100.20:5060;transport=udp>;expires=60, <tel:+1>"},
    {"Call-ID", "5a1f7c0e9b3d4e2a8c6f1b0d3e5a7c9f@198.51.100.20"},
    {"CSeq", "1 INVITE"},
    {"Max-Forwards", "70"},
    {"Content-Length", "0"},
};

std::string message_with(const std::string& name, const std::string& value) {
  std::string s = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n";
  const std::vector<std::pair<std::string, std::string>> base = {
      {"Via", "SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds"},
      {"From", "<sip:alice@atlanta.com>;tag=1"},
      {"To", "<sip:bob@biloxi.com>"},
      {"Call-ID", "a84b4c76e66710@pc33"},
      {"CSeq", "314159 INVITE"},
  };
  for (const auto& [n, v] : base) {
    if (n != name) s += n + ": " + v + "\r\n";
  }
  s += name + ": " + value + "\r\n\r\n";
  return s;
}

// Values on the edges of the fast paths (simple URI, Via, name-addr), with every special byte
// inserted at and substituted for every position: in a message and in the public parsers.
TEST(SipDifferential, FastPathEdgeValues) {
  const std::vector<std::pair<std::string, std::string>> values = {
      {"Via", "SIP/2.0/UDP 1.2.3.4:5060;branch=z9hG4bK1;rport"},
      {"Via", "sIp/2.0/tcp h.example.com.;received=[::1];x=\"y\""},
      {"Via", "SIP/2.0/UDP 255.255.255.255:1"},
      {"From", "\"A \\\"B\" <sip:u@h.example.com;user=phone>;tag=1"},
      {"From", "<SIPS:+1@a-b.c:05060;lr;x=%41>;tag=a.b"},
      {"To", "\"\"\t<sip:u:p@[2001:db8::1]>"},
      {"To", "<sip:h.example.com?x=y>;tag=1"},
      {"Contact", "<sip:u@1.2.3.4:5060;transport=udp>;expires=60"},
      {"Contact", "\"x\" <sip:a@b.c>;q=0.5, <sip:d@e.f>"},
      {"Contact", "<tel:+1234;p=q>"},
      // 64-octet URIs and parameter runs: the edges of the fast paths' masks.
      {"To", "<sip:" + std::string(59, 'u') + "@>"},
      {"To", "<sip:" + std::string(58, 'h') + ".c>;a"},
      {"From", "<sip:h>;" + std::string(62, 't') + ";"},
      {"From", "<sip:h>;" + std::string(61, 't') + "=v"},
  };
  size_t failures = 0;
  size_t runs = 0;
  const std::string bytes = kSpecials + "sS2";
  for (const auto& [name, value] : values) {
    std::vector<std::string> variants = {value};
    for (size_t pos = 0; pos <= value.size(); ++pos) {
      for (const char c : bytes) {
        std::string ins = value;
        ins.insert(pos, 1, c);
        variants.push_back(ins);
        if (pos < value.size()) {
          std::string sub = value;
          sub[pos] = c;
          variants.push_back(sub);
        }
      }
    }
    for (const auto& v : variants) {
      check_all(message_with(name, v), failures, runs);
      const Buf b(v);
      size_t fv = 0;
      size_t rv = 0;
      const bool same =
          static_cast<int>(sip_check_via(b.view(), fv)) ==
              static_cast<int>(reference::sip_check_via(b.view(), rv)) &&
          fv == rv &&
          sip_name_addr_is_valid(b.view(), false) ==
              reference::sip_name_addr_is_valid(b.view(), false) &&
          sip_name_addr_is_valid(b.view(), true) ==
              reference::sip_name_addr_is_valid(b.view(), true) &&
          sip_contact_is_valid(b.view(), false) ==
              reference::sip_contact_is_valid(b.view(), false) &&
          sip_contact_is_valid(b.view(), true) == reference::sip_contact_is_valid(b.view(), true);
      if (!same && ++failures <= 10) ADD_FAILURE() << "value " << show(v);
    }
  }
  EXPECT_EQ(failures, 0u);
  EXPECT_GT(runs, 30000u);
}

TEST(SipDifferential, RandomHeaderValues) {
  std::mt19937_64 rng(5118);
  size_t failures = 0;
  size_t runs = 0;
  for (int k = 0; k < 6000; ++k) {
    const auto& [name, shape] = kShapes[rng() % kShapes.size()];
    std::string value;
    switch (rng() % 3) {
      case 0:
        value = random_value(rng);
        break;
      case 1: {
        value = shape;
        value.insert(rng() % (value.size() + 1), kFragments[rng() % kFragments.size()]);
        break;
      }
      default: {
        value = shape;
        const size_t pos = rng() % value.size();
        value.replace(pos, 1 + rng() % 3, kFragments[rng() % kFragments.size()]);
        break;
      }
    }
    check_all(message_with(name, value), failures, runs);
    // The value flush against the end of the datagram (no empty line: liberal accepts it).
    check_all(message_with(name, value).substr(0, message_with(name, value).size() - 2), failures,
              runs);
  }
  EXPECT_EQ(failures, 0u);
}

// The public value parsers on their own, over random strings in exactly-sized buffers.
TEST(SipDifferential, ValueParsersOnRandomStrings) {
  std::mt19937_64 rng(3261);
  size_t failures = 0;
  for (int k = 0; k < 20000; ++k) {
    std::string s = random_value(rng);
    if (rng() % 2 == 0) {
      const auto& shape = kShapes[rng() % kShapes.size()].second;
      s = shape.substr(0, rng() % (shape.size() + 1)) + s;
    }
    const Buf b(s);
    const std::string_view v = b.view();
    const std::string d = test::compare_value_parsers(v);
    if (!d.empty() && ++failures <= 10) ADD_FAILURE() << d << ": " << show(s);
  }
  EXPECT_EQ(failures, 0u);
}

// IPv4 hosts and ports (decided from octet masks) around every edge of the grammar: part
// values and lengths, leading zeros, dots, five-digit ports around 65535; as a host, in a
// URI and in a Via sent-by, each in an exactly-sized buffer.
TEST(SipDifferential, Ipv4HostsAndPorts) {
  const std::vector<std::string> parts = {
      "0",   "1",   "9",   "09",  "10",  "99",  "100", "199",  "200", "249", "250", "255",   "256",
      "259", "260", "299", "300", "355", "999", "000", "0255", "",    "a",   "2x5", "25\x80"};
  const std::vector<std::string> ports = {"",      "0",     "5060",  "65535",  "65536",
                                          "65529", "65540", "66000", "70000",  "99999",
                                          "06553", "00000", "6553",  "123456", "5a"};
  size_t failures = 0;
  size_t runs = 0;
  const auto check = [&](const std::string& s) {
    ++runs;
    const Buf b(s);
    const std::string uri = "sip:u@" + s;
    const Buf u(uri);
    const std::string via = "SIP/2.0/UDP " + s + ";branch=z9hG4bK1";
    const Buf w(via);
    size_t fv = 0;
    size_t rv = 0;
    const bool same =
        sip_host_is_valid(b.view()) == reference::sip_host_is_valid(b.view()) &&
        sip_hostport_is_valid(b.view()) == reference::sip_hostport_is_valid(b.view()) &&
        sip_uri_is_valid(u.view(), false) == reference::sip_uri_is_valid(u.view(), false) &&
        static_cast<int>(sip_check_via(w.view(), fv)) ==
            static_cast<int>(reference::sip_check_via(w.view(), rv));
    if (!same && ++failures <= 10) ADD_FAILURE() << show(s);
  };
  for (size_t i = 0; i < parts.size(); ++i) {
    for (size_t j = 0; j < parts.size(); ++j) {
      for (size_t k = 0; k < 4; ++k) {
        // parts[i] at position k, parts[j] at position (k + 1) % 4, "1" elsewhere.
        std::string p[4] = {"1", "1", "1", "1"};
        p[k] = parts[i];
        p[(k + 1) % 4] = parts[j];
        const std::string host = p[0] + "." + p[1] + "." + p[2] + "." + p[3];
        check(host);
        check(host + ".");
        check(host + ".1");
        check("." + host);
        check(host.substr(0, host.size() - 1));
        check(parts[i] + "." + parts[j] + ".1");
        check(parts[i] + ".." + parts[j] + ".1.1");
      }
    }
  }
  for (const auto& port : ports) {
    for (const char* host : {"192.0.2.1", "255.255.255.255", "h.example.com", "[::1]"}) {
      check(std::string(host) + ":" + port);
      if (port.size() > 1) check(std::string(host) + ":" + port.substr(1));
    }
  }
  EXPECT_EQ(failures, 0u);
  EXPECT_GT(runs, 10000u);
}

// Every scanned span at every length 0..80, ending exactly at the end of the heap buffer (and
// of the datagram), with a bad byte at every position of the shorter ones.
TEST(SipDifferential, SpanBoundariesAtEveryLength) {
  struct Span {
    const char* name;  // header name, or "" for the Request-URI
    std::string prefix;
    char fill;
    std::string suffix;
  };
  const std::vector<Span> spans = {
      {"", "sip:", 'u', "@h.example.com"},      // user part
      {"", "sip:u@", 'h', ""},                  // hostname
      {"", "sip:u@h.example.com;p=", 'v', ""},  // URI param value
      {"", "sip:u@1.2.3.4?h=", 'v', ""},        // URI header value
      {"", "tel:", '1', ""},                    // other-scheme URI
      {"Via", "SIP/2.0/UDP ", 'a', ".example.com"},
      {"Via", "SIP/2.0/UDP h.example.com;branch=", 'z', ""},
      {"Via", "SIP/2.0/", 'T', " h.example.com"},
      {"From", "<sip:", 'a', "@b.example.com>;tag=1"},
      {"From", "<sip:a@b.example.com>;tag=", 'x', ""},
      {"To", "\"", 'n', "\" <sip:a@b.example.com>"},
      {"To", "sip:a@", 'b', ""},
      {"Contact", "<sip:a@b.example.com>;expires=", '6', ""},
      {"Call-ID", "", 'c', ""},
      {"Call-ID", "a@", 'c', ""},
      {"CSeq", "1 ", 'I', ""},
      {"X-Other", "", 'x', ""},
  };
  size_t failures = 0;
  size_t runs = 0;
  for (const auto& sp : spans) {
    for (size_t len = 0; len <= 80; ++len) {
      const std::string value = sp.prefix + std::string(len, sp.fill) + sp.suffix;
      std::vector<std::string> variants = {value};
      if (len <= 40) {
        for (size_t pos = 0; pos < len; ++pos) {
          for (const char c : std::string(" ;@.:-\"%>\0\x80", 12)) {
            std::string bad = value;
            bad[sp.prefix.size() + pos] = c;
            variants.push_back(bad);
          }
        }
      }
      for (const auto& v : variants) {
        std::string msg;
        if (sp.name[0] == '\0') {
          // Request-URI last on its line; the datagram is the start line plus nothing else
          // for the public parser, a full message for the validator.
          const Buf b(v);
          if (sip_uri_is_valid(b.view(), true) != reference::sip_uri_is_valid(b.view(), true) ||
              sip_uri_is_valid(b.view(), false) != reference::sip_uri_is_valid(b.view(), false)) {
            if (++failures <= 10) ADD_FAILURE() << "uri " << show(v);
          }
          msg = message_with("X", "y");
          msg.replace(7, msg.find(' ', 7) - 7, v);
        } else {
          msg = message_with(sp.name, v);
          const Buf b(v);
          size_t fv = 0;
          size_t rv = 0;
          if (static_cast<int>(sip_check_via(b.view(), fv)) !=
                  static_cast<int>(reference::sip_check_via(b.view(), rv)) ||
              sip_name_addr_is_valid(b.view(), false) !=
                  reference::sip_name_addr_is_valid(b.view(), false) ||
              sip_contact_is_valid(b.view(), true) !=
                  reference::sip_contact_is_valid(b.view(), true) ||
              sip_call_id_is_valid(b.view()) != reference::sip_call_id_is_valid(b.view())) {
            if (++failures <= 10) ADD_FAILURE() << "value " << show(v);
          }
        }
        check_all(msg, failures, runs);
        // The same message ending right after the value's CRLF (liberal infers the empty line).
        check_all(std::string_view(msg).substr(0, msg.size() - 2), failures, runs);
        check_all(std::string_view(msg).substr(0, msg.size() - 4), failures, runs);
      }
    }
  }
  EXPECT_EQ(failures, 0u);
  EXPECT_GT(runs, 10000u);
}

// Header framing at every offset of the 64-octet blocks the validator reads: each probe line
// (names at the 16/32/64-octet edges of the class scans, HCOLON and value-trim shapes, folds,
// bad lines) is shifted through every block position by the Request-URI length, placed first
// and after a padding header, and also with each framing octet substituted at every position.
TEST(SipDifferential, FramingAtEveryBlockOffset) {
  std::vector<std::string> probes;
  for (const size_t len : {1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 49, 62, 63, 64, 65, 66, 80}) {
    probes.push_back(std::string(len, 'n') + ": v");
    probes.push_back(std::string(len, 'N') + ":");
    probes.push_back(std::string(len - 1, 'k') + "-" + "\t :\t v \t");
  }
  for (const char* p : {"X:v",
                        "X :v",
                        "X\t: v",
                        "X:  v  ",
                        "X:",
                        "X: ",
                        "X:   \t ",
                        "X: \r\n ",
                        "X:\r\n \r\n\t",
                        "X: a\r\n b",
                        "X: a\r\n\tb\r\n c",
                        "X:\r\n  v",
                        "X",
                        "X v",
                        ":v",
                        " X: v",
                        "\tX: v",
                        "X y: v",
                        "X\r: v",
                        "X:\rv",
                        "X: v\r",
                        "Call-ID: c\r\n @h",
                        "To: <sip:a@b.example.com>",
                        "t:<sip:a@b.example.com> ;tag=1",
                        "Content-Length:\t0\t",
                        "l: 0\r\n ",
                        "CSeq: 1\r\n INVITE",
                        "Via: SIP/2.0/UDP h\r\n ;branch=z9hG4bK1",
                        "X-\x80: v",
                        "X\x7f: v",
                        "Max-Forwards: 70 "}) {
    probes.push_back(p);
  }
  const std::string fields =
      "Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"
      "From: <sip:alice@atlanta.com>;tag=1\r\nTo: <sip:bob@biloxi.com>\r\n"
      "Call-ID: a84b4c76e66710@pc33\r\nCSeq: 314159 INVITE\r\n";
  const std::string framing = std::string(" \t\r\n:\0", 6);
  size_t failures = 0;
  size_t runs = 0;
  for (size_t shift = 0; shift < 2 * 64 + 2; ++shift) {
    const std::string head = "INVITE sip:" + std::string(shift + 1, 'u') + "@h SIP/2.0\r\n";
    for (const auto& probe : probes) {
      for (const bool first : {true, false}) {
        const std::string before = head + (first ? "" : "X-Pad: p\r\n");
        const std::string msg = before + probe + "\r\n" + fields + "\r\n";
        check_all(msg, failures, runs);
        // The datagram ends right after the probe line, or inside it.
        check_all(std::string_view(msg).substr(0, before.size() + probe.size() + 2), failures,
                  runs);
        check_all(std::string_view(msg).substr(0, before.size() + probe.size()), failures, runs);
        if (!first || probe.size() > 20) continue;
        for (size_t pos = 0; pos < probe.size() + 2; ++pos) {
          for (const char c : framing) {
            std::string sub = msg;
            sub[before.size() + pos] = c;
            check_all(sub, failures, runs);
          }
        }
      }
    }
  }
  EXPECT_EQ(failures, 0u);
  EXPECT_GT(runs, 100000u);
}

}  // namespace
}  // namespace sipwall
