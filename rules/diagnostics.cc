#include "rules/diagnostics.h"

#include <algorithm>
#include <tuple>
#include <utility>

namespace sipwall::rules {

std::string SourceLocation::to_string() const {
  if (line == 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::to_string() const {
  const std::string where_text = where.to_string();
  return (where_text.empty() ? "" : where_text + ": ") + "error: " + message;
}

void Diagnostics::error(SourceLocation where, std::string message) {
  ++count_;
  if (kept_.size() < kMaxKept) kept_.push_back({std::move(where), std::move(message)});
}

void Diagnostics::sort(std::span<const std::string> file_order) {
  auto rank = [&](const Diagnostic& d) {
    const auto it = std::find(file_order.begin(), file_order.end(), d.where.file);
    return std::tuple(static_cast<size_t>(it - file_order.begin()), d.where.line, d.where.column);
  };
  std::stable_sort(kept_.begin(), kept_.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return rank(a) < rank(b); });
}

std::string Diagnostics::to_string() const {
  std::string out;
  for (const Diagnostic& d : kept_) out += d.to_string() + "\n";
  if (count_ > kept_.size()) {
    out += "error: " + std::to_string(count_ - kept_.size()) + " more errors not shown\n";
  }
  return out;
}

}  // namespace sipwall::rules
