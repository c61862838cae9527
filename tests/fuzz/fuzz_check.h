#pragma once

// What a fuzz target asserts: a broken invariant prints why and aborts, which libFuzzer saves
// as a crash (in every build type: NDEBUG does not switch these off).

#include <cstdio>
#include <cstdlib>
#include <span>

#define FUZZ_CHECK(cond, ...)                                                            \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                 \
      std::fputc('\n', stderr);                                                          \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

namespace sipwall::fuzz {

// True when `inner` lies within `outer` (an empty span anywhere inside or at the end counts).
template <class T, class U>
bool within(std::span<T> inner, std::span<U> outer) {
  const auto* b = reinterpret_cast<const unsigned char*>(outer.data());
  const auto* e = b + outer.size_bytes();
  const auto* p = reinterpret_cast<const unsigned char*>(inner.data());
  if (inner.empty()) return p == nullptr || (p >= b && p <= e);
  return p >= b && p + inner.size_bytes() <= e;
}

inline volatile unsigned g_touched = 0;

// Reads every octet, so ASan checks the whole span is live memory.
inline void touch(std::span<const unsigned char> bytes) {
  unsigned sum = 0;
  for (const unsigned char c : bytes) sum += c;
  g_touched = g_touched + sum;
}

}  // namespace sipwall::fuzz
