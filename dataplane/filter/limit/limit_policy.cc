#include "limit/limit_policy.h"

#include <algorithm>
#include <cstring>

namespace sipwall {

LimitSpec LimitSpec::from_classes(const RateLimitConfig& c) {
  LimitSpec s;
  for (size_t i = 0; i < kLimitClassCount; ++i) {
    const auto cls = static_cast<LimitClass>(i);
    s.slots.push_back({static_cast<uint8_t>(i), c.params(cls), c.v4_prefix, c.v6_prefix});
  }
  const auto slot = [](LimitClass cls) { return static_cast<uint8_t>(cls); };
  s.sip_all = {slot(LimitClass::sip_all)};
  s.methods = {{"INVITE", {slot(LimitClass::invite)}},
               {"REGISTER", {slot(LimitClass::register_)}},
               {"OPTIONS", {slot(LimitClass::options)}}};
  s.other_methods = {slot(LimitClass::other_method)};
  s.rtp_flow = {slot(LimitClass::rtp_flow)};
  s.tcp_syn = {slot(LimitClass::tcp_syn)};
  return s;
}

std::string LimitPolicy::build(const LimitSpec& spec, LimitPolicy& out) {
  out = LimitPolicy{};
  for (const auto& s : spec.slots) {
    CompiledSlot& c = out.slots_[s.id];
    c.defined = true;
    c.params = s.params;
    c.v4_prefix = s.v4_prefix;
    c.v6_prefix = s.v6_prefix;
  }
  const auto check = [&](const std::vector<uint8_t>& slots, size_t extra) -> std::string {
    for (uint8_t id : slots) {
      if (!out.slots_[id].defined) return "limit slot " + std::to_string(id) + " is not defined";
    }
    if (slots.size() + extra > kMaxKeysPerPacket) {
      return "a packet would take tokens from more than " + std::to_string(kMaxKeysPerPacket) +
             " limits";
    }
    return {};
  };
  if (auto e = check(spec.sip_all, 0); !e.empty()) return e;
  if (auto e = check(spec.other_methods, spec.sip_all.size()); !e.empty()) return e;
  if (auto e = check(spec.rtp_flow, 0); !e.empty()) return e;
  if (auto e = check(spec.tcp_syn, 0); !e.empty()) return e;
  for (const auto& m : spec.methods) {
    if (auto e = check(m.slots, spec.sip_all.size()); !e.empty()) return e;
    out.methods_.push_back({head_of(m.token), m.token, m.slots});
  }
  out.sip_all_ = spec.sip_all;
  out.other_methods_ = spec.other_methods;
  out.rtp_flow_ = spec.rtp_flow;
  out.tcp_syn_ = spec.tcp_syn;
  for (uint8_t id : spec.rtp_flow) out.slots_[id].rtp = true;
  // Per slot, the overrides as a longest-prefix table whose entries index their parameters.
  for (size_t id = 0; id < kMaxLimitSlots; ++id) {
    std::vector<AclEntry> prefixes;
    CompiledSlot& c = out.slots_[id];
    for (const auto& o : spec.overrides) {
      if (o.slot != id) continue;
      prefixes.push_back({o.prefix, AclAction::allow});
      c.override_params.push_back(o.params);
    }
    if (prefixes.empty()) continue;
    auto table = PrefixTable::build(prefixes);
    if (!table.ok()) return "overrides of limit slot " + std::to_string(id) + ": " + table.error();
    c.overrides = std::move(table.value());
  }
  return {};
}

uint64_t LimitPolicy::head_of(std::string_view token) {
  uint64_t head = 0;
  if (!token.empty()) std::memcpy(&head, token.data(), std::min<size_t>(token.size(), sizeof head));
  return head;
}

std::span<const uint8_t> LimitPolicy::request_slots(std::string_view method) const {
  const uint64_t head = head_of(method);
  for (const MethodSlots& m : methods_) {
    if (m.head == head && m.token.size() == method.size() &&
        (method.size() <= sizeof head || m.token == method)) {
      return m.slots;
    }
  }
  return other_methods_;
}

BucketParams LimitPolicy::params_with_overrides(const CompiledSlot& c, const IpAddress& source) {
  if (const auto m = c.overrides.match(source)) return c.override_params[m->entry];
  return c.params;
}

}  // namespace sipwall
