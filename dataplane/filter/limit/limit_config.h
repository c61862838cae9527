#pragma once

#include <cstddef>
#include <cstdint>

namespace sipwall {

// What a token bucket counts. Each class has its own bucket per source, so a REGISTER flood
// cannot use up the INVITE budget of the same source (and all SIP together has one more).
// tcp_syn counts connection attempts (SYN without ACK) to the SIP TCP and TLS ports: their
// segments are punted unjudged, so a SYN flood would otherwise reach the control plane whole.
enum class LimitClass : uint8_t {
  sip_all,
  invite,
  register_,
  options,
  other_method,
  rtp_flow,
  tcp_syn,
};
inline constexpr size_t kLimitClassCount = 7;

// rate_per_sec tokens are added per second, up to burst tokens; a packet takes one token.
// rate 0 never refills; burst 0 drops everything.
struct BucketParams {
  uint32_t rate_per_sec = 0;
  uint32_t burst = 0;

  bool operator==(const BucketParams&) const = default;
};

struct RateLimitConfig {
  BucketParams sip_all{50, 100};
  BucketParams invite{20, 40};
  BucketParams register_{10, 20};
  BucketParams options{10, 20};
  BucketParams other_method{50, 100};
  BucketParams rtp_flow{200, 400};  // packets per RTP flow (source address + destination port)
  BucketParams tcp_syn{20, 40};     // TCP connection attempts to the SIP ports, per source
  // Sources are aggregated per prefix: attackers rotate addresses inside their IPv6 /64.
  uint8_t v4_prefix = 32;
  uint8_t v6_prefix = 64;
  size_t table_capacity = 1'048'576;  // sources (buckets) per worker table

  constexpr BucketParams params(LimitClass cls) const {
    switch (cls) {
      case LimitClass::sip_all:
        return sip_all;
      case LimitClass::invite:
        return invite;
      case LimitClass::register_:
        return register_;
      case LimitClass::options:
        return options;
      case LimitClass::other_method:
        return other_method;
      case LimitClass::rtp_flow:
        return rtp_flow;
      case LimitClass::tcp_syn:
        return tcp_syn;
    }
    return {};
  }
};

}  // namespace sipwall
