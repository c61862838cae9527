#pragma once

// Reads what sipwall-control runs on: the rule set (compiled like the dataplane does: the same
// errors, file:line:column) and the credentials file it names. Used at start and on SIGHUP: a
// reload that fails leaves the running configuration alone.

#include <memory>
#include <string>

#include "common/result.h"
#include "control/credentials/credentials_file.h"
#include "rules/compiled_rules.h"

namespace sipwall::control {

struct Configuration {
  std::shared_ptr<const rules::CompiledRules> rules;
  std::shared_ptr<const CredentialsFile> credentials;  // null: no credentials= (no users)
};

// Every problem in one message (the rule diagnostics, one per line).
Result<Configuration> load_configuration(const std::string& rules_path);

}  // namespace sipwall::control
