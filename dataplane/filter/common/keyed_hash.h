#pragma once

#include <cstdint>

namespace sipwall {

// A keyed 64-bit hash of a bucket key (two address words plus port/class/family), built from
// 64x64->128 multiply-fold rounds (as in wyhash). Not a cryptographic PRF, but with a secret
// seed an attacker who chooses spoofed sources cannot predict which bucket they land in.
// A fixed seed makes offline runs reproducible.
class KeyHash {
 public:
  explicit constexpr KeyHash(uint64_t seed)
      : k0_(splitmix(seed, 1)),
        k1_(splitmix(seed, 2)),
        k2_(splitmix(seed, 3)),
        k3_(splitmix(seed, 4)) {}

  constexpr uint64_t operator()(uint64_t lo, uint64_t hi, uint32_t extra) const {
    const uint64_t h = fold(lo ^ k0_, hi ^ k1_);
    return fold(h ^ k2_ ^ extra, k3_ ^ (uint64_t{extra} << 32));
  }

 private:
  __extension__ using U128 = unsigned __int128;

  static constexpr uint64_t fold(uint64_t a, uint64_t b) {
    const U128 p = static_cast<U128>(a) * b;
    return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
  }
  static constexpr uint64_t splitmix(uint64_t seed, uint64_t n) {
    uint64_t z = seed + n * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (z ^ (z >> 31)) | 1;  // odd: never a zero multiplier
  }

  uint64_t k0_, k1_, k2_, k3_;
};

}  // namespace sipwall
