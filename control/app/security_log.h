#pragma once

// Security events as JSON lines (one object per decision that matters: authentication
// failure, ban, lockout, refusal), for a SIEM or fail2ban. Rate-limited by a token bucket so an
// attack cannot become a log flood: what the bucket refuses is counted and reported in the
// next line that goes out ("suppressed":N). User names are masked by default (first
// character, then "***"): a log is not a directory of accounts.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common/ip_address.h"
#include "common/time.h"

namespace sipwall::control {

struct SecurityEvent {
  std::string_view event;  // "auth_failed", "ban", "lockout", "forbidden", ...
  IpAddress source;
  uint16_t port = 0;
  std::string_view transport;
  std::string_view method;
  std::string_view user;  // masked unless configured otherwise
  std::string_view trunk;
  uint64_t ttl_seconds = 0;  // bans, lockouts
};

class SecurityLog {
 public:
  // `out`: where lines go (not owned; nullptr: nowhere). `per_second` events on average,
  // `burst` at once.
  SecurityLog(std::FILE* out, uint32_t per_second, uint32_t burst, bool mask_users);

  void write(const SecurityEvent& e, Nanos now);

  uint64_t written() const { return written_; }
  uint64_t suppressed_total() const { return suppressed_total_; }

  static std::string mask(std::string_view user);

 private:
  bool take(Nanos now);

  std::FILE* out_;
  double per_ns_;
  double burst_;
  double tokens_;
  Nanos last_ = 0;
  bool mask_users_;
  uint64_t written_ = 0;
  uint64_t suppressed_ = 0;  // since the last line written
  uint64_t suppressed_total_ = 0;
};

}  // namespace sipwall::control
