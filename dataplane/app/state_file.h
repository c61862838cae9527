#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "control/protocol/command.h"
#include "state/dynamic_state.h"

namespace sipwall {

// The dynamic state on disk, so a restarted dataplane keeps its bans, trusted sources and
// pinholes. Text, one entry per line, written as the command that adds it behind its absolute
// expiry in wall-clock milliseconds (the dataplane's own clock does not survive a restart):
//
//   # sipwall dynamic state v1
//   expires=1767225600000 ban add 192.0.2.0/24 ttl=3600 id=scan-42 as=control
//   expires=1767225000000 pinhole open 198.51.100.7 20000 ttl=60 call=c1
//   pinholes enforce on
//
// Entries of the rule file (as=rules) are not saved: the rule file brings them back.
inline constexpr std::string_view kStateFileHeader = "# sipwall dynamic state v1";

// The file's text for `state` at `now` (the dataplane's clock), when the wall clock reads
// `wall_now_ms` (Unix milliseconds).
std::string format_state_file(const DynamicState& state, Nanos now, int64_t wall_now_ms);

struct StateFileLoad {
  std::vector<Command> commands;  // with the time left as their ttl
  size_t expired = 0;             // entries skipped: their expiry has passed
  std::string error;              // "" when the file is good or missing; then no commands
};

// Parses a state file's text at `wall_now_ms`: all or nothing (a corrupt file gives an error
// naming the line and no commands, so the dataplane starts empty rather than half-restored).
StateFileLoad parse_state_file(std::string_view text, int64_t wall_now_ms);
// Reads `path`; a missing file is an empty state, not an error.
StateFileLoad load_state_file(const std::string& path, int64_t wall_now_ms);

// Writes `text` to `path` atomically (common/atomic_file.h). Returns an error text, "" on
// success.
std::string write_state_file(const std::string& path, std::string_view text);

// Unix time in milliseconds.
int64_t wall_clock_ms();

}  // namespace sipwall
