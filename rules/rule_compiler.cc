#include "rules/rule_compiler.h"

#include <hs.h>

#include <chrono>
#include <filesystem>
#include <utility>
#include <vector>

#include "rules/acl_compiler.h"
#include "rules/limit_compiler.h"
#include "rules/rule_decoder.h"

namespace sipwall::rules {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The Hyperscan message of a SignatureSet error about one rule ("rule 'id': pattern /re/: msg").
std::string hs_message(const SignatureRule& r, const std::string& error) {
  const std::string prefix = "rule '" + r.id + "': pattern /" + r.pattern + "/: ";
  return error.starts_with(prefix) ? error.substr(prefix.size()) : error;
}

// A whole-set compile failed. Compile each rule alone to name every bad pattern at its
// statement, as long as the time budget lasts; fall back to the rule the set error names.
void report_compile_failure(const std::vector<SignatureDecl>& decls, const std::string& error,
                            double budget_ms, Diagnostics& diags) {
  const auto start = Clock::now();
  size_t found = 0;
  for (const SignatureDecl& d : decls) {
    if (ms_since(start) > budget_ms) break;
    const CompileResult one = SignatureSet::compile({d.rule});
    if (one) continue;
    ++found;
    diags.error(d.pattern_where,
                "bad pattern in signature '" + d.rule.id + "': " + hs_message(d.rule, one.error));
  }
  if (found > 0) return;
  for (const SignatureDecl& d : decls) {
    if (error.starts_with("rule '" + d.rule.id + "'")) {
      diags.error(d.where, "signature '" + d.rule.id + "' refused by Hyperscan: " + error);
      return;
    }
  }
  diags.error(decls.empty() ? SourceLocation{} : decls.front().where,
              "signature set refused by Hyperscan: " + error);
}

// Pre-compile budget: the count and size of what Hyperscan would be given.
bool within_budget(const std::vector<SignatureDecl>& sigs, const CompileBudget& budget,
                   Diagnostics& diags) {
  if (sigs.size() > budget.max_signatures) {
    diags.error(sigs[budget.max_signatures].where,
                "compile budget exceeded: " + std::to_string(sigs.size()) +
                    " signatures, the limit is " + std::to_string(budget.max_signatures) +
                    " (this is the first one over it); the set is refused");
    return false;
  }
  size_t bytes = 0;
  for (const SignatureDecl& d : sigs) {
    bytes += d.rule.pattern.size();
    if (bytes > budget.max_pattern_bytes) {
      diags.error(d.where, "compile budget exceeded: patterns total more than " +
                               std::to_string(budget.max_pattern_bytes) +
                               " bytes at this signature; the set is refused");
      return false;
    }
  }
  return true;
}

size_t database_bytes(const SignatureSet& set) {
  size_t total = 0;
  for (size_t i = 0; i < set.database_count(); ++i) {
    size_t n = 0;
    if (hs_database_size(set.database(i), &n) == HS_SUCCESS) total += n;
  }
  return total;
}

}  // namespace

RulesResult compile_rules_file(const std::string& path, const CompileOptions& options) {
  RulesResult out;
  Diagnostics& diags = out.diagnostics;
  const CompileBudget& budget = options.budget;

  const auto parse_start = Clock::now();
  ResolvedRules resolved = resolve_includes(path, options.reader, diags);
  const RuleSet set = decode_rules(resolved.statements, diags);
  LimitPlan plan = compile_limits(set, diags);
  std::vector<AclEntry> acl = compile_acl(set.acl, diags);
  const std::string root = resolved.files.empty() ? path : resolved.files.front();

  CompileStats stats;
  stats.files = resolved.files.size();
  stats.statements = resolved.statements.size();
  stats.signatures = set.signatures.size();
  stats.limits = plan.slots.size();
  stats.overrides = plan.overrides.size();
  stats.acl_entries = acl.size();
  stats.parse_ms = ms_since(parse_start);

  // Patterns are compiled even when other statements had errors, so one run reports both.
  std::shared_ptr<const SignatureSet> signatures;
  if (within_budget(set.signatures, budget, diags)) {
    std::vector<SignatureRule> rules;
    rules.reserve(set.signatures.size());
    for (const SignatureDecl& d : set.signatures) rules.push_back(d.rule);
    const auto compile_start = Clock::now();
    CompileResult compiled = SignatureSet::compile(std::move(rules));
    stats.compile_ms = ms_since(compile_start);
    if (!compiled) {
      const double left = static_cast<double>(budget.max_compile_ms) - stats.compile_ms;
      report_compile_failure(set.signatures, compiled.error, left, diags);
    } else {
      stats.database_bytes = database_bytes(*compiled.set);
      stats.database_count = compiled.set->database_count();
      signatures = std::move(compiled.set);
      if (stats.compile_ms > static_cast<double>(budget.max_compile_ms)) {
        diags.error({root, 0, 0}, "compile budget exceeded: the signature compile took " +
                                      std::to_string(static_cast<uint64_t>(stats.compile_ms)) +
                                      " ms, the limit is " + std::to_string(budget.max_compile_ms) +
                                      " ms; the set is refused");
      }
      if (stats.database_bytes > budget.max_database_bytes) {
        diags.error({root, 0, 0},
                    "compile budget exceeded: the signature databases take " +
                        std::to_string(stats.database_bytes) + " bytes, the limit is " +
                        std::to_string(budget.max_database_bytes) + "; the set is refused");
      }
    }
  }
  if (diags.has_errors()) {
    diags.sort(resolved.files);
    return out;
  }

  CompiledRules rules;
  rules.filter = set.settings;
  rules.filter.acl = std::move(acl);
  const auto classes = plan.as_classes(set.settings.limits);
  rules.limits_fit_classes = classes.has_value();
  rules.filter.limits = classes ? *classes : plan.nearest_classes(set.settings.limits);
  rules.signatures = std::move(signatures);
  for (const SignatureDecl& d : set.signatures) rules.signature_where.push_back(d.where);
  for (const AclDecl& d : set.acl) rules.acl_ids.push_back(d.id);
  for (const TrustDecl& d : set.trust) {
    rules.filter.trusted.push_back(d.entry);
    rules.trust_ids.push_back(d.id);
  }
  for (const ServiceDecl& d : set.services) {
    rules.filter.service_addresses.push_back(d.address);
    rules.service_ids.push_back(d.id);
  }
  rules.control = set.control;
  rules.limit_plan = std::move(plan);
  rules.version = std::move(resolved.version);
  rules.files = std::move(resolved.files);
  rules.stats = stats;
  out.rules = std::move(rules);
  return out;
}

RulesResult compile_rules_text(std::string_view text, const std::string& name,
                               const CompileOptions& options) {
  CompileOptions with_text = options;
  const std::string normal = std::filesystem::path(name).lexically_normal().string();
  with_text.reader = [&text, &normal, &options](const std::string& path) -> Result<std::string> {
    if (path == normal) return std::string(text);
    return options.reader(path);
  };
  return compile_rules_file(name, with_text);
}

}  // namespace sipwall::rules
