#include "rules/rule_lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipwall::rules {
namespace {

std::vector<Token> lex(std::string_view text, Diagnostics& d) {
  return lex_rules(text, "t.rules", d);
}

TEST(RuleLexer, WordsKeysStringsPatternsAndComments) {
  Diagnostics d;
  const auto t =
      lex("limit a.b:c class=sip  # comment = \"x\"\nsig msg=\"q\\\"\\x41\\n\" p=/a\\/b#c/is\n", d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  ASSERT_EQ(t.size(), 16u);
  EXPECT_EQ(t[0].kind, TokenKind::word);
  EXPECT_EQ(t[0].text, "limit");
  EXPECT_EQ(t[1].text, "a.b:c");
  EXPECT_EQ(t[1].column, 7u);
  EXPECT_EQ(t[2].text, "class");
  EXPECT_EQ(t[3].kind, TokenKind::equals);
  EXPECT_EQ(t[4].text, "sip");
  EXPECT_EQ(t[5].kind, TokenKind::newline);
  EXPECT_EQ(t[9].kind, TokenKind::string);
  EXPECT_EQ(t[9].text, "q\"A\n");
  EXPECT_EQ(t[9].line, 2u);
  EXPECT_EQ(t[12].kind, TokenKind::pattern);
  EXPECT_EQ(t[12].text, "a/b#c");  // \/ becomes /, # inside a pattern is not a comment
  EXPECT_EQ(t[12].flags, "is");
  EXPECT_EQ(t[13].kind, TokenKind::newline);
  EXPECT_EQ(t[14].kind, TokenKind::newline);  // the final one, then end
}

TEST(RuleLexer, KeepsOtherEscapesInPatterns) {
  Diagnostics d;
  const auto t = lex(R"(p=/\bfoo\\/ q=/x\/\//)", d);
  ASSERT_FALSE(d.has_errors()) << d.to_string();
  EXPECT_EQ(t[2].text, R"(\bfoo\\)");
  EXPECT_EQ(t[5].text, "x//");
}

TEST(RuleLexer, BackslashNewlineContinuesTheStatement) {
  Diagnostics d;
  const auto t = lex("a b \\  \r\n   c\nd\n", d);
  ASSERT_FALSE(d.has_errors());
  EXPECT_EQ(t[2].text, "c");
  EXPECT_EQ(t[2].line, 2u);
  EXPECT_EQ(t[2].column, 4u);
  EXPECT_EQ(t[3].kind, TokenKind::newline);
  EXPECT_EQ(t[4].text, "d");
}

TEST(RuleLexer, Errors) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"a msg=\"abc\n",
       "t.rules:1:7: error: unterminated string (expected a closing '\"' on the same line)\n"},
      {"a p=/abc\n",
       "t.rules:1:5: error: unterminated pattern (expected a closing '/' on the same line)\n"},
      {"a m=\"x\\q\"",
       "t.rules:1:7: error: unknown escape in string (expected \\\", \\\\, \\n, \\t, \\r or "
       "\\xHH)\n"},
      {"a m=\"\\x4\"",
       "t.rules:1:6: error: bad escape '\\x' in string (expected two hex digits)\n"},
      {"a p=/x/i,",
       "t.rules:1:9: error: unexpected character after pattern (expected flags or a "
       "space)\n"},
      {"a m=\"x\"y", "t.rules:1:8: error: unexpected character after string (expected a space)\n"},
  };
  for (const Case& c : cases) {
    Diagnostics d;
    const auto t = lex(c.text, d);
    EXPECT_EQ(d.to_string(), c.error) << c.text;
    bool invalid = false;
    for (const Token& tok : t) invalid = invalid || tok.kind == TokenKind::invalid;
    EXPECT_TRUE(invalid) << c.text;
  }
}

TEST(RuleLexer, AlwaysEndsWithNewlineAndEnd) {
  for (const char* text : {"", "\\", "#", "a", "/", "\"", "\\\n"}) {
    Diagnostics d;
    const auto t = lex(text, d);
    ASSERT_GE(t.size(), 2u);
    EXPECT_EQ(t[t.size() - 2].kind, TokenKind::newline);
    EXPECT_EQ(t.back().kind, TokenKind::end);
  }
}

}  // namespace
}  // namespace sipwall::rules
