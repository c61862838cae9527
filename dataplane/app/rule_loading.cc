#include "rule_loading.h"

#include <filesystem>
#include <span>
#include <string_view>

#include "rules/rule_compiler.h"
#include "sig/default_signatures.h"

namespace sipwall {
namespace {

// The candidates meson compiled in, separated by ':'.
std::string find_default_rules() {
  std::string_view paths = SIPWALL_DEFAULT_RULES_PATHS;
  while (!paths.empty()) {
    const auto colon = paths.find(':');
    const std::string candidate(paths.substr(0, colon));
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
    paths = colon == std::string_view::npos ? std::string_view{} : paths.substr(colon + 1);
  }
  return {};
}

std::string unenforceable_limits(const rules::CompiledRules& compiled) {
  const auto& plan = compiled.limit_plan;
  if (!plan.overrides.empty()) {
    return plan.overrides.front().where.to_string() + ": error: override '" +
           plan.overrides.front().id +
           "': per-prefix overrides are checked but not yet enforced by this dataplane; "
           "the set is refused rather than run without them";
  }
  if (!compiled.limits_fit_classes) {
    const auto where = plan.slots.empty() ? std::string(compiled.files.front())
                                          : plan.slots.front().where.to_string();
    return where +
           ": error: these limits (method lists beyond INVITE, REGISTER and OPTIONS alone, or "
           "per-limit source aggregation) are checked but not yet enforced by this dataplane; "
           "the set is refused rather than run with other limits";
  }
  return {};
}

// The shipped defaults' ids, for the built-in fallback (same as default.rules).
std::array<std::string, kLimitClassCount> builtin_limit_ids() {
  return {"sipwall:limit.sip",     "sipwall:limit.invite", "sipwall:limit.register",
          "sipwall:limit.options", "sipwall:limit.other",  "sipwall:limit.rtp"};
}

std::array<std::string, kLimitClassCount> limit_ids_of(const rules::LimitPlan& plan) {
  std::array<std::string, kLimitClassCount> ids;
  const auto first = [&](std::span<const rules::LimitSlotId> slots) {
    return slots.empty() ? std::string() : plan.slots[slots.front()].id;
  };
  ids[static_cast<size_t>(LimitClass::sip_all)] = first(plan.sip_all);
  ids[static_cast<size_t>(LimitClass::invite)] = first(plan.request_slots("INVITE"));
  ids[static_cast<size_t>(LimitClass::register_)] = first(plan.request_slots("REGISTER"));
  ids[static_cast<size_t>(LimitClass::options)] = first(plan.request_slots("OPTIONS"));
  ids[static_cast<size_t>(LimitClass::other_method)] = first(plan.other_methods);
  ids[static_cast<size_t>(LimitClass::rtp_flow)] = first(plan.rtp_flow);
  return ids;
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
    default:
      return {};
  }
}

RuleLoad load_rules(const std::string& file, const FilterOverrides& overrides) {
  RuleLoad out;
  std::string path = file;
  if (path.empty()) path = find_default_rules();
  if (path.empty()) {
    auto compiled = SignatureSet::compile(default_signature_rules());
    if (!compiled) {
      out.error = "built-in signatures: " + compiled.error;
      return out;
    }
    out.warning = "no default.rules found (looked in " + std::string(SIPWALL_DEFAULT_RULES_PATHS) +
                  "); running the built-in defaults";
    out.rules.signatures = std::move(compiled.set);
    out.rules.source = "built-in defaults";
    out.rules.version = "built-in";
    out.rules.limit_ids = builtin_limit_ids();
  } else {
    auto result = rules::compile_rules_file(path);
    if (!result.ok()) {
      out.error = result.diagnostics.to_string();
      return out;
    }
    if (auto why = unenforceable_limits(*result.rules); !why.empty()) {
      out.error = why;
      return out;
    }
    out.rules.limit_ids = limit_ids_of(result.rules->limit_plan);
    out.rules.acl_ids = result.rules->acl_ids;
    out.rules.filter = std::move(result.rules->filter);
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
