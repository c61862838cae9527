#include "control/policy/trust_promotions.h"

#include "control/policy/failure_tracker.h"

namespace sipwall::policy {

bool TrustPromotions::promote(const IpAddress& source, Nanos now) {
  const std::string key = source_key(source);
  auto it = entries_.find(key);
  if (it != entries_.end() && now < it->second.renew_at) return false;
  if (it == entries_.end()) {
    if (entries_.size() >= capacity_ && now - last_sweep_ >= kNanosPerSecond) {
      last_sweep_ = now;  // at most one whole-table sweep a second
      std::erase_if(entries_, [&](const auto& kv) { return kv.second.expires <= now; });
    }
    // Still full: promote without remembering (renewed on every success, still correct).
    if (entries_.size() >= capacity_) return true;
    it = entries_.emplace(key, Entry{}).first;
  }
  it->second = {now + ttl_ / 2, now + ttl_};
  return true;
}

bool TrustPromotions::demote(const IpAddress& source, Nanos now) {
  const auto it = entries_.find(source_key(source));
  if (it == entries_.end()) return false;
  const bool live = it->second.expires > now;
  entries_.erase(it);
  return live;
}

bool TrustPromotions::is_trusted(const IpAddress& source, Nanos now) const {
  const auto it = entries_.find(source_key(source));
  return it != entries_.end() && it->second.expires > now;
}

}  // namespace sipwall::policy
