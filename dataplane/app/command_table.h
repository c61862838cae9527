#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sipwall {

// The control socket's commands by their first word: each with its handler and the usage lines
// `help` prints, so the help text is generated from what is actually served.
class CommandTable {
 public:
  // Returns the reply, or std::nullopt when it comes later (ControlSocket::complete()).
  using Handler = std::function<std::optional<std::string>(uint64_t client, std::string_view line)>;
  struct Entry {
    std::string name;   // the first word: "ban", "reload", ...
    std::string usage;  // one or more lines: "ban add PREFIX ttl=SECONDS [id=ID] [as=OWNER]"
    std::string help;   // one line: what it does
    Handler handler;
  };

  void add(Entry entry) { entries_.push_back(std::move(entry)); }
  // Runs the handler of the line's first word; an unknown word is an "error: 1: ..." reply
  // naming the commands there are.
  std::optional<std::string> dispatch(uint64_t client, std::string_view line) const;
  // Every command's usage lines, each followed by its help, in the order they were added.
  std::string help() const;
  std::vector<std::string> names() const;

 private:
  std::vector<Entry> entries_;
};

}  // namespace sipwall
