#include "rules/content_hash.h"

namespace sipwall::rules {

void ContentHash::add_byte(uint8_t b) {
  h_ ^= b;
  h_ *= 0x100000001b3ULL;
}

void ContentHash::add(std::string_view part) {
  uint64_t n = part.size();
  for (int i = 0; i < 8; ++i, n >>= 8) add_byte(static_cast<uint8_t>(n));
  for (char c : part) add_byte(static_cast<uint8_t>(c));
}

std::string ContentHash::version() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "fnv1a64:";
  for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(h_ >> shift) & 0xf];
  return out;
}

}  // namespace sipwall::rules
