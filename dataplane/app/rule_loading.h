#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "app_options.h"
#include "pipeline/filter_config.h"
#include "sig/signature_set.h"

namespace sipwall {

// The rule set a dataplane runs: the compiled file with the command-line overrides applied.
struct LoadedRules {
  FilterConfig filter;
  std::shared_ptr<const SignatureSet> signatures;
  // Names for what decided a drop (Decision::rule read by reason): limit ids by LimitClass,
  // ACL entry ids by entry index.
  std::array<std::string, kLimitClassCount> limit_ids;
  std::vector<std::string> acl_ids;
  std::string source;   // the file, or "built-in defaults"
  std::string version;  // content hash of every file read
  std::vector<std::string> files;
};

struct RuleLoad {
  LoadedRules rules;
  std::string error;    // diagnostics, one per line; empty on success
  std::string warning;  // e.g. the default file was not found and built-ins are used
};

// Compiles `file`, or the default set when it is empty (the installed default.rules, else the
// one in the source tree, else the built-in defaults with a warning), and applies `overrides`.
// Refuses limits this dataplane cannot enforce yet (method lists other than INVITE/REGISTER/
// OPTIONS alone, per-limit aggregation, per-prefix overrides) rather than enforce something else.
RuleLoad load_rules(const std::string& file, const FilterOverrides& overrides);

// The id of whatever decided `d`: a signature, limit or ACL rule; empty when nothing did.
std::string decided_by(const LoadedRules& rules, const Decision& d);

}  // namespace sipwall
