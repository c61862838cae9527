#pragma once

#include <optional>
#include <string>

#include "common/time.h"
#include "control/protocol/command.h"
#include "control/protocol/reply.h"
#include "state/dynamic_state.h"
#include "state/expiring_table.h"
#include "state/state_update.h"

namespace sipwall {

// The StateUpdate a state-changing command becomes at time `now` (the dataplane's clock, read
// once by the control thread): TTLs become absolute expiries now + ttl (saturating), as=
// becomes the owner. Nothing for commands that change no state (ping, list, reload, sync
// begin/end: the sync session collects the adds and sends one ReplaceOwned itself).
std::optional<StateUpdate> to_state_update(const Command& command, Nanos now);

// The command line a list reply shows for a stored entry: the add or open that would recreate
// it, with the time left (rounded up to whole seconds) as its ttl. Nothing for an entry that
// has expired at `now`.
std::optional<std::string> format_entry(StateTable table, const TableEntry& entry, Nanos now);

// The whole reply to a list command: "ok count=N", then the live entries of that table (with a
// prefix, those overlapping it: inside it or containing it) as format_entry() lines, sorted.
// `state` is the caller's copy of the dynamic state (e.g. a shadow the control thread keeps by
// applying the same updates as the workers), read at `now`.
Reply list_reply(const ListCommand& command, const DynamicState& state, Nanos now);

// True when one prefix contains the other (same family).
bool overlaps(const IpPrefix& a, const IpPrefix& b);

}  // namespace sipwall
