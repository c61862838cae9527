#include "pipeline/filter_policy.h"

namespace sipwall {

FilterPolicy::FilterPolicy(FilterConfig config, std::shared_ptr<const SignatureSet> signatures,
                           PrefixTable acl)
    : config_(std::move(config)),
      classifier_(config_.ports),
      acl_(std::move(acl)),
      signatures_(std::move(signatures)) {}

std::string FilterPolicy::build_trust() {
  std::vector<AclEntry> trusted;
  std::vector<uint32_t> reserves;
  for (const TrustedPrefix& t : config_.trusted) {
    trusted.push_back({t.prefix, AclAction::allow});
    if (t.reserve == 0) {
      reserve_slots_.push_back(kNoReserve);
      continue;
    }
    if (reserves.size() == kMaxReserves) {
      return "trust: more than " + std::to_string(kMaxReserves) + " prefixes with a reserve";
    }
    reserve_slots_.push_back(static_cast<uint16_t>(reserves.size()));
    reserves.push_back(t.reserve);
  }
  auto trust = PrefixTable::build(trusted);
  if (!trust.ok()) return "trust: " + trust.error();
  trust_ = std::move(trust.value());
  auto svc = ServiceAddresses::build(config_.service_addresses);
  if (!svc.ok()) return "service addresses: " + svc.error();
  services_ = std::move(svc.value());
  punt_plan_ = BudgetPlan::build(config_.punt_budget, reserves);
  pass_plan_ = BudgetPlan::build(config_.pass_budget, {});
  return {};
}

FilterPolicy::Build FilterPolicy::build(FilterConfig config,
                                        std::shared_ptr<const SignatureSet> signatures,
                                        size_t workers, StableSlots* slots, std::string version) {
  Build out;
  auto acl = PrefixTable::build(config.acl);
  if (!acl.ok()) {
    out.error = "ACL: " + acl.error();
    return out;
  }
  std::unique_ptr<FilterPolicy> p(
      new FilterPolicy(std::move(config), std::move(signatures), std::move(acl.value())));
  p->version_ = std::move(version);
  if (auto err = p->build_trust(); !err.empty()) {
    out.error = err;
    return out;
  }
  const LimitSpec spec =
      p->config_.limit_spec ? *p->config_.limit_spec : LimitSpec::from_classes(p->config_.limits);
  if (auto err = LimitPolicy::build(spec, p->limits_); !err.empty()) {
    out.error = "limits: " + err;
    return out;
  }
  const auto sip_all = p->limits_.sip_all();
  p->sip_key_is_aggregate_ =
      !sip_all.empty() && p->limits_.keys_aggregate(sip_all[0], p->config_.limits.v4_prefix,
                                                    p->config_.limits.v6_prefix);
  const SignatureSet& set = *p->signatures_;
  for (size_t i = 0; i < set.size(); ++i) {
    const uint32_t slot =
        slots ? slots->slot_of(set.rule(static_cast<RuleIndex>(i)).id) : static_cast<uint32_t>(i);
    if (slots && slot >= slots->capacity()) {
      out.error = "more than " + std::to_string(slots->capacity()) +
                  " distinct signature ids since start; restart to count more";
      return out;
    }
    p->counter_slots_.push_back(slot);
  }
  for (size_t w = 0; w < workers; ++w) {
    auto state = std::unique_ptr<WorkerState>(
        new WorkerState{SignatureScratch{}, SipValidator{p->config_.sip}});
    if (auto err = state->scratch.reserve(set); !err.empty()) {
      out.error = "signature scratch: " + err;
      return out;
    }
    p->workers_.push_back(std::move(state));
  }
  out.policy = std::move(p);
  return out;
}

}  // namespace sipwall
