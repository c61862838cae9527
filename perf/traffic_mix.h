#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace sipwall::perf {

// One second of traffic, built once in memory and replayed: frames in arrival order with their
// time offset inside the second. Sources and rates are chosen so that legitimate senders stay
// under the default limits when the second is replayed again and again.
struct TrafficMix {
  std::string name;
  std::vector<std::vector<uint8_t>> frames;
  std::vector<Nanos> times;
};

// "a": 60% RTP 200-byte frames, 25% SIP 500-900 bytes from 10k sources, 15% flood, malformed
// SIP and scanners. "a-rtp", "a-sip", "a-bad": one of those three parts alone (same packets,
// same count), to see what each class costs.
// "b": 100% valid SIP of about 800 bytes, every message scanned by the default signatures.
// nullopt for any other name.
std::optional<TrafficMix> make_mix(std::string_view name, size_t packets);

}  // namespace sipwall::perf
