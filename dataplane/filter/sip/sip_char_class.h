#pragma once

// Character classes of the RFC 3261 grammar as one constexpr 256-entry table, plus the
// scalar scans. Header-only: everything here sits in the hot path.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace sipwall::sipchar {

// One bit per class; a byte may be in many classes.
enum Class : uint32_t {
  kAlpha = 1u << 0,
  kDigit = 1u << 1,
  kHex = 1u << 2,
  kToken = 1u << 3,       // token (RFC 3261 25.1)
  kUnreserved = 1u << 4,  // alphanum / mark
  kUser = 1u << 5,        // unreserved / user-unreserved (escapes handled apart)
  kPassword = 1u << 6,    // unreserved / "&" "=" "+" "$" ","
  kParam = 1u << 7,       // paramchar without escapes
  kHnv = 1u << 8,         // hname/hvalue chars without escapes
  kUric = 1u << 9,        // reserved / unreserved (plus [ ] for RFC 3986 style hosts)
  kScheme = 1u << 10,     // ALPHA / DIGIT / "+" / "-" / "."
  kLws = 1u << 11,        // SP HTAB CR LF: inside a header value CRLF is always a fold
  kWord = 1u << 12,       // Call-ID word
  kGenValue = 1u << 13,   // gen-value without quotes: token / host (incl. IPv6 with or without [])
  kText = 1u << 14,       // reason phrase / free text: not a CTL, HTAB allowed, UTF-8 allowed
  kHostname = 1u << 15,   // alphanum / "-" / "."
  kQdtext = 1u << 16,     // qdtext (incl. SP/HTAB), excluding '"' and '\'
  kWsp = 1u << 17,        // SP HTAB
};

namespace detail {

constexpr bool in(char c, std::string_view set) {
  return set.find(c) != std::string_view::npos;
}

constexpr uint32_t classify(unsigned u) {
  const char c = static_cast<char>(u);
  const bool alpha = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
  const bool digit = u >= '0' && u <= '9';
  const bool alnum = alpha || digit;
  const bool high = u >= 0x80;
  const bool unreserved = alnum || in(c, "-_.!~*'()");
  uint32_t m = 0;
  if (alpha) m |= kAlpha;
  if (digit) m |= kDigit;
  if (digit || (u >= 'a' && u <= 'f') || (u >= 'A' && u <= 'F')) m |= kHex;
  if (alnum || in(c, "-.!%*_+`'~")) m |= kToken | kGenValue;
  if (in(c, ":[]")) m |= kGenValue;
  if (unreserved) m |= kUnreserved;
  if (unreserved || in(c, "&=+$,;?/")) m |= kUser;
  if (unreserved || in(c, "&=+$,")) m |= kPassword;
  if (unreserved || in(c, "[]/:&+$")) m |= kParam;
  if (unreserved || in(c, "[]/?:+$")) m |= kHnv;
  if (unreserved || in(c, ";/?:@&=+$,[]")) m |= kUric;
  if (alnum || in(c, "+-.")) m |= kScheme;
  if (in(c, " \t\r\n")) m |= kLws;
  if (alnum || in(c, "-.!%*_+`'~()<>:\\\"/[]?{}")) m |= kWord;
  if ((u >= 0x20 && u != 0x7f) || u == '\t') m |= kText;
  if (alnum || in(c, "-.")) m |= kHostname;
  if ((u >= 0x20 && u != 0x7f && u != '"' && u != '\\') || u == '\t' || high) m |= kQdtext;
  if (u == ' ' || u == '\t') m |= kWsp;
  return m;
}

constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> t{};
  for (unsigned u = 0; u < 256; ++u) t[u] = classify(u);
  return t;
}

}  // namespace detail

inline constexpr std::array<uint32_t, 256> kTable = detail::make_table();

constexpr bool is(char c, uint32_t mask) {
  return (kTable[static_cast<uint8_t>(c)] & mask) != 0;
}

constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// s == lit as one inlined fixed-size compare (string_view's == calls memcmp for the rest).
template <size_t N>
inline bool equals(std::string_view s, const char (&lit)[N]) {
  return s.size() == N - 1 && std::memcmp(s.data(), lit, N - 1) == 0;
}

// Index of the first byte at or after `i` that is not in `mask`.
constexpr size_t skip(std::string_view s, size_t i, uint32_t mask) {
  while (i < s.size() && is(s[i], mask)) ++i;
  return i;
}

// Like skip(), but "%" HEXDIG HEXDIG also counts as one allowed unit (URI escapes).
constexpr size_t skip_escaped(std::string_view s, size_t i, uint32_t mask) {
  while (i < s.size()) {
    if (is(s[i], mask)) {
      ++i;
    } else if (s[i] == '%' && i + 2 < s.size() && is(s[i + 1], kHex) && is(s[i + 2], kHex)) {
      i += 3;
    } else {
      break;
    }
  }
  return i;
}

// True when `s` is non-empty and every byte is in `mask`.
constexpr bool all_of(std::string_view s, uint32_t mask) {
  return !s.empty() && skip(s, 0, mask) == s.size();
}

// Removes leading and trailing LWS (SP, HTAB and fold CRLFs).
constexpr std::string_view trim_lws(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && is(s[b], kLws)) ++b;
  while (e > b && is(s[e - 1], kLws)) --e;
  return s.substr(b, e - b);
}

}  // namespace sipwall::sipchar
