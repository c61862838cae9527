#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rules/diagnostics.h"
#include "rules/rule_ast.h"

namespace sipwall::rules {

// Parses one file into statements (line-oriented: one per line, '\' continues a line).
// Shape errors (no keyword, '=' without a key, a key without a value) are reported and the
// statement is dropped; the rest of the file is still parsed.
std::vector<Statement> parse_rules(std::string_view text, const std::string& file,
                                   Diagnostics& diags);

}  // namespace sipwall::rules
