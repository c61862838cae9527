#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sipwall::rules {

// 64-bit FNV-1a over every file of a set, in the order read. A version id for "which rules are
// loaded" (logs, metrics, reload no-op detection), not a security checksum.
class ContentHash {
 public:
  // Each part is length-prefixed so ("ab","c") and ("a","bc") differ.
  void add(std::string_view part);
  uint64_t value() const { return h_; }
  // "fnv1a64:" + 16 lower-case hex digits.
  std::string version() const;

 private:
  void add_byte(uint8_t b);
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace sipwall::rules
