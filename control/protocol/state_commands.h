#pragma once

#include <optional>
#include <string>

#include "common/time.h"
#include "control/protocol/command.h"
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

}  // namespace sipwall
