// The signature stage over a validated message: the liberal validator frames the input, then
// the shipped set and a set built to exercise every scope (known headers by full and compact
// name, an unknown header, Request-URI, body, whole message), anchored and floating databases,
// the screen, and more alert rules than a ScanResult holds. Asserts Hyperscan never fails and
// the result names real rules of the right action.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "sig/default_signatures.h"
#include "sig/signature_scratch.h"
#include "sig/signature_set.h"
#include "sip/sip_validator.h"

namespace sipwall::fuzz {
namespace {

std::vector<SignatureRule> scoped_rules() {
  using K = SignatureScopeKind;
  constexpr auto alert = SignatureAction::alert;
  constexpr auto drop = SignatureAction::drop;
  std::vector<SignatureRule> r = {
      header_signature("ua.anchored", "User-Agent", "^sipvicious\\b"),
      header_signature("ua.float", "User-Agent", "scan", {}, alert),
      header_signature("from.tag", "f", "tag=evil"),
      header_signature("via.alert", "Via", "rport", {}, alert),
      header_signature("x.unknown", "X-Foo", "^bar", {}, drop, false),
      header_signature("contact.star", "m", "\\*", {}, alert),
      header_signature("subject", "Subject", "[0-9]{4}", {}, alert),
      header_signature("to.alert", "t", "^<?sip:1", {}, alert),
      header_signature("callid", "i", "@", {}, alert),
      header_signature("cseq", "CSeq", "^1 ", {}, alert),
      header_signature("accept", "Accept", "sdp", {}, alert),
  };
  r.push_back({"ruri", "", "^sip:100@", K::request_uri, "", true, drop});
  r.push_back({"ruri.alert", "", ";user=", K::request_uri, "", true, alert});
  r.push_back({"body", "", "m=audio", K::body, "", true, alert});
  r.push_back({"body.drop", "", "^v=1", K::body, "", false, drop});
  r.push_back({"msg", "", "\\r\\n\\r\\n\\r\\n", K::message, "", false, alert});
  return r;
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

void check(const Set& s, const SipMessage& m) {
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
}

}  // namespace
}  // namespace sipwall::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  using namespace sipwall::fuzz;
  static SipValidator validator({.profile = SipProfile::liberal});
  static const Set shipped(default_signature_rules());
  static const Set scoped(scoped_rules());
  SipMessage m;
  if (validator.validate({reinterpret_cast<const char*>(data), size}, m) != SipError::ok) return 0;
  check(shipped, m);
  check(scoped, m);
  return 0;
}
