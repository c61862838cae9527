#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip_address.h"
#include "limit/limit_config.h"
#include "rules/diagnostics.h"

namespace sipwall::rules {

// What a `limit` statement counts.
enum class LimitScope : uint8_t {
  sip_all,        // every SIP datagram: requests, responses, CRLF keepalives
  methods,        // requests whose method token is in the list (exact, case-sensitive)
  other_methods,  // requests whose method no `methods` limit lists
  rtp_flow,       // RTP/RTCP per flow (source prefix + destination port)
  tcp_syn,        // TCP connection attempts (SYN without ACK) to the SIP TCP/TLS ports
};
std::string_view to_string(LimitScope s);

inline constexpr size_t kMaxLimitSlots = 64;
// Buckets one packet may take tokens from (BucketKey arrays in the pipeline are fixed-size).
inline constexpr size_t kMaxSlotsPerPacket = 8;
// What an absent class becomes in the fixed-class projection: never runs dry in practice.
inline constexpr BucketParams kUnlimited{UINT32_MAX, UINT32_MAX};

using LimitSlotId = uint8_t;

// One `limit` statement; its slot id is its index in LimitPlan::slots (file order).
struct LimitSlot {
  std::string id;
  SourceLocation where;
  LimitScope scope = LimitScope::sip_all;
  std::vector<std::string> methods;  // LimitScope::methods only
  BucketParams params;
  uint8_t v4_prefix = 32;  // source aggregation for this slot's buckets
  uint8_t v6_prefix = 64;
};

// `override`: sources inside `prefix` get `params` instead of the slot's own, each source
// (aggregate) still with its own bucket.
struct LimitOverride {
  std::string id;
  SourceLocation where;
  IpPrefix prefix;
  LimitSlotId slot = 0;
  BucketParams params;
};

struct MethodSlots {
  std::string method;
  std::vector<LimitSlotId> slots;  // ascending
};

// Which buckets a packet takes tokens from, and at what rate. A packet conforms when every one
// of its slots has a token (the pipeline stops at the first empty one).
//   SIP request  : sip_all + (its method's entry in `methods`, else other_methods)
//   SIP response : sip_all (responses and keepalives are never charged to a method)
//   RTP/RTCP     : rtp_flow
//   TCP SYN      : tcp_syn (other segments of SIP over TCP/TLS are not rate-limited)
struct LimitPlan {
  std::vector<LimitSlot> slots;
  std::vector<LimitSlotId> sip_all;
  std::vector<MethodSlots> methods;  // sorted by method
  std::vector<LimitSlotId> other_methods;
  std::vector<LimitSlotId> rtp_flow;
  std::vector<LimitSlotId> tcp_syn;
  // Longest prefix first (then file order): the first entry for a slot that contains the
  // source wins.
  std::vector<LimitOverride> overrides;

  // Slots a request with this method token takes tokens from besides sip_all.
  std::span<const LimitSlotId> request_slots(std::string_view method) const;
  // Bucket parameters of `slot` for `source` (the most specific override, else the slot's).
  BucketParams params_for(LimitSlotId slot, const IpAddress& source) const;

  // The plan as the dataplane's fixed classes (limit_config.h), when it is exactly that: at
  // most one limit each for all SIP / INVITE / REGISTER / OPTIONS / other / RTP / TCP SYN, method
  // limits only for those three methods (each alone), every slot on the given aggregation, and
  // no other-limit unless all three method limits exist (otherwise "other" would also cover the
  // missing ones). Absent classes become kUnlimited. nullopt when it does not fit.
  std::optional<RateLimitConfig> as_classes(const RateLimitConfig& base) const;
  // Until the pipeline takes slots: each class gets the first limit that covers it (sip, the
  // first limit listing INVITE / REGISTER / OPTIONS, other, rtp, tcp-syn), else kUnlimited.
  RateLimitConfig nearest_classes(const RateLimitConfig& base) const;
};

}  // namespace sipwall::rules
