// The pipeline under a rule-compiled policy rather than the shipped one: the first octets of the
// input pick rule statements (odd limits and bursts, method lists, per-prefix overrides, allow
// and deny entries, an ACL default, source aggregation, ports, the SIP profile and size limits,
// a few signatures) whose values come from small tables of edge values and of the prefixes the
// seed captures use; the set is compiled like a rule file and the rest of the input runs through
// it in bursts and one frame at a time (pipeline_driver.h). A set the compiler refuses ends the
// run: the rules target covers refusals.
//
// Input: u8 statement count, 3 octets per statement, then the pipeline input.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>

#include "fuzz_check.h"
#include "pipeline/filter_policy.h"
#include "pipeline_driver.h"
#include "rules/rule_compiler.h"

namespace sipwall::fuzz {
namespace {

constexpr const char* kRates[] = {"0", "1", "2", "3", "10", "100", "65535", "4294967295"};
constexpr const char* kPrefixes[] = {
    "198.18.0.0/15",  "198.18.0.1",   "198.18.0.0/24",     "0.0.0.0/0",
    "203.0.113.0/24", "198.51.100.7", "10.0.0.0/8",        "192.0.2.0/24",
    "2001:db8::/32",  "::/0",         "2001:db8:100::/48", "2001:db8:100:1::/64",
    "2001:db8:5::10", "127.0.0.0/8",  "192.0.2.1",         "2001:db8:100:2::3"};
constexpr const char* kClasses[] = {"sip",   "invite", "register", "options",
                                    "other", "rtp",    "tcp-syn",  "sip"};
constexpr const char* kMethods[] = {"INVITE,MESSAGE", "REGISTER",
                                    "BYE,CANCEL,ACK", "FOO",
                                    "OPTIONS,INVITE", "SUBSCRIBE,NOTIFY,PUBLISH",
                                    "invite",         "INFO"};
constexpr const char* kPrefixLen4[] = {"0", "8", "16", "24", "31", "32"};
constexpr const char* kPrefixLen6[] = {"0", "32", "48", "64", "127", "128"};
constexpr const char* kSizes[] = {"64", "65", "128", "300", "1500", "16384", "65535", "1"};
constexpr const char* kCounts[] = {"1", "2", "3", "8", "70", "256", "1024", "4096"};
constexpr const char* kPorts[] = {"5060", "5060,5080", "1-65535",   "10000-20000",
                                  "5061", "0-1023",    "5062-5063", "10000"};
constexpr const char* kPatterns[] = {"/^sipvicious/i", "/friendly-scanner/", "/a/",      "/\\d{3}/",
                                     "/^sip:1/",       "/[^\\x00-\\x7f]/",   "/evil/is", "/^$|x/m"};
constexpr const char* kScopes[] = {
    "header:User-Agent", "header:f",     "request-uri", "body",
    "message",           "header:X-Foo", "header:Via",  "header:Contact"};

template <size_t N>
const char* pick(const char* const (&table)[N], uint8_t b) {
  return table[b % N];
}

// One statement from three octets: the first picks the kind, the others the values.
std::string statement(size_t i, const uint8_t* s) {
  const std::string n = std::to_string(i);
  const uint8_t a = s[1];
  const uint8_t b = s[2];
  switch (s[0] % 14) {
    case 0:
      return std::string("profile ") + (a & 1 ? "liberal" : "strict");
    case 1:
      return std::string("sip-limits message-bytes=") + pick(kSizes, a) +
             " header-lines=" + pick(kCounts, b) + " header-bytes=" + pick(kSizes, a >> 3) +
             " via-values=" + pick(kCounts, b >> 3);
    case 2:
    case 3:
      return "limit l" + std::to_string(b % 4) + " class=" + pick(kClasses, a) +
             " rate=" + pick(kRates, b) + " burst=" + pick(kRates, a >> 3) +
             (b & 0x80 ? std::string(" ipv4-prefix=") + pick(kPrefixLen4, a >> 5) : "") +
             (b & 0x40 ? std::string(" ipv6-prefix=") + pick(kPrefixLen6, a >> 5) : "");
    case 4:
      return "limit m" + n + " methods=" + pick(kMethods, a) + " rate=" + pick(kRates, b) +
             " burst=" + pick(kRates, b >> 3);
    case 5:
    case 6:
      return "override o" + n + " prefix=" + pick(kPrefixes, a) + " limit=l" +
             std::to_string(b % 4) +
             (b & 0x10 ? std::string(" rate=") + pick(kRates, a >> 4) : "") +
             (b & 0x10 && b & 0x20 ? "" : std::string(" burst=") + pick(kRates, b >> 5));
    case 7:
    case 8:
      return std::string(a & 1 ? "allow" : "deny") + " a" + n + " " + pick(kPrefixes, b);
    case 9:
      return std::string("acl-default ") + (a & 1 ? "deny" : "allow");
    case 10:
      return std::string("source-prefix ipv4=") + pick(kPrefixLen4, a) +
             " ipv6=" + pick(kPrefixLen6, b);
    case 11:
      return std::string("ports sip=") + pick(kPorts, a) + " media=" + pick(kPorts, b) +
             (a & 0x80 ? std::string(" tls=") + pick(kPorts, b >> 3) : "");
    case 12:
      return std::string("sip-by-content ") + (a & 1 ? "no" : "yes");
    default:
      return "signature s" + n + " action=" + (a & 1 ? "alert" : "drop") +
             " scope=" + pick(kScopes, a >> 1) + " pattern=" + pick(kPatterns, b);
  }
}

// Compiling a set (Hyperscan) costs far more than running the frames through it, and most
// mutations change the frames, not the statement picks: policies are kept by their rule text (a
// refused set as null), at most 64, all dropped when full. A policy is immutable, so a kept one
// judges exactly as a fresh one would.
const FilterPolicy* policy_for(const std::string& text) {
  static std::unordered_map<std::string, std::unique_ptr<const FilterPolicy>> kept;
  if (const auto it = kept.find(text); it != kept.end()) return it->second.get();
  if (kept.size() >= 64) kept.clear();
  rules::CompileOptions options;
  options.reader = [](const std::string&) { return Result<std::string>::failure("no includes"); };
  const rules::RulesResult r = rules::compile_rules_text(text, "policy.rules", options);
  if (!r.ok()) return kept.emplace(text, nullptr).first->second.get();
  auto built = FilterPolicy::build(small_tables(r.rules->filter), r.rules->signatures, 1);
  FUZZ_CHECK(built.policy, "compiled set refused: %s\n%s", built.error.c_str(), text.c_str());
  return kept.emplace(text, std::move(built.policy)).first->second.get();
}

}  // namespace
}  // namespace sipwall::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  using namespace sipwall::fuzz;
  if (size == 0) return 0;
  const size_t count = data[0] % 16;
  if (size < 1 + 3 * count) return 0;
  std::string text;
  for (size_t i = 0; i < count; ++i) text += statement(i, data + 1 + 3 * i) + "\n";
  const FilterPolicy* policy = policy_for(text);
  if (policy == nullptr) return 0;
  run_pipelines(*policy, {data + 1 + 3 * count, size - 1 - 3 * count});
  return 0;
}
