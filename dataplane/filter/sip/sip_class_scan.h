#pragma once

// Internal to the validator: character-class tests 16 octets at a time. A class of
// sip_char_class.h becomes two 16-byte tables at compile time (SSSE3 nibble lookup: an octet is
// in the class when lo[low nibble] & hi[high nibble] != 0), so classes stay defined once, in
// kTable. The scalar variant (SIPWALL_SIP_SCALAR, or no SSSE3) gives identical bit masks.
//
// Reads never go past `lim`: every scan takes the end of the readable memory (the end of the
// datagram inside the validator, the end of the view for the public parsers). A 16-octet load
// that would cross it copies the readable tail into a zeroed stack buffer; NUL is in no class.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "sip/sip_char_class.h"

#if defined(__SSSE3__) && !defined(SIPWALL_SIP_SCALAR)
#include <immintrin.h>
#define SIPWALL_SIP_NIBBLE 1
#endif

namespace sipwall::sipchar {

namespace detail {

struct Nibbles {
  std::array<uint8_t, 16> lo{};
  std::array<uint8_t, 16> hi{};
  bool fits = true;  // at most 8 distinct rows (high nibbles)
};

// Rows (one per high nibble) with the same set of low nibbles share one bit.
constexpr Nibbles make_nibbles(uint32_t mask) {
  Nibbles t;
  std::array<uint16_t, 8> patterns{};
  size_t used = 0;
  for (unsigned h = 0; h < 16; ++h) {
    uint16_t row = 0;
    for (unsigned l = 0; l < 16; ++l) {
      if ((kTable[h << 4 | l] & mask) != 0) row = static_cast<uint16_t>(row | 1u << l);
    }
    if (row == 0) continue;
    size_t k = 0;
    while (k < used && patterns[k] != row) ++k;
    if (k == used) {
      if (used == patterns.size()) {
        t.fits = false;
        return t;
      }
      patterns[used++] = row;
    }
    t.hi[h] = static_cast<uint8_t>(1u << k);
    for (unsigned l = 0; l < 16; ++l) {
      if ((row >> l) & 1u) t.lo[l] = static_cast<uint8_t>(t.lo[l] | 1u << k);
    }
  }
  return t;
}

template <uint32_t M>
inline constexpr Nibbles kNibbles = make_nibbles(M);

}  // namespace detail

#ifdef SIPWALL_SIP_NIBBLE
// 16 octets at p; octets at or past lim read as NUL.
[[gnu::always_inline]] inline __m128i load16(const char* p, const char* lim) {
  if (lim - p >= 16) [[likely]]
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  alignas(16) char buf[16] = {};
  if (lim > p) std::memcpy(buf, p, static_cast<size_t>(lim - p));
  return _mm_load_si128(reinterpret_cast<const __m128i*>(buf));
}

template <uint32_t M>
[[gnu::always_inline]] inline uint32_t class_bits(__m128i v) {
  static_assert(detail::kNibbles<M>.fits, "class needs more than 8 nibble rows");
  const __m128i lo_t =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(detail::kNibbles<M>.lo.data()));
  const __m128i hi_t =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(detail::kNibbles<M>.hi.data()));
  const __m128i low = _mm_set1_epi8(0x0f);
  const __m128i a = _mm_shuffle_epi8(lo_t, _mm_and_si128(v, low));
  const __m128i b = _mm_shuffle_epi8(hi_t, _mm_and_si128(_mm_srli_epi16(v, 4), low));
  const __m128i out = _mm_cmpeq_epi8(_mm_and_si128(a, b), _mm_setzero_si128());
  return ~static_cast<uint32_t>(_mm_movemask_epi8(out)) & 0xffffu;
}

[[gnu::always_inline]] inline uint32_t eq_bits(__m128i v, char c) {
  return static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c))));
}
#endif

// Bit i set when p[i] (i < 16) is in class M; octets at or past lim count as outside.
template <uint32_t M>
[[gnu::always_inline]] inline uint32_t class_bits16(const char* p, const char* lim) {
#ifdef SIPWALL_SIP_NIBBLE
  return class_bits<M>(load16(p, lim));
#else
  uint32_t m = 0;
  const ptrdiff_t n = lim - p < 16 ? lim - p : 16;
  for (ptrdiff_t i = 0; i < n; ++i) m |= static_cast<uint32_t>(is(p[i], M)) << i;
  return m;
#endif
}

// Bit i set when p[i] == c, for the n <= 64 octets at p (all readable up to lim).
template <uint32_t M>
inline uint64_t class_bits64(const char* p, size_t n, const char* lim) {
  uint64_t m = 0;
  for (size_t k = 0; k < n; k += 16) m |= static_cast<uint64_t>(class_bits16<M>(p + k, lim)) << k;
  return n >= 64 ? m : m & ((uint64_t{1} << n) - 1);
}

// Masks of two given octets over the n <= 64 octets at p.
inline void eq_bits64(const char* p, size_t n, [[maybe_unused]] const char* lim, char c1, char c2,
                      uint64_t& m1, uint64_t& m2) {
  m1 = 0;
  m2 = 0;
  for (size_t k = 0; k < n; k += 16) {
#ifdef SIPWALL_SIP_NIBBLE
    const __m128i v = load16(p + k, lim);
    m1 |= static_cast<uint64_t>(eq_bits(v, c1)) << k;
    m2 |= static_cast<uint64_t>(eq_bits(v, c2)) << k;
#else
    const size_t e = n - k < 16 ? n - k : 16;
    for (size_t i = 0; i < e; ++i) {
      m1 |= static_cast<uint64_t>(p[k + i] == c1) << (k + i);
      m2 |= static_cast<uint64_t>(p[k + i] == c2) << (k + i);
    }
#endif
  }
  if (n < 64) {
    m1 &= (uint64_t{1} << n) - 1;
    m2 &= (uint64_t{1} << n) - 1;
  }
}

// Index of the first octet at or after `i` that is not in M, at most s.size(). The octets of s
// and after it up to lim (>= s end) are readable.
template <uint32_t M>
[[gnu::always_inline]] inline size_t scan(std::string_view s, size_t i, const char* lim) {
  const char* const p = s.data();
  const size_t n = s.size();
  while (i < n) {
    const uint32_t out = ~class_bits16<M>(p + i, lim) & 0xffffu;
    if (out != 0) {
      i += static_cast<size_t>(__builtin_ctz(out));
      return i < n ? i : n;
    }
    i += 16;
  }
  return n;
}

// Like scan(), but "%" HEXDIG HEXDIG also counts as one allowed unit (URI escapes).
template <uint32_t M>
inline size_t scan_escaped(std::string_view s, size_t i, const char* lim) {
  while (true) {
    i = scan<M>(s, i, lim);
    if (i + 2 < s.size() && s[i] == '%' && is(s[i + 1], kHex) && is(s[i + 2], kHex)) {
      i += 3;
    } else {
      return i;
    }
  }
}

// The end of a view's readable memory when nothing more is known.
inline const char* end_of(std::string_view s) {
  return s.data() + s.size();
}

// A forward-only cursor over one header value. Never reads past lim.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  const char* lim = nullptr;  // readable up to here (>= end of s)

  constexpr bool done() const { return i >= s.size(); }
  constexpr char peek() const { return i < s.size() ? s[i] : '\0'; }
  // Skips LWS; returns how many bytes were skipped.
  constexpr size_t skip_lws() {
    const size_t from = i;
    i = skip(s, i, kLws);
    return i - from;
  }
  constexpr bool eat(char c) {
    if (done() || s[i] != c) return false;
    ++i;
    return true;
  }
  // SWS c SWS (SLASH, SEMI, EQUAL, COMMA, COLON of RFC 3261 25.1); restores on failure.
  constexpr bool eat_sep(char c) {
    const size_t save = i;
    skip_lws();
    if (!eat(c)) {
      i = save;
      return false;
    }
    skip_lws();
    return true;
  }
  template <uint32_t M>
  std::string_view take() {
    const size_t from = i;
    i = scan<M>(s, i, lim);
    return s.substr(from, i - from);
  }
};

}  // namespace sipwall::sipchar
