#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace sipwall {

enum class Verdict : uint8_t { pass, punt, drop };

// Every dropped packet is counted under exactly one of these.
enum class DropReason : uint8_t {
  none,
  malformed_l3,
  malformed_l4,
  fragment,
  acl,
  ban,
  flood,
  malformed_sip,
  signature,
  rtp_invalid,
  rtp_no_pinhole,
  punt_budget,  // signaling to a service address over the punt budget (rule: the Tier)
  pass_budget,  // transit signaling over the pass budget (rule: the Tier)
  transit,      // signaling to a non-service address with `transit sip=drop`
};
inline constexpr size_t kDropReasonCount = 14;

// Index of a signature rule in the active signature set.
using RuleIndex = uint32_t;
inline constexpr RuleIndex kNoRule = UINT32_MAX;

struct Decision {
  Verdict verdict = Verdict::pass;
  DropReason reason = DropReason::none;
  // What decided a drop, read by its reason: the signature rule index (signature), the
  // LimitClass whose bucket ran dry (flood), the ACL entry index (acl), the Tier (punt_budget,
  // pass_budget); kNoRule otherwise.
  RuleIndex rule = kNoRule;

  static constexpr Decision pass() { return {Verdict::pass, DropReason::none, kNoRule}; }
  static constexpr Decision punt() { return {Verdict::punt, DropReason::none, kNoRule}; }
  static constexpr Decision drop(DropReason why, RuleIndex rule = kNoRule) {
    return {Verdict::drop, why, rule};
  }
  bool operator==(const Decision&) const = default;
};

std::string_view to_string(Verdict v);
std::string_view to_string(DropReason r);
std::optional<DropReason> drop_reason_from_string(std::string_view name);

}  // namespace sipwall
