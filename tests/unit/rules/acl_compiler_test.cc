#include "rules/acl_compiler.h"

#include <gtest/gtest.h>

#include "rules/rule_decoder.h"
#include "rules/rule_parser.h"

namespace sipwall::rules {
namespace {

std::vector<AclEntry> acl(std::string_view text, Diagnostics& d) {
  const auto statements = parse_rules(text, "a.rules", d);
  const RuleSet set = decode_rules(statements, d);
  return compile_acl(set.acl, d);
}

TEST(AclCompiler, NestedPrefixesWithDifferentActionsAreLongestPrefixMatch) {
  Diagnostics d;
  const auto entries =
      acl("deny net 198.51.100.0/24\nallow pbx 198.51.100.7\n"
          "allow v6 2001:db8::/32\ndeny v6-bad 2001:db8:bad::/48\n",
          d);
  EXPECT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[1].action, AclAction::allow);
  EXPECT_EQ(entries[1].prefix.length, 32);
}

TEST(AclCompiler, SamePrefixTwiceIsAnError) {
  Diagnostics d;
  acl("deny a 198.51.100.0/24\nallow b 198.51.100.0/24\ndeny c 198.51.100.0/24\n"
      "allow e 2001:db8::/32\nallow f 2001:db8:0::/32\n",
      d);
  EXPECT_EQ(d.to_string(),
            "a.rules:2:9: error: contradictory ACL: 'b' would allow 198.51.100.0/24 but 'a' (at "
            "a.rules:1:1) denies it\n"
            "a.rules:3:8: error: duplicate ACL prefix 198.51.100.0/24: 'a' (at a.rules:1:1) "
            "already denies it\n"
            "a.rules:5:9: error: duplicate ACL prefix 2001:db8::/32: 'e' (at a.rules:4:1) "
            "already allows it\n");
}

}  // namespace
}  // namespace sipwall::rules
