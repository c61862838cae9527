#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "acl/prefix_table.h"
#include "common/ip_address.h"
#include "limit/bucket_key.h"
#include "limit/limit_config.h"

namespace sipwall {

// Limits as a rule file defines them, before the dataplane compiles them. Slot numbers are
// stable ids (the same limit id keeps its number across reloads), so a source's buckets
// survive a reload when its limit's identity is unchanged. The built-in limits use the
// LimitClass values as their slots.
struct LimitSpec {
  struct Slot {
    uint8_t id = 0;  // stable slot number, the bucket key's class
    BucketParams params;
    uint8_t v4_prefix = 32;
    uint8_t v6_prefix = 64;
  };
  struct Override {
    IpPrefix prefix;
    uint8_t slot = 0;  // stable slot number
    BucketParams params;
  };
  struct Method {
    std::string token;           // exact, case-sensitive
    std::vector<uint8_t> slots;  // stable slot numbers
  };
  std::vector<Slot> slots;
  std::vector<uint8_t> sip_all;        // every SIP datagram
  std::vector<Method> methods;         // requests by method
  std::vector<uint8_t> other_methods;  // requests of any method not listed
  std::vector<uint8_t> rtp_flow;       // RTP/RTCP per flow
  std::vector<uint8_t> tcp_syn;        // TCP SYN (without ACK) to the SIP TCP/TLS ports
  std::vector<Override> overrides;

  // The fixed classes of RateLimitConfig as a spec (the built-in defaults).
  static LimitSpec from_classes(const RateLimitConfig& classes);
};

inline constexpr size_t kMaxLimitSlots = 256;
inline constexpr size_t kMaxKeysPerPacket = 8;

// A LimitSpec compiled for the hot path: slot lookups are array indexing, per-slot overrides
// are a longest-prefix table each, method tokens are compared against a short list.
class LimitPolicy {
 public:
  // Error text (empty on success), e.g. more slots per packet than kMaxKeysPerPacket.
  static std::string build(const LimitSpec& spec, LimitPolicy& out);

  std::span<const uint8_t> sip_all() const { return sip_all_; }
  std::span<const uint8_t> rtp_flow() const { return rtp_flow_; }
  std::span<const uint8_t> tcp_syn() const { return tcp_syn_; }
  // Slots a request with this method token takes tokens from besides sip_all().
  std::span<const uint8_t> request_slots(std::string_view method) const;
  // The bucket key of `source` for `slot` (masked by the slot's own aggregation).
  BucketKey key(uint8_t slot, const IpAddress& source, uint16_t port) const;
  // True when `slot`'s keys are the source masked to these lengths (no port): its key hash is
  // then a hash of that source aggregate.
  bool keys_aggregate(uint8_t slot, uint8_t v4_prefix, uint8_t v6_prefix) const {
    const CompiledSlot& c = slots_[slot];
    return c.defined && !c.rtp && c.v4_prefix == v4_prefix && c.v6_prefix == v6_prefix;
  }
  // The slot's parameters for this source: the longest matching override, else its own.
  // Inline for a slot without overrides (the usual case; it runs for every bucket taken).
  BucketParams params(uint8_t slot, const IpAddress& source) const {
    const CompiledSlot& c = slots_[slot];
    if (c.override_params.empty()) [[likely]] {
      return c.params;
    }
    return params_with_overrides(c, source);
  }

 private:
  struct CompiledSlot {
    bool defined = false;
    BucketParams params;
    uint8_t v4_prefix = 32;
    uint8_t v6_prefix = 64;
    bool rtp = false;
    PrefixTable overrides;  // entry index -> override_params
    std::vector<BucketParams> override_params;
  };
  static BucketParams params_with_overrides(const CompiledSlot& c, const IpAddress& source);
  std::vector<CompiledSlot> slots_ = std::vector<CompiledSlot>(kMaxLimitSlots);
  std::vector<uint8_t> sip_all_, other_methods_, rtp_flow_, tcp_syn_;
  // Per method token: its first 8 octets packed, so most requests are told apart by one
  // compare (request_slots() runs for every SIP request).
  struct MethodSlots {
    uint64_t head = 0;
    std::string token;
    std::vector<uint8_t> slots;
  };
  static uint64_t head_of(std::string_view token);
  std::vector<MethodSlots> methods_;
};

// Inline: the pipeline builds one or two keys per packet.
inline BucketKey LimitPolicy::key(uint8_t slot, const IpAddress& source, uint16_t port) const {
  const CompiledSlot& c = slots_[slot];
  const unsigned len = source.is_v4() ? c.v4_prefix : c.v6_prefix;
  return BucketKey{source.masked(len), c.rtp ? port : uint16_t{0}, slot};
}

}  // namespace sipwall
