#pragma once

// Brute-force accounting: failed authentications per source and per (user, source) in a
// fixed window. A source past its threshold is banned with a TTL that doubles for each
// repeat offence (fail2ban's bantime.increment) up to a maximum; a user past its threshold is
// locked out from that source only, never globally (a global lock would let an attacker lock
// the victim out). Bounded: at most `capacity` entries of each kind; when full, expired
// entries are swept and, if none is, the new key is not counted (counted as `table_full`).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/ip_address.h"
#include "common/time.h"

namespace sipwall::policy {

struct FailureLimits {
  uint32_t source_failures = 20;
  uint32_t account_failures = 5;
  Nanos window = 60 * kNanosPerSecond;
  Nanos ban = 60 * kNanosPerSecond;
  Nanos ban_max = 86400 * kNanosPerSecond;
  Nanos lockout = 300 * kNanosPerSecond;
  size_t capacity = 65536;
};

struct FailureResult {
  std::optional<Nanos> ban;  // this failure crossed the source threshold: ban for this long
  bool locked_out = false;   // this failure crossed the (user, source) threshold
};

// The 17 octets of an address (family, bytes) as a map key.
std::string source_key(const IpAddress& a);

class FailureTracker {
 public:
  explicit FailureTracker(const FailureLimits& limits) : limits_(limits) {}

  // New thresholds and times (a reload); the counts, bans and lockouts so far stay.
  void set_limits(const FailureLimits& limits) { limits_ = limits; }

  FailureResult record_failure(const IpAddress& source, std::string_view user, Nanos now);
  // A success clears the (user, source) count; the source's own count stays (an attacker
  // holding one account must not reset its guesses on another by logging in between).
  void record_success(const IpAddress& source, std::string_view user);

  bool is_banned(const IpAddress& source, Nanos now) const;
  bool is_locked_out(const IpAddress& source, std::string_view user, Nanos now) const;

  size_t sources() const { return sources_.size(); }
  size_t accounts() const { return accounts_.size(); }
  uint64_t table_full() const { return table_full_; }

 private:
  struct Counter {
    uint32_t failures = 0;
    Nanos window_start = 0;
    Nanos blocked_until = 0;  // ban (source) or lockout (user, source)
    uint32_t offences = 0;    // bans so far (source), for the escalation
    Nanos last_offence = 0;
  };

  // Counts one failure in `c`'s window; true when it reaches `threshold`.
  bool count(Counter& c, uint32_t threshold, Nanos now) const;
  using Table = std::unordered_map<std::string, Counter>;
  // Finds or makes the entry; nullptr when the table is full of live entries.
  Counter* slot(Table& table, const std::string& key, Nanos now);
  bool expired(const Counter& c, Nanos now) const;
  bool forgiven(const Counter& c, Nanos now) const;

  FailureLimits limits_;
  Table sources_;   // key: source_key()
  Table accounts_;  // key: source_key() + user
  uint64_t table_full_ = 0;
  Nanos last_sweep_ = 0;
};

}  // namespace sipwall::policy
