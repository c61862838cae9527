#include "rules/rule_decoder.h"

#include <gtest/gtest.h>

#include <string>

#include "rules/rule_parser.h"

namespace sipwall::rules {
namespace {

RuleSet decode(std::string_view text, Diagnostics& d) {
  const auto statements = parse_rules(text, "d.rules", d);
  return decode_rules(statements, d);
}

std::string errors(std::string_view text) {
  Diagnostics d;
  decode(text, d);
  return d.to_string();
}

TEST(RuleDecoder, Settings) {
  Diagnostics d;
  const RuleSet s = decode(
      "profile liberal\n"
      "sip-limits message-bytes=8000 header-lines=100 header-bytes=2000 via-values=10\n"
      "ports sip-udp=5060,5080 sip-tcp=5062 tls=5061-5063 media=20000-30000\n"
      "sip-by-content no\nsource-prefix ipv4=24 ipv6=48\nsource-table sources=4096\n"
      "acl-default deny\n",
      d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  EXPECT_EQ(s.settings.sip.profile, SipProfile::liberal);
  EXPECT_EQ(s.settings.sip.limits.max_message_bytes, 8000u);
  EXPECT_EQ(s.settings.sip.limits.max_header_lines, 100u);
  EXPECT_EQ(s.settings.sip.limits.max_header_line_bytes, 2000u);
  EXPECT_EQ(s.settings.sip.limits.max_via_values, 10u);
  EXPECT_EQ(s.settings.ports.sip_udp, (std::vector<PortRange>{{5060, 5060}, {5080, 5080}}));
  EXPECT_EQ(s.settings.ports.sip_tcp, (std::vector<PortRange>{{5062, 5062}}));
  EXPECT_EQ(s.settings.ports.sip_tls, (std::vector<PortRange>{{5061, 5063}}));
  EXPECT_EQ(s.settings.ports.media, (std::vector<PortRange>{{20000, 30000}}));
  EXPECT_FALSE(s.settings.sip_by_content);
  EXPECT_EQ(s.settings.limits.v4_prefix, 24);
  EXPECT_EQ(s.settings.limits.v6_prefix, 48);
  EXPECT_EQ(s.settings.limits.table_capacity, 4096u);
  EXPECT_EQ(s.settings.acl_default, AclAction::deny);
}

TEST(RuleDecoder, StatefulStatements) {
  Diagnostics d;
  const RuleSet s = decode(
      "limit l1 class=register rate=1 burst=2 ipv6-prefix=56\n"
      "limit l2 methods=INVITE,MESSAGE rate=3 burst=4\n"
      "override o1 prefix=2001:db8::/48 limit=l1 burst=9\n"
      "deny a1 2001:db8::/32\nallow a2 192.0.2.7\n"
      "signature s1 action=alert scope=request-uri pattern=/^sip:x/s msg=\"m\"\n"
      "signature s2 scope=header:X-Foo pattern=/y/\n",
      d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(s.limits.size(), 2u);
  EXPECT_EQ(s.limits[0].scope, LimitScope::methods);
  EXPECT_EQ(s.limits[0].methods, (std::vector<std::string>{"REGISTER"}));
  EXPECT_EQ(s.limits[0].params, (BucketParams{1, 2}));
  EXPECT_EQ(s.limits[0].v6_prefix, 56);
  EXPECT_FALSE(s.limits[0].v4_prefix.has_value());
  EXPECT_EQ(s.limits[1].methods, (std::vector<std::string>{"INVITE", "MESSAGE"}));
  EXPECT_EQ(s.limits[1].method_where[1], (SourceLocation{"d.rules", 2, 25}));
  ASSERT_EQ(s.overrides.size(), 1u);
  EXPECT_EQ(s.overrides[0].limit, "l1");
  EXPECT_EQ(s.overrides[0].burst, 9u);
  EXPECT_FALSE(s.overrides[0].rate.has_value());
  ASSERT_EQ(s.acl.size(), 2u);
  EXPECT_EQ(s.acl[0].entry.action, AclAction::deny);
  EXPECT_EQ(s.acl[1].entry.prefix.length, 32);
  ASSERT_EQ(s.signatures.size(), 2u);
  EXPECT_EQ(s.signatures[0].rule.action, SignatureAction::alert);
  EXPECT_EQ(s.signatures[0].rule.scope, SignatureScopeKind::request_uri);
  EXPECT_EQ(s.signatures[0].rule.pattern, "^(?s)sip:x");
  EXPECT_FALSE(s.signatures[0].rule.caseless);
  EXPECT_EQ(s.signatures[0].rule.message, "m");
  EXPECT_EQ(s.signatures[1].rule.header, "X-Foo");
  EXPECT_EQ(s.signatures[1].rule.action, SignatureAction::drop);
  EXPECT_EQ(s.signatures[1].pattern_where, (SourceLocation{"d.rules", 7, 41}));
}

TEST(RuleDecoder, PatternFlags) {
  EXPECT_EQ(apply_pattern_flags("abc", false, false), "abc");
  EXPECT_EQ(apply_pattern_flags("a.c", true, false), "(?s)a.c");
  EXPECT_EQ(apply_pattern_flags("^a.c", true, false), "^(?s)a.c");
  EXPECT_EQ(apply_pattern_flags("\\Aa.c", true, false), "\\A(?s)a.c");
  EXPECT_EQ(apply_pattern_flags("^a$", false, true), "(?m)^a$");
  EXPECT_EQ(apply_pattern_flags("^a.$", true, true), "(?m)(?s)^a.$");
}

TEST(RuleDecoder, GoldenErrors) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"frob x=1\n",
       "d.rules:1:1: error: unknown statement 'frob' (expected one of include, profile, "
       "sip-limits, ports, sip-by-content, source-prefix, source-table, acl-default, limit, "
       "override, allow, deny, signature, trust, punt-budget, pass-budget, service, transit, "
       "tables, control, core, trunk, account, brute-force)\n"},
      {"limit l class=sip rate=1 burst=1 colour=red\n",
       "d.rules:1:34: error: unknown key 'colour' for 'limit' (expected one of class, methods, "
       "rate, burst, ipv4-prefix, ipv6-prefix)\n"},
      {"profile\n",
       "d.rules:1:1: error: missing value for 'profile' (usage: profile "
       "strict|liberal)\n"},
      {"profile strict lax\n",
       "d.rules:1:16: error: unexpected value 'lax' (usage: profile strict|liberal)\n"},
      {"profile lax\n",
       "d.rules:1:9: error: bad profile 'lax' (expected one of strict, liberal)\n"},
      {"limit l class=sip burst=1\n",
       "d.rules:1:1: error: 'limit' needs rate= (usage: limit ID "
       "class=sip|invite|register|options|other|rtp|methods=M,... rate=N burst=N "
       "[ipv4-prefix=N] [ipv6-prefix=N])\n"},
      {"limit l class=sip rate=1 rate=2 burst=1\n",
       "d.rules:1:26: error: key 'rate' given twice (first at d.rules:1:19)\n"},
      {"limit l class=sip rate=-1 burst=1\n",
       "d.rules:1:24: error: bad number '-1' for 'rate' (expected a whole number from 0 to "
       "4294967295)\n"},
      {"limit l class=sip rate=4294967296 burst=1\n",
       "d.rules:1:24: error: bad number '4294967296' for 'rate' (expected a whole number from 0 "
       "to 4294967295)\n"},
      {"sip-limits message-bytes=12k\n",
       "d.rules:1:26: error: bad number '12k' for 'message-bytes' (expected a whole number from "
       "64 to 65535)\n"},
      {"limit l rate=1 burst=1\n",
       "d.rules:1:1: error: 'limit' needs exactly one of class= or methods=\n"},
      {"limit l class=sip methods=INVITE rate=1 burst=1\n",
       "d.rules:1:15: error: 'limit' needs exactly one of class= or methods=\n"},
      {"limit l class=bye rate=1 burst=1\n",
       "d.rules:1:15: error: bad class 'bye' (expected one of sip, invite, register, options, "
       "other, rtp, tcp-syn)\n"},
      {"limit l methods=INVITE,,BYE rate=1 burst=1\n",
       "d.rules:1:24: error: bad method '' in methods= (expected SIP method tokens separated by "
       "',', e.g. INVITE,REGISTER)\n"},
      {"limit l methods=BYE,BYE rate=1 burst=1\n",
       "d.rules:1:21: error: method 'BYE' listed twice\n"},
      {"deny d 192.0.2.0/33\n",
       "d.rules:1:8: error: bad prefix '192.0.2.0/33' (expected ADDRESS/LENGTH, e.g. "
       "192.0.2.0/24 or 2001:db8::/32)\n"},
      {"deny d 2001:db8::1/64\n",
       "d.rules:1:8: error: prefix '2001:db8::1/64' has host bits set (did you mean "
       "2001:db8::/64?)\n"},
      {"deny d\n", "d.rules:1:1: error: missing value for 'deny' (usage: deny ID PREFIX)\n"},
      {"ports media=20000-10000\n",
       "d.rules:1:13: error: bad port list for 'media': bad port range '20000-10000' (expected "
       "PORT or FIRST-LAST)\n"},
      {"ports sip=5060,\n",
       "d.rules:1:11: error: bad port list for 'sip': trailing ',' in port list\n"},
      {"ports sip=70000\n",
       "d.rules:1:11: error: bad port list for 'sip': bad port range '70000' (expected PORT or "
       "FIRST-LAST)\n"},
      {"ports\n",
       "d.rules:1:1: error: 'ports' needs at least one key (usage: ports [sip=PORTS] "
       "[sip-udp=PORTS] [sip-tcp=PORTS] [tls=PORTS] [media=PORTS])\n"},
      {"signature s scope=body pattern=\"abc\"\n",
       "d.rules:1:32: error: expected a pattern /REGEX/FLAGS for 'pattern', found string "
       "\"abc\"\n"},
      {"signature s scope=body pattern=/abc/x\n",
       "d.rules:1:32: error: unknown pattern flag 'x' (expected i caseless, s dotall, m "
       "multiline)\n"},
      {"signature s scope=uri pattern=/abc/\n",
       "d.rules:1:19: error: bad scope 'uri' (expected one of header:NAME, request-uri, body, "
       "message)\n"},
      {"signature s scope=header: pattern=/abc/\n",
       "d.rules:1:19: error: bad header name '' in scope (expected header:NAME, e.g. "
       "header:User-Agent)\n"},
      {"signature s scope=body pattern=//\n",
       "d.rules:1:32: error: empty pattern (it would match every message)\n"},
      {"signature s scope=body pattern=/a/ action=block\n",
       "d.rules:1:43: error: bad action 'block' (expected one of drop, alert)\n"},
      {"signature -s scope=body pattern=/a/\n",
       "d.rules:1:11: error: bad id '-s' (expected up to 128 of A-Z a-z 0-9 _ . : -, e.g. "
       "site:scanner.foo)\n"},
      {"override o prefix=192.0.2.0/24 limit=l\n",
       "d.rules:1:1: error: 'override' needs rate= or burst= (or both)\n"},
      {"deny x 192.0.2.0/24\nsignature x scope=body pattern=/a/\n",
       "d.rules:2:11: error: duplicate id 'x' (first defined at d.rules:1:6)\n"},
      {"profile strict\nprofile liberal\n",
       "d.rules:2:1: error: 'profile' is already set at d.rules:1:1\n"},
      {"ports sip=5060\nports sip-tcp=5070\n",
       "d.rules:2:15: error: 'ports sip-tcp' is already set at d.rules:1:11\n"},
      // Trust tiers, budgets, service addresses, transit, table sizes.
      {"trust t 198.51.100.0/33\n",
       "d.rules:1:9: error: bad prefix '198.51.100.0/33' (expected ADDRESS/LENGTH, e.g. "
       "192.0.2.0/24 or 2001:db8::/32)\n"},
      {"trust t 198.51.100.0/24 reserve=lots\n",
       "d.rules:1:33: error: bad number 'lots' for 'reserve' (expected a whole number from 0 to "
       "100000000)\n"},
      {"trust t 198.51.100.0/24 share=5\n",
       "d.rules:1:25: error: unknown key 'share' for 'trust' (expected one of reserve)\n"},
      {"trust a 198.51.100.0/24\ntrust b 198.51.100.0/24\n",
       "d.rules:2:9: error: prefix 198.51.100.0/24 is already trusted by 'a' (at d.rules:1:1)\n"},
      {"punt-budget messages=1000 untrusted-share=50\ntrust a 192.0.2.0/24 reserve=300\n"
       "trust b 198.51.100.0/24 reserve=300\n",
       "d.rules:3:1: error: trust reserves add up to 600 messages/s here, more than the trusted "
       "part of the punt budget (500 messages/s: punt-budget messages= minus "
       "untrusted-share=)\n"},
      {"punt-budget messages=0\n",
       "d.rules:1:22: error: bad number '0' for 'messages' (expected a whole number from 1 to "
       "100000000)\n"},
      {"punt-budget bytes=10\n",
       "d.rules:1:19: error: bad number '10' for 'bytes' (expected a whole number from 64 to "
       "100000000000)\n"},
      {"pass-budget untrusted-share=101\n",
       "d.rules:1:29: error: bad number '101' for 'untrusted-share' (expected a whole number "
       "from 0 to 100)\n"},
      {"punt-budget messages=10\npunt-budget messages=20\n",
       "d.rules:2:22: error: 'punt-budget messages' is already set at d.rules:1:22\n"},
      {"service s 192.0.2.0/24\n",
       "d.rules:1:11: error: bad service address '192.0.2.0/24' (expected one IPv4 or IPv6 "
       "address, e.g. 192.0.2.10 or 2001:db8::10, no prefix length)\n"},
      {"service a 2001:db8::10\nservice b 2001:DB8::10\n",
       "d.rules:2:11: error: service address 2001:db8::10 is already listed by 'a' (at "
       "d.rules:1:1)\n"},
      {"service s\n",
       "d.rules:1:1: error: missing value for 'service' (usage: service ID ADDRESS)\n"},
      {"transit sip=reject\n",
       "d.rules:1:13: error: bad transit action 'reject' (expected one of pass, drop)\n"},
      {"transit\n", "d.rules:1:1: error: 'transit' needs sip= (usage: transit sip=pass|drop)\n"},
      {"tables bans=8\n",
       "d.rules:1:13: error: bad number '8' for 'bans' (expected a whole number from 16 to "
       "16777216)\n"},
      {"tables routes=100\n",
       "d.rules:1:8: error: unknown key 'routes' for 'tables' (expected one of bans, trusted, "
       "pinholes)\n"},
  };
  for (const Case& c : cases) EXPECT_EQ(errors(c.text), c.error) << c.text;
}

TEST(RuleDecoder, TrustBudgetsServicesTransitTables) {
  Diagnostics d;
  const RuleSet s = decode(
      "trust site:trunk.a 198.51.100.0/24 reserve=2000\n"
      "trust site:trunk.b 2001:db8:1::/48\n"
      "punt-budget messages=20000 bytes=10000000 untrusted-share=25\n"
      "pass-budget messages=90000\n"
      "service site:svc.v4 192.0.2.10\n"
      "service site:svc.v6 2001:db8::10\n"
      "transit sip=drop\n"
      "tables bans=1024 trusted=2048 pinholes=4096\n",
      d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(s.trust.size(), 2u);
  EXPECT_EQ(s.trust[0].id, "site:trunk.a");
  EXPECT_EQ(s.trust[0].entry.prefix, *IpPrefix::parse("198.51.100.0/24"));
  EXPECT_EQ(s.trust[0].entry.reserve, 2000u);
  EXPECT_EQ(s.trust[1].entry.prefix, *IpPrefix::parse("2001:db8:1::/48"));
  EXPECT_EQ(s.trust[1].entry.reserve, 0u);
  EXPECT_EQ(s.settings.punt_budget, (BudgetRate{20000, 10000000, 25}));
  // Keys not given keep their defaults.
  EXPECT_EQ(s.settings.pass_budget, (BudgetRate{90000, kDefaultPassBudget.bytes_per_s,
                                                kDefaultPassBudget.untrusted_percent}));
  ASSERT_EQ(s.services.size(), 2u);
  EXPECT_EQ(s.services[0].address, *IpAddress::parse("192.0.2.10"));
  EXPECT_EQ(s.services[1].address, *IpAddress::parse("2001:db8::10"));
  EXPECT_EQ(s.settings.transit_sip, TransitAction::drop);
  EXPECT_EQ(s.settings.ban_capacity, 1024u);
  EXPECT_EQ(s.settings.trust_capacity, 2048u);
  EXPECT_EQ(s.settings.pinhole_capacity, 4096u);
}

TEST(RuleDecoder, ReservesMayFillTheTrustedPartExactly) {
  Diagnostics d;
  decode(
      "punt-budget messages=1000 untrusted-share=30\ntrust a 192.0.2.0/24 reserve=400\n"
      "trust b 198.51.100.0/24 reserve=300\n",
      d);
  EXPECT_FALSE(d.has_errors()) << d.to_string();
}

TEST(RuleDecoder, ReportsEveryBadStatement) {
  Diagnostics d;
  const RuleSet s =
      decode("profile lax\nlimit ok class=sip rate=1 burst=1\nfrob\nallow a 1.2.3\n", d);
  EXPECT_EQ(d.count(), 3u);
  EXPECT_EQ(s.limits.size(), 1u);
}

}  // namespace
}  // namespace sipwall::rules
