#pragma once

#include <cstdint>

#include "common/verdict.h"

namespace sipwall {

// Receives the verdict for each packet the pipeline has decided. A packet is identified by the
// cookie its caller gave it (an mbuf pointer live, a packet index offline). One call may decide
// several packets (a reassembled datagram's fragments) or none (a fragment is held).
class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void decide(uint64_t cookie, const Decision& decision) = 0;
};

}  // namespace sipwall
