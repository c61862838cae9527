#include "rules/rule_parser.h"

#include <utility>

#include "rules/rule_lexer.h"

namespace sipwall::rules {
namespace {

std::string describe(const Token& t) {
  switch (t.kind) {
    case TokenKind::word:
      return "'" + t.text + "'";
    case TokenKind::string:
      return "a string";
    case TokenKind::pattern:
      return "a pattern";
    case TokenKind::equals:
      return "'='";
    case TokenKind::newline:
    case TokenKind::end:
      return "the end of the line";
    case TokenKind::invalid:
      break;
  }
  return "an invalid token";
}

bool is_value(TokenKind k) {
  return k == TokenKind::word || k == TokenKind::string || k == TokenKind::pattern;
}

}  // namespace

std::vector<Statement> parse_rules(std::string_view text, const std::string& file,
                                   Diagnostics& diags) {
  const std::vector<Token> tokens = lex_rules(text, file, diags);
  std::vector<Statement> out;
  auto where = [&](const Token& t) { return SourceLocation{file, t.line, t.column}; };

  size_t i = 0;
  while (tokens[i].kind != TokenKind::end) {
    // One line: [i, eol).
    size_t eol = i;
    bool invalid = false;
    while (tokens[eol].kind != TokenKind::newline) {
      invalid = invalid || tokens[eol].kind == TokenKind::invalid;
      ++eol;
    }
    const size_t next = eol + 1;
    if (eol == i || invalid) {  // blank line, or the lexer already reported this one
      i = next;
      continue;
    }
    if (tokens[i].kind != TokenKind::word) {
      diags.error(where(tokens[i]), "expected a statement keyword, found " + describe(tokens[i]));
      i = next;
      continue;
    }
    Statement st{tokens[i].text, where(tokens[i]), {}};
    bool ok = true;
    for (size_t k = i + 1; k < eol && ok; ++k) {
      const Token& t = tokens[k];
      if (t.kind == TokenKind::equals) {
        diags.error(where(t), "unexpected '=' (expected key=value with the key before '=')");
        ok = false;
      } else if (tokens[k + 1].kind == TokenKind::equals) {
        const Token& eq = tokens[k + 1];
        const Token& v = tokens[k + 2];
        const bool key_touches = t.line == eq.line && t.column + t.text.size() == eq.column;
        const bool value_touches = v.line == eq.line && v.column == eq.column + 1;
        if (t.kind != TokenKind::word) {
          diags.error(where(t), "expected a key before '=', found " + describe(t));
          ok = false;
        } else if (!key_touches) {
          diags.error(where(eq), "no space allowed before '=' (write " + t.text + "=VALUE)");
          ok = false;
        } else if (!is_value(v.kind) || !value_touches) {
          diags.error(
              {file, eq.line, eq.column + 1},
              "missing value after '" + t.text + "=' (the value follows '=' without a space)");
          ok = false;
        } else {
          st.args.push_back({true, t.text, where(t), {v.kind, v.text, v.flags, where(v)}});
          k += 2;
        }
      } else {
        st.args.push_back({false, {}, {}, {t.kind, t.text, t.flags, where(t)}});
      }
    }
    if (ok) out.push_back(std::move(st));
    i = next;
  }
  return out;
}

}  // namespace sipwall::rules
