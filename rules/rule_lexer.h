#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "rules/diagnostics.h"

namespace sipwall::rules {

enum class TokenKind : uint8_t {
  word,     // bare text: keywords, ids, keys, numbers, prefixes, port lists
  string,   // "..." with its escapes resolved
  pattern,  // /.../flags: the regex with \/ turned into /, flags separate
  equals,   // '=' between a key and its value
  invalid,  // a token the lexer already reported; the parser drops its statement quietly
  newline,  // end of a statement (a '\' at the end of a line continues it)
  end,
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string text;
  std::string flags;  // pattern only: the letters after the closing '/'
  uint32_t line = 0;
  uint32_t column = 0;  // 1-based byte column of the token's first character
};

// Splits one file into tokens; always ends with newline + end. Errors (unterminated string or
// pattern, bad escape, stray character after a pattern) go to `diags` as `file:line:column`.
std::vector<Token> lex_rules(std::string_view text, const std::string& file, Diagnostics& diags);

}  // namespace sipwall::rules
