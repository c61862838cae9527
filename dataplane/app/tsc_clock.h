#pragma once

#include <rte_cycles.h>

#include "common/time.h"

namespace sipwall {

// The live dataplane's clock (the TSC in nanoseconds), as the workers read it: the control thread
// turns a command's TTL into an expiry on this same clock.
inline Nanos tsc_nanos() {
  static const uint64_t hz = rte_get_tsc_hz();
  // Split so the multiplication cannot overflow: the remainder is below the TSC frequency.
  const uint64_t tsc = rte_rdtsc();
  return tsc / hz * kNanosPerSecond + tsc % hz * kNanosPerSecond / hz;
}

}  // namespace sipwall
