#pragma once

// Requests accepted recently, so a UDP retransmission of one (same source, same top Via
// branch, same credentials: RFC 3261 17.1.1.2 resends the request unchanged every T1 while no
// response arrives) is relayed again instead of failing as a replay in the nc window: a slow
// core must not turn a phone's retransmissions into authentication failures and a ban. The same
// credentials under another branch are no retransmission and go to the verifier (a replay).
// Entries live for 64*T1 (32 s, the longest a client retransmits); bounded.

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/ip_address.h"
#include "common/time.h"

namespace sipwall::policy {

class RetransmissionCache {
 public:
  static constexpr Nanos kLifetime = 32 * kNanosPerSecond;

  explicit RetransmissionCache(size_t capacity) : capacity_(capacity) {}

  void remember(const IpAddress& source, std::string_view branch, std::string_view credentials,
                std::string_view user, Nanos now);
  // The user the request was accepted for, or nothing.
  const std::string* find(const IpAddress& source, std::string_view branch,
                          std::string_view credentials, Nanos now) const;

  size_t size() const { return entries_.size(); }

 private:
  static std::string key(const IpAddress& source, std::string_view branch,
                         std::string_view credentials);
  struct Entry {
    std::string user;
    Nanos expires = 0;
  };
  size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
  Nanos last_sweep_ = 0;
};

}  // namespace sipwall::policy
