#pragma once

// Sources the control plane has promoted with `trust add` (after they authenticated, or as
// members of a trunk): when to renew the entry in the dataplane (at half its TTL, so it never
// lapses while the source keeps behaving, without a command per request), and which to demote
// with `trust del` when they fail. Also what the policy asks before relaying an ACK or an
// in-dialog request without credentials. Bounded like FailureTracker.

#include <cstddef>
#include <string>
#include <unordered_map>

#include "common/ip_address.h"
#include "common/time.h"

namespace sipwall::policy {

class TrustPromotions {
 public:
  TrustPromotions(Nanos ttl, size_t capacity) : ttl_(ttl), capacity_(capacity) {}

  // True when a `trust add` is due (new, or past half its TTL); records it.
  bool promote(const IpAddress& source, Nanos now);
  // True when the source was promoted and not expired (then a `trust del` is due).
  bool demote(const IpAddress& source, Nanos now);
  bool is_trusted(const IpAddress& source, Nanos now) const;

  Nanos ttl() const { return ttl_; }
  void set_ttl(Nanos ttl) { ttl_ = ttl; }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Nanos renew_at = 0;
    Nanos expires = 0;
  };
  Nanos ttl_;
  size_t capacity_;
  std::unordered_map<std::string, Entry> entries_;
  Nanos last_sweep_ = 0;
};

}  // namespace sipwall::policy
