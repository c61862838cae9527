// The signature stage over a validated message: the liberal validator frames the input, then
// the shipped set and a set of literal rules over every scope (known headers by full and compact
// name, an unknown header, Request-URI, body, whole message; anchored and floating, so both
// databases, the screen and the anchored-prefix shortcut are used; more alert rules than a
// ScanResult holds). Asserts Hyperscan never fails, the result names real rules of the right
// action, and for the literal set that drop rule and alerts are exactly what a brute-force
// search in the documented decision order (signature_set.h) finds.

#include <cstdint>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "sig/default_signatures.h"
#include "sig/signature_scratch.h"
#include "sig/signature_set.h"
#include "sip/sip_validator.h"

namespace sipwall::fuzz {
namespace {

// Literal rules, so a plain search is an exact oracle for Hyperscan and for the set's screen
// and anchored-prefix shortcuts. Several rules share a scope (by full and compact name) and the
// anchored literals share first octets, so the shortcuts have something to get wrong.
struct Literal {
  SignatureScopeKind scope;
  const char* header;
  const char* text;
  bool anchored;
  bool caseless;
  SignatureAction action;
};
constexpr auto kDrop = SignatureAction::drop;
constexpr auto kAlert = SignatureAction::alert;
constexpr auto kHeader = SignatureScopeKind::header;
constexpr Literal kLiterals[] = {
    {kHeader, "User-Agent", "sipvicious", true, true, kDrop},
    {kHeader, "User-Agent", "sip", true, true, kAlert},
    {kHeader, "User-Agent", "scan", false, true, kAlert},
    {kHeader, "f", "tag=evil", false, true, kDrop},
    {kHeader, "From", "sip:1", false, false, kAlert},
    {kHeader, "Via", "rport", false, true, kAlert},
    {kHeader, "v", "sip/2", true, false, kDrop},
    {kHeader, "X-Foo", "bar", true, false, kDrop},
    {kHeader, "x-foo", "z", false, true, kAlert},
    {kHeader, "m", "expires=0", false, true, kAlert},
    {kHeader, "Subject", "2002", false, true, kAlert},
    {kHeader, "t", "<sip:1", true, true, kAlert},
    {kHeader, "i", "@", false, true, kAlert},
    {kHeader, "CSeq", "1 ", true, true, kAlert},
    {kHeader, "Accept", "sdp", false, true, kDrop},
    {SignatureScopeKind::request_uri, "", "sip:100@", true, true, kDrop},
    {SignatureScopeKind::request_uri, "", ";user=", false, true, kAlert},
    {SignatureScopeKind::body, "", "m=audio", false, true, kAlert},
    {SignatureScopeKind::body, "", "v=1", true, false, kDrop},
    {SignatureScopeKind::message, "", "\\r\\n\\r\\n\\r\\n", false, false, kAlert},
    {SignatureScopeKind::message, "", "INVITE", true, true, kAlert},
};

std::string unescaped(std::string_view t) {
  std::string out;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\\' && i + 1 < t.size()) {
      ++i;
      out += t[i] == 'r' ? '\r' : t[i] == 'n' ? '\n' : t[i];
    } else {
      out += t[i];
    }
  }
  return out;
}

std::vector<SignatureRule> literal_rules() {
  std::vector<SignatureRule> rules;
  for (size_t i = 0; i < std::size(kLiterals); ++i) {
    const Literal& l = kLiterals[i];
    rules.push_back({"lit." + std::to_string(i), "", std::string(l.anchored ? "^" : "") + l.text,
                     l.scope, l.header, l.caseless, l.action});
  }
  return rules;
}

char fold(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

// End offset of the first match of `l` in `span`, or npos.
size_t first_end(const Literal& l, std::string_view span) {
  const std::string text = unescaped(l.text);
  const auto same = [&](size_t at) {
    for (size_t k = 0; k < text.size(); ++k) {
      if (l.caseless ? fold(span[at + k]) != fold(text[k]) : span[at + k] != text[k]) {
        return false;
      }
    }
    return true;
  };
  if (text.size() > span.size()) return std::string_view::npos;
  for (size_t at = 0; at + text.size() <= span.size(); ++at) {
    if (same(at)) return at + text.size();
    if (l.anchored) break;
  }
  return std::string_view::npos;
}

bool same_scope(const Literal& a, const Literal& b) {
  if (a.scope != b.scope) return false;
  if (a.scope != kHeader) return true;
  const SipHeader ha = sip_header_from_name(a.header);
  if (ha != sip_header_from_name(b.header)) return false;
  if (ha != SipHeader::other) return true;
  const std::string_view x = a.header;
  const std::string_view y = b.header;
  if (x.size() != y.size()) return false;
  for (size_t k = 0; k < x.size(); ++k) {
    if (fold(x[k]) != fold(y[k])) return false;
  }
  return true;
}

bool header_in_scope(const Literal& l, const SipHeaderField& h) {
  const SipHeader id = sip_header_from_name(l.header);
  if (h.id != id) return false;
  if (id != SipHeader::other) return true;
  const std::string_view n = l.header;
  if (h.name.size() != n.size()) return false;
  for (size_t k = 0; k < n.size(); ++k) {
    if (fold(h.name[k]) != fold(n[k])) return false;
  }
  return true;
}

// The documented decision order (signature_set.h), by brute force.
struct Expected {
  RuleIndex drop = kNoRule;
  std::set<RuleIndex> alerts;
};

Expected oracle(const SipMessage& m) {
  Expected e;
  std::vector<size_t> group_leaders;  // first rule of each scope, in rule order
  for (size_t i = 0; i < std::size(kLiterals); ++i) {
    bool known = false;
    for (const size_t g : group_leaders) known = known || same_scope(kLiterals[g], kLiterals[i]);
    if (!known) group_leaders.push_back(i);
  }
  // Scans one span with every rule of the group; true once a drop decided.
  const auto scan = [&](size_t leader, std::string_view span) {
    size_t best_end = std::string_view::npos;
    for (size_t i = 0; i < std::size(kLiterals); ++i) {
      const Literal& l = kLiterals[i];
      if (!same_scope(kLiterals[leader], l)) continue;
      const size_t end = first_end(l, span);
      if (end == std::string_view::npos) continue;
      if (l.action == kAlert) {
        e.alerts.insert(static_cast<RuleIndex>(i));
      } else if (end < best_end) {  // rules in index order: ties keep the lowest
        best_end = end;
        e.drop = static_cast<RuleIndex>(i);
      }
    }
    return e.drop != kNoRule;
  };
  for (const size_t g : group_leaders) {
    const Literal& l = kLiterals[g];
    switch (l.scope) {
      case SignatureScopeKind::header:
        for (const SipHeaderField& h : m.headers) {
          if (header_in_scope(l, h) && scan(g, h.value)) return e;
        }
        break;
      case SignatureScopeKind::request_uri:
        if (m.is_request && scan(g, m.request_uri)) return e;
        break;
      case SignatureScopeKind::body:
        if (scan(g, m.body)) return e;
        break;
      case SignatureScopeKind::message:
        if (scan(g, m.raw)) return e;
        break;
    }
  }
  return e;
}

struct Set {
  explicit Set(std::vector<SignatureRule> rules) {
    auto compiled = SignatureSet::compile(std::move(rules));
    FUZZ_CHECK(compiled, "compile: %s", compiled.error.c_str());
    set = std::move(compiled.set);
    const std::string e = scratch.reserve(*set);
    FUZZ_CHECK(e.empty(), "scratch: %s", e.c_str());
  }
  std::unique_ptr<SignatureSet> set;
  SignatureScratch scratch;
};

ScanResult check(const Set& s, const SipMessage& m) {
  const ScanResult r = s.set->scan(m, const_cast<SignatureScratch&>(s.scratch));
  FUZZ_CHECK(!r.scan_error, "Hyperscan failed");
  if (r.dropped()) {
    FUZZ_CHECK(r.drop_rule < s.set->size(), "drop rule %u", unsigned{r.drop_rule});
    FUZZ_CHECK(s.set->rule(r.drop_rule).action == SignatureAction::drop, "not a drop rule");
  }
  FUZZ_CHECK(r.alert_count <= ScanResult::kMaxAlerts, "alert_count %u", unsigned{r.alert_count});
  for (size_t i = 0; i < r.alert_count; ++i) {
    const RuleIndex a = r.alerts[i];
    FUZZ_CHECK(a < s.set->size() && s.set->rule(a).action == SignatureAction::alert, "alert %u",
               unsigned{a});
    for (size_t j = 0; j < i; ++j) FUZZ_CHECK(r.alerts[j] != a, "alert %u twice", unsigned{a});
  }
  return r;
}

}  // namespace
}  // namespace sipwall::fuzz

namespace {
const sipwall::fuzz::Set* g_shipped = nullptr;
const sipwall::fuzz::Set* g_literals = nullptr;
}  // namespace

// Compiles the sets before the first input, so their compile time is not counted against it.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_shipped = new sipwall::fuzz::Set(sipwall::default_signature_rules());
  g_literals = new sipwall::fuzz::Set(sipwall::fuzz::literal_rules());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  using namespace sipwall::fuzz;
  static SipValidator validator({.profile = SipProfile::liberal});
  const Set& shipped = *g_shipped;
  const Set& literals = *g_literals;
  SipMessage m;
  if (validator.validate({reinterpret_cast<const char*>(data), size}, m) != SipError::ok) return 0;
  check(shipped, m);
  const ScanResult r = check(literals, m);
  const Expected e = oracle(m);
  FUZZ_CHECK(r.drop_rule == e.drop, "drop rule %d, expected %d", static_cast<int>(r.drop_rule),
             static_cast<int>(e.drop));
  const std::set<RuleIndex> got(r.alerts.begin(), r.alerts.begin() + r.alert_count);
  if (e.alerts.size() <= ScanResult::kMaxAlerts) {
    FUZZ_CHECK(got == e.alerts && r.alerts_overflow == 0, "%zu alerts, expected %zu", got.size(),
               e.alerts.size());
  } else {
    FUZZ_CHECK(r.alert_count == ScanResult::kMaxAlerts, "%u alerts of %zu", unsigned{r.alert_count},
               e.alerts.size());
    for (const RuleIndex a : got) FUZZ_CHECK(e.alerts.contains(a), "unexpected alert %u", a);
  }
  return 0;
}
