#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/ip_address.h"

namespace sipwall {

// Who sent a packet, for the punt and pass budgets. Denied sources (ACL deny, bans) never reach
// a budget: they are dropped under their own reasons.
enum class Tier : uint8_t { trusted, untrusted };
inline constexpr size_t kTierCount = 2;

constexpr std::string_view to_string(Tier t) {
  return t == Tier::trusted ? "trusted" : "untrusted";
}

// How much signaling may leave by one path per second, across all workers together.
struct BudgetRate {
  uint64_t messages_per_s = 0;
  uint64_t bytes_per_s = 0;  // whole frames
  // Share of both the untrusted tier may use when trusted traffic needs the rest; when it does
  // not, untrusted traffic may use all of it (work-conserving).
  uint8_t untrusted_percent = 30;

  bool operator==(const BudgetRate&) const = default;
};

// Sized for one control-plane process on kernel sockets (50-200 k messages/s).
inline constexpr BudgetRate kDefaultPuntBudget{50'000, 50'000'000, 30};  // 400 Mbit/s
// Transit signaling goes to a core that speaks for itself; it is usually bigger than one process.
inline constexpr BudgetRate kDefaultPassBudget{200'000, 200'000'000, 30};  // 1.6 Gbit/s

// A static `trust` prefix (a carrier trunk): its sources are trusted; `reserve` messages/s of
// the punt budget are kept for the prefix as a whole (0: none, it shares the trusted part).
struct TrustedPrefix {
  IpPrefix prefix;
  uint32_t reserve = 0;

  bool operator==(const TrustedPrefix&) const = default;
};

// What happens to signaling addressed to something other than a service address.
enum class TransitAction : uint8_t { pass, drop };

}  // namespace sipwall
