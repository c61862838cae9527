#include "rules/rule_lexer.h"

#include <utility>

namespace sipwall::rules {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

bool ends_word(char c) {
  return is_space(c) || c == '\n' || c == '=' || c == '"' || c == '#';
}

bool is_flag(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  Lexer(std::string_view text, const std::string& file, Diagnostics& diags)
      : text_(text), file_(file), diags_(diags) {}

  std::vector<Token> run() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (is_space(c)) {
        advance();
      } else if (c == '\n') {
        emit(TokenKind::newline, "", column());
        advance();
      } else if (c == '#') {
        skip_to_line_end();
      } else if (c == '\\' && continues_line()) {
        // '\' then only blanks up to the newline: the statement goes on on the next line.
        while (text_[pos_] != '\n') advance();
        advance();
      } else if (c == '=') {
        emit(TokenKind::equals, "=", column());
        advance();
      } else if (c == '"') {
        lex_string();
      } else if (c == '/') {
        lex_pattern();
      } else {
        lex_word();
      }
    }
    emit(TokenKind::newline, "", column());
    emit(TokenKind::end, "", column());
    return std::move(tokens_);
  }

 private:
  uint32_t column() const { return static_cast<uint32_t>(pos_ - line_start_ + 1); }

  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    }
    ++pos_;
  }

  bool continues_line() const {
    for (size_t i = pos_ + 1; i < text_.size(); ++i) {
      if (text_[i] == '\n') return true;
      if (!is_space(text_[i])) return false;
    }
    return false;  // '\' at the very end of the file continues nothing
  }

  void skip_to_line_end() {
    while (pos_ < text_.size() && text_[pos_] != '\n') advance();
  }

  void emit(TokenKind kind, std::string text, uint32_t col, std::string flags = {}) {
    tokens_.push_back({kind, std::move(text), std::move(flags), line_, col});
  }

  // Reports, marks the statement invalid and skips the rest of the line.
  void fail(uint32_t col, std::string message) {
    diags_.error({file_, line_, col}, std::move(message));
    emit(TokenKind::invalid, "", col);
    skip_to_line_end();
  }

  void lex_word() {
    const uint32_t col = column();
    const size_t start = pos_;
    while (pos_ < text_.size() && !ends_word(text_[pos_])) advance();
    emit(TokenKind::word, std::string(text_.substr(start, pos_ - start)), col);
  }

  void lex_string() {
    const uint32_t col = column();
    advance();  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        fail(col, "unterminated string (expected a closing '\"' on the same line)");
        return;
      }
      const char c = text_[pos_];
      if (c == '"') {
        advance();
        break;
      }
      if (c != '\\') {
        out += c;
        advance();
        continue;
      }
      const uint32_t esc_col = column();
      advance();
      const char e = pos_ < text_.size() ? text_[pos_] : '\n';
      switch (e) {
        case '"':
        case '\\':
          out += e;
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'x': {
          const int hi = pos_ + 1 < text_.size() ? hex_value(text_[pos_ + 1]) : -1;
          const int lo = pos_ + 2 < text_.size() ? hex_value(text_[pos_ + 2]) : -1;
          if (hi < 0 || lo < 0) {
            fail(esc_col, "bad escape '\\x' in string (expected two hex digits)");
            return;
          }
          out += static_cast<char>(hi * 16 + lo);
          advance();
          advance();
          break;
        }
        default:
          fail(esc_col, "unknown escape in string (expected \\\", \\\\, \\n, \\t, \\r or \\xHH)");
          return;
      }
      advance();
    }
    if (pos_ < text_.size() && !ends_word(text_[pos_])) {
      fail(column(), "unexpected character after string (expected a space)");
      return;
    }
    emit(TokenKind::string, std::move(out), col);
  }

  // /regex/flags. '\' escapes the next character; only "\/" is rewritten (to "/"), every other
  // escape reaches Hyperscan as written, so patterns read exactly like PCRE.
  void lex_pattern() {
    const uint32_t col = column();
    advance();  // opening '/'
    std::string out;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        fail(col, "unterminated pattern (expected a closing '/' on the same line)");
        return;
      }
      const char c = text_[pos_];
      if (c == '/') {
        advance();
        break;
      }
      if (c == '\\' && pos_ + 1 < text_.size() && text_[pos_ + 1] != '\n') {
        advance();
        if (text_[pos_] != '/') out += '\\';
      }
      out += text_[pos_];
      advance();
    }
    std::string flags;
    while (pos_ < text_.size() && is_flag(text_[pos_])) {
      flags += text_[pos_];
      advance();
    }
    if (pos_ < text_.size() && !ends_word(text_[pos_])) {
      fail(column(), "unexpected character after pattern (expected flags or a space)");
      return;
    }
    emit(TokenKind::pattern, std::move(out), col, std::move(flags));
  }

  std::string_view text_;
  const std::string& file_;
  Diagnostics& diags_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  size_t line_start_ = 0;
  uint32_t line_ = 1;
};

}  // namespace

std::vector<Token> lex_rules(std::string_view text, const std::string& file, Diagnostics& diags) {
  return Lexer(text, file, diags).run();
}

}  // namespace sipwall::rules
