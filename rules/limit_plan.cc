#include "rules/limit_plan.h"

#include <algorithm>

namespace sipwall::rules {

std::string_view to_string(LimitScope s) {
  switch (s) {
    case LimitScope::sip_all:
      return "sip";
    case LimitScope::methods:
      return "methods";
    case LimitScope::other_methods:
      return "other";
    case LimitScope::rtp_flow:
      return "rtp";
    case LimitScope::tcp_syn:
      return "tcp-syn";
  }
  return "?";
}

std::span<const LimitSlotId> LimitPlan::request_slots(std::string_view method) const {
  const auto it = std::lower_bound(
      methods.begin(), methods.end(), method,
      [](const MethodSlots& m, std::string_view v) { return std::string_view(m.method) < v; });
  if (it != methods.end() && it->method == method) return it->slots;
  return other_methods;
}

BucketParams LimitPlan::params_for(LimitSlotId slot, const IpAddress& source) const {
  for (const LimitOverride& o : overrides) {
    if (o.slot == slot && o.prefix.contains(source)) return o.params;
  }
  return slots.at(slot).params;
}

std::optional<RateLimitConfig> LimitPlan::as_classes(const RateLimitConfig& base) const {
  RateLimitConfig out = base;
  BucketParams* by_class[kLimitClassCount] = {&out.sip_all, &out.invite,       &out.register_,
                                              &out.options, &out.other_method, &out.rtp_flow,
                                              &out.tcp_syn};
  bool seen[kLimitClassCount] = {};
  for (BucketParams* p : by_class) *p = kUnlimited;

  for (const LimitSlot& s : slots) {
    if (s.v4_prefix != base.v4_prefix || s.v6_prefix != base.v6_prefix) return std::nullopt;
    LimitClass cls = LimitClass::sip_all;
    switch (s.scope) {
      case LimitScope::sip_all:
        cls = LimitClass::sip_all;
        break;
      case LimitScope::other_methods:
        cls = LimitClass::other_method;
        break;
      case LimitScope::rtp_flow:
        cls = LimitClass::rtp_flow;
        break;
      case LimitScope::tcp_syn:
        cls = LimitClass::tcp_syn;
        break;
      case LimitScope::methods:
        if (s.methods.size() != 1) return std::nullopt;
        if (s.methods[0] == "INVITE") {
          cls = LimitClass::invite;
        } else if (s.methods[0] == "REGISTER") {
          cls = LimitClass::register_;
        } else if (s.methods[0] == "OPTIONS") {
          cls = LimitClass::options;
        } else {
          return std::nullopt;
        }
        break;
    }
    const auto c = static_cast<size_t>(cls);
    if (seen[c]) return std::nullopt;
    seen[c] = true;
    *by_class[c] = s.params;
  }
  const bool all_methods = seen[static_cast<size_t>(LimitClass::invite)] &&
                           seen[static_cast<size_t>(LimitClass::register_)] &&
                           seen[static_cast<size_t>(LimitClass::options)];
  if (seen[static_cast<size_t>(LimitClass::other_method)] && !all_methods) return std::nullopt;
  return out;
}

RateLimitConfig LimitPlan::nearest_classes(const RateLimitConfig& base) const {
  RateLimitConfig out = base;
  auto first = [&](std::span<const LimitSlotId> ids) {
    return ids.empty() ? kUnlimited : slots[ids.front()].params;
  };
  out.sip_all = first(sip_all);
  out.other_method = first(other_methods);
  out.rtp_flow = first(rtp_flow);
  out.tcp_syn = first(tcp_syn);
  const std::span<const LimitSlotId> none;
  auto method = [&](std::string_view m) {
    for (const MethodSlots& ms : methods) {
      if (ms.method == m) return first(ms.slots);
    }
    return first(none);
  };
  out.invite = method("INVITE");
  out.register_ = method("REGISTER");
  out.options = method("OPTIONS");
  return out;
}

}  // namespace sipwall::rules
