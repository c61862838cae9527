#pragma once

#include <span>

#include "rules/diagnostics.h"
#include "rules/rule_ast.h"
#include "rules/rule_set.h"

namespace sipwall::rules {

// Gives every statement its meaning: known keywords and keys, value syntax (numbers and their
// ranges, prefixes, port ranges, ids, scopes, pattern flags), required keys, a setting set
// twice and an id used twice anywhere. Each problem is one diagnostic; a bad statement is left
// out and decoding goes on.
RuleSet decode_rules(std::span<const Statement> statements, Diagnostics& diags);

// Pattern flags other than `i` become inline options Hyperscan understands, placed so an
// anchored pattern stays anchored: s -> "^(?s)...", m -> "(?m)..." (multiline changes what ^
// means, so it goes first).
std::string apply_pattern_flags(std::string_view pattern, bool dotall, bool multiline);

}  // namespace sipwall::rules
