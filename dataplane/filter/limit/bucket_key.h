#pragma once

#include <cstdint>

#include "common/ip_address.h"
#include "limit/limit_config.h"

namespace sipwall {

// Identifies one token bucket: a source prefix and a class (plus the destination port for RTP).
struct BucketKey {
  IpAddress source;   // already masked to the configured prefix length
  uint16_t port = 0;  // RTP destination port for LimitClass::rtp_flow, else 0
  LimitClass cls = LimitClass::sip_all;

  bool operator==(const BucketKey&) const = default;
};

// Builds the key for a packet: masks the source to v4_prefix / v6_prefix so that all
// addresses of one prefix share a bucket, and drops the port unless the class is rtp_flow.
BucketKey make_key(const IpAddress& source, uint16_t port, LimitClass cls,
                   const RateLimitConfig& config);

}  // namespace sipwall
