#pragma once

#include <array>
#include <cstdint>
#include <mutex>

namespace sipwall {

// A fixed-bucket histogram of seconds for Prometheus (cumulative buckets, sum, count). Written by
// the control thread, read by the metrics thread: a mutex, never on a worker.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 12> kBounds = {10e-6, 25e-6,  50e-6, 100e-6, 250e-6, 500e-6,
                                                     1e-3,  2.5e-3, 5e-3,  10e-3,  100e-3, 1.0};

  struct Snapshot {
    std::array<uint64_t, kBounds.size()> cumulative{};  // observations <= kBounds[i]
    uint64_t count = 0;
    double sum = 0;
  };

  void observe(double seconds) {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < kBounds.size(); ++i) {
      if (seconds <= kBounds[i]) ++data_.cumulative[i];
    }
    ++data_.count;
    data_.sum += seconds;
  }
  Snapshot snapshot() const {
    std::lock_guard lock(mutex_);
    return data_;
  }

 private:
  mutable std::mutex mutex_;
  Snapshot data_;
};

}  // namespace sipwall
