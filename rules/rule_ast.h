#pragma once

#include <string>
#include <vector>

#include "rules/diagnostics.h"
#include "rules/rule_lexer.h"

namespace sipwall::rules {

// One statement as written, before its keys mean anything: `keyword arg arg key=value ...`.
struct Value {
  TokenKind kind = TokenKind::word;  // word, string or pattern
  std::string text;
  std::string flags;  // pattern flags
  SourceLocation where;
};

struct Argument {
  bool has_key = false;  // key=value; otherwise a positional value
  std::string key;
  SourceLocation key_where;
  Value value;
};

struct Statement {
  std::string keyword;
  SourceLocation where;  // the keyword
  std::vector<Argument> args;
};

}  // namespace sipwall::rules
