#pragma once

// AddressSanitizer hooks for memory that is recycled rather than freed (pooled buffers) and for
// views whose readable end is a promise of the caller. Without ASan they compile to nothing.

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define SIPWALL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIPWALL_ASAN 1
#endif
#endif

#ifdef SIPWALL_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace sipwall {

// Marks [p, p + n) unusable: any access is reported as use-after-poison. Keep regions 8-octet
// aligned at both ends (ASan tracks 8-octet granules; a partial one is poisoned conservatively).
inline void asan_poison([[maybe_unused]] const void* p, [[maybe_unused]] size_t n) {
#ifdef SIPWALL_ASAN
  __asan_poison_memory_region(p, n);
#endif
}

inline void asan_unpoison([[maybe_unused]] const void* p, [[maybe_unused]] size_t n) {
#ifdef SIPWALL_ASAN
  __asan_unpoison_memory_region(p, n);
#endif
}

// False when ASan knows some octet of [begin, end) is not addressable (freed, a redzone past an
// allocation, poisoned); always true without ASan. For asserts on caller-promised bounds.
inline bool asan_addressable([[maybe_unused]] const void* begin, [[maybe_unused]] const void* end) {
#ifdef SIPWALL_ASAN
  const auto* b = static_cast<const char*>(begin);
  const auto* e = static_cast<const char*>(end);
  return e <= b ||
         __asan_region_is_poisoned(const_cast<char*>(b), static_cast<size_t>(e - b)) == nullptr;
#else
  return true;
#endif
}

}  // namespace sipwall
