#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/ip_address.h"
#include "state/entry_id.h"
#include "state/owner.h"
#include "state/state_update.h"

namespace sipwall {

// The control-socket command grammar, shared by the dataplane, sipwallctl and sipwall-control.
// The stable reference for operators is control/protocol/COMMANDS.md; in short:
// clang-format off
//
//   ping
//   reload | status | counters
//   ban   add PREFIX ttl=SECONDS [id=ID] [as=OWNER]    trust add PREFIX ttl=SECONDS [id=ID] [as=OWNER]
//   ban   del PREFIX [as=OWNER]                        trust del PREFIX [as=OWNER]
//   ban   list [PREFIX]                                trust list [PREFIX]
//   ban   flush [owner=OWNER|all] [as=OWNER]           trust flush [owner=OWNER|all] [as=OWNER]
//   pinhole open ADDRESS PORT ttl=SECONDS [src=PREFIX] [call=ID] [as=OWNER]
//   pinhole close ADDRESS PORT [call=ID] [as=OWNER]
//   pinhole list
//   pinhole flush [owner=OWNER|all] [as=OWNER]
//   pinholes enforce on|off [as=OWNER]
//   sync begin EPOCH [as=OWNER]   ...adds...   sync end
//
// clang-format on
// Words are separated by spaces or tabs; keywords are lower case; key=value options follow the
// positional words in any order, each at most once. `as=` says who is speaking (operator, the
// default, or control); it becomes the owner of what the command adds, and the scope of flush
// (without owner=) and sync. `rules` is reserved for the rule file and refused in `as=`.
// Printable ASCII only; at most kMaxCommandLine bytes.

inline constexpr size_t kMaxCommandLine = 1024;
// Ten years: long enough for "forever", short enough that now + ttl never overflows Nanos.
inline constexpr uint64_t kMaxTtlSeconds = 315'360'000;

struct PingCommand {
  bool operator==(const PingCommand&) const = default;
};
struct ReloadCommand {
  bool operator==(const ReloadCommand&) const = default;
};
struct StatusCommand {
  bool operator==(const StatusCommand&) const = default;
};
struct CountersCommand {
  bool operator==(const CountersCommand&) const = default;
};

// ban add / trust add
struct PrefixAddCommand {
  StateTable table = StateTable::ban;  // ban or trust
  IpPrefix prefix;
  uint64_t ttl_seconds = 0;  // 1..kMaxTtlSeconds
  EntryId id;                // empty when not given
  Owner as = Owner::operator_;
  bool operator==(const PrefixAddCommand&) const = default;
};

// ban del / trust del
struct PrefixDelCommand {
  StateTable table = StateTable::ban;
  IpPrefix prefix;
  Owner as = Owner::operator_;
  bool operator==(const PrefixDelCommand&) const = default;
};

// ban list / trust list / pinhole list. `prefix` (ban and trust only): list the entries that
// overlap it (inside it, or containing it).
struct ListCommand {
  StateTable table = StateTable::ban;
  std::optional<IpPrefix> prefix;
  bool operator==(const ListCommand&) const = default;
};

// ban flush / trust flush / pinhole flush. Without owner=: the caller's (`as`) entries. At
// most one of all_owners and owner is set (the parser never sets both).
struct FlushCommand {
  StateTable table = StateTable::ban;
  Owner as = Owner::operator_;
  bool all_owners = false;     // owner=all
  std::optional<Owner> owner;  // owner=NAME
  bool operator==(const FlushCommand&) const = default;
  // Whose entries go: nullopt for everybody's.
  std::optional<Owner> scope() const {
    if (all_owners) return std::nullopt;
    return owner.value_or(as);
  }
};

struct PinholeOpenCommand {
  IpAddress address;
  uint16_t port = 0;  // 1..65535
  uint64_t ttl_seconds = 0;
  std::optional<IpPrefix> src;
  EntryId call;
  Owner as = Owner::operator_;
  bool operator==(const PinholeOpenCommand&) const = default;
};

struct PinholeCloseCommand {
  IpAddress address;
  uint16_t port = 0;
  EntryId call;
  Owner as = Owner::operator_;
  bool operator==(const PinholeCloseCommand&) const = default;
};

struct PinholesEnforceCommand {
  bool on = false;
  Owner as = Owner::operator_;
  bool operator==(const PinholesEnforceCommand&) const = default;
};

// sync begin EPOCH: from here to `sync end`, the client's adds (ban add, trust add, pinhole
// open, all with the same as=) are collected, not applied; `sync end` replaces every entry the
// client owns with them in one step (ReplaceOwned). EPOCH is the client's own number for this
// state (its journal generation); the dataplane echoes it in the reply to `sync end`.
struct SyncBeginCommand {
  uint64_t epoch = 0;
  Owner as = Owner::operator_;
  bool operator==(const SyncBeginCommand&) const = default;
};
struct SyncEndCommand {
  bool operator==(const SyncEndCommand&) const = default;
};

using Command =
    std::variant<PingCommand, ReloadCommand, StatusCommand, CountersCommand, PrefixAddCommand,
                 PrefixDelCommand, ListCommand, FlushCommand, PinholeOpenCommand,
                 PinholeCloseCommand, PinholesEnforceCommand, SyncBeginCommand, SyncEndCommand>;

// Where and why a line is not a command. column is 1-based, in bytes, at the offending word
// (kMaxCommandLine + 1 for an overlong line, the line's length + 1 for a missing word).
struct ParseError {
  size_t column = 0;
  std::string message;
  bool operator==(const ParseError&) const = default;
};

using ParseResult = std::variant<Command, ParseError>;

// Parses one command line (without its "\n"; a trailing "\r" is an error like any control
// character). Never throws on bad input.
ParseResult parse_command(std::string_view line);

// The canonical text of a command: words separated by one space, options in a fixed order
// (ttl, src, id, call, owner, as), defaults left out (as=operator). parse_command() of it
// gives the command back.
std::string format_command(const Command& command);

// The name the command is counted under in metrics: "ping", "ban add", "pinhole open", ...
std::string_view command_name(const Command& command);

// True for commands that change the dynamic state, to be acknowledged once every worker has
// applied them: the adds, dels, flushes, pinhole open/close, pinholes enforce and sync end.
bool changes_state(const Command& command);

}  // namespace sipwall
