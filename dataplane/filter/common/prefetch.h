#pragma once

namespace sipwall {

// Asks for the cache line holding `p`, to be written soon. Inline asm rather than
// __builtin_prefetch: GCC 12's IPA pure-const pass classes a function whose only effect is
// __builtin_prefetch as "looping pure" and deletes its calls, so a prefetch wrapped in a helper
// silently vanished from the token-bucket burst loop. An asm volatile statement cannot be deleted.
inline void prefetch_for_write(const void* p) {
#if defined(__x86_64__) && defined(__PRFCHW__)
  asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#elif defined(__aarch64__)
  asm volatile("prfm pstl1keep, %0" : : "Q"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 1);
#endif
}

}  // namespace sipwall
