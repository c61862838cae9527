#pragma once

// Internal to the validator (not part of the stage API): finds CR and LF together, 64 octets
// at a time, so the header section is read once instead of one memchr per line plus a pass
// for bare CRs. The SIMD variants (SSE2, AVX2, AVX-512BW) and the scalar one give identical
// masks; the widest one the build targets is used, the others stay compiled for the tests.

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__) || defined(__AVX2__) || defined(__AVX512BW__)
#include <immintrin.h>
#endif

namespace sipwall::sipscan {

inline constexpr size_t kBlock = 64;

// Bit i set when p[i] is CR / LF, for the 64 octets at p (all readable).
struct Masks {
  uint64_t cr = 0;
  uint64_t lf = 0;
};

inline Masks masks_scalar(const char* p) {
  Masks m;
  for (size_t i = 0; i < kBlock; ++i) {
    m.cr |= static_cast<uint64_t>(p[i] == '\r') << i;
    m.lf |= static_cast<uint64_t>(p[i] == '\n') << i;
  }
  return m;
}

#ifdef __SSE2__
inline Masks masks_sse2(const char* p) {
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  Masks m;
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const auto c = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr)));
    const auto l = static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf)));
    m.cr |= static_cast<uint64_t>(c) << (16 * k);
    m.lf |= static_cast<uint64_t>(l) << (16 * k);
  }
  return m;
}
#endif

#ifdef __AVX2__
inline Masks masks_avx2(const char* p) {
  const __m256i cr = _mm256_set1_epi8('\r');
  const __m256i lf = _mm256_set1_epi8('\n');
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  const auto bits = [](__m256i v, __m256i c) {
    return static_cast<uint64_t>(
        static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, c))));
  };
  return Masks{bits(lo, cr) | bits(hi, cr) << 32, bits(lo, lf) | bits(hi, lf) << 32};
}
#endif

#ifdef __AVX512BW__
inline Masks masks_avx512(const char* p) {
  const __m512i v = _mm512_loadu_si512(p);
  return Masks{_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r')),
               _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'))};
}

// The same for the last len < 64 octets: a masked load reads nothing past them, and avoids the
// store-forwarding stall of copying them to a buffer first.
inline Masks masks_avx512_tail(const char* p, size_t len) {
  const __m512i v = _mm512_maskz_loadu_epi8((__mmask64{1} << len) - 1, p);
  return Masks{_mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r')),
               _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'))};
}
#endif

inline Masks masks(const char* p) {
#if defined(SIPWALL_SIP_SCALAR)
  return masks_scalar(p);
#elif defined(__AVX512BW__)
  return masks_avx512(p);
#elif defined(__AVX2__)
  return masks_avx2(p);
#elif defined(__SSE2__)
  return masks_sse2(p);
#else
  return masks_scalar(p);
#endif
}

// Walks the LFs of a datagram front to back, one 64-octet block at a time, and notes the
// first bare CR (a CR not followed by LF) at or after the position given to count_bare_from().
class LineScanner {
 public:
  static constexpr size_t npos = ~size_t{0};

  LineScanner(const char* base, size_t n) : base_(base), n_(n) { load(0); }

  // Position of the first LF at or after `from`, or npos. Calls must not go backwards
  // (`from` at or after the previous result).
  size_t next_lf(size_t from) {
    while (true) {
      if (from < block_) from = block_;
      const size_t rel = from - block_;
      if (rel < kBlock) {
        const uint64_t m = lf_ & (~uint64_t{0} << rel);
        if (m != 0) return block_ + static_cast<size_t>(__builtin_ctzll(m));
      }
      flush();
      block_ += kBlock;
      if (block_ >= n_) return npos;
      load(block_);
    }
  }

  // Bare CRs before `from` (which must be in the loaded block or the one after) are ignored.
  void count_bare_from(size_t from) {
    const size_t rel = from - block_;
    bare_ = rel < kBlock ? bare_ & (~uint64_t{0} << rel) : 0;
    counting_ = true;
  }

  // Position of the first bare CR seen since count_bare_from(), npos if none so far.
  size_t first_bare() {
    flush();
    return first_bare_;
  }

 private:
  void load(size_t at) {
    Masks m;
    if (n_ - at >= kBlock) [[likely]] {
      m = masks(base_ + at);
#if defined(__AVX512BW__) && !defined(SIPWALL_SIP_SCALAR)
    } else if (n_ > at) {
      m = masks_avx512_tail(base_ + at, n_ - at);
#endif
    } else {
      char tail[kBlock] = {};  // NULs are neither CR nor LF
      if (n_ > at) std::memcpy(tail, base_ + at, n_ - at);
      m = masks(tail);
    }
    lf_ = m.lf;
    // A CR is bare unless the next octet is LF; the next octet of bit 63 is in the next block.
    const bool next_lf = at + kBlock < n_ && base_[at + kBlock] == '\n';
    bare_ = m.cr & ~((m.lf >> 1) | (static_cast<uint64_t>(next_lf) << 63));
  }

  void flush() {
    if (bare_ != 0 && counting_ && first_bare_ == npos) [[unlikely]] {
      first_bare_ = block_ + static_cast<size_t>(__builtin_ctzll(bare_));
    }
    bare_ = 0;
  }

  const char* base_;
  size_t n_;
  size_t block_ = 0;
  uint64_t lf_ = 0;
  uint64_t bare_ = 0;
  bool counting_ = false;
  size_t first_bare_ = npos;
};

}  // namespace sipwall::sipscan
