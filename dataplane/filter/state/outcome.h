#pragma once

#include <cstdint>
#include <string_view>

namespace sipwall {

// What applying one change to the dynamic state did. The control socket turns it into the
// reply line (control/protocol/reply.h): added/removed/flushed -> "ok", extended -> "exists:
// ttl extended", exists -> "exists: ttl kept", not_found -> "not found", full -> "full".
enum class Outcome : uint8_t {
  added,      // a new entry (or reference) is in the table
  extended,   // the entry was there; its expiry moved later
  exists,     // the entry was there with a later (or equal) expiry; nothing changed
  removed,    // the entry is gone
  not_found,  // nothing to remove (or the entry had already expired)
  full,       // no room: the table (or the pinhole's per-port reference list) is full
  flushed,    // a flush or sync ran; ApplyResult says how many entries it removed/added
  invalid,    // the update cannot apply (a prefix longer than its family); parsed commands
              // never produce it
};

std::string_view to_string(Outcome o);

}  // namespace sipwall
