#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "acl/acl_types.h"
#include "common/ip_address.h"
#include "limit/limit_config.h"
#include "pipeline/filter_config.h"
#include "rules/control_config.h"
#include "rules/diagnostics.h"
#include "rules/limit_plan.h"
#include "sig/signature_rule.h"

namespace sipwall::rules {

// Typed statements after decoding, each with where it was written; cross-statement checks
// (limit references, ACL conflicts, the Hyperscan compile) come after.
struct LimitDecl {
  std::string id;
  SourceLocation where;
  LimitScope scope = LimitScope::sip_all;
  std::vector<std::string> methods;
  std::vector<SourceLocation> method_where;
  BucketParams params;
  std::optional<uint8_t> v4_prefix;  // else the `source-prefix` setting
  std::optional<uint8_t> v6_prefix;
};

struct OverrideDecl {
  std::string id;
  SourceLocation where;
  IpPrefix prefix;
  SourceLocation prefix_where;
  std::string limit;
  SourceLocation limit_where;
  std::optional<uint32_t> rate;  // else the limit's
  std::optional<uint32_t> burst;
};

struct AclDecl {
  std::string id;
  SourceLocation where;
  AclEntry entry;
  SourceLocation prefix_where;
};

struct TrustDecl {
  std::string id;
  SourceLocation where;
  TrustedPrefix entry;
  SourceLocation prefix_where;
};

struct ServiceDecl {
  std::string id;
  SourceLocation where;
  IpAddress address;
};

struct SignatureDecl {
  SignatureRule rule;
  SourceLocation where;
  SourceLocation pattern_where;
};

struct RuleSet {
  // ports, sip, acl_default, sip_by_content, limits.v4_prefix/v6_prefix/table_capacity, the
  // budgets, transit_sip and the table capacities; the rest keeps FilterConfig's defaults.
  // `trusted` and `service_addresses` are filled from `trust` / `services` by the compiler.
  FilterConfig settings;
  std::vector<LimitDecl> limits;
  std::vector<OverrideDecl> overrides;
  std::vector<AclDecl> acl;
  std::vector<TrustDecl> trust;
  std::vector<ServiceDecl> services;
  std::vector<SignatureDecl> signatures;
  ControlConfig control;  // sipwall-control's statements; the dataplane ignores them
};

}  // namespace sipwall::rules
