#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "acl/prefix_table.h"
#include "budget/budget_config.h"
#include "classify/traffic_classifier.h"
#include "limit/limit_policy.h"
#include "limit/token_bucket_table.h"
#include "packet/fragment_table.h"
#include "sip/sip_validator.h"

namespace sipwall {

// Everything one worker's pipeline needs to be built. Defaults are the shipped behaviour.
struct FilterConfig {
  PortConfig ports;
  SipValidatorConfig sip;
  RateLimitConfig limits;               // table size; the six classes unless limit_spec is given
  std::optional<LimitSpec> limit_spec;  // a rule file's limits, overrides and method lists
  FragmentConfig fragments;
  std::vector<AclEntry> acl;
  AclAction acl_default = AclAction::allow;
  size_t ban_capacity = 65536;
  // UDP that starts like a SIP message is judged as SIP on any port, not only the SIP ports:
  // peers answer from ephemeral ports, and attackers aim at ports nobody listed.
  bool sip_by_content = true;
  bool enforce_pinholes = false;  // stays off until the control plane opens pinholes
  size_t pinhole_capacity = 65536;
  size_t trust_capacity = 65536;  // dynamic trusted sources (the control plane adds them)
  // Static trusted prefixes (`trust`), in rule-file order.
  std::vector<TrustedPrefix> trusted;
  BudgetRate punt_budget = kDefaultPuntBudget;  // signaling to the service addresses
  BudgetRate pass_budget = kDefaultPassBudget;  // transit signaling, when it is passed
  // The control plane's own addresses (`service`): only signaling to them is punted. Empty:
  // every destination counts as a service address (all clean signaling is punted).
  std::vector<IpAddress> service_addresses;
  TransitAction transit_sip = TransitAction::pass;  // signaling to any other address
  // Keys the source-table hash. Offline runs keep this fixed so they are deterministic; live
  // runs draw a random one so nobody can aim colliding sources at a known hash.
  uint64_t hash_seed = 0x5157'a11d'f10d'0001ULL;
};

}  // namespace sipwall
