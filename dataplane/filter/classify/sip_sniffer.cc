#include "classify/sip_sniffer.h"

#include <string_view>

namespace sipwall {
namespace {

constexpr size_t kMaxMethodLength = 32;
constexpr size_t kMaxSchemeLength = 16;

constexpr bool is_alpha(uint8_t c) {
  return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}
constexpr bool is_digit(uint8_t c) {
  return c >= '0' && c <= '9';
}

// RFC 3261 token characters.
constexpr bool is_token(uint8_t c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '!':
    case '%':
    case '*':
    case '_':
    case '+':
    case '`':
    case '\'':
    case '~':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool looks_like_sip(std::span<const uint8_t> p) {
  constexpr std::string_view kResponse = "SIP/2.0 ";
  if (p.size() >= kResponse.size() &&
      std::string_view(reinterpret_cast<const char*>(p.data()), kResponse.size()) == kResponse) {
    return true;
  }
  size_t i = 0;
  while (i < p.size() && i < kMaxMethodLength && is_token(p[i])) ++i;
  if (i == 0 || i >= p.size() || p[i] != ' ') return false;
  const size_t scheme = ++i;
  if (i >= p.size() || !is_alpha(p[i])) return false;
  while (i < p.size() && i - scheme < kMaxSchemeLength &&
         (is_alpha(p[i]) || is_digit(p[i]) || p[i] == '+' || p[i] == '-' || p[i] == '.')) {
    ++i;
  }
  return i < p.size() && p[i] == ':';
}

}  // namespace sipwall
