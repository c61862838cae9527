#pragma once

#include <cstdint>

#include "common/ip_address.h"
#include "limit/limit_config.h"

namespace sipwall {

// Identifies one token bucket: a source prefix and a limit (plus the destination port for RTP).
struct BucketKey {
  IpAddress source;   // already masked to the limit's prefix length
  uint16_t port = 0;  // RTP destination port for RTP limits, else 0
  uint8_t limit = 0;  // the limit's slot; the six LimitClass values are the built-in slots

  bool operator==(const BucketKey&) const = default;
};

// Builds the key for a packet: masks the source to v4_prefix / v6_prefix so that all
// addresses of one prefix share a bucket, and drops the port unless the class is rtp_flow.
BucketKey make_key(const IpAddress& source, uint16_t port, LimitClass cls,
                   const RateLimitConfig& config);

}  // namespace sipwall
