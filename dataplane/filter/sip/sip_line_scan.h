#pragma once

// Internal to the validator (not part of the stage API): finds CR and LF together, 64 octets
// at a time, so the header section is read once instead of one memchr per line plus a pass
// for bare CRs. The SIMD variants (SSE2, AVX2, AVX-512BW) and the scalar one give identical
// masks; the widest one the build targets is used, the others stay compiled for the tests.
// With AVX-512 (and in the scalar test build) each block also gets a token-class mask, from
// which the validator reads where a header name ends.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "sip/sip_class_scan.h"

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

// The scanner's members differ with the target (token masks only with AVX-512). Every program
// builds all its users for one target (tests/unit/sip/meson.build); the unnamed namespace also
// gives each translation unit its own copy, so a unit built otherwise could not mix them up.
namespace {

// Walks the LFs of a datagram front to back, one 64-octet block at a time, and notes the
// first bare CR (a CR not followed by LF) at or after the position given to count_bare_from().
// An LF is handed out by clearing the lowest bit of the block's mask, so finding the next line
// does not wait for the previous line's position: the lines of a block are found, and checked
// out of order, in parallel. The block after the current one is loaded ahead, for the CR in
// bit 63 and for header names that start near the end of the block (token_end).
class LineScanner {
 public:
  static constexpr size_t npos = ~size_t{0};

  LineScanner(const char* base, size_t n) : base_(base), n_(n) {
    load(0, cur_);
    load(kBlock, next_);
    start_block();
  }

  // The LFs in order: the first LF of the datagram on the first call, then the one after the
  // previous result; npos when there is none left.
  size_t next_lf() {
    // Most calls find an LF left in the current block; the loop skips blocks without one.
    while (__builtin_expect(lf_ == 0, 0)) {
      if (!advance()) return npos;
    }
    const size_t at = block_ + static_cast<size_t>(__builtin_ctzll(lf_));
    lf_ &= lf_ - 1;
    return at;
  }

  // The first octet at or after `from` that is not a token octet (nor is any octet past the
  // datagram), from the blocks' token masks; npos when it is not among the 64 octets from
  // `from`, or where the masks are not kept (they cost more than a scan without AVX-512).
  // `from` must be just past the last LF handed out: in the current block or at the start of
  // the next.
  size_t token_end(size_t from) const {
    if constexpr (!sipchar::kMaskFastPaths) return npos;
    const size_t rel = from - block_;
    if (rel > kBlock) [[unlikely]]
      return npos;
    const uint64_t w =
        rel < kBlock ? cur_.ntok >> rel | next_.ntok << 1 << (kBlock - 1 - rel) : next_.ntok;
    return w != 0 ? from + static_cast<size_t>(__builtin_ctzll(w)) : npos;
  }

  // Bare CRs before `from` (which must be in the current block or at the start of the next)
  // are ignored: those of the blocks left behind, and of the current one before `from`.
  void count_bare_from(size_t from) {
    const size_t rel = from - block_;
    bare_ = rel < kBlock ? bare_ & (~uint64_t{0} << rel) : 0;
    first_bare_ = npos;
  }

  // Position of the first bare CR seen since count_bare_from(), npos if none so far.
  size_t first_bare() {
    flush();
    return first_bare_;
  }

 private:
  struct Block {
    uint64_t cr = 0;
    uint64_t lf = 0;
    uint64_t ntok = ~uint64_t{0};  // not a token octet; past the datagram none is
  };

  void load(size_t at, Block& b) const {
    if (at >= n_) {
      b = Block{};
      return;
    }
    const size_t len = n_ - at < kBlock ? n_ - at : kBlock;
    Masks m;
    if (len == kBlock) [[likely]] {
      m = masks(base_ + at);
#if defined(__AVX512BW__) && !defined(SIPWALL_SIP_SCALAR)
    } else {
      m = masks_avx512_tail(base_ + at, len);
#else
    } else {
      char tail[kBlock] = {};  // NULs are neither CR nor LF
      std::memcpy(tail, base_ + at, len);
      m = masks(tail);
#endif
    }
    b.cr = m.cr;
    b.lf = m.lf;
    if constexpr (sipchar::kMaskFastPaths) {
      b.ntok =
          ~sipchar::Block64(std::string_view(base_ + at, len), base_ + n_).bits<sipchar::kToken>();
    }
  }

  // Moves to the next block; false at the end of the datagram.
  bool advance() {
    flush();
    if (n_ - block_ <= kBlock) return false;
    block_ += kBlock;
    cur_ = next_;
    load(block_ + kBlock, next_);
    start_block();
    return true;
  }

  void start_block() {
    lf_ = cur_.lf;
    // A CR is bare unless the next octet is LF; the next octet of bit 63 is in the next block.
    bare_ = cur_.cr & ~(cur_.lf >> 1 | next_.lf << 63);
  }

  void flush() {
    if (bare_ != 0 && first_bare_ == npos) [[unlikely]] {
      first_bare_ = block_ + static_cast<size_t>(__builtin_ctzll(bare_));
    }
    bare_ = 0;
  }

  const char* base_;
  size_t n_;
  size_t block_ = 0;
  Block cur_;
  Block next_;
  uint64_t lf_ = 0;  // LFs of the current block not handed out yet
  uint64_t bare_ = 0;
  size_t first_bare_ = npos;
};

}  // namespace

}  // namespace sipwall::sipscan
