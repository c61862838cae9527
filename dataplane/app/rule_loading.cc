#include "rule_loading.h"

#include <cstdlib>
#include <span>
#include <string_view>

#include "common/path_search.h"
#include "rules/rule_compiler.h"
#include "sig/default_signatures.h"

namespace sipwall {
namespace {

// $SIPWALL_DEFAULT_RULES (a ':'-separated list, for packagers and tests), else the candidates
// meson compiled in: the installed file, then the source tree's.
std::string default_rules_paths() {
  const char* env = std::getenv("SIPWALL_DEFAULT_RULES");
  return env && *env ? env : SIPWALL_DEFAULT_RULES_PATHS;
}

// The rule file's limits with stable slot numbers, or an error (too many distinct ids).
std::string limit_spec_of(const rules::LimitPlan& plan, StableSlots& slots, LimitSpec& spec,
                          std::vector<std::string>& names) {
  std::vector<uint8_t> stable(plan.slots.size());
  for (size_t i = 0; i < plan.slots.size(); ++i) {
    const auto& s = plan.slots[i];
    const uint32_t id = slots.slot_of(s.id);
    if (id >= kMaxLimitSlots) {
      return "more than " + std::to_string(kMaxLimitSlots) +
             " distinct limit ids since start; restart to use more";
    }
    stable[i] = static_cast<uint8_t>(id);
    names[id] = s.id;
    spec.slots.push_back({stable[i], s.params, s.v4_prefix, s.v6_prefix});
  }
  const auto map = [&](std::span<const rules::LimitSlotId> in) {
    std::vector<uint8_t> out;
    for (const auto i : in) out.push_back(stable[i]);
    return out;
  };
  spec.sip_all = map(plan.sip_all);
  spec.other_methods = map(plan.other_methods);
  spec.rtp_flow = map(plan.rtp_flow);
  spec.tcp_syn = map(plan.tcp_syn);
  for (const auto& m : plan.methods) spec.methods.push_back({m.method, map(m.slots)});
  for (const auto& o : plan.overrides)
    spec.overrides.push_back({o.prefix, stable[o.slot], o.params});
  return {};
}

// The shipped defaults' ids, for the built-in fallback (same as default.rules).
std::vector<std::string> builtin_limit_ids() {
  std::vector<std::string> names(kMaxLimitSlots);
  constexpr const char* kIds[] = {"sipwall:limit.sip",      "sipwall:limit.invite",
                                  "sipwall:limit.register", "sipwall:limit.options",
                                  "sipwall:limit.other",    "sipwall:limit.rtp",
                                  "sipwall:limit.tcp-syn"};
  static_assert(std::size(kIds) == kLimitClassCount);
  for (size_t i = 0; i < kLimitClassCount; ++i) names[i] = kIds[i];
  return names;
}

}  // namespace

std::string decided_by(const LoadedRules& rules, const Decision& d) {
  if (d.verdict != Verdict::drop || d.rule == kNoRule) return {};
  switch (d.reason) {
    case DropReason::signature:
      return d.rule < rules.signatures->size() ? rules.signatures->rule(d.rule).id : "";
    case DropReason::flood:
      return d.rule < rules.limit_ids.size() ? rules.limit_ids[d.rule] : "";
    case DropReason::acl:
      return d.rule < rules.acl_ids.size() ? rules.acl_ids[d.rule] : "";
    case DropReason::punt_budget:
    case DropReason::pass_budget:
      return d.rule < kTierCount ? std::string(to_string(static_cast<Tier>(d.rule))) : "";
    default:
      return {};
  }
}

RuleLoad load_rules(const std::string& file, const FilterOverrides& overrides,
                    StableSlots& limit_slots) {
  RuleLoad out;
  std::string path = file;
  if (path.empty()) path = first_existing_file(default_rules_paths());
  if (path.empty()) {
    auto compiled = SignatureSet::compile(default_signature_rules());
    if (!compiled) {
      out.error = "built-in signatures: " + compiled.error;
      return out;
    }
    out.warning = "no default.rules found (looked in " + default_rules_paths() +
                  "); running the built-in defaults";
    out.rules.signatures = std::move(compiled.set);
    out.rules.source = "built-in defaults";
    out.rules.version = "built-in";
    out.rules.limit_ids = builtin_limit_ids();
  } else {
    rules::CompileOptions options;
    if (overrides.max_signatures) options.budget.max_signatures = overrides.max_signatures;
    if (overrides.max_compile_ms) options.budget.max_compile_ms = overrides.max_compile_ms;
    auto result = rules::compile_rules_file(path, options);
    if (!result.ok()) {
      out.error = result.diagnostics.to_string();
      return out;
    }
    LimitSpec spec;
    if (auto e = limit_spec_of(result.rules->limit_plan, limit_slots, spec, out.rules.limit_ids);
        !e.empty()) {
      out.error = path + ": error: " + e;
      return out;
    }
    out.rules.acl_ids = result.rules->acl_ids;
    out.rules.filter = std::move(result.rules->filter);
    out.rules.filter.limit_spec = std::move(spec);
    out.rules.signatures = std::move(result.rules->signatures);
    out.rules.source = path;
    out.rules.version = std::move(result.rules->version);
    out.rules.files = std::move(result.rules->files);
  }
  overrides.apply(out.rules.filter);
  for (const AclEntry& e : overrides.acl) {
    out.rules.acl_ids.push_back("command-line:" + std::string(to_string(e.action)) + ":" +
                                e.prefix.to_string());
  }
  return out;
}

}  // namespace sipwall
