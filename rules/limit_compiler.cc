#include "rules/limit_compiler.h"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

namespace sipwall::rules {
namespace {

void check_width(const std::vector<LimitSlotId>& base, const std::vector<LimitSlotId>& extra,
                 std::string_view what, const LimitPlan& plan, Diagnostics& diags) {
  if (base.size() + extra.size() <= kMaxSlotsPerPacket) return;
  const LimitSlot& last = plan.slots[extra.empty() ? base.back() : extra.back()];
  diags.error(last.where, std::string(what) + " would take tokens from " +
                              std::to_string(base.size() + extra.size()) + " limits (at most " +
                              std::to_string(kMaxSlotsPerPacket) + ")");
}

}  // namespace

LimitPlan compile_limits(const RuleSet& set, Diagnostics& diags) {
  LimitPlan plan;
  const RateLimitConfig& base = set.settings.limits;
  if (set.limits.size() > kMaxLimitSlots) {
    diags.error(set.limits[kMaxLimitSlots].where,
                "too many limits (at most " + std::to_string(kMaxLimitSlots) + ")");
    return plan;
  }

  std::map<std::string, std::vector<LimitSlotId>> by_method;
  std::unordered_map<std::string, LimitSlotId> by_id;
  for (const LimitDecl& d : set.limits) {
    const auto slot = static_cast<LimitSlotId>(plan.slots.size());
    plan.slots.push_back({d.id, d.where, d.scope, d.methods, d.params,
                          d.v4_prefix.value_or(base.v4_prefix),
                          d.v6_prefix.value_or(base.v6_prefix)});
    by_id.emplace(d.id, slot);
    switch (d.scope) {
      case LimitScope::sip_all:
        plan.sip_all.push_back(slot);
        break;
      case LimitScope::other_methods:
        plan.other_methods.push_back(slot);
        break;
      case LimitScope::rtp_flow:
        plan.rtp_flow.push_back(slot);
        break;
      case LimitScope::tcp_syn:
        plan.tcp_syn.push_back(slot);
        break;
      case LimitScope::methods:
        for (const std::string& m : d.methods) by_method[m].push_back(slot);
        break;
    }
  }
  for (auto& [method, slots] : by_method) plan.methods.push_back({method, std::move(slots)});

  check_width(plan.sip_all, plan.other_methods, "a request of an unlisted method", plan, diags);
  for (const MethodSlots& m : plan.methods) {
    check_width(plan.sip_all, m.slots, "a request with method " + m.method, plan, diags);
  }
  check_width({}, plan.rtp_flow, "an RTP packet", plan, diags);
  check_width({}, plan.tcp_syn, "a TCP SYN", plan, diags);

  std::map<std::pair<std::string, LimitSlotId>, SourceLocation> seen;
  for (const OverrideDecl& o : set.overrides) {
    const auto it = by_id.find(o.limit);
    if (it == by_id.end()) {
      diags.error(o.limit_where, "override '" + o.id + "' refers to unknown limit '" + o.limit +
                                     "' (define it with: limit " + o.limit + " ...)");
      continue;
    }
    const LimitSlot& slot = plan.slots[it->second];
    const unsigned aggregate = o.prefix.address.is_v4() ? slot.v4_prefix : slot.v6_prefix;
    if (o.prefix.length > aggregate) {
      diags.error(o.prefix_where, "override prefix /" + std::to_string(o.prefix.length) +
                                      " is narrower than limit '" + slot.id +
                                      "' counts sources (/" + std::to_string(aggregate) +
                                      "): one bucket covers the whole /" +
                                      std::to_string(aggregate));
      continue;
    }
    const auto [prev, fresh] = seen.try_emplace({o.prefix.to_string(), it->second}, o.prefix_where);
    if (!fresh) {
      diags.error(o.prefix_where, "prefix " + o.prefix.to_string() + " already overrides limit '" +
                                      slot.id + "' at " + prev->second.to_string());
      continue;
    }
    plan.overrides.push_back(
        {o.id,
         o.where,
         o.prefix,
         it->second,
         {o.rate.value_or(slot.params.rate_per_sec), o.burst.value_or(slot.params.burst)}});
  }
  std::stable_sort(plan.overrides.begin(), plan.overrides.end(),
                   [](const LimitOverride& a, const LimitOverride& b) {
                     return a.prefix.length > b.prefix.length;
                   });
  return plan;
}

}  // namespace sipwall::rules
