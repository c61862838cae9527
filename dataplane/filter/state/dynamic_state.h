#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/ip_address.h"
#include "common/time.h"
#include "state/expiring_prefix_table.h"
#include "state/pinhole_table.h"
#include "state/state_update.h"

namespace sipwall {

struct DynamicStateConfig {
  size_t ban_capacity = 65536;
  size_t trust_capacity = 65536;
  size_t pinhole_capacity = 65536;  // call references
  bool enforce_pinholes = false;    // the starting value; `pinholes enforce on|off` changes it
  uint64_t hash_seed = 0;
};

// A ban's identity in a drop Decision (Decision::rule for DropReason::ban): its position in the
// worker's ban table, valid until that entry is removed. Entries are only removed by apply() and
// expire_some(), which run between bursts, so a DecisionSink that resolves the handle while
// decide() runs (ban_id()) always names the right ban.
using BanHandle = ExpiringTable::Handle;
inline constexpr BanHandle kNoBan = ExpiringTable::kNoHandle;

// One worker's dynamic state: bans, trusted sources and pinholes the control plane and the
// operator add with a time to live, plus the pinhole-enforcement switch. Sized once; nothing
// allocates after construction. Owned by one worker: lookups run on its packets, apply() and
// expire_some() between its bursts. The control thread may keep a shadow instance of its own
// (applying the same updates) to answer `list` and write the state file without touching a
// worker's memory.
class DynamicState {
 public:
  explicit DynamicState(const DynamicStateConfig& config);

  // Applies one update at time `now` (the worker's clock; it decides whether a stored entry has
  // expired already).
  ApplyResult apply(const StateUpdate& update, Nanos now);

  // The live ban with the longest prefix containing `source`, or kNoBan. Counts a hit on it.
  BanHandle ban_match(const IpAddress& source, Nanos now) {
    const BanHandle h = bans_.match(source, now);
    if (h != kNoBan) ++bans_.entry(h).hits;
    return h;
  }
  // The id of a ban a Decision names ("" when it has none or the handle is stale).
  std::string_view ban_id(BanHandle handle) const;
  // The metric label of that ban (kOtherBanLabel when it has none or the handle is stale).
  BanLabel ban_label(BanHandle handle) const;
  // True when a live dynamic trust entry contains `source` (rule-file trust is not in here).
  bool trusted(const IpAddress& source, Nanos now) const {
    return trust_.match(source, now) != ExpiringPrefixTable::kNoHandle;
  }
  // The pinhole verdict for media to (dst, port) from src: true while enforcement is off, or
  // when a live reference admits src.
  bool pinhole_admits(const IpAddress& dst, uint16_t port, const IpAddress& src, Nanos now) const;
  bool enforcing_pinholes() const { return enforce_pinholes_; }

  // Reclaims expired entries, visiting at most `budget` positions of each table; returns how
  // many it removed. Call between bursts: the work per call is bounded.
  size_t expire_some(Nanos now, size_t budget);

  // For list, the state file and metrics (occupancy, full rejections).
  const ExpiringPrefixTable& bans() const { return bans_; }
  const ExpiringPrefixTable& trust() const { return trust_; }
  const PinholeTable& pinholes() const { return pinholes_; }

 private:
  ApplyResult replace_owned(const ReplaceOwned& r, Nanos now);
  ApplyResult add(const StateUpdate& update, Nanos now);

  ExpiringPrefixTable bans_;
  ExpiringPrefixTable trust_;
  PinholeTable pinholes_;
  bool enforce_pinholes_;
};

}  // namespace sipwall
