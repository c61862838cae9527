#pragma once

#include <string>
#include <vector>

#include "common/time.h"

namespace sipwall {

// What offline mode learns from reading the capture once before the run: that it is readable
// and Ethernet, how many packets it holds, and each packet's time (the offline clock).
struct CaptureScan {
  std::vector<Nanos> packet_times;
  bool nanosecond_file = false;  // keep the input's timestamp precision in the outputs
  std::string error;             // empty when the capture is usable
};

CaptureScan scan_capture(const std::string& path);

}  // namespace sipwall
