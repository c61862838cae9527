#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <variant>

#include "common/ip_address.h"
#include "common/time.h"
#include "state/ban_labels.h"
#include "state/entry_id.h"
#include "state/outcome.h"
#include "state/owner.h"

namespace sipwall {

// The three dynamic tables a worker keeps.
enum class StateTable : uint8_t { ban, trust, pinhole };
std::string_view to_string(StateTable t);

// One change a worker applies to its DynamicState between bursts. Expiry is ABSOLUTE, on the
// dataplane's clock (Nanos: TSC live, packet time offline): the control thread converts a
// command's TTL with its own `now` once (control/protocol/state_commands.h), so every worker
// enforces the same instant whenever it gets to the update.
//
// Trivially copyable and free of heap memory (a ring or mailbox can carry it by value),
// except ReplaceOwned, which points at updates its sender keeps alive until every worker has
// applied it.

// Ban or trust a prefix (table ban or trust).
struct AddPrefix {
  StateTable table = StateTable::ban;
  IpPrefix prefix;
  Nanos until = 0;
  EntryId id;  // may be empty
  Owner owner = Owner::operator_;
  BanLabel label = kOtherBanLabel;  // bans: the metric series (set by the control thread)
};

// Remove a ban or trust entry, whatever its owner (an explicit delete).
struct RemovePrefix {
  StateTable table = StateTable::ban;
  IpPrefix prefix;
};

// Open (or refresh) the pinhole reference of one call.
struct OpenPinhole {
  IpAddress address;
  uint16_t port = 0;
  std::optional<IpPrefix> src;  // admitted sources; nothing: any
  EntryId call;                 // may be empty (the reference of a caller without call ids)
  Nanos until = 0;
  Owner owner = Owner::operator_;
};

// Close one call's reference to a pinhole.
struct ClosePinhole {
  IpAddress address;
  uint16_t port = 0;
  EntryId call;
};

// Remove every entry of a table owned by `owner` (nullopt: everybody's).
struct FlushTable {
  StateTable table = StateTable::ban;
  std::optional<Owner> owner;
};

struct SetPinholeEnforcement {
  bool on = false;
};

struct StateUpdate;

// `sync end`: the entries `owner` has in all three tables become exactly `adds` (AddPrefix and
// OpenPinhole updates, all of `owner`; anything else in the list is skipped as invalid). Applied
// whole between two bursts, so no packet sees a half-synced state. Entries of other owners stay;
// an add that meets one merges as usual (the more authoritative owner keeps it).
struct ReplaceOwned {
  Owner owner = Owner::control;
  const StateUpdate* adds = nullptr;  // kept alive by the sender until every worker applied it
  size_t count = 0;
  std::span<const StateUpdate> entries() const;
};

struct StateUpdate {
  std::variant<AddPrefix, RemovePrefix, OpenPinhole, ClosePinhole, FlushTable,
               SetPinholeEnforcement, ReplaceOwned>
      op;
};

inline std::span<const StateUpdate> ReplaceOwned::entries() const {
  return {adds, count};
}

// What one update did on one worker. Workers apply the same updates in the same order, so they
// agree, except near capacity: a worker that has not yet reclaimed an expired entry may answer
// full where another had room. The control side should report full when any worker did.
struct ApplyResult {
  Outcome outcome = Outcome::invalid;
  uint32_t removed = 0;   // flush, sync: entries removed
  uint32_t added = 0;     // sync: entries added or merged
  uint32_t rejected = 0;  // sync: adds refused as full
  bool operator==(const ApplyResult&) const = default;
};

}  // namespace sipwall
