#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace sipwall {

// Who put an entry (ban, trusted source, pinhole) into the dataplane's dynamic state. Flush and
// sync touch only the caller's own entries unless told otherwise, so a reconnecting control
// plane replaying a stale journal cannot erase an operator's bans.
//
// When two owners add the same entry, it belongs to the more authoritative one from then on
// (rules over operator over control): an operator who bans a source the control plane had
// banned keeps that ban when the control plane flushes or syncs its own.
enum class Owner : uint8_t {
  control,    // the control plane (sipwall-control)
  operator_,  // a person, through sipwallctl (the default for a client that does not say)
  rules,      // the rule file
};
inline constexpr size_t kOwnerCount = 3;

// "control", "operator", "rules".
std::string_view to_string(Owner o);
std::optional<Owner> owner_from_string(std::string_view name);

// True when `a` takes an entry over from `b` (rules > operator > control).
constexpr bool outranks_or_equal(Owner a, Owner b) {
  return static_cast<uint8_t>(a) >= static_cast<uint8_t>(b);
}

}  // namespace sipwall
