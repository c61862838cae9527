#include "rule_loading.h"

#include <filesystem>
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

}  // namespace

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
    out.rules.filter = std::move(result.rules->filter);
    out.rules.signatures = std::move(result.rules->signatures);
    out.rules.source = path;
    out.rules.version = std::move(result.rules->version);
    out.rules.files = std::move(result.rules->files);
  }
  overrides.apply(out.rules.filter);
  return out;
}

}  // namespace sipwall
