#include "control/policy/retransmission_cache.h"

#include "control/policy/failure_tracker.h"

namespace sipwall::policy {

std::string RetransmissionCache::key(const IpAddress& source, std::string_view branch,
                                     std::string_view credentials) {
  std::string k = source_key(source);
  k += branch;
  k += '\n';  // cannot occur in a branch: the two parts cannot run into each other
  k += credentials;
  return k;
}

void RetransmissionCache::remember(const IpAddress& source, std::string_view branch,
                                   std::string_view credentials, std::string_view user, Nanos now) {
  if (branch.empty()) return;
  if (entries_.size() >= capacity_) {
    if (now - last_sweep_ >= kNanosPerSecond) {  // at most one whole-table sweep a second
      last_sweep_ = now;
      std::erase_if(entries_, [now](const auto& kv) { return kv.second.expires <= now; });
    }
    if (entries_.size() >= capacity_) return;  // a retransmission then counts as a replay
  }
  entries_[key(source, branch, credentials)] = {std::string(user), now + kLifetime};
}

const std::string* RetransmissionCache::find(const IpAddress& source, std::string_view branch,
                                             std::string_view credentials, Nanos now) const {
  if (branch.empty()) return nullptr;
  const auto it = entries_.find(key(source, branch, credentials));
  if (it == entries_.end() || it->second.expires <= now) return nullptr;
  return &it->second.user;
}

}  // namespace sipwall::policy
