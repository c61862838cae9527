#include "sig/signature_set.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_set>
#include <utility>

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

constexpr char upper(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
}

// `lowered_prefix` is already lower case.
bool istarts_with(std::string_view s, std::string_view lowered_prefix) {
  if (s.size() < lowered_prefix.size()) return false;
  for (size_t i = 0; i < lowered_prefix.size(); ++i) {
    if (lower(s[i]) != lowered_prefix[i]) return false;
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

// Longest anchored-prefix literal kept per rule; a shorter prefix is still a necessary condition.
constexpr size_t kMaxPrefix = 16;

// The literal every match of an anchored pattern starts with, or "" if none can be derived. Only
// the run of plain printable ASCII right after the anchor counts (it stops at any metacharacter;
// a byte followed by ?, * or { may be optional, so it is dropped). A pattern with '|' anywhere is
// refused: an alternative of "^abc|def" is not anchored.
std::string anchored_literal_prefix(std::string_view pattern) {
  if (pattern.find('|') != std::string_view::npos) return {};
  size_t i = 0;
  if (pattern.starts_with('^')) {
    i = 1;
  } else if (pattern.starts_with("\\A")) {
    i = 2;
  } else {
    return {};
  }
  constexpr std::string_view kMeta = "\\^$.|?*+()[]{}";
  std::string out;
  for (; i < pattern.size() && out.size() < kMaxPrefix; ++i) {
    const char c = pattern[i];
    if (c < 0x20 || c > 0x7e || kMeta.find(c) != std::string_view::npos) break;
    out += c;
  }
  if (!out.empty() && i < pattern.size() &&
      (pattern[i] == '?' || pattern[i] == '*' || pattern[i] == '{')) {
    out.pop_back();
  }
  return out;
}

// Whether a floating pattern may go into the screen database (see signature_set.h): its matches
// must not depend on where the span sits in the buffer beyond what the '\n' separators and
// HS_FLAG_MULTILINE reproduce. Conservative: refuses \A \Z \z \G even when escaped, any (*VERB)
// and any inline option group that turns an option off (it could turn multiline off).
bool screen_safe(std::string_view pattern) {
  for (size_t i = 0; i + 1 < pattern.size(); ++i) {
    const char c = pattern[i];
    const char n = pattern[i + 1];
    if (c == '\\' && (n == 'A' || n == 'Z' || n == 'z' || n == 'G')) return false;
    if (c == '(' && n == '*') return false;
    if (c == '(' && n == '?') {
      for (size_t j = i + 2; j < pattern.size(); ++j) {
        const char o = pattern[j];
        if (o == '-') return false;
        if (!((o >= 'a' && o <= 'z') || (o >= 'A' && o <= 'Z'))) break;
      }
    }
  }
  return true;
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

int on_screen_match(unsigned int /*id*/, unsigned long long /*from*/, unsigned long long /*to*/,
                    unsigned int /*flags*/, void* /*ctx*/) {
  return 1;  // one match is enough: the exact scan decides
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

  // Anchored prefixes.
  for (size_t g = 0; g < set->groups_.size(); ++g) {
    ScopeGroup& grp = set->groups_[g];
    if (!grp.anchored) continue;
    bool all = true;
    for (RuleIndex i : members[g]) {
      const SignatureRule& r = rules[i];
      if (!starts_anchored(r.pattern)) continue;
      std::string prefix = anchored_literal_prefix(r.pattern);
      if (prefix.empty()) {
        all = false;
        break;
      }
      if (r.caseless) prefix = lowered(prefix);
      for (const char c : {prefix[0], r.caseless ? upper(prefix[0]) : prefix[0]}) {
        const auto b = static_cast<uint8_t>(c);
        grp.prefix_first[b >> 6] |= uint64_t{1} << (b & 63);
      }
      grp.prefixes.push_back({std::move(prefix), r.caseless});
    }
    grp.anchored_prefiltered = all;
    if (!all) {
      grp.prefixes.clear();
      grp.prefix_first = {};
    }
  }

  // Screen database: the floating rules of every qualifying group, each distinct pattern once.
  {
    std::vector<std::pair<std::string_view, bool>> screen;  // pattern, caseless
    for (size_t g = 0; g < set->groups_.size(); ++g) {
      ScopeGroup& grp = set->groups_[g];
      if (!grp.floating || grp.kind == SignatureScopeKind::message) continue;
      bool safe = true;
      for (RuleIndex i : members[g]) {
        if (!starts_anchored(rules[i].pattern) && !screen_safe(rules[i].pattern)) safe = false;
      }
      if (!safe) continue;
      grp.floating_screened = true;
      for (RuleIndex i : members[g]) {
        if (starts_anchored(rules[i].pattern)) continue;
        const std::pair<std::string_view, bool> p{rules[i].pattern, rules[i].caseless};
        if (std::find(screen.begin(), screen.end(), p) == screen.end()) screen.push_back(p);
      }
    }
    if (!screen.empty()) {
      std::vector<std::string> patterns;
      std::vector<const char*> cstr;
      std::vector<unsigned int> flags;
      std::vector<unsigned int> ids;
      for (const auto& [pattern, caseless] : screen) patterns.emplace_back(pattern);
      for (size_t k = 0; k < screen.size(); ++k) {
        cstr.push_back(patterns[k].c_str());
        flags.push_back(HS_FLAG_MULTILINE | HS_FLAG_SINGLEMATCH |
                        (screen[k].second ? HS_FLAG_CASELESS : 0u));
        ids.push_back(static_cast<unsigned int>(k));
      }
      hs_database_t* db = nullptr;
      hs_compile_error_t* err = nullptr;
      const hs_error_t rc = hs_compile_multi(cstr.data(), flags.data(), ids.data(),
                                             static_cast<unsigned int>(cstr.size()), HS_MODE_BLOCK,
                                             nullptr, &db, &err);
      HsCompileError err_guard(err);
      if (rc == HS_SUCCESS) {
        set->screen_.reset(db);
        set->databases_.push_back(db);
      } else {
        // Not expected (the same patterns compiled above); without a screen every scan is exact.
        for (ScopeGroup& grp : set->groups_) grp.floating_screened = false;
      }
    }
  }

  // Screen pass lookup tables.
  set->header_group_.fill(kNoGroup);
  for (size_t g = 0; g < set->groups_.size(); ++g) {
    const ScopeGroup& grp = set->groups_[g];
    const auto gi = static_cast<uint32_t>(g);
    if (grp.kind != SignatureScopeKind::header) {
      set->non_header_groups_.push_back(gi);
    } else if (grp.header == SipHeader::other) {
      set->other_header_groups_.push_back(gi);
    } else {
      set->header_group_[static_cast<size_t>(grp.header)] = gi;
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

bool SignatureSet::anchored_may_match(const ScopeGroup& g, std::string_view span) {
  const auto b = static_cast<uint8_t>(span.front());
  if (((g.prefix_first[b >> 6] >> (b & 63)) & 1) == 0) return false;
  for (const AnchoredPrefix& p : g.prefixes) {
    if (p.caseless ? istarts_with(span, p.text) : span.starts_with(p.text)) return true;
  }
  return false;
}

template <typename Fn>
bool SignatureSet::for_each_span(const ScopeGroup& g, const SipMessage& msg, Fn&& fn) {
  switch (g.kind) {
    case SignatureScopeKind::header:
      for (const SipHeaderField& h : msg.headers) {
        if (h.id != g.header) continue;
        if (g.header == SipHeader::other && !iequals(h.name, g.other_name)) continue;
        if (fn(h.value)) return true;
      }
      return false;
    case SignatureScopeKind::request_uri:
      return msg.is_request && fn(msg.request_uri);
    case SignatureScopeKind::body:
      return fn(msg.body);
    case SignatureScopeKind::message:
      return fn(msg.raw);
  }
  return false;
}

ScanResult SignatureSet::scan(const SipMessage& msg, SignatureScratch& scratch) const {
  // Without a scratch every database errors: scan as before the pre-checks, so it is reported.
  if (!scratch.allocated()) return scan_exact(msg, scratch, false, false);
  if (!screen_) return scan_exact(msg, scratch, false, true);

  // Screen pass: one walk over the message. `need_exact` is set by every span that some database
  // not cleared by the screen must still scan.
  hs_scratch_t* hs_scratch = scratch.get();
  char* const buf = scratch.screen_buffer();
  const size_t cap = scratch.screen_buffer_size();
  size_t used = 0;
  bool need_exact = false;

  // True on a screen match or an error.
  auto screen_scan = [&](const char* data, size_t len) {
    return hs_scan(screen_.get(), data, static_cast<unsigned int>(len), 0, hs_scratch,
                   on_screen_match, nullptr) != HS_SUCCESS;
  };
  // True when the exact scan of everything must run.
  auto visit = [&](const ScopeGroup& g, std::string_view span) {
    if (span.empty()) return false;  // no pattern may match empty input
    if (g.anchored && (!g.anchored_prefiltered || anchored_may_match(g, span))) need_exact = true;
    if (!g.floating) return false;
    if (!g.floating_screened) {
      need_exact = true;
      return false;
    }
    const size_t sep = used == 0 ? 0 : 1;
    if (span.size() + sep > cap - used) {
      if (used != 0 && screen_scan(buf, used)) return true;
      used = 0;
      if (span.size() > cap) return screen_scan(span.data(), span.size());
    } else if (sep != 0) {
      buf[used++] = '\n';
    }
    std::memcpy(buf + used, span.data(), span.size());
    used += span.size();
    return false;
  };

  bool hit = false;
  for (const SipHeaderField& h : msg.headers) {
    if (h.id == SipHeader::other) {
      for (const uint32_t g : other_header_groups_) {
        const ScopeGroup& grp = groups_[g];
        if (iequals(h.name, grp.other_name) && visit(grp, h.value)) {
          hit = true;
          break;
        }
      }
    } else {
      const uint32_t g = header_group_[static_cast<size_t>(h.id)];
      if (g != kNoGroup && visit(groups_[g], h.value)) hit = true;
    }
    if (hit) break;
  }
  if (!hit) {
    for (const uint32_t g : non_header_groups_) {
      const ScopeGroup& grp = groups_[g];
      if (for_each_span(grp, msg, [&](std::string_view span) { return visit(grp, span); })) {
        hit = true;
        break;
      }
    }
  }
  if (!hit && used != 0) hit = screen_scan(buf, used);

  if (hit) return scan_exact(msg, scratch, false, true);
  if (!need_exact) return {};
  return scan_exact(msg, scratch, true, true);
}

ScanResult SignatureSet::scan_exact(const SipMessage& msg, SignatureScratch& scratch,
                                    bool skip_screened, bool prefilter_anchored) const {
  ScanResult result;
  MatchState st{is_drop_.data(), &result};
  hs_scratch_t* hs_scratch = scratch.get();

  // Scans one span with both databases of the group; true when scanning must stop (a drop
  // decided, or an error). The drop tie rule spans both databases.
  auto scan_span = [&](const ScopeGroup& g, std::string_view span) {
    if (span.empty()) return false;  // no pattern may match empty input (no HS_FLAG_ALLOWEMPTY)
    const hs_database_t* anchored = g.anchored.get();
    if (anchored != nullptr && prefilter_anchored && g.anchored_prefiltered &&
        !anchored_may_match(g, span)) {
      anchored = nullptr;  // starts with none of the anchored literals: cannot match
    }
    const hs_database_t* floating =
        skip_screened && g.floating_screened ? nullptr : g.floating.get();
    for (const hs_database_t* db : {anchored, floating}) {
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
    if (for_each_span(g, msg, [&](std::string_view span) { return scan_span(g, span); })) break;
  }
  return result;
}

}  // namespace sipwall
