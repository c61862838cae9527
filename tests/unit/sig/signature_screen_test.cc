// The scan pre-checks (anchored literal prefixes, the screen database over a concatenation of the
// screened spans) must never change a ScanResult. These tests compare SignatureSet::scan with a
// straightforward reference that scans every span of every group with one database per rule and
// applies the documented decision order.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sig/default_signatures.h"
#include "sig/hs_handle.h"
#include "sig/signature_scratch.h"
#include "sig/signature_set.h"

namespace sipwall {
namespace {

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Reference: one block database per rule, every match end collected, no pre-checks.
class ReferenceScanner {
 public:
  explicit ReferenceScanner(std::span<const SignatureRule> rules)
      : rules_(rules.begin(), rules.end()) {
    for (const SignatureRule& r : rules) {
      hs_database_t* db = nullptr;
      hs_compile_error_t* err = nullptr;
      const unsigned int flags = r.caseless ? HS_FLAG_CASELESS : 0u;
      const hs_error_t rc = hs_compile(r.pattern.c_str(), flags, HS_MODE_BLOCK, nullptr, &db, &err);
      HsCompileError guard(err);
      EXPECT_EQ(rc, HS_SUCCESS) << r.id;
      dbs_.emplace_back(db);
      hs_scratch_t* s = scratch_.release();
      EXPECT_EQ(hs_alloc_scratch(db, &s), HS_SUCCESS);
      scratch_.reset(s);
    }
    // Groups in order of their first rule.
    for (size_t i = 0; i < rules.size(); ++i) {
      size_t g = 0;
      for (; g < groups_.size(); ++g) {
        if (same_scope(rules[groups_[g].front()], rules[i])) break;
      }
      if (g == groups_.size()) groups_.emplace_back();
      groups_[g].push_back(i);
    }
  }

  ScanResult scan(const SipMessage& msg) const {
    ScanResult result;
    for (const auto& group : groups_) {
      const SignatureRule& first = rules_[group.front()];
      std::vector<std::string_view> spans;
      switch (first.scope) {
        case SignatureScopeKind::header: {
          const SipHeader id = sip_header_from_name(first.header);
          for (const SipHeaderField& h : msg.headers) {
            if (h.id != id) continue;
            if (id == SipHeader::other && !iequal(h.name, first.header)) continue;
            spans.push_back(h.value);
          }
          break;
        }
        case SignatureScopeKind::request_uri:
          if (msg.is_request) spans.push_back(msg.request_uri);
          break;
        case SignatureScopeKind::body:
          spans.push_back(msg.body);
          break;
        case SignatureScopeKind::message:
          spans.push_back(msg.raw);
          break;
      }
      for (std::string_view span : spans) {
        if (span.empty()) continue;
        RuleIndex best = kNoRule;
        unsigned long long best_end = 0;
        for (size_t i : group) {
          std::vector<unsigned long long> ends;
          auto on_match = [](unsigned int, unsigned long long, unsigned long long to, unsigned int,
                             void* ctx) {
            static_cast<std::vector<unsigned long long>*>(ctx)->push_back(to);
            return 0;
          };
          EXPECT_EQ(hs_scan(dbs_[i].get(), span.data(), static_cast<unsigned int>(span.size()), 0,
                            scratch_.get(), on_match, &ends),
                    HS_SUCCESS);
          if (ends.empty()) continue;
          if (rules_[i].action == SignatureAction::alert) {
            add_alert(result, static_cast<RuleIndex>(i));
            continue;
          }
          const unsigned long long end = *std::min_element(ends.begin(), ends.end());
          if (best == kNoRule || end < best_end) {  // rules in index order: ties keep the lower
            best = static_cast<RuleIndex>(i);
            best_end = end;
          }
        }
        if (best != kNoRule) {
          result.drop_rule = best;
          return result;
        }
      }
    }
    return result;
  }

 private:
  static bool same_scope(const SignatureRule& a, const SignatureRule& b) {
    if (a.scope != b.scope) return false;
    if (a.scope != SignatureScopeKind::header) return true;
    const SipHeader ha = sip_header_from_name(a.header);
    if (ha != sip_header_from_name(b.header)) return false;
    return ha != SipHeader::other || iequal(a.header, b.header);
  }
  static void add_alert(ScanResult& r, RuleIndex id) {
    for (uint8_t i = 0; i < r.alert_count; ++i) {
      if (r.alerts[i] == id) return;
    }
    if (r.alert_count < ScanResult::kMaxAlerts) {
      r.alerts[r.alert_count++] = id;
    } else {
      ++r.alerts_overflow;
    }
  }

  std::vector<SignatureRule> rules_;
  std::vector<HsDatabase> dbs_;
  HsScratch scratch_;
  std::vector<std::vector<size_t>> groups_;
};

// A message built field by field, so values may hold any byte (including the '\n' separator).
struct Message {
  std::vector<std::string> names;
  std::vector<std::string> values;
  std::string request_uri;
  std::string body;
  std::string raw;
  bool is_request = true;
  std::vector<SipHeaderField> fields;
  SipMessage msg;

  void finish() {
    fields.clear();
    raw = request_uri;
    for (size_t i = 0; i < names.size(); ++i) {
      fields.push_back({sip_header_from_name(names[i]), names[i], values[i]});
      raw += "\n" + names[i] + ": " + values[i];
    }
    raw += "\n\n" + body;
    msg = {};
    msg.raw = raw;
    msg.is_request = is_request;
    msg.request_uri = request_uri;
    msg.headers = fields;
    msg.body = body;
  }
};

std::vector<RuleIndex> sorted_alerts(const ScanResult& r) {
  std::vector<RuleIndex> v(r.alert_rules().begin(), r.alert_rules().end());
  std::sort(v.begin(), v.end());
  return v;
}

// Same drop rule, error flag and alert set (the alert order within a span follows Hyperscan's match
// order, which the reference's per-rule databases do not reproduce).
void expect_same(const ScanResult& got, const ScanResult& want, const std::string& what) {
  EXPECT_EQ(got.drop_rule, want.drop_rule) << what;
  EXPECT_EQ(got.scan_error, want.scan_error) << what;
  EXPECT_EQ(got.alerts_overflow, want.alerts_overflow) << what;
  if (want.alerts_overflow == 0) {
    EXPECT_EQ(sorted_alerts(got), sorted_alerts(want)) << what;
  }
}

std::string describe(const Message& m) {
  std::string out = "ruri=[" + m.request_uri + "]";
  for (size_t i = 0; i < m.names.size(); ++i) out += " " + m.names[i] + "=[" + m.values[i] + "]";
  return out + " body=[" + m.body + "]";
}

struct Checked {
  std::unique_ptr<SignatureSet> set;
  SignatureScratch scratch;
  std::unique_ptr<ReferenceScanner> ref;
};

void compile_checked(Checked& c, const std::vector<SignatureRule>& rules) {
  auto r = SignatureSet::compile(rules);
  ASSERT_TRUE(r) << r.error;
  c.set = std::move(r.set);
  ASSERT_EQ(c.scratch.reserve(*c.set), "");
  c.ref = std::make_unique<ReferenceScanner>(c.set->rules());
}

SignatureRule rule(std::string id, SignatureScopeKind scope, std::string header,
                   std::string pattern, bool caseless, SignatureAction action) {
  SignatureRule r;
  r.id = std::move(id);
  r.scope = scope;
  r.header = std::move(header);
  r.pattern = std::move(pattern);
  r.caseless = caseless;
  r.action = action;
  return r;
}

// Patterns chosen to probe the screen's equivalence argument: start/end anchors in every form,
// word boundaries at span edges, classes and \s that match the '\n' separator, [^x]* runs that
// can cross it, inline options, and anchored rules with and without usable literal prefixes.
const char* const kPatterns[] = {
    "a",        "ab",      "b\\b",      "\\bab",   "ab$",  "a\\s+b", "a[^x]*b",    "a.b",
    "c\\n",     "\\Bb",    "(?m)^b",    "(?m)a$",  "b\\z", "\\Ab",   "a\\Z",       "ba|^c",
    "(?:^|;)a", "(?-i)AB", "(?i)ab",    "^ab",     "^a",   "^AB",    "^ab?c",      "^a*b",
    "^ab|cd",   "\\Aab",   "^a.b",      "^ab\\b",  "^ab$", "^b",     "^ -",        "^;a",
    "b;$",      "-\\w",    "\\W\\w\\W", "^\\w+;",  "bb+",  "^abc",   "^Ab{0,2}",   "\\s$",
    "^\\sa",    "a\\v",    "^[ab]",     "(?s)a.b", "^B-",  "a;|b-",  "[^a]\\n[^a]"};
const char* const kHeaders[] = {"User-Agent", "From", "f", "To", "X-Foo", "x-foo", "Via"};
constexpr char kAlphabet[] = {'a', 'b', 'c', 'A', 'B', ' ', '\n', '-', ';', 'x'};

std::string random_value(std::mt19937& rng) {
  const size_t len = rng() % 8 == 0 ? 0 : rng() % 12;
  std::string v;
  for (size_t i = 0; i < len; ++i) v += kAlphabet[rng() % sizeof(kAlphabet)];
  if (rng() % 40 == 0) {  // long enough to overflow the screen buffer on its own
    while (v.size() < SignatureScratch::kScreenBufferSize + 100) {
      v += kAlphabet[rng() % sizeof(kAlphabet)];
    }
  }
  return v;
}

TEST(SignatureScreen, RandomRulesAndMessagesMatchTheReference) {
  std::mt19937 rng(20240611);
  for (int set_round = 0; set_round < 60; ++set_round) {
    std::vector<SignatureRule> rules;
    const size_t n = 1 + rng() % 10;
    size_t alerts = 0;
    for (size_t i = 0; i < n; ++i) {
      const unsigned scope_pick = rng() % 10;
      SignatureScopeKind scope = SignatureScopeKind::header;
      if (scope_pick == 7) scope = SignatureScopeKind::request_uri;
      if (scope_pick == 8) scope = SignatureScopeKind::body;
      if (scope_pick == 9) scope = SignatureScopeKind::message;
      SignatureAction action = SignatureAction::drop;
      if (rng() % 3 == 0 && alerts < ScanResult::kMaxAlerts) {
        action = SignatureAction::alert;
        ++alerts;
      }
      rules.push_back(rule("r" + std::to_string(i), scope, kHeaders[rng() % std::size(kHeaders)],
                           kPatterns[rng() % std::size(kPatterns)], rng() % 2 == 0, action));
    }
    Checked c;
    ASSERT_NO_FATAL_FAILURE(compile_checked(c, rules));
    for (int msg_round = 0; msg_round < 150; ++msg_round) {
      Message m;
      m.is_request = rng() % 5 != 0;
      m.request_uri = random_value(rng);
      m.body = random_value(rng);
      const size_t headers = rng() % 9;
      for (size_t h = 0; h < headers; ++h) {
        m.names.push_back(kHeaders[rng() % std::size(kHeaders)]);
        m.values.push_back(random_value(rng));
      }
      m.finish();
      std::string what;
      for (const auto& r : rules) what += r.id + "=/" + r.pattern + "/ ";
      what += "| " + describe(m);
      expect_same(c.set->scan(m.msg, c.scratch), c.ref->scan(m.msg), what);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

// The default set on values assembled from attack fragments, including matches that would cross
// the '\n' separator ("union/*" in one header, "*/select" in the next).
TEST(SignatureScreen, DefaultSetMatchesTheReference) {
  Checked c;
  ASSERT_NO_FATAL_FAILURE(compile_checked(c, default_signature_rules()));
  const char* const fragments[] = {"friendly-scanner",
                                   "sipcli/1.8",
                                   "SIPVicious",
                                   "sipsak 0.9",
                                   "' or 1=1",
                                   "\" OR '1'='1",
                                   "union/*",
                                   "*/select ",
                                   "union select(",
                                   "; drop table",
                                   "admin'--",
                                   "x'#",
                                   "sleep(5)",
                                   "waitfor delay",
                                   "3a0133313233",
                                   "3a01333132",
                                   ";tag=",
                                   "$",
                                   " ",
                                   "\n",
                                   "x",
                                   "Sip",
                                   "<sip:1@h>",
                                   "\"a\"",
                                   "iWar",
                                   "smap",
                                   "-",
                                   "'",
                                   ";",
                                   "\\b"};
  const char* const names[] = {"User-Agent", "From", "f", "To", "t", "Via", "Contact"};
  std::mt19937 rng(7);
  for (int round = 0; round < 4000; ++round) {
    Message m;
    m.request_uri = "sip:100@192.0.2.1";
    const size_t headers = rng() % 6;
    for (size_t h = 0; h < headers; ++h) {
      m.names.push_back(names[rng() % std::size(names)]);
      std::string v;
      const size_t parts = rng() % 5;
      for (size_t p = 0; p < parts; ++p) v += fragments[rng() % std::size(fragments)];
      m.values.push_back(v);
    }
    m.finish();
    expect_same(c.set->scan(m.msg, c.scratch), c.ref->scan(m.msg), describe(m));
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(SignatureScreen, CrossingMatchIsNotReported) {
  Checked c;
  ASSERT_NO_FATAL_FAILURE(compile_checked(c, default_signature_rules()));
  Message m;
  m.request_uri = "sip:x";
  m.names = {"User-Agent", "From", "To"};
  m.values = {"x union/*", "*/select 1", "<sip:a@b>"};
  m.finish();
  const ScanResult r = c.set->scan(m.msg, c.scratch);
  EXPECT_FALSE(r.dropped());
  expect_same(r, c.ref->scan(m.msg), describe(m));
  m.values = {"x union/**/select 1", "<sip:a@b>", "<sip:a@b>"};
  m.finish();
  EXPECT_EQ(c.set->rule(c.set->scan(m.msg, c.scratch).drop_rule).id,
            "sipwall:sqli.union-select.ua");
}

// Anchored prefixes: each of these must still reach the anchored database.
TEST(SignatureScreen, AnchoredPrefixesStayExact) {
  struct Case {
    const char* pattern;
    bool caseless;
    const char* value;
    bool drops;
  };
  const Case cases[] = {
      {"^ab?c", true, "ac", true},           // '?' makes 'b' optional: prefix "a"
      {"^ab*c", true, "ac", true},           // '*' likewise
      {"^ab{0,1}c", true, "ac", true},       // '{' likewise
      {"^ab+c", true, "abbc", true},         // '+' keeps 'b'
      {"^ab|cd", true, "xcd", true},         // '|': not anchored as a whole, no prefix
      {"\\AGood", true, "goodphone", true},  // \A, caseless
      {"^Good", false, "goodphone", false},  // case-sensitive prefix
      {"^Good", false, "Goodphone", true},
      {"^sipcli\\b", true, "SIPCLI/1", true},
      {"^sipcli\\b", true, "sipclix", false},
      {"^a.b", true, "axb", true},
      {"^friendly-scanner", true, "friendly-scanne", false},  // shorter than the prefix
  };
  for (const Case& k : cases) {
    Checked c;
    ASSERT_NO_FATAL_FAILURE(
        compile_checked(c, {rule("r", SignatureScopeKind::header, "User-Agent", k.pattern,
                                 k.caseless, SignatureAction::drop)}));
    Message m;
    m.names = {"User-Agent"};
    m.values = {k.value};
    m.finish();
    const ScanResult r = c.set->scan(m.msg, c.scratch);
    EXPECT_EQ(r.dropped(), k.drops) << k.pattern << " on " << k.value;
    expect_same(r, c.ref->scan(m.msg), k.pattern);
  }
}

// Many screened spans: the buffer is scanned in pieces and an oversized span on its own.
TEST(SignatureScreen, SpansBeyondTheBufferAreScreened) {
  Checked c;
  ASSERT_NO_FATAL_FAILURE(compile_checked(
      c, {rule("via", SignatureScopeKind::header, "Via", "needle$", true, SignatureAction::drop)}));
  for (const size_t len : {size_t{10}, size_t{300}, SignatureScratch::kScreenBufferSize - 6,
                           SignatureScratch::kScreenBufferSize + 1}) {
    for (size_t where = 0; where < 12; where += 5) {
      Message m;
      for (size_t i = 0; i < 12; ++i) {
        m.names.push_back("Via");
        std::string v(len, 'x');
        if (i == where) v.replace(len - 6, 6, "needle");
        m.values.push_back(v);
      }
      m.finish();
      const ScanResult r = c.set->scan(m.msg, c.scratch);
      EXPECT_TRUE(r.dropped()) << len << " " << where;
      expect_same(r, c.ref->scan(m.msg), std::to_string(len));
    }
  }
}

}  // namespace
}  // namespace sipwall
