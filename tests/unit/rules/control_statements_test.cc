// The statements only sipwall-control reads (FORMAT.md, "Control plane"): decoded with their
// values, every error at file:line:column, and invisible to the dataplane's configuration.
#include <gtest/gtest.h>

#include <string>

#include "rules/rule_compiler.h"
#include "rules/rule_decoder.h"
#include "rules/rule_parser.h"

namespace sipwall::rules {
namespace {

RuleSet decode(std::string_view text, Diagnostics& d) {
  const auto statements = parse_rules(text, "/etc/sipwall/c.rules", d);
  return decode_rules(statements, d);
}

std::string errors(std::string_view text) {
  Diagnostics d;
  decode(text, d);
  return d.to_string();
}

TEST(ControlStatements, Decoded) {
  Diagnostics d;
  const RuleSet s = decode(
      "control realm=sip.example.com credentials=\"secrets/cred\" dataplane=\"/run/dp.sock\" "
      "unknown-source=silence algorithms=SHA-512-256,MD5 nonce-lifetime=120 "
      "nonce-binding-ipv4=24 nonce-binding-ipv6=off\n"
      "core site:core 192.0.2.20 port=5070\n"
      "trunk site:trunk.a 198.51.100.0/24,2001:db8:100::/48 digest=yes nonce-binding=off\n"
      "trunk site:trunk.b 203.0.113.7\n"
      "account site:acct.alice alice sources=192.0.2.0/24\n"
      "account site:acct.bob bob\n"
      "brute-force source-failures=7 account-failures=3 window=30 ban=10 ban-max=640 "
      "lockout=90 trust=120\n",
      d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  const ControlConfig& c = s.control;
  EXPECT_EQ(c.settings.realm, "sip.example.com");
  EXPECT_EQ(c.settings.credentials, "/etc/sipwall/secrets/cred");  // beside the rule file
  EXPECT_EQ(c.settings.dataplane_socket, "/run/dp.sock");
  EXPECT_EQ(c.settings.unknown_source, UnknownSourceAction::silence);
  EXPECT_EQ(c.settings.algorithms,
            (std::vector<DigestAlgorithm>{DigestAlgorithm::sha512_256, DigestAlgorithm::md5}));
  EXPECT_EQ(c.settings.nonce_lifetime_s, 120u);
  EXPECT_EQ(c.settings.nonce_binding_v4, 24);
  EXPECT_EQ(c.settings.nonce_binding_v6, kNonceBindingOff);
  ASSERT_TRUE(c.core.has_value());
  EXPECT_EQ(c.core->id, "site:core");
  EXPECT_EQ(c.core->address, *IpAddress::parse("192.0.2.20"));
  EXPECT_EQ(c.core->port, 5070);
  ASSERT_EQ(c.trunks.size(), 2u);
  EXPECT_EQ(c.trunks[0].prefixes, (std::vector<IpPrefix>{*IpPrefix::parse("198.51.100.0/24"),
                                                         *IpPrefix::parse("2001:db8:100::/48")}));
  EXPECT_TRUE(c.trunks[0].digest);
  EXPECT_EQ(c.trunks[0].nonce_binding, kNonceBindingOff);
  EXPECT_FALSE(c.trunks[1].digest);
  EXPECT_FALSE(c.trunks[1].nonce_binding.has_value());
  EXPECT_EQ(c.trunks[1].prefixes, (std::vector<IpPrefix>{*IpPrefix::parse("203.0.113.7/32")}));
  ASSERT_EQ(c.accounts.size(), 2u);
  EXPECT_EQ(c.accounts[0].user, "alice");
  EXPECT_EQ(c.accounts[0].sources.size(), 1u);
  EXPECT_TRUE(c.accounts[1].sources.empty());
  const BruteForceSettings& b = c.settings.brute_force;
  EXPECT_EQ(b.source_failures, 7u);
  EXPECT_EQ(b.account_failures, 3u);
  EXPECT_EQ(b.window_s, 30u);
  EXPECT_EQ(b.ban_s, 10u);
  EXPECT_EQ(b.ban_max_s, 640u);
  EXPECT_EQ(b.lockout_s, 90u);
  EXPECT_EQ(b.trust_s, 120u);
}

TEST(ControlStatements, Defaults) {
  Diagnostics d;
  const RuleSet s = decode("profile strict\n", d);
  ASSERT_FALSE(d.has_errors());
  EXPECT_FALSE(s.control.core.has_value());
  EXPECT_EQ(s.control.settings.realm, "sipwall");
  EXPECT_EQ(s.control.settings.unknown_source, UnknownSourceAction::challenge);
  EXPECT_EQ(s.control.settings.algorithms,
            (std::vector<DigestAlgorithm>{DigestAlgorithm::sha256, DigestAlgorithm::md5}));
  EXPECT_EQ(s.control.settings.brute_force.source_failures, 20u);
}

TEST(ControlStatements, GoldenErrors) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"core c 192.0.2.0/24\n",
       "/etc/sipwall/c.rules:1:8: error: bad core address '192.0.2.0/24' (expected one IPv4 or "
       "IPv6 address, e.g. 192.0.2.20, and the port in port=)\n"},
      {"core c 192.0.2.1 port=0\n",
       "/etc/sipwall/c.rules:1:23: error: bad number '0' for 'port' (expected a whole number "
       "from 1 to 65535)\n"},
      {"core c1 192.0.2.1\ncore c2 192.0.2.2\n",
       "/etc/sipwall/c.rules:2:1: error: a second core (the first is 'c1' at "
       "/etc/sipwall/c.rules:1:1)\n"},
      {"trunk t 198.51.100.0/24,10.0.0.1/8\n",
       "/etc/sipwall/c.rules:1:25: error: prefix '10.0.0.1/8' has host bits set (did you mean "
       "10.0.0.0/8?)\n"},
      {"trunk t1 198.51.100.0/24\ntrunk t2 10.0.0.0/8,198.51.100.0/24\n",
       "/etc/sipwall/c.rules:2:10: error: prefix 198.51.100.0/24 is already in trunk 't1' (at "
       "/etc/sipwall/c.rules:1:1)\n"},
      {"trunk t 198.51.100.0/24 digest=maybe\n",
       "/etc/sipwall/c.rules:1:32: error: bad digest 'maybe' (expected one of yes, no)\n"},
      {"account a alice@sip.example.com\n",
       "/etc/sipwall/c.rules:1:11: error: bad user 'alice@sip.example.com' (expected the digest "
       "user name without '@realm', e.g. alice)\n"},
      {"account a alice\naccount b alice\n",
       "/etc/sipwall/c.rules:2:11: error: user 'alice' already has account 'a' (at "
       "/etc/sipwall/c.rules:1:1)\n"},
      {"control algorithms=SHA-256,MD5-sess\n",
       "/etc/sipwall/c.rules:1:28: error: bad digest algorithm 'MD5-sess' (expected one of "
       "SHA-512-256, SHA-256, MD5, in preference order)\n"},
      {"control unknown-source=drop\n",
       "/etc/sipwall/c.rules:1:24: error: bad unknown-source action 'drop' (expected one of "
       "challenge, reject, silence)\n"},
      {"control nonce-binding-ipv4=40\n",
       "/etc/sipwall/c.rules:1:28: error: bad number '40' for 'nonce-binding-ipv4' (expected 0 "
       "to 32, or off)\n"},
      {"control realm=a\ncontrol realm=b\n",
       "/etc/sipwall/c.rules:2:15: error: 'control realm' is already set at "
       "/etc/sipwall/c.rules:1:15\n"},
      {"brute-force ban=100 ban-max=10\n",
       "/etc/sipwall/c.rules:1:1: error: brute-force ban-max= (10) is shorter than ban= (100)\n"},
      {"brute-force window=0\n",
       "/etc/sipwall/c.rules:1:20: error: bad number '0' for 'window' (expected a whole number "
       "from 1 to 86400)\n"},
      {"trunk t 198.51.100.0/24\nallow t 192.0.2.1\n",
       "/etc/sipwall/c.rules:2:7: error: duplicate id 't' (first defined at "
       "/etc/sipwall/c.rules:1:7)\n"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(errors(c.text), c.error) << c.text;
  }
}

// The dataplane's configuration is the same with or without the control statements: it
// compiles the same files and ignores them.
TEST(ControlStatements, DataplaneIgnoresThem) {
  const std::string base = "service s 192.0.2.10\nports sip=5080\ntrust t-static 198.51.100.0/24\n";
  const RulesResult plain = compile_rules_text(base, "p.rules");
  const RulesResult with = compile_rules_text(
      base +
          "control realm=x credentials=c dataplane=\"/run/s.sock\"\ncore c 192.0.2.20\n"
          "trunk t 203.0.113.0/24 digest=yes\naccount a alice\nbrute-force ban=5\n",
      "p.rules");
  ASSERT_TRUE(plain.ok()) << plain.diagnostics.to_string();
  ASSERT_TRUE(with.ok()) << with.diagnostics.to_string();
  EXPECT_EQ(plain.rules->filter.service_addresses, with.rules->filter.service_addresses);
  EXPECT_EQ(plain.rules->filter.ports.sip_udp, with.rules->filter.ports.sip_udp);
  EXPECT_EQ(plain.rules->filter.trusted.size(), with.rules->filter.trusted.size());
  EXPECT_EQ(plain.rules->filter.acl.size(), with.rules->filter.acl.size());
  EXPECT_FALSE(plain.rules->control.core.has_value());
  ASSERT_TRUE(with.rules->control.core.has_value());
  EXPECT_EQ(with.rules->control.trunks.size(), 1u);
  EXPECT_EQ(with.rules->control.settings.credentials, "c");
}

}  // namespace
}  // namespace sipwall::rules
