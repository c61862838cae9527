#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/verdict.h"
#include "sig/hs_handle.h"
#include "sig/signature_rule.h"
#include "sip/sip_message.h"

namespace sipwall {

class SignatureScratch;

// What one scan found. Fixed size: the hot path fills it without allocating.
struct ScanResult {
  static constexpr size_t kMaxAlerts = 8;

  RuleIndex drop_rule = kNoRule;  // the drop rule that decides, kNoRule if none matched
  uint8_t alert_count = 0;        // distinct alert-only rules in `alerts`
  uint16_t alerts_overflow = 0;   // further alert hits that did not fit
  bool scan_error = false;        // Hyperscan failed (e.g. scratch not reserved for this set)
  std::array<RuleIndex, kMaxAlerts> alerts{};

  bool dropped() const { return drop_rule != kNoRule; }
  std::span<const RuleIndex> alert_rules() const { return {alerts.data(), alert_count}; }
};

struct CompileResult;

// An immutable, compiled rule set. Workers share one instance behind one pointer; a reload
// compiles a new set off the fast path and swaps the pointer.
//
// Rules are grouped by scope (header, Request-URI, body, message), and scan() only scans the spans
// each group is scoped to. A group holds up to two Hyperscan block-mode databases: rules anchored
// at the start (^ or \A) and floating rules, because one mixed database was much slower
// (measured on a User-Agent: 17 + 55 ns for the two databases vs 126 ns mixed).
//
// Two exact pre-checks keep clean messages away from most hs_scan calls (15-45 ns per header
// value each, mostly Hyperscan's literal matcher: a call on 1 byte costs ~3 ns); both only
// skip a database when it provably cannot match, so they never change the result:
//  - Anchored prefixes: when every anchored rule of a group starts with a literal (^sipcli\b ->
//    "sipcli"), a span that starts with none of them skips the anchored database.
//  - Screen: the floating rules of every group that qualifies (header, Request-URI and body
//    scopes; patterns without \A \Z \z \G, (* verbs or (?-...) options) are also compiled once,
//    deduplicated, into one "screen" database with HS_FLAG_MULTILINE | HS_FLAG_SINGLEMATCH. Each
//    scan copies those groups' spans into one per-worker buffer, separated by '\n', and scans it
//    once. Any match of a rule in its span alone is also a screen match: matching is
//    context-free except for anchors and \b/\B; the screen's ^ and $ also match next to the
//    '\n' separators, and '\n' is a non-word byte as the span edges are. Only if the screen finds
//    nothing are those floating databases skipped; any screen match (or error) falls back to the
//    exact per-span scan below, which alone decides the result.
// Default set on a clean ~1 KB INVITE: one hs_scan of ~175 bytes, ~77 ns (four exact hs_scan
// calls: ~166 ns). A message that trips the screen pays the screen plus the exact scan.
//
// Decision order (deterministic):
//  1. Scope groups are scanned in the order of their first rule in the rule list; a header group
//     scans every instance of its header in message order.
//  2. Scanning stops after the first span in which a drop rule matched.
//  3. Within that span the drop match with the smallest end offset wins; on equal end offsets the
//     lowest rule index wins. (Hyperscan does not order matches, so the whole span is scanned.)
// Alert-only rules matched in every span scanned up to and including the deciding span are
// reported, each at most once per message.
class SignatureSet {
 public:
  // Compiles every pattern. On failure the error names the rule id and Hyperscan's message.
  static CompileResult compile(std::vector<SignatureRule> rules);

  size_t size() const { return rules_.size(); }
  const SignatureRule& rule(RuleIndex i) const { return rules_[i]; }
  std::span<const SignatureRule> rules() const { return rules_; }

  // Hot path: allocates nothing, takes no lock. `scratch` must have been reserved for this set.
  ScanResult scan(const SipMessage& msg, SignatureScratch& scratch) const;

  // Databases, for SignatureScratch::reserve (the screen database included).
  size_t database_count() const { return databases_.size(); }
  const hs_database_t* database(size_t i) const { return databases_[i]; }

  SignatureSet(SignatureSet&&) = default;
  SignatureSet& operator=(SignatureSet&&) = default;

 private:
  // Literal prefix every anchored rule of a group needs at the start of the span.
  struct AnchoredPrefix {
    std::string text;  // lowered when caseless
    bool caseless = false;
  };

  struct ScopeGroup {
    SignatureScopeKind kind = SignatureScopeKind::header;
    SipHeader header = SipHeader::other;
    std::string other_name;  // header name when `header` is SipHeader::other
    HsDatabase anchored;     // rules starting with ^ or \A; may be null
    HsDatabase floating;     // every other rule; may be null
    // Set when every anchored rule has a literal prefix: the anchored database only runs on a span
    // whose first byte is in `prefix_first` and that starts with one of `prefixes`.
    bool anchored_prefiltered = false;
    std::array<uint64_t, 4> prefix_first{};  // bitmap by first byte (both cases when caseless)
    std::vector<AnchoredPrefix> prefixes;
    bool floating_screened = false;  // the screen database covers `floating`
  };

  SignatureSet() = default;

  static bool anchored_may_match(const ScopeGroup& g, std::string_view span);
  // The group's spans, in message order; calls fn(span) until it returns true. Returns true if it
  // did.
  template <typename Fn>
  static bool for_each_span(const ScopeGroup& g, const SipMessage& msg, Fn&& fn);
  // Exact scan (the decision order above). With `skip_screened`, floating databases the screen
  // cleared are not run; with `prefilter_anchored`, nor are anchored databases whose prefixes rule
  // the span out.
  ScanResult scan_exact(const SipMessage& msg, SignatureScratch& scratch, bool skip_screened,
                        bool prefilter_anchored) const;

  std::vector<SignatureRule> rules_;
  std::vector<uint8_t> is_drop_;  // by rule index; read by the match callback
  std::vector<ScopeGroup> groups_;
  HsDatabase screen_;  // null when no group is screened
  // Screen pass lookup: group of each known header (kNoGroup if none), then the other groups.
  static constexpr uint32_t kNoGroup = UINT32_MAX;
  std::array<uint32_t, kSipHeaderCount> header_group_{};
  std::vector<uint32_t> other_header_groups_;    // header groups for SipHeader::other names
  std::vector<uint32_t> non_header_groups_;      // Request-URI, body and message groups
  std::vector<const hs_database_t*> databases_;  // every non-null database, for the scratch
};

struct CompileResult {
  std::unique_ptr<SignatureSet> set;  // null on failure
  std::string error;                  // "rule '<id>': pattern /<re>/: <Hyperscan message>" etc.

  explicit operator bool() const { return set != nullptr; }
};

}  // namespace sipwall
