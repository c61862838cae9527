#include "rules/rule_parser.h"

#include <gtest/gtest.h>

namespace sipwall::rules {
namespace {

TEST(RuleParser, StatementsWithPositionalAndKeyedArguments) {
  Diagnostics d;
  const auto st = parse_rules(
      "# header\n\nallow x:1 192.0.2.0/24\n  signature s scope=header:To pattern=/a b/i \\\n"
      "    msg=\"m\"\n",
      "p.rules", d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[0].keyword, "allow");
  EXPECT_EQ(st[0].where, (SourceLocation{"p.rules", 3, 1}));
  ASSERT_EQ(st[0].args.size(), 2u);
  EXPECT_FALSE(st[0].args[1].has_key);
  EXPECT_EQ(st[0].args[1].value.text, "192.0.2.0/24");
  EXPECT_EQ(st[1].where, (SourceLocation{"p.rules", 4, 3}));
  ASSERT_EQ(st[1].args.size(), 4u);
  EXPECT_EQ(st[1].args[1].key, "scope");
  EXPECT_EQ(st[1].args[1].key_where, (SourceLocation{"p.rules", 4, 15}));
  EXPECT_EQ(st[1].args[2].value.kind, TokenKind::pattern);
  EXPECT_EQ(st[1].args[2].value.text, "a b");
  EXPECT_EQ(st[1].args[2].value.flags, "i");
  EXPECT_EQ(st[1].args[3].value.text, "m");
  EXPECT_EQ(st[1].args[3].value.where, (SourceLocation{"p.rules", 5, 9}));
}

TEST(RuleParser, ShapeErrorsDropTheStatementAndGoOn) {
  Diagnostics d;
  const auto st =
      parse_rules("\"x\" a\nlimit l rate= burst=2\nlimit l rate =2\nx =y\nok one\nlimit \"k\"=v\n",
                  "p.rules", d);
  EXPECT_EQ(d.to_string(),
            "p.rules:1:1: error: expected a statement keyword, found a string\n"
            "p.rules:2:14: error: missing value after 'rate=' (the value follows '=' without a "
            "space)\n"
            "p.rules:3:14: error: no space allowed before '=' (write rate=VALUE)\n"
            "p.rules:4:3: error: unexpected '=' (expected key=value with the key before '=')\n"
            "p.rules:6:7: error: expected a key before '=', found a string\n");
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].keyword, "ok");
}

TEST(RuleParser, LexerErrorsAreReportedOnce) {
  Diagnostics d;
  const auto st = parse_rules("a m=\"open\nb\n", "p.rules", d);
  EXPECT_EQ(d.count(), 1u);
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].keyword, "b");
}

}  // namespace
}  // namespace sipwall::rules
