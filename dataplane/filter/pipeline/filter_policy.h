#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "acl/prefix_table.h"
#include "acl/service_addresses.h"
#include "budget/budget_plan.h"
#include "classify/traffic_classifier.h"
#include "pipeline/filter_config.h"
#include "pipeline/signature_slots.h"
#include "sig/signature_scratch.h"
#include "sig/signature_set.h"
#include "sip/sip_validator.h"

namespace sipwall {

// Everything a rule reload replaces, built off the worker cores and then only read by them:
// the configuration, the port classifier, the ACL, the signature set. It also holds, for each
// worker, the mutable pieces that must fit it (a Hyperscan scratch for its databases, a SIP
// validator with its limits), so adopting a new policy between bursts is a pointer switch —
// no allocation or system call on a worker core.
//
// What a reload cannot change (table capacities, the hash seed, fragment settings) is taken
// from the policy a Pipeline is constructed with and kept.
class FilterPolicy {
 public:
  struct WorkerState {
    SignatureScratch scratch;
    SipValidator validator;
  };

  struct Build {
    std::unique_ptr<const FilterPolicy> policy;
    std::string error;
  };
  // `slots` gives every signature rule its stable counter slot; nullptr numbers them in order.
  static Build build(FilterConfig config, std::shared_ptr<const SignatureSet> signatures,
                     size_t workers, StableSlots* slots = nullptr, std::string version = {});

  const FilterConfig& config() const { return config_; }
  const TrafficClassifier& classifier() const { return classifier_; }
  const PrefixTable& acl() const { return acl_; }
  // Static `trust` prefixes (every entry "allow"; the match names the config.trusted index).
  const PrefixTable& trust() const { return trust_; }
  // The reserve slot of config.trusted[i] in the punt budget, or kNoReserve.
  uint16_t reserve_slot(uint32_t trust_entry) const { return reserve_slots_[trust_entry]; }
  // The service addresses (what "none" means: acl/service_addresses.h).
  const ServiceAddresses& services() const { return services_; }
  const BudgetPlan& punt_plan() const { return punt_plan_; }
  const BudgetPlan& pass_plan() const { return pass_plan_; }
  const LimitPolicy& limits() const { return limits_; }
  // True when the first `sip` limit keys SIP by the budget's source aggregate (config().limits
  // prefix lengths), so that key's hash doubles as the fairness hash.
  bool sip_key_is_aggregate() const { return sip_key_is_aggregate_; }
  const SignatureSet& signatures() const { return *signatures_; }
  // Counter slot of signature rule `i` of this policy.
  uint32_t counter_slot(RuleIndex i) const { return counter_slots_[i]; }
  size_t workers() const { return workers_.size(); }
  // Each worker uses only its own; the policy is otherwise immutable.
  WorkerState& worker(size_t i) const { return *workers_[i]; }
  const std::string& version() const { return version_; }

 private:
  FilterPolicy(FilterConfig config, std::shared_ptr<const SignatureSet> signatures,
               PrefixTable acl);

  std::string build_trust();

  FilterConfig config_;
  TrafficClassifier classifier_;
  PrefixTable acl_;
  PrefixTable trust_;
  std::vector<uint16_t> reserve_slots_;
  ServiceAddresses services_;
  BudgetPlan punt_plan_;
  BudgetPlan pass_plan_;
  LimitPolicy limits_;
  bool sip_key_is_aggregate_ = false;
  std::shared_ptr<const SignatureSet> signatures_;
  std::vector<uint32_t> counter_slots_;
  std::vector<std::unique_ptr<WorkerState>> workers_;
  std::string version_;
};

}  // namespace sipwall
