#pragma once

#include <cstddef>
#include <span>

#include "common/time.h"

namespace sipwall {

// The benchmarks' clock: a table of packet times played round after round, each round
// `period` later than the one before. One call per packet, in order; no division per packet.
class ReplayClock {
 public:
  ReplayClock(std::span<const Nanos> times, Nanos period) : times_(times), period_(period) {}

  // Time of the next packet (the table must not be empty).
  Nanos next() {
    const Nanos t = times_[index_] + offset_;
    if (++index_ == times_.size()) {
      index_ = 0;
      offset_ += period_;
    }
    return t;
  }

 private:
  std::span<const Nanos> times_;
  Nanos period_;
  size_t index_ = 0;
  Nanos offset_ = 0;
};

}  // namespace sipwall
