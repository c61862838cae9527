#pragma once

// One fuzz input as a sequence of frames on a replayed clock, for the targets that need state
// across packets (reassembly, token buckets, the pipeline). Record format (make_seeds.py writes
// it from captures):
//   u16 length (big-endian) | u8 clock step | length octets of frame
// The clock advances by step^2 x 100 us before the frame (0 .. 6.5 s: enough to cross the
// fragment timeout and refill buckets). A length past the end takes what is left. Each frame
// is copied into its own exactly-sized heap buffer, so ASan sees any read past a frame.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/time.h"

namespace sipwall::fuzz {

inline constexpr Nanos kEpoch = 1'700'000'000 * kNanosPerSecond;
inline constexpr size_t kMaxFrames = 256;  // bounds the work one input can ask for

struct Frame {
  std::vector<uint8_t> bytes;
  Nanos now = 0;
};

inline std::vector<Frame> read_frames(std::span<const uint8_t> in) {
  std::vector<Frame> frames;
  Nanos now = kEpoch;
  size_t i = 0;
  while (i + 3 <= in.size() && frames.size() < kMaxFrames) {
    size_t len = size_t{in[i]} << 8 | in[i + 1];
    const Nanos step = in[i + 2];
    i += 3;
    if (len > in.size() - i) len = in.size() - i;
    now += step * step * (kNanosPerMilli / 10);
    frames.push_back(Frame{std::vector<uint8_t>(in.begin() + i, in.begin() + i + len), now});
    i += len;
  }
  return frames;
}

}  // namespace sipwall::fuzz
