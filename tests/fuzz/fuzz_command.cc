// The control-socket command parser (control/protocol): any line either parses or is refused
// with a column inside it (or just past its end); a parsed command's canonical text parses back
// to the same command and is a fixed point of formatting; turning it into a worker update with
// any clock never fails for a command that changes state.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "control/protocol/command.h"
#include "control/protocol/state_commands.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sipwall;
  // The first 8 octets are the clock the command is applied at; the rest is the line.
  if (size < 8) return 0;
  Nanos now = 0;
  for (size_t i = 0; i < 8; ++i) now = now << 8 | data[i];
  const std::string_view line(reinterpret_cast<const char*>(data + 8), size - 8);

  const ParseResult parsed = parse_command(line);
  if (const auto* error = std::get_if<ParseError>(&parsed)) {
    FUZZ_CHECK(error->column >= 1, "column %zu", error->column);
    FUZZ_CHECK(error->column <= std::max(line.size(), kMaxCommandLine) + 1,
               "column %zu past the line (%zu octets)", error->column, line.size());
    FUZZ_CHECK(!error->message.empty(), "an error without a message");
    return 0;
  }
  const Command& command = std::get<Command>(parsed);
  const std::string text = format_command(command);
  const ParseResult again = parse_command(text);
  const auto* back = std::get_if<Command>(&again);
  FUZZ_CHECK(back != nullptr, "canonical text '%s' does not parse: %s", text.c_str(),
             std::get<ParseError>(again).message.c_str());
  FUZZ_CHECK(*back == command, "canonical text '%s' parses to another command", text.c_str());
  FUZZ_CHECK(format_command(*back) == text, "formatting '%s' is not a fixed point", text.c_str());
  FUZZ_CHECK(!command_name(command).empty(), "a command without a name");
  if (changes_state(command) && !std::holds_alternative<SyncBeginCommand>(command) &&
      !std::holds_alternative<SyncEndCommand>(command)) {
    FUZZ_CHECK(to_state_update(command, now).has_value(), "'%s' gives no update", text.c_str());
  }
  return 0;
}
