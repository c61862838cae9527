#include "budget/fair_share.h"

#include <algorithm>
#include <cmath>

namespace sipwall {

FairShare::FairShare() : slots_(std::make_unique<Slot[]>(kFairSlots)) {}

void FairShare::roll(Nanos now, double floor) {
  // More than one window went by: the last one's counts say nothing about now.
  const bool idle = now >= window_end_ + kFairWindow;
  const double granted = idle ? 0 : static_cast<double>(granted_);
  const uint32_t active = idle ? 0 : active_;
  const double capacity = std::max(floor, granted);
  // Nobody asked in the last window (the start, or after a pause): one aggregate may take this
  // worker's whole share of a window, no more, until there is a count to divide by.
  fair_part_ = static_cast<uint32_t>(std::max(1.0, std::ceil(capacity / std::max(active, 1u))));
  ++epoch_;
  active_ = 0;
  granted_ = 0;
  window_end_ = now - (now % kFairWindow) + kFairWindow;
}

}  // namespace sipwall
