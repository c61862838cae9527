#include "control/app/configuration_loader.h"

#include "rules/rule_compiler.h"

namespace sipwall::control {

Result<Configuration> load_configuration(const std::string& rules_path) {
  auto compiled = rules::compile_rules_file(rules_path);
  if (!compiled.ok()) return Result<Configuration>::failure(compiled.diagnostics.to_string());
  Configuration c;
  c.rules = std::make_shared<const rules::CompiledRules>(std::move(*compiled.rules));
  const rules::ControlConfig& control = c.rules->control;
  if (!control.core) {
    return Result<Configuration>::failure(rules_path +
                                          ": no core statement (core ID ADDRESS [port=N])");
  }
  if (!control.settings.credentials.empty()) {
    auto loaded = CredentialsFile::load(control.settings.credentials);
    if (!loaded) return Result<Configuration>::failure(loaded.error());
    c.credentials = std::make_shared<const CredentialsFile>(std::move(*loaded));
  }
  return c;
}

}  // namespace sipwall::control
