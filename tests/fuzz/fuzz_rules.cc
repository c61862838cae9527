// The rule-file front end and compiler on arbitrary text: lexer, parser, decoder, include
// resolver, limit and ACL checks, Hyperscan compile (under a small budget). The input is the
// root file; after a NUL octet, the text every include reads (so include cycles, depth and
// duplicates are reachable). Asserts a failed compile says why in a diagnostic, a successful
// one has none and builds a policy the pipeline accepts.

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "pipeline/filter_policy.h"
#include "rules/rule_compiler.h"
#include "rules/rule_decoder.h"
#include "rules/rule_lexer.h"
#include "rules/rule_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  using namespace sipwall::rules;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  const std::string_view root = in.substr(0, nul);
  const bool has_include = nul != std::string_view::npos;
  const std::string included(has_include ? in.substr(nul + 1) : std::string_view{});

  Diagnostics d;
  (void)lex_rules(root, "fuzz.rules", d);
  const auto statements = parse_rules(root, "fuzz.rules", d);
  (void)decode_rules(statements, d);
  (void)d.to_string();

  CompileOptions options;
  options.budget = {.max_signatures = 6,  // bigger sets stop before Hyperscan: ~100 ms each
                    .max_pattern_bytes = 2048,
                    .max_compile_ms = 5000,
                    .max_database_bytes = 16 << 20};
  options.reader = [&](const std::string&) -> Result<std::string> {
    if (!has_include) return Result<std::string>::failure("no such file");
    return included;
  };
  const RulesResult r = compile_rules_text(root, "fuzz.rules", options);
  (void)r.diagnostics.to_string();
  FUZZ_CHECK(r.ok() != r.diagnostics.has_errors(), "ok=%d with %zu errors", r.ok(),
             r.diagnostics.count());
  if (!r.ok()) return 0;
  FUZZ_CHECK(r.rules->signatures != nullptr, "no signature set");
  const auto built = FilterPolicy::build(r.rules->filter, r.rules->signatures, 1);
  FUZZ_CHECK(built.policy, "a compiled set is refused by the pipeline: %s", built.error.c_str());
  return 0;
}
