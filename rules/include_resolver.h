#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "rules/diagnostics.h"
#include "rules/rule_ast.h"

namespace sipwall::rules {

// Reads one file's bytes; the error text says why not ("No such file or directory").
// Tests and the benchmark pass an in-memory reader.
using FileReader = std::function<Result<std::string>(const std::string& path)>;
FileReader filesystem_reader();

inline constexpr size_t kMaxIncludeDepth = 16;  // the root file is depth 0
// Files one set may read, root included. Paths are compared as written (lexically), so through
// a symlink to a folder (`d -> .`) two includes per file would otherwise fan out to 2^16 reads.
inline constexpr size_t kMaxIncludeFiles = 256;
// Bytes one file may hold (the shipped set is a few KiB): a rule path that names /dev/zero, a
// pipe or a runaway generated file is refused after this much, not read until memory runs out.
inline constexpr size_t kMaxRuleFileBytes = size_t{16} << 20;

struct ResolvedRules {
  std::vector<Statement> statements;  // every file's, includes expanded in place, in order
  std::vector<std::string> files;     // every file read, root first (for a file watcher)
  std::string version;                // content hash of all those files (content_hash.h)
};

// Reads `root` and follows `include "file"` statements (paths relative to the including file's
// folder). A cycle, a depth over kMaxIncludeDepth, more than kMaxIncludeFiles files, a file
// included twice and an unreadable file are errors at the include statement. Include statements are
// not in the output.
ResolvedRules resolve_includes(const std::string& root, const FileReader& reader,
                               Diagnostics& diags);

}  // namespace sipwall::rules
