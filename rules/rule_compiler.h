#pragma once

#include <string>
#include <string_view>

#include "rules/compiled_rules.h"

namespace sipwall::rules {

// Reads `path` and its includes, checks everything and compiles the signatures with
// Hyperscan. Never throws on bad input: every problem is a diagnostic, and `rules` is set only
// when there is none.
RulesResult compile_rules_file(const std::string& path, const CompileOptions& options = {});

// The same for text in memory, named `name` in diagnostics; includes go through
// options.reader relative to `name`.
RulesResult compile_rules_text(std::string_view text, const std::string& name,
                               const CompileOptions& options = {});

}  // namespace sipwall::rules
