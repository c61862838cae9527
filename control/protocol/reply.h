#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/protocol/command.h"
#include "state/outcome.h"
#include "state/state_update.h"

namespace sipwall {

// A control-socket reply to a typed command. Its text form (the lines before the socket's
// final "." line) starts with one status line:
//
//   ok [KEY=VALUE ...]            done; e.g. "ok epoch=1767225600" (ping),
//                                 "ok removed=12" (flush), "ok count=3" (list)
//   exists: ttl extended          the entry was there; its expiry moved later
//   exists: ttl kept              the entry was there with a later expiry; nothing changed
//   full                          no room in the table (or in the pinhole's call list)
//   not found                     nothing to delete or close
//   error: COLUMN: MESSAGE        the line does not parse (COLUMN 1-based, in bytes)
//   error: MESSAGE                refused for another reason (e.g. "sync end" without begin)
//
// followed, for list, by one line per entry written as the command that would add it, with
// the time left as its ttl and its owner as as= (e.g. "ban add 192.0.2.0/24 ttl=3599 id=x
// as=control"), so a saved list can be replayed. reload, status and counters keep their own
// free-text replies.
enum class ReplyStatus : uint8_t { ok, extended, exists, full, not_found, error };

struct Reply {
  ReplyStatus status = ReplyStatus::ok;
  std::vector<std::pair<std::string, std::string>> fields;  // ok's KEY=VALUE, in order
  size_t column = 0;                                        // error: 0 when not a parse error
  std::string message;                                      // error
  std::vector<std::string> lines;                           // list entries
  bool operator==(const Reply&) const = default;

  static Reply ok() { return {}; }
  static Reply error(std::string message, size_t column = 0);
  static Reply from(const ParseError& e) { return error(e.message, e.column); }
  Reply& with(std::string key, std::string value);
};

// The reply to a state change, from what the workers reported: "ok", "ok removed=N" for a
// flush ("ok removed=N added=A full=F" for a sync that added or refused entries), "exists: ttl
// extended", "full", ...
Reply reply_for(const ApplyResult& result);
// The reply to `sync end` (a ReplaceOwned update): "ok epoch=E removed=R added=A full=F", every
// field always present; A counts adds applied or merged, F adds refused for lack of room.
Reply sync_reply(const ApplyResult& result, uint64_t epoch);

// Text form (lines joined with "\n", no trailing newline).
std::string format_reply(const Reply& reply);
// Parses the text form back (what sipwallctl receives); nothing when the first line is not a
// status line (e.g. the free text of status or counters).
std::optional<Reply> parse_reply(std::string_view text);
// The JSON form for `sipwallctl --json`, one object on one line:
//   {"status":"ok","fields":{"epoch":"1767225600"},"entries":["ban add ..."]}
//   {"status":"error","column":5,"message":"bad prefix '1.2.3'"}
// status is one of "ok", "exists: ttl extended", "exists: ttl kept", "full", "not found",
// "error"; fields and entries appear when not empty, column when not 0.
std::string format_reply_json(const Reply& reply);
// The JSON form of a text reply that is not a status reply (status, counters):
// {"status":"ok","text":"..."}.
std::string text_reply_json(std::string_view text);

}  // namespace sipwall
