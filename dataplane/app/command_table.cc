#include "command_table.h"

namespace sipwall {

std::optional<std::string> CommandTable::dispatch(uint64_t client, std::string_view line) const {
  const size_t start = line.find_first_not_of(" \t");
  const std::string_view rest = start == std::string_view::npos ? "" : line.substr(start);
  const std::string_view word = rest.substr(0, rest.find_first_of(" \t"));
  for (const Entry& e : entries_) {
    if (e.name == word) return e.handler(client, line);
  }
  std::string names;
  for (const Entry& e : entries_) names += (names.empty() ? "" : ", ") + e.name;
  return "error: " + std::to_string(start == std::string_view::npos ? 1 : start + 1) +
         ": unknown command '" + std::string(word) + "' (commands: " + names + ")";
}

std::string CommandTable::help() const {
  std::string out;
  for (const Entry& e : entries_) {
    out += e.usage + "\n    " + e.help + "\n";
  }
  if (!out.empty()) out.pop_back();
  return out;
}

std::vector<std::string> CommandTable::names() const {
  std::vector<std::string> out;
  for (const Entry& e : entries_) out.push_back(e.name);
  return out;
}

}  // namespace sipwall
