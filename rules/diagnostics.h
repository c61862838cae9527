#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sipwall::rules {

// Where a token starts: file as the loader named it, 1-based line and byte column.
// line 0 means "the file as a whole" (e.g. a budget refusal).
struct SourceLocation {
  std::string file;
  uint32_t line = 0;
  uint32_t column = 0;

  // "file:line:column", "file" when line is 0.
  std::string to_string() const;
  bool operator==(const SourceLocation&) const = default;
};

struct Diagnostic {
  SourceLocation where;
  std::string message;

  // "file:line:column: error: message" (the compiler-style line editors and CI parse).
  std::string to_string() const;
};

// Collects errors instead of throwing, so one run reports as many as it can find.
class Diagnostics {
 public:
  // Further errors are counted but not kept: a broken include should not print 10,000 lines.
  static constexpr size_t kMaxKept = 100;

  void error(SourceLocation where, std::string message);

  // Orders kept diagnostics by file (in `file_order`, others last), line, column; ties keep
  // the order they were found in. Checks run in phases, readers want them in file order.
  void sort(std::span<const std::string> file_order);

  bool has_errors() const { return count_ > 0; }
  size_t count() const { return count_; }
  std::span<const Diagnostic> all() const { return kept_; }
  // Every kept diagnostic, one per line, plus a line for the ones not kept.
  std::string to_string() const;

 private:
  std::vector<Diagnostic> kept_;
  size_t count_ = 0;
};

}  // namespace sipwall::rules
