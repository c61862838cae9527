#include "limit/bucket_key.h"

namespace sipwall {

BucketKey make_key(const IpAddress& source, uint16_t port, LimitClass cls,
                   const RateLimitConfig& config) {
  const unsigned len = source.is_v4() ? config.v4_prefix : config.v6_prefix;
  return BucketKey{source.masked(len), cls == LimitClass::rtp_flow ? port : uint16_t{0},
                   static_cast<uint8_t>(cls)};
}

}  // namespace sipwall
