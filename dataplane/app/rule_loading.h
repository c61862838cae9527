#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "app_options.h"
#include "pipeline/filter_config.h"
#include "pipeline/signature_slots.h"
#include "sig/signature_set.h"

namespace sipwall {

// The rule set a dataplane runs: the compiled file with the command-line overrides applied.
struct LoadedRules {
  FilterConfig filter;
  std::shared_ptr<const SignatureSet> signatures;
  // Names for what decided a drop (Decision::rule read by reason): limit ids by stable slot,
  // ACL entry ids by entry index.
  std::vector<std::string> limit_ids = std::vector<std::string>(kMaxLimitSlots);
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
// `limit_slots` numbers limits by id, the same across every load that shares it.
RuleLoad load_rules(const std::string& file, const FilterOverrides& overrides,
                    StableSlots& limit_slots);

// The id of whatever decided `d`: a signature, limit or ACL rule; empty when nothing did.
std::string decided_by(const LoadedRules& rules, const Decision& d);

}  // namespace sipwall
