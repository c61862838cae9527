#pragma once

#include <map>
#include <string>
#include <utility>

#include "rules/include_resolver.h"
#include "rules/rule_compiler.h"

namespace sipwall::rules::test {

// Rule files in memory, by path, for golden tests that need no temporary directory.
inline FileReader memory_reader(std::map<std::string, std::string> files) {
  return [files = std::move(files)](const std::string& path) -> Result<std::string> {
    const auto it = files.find(path);
    if (it == files.end()) return Result<std::string>::failure("No such file or directory");
    return it->second;
  };
}

// Compiles "main.rules" (plus any other files) from memory.
inline RulesResult compile_memory(std::map<std::string, std::string> files,
                                  CompileBudget budget = {}) {
  CompileOptions options;
  options.budget = budget;
  options.reader = memory_reader(std::move(files));
  return compile_rules_file("main.rules", options);
}

// Every diagnostic, one per line.
inline std::string errors_of(const RulesResult& r) {
  return r.diagnostics.to_string();
}

}  // namespace sipwall::rules::test
