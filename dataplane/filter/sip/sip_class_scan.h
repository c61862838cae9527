#pragma once

// Internal to the validator: character-class tests 16 octets at a time, and over whole spans
// of up to 64 octets (Block64) for the fast paths. A class of sip_char_class.h becomes two
// 16-byte tables at compile time (SSSE3 nibble lookup: an octet is in the class when
// lo[low nibble] & hi[high nibble] != 0), so classes stay defined once, in kTable. The scalar
// variant (SIPWALL_SIP_SCALAR, or no SSSE3) gives identical bit masks.
//
// Reads never go past `lim`: every scan takes the end of the readable memory (the end of the
// datagram inside the validator, the end of the view for the public parsers). A 16-octet load
// that would cross it copies the readable tail into a zeroed stack buffer (with AVX-512, a
// masked load reads only the tail); NUL is in no class.

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "common/sanitizer.h"
#include "sip/sip_char_class.h"

#if defined(__SSSE3__) && !defined(SIPWALL_SIP_SCALAR)
#include <immintrin.h>
#define SIPWALL_SIP_NIBBLE 1
#endif
#if defined(__AVX512BW__) && !defined(SIPWALL_SIP_SCALAR)
#define SIPWALL_SIP_AVX512 1
#if defined(__AVX512VBMI__)
#define SIPWALL_SIP_VBMI 1
#endif
#endif

namespace sipwall::sipchar {

// Checks the promise of the public parsers that take `lim`: it is at or past the value's end,
// and what a scan may load past the end (up to 64 octets, never past lim) is readable memory
// (ASan knows: an allocation's redzone, freed or poisoned memory fail). Debug and sanitizer
// builds only; a release build trusts the caller, as the validator's datagram end is.
inline void assert_lim([[maybe_unused]] std::string_view v, [[maybe_unused]] const char* lim) {
  assert(lim >= v.data() + v.size() && "lim before the end of the value");
  assert(asan_addressable(v.data(),
                          lim - (v.data() + v.size()) > 64 ? v.data() + v.size() + 64 : lim) &&
         "lim past readable memory");
}

// The fast paths that decide a whole value from Block64 masks pay off where a 64-octet class
// test is a few instructions (AVX-512). The scalar test build runs them too, so that the
// sanitizer builds check their logic; SSE builds keep the scans.
#if defined(SIPWALL_SIP_AVX512) || defined(SIPWALL_SIP_SCALAR)
inline constexpr bool kMaskFastPaths = true;
#else
inline constexpr bool kMaskFastPaths = false;
#endif

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

// A 16-byte table repeated over the four 128-bit lanes of a 512-bit shuffle.
constexpr std::array<uint8_t, 64> lanes4(const std::array<uint8_t, 16>& t) {
  std::array<uint8_t, 64> out{};
  for (size_t i = 0; i < out.size(); ++i) out[i] = t[i % 16];
  return out;
}

template <uint32_t M>
inline constexpr std::array<uint8_t, 64> kLo64 = lanes4(kNibbles<M>.lo);
template <uint32_t M>
inline constexpr std::array<uint8_t, 64> kHi64 = lanes4(kNibbles<M>.hi);

// The classes Block64 answers from one 128-entry byte lookup where AVX512-VBMI has it: bit k
// of kPacked[c] is set when octet c is in kPackedClasses[k]. None holds an octet from 0x80.
inline constexpr std::array<uint32_t, 7> kPackedClasses = {kToken, kDigit,    kHostname, kParam,
                                                           kUser,  kGenValue, kWord};

constexpr int packed_bit(uint32_t mask) {
  for (size_t k = 0; k < kPackedClasses.size(); ++k) {
    if (kPackedClasses[k] == mask) return static_cast<int>(k);
  }
  return -1;
}

constexpr std::array<uint8_t, 128> make_packed() {
  std::array<uint8_t, 128> t{};
  for (unsigned c = 0; c < 128; ++c) {
    for (size_t k = 0; k < kPackedClasses.size(); ++k) {
      if ((kTable[c] & kPackedClasses[k]) != 0) t[c] = static_cast<uint8_t>(t[c] | 1u << k);
    }
  }
  return t;
}

constexpr bool packed_classes_are_ascii() {
  for (unsigned c = 128; c < 256; ++c) {
    for (const uint32_t m : kPackedClasses) {
      if ((kTable[c] & m) != 0) return false;
    }
  }
  return true;
}
static_assert(packed_classes_are_ascii(), "the lookup zeroes octets from 0x80");

alignas(64) inline constexpr std::array<uint8_t, 128> kPacked = make_packed();

}  // namespace detail

#ifdef SIPWALL_SIP_NIBBLE
// 16 octets at p; octets at or past lim read as NUL.
[[gnu::always_inline]] inline __m128i load16(const char* p, const char* lim) {
  if (lim - p >= 16) [[likely]]
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
#if defined(__AVX512BW__) && defined(__AVX512VL__)
  // A masked load reads nothing past lim, and avoids the store-forwarding stall of a copy.
  const ptrdiff_t left = lim > p ? lim - p : 0;
  return _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << left) - 1), p);
#else
  alignas(16) char buf[16] = {};
  if (lim > p) std::memcpy(buf, p, static_cast<size_t>(lim - p));
  return _mm_load_si128(reinterpret_cast<const __m128i*>(buf));
#endif
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

// Bit i set when p[i] == c (i < 16); octets at or past lim count as different.
[[gnu::always_inline]] inline uint32_t eq_bits16(const char* p, [[maybe_unused]] const char* lim,
                                                 char c) {
#ifdef SIPWALL_SIP_NIBBLE
  return eq_bits(load16(p, lim), c);
#else
  uint32_t m = 0;
  const ptrdiff_t n = lim - p < 16 ? lim - p : 16;
  for (ptrdiff_t i = 0; i < n; ++i) m |= static_cast<uint32_t>(p[i] == c) << i;
  return m;
#endif
}

// Bit i set when p[i] is in class M, for the n <= 64 octets at p (all readable up to lim).
template <uint32_t M>
inline uint64_t class_bits64(const char* p, size_t n, const char* lim) {
  uint64_t m = 0;
  for (size_t k = 0; k < n; k += 16) m |= static_cast<uint64_t>(class_bits16<M>(p + k, lim)) << k;
  return n >= 64 ? m : m & ((uint64_t{1} << n) - 1);
}

// Masks of two given octets over the n <= 64 octets at p.
inline void eq_bits64(const char* p, size_t n, const char* lim, char c1, char c2, uint64_t& m1,
                      uint64_t& m2) {
  m1 = 0;
  m2 = 0;
  for (size_t k = 0; k < n; k += 16) {
    m1 |= static_cast<uint64_t>(eq_bits16(p + k, lim, c1)) << k;
    m2 |= static_cast<uint64_t>(eq_bits16(p + k, lim, c2)) << k;
  }
  if (n < 64) {
    m1 &= (uint64_t{1} << n) - 1;
    m2 &= (uint64_t{1} << n) - 1;
  }
}

// Class and octet masks of one span of at most 64 octets, for the fast paths that decide a
// whole value from masks (bit i = octet i) instead of scanning it step by step. With AVX-512
// the span is one masked load (nothing past it is read); otherwise the 16-octet scans above.
class Block64 {
 public:
  Block64(std::string_view s, [[maybe_unused]] const char* lim)
      : p_(s.data()),
        n_(s.size()),
        lim_(lim),
        live_(s.size() >= 64 ? ~uint64_t{0} : (uint64_t{1} << s.size()) - 1) {
#ifdef SIPWALL_SIP_AVX512
    v_ = _mm512_maskz_loadu_epi8(live_, p_);
#endif
#ifdef SIPWALL_SIP_VBMI
    // Every packed class of every octet in one lookup (two fewer shuffles per class than the
    // nibble tables). The index is the octet's low 7 bits: octets from 0x80 are zeroed.
    const __mmask64 ascii = ~_mm512_movepi8_mask(v_);
    cls_ = _mm512_maskz_permutex2var_epi8(ascii, _mm512_load_si512(detail::kPacked.data()), v_,
                                          _mm512_load_si512(detail::kPacked.data() + 64));
#endif
  }

  uint64_t live() const {
    return live_;
  }

  template <uint32_t M>
  [[gnu::always_inline]] uint64_t bits() const {
#ifdef SIPWALL_SIP_VBMI
    if constexpr (detail::packed_bit(M) >= 0) {
      return _mm512_test_epi8_mask(cls_,
                                   _mm512_set1_epi8(static_cast<char>(1 << detail::packed_bit(M))));
    }
#endif
#ifdef SIPWALL_SIP_AVX512
    const __m512i low4 = _mm512_set1_epi8(0x0f);
    const __m512i a = _mm512_shuffle_epi8(_mm512_loadu_si512(detail::kLo64<M>.data()),
                                          _mm512_and_si512(v_, low4));
    const __m512i b = _mm512_shuffle_epi8(_mm512_loadu_si512(detail::kHi64<M>.data()),
                                          _mm512_and_si512(_mm512_srli_epi16(v_, 4), low4));
    return _mm512_mask_test_epi8_mask(live_, a, b);
#else
    return class_bits64<M>(p_, n_, lim_);
#endif
  }

  [[gnu::always_inline]] uint64_t eq(char c) const {
#ifdef SIPWALL_SIP_AVX512
    return _mm512_mask_cmpeq_epi8_mask(live_, v_, _mm512_set1_epi8(c));
#else
    uint64_t m = 0;
    for (size_t k = 0; k < n_; k += 16) m |= static_cast<uint64_t>(eq_bits16(p_ + k, lim_, c)) << k;
    return m & live_;
#endif
  }

 private:
  const char* p_;
  size_t n_;
  [[maybe_unused]] const char* lim_;  // unused when AVX-512 masks the loads
  uint64_t live_;
#ifdef SIPWALL_SIP_AVX512
  __m512i v_;
#endif
#ifdef SIPWALL_SIP_VBMI
  __m512i cls_;
#endif
};

// Index of the first set bit of m at or after i (< 64), or n when there is none below n.
[[gnu::always_inline]] inline size_t next_bit(uint64_t m, size_t i, size_t n) {
  const uint64_t x = i < 64 ? m >> i : 0;
  return x != 0 ? i + static_cast<size_t>(__builtin_ctzll(x)) : n;
}

// The ";name[=value]" runs from `i` (on a ';' or at n) to n, from the masks of ';' and '=' of
// one 64-octet window: every name and value is non-empty, at most one '=' per parameter, and
// no name octet is in `bad_name`. The octet classes themselves are the caller's to check.
[[gnu::always_inline]] inline bool params_well_formed(uint64_t semi, uint64_t equal,
                                                      uint64_t bad_name, size_t i, size_t n) {
  const uint64_t seps = semi | equal;
  while (i < n) {  // on a ';'
    size_t next = next_bit(seps, i + 1, n);
    if (next == i + 1) return false;
    const uint64_t name = ((uint64_t{1} << (next - i - 1)) - 1) << (i + 1);  // i + 1 < 64
    if ((bad_name & name) != 0) return false;
    if (next < n && (equal >> next & 1) != 0) {
      const size_t value = next;
      next = next_bit(seps, value + 1, n);
      if (next == value + 1 || (next < n && (equal >> next & 1) != 0)) return false;
    }
    i = next;
  }
  return true;
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

// Index of the first `c` at or after `i` in s, npos if none: string_view::find without a
// memchr call, for the short spans of a SIP message. Reads up to lim (>= s end).
inline size_t find_byte(std::string_view s, char c, size_t i, [[maybe_unused]] const char* lim) {
  const char* const p = s.data();
  const size_t n = s.size();
  while (i < n) {
#ifdef SIPWALL_SIP_AVX512
    const size_t left = n - i;
    const __mmask64 live = left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1;
    const __mmask64 m = _mm512_mask_cmpeq_epi8_mask(live, _mm512_maskz_loadu_epi8(live, p + i),
                                                    _mm512_set1_epi8(c));
    if (m != 0) return i + static_cast<size_t>(__builtin_ctzll(m));
    i += 64;
#else
    const uint32_t m = eq_bits16(p + i, lim, c);
    if (m != 0) {
      i += static_cast<size_t>(__builtin_ctz(m));
      return i < n ? i : std::string_view::npos;
    }
    i += 16;
#endif
  }
  return std::string_view::npos;
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

// The scans of one value, answered from the masks of its first 64 octets where those are
// cheap (kMaskFastPaths): a step is then a few bit operations instead of a load and a class
// test on the parse's critical path. Runs that leave those 64 octets continue with scan().
class ValueScanner {
 public:
  ValueScanner(std::string_view s, const char* lim)
      : s_(s), lim_(lim), head_(s.substr(0, s.size() < 64 ? s.size() : 64), lim) {}

  // scan<M>(s, i, lim).
  template <uint32_t M>
  [[gnu::always_inline]] size_t scan(size_t i) const {
    if constexpr (kMaskFastPaths) {
      const size_t head = s_.size() < 64 ? s_.size() : 64;
      if (i < head) {
        const size_t r = next_bit(~head_.bits<M>() & head_.live(), i, head);
        if (r < head || head == s_.size()) return r;
        i = head;
      }
    }
    return sipchar::scan<M>(s_, i, lim_);
  }

 private:
  std::string_view s_;
  const char* lim_;
  Block64 head_;
};

// The masks an IPv4 check needs, for the 16 octets at p (octets at or past lim read as NUL):
// digits, dots, and the octets above / equal to '2' and '5' (for parts compared with "255").
struct Ipv4Masks {
  uint32_t digit = 0;
  uint32_t dot = 0;
  uint32_t gt2 = 0;
  uint32_t eq2 = 0;
  uint32_t gt5 = 0;
  uint32_t eq5 = 0;
};

[[gnu::always_inline]] inline Ipv4Masks ipv4_masks(const char* p, const char* lim) {
  Ipv4Masks m;
#ifdef SIPWALL_SIP_NIBBLE
  // Signed compares: octets from 0x80 are below '0' like NUL, so in none of the ranges.
  const __m128i v = load16(p, lim);
  const auto gt = [&](char c) {
    return static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpgt_epi8(v, _mm_set1_epi8(c))));
  };
  m.digit = gt('0' - 1) & ~gt('9');
  m.dot = eq_bits(v, '.');
  m.gt2 = gt('2');
  m.eq2 = eq_bits(v, '2');
  m.gt5 = gt('5');
  m.eq5 = eq_bits(v, '5');
#else
  const ptrdiff_t n = lim - p < 16 ? lim - p : 16;
  for (ptrdiff_t i = 0; i < n; ++i) {
    const auto c = static_cast<signed char>(p[i]);
    m.digit |= static_cast<uint32_t>(c >= '0' && c <= '9') << i;
    m.dot |= static_cast<uint32_t>(c == '.') << i;
    m.gt2 |= static_cast<uint32_t>(c > '2') << i;
    m.eq2 |= static_cast<uint32_t>(c == '2') << i;
    m.gt5 |= static_cast<uint32_t>(c > '5') << i;
    m.eq5 |= static_cast<uint32_t>(c == '5') << i;
  }
#endif
  return m;
}

// port = 1*5DIGIT, at most 65535, for a span that holds digits only (the scans that find a
// port stop at the first non-digit): a five-digit port is compared as text with "65535".
inline bool digit_port_ok(std::string_view digits) {
  if (digits.size() - 1 >= 5) return false;  // empty (wraps) or more than five digits
  return digits.size() < 5 || std::memcmp(digits.data(), "65535", 5) <= 0;
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
