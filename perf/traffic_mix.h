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
  // Replayed every `period` (default one second): the mix's packet rate in replay time.
  Nanos period = kNanosPerSecond;
  // Mix (c): frames whose IPv4 source the benchmark rewrites before every pass (spoofed
  // sources: never the same twice within the token table's capacity), and the trusted ones,
  // whose source cycles through `trusted_sources` addresses from `trusted_base` (host order).
  std::vector<size_t> spoofed;
  std::vector<size_t> trusted;
  uint32_t trusted_base = 0;
  uint32_t trusted_sources = 0;
};

inline constexpr size_t kIpv4SourceOffset = 14 + 12;  // Ethernet + IPv4 header up to the source

// "a": 60% RTP 200-byte frames, 25% SIP 500-900 bytes from 10k sources, 15% flood, malformed
// SIP and scanners. "a-rtp", "a-sip", "a-bad": one of those three parts alone (same packets,
// same count), to see what each class costs.
// "b": 100% valid SIP of about 800 bytes, every message scanned by the default signatures.
// "c": a spoofed-source flood at 10 Mpps of replay time: 64-300-byte SIP datagrams (99%) from
// a new source address every packet (2^24 before one repeats, more than the token table
// holds), and 1% trusted legitimate SIP from 2,500 addresses of a trusted prefix (40/s each).
// nullopt for any other name.
std::optional<TrafficMix> make_mix(std::string_view name, size_t packets);

}  // namespace sipwall::perf
