#include "control/policy/failure_tracker.h"

#include <algorithm>

namespace sipwall::policy {

std::string source_key(const IpAddress& a) {
  std::string key(1, static_cast<char>(a.family));
  key.append(reinterpret_cast<const char*>(a.bytes.data()), a.bytes.size());
  return key;
}

bool FailureTracker::count(Counter& c, uint32_t threshold, Nanos now) const {
  if (c.failures == 0 || now - c.window_start >= limits_.window) {
    c.failures = 0;
    c.window_start = now;
  }
  return ++c.failures >= threshold;
}

// A source's offences are forgotten ban_max after the end of the longest ban it can have had
// (2 ban_max after it started): a repeat offender within that keeps escalating.
bool FailureTracker::forgiven(const Counter& c, Nanos now) const {
  return c.offences == 0 || now - c.last_offence >= 2 * limits_.ban_max;
}

// An entry may go when it counts nothing in a live window, blocks nothing, and its offences
// are forgiven (then the escalation starts over anyway).
bool FailureTracker::expired(const Counter& c, Nanos now) const {
  const bool window_over = c.failures == 0 || now - c.window_start >= limits_.window;
  const bool unblocked = c.blocked_until <= now;
  return window_over && unblocked && forgiven(c, now);
}

FailureTracker::Counter* FailureTracker::slot(Table& table, const std::string& key, Nanos now) {
  if (const auto it = table.find(key); it != table.end()) return &it->second;
  if (table.size() >= limits_.capacity) {
    // A sweep walks the whole table: at most one a second, or a flood of new sources would
    // make every request pay for one.
    if (now - last_sweep_ >= kNanosPerSecond) {
      last_sweep_ = now;
      std::erase_if(table, [&](const auto& kv) { return expired(kv.second, now); });
    }
    if (table.size() >= limits_.capacity) {
      ++table_full_;
      return nullptr;
    }
  }
  return &table[key];
}

FailureResult FailureTracker::record_failure(const IpAddress& source, std::string_view user,
                                             Nanos now) {
  FailureResult out;
  const std::string skey = source_key(source);
  if (Counter* c = slot(sources_, skey, now)) {
    if (forgiven(*c, now)) c->offences = 0;
    if (count(*c, limits_.source_failures, now)) {
      // ban, 2 ban, 4 ban, ... up to ban_max (doubled step by step: no shift can overflow).
      Nanos ttl = limits_.ban;
      for (uint32_t i = 0; i < c->offences && ttl < limits_.ban_max; ++i) ttl *= 2;
      ttl = std::min(ttl, limits_.ban_max);
      ++c->offences;
      c->last_offence = now;
      c->blocked_until = now + ttl;
      c->failures = 0;
      out.ban = ttl;
    }
  }
  if (Counter* c = slot(accounts_, skey + std::string(user), now)) {
    if (count(*c, limits_.account_failures, now)) {
      c->blocked_until = now + limits_.lockout;
      c->failures = 0;
      out.locked_out = true;
    }
  }
  return out;
}

void FailureTracker::record_success(const IpAddress& source, std::string_view user) {
  accounts_.erase(source_key(source) + std::string(user));
}

bool FailureTracker::is_banned(const IpAddress& source, Nanos now) const {
  const auto it = sources_.find(source_key(source));
  return it != sources_.end() && it->second.blocked_until > now;
}

bool FailureTracker::is_locked_out(const IpAddress& source, std::string_view user,
                                   Nanos now) const {
  const auto it = accounts_.find(source_key(source) + std::string(user));
  return it != accounts_.end() && it->second.blocked_until > now;
}

}  // namespace sipwall::policy
