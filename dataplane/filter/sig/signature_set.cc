#include "sig/signature_set.h"

#include <string_view>
#include <unordered_set>

#include "sig/signature_scratch.h"

namespace sipwall {
namespace {

constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string rule_error(const SignatureRule& r, std::string_view what) {
  return "rule '" + r.id + "': " + std::string(what);
}

bool starts_anchored(std::string_view pattern) {
  return pattern.starts_with('^') || pattern.starts_with("\\A");
}

// Compiles rules[part] into one block-mode database; returns an error naming the rule.
std::string compile_database(const std::vector<SignatureRule>& rules,
                             const std::vector<RuleIndex>& part, HsDatabase& db_out) {
  std::vector<const char*> patterns;
  std::vector<unsigned int> flags;
  for (RuleIndex i : part) {
    const SignatureRule& r = rules[i];
    patterns.push_back(r.pattern.c_str());
    unsigned int f = 0;
    if (r.caseless) f |= HS_FLAG_CASELESS;
    // Alerts only need "matched in this span"; drops need every end offset (see scan()).
    if (r.action == SignatureAction::alert) f |= HS_FLAG_SINGLEMATCH;
    flags.push_back(f);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  const hs_error_t rc =
      hs_compile_multi(patterns.data(), flags.data(), part.data(),
                       static_cast<unsigned int>(part.size()), HS_MODE_BLOCK, nullptr, &db, &err);
  HsCompileError err_guard(err);
  if (rc == HS_SUCCESS) {
    db_out.reset(db);
    return {};
  }
  const std::string msg = err && err->message ? err->message : "unknown error";
  if (err && err->expression >= 0 && static_cast<size_t>(err->expression) < part.size()) {
    const SignatureRule& r = rules[part[static_cast<size_t>(err->expression)]];
    return rule_error(r, "pattern /" + r.pattern + "/: " + msg);
  }
  return rule_error(rules[part.front()], "scope compile failed: " + msg);
}

// Per-scan state handed to the Hyperscan callback; lives on the scanning thread's stack.
struct MatchState {
  const uint8_t* is_drop;
  ScanResult* result;
  RuleIndex best = kNoRule;
  unsigned long long best_end = 0;
};

void add_alert(ScanResult& r, RuleIndex id) {
  for (uint8_t i = 0; i < r.alert_count; ++i) {
    if (r.alerts[i] == id) return;  // one count per rule and message
  }
  if (r.alert_count < ScanResult::kMaxAlerts) {
    r.alerts[r.alert_count++] = id;
  } else if (r.alerts_overflow < UINT16_MAX) {
    ++r.alerts_overflow;
  }
}

int on_match(unsigned int id, unsigned long long /*from*/, unsigned long long to,
             unsigned int /*flags*/, void* ctx) {
  auto& st = *static_cast<MatchState*>(ctx);
  if (st.is_drop[id]) {
    // Hyperscan does not order matches: keep the smallest end offset, then the lowest index.
    if (st.best == kNoRule || to < st.best_end || (to == st.best_end && id < st.best)) {
      st.best = id;
      st.best_end = to;
    }
  } else {
    add_alert(*st.result, id);
  }
  return 0;  // the whole span is needed to find the earliest drop match
}

}  // namespace

CompileResult SignatureSet::compile(std::vector<SignatureRule> rules) {
  CompileResult out;
  if (rules.size() >= kNoRule) {
    out.error = "too many rules";
    return out;
  }

  std::unique_ptr<SignatureSet> set(new SignatureSet());
  std::vector<std::vector<RuleIndex>> members;  // rule indices per group
  std::unordered_set<std::string_view> ids;

  for (RuleIndex i = 0; i < rules.size(); ++i) {
    const SignatureRule& r = rules[i];
    if (r.id.empty()) {
      out.error = "rule #" + std::to_string(i + 1) + ": empty id";
      return out;
    }
    if (!ids.insert(r.id).second) {
      out.error = rule_error(r, "duplicate id");
      return out;
    }
    if (r.pattern.empty()) {
      out.error = rule_error(r, "empty pattern");
      return out;
    }
    ScopeGroup key;
    key.kind = r.scope;
    if (r.scope == SignatureScopeKind::header) {
      if (r.header.empty()) {
        out.error = rule_error(r, "header scope without a header name");
        return out;
      }
      key.header = sip_header_from_name(r.header);
      if (key.header == SipHeader::other) key.other_name = lowered(r.header);
    }
    size_t g = 0;
    for (; g < set->groups_.size(); ++g) {
      const ScopeGroup& e = set->groups_[g];
      if (e.kind == key.kind && e.header == key.header && e.other_name == key.other_name) break;
    }
    if (g == set->groups_.size()) {
      set->groups_.push_back(std::move(key));
      members.emplace_back();
    }
    members[g].push_back(i);
  }

  for (size_t g = 0; g < set->groups_.size(); ++g) {
    for (const bool anchored : {true, false}) {
      std::vector<RuleIndex> part;
      for (RuleIndex i : members[g]) {
        if (starts_anchored(rules[i].pattern) == anchored) part.push_back(i);
      }
      if (part.empty()) continue;
      HsDatabase db;
      out.error = compile_database(rules, part, db);
      if (!out.error.empty()) return out;
      set->databases_.push_back(db.get());
      (anchored ? set->groups_[g].anchored : set->groups_[g].floating) = std::move(db);
    }
  }

  set->is_drop_.reserve(rules.size());
  for (const SignatureRule& r : rules) {
    set->is_drop_.push_back(r.action == SignatureAction::drop ? 1 : 0);
  }
  set->rules_ = std::move(rules);
  out.set = std::move(set);
  return out;
}

ScanResult SignatureSet::scan(const SipMessage& msg, SignatureScratch& scratch) const {
  ScanResult result;
  MatchState st{is_drop_.data(), &result};
  hs_scratch_t* hs_scratch = scratch.get();

  // Scans one span with both databases of the group; true when scanning must stop (a drop
  // decided, or an error). The drop tie rule spans both databases.
  auto scan_span = [&](const ScopeGroup& g, std::string_view span) {
    if (span.empty()) return false;  // no pattern may match empty input (no HS_FLAG_ALLOWEMPTY)
    for (const hs_database_t* db : {g.anchored.get(), g.floating.get()}) {
      if (db == nullptr) continue;
      const hs_error_t rc = hs_scan(db, span.data(), static_cast<unsigned int>(span.size()), 0,
                                    hs_scratch, on_match, &st);
      if (rc != HS_SUCCESS) {
        result.scan_error = true;
        return true;
      }
    }
    if (st.best != kNoRule) {
      result.drop_rule = st.best;
      return true;
    }
    return false;
  };

  for (const ScopeGroup& g : groups_) {
    switch (g.kind) {
      case SignatureScopeKind::header:
        for (const SipHeaderField& h : msg.headers) {
          if (h.id != g.header) continue;
          if (g.header == SipHeader::other && !iequals(h.name, g.other_name)) continue;
          if (scan_span(g, h.value)) return result;
        }
        break;
      case SignatureScopeKind::request_uri:
        if (msg.is_request && scan_span(g, msg.request_uri)) return result;
        break;
      case SignatureScopeKind::body:
        if (scan_span(g, msg.body)) return result;
        break;
      case SignatureScopeKind::message:
        if (scan_span(g, msg.raw)) return result;
        break;
    }
  }
  return result;
}

}  // namespace sipwall
