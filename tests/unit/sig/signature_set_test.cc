#include "sig/signature_set.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sig/signature_scratch.h"
#include "sip_test_message.h"

namespace sipwall {
namespace {

using test::parse_sip;

SignatureRule header_rule(std::string id, std::string header, std::string pattern,
                          SignatureAction action = SignatureAction::drop, bool caseless = true) {
  return header_signature(std::move(id), std::move(header), std::move(pattern), {}, action,
                          caseless);
}

SignatureRule scoped_rule(std::string id, SignatureScopeKind scope, std::string pattern) {
  SignatureRule r;
  r.id = std::move(id);
  r.pattern = std::move(pattern);
  r.scope = scope;
  return r;
}

// Joins lines with CRLF and ends the header section.
std::string sip(std::initializer_list<std::string_view> lines, std::string_view body = {}) {
  std::string out;
  for (auto l : lines) {
    out += l;
    out += "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

const std::string kBasic = sip(
    {
        "INVITE sip:bob@example.com SIP/2.0",
        "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1",
        "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bKevilvia",
        "From: \"Alice\" <sip:alice@example.com>;tag=1",
        "To: <sip:bob@example.com>",
        "Call-ID: abc@a.example.com",
        "CSeq: 1 INVITE",
        "Subject: evil-tool here",
        "User-Agent: GoodPhone/1.0",
        "X-Custom: Needle",
        "Content-Length: 4",
    },
    "body");

struct Compiled {
  std::unique_ptr<SignatureSet> set;
  SignatureScratch scratch;
};

Compiled compile_ok(std::vector<SignatureRule> rules) {
  auto r = SignatureSet::compile(std::move(rules));
  EXPECT_TRUE(r) << r.error;
  Compiled c{std::move(r.set), {}};
  if (c.set) {
    EXPECT_EQ(c.scratch.reserve(*c.set), "");
  }
  return c;
}

ScanResult scan(Compiled& c, const std::string& text) {
  auto p = parse_sip(text);
  return c.set->scan(p->msg, c.scratch);
}

std::string drop_id(const Compiled& c, const ScanResult& r) {
  return r.dropped() ? c.set->rule(r.drop_rule).id : std::string("<none>");
}

TEST(SignatureCompile, BadRegexNamesRuleAndHyperscanMessage) {
  auto r = SignatureSet::compile({header_rule("ok.1", "User-Agent", "^fine"),
                                  header_rule("bad.paren", "User-Agent", "foo(bar")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error.find("bad.paren"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("foo(bar"), std::string::npos) << r.error;
  EXPECT_EQ(r.error.find("ok.1"), std::string::npos) << r.error;
}

TEST(SignatureCompile, RefusesEmptyMatchingPattern) {
  auto r = SignatureSet::compile({header_rule("empty.match", "From", "a*")});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error.find("empty.match"), std::string::npos) << r.error;
}

TEST(SignatureCompile, RefusesStructuralMistakes) {
  EXPECT_NE(SignatureSet::compile({header_rule("", "From", "x")}).error.find("empty id"),
            std::string::npos);
  EXPECT_NE(SignatureSet::compile({header_rule("a", "From", "")}).error.find("empty pattern"),
            std::string::npos);
  EXPECT_NE(SignatureSet::compile({header_rule("a", "", "x")}).error.find("header"),
            std::string::npos);
  auto dup = SignatureSet::compile({header_rule("a", "From", "x"), header_rule("a", "To", "y")});
  EXPECT_NE(dup.error.find("duplicate"), std::string::npos) << dup.error;
}

TEST(SignatureCompile, GroupsRulesByScope) {
  auto c = compile_ok({header_rule("ua.1", "User-Agent", "a"), header_rule("from.1", "From", "b"),
                       header_rule("ua.2", "user-agent", "c"), header_rule("from.2", "f", "d"),
                       scoped_rule("ruri", SignatureScopeKind::request_uri, "e")});
  EXPECT_EQ(c.set->size(), 5u);
  EXPECT_EQ(c.set->database_count(),
            4u);  // User-Agent, From (full and compact), Request-URI, screen
  EXPECT_EQ(c.set->rule(3).id, "from.2");
}

TEST(SignatureCompile, AnchoredAndFloatingRulesGetSeparateDatabases) {
  auto c = compile_ok({header_rule("ua.anchored", "User-Agent", "^Good"),
                       header_rule("ua.floating", "User-Agent", "Phone"),
                       header_rule("ua.A", "User-Agent", "\\AGoodPhone/1")});
  EXPECT_EQ(c.set->database_count(), 3u);  // anchored, floating, screen (of the floating)
  // The tie rule spans both databases: "^Good" ends first.
  EXPECT_EQ(drop_id(c, scan(c, kBasic)), "ua.anchored");
  auto d = compile_ok({header_rule("ua.floating", "User-Agent", "Good"),
                       header_rule("ua.anchored", "User-Agent", "^Good")});
  EXPECT_EQ(drop_id(d, scan(d, kBasic)), "ua.floating");  // same end offset: lower index
}

TEST(SignatureCompile, EmptyRuleListScansNothing) {
  auto c = compile_ok({});
  auto r = scan(c, kBasic);
  EXPECT_FALSE(r.dropped());
  EXPECT_FALSE(r.scan_error);
}

TEST(SignatureScan, HeaderScopeIgnoresSameTextElsewhere) {
  auto c = compile_ok({header_rule("ua.evil", "User-Agent", "evil-tool")});
  EXPECT_FALSE(scan(c, kBasic).dropped());  // "evil-tool" is only in Subject
  auto r = scan(c, sip({"OPTIONS sip:x SIP/2.0", "User-Agent: evil-tool 2"}));
  EXPECT_EQ(drop_id(c, r), "ua.evil");
}

TEST(SignatureScan, CompactFromIsScopedAsFrom) {
  auto c = compile_ok({header_rule("from.mallory", "From", "mallory")});
  EXPECT_EQ(drop_id(c, scan(c, sip({"OPTIONS sip:x SIP/2.0", "f: <sip:mallory@x>;tag=1"}))),
            "from.mallory");
  EXPECT_EQ(drop_id(c, scan(c, sip({"OPTIONS sip:x SIP/2.0", "FROM: <sip:mallory@x>"}))),
            "from.mallory");
  EXPECT_FALSE(scan(c, sip({"OPTIONS sip:x SIP/2.0", "t: <sip:mallory@x>"})).dropped());
}

TEST(SignatureScan, RuleWrittenWithCompactNameCoversFullName) {
  auto c = compile_ok({header_rule("to.m", "t", "mallory")});
  EXPECT_TRUE(scan(c, sip({"OPTIONS sip:x SIP/2.0", "To: <sip:mallory@x>"})).dropped());
}

TEST(SignatureScan, EveryViaInstanceIsScanned) {
  auto c = compile_ok({header_rule("via.evil", "Via", "z9hG4bKevil")});
  EXPECT_EQ(drop_id(c, scan(c, kBasic)), "via.evil");  // the second Via
  EXPECT_FALSE(scan(c, sip({"OPTIONS sip:x SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
                            "v: SIP/2.0/UDP h;branch=z9hG4bK2"}))
                   .dropped());
  EXPECT_TRUE(scan(c, sip({"OPTIONS sip:x SIP/2.0", "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
                           "v: SIP/2.0/UDP h;branch=z9hG4bKevil"}))
                  .dropped());
}

TEST(SignatureScan, UnknownHeaderNameComparesCaseInsensitively) {
  auto c = compile_ok({header_rule("xc", "x-CUSTOM", "^needle$")});
  EXPECT_EQ(drop_id(c, scan(c, kBasic)), "xc");
  EXPECT_FALSE(scan(c, sip({"OPTIONS sip:x SIP/2.0", "X-Custom2: needle"})).dropped());
}

TEST(SignatureScan, CaselessFlag) {
  auto sensitive = compile_ok(
      {header_rule("cs", "User-Agent", "goodphone", SignatureAction::drop, /*caseless=*/false)});
  EXPECT_FALSE(scan(sensitive, kBasic).dropped());
  auto caseless = compile_ok({header_rule("ci", "User-Agent", "goodphone")});
  EXPECT_TRUE(scan(caseless, kBasic).dropped());
}

TEST(SignatureScan, AnchorsApplyToTheValueSpan) {
  auto c = compile_ok({header_rule("anch", "User-Agent", "^GoodPhone/1\\.0$")});
  EXPECT_TRUE(scan(c, kBasic).dropped());
}

TEST(SignatureScan, RequestUriBodyAndMessageScopes) {
  auto ruri = compile_ok({scoped_rule("ruri", SignatureScopeKind::request_uri, "^sip:bob@")});
  EXPECT_TRUE(scan(ruri, kBasic).dropped());
  EXPECT_FALSE(scan(ruri, sip({"SIP/2.0 200 OK", "To: <sip:bob@x>"})).dropped());  // response

  auto body = compile_ok({scoped_rule("body", SignatureScopeKind::body, "^body$")});
  EXPECT_TRUE(scan(body, kBasic).dropped());
  auto body_miss = compile_ok({scoped_rule("body", SignatureScopeKind::body, "Content-Length")});
  EXPECT_FALSE(scan(body_miss, kBasic).dropped());

  auto whole = compile_ok({scoped_rule("msg", SignatureScopeKind::message, "Subject: evil")});
  EXPECT_TRUE(scan(whole, kBasic).dropped());
}

TEST(SignatureScan, AlertIsReportedButDoesNotDrop) {
  auto c = compile_ok({header_rule("alert.ua", "User-Agent", "GoodPhone", SignatureAction::alert)});
  auto r = scan(c, kBasic);
  EXPECT_FALSE(r.dropped());
  ASSERT_EQ(r.alert_rules().size(), 1u);
  EXPECT_EQ(r.alert_rules()[0], 0u);
}

TEST(SignatureScan, AlertsBeforeAndInTheDecidingSpanAreReported) {
  auto c = compile_ok({header_rule("a.ua", "User-Agent", "Good", SignatureAction::alert),
                       header_rule("a.via", "Via", "z9hG4bK", SignatureAction::alert),
                       header_rule("d.via", "Via", "evilvia"),
                       header_rule("a.from", "From", "Alice", SignatureAction::alert)});
  auto r = scan(c, kBasic);
  EXPECT_EQ(drop_id(c, r), "d.via");
  // UA scanned first, then Via (both instances; a.via counted once); From is never reached.
  ASSERT_EQ(r.alert_rules().size(), 2u);
  EXPECT_EQ(r.alert_rules()[0], 0u);
  EXPECT_EQ(r.alert_rules()[1], 1u);
  EXPECT_EQ(r.alerts_overflow, 0);
}

TEST(SignatureScan, AlertOverflowIsCounted) {
  std::vector<SignatureRule> rules;
  for (int i = 0; i < 11; ++i) {
    rules.push_back(header_rule("alert." + std::to_string(i), "User-Agent",
                                std::string(1, static_cast<char>('a' + i)),
                                SignatureAction::alert));
  }
  auto c = compile_ok(std::move(rules));
  auto r = scan(c, sip({"OPTIONS sip:x SIP/2.0", "User-Agent: abcdefghijk"}));
  EXPECT_FALSE(r.dropped());
  EXPECT_EQ(r.alert_rules().size(), ScanResult::kMaxAlerts);
  EXPECT_EQ(r.alerts_overflow, 3);
}

// Tie rule inside one span: smallest end offset first, then lowest rule index.
TEST(SignatureScan, EarliestMatchEndInSpanWins) {
  const std::string msg = sip({"OPTIONS sip:x SIP/2.0", "User-Agent: alpha beta gamma"});
  auto c = compile_ok({header_rule("late", "User-Agent", "gamma"),
                       header_rule("early", "User-Agent", "alpha"),
                       header_rule("middle", "User-Agent", "beta")});
  EXPECT_EQ(drop_id(c, scan(c, msg)), "early");
}

TEST(SignatureScan, SameEndOffsetLowestRuleIndexWins) {
  const std::string msg = sip({"OPTIONS sip:x SIP/2.0", "User-Agent: alpha beta gamma"});
  auto c = compile_ok({header_rule("first", "User-Agent", "ta"),
                       header_rule("second", "User-Agent", "beta"),
                       header_rule("third", "User-Agent", "a b.ta")});
  EXPECT_EQ(drop_id(c, scan(c, msg)), "first");
  auto d =
      compile_ok({header_rule("x", "User-Agent", "a b.ta"), header_rule("y", "User-Agent", "ta")});
  EXPECT_EQ(drop_id(d, scan(d, msg)), "x");
}

TEST(SignatureScan, ScopeGroupsFollowFirstRuleOrder) {
  // Both match; the group whose first rule comes first decides, whatever the header order.
  auto from_first = compile_ok({header_rule("from.alice", "From", "Alice"),
                                header_rule("ua.good", "User-Agent", "GoodPhone")});
  EXPECT_EQ(drop_id(from_first, scan(from_first, kBasic)), "from.alice");
  auto ua_first = compile_ok({header_rule("ua.good", "User-Agent", "GoodPhone"),
                              header_rule("from.alice", "From", "Alice")});
  EXPECT_EQ(drop_id(ua_first, scan(ua_first, kBasic)), "ua.good");
}

TEST(SignatureScan, FirstSpanWithADropStopsTheScan) {
  auto c = compile_ok(
      {header_rule("via.any", "Via", "branch"), header_rule("via.b", "Via", "b\\.example")});
  // The first Via already matches "via.any": the second Via (which holds b.example) is not scanned.
  auto r = scan(c, kBasic);
  EXPECT_EQ(drop_id(c, r), "via.any");
}

TEST(SignatureScan, UnreservedScratchIsAnErrorNotACrash) {
  auto r = SignatureSet::compile({header_rule("ua", "User-Agent", "Good")});
  ASSERT_TRUE(r);
  SignatureScratch empty;
  auto p = parse_sip(kBasic);
  auto res = r.set->scan(p->msg, empty);
  EXPECT_TRUE(res.scan_error);
  EXPECT_FALSE(res.dropped());
}

TEST(SignatureScratch, GrowsForALaterSet) {
  auto small = SignatureSet::compile({header_rule("ua", "User-Agent", "Good")});
  ASSERT_TRUE(small);
  SignatureScratch scratch;
  ASSERT_EQ(scratch.reserve(*small.set), "");
  std::vector<SignatureRule> many;
  for (int i = 0; i < 50; ++i) {
    const std::string n = std::to_string(i);
    std::string pattern = "x";
    pattern.append(n).append("[a-z]+y.*z").append(n);
    many.push_back(header_rule("r" + n, i % 2 ? "From" : "Via", pattern));
  }
  many.push_back(scoped_rule("m", SignatureScopeKind::message, "evil-tool"));
  auto big = SignatureSet::compile(std::move(many));
  ASSERT_TRUE(big) << big.error;
  ASSERT_EQ(scratch.reserve(*big.set), "");
  auto p = parse_sip(kBasic);
  auto res = big.set->scan(p->msg, scratch);
  EXPECT_FALSE(res.scan_error);
  EXPECT_EQ(res.drop_rule, 50u);
  // The old set still works with the grown scratch.
  EXPECT_TRUE(small.set->scan(p->msg, scratch).dropped());
}

TEST(SignatureScan, EmptyHeaderValueAndMissingHeadersAreFine) {
  auto c = compile_ok({header_rule("ua", "User-Agent", "x"), header_rule("to", "To", "y")});
  EXPECT_FALSE(scan(c, sip({"OPTIONS sip:x SIP/2.0", "User-Agent:"})).dropped());
  EXPECT_FALSE(scan(c, "").dropped());
}

}  // namespace
}  // namespace sipwall
