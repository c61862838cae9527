#include "rules/rule_compiler.h"

#include <gtest/gtest.h>

#include <string>

#include "rules_test_support.h"
#include "sig/signature_scratch.h"

namespace sipwall::rules {
namespace {

using test::compile_memory;
using test::errors_of;

TEST(RuleCompiler, CompilesEverythingIntoOneValue) {
  const auto r = compile_memory({{"main.rules",
                                  "profile liberal\nports sip=5080\n"
                                  "limit all class=sip rate=5 burst=6\n"
                                  "limit inv methods=INVITE rate=1 burst=2\n"
                                  "override t prefix=192.0.2.0/24 limit=inv rate=100\n"
                                  "deny d 203.0.113.0/24\n"
                                  "include \"sigs.rules\"\n"},
                                 {"sigs.rules",
                                  "signature s1 scope=header:User-Agent pattern=/^evil\\b/i "
                                  "msg=\"evil UA\"\n"
                                  "signature s2 action=alert scope=body pattern=/x.y/s\n"}});
  ASSERT_TRUE(r.ok()) << errors_of(r);
  const CompiledRules& c = *r.rules;
  EXPECT_EQ(c.filter.sip.profile, SipProfile::liberal);
  EXPECT_EQ(c.filter.ports.sip_udp, (std::vector<PortRange>{{5080, 5080}}));
  EXPECT_EQ(c.filter.ports.sip_tls, (std::vector<PortRange>{{5061, 5061}}));  // default kept
  EXPECT_TRUE(c.limits_fit_classes);
  EXPECT_EQ(c.filter.limits.sip_all, (BucketParams{5, 6}));
  EXPECT_EQ(c.filter.limits.invite, (BucketParams{1, 2}));
  EXPECT_EQ(c.filter.limits.register_, kUnlimited);
  ASSERT_EQ(c.limit_plan.overrides.size(), 1u);
  EXPECT_EQ(c.limit_plan.overrides[0].params, (BucketParams{100, 2}));
  ASSERT_EQ(c.filter.acl.size(), 1u);
  EXPECT_EQ(c.acl_ids, (std::vector<std::string>{"d"}));
  ASSERT_NE(c.signatures, nullptr);
  ASSERT_EQ(c.signatures->size(), 2u);
  EXPECT_EQ(c.signatures->rule(0).id, "s1");
  EXPECT_EQ(c.signatures->rule(1).pattern, "(?s)x.y");
  EXPECT_EQ(c.signature_where[1], (SourceLocation{"sigs.rules", 2, 1}));
  EXPECT_EQ(c.files, (std::vector<std::string>{"main.rules", "sigs.rules"}));
  EXPECT_TRUE(c.version.starts_with("fnv1a64:"));
  EXPECT_EQ(c.stats.files, 2u);
  EXPECT_EQ(c.stats.signatures, 2u);
  EXPECT_EQ(c.stats.limits, 2u);
  EXPECT_EQ(c.stats.overrides, 1u);
  EXPECT_EQ(c.stats.acl_entries, 1u);
  EXPECT_GT(c.stats.database_bytes, 0u);
  EXPECT_GT(c.stats.database_count, 0u);
  EXPECT_GT(c.stats.compile_ms, 0.0);
  SignatureScratch scratch;
  EXPECT_EQ(scratch.reserve(*c.signatures), "");
}

TEST(RuleCompiler, EmptyFileIsAValidEmptySet) {
  const auto r = compile_memory({{"main.rules", "# nothing\n"}});
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(r.rules->signatures->size(), 0u);
  EXPECT_EQ(r.rules->filter.limits.sip_all, kUnlimited);
}

// One golden line per error kind, end to end (errors sorted by file order, line, column).
TEST(RuleCompiler, GoldenErrorsEveryKind) {
  const auto r = compile_memory(
      {{"main.rules",
        "frobnicate x=1\n"                                            // 1 unknown statement
        "limit l1 class=sip rate=10 burst=20 colour=red\n"            // 2 unknown key
        "limit l2 class=sip rate= burst=20\n"                         // 3 missing value
        "limit l3 class=sip rate=ten burst=20\n"                      // 4 bad number
        "deny d1 192.0.2.0/33\n"                                      // 5 bad prefix
        "ports media=20000-10000\n"                                   // 6 bad port range
        "signature s1 scope=body msg=\"open\n"                        // 7 unterminated string
        "signature s2 scope=body pattern=/abc\n"                      // 8 unterminated pattern
        "signature s3 scope=header:To pattern=/foo(/i msg=\"bad\"\n"  // 9 bad regex
        "limit dup class=rtp rate=1 burst=1\n"                        // 10 (first 'dup')
        "include \"more.rules\"\n"                                    // 11
        "deny n1 198.51.100.0/24\n"                                   // 12
        "allow n2 198.51.100.0/24\n"                                  // 13 contradictory ACL
        "override o1 prefix=203.0.113.0/24 limit=nosuch rate=5\n"     // 14 unknown limit
        "include \"main.rules\"\n"},                                  // 15 include cycle
       {"more.rules", "# more\nallow dup 192.0.2.0/24\n"}});          // duplicate id
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(errors_of(r),
            "main.rules:1:1: error: unknown statement 'frobnicate' (expected one of include, "
            "profile, sip-limits, ports, sip-by-content, source-prefix, source-table, "
            "acl-default, limit, override, allow, deny, signature, trust, punt-budget, "
            "pass-budget, service, transit, tables, control, core, trunk, account, brute-force)\n"
            "main.rules:2:37: error: unknown key 'colour' for 'limit' (expected one of class, "
            "methods, rate, burst, ipv4-prefix, ipv6-prefix)\n"
            "main.rules:3:25: error: missing value after 'rate=' (the value follows '=' without "
            "a space)\n"
            "main.rules:4:25: error: bad number 'ten' for 'rate' (expected a whole number from 0 "
            "to 4294967295)\n"
            "main.rules:5:9: error: bad prefix '192.0.2.0/33' (expected ADDRESS/LENGTH, e.g. "
            "192.0.2.0/24 or 2001:db8::/32)\n"
            "main.rules:6:13: error: bad port list for 'media': bad port range '20000-10000' "
            "(expected PORT or FIRST-LAST)\n"
            "main.rules:7:29: error: unterminated string (expected a closing '\"' on the same "
            "line)\n"
            "main.rules:8:33: error: unterminated pattern (expected a closing '/' on the same "
            "line)\n"
            "main.rules:9:38: error: bad pattern in signature 's3': Missing close parenthesis "
            "for group started at index 3.\n"
            "main.rules:13:10: error: contradictory ACL: 'n2' would allow 198.51.100.0/24 but "
            "'n1' (at main.rules:12:1) denies it\n"
            "main.rules:14:41: error: override 'o1' refers to unknown limit 'nosuch' (define it "
            "with: limit nosuch ...)\n"
            "main.rules:15:9: error: include cycle: main.rules -> main.rules\n"
            "more.rules:2:7: error: duplicate id 'dup' (first defined at main.rules:10:7)\n");
}

TEST(RuleCompiler, BadRegexesAreAllNamedAtTheirPattern) {
  const auto r =
      compile_memory({{"main.rules",
                       "signature ok scope=body pattern=/fine/\n"
                       "signature empty scope=body pattern=/a*/\n"
                       "signature range scope=header:From \\\n    pattern=/[z-a]/ msg=\"x\"\n"}});
  ASSERT_FALSE(r.ok());
  const std::string e = errors_of(r);
  EXPECT_NE(e.find("main.rules:2:36: error: bad pattern in signature 'empty': Pattern matches "
                   "empty buffer; use HS_FLAG_ALLOWEMPTY to enable support.\n"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("main.rules:4:13: error: bad pattern in signature 'range': "), std::string::npos)
      << e;
  EXPECT_EQ(r.diagnostics.count(), 2u) << e;
}

TEST(RuleCompiler, BudgetSignatureCount) {
  std::string text;
  for (int i = 0; i < 12; ++i) {
    text +=
        "signature s" + std::to_string(i) + " scope=body pattern=/x" + std::to_string(i) + "y/\n";
  }
  CompileBudget budget;
  budget.max_signatures = 10;
  const auto r = compile_memory({{"main.rules", text}}, budget);
  EXPECT_EQ(errors_of(r),
            "main.rules:11:1: error: compile budget exceeded: 12 signatures, the limit is 10 "
            "(this is the first one over it); the set is refused\n");
}

TEST(RuleCompiler, BudgetPatternBytes) {
  CompileBudget budget;
  budget.max_pattern_bytes = 8;
  const auto r = compile_memory({{"main.rules",
                                  "signature a scope=body pattern=/abcde/\nsignature b scope=body "
                                  "pattern=/fghij/\n"}},
                                budget);
  EXPECT_EQ(errors_of(r),
            "main.rules:2:1: error: compile budget exceeded: patterns total more than 8 bytes at "
            "this signature; the set is refused\n");
}

TEST(RuleCompiler, BudgetCompileTimeAndDatabaseSize) {
  std::string text;
  for (int i = 0; i < 200; ++i) {
    text += "signature s" + std::to_string(i) + " scope=header:User-Agent pattern=/tool" +
            std::to_string(i) + "[a-z]{2,8}\\d+/i\n";
  }
  CompileBudget budget;
  budget.max_compile_ms = 0;
  budget.max_database_bytes = 1000;
  const auto r = compile_memory({{"main.rules", text}}, budget);
  ASSERT_FALSE(r.ok());
  const std::string e = errors_of(r);
  EXPECT_TRUE(
      e.starts_with("main.rules: error: compile budget exceeded: the signature compile "
                    "took "))
      << e;
  EXPECT_NE(e.find(" ms, the limit is 0 ms; the set is refused\n"), std::string::npos) << e;
  EXPECT_NE(e.find("main.rules: error: compile budget exceeded: the signature databases take "),
            std::string::npos)
      << e;
  EXPECT_NE(e.find(" bytes, the limit is 1000; the set is refused\n"), std::string::npos) << e;
}

TEST(RuleCompiler, CompileRulesTextUsesTheReaderForIncludes) {
  CompileOptions options;
  options.reader = test::memory_reader({{"dir/inc.rules", "profile liberal\n"}});
  const auto r = compile_rules_text("include \"inc.rules\"\n", "dir/top.rules", options);
  ASSERT_TRUE(r.ok()) << errors_of(r);
  EXPECT_EQ(r.rules->filter.sip.profile, SipProfile::liberal);
  EXPECT_EQ(r.rules->files, (std::vector<std::string>{"dir/top.rules", "dir/inc.rules"}));
}

}  // namespace
}  // namespace sipwall::rules
