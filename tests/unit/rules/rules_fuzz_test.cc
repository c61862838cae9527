// Random mutations of the default rule files never crash the parser or compiler (run under
// ASan/UBSan in the sanitizer build) and always end in either a set or located errors.

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "rules/rule_compiler.h"
#include "rules/rule_decoder.h"
#include "rules/rule_parser.h"
#include "rules_test_support.h"

namespace sipwall::rules {
namespace {

std::string read(const std::string& name) {
  const char* dir = std::getenv("SIPWALL_RULES_DIR");
  std::ifstream in(std::string(dir ? dir : "rules") + "/" + name, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t iterations(size_t fallback) {
  const char* env = std::getenv("SIPWALL_FUZZ_ITERATIONS");
  return env ? std::strtoul(env, nullptr, 10) : fallback;
}

// Byte flips, syntax characters, deletions, duplicated and truncated lines.
std::string mutate(std::string s, std::mt19937& rng) {
  static constexpr std::string_view kInteresting = "\"/\\=#\n\r\t :,-.0123456789x{}()[]*+?|^$";
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t at = rng() % s.size();
    switch (rng() % 6) {
      case 0:
        s[at] = static_cast<char>(rng() % 256);
        break;
      case 1:
        s[at] = kInteresting[rng() % kInteresting.size()];
        break;
      case 2:
        s.insert(at, 1, kInteresting[rng() % kInteresting.size()]);
        break;
      case 3:
        s.erase(at, 1 + rng() % 16);
        break;
      case 4: {
        const size_t start = s.rfind('\n', at) == std::string::npos ? 0 : s.rfind('\n', at) + 1;
        const size_t end = s.find('\n', at);
        s.insert(start, s.substr(start, end == std::string::npos ? end : end - start + 1));
        break;
      }
      default:
        s.resize(at);
        break;
    }
  }
  return s;
}

void expect_located(const RulesResult& r) {
  if (r.ok()) return;
  ASSERT_TRUE(r.diagnostics.has_errors());
  for (const Diagnostic& d : r.diagnostics.all()) {
    EXPECT_FALSE(d.where.file.empty()) << d.to_string();
  }
}

// Everything but Hyperscan, many times.
TEST(RulesFuzz, ParseAndDecodeMutations) {
  const std::string base = read("default.rules") + read("default-signatures.rules");
  ASSERT_FALSE(base.empty());
  std::mt19937 rng(20240601);
  for (size_t i = 0; i < iterations(3000); ++i) {
    const std::string text = mutate(base, rng);
    Diagnostics d;
    const auto statements = parse_rules(text, "f.rules", d);
    const RuleSet set = decode_rules(statements, d);
    EXPECT_LE(set.signatures.size(), 62u);
  }
}

// The whole compile, Hyperscan included, on a smaller set so each run stays fast.
TEST(RulesFuzz, CompileMutations) {
  const std::string defaults = read("default.rules");
  // The first nine signatures only (User-Agent literals), so each Hyperscan compile is quick.
  std::string sigs = read("default-signatures.rules");
  size_t cut = 0;
  for (int n = 0; n < 10 && cut != std::string::npos; ++n) cut = sigs.find("\nsignature ", cut + 1);
  if (cut != std::string::npos) sigs.resize(cut + 1);
  std::mt19937 rng(7);
  for (size_t i = 0; i < iterations(3000) / 20; ++i) {
    const bool in_include = (i % 2) == 1;
    const auto r =
        test::compile_memory({{"main.rules", in_include ? defaults : mutate(defaults, rng)},
                              {"default-signatures.rules", in_include ? mutate(sigs, rng) : sigs}});
    expect_located(r);
  }
}

}  // namespace
}  // namespace sipwall::rules
