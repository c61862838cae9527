#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/filter_config.h"
#include "rules/control_config.h"
#include "rules/diagnostics.h"
#include "rules/include_resolver.h"
#include "rules/limit_plan.h"
#include "sig/signature_set.h"

namespace sipwall::rules {

// Limits on what one compile may cost, so a huge or pathological set is refused with an error
// instead of stalling a reload. Hyperscan cannot be interrupted mid-compile: the signature count
// and pattern bytes are checked before compiling (they bound the stall), time and database size
// after (the set is refused and the old one keeps running).
struct CompileBudget {
  size_t max_signatures = 20'000;
  size_t max_pattern_bytes = 4 << 20;  // sum of all pattern lengths
  uint64_t max_compile_ms = 30'000;
  size_t max_database_bytes = 256 << 20;
};

struct CompileOptions {
  CompileBudget budget;
  FileReader reader = filesystem_reader();
};

struct CompileStats {
  size_t files = 0;
  size_t statements = 0;
  size_t signatures = 0;
  size_t limits = 0;
  size_t overrides = 0;
  size_t acl_entries = 0;
  double parse_ms = 0;        // read, lex, parse, includes, decode, limit and ACL checks
  double compile_ms = 0;      // SignatureSet::compile (Hyperscan)
  size_t database_bytes = 0;  // hs_database_size summed over every database of the set
  size_t database_count = 0;
};

// A rule set ready for the dataplane. Immutable once built; share it behind one pointer.
struct CompiledRules {
  // ports, sip (profile + limits), acl + acl_default, sip_by_content, limits (the six-class
  // projection of `limit_plan`, see limits_fit_classes), source prefixes and table sizes, trusted
  // prefixes, budgets, service addresses and transit. Fields the format does not cover
  // (fragments, hash seed, pinhole enforcement) keep their defaults.
  FilterConfig filter;
  std::shared_ptr<const SignatureSet> signatures;
  std::vector<SourceLocation> signature_where;  // by RuleIndex: the `signature` statement
  std::vector<std::string> acl_ids;             // by index of filter.acl
  std::vector<std::string> trust_ids;           // by index of filter.trusted
  std::vector<std::string> service_ids;         // by index of filter.service_addresses
  LimitPlan limit_plan;
  // True when limit_plan is exactly filter.limits (no method lists beyond INVITE / REGISTER /
  // OPTIONS, one limit per class, global aggregation). Overrides are only in limit_plan.
  bool limits_fit_classes = false;
  // The statements only sipwall-control reads (core, trunks, accounts, ...); the dataplane
  // ignores them. Service addresses and ports are in `filter`, shared by both processes.
  ControlConfig control;
  std::string version;             // content hash of every file read ("fnv1a64:...")
  std::vector<std::string> files;  // every file read, root first (for a file watcher)
  CompileStats stats;
};

struct RulesResult {
  std::optional<CompiledRules> rules;  // set only when there are no errors
  Diagnostics diagnostics;

  bool ok() const { return rules.has_value(); }
};

}  // namespace sipwall::rules
