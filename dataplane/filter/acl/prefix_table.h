#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "acl/acl_types.h"
#include "common/ip_address.h"
#include "common/result.h"

namespace sipwall {

// Static allow/deny prefixes, IPv4 and IPv6, longest-prefix match.
//
// build() flattens the (nested or disjoint) prefixes of each family into sorted, disjoint
// address intervals, each carrying the entry of its longest covering prefix (or none);
// adjacent intervals of the same entry merge. lookup() is one branch-free binary search over
// the interval starts: O(log n), no allocation, no pointer chasing. Built off the hot path
// (rule load); immutable afterwards, so workers may share one instance.
class PrefixTable {
 public:
  PrefixTable() = default;  // matches nothing

  // Refuses a prefix longer than its family, a prefix listed twice, and a prefix listed with
  // both actions; the message names the prefix and the entries (0-based) involved.
  static Result<PrefixTable> build(std::span<const AclEntry> entries);

  // Action of the longest prefix containing the address; nullopt when none does.
  std::optional<AclAction> lookup(const IpAddress& address) const;

  struct Match {
    AclAction action;
    uint32_t entry;  // index into the entries given to build(): which rule decided
  };
  // The same, with the entry that matched, so a verdict can name its ACL rule. Inline for an
  // empty table (no ACL, no `trust`, no service addresses: the usual case), which costs no call.
  std::optional<Match> match(const IpAddress& address) const {
    if (entry_count_ == 0) return std::nullopt;
    return search(address);
  }

  size_t entry_count() const { return entry_count_; }
  size_t interval_count() const { return v4_.starts.size() + v6_.starts.size(); }

 private:
  __extension__ using Uint128 = unsigned __int128;

  template <typename Key>
  struct Intervals {
    std::vector<Key> starts;      // ascending; starts[0] == 0 once built
    std::vector<uint32_t> entry;  // kNone, or 1 + entry index for [starts[i], starts[i+1])
  };

  std::optional<Match> search(const IpAddress& address) const;
  template <typename Key>
  static uint32_t find(const Intervals<Key>& in, Key k);
  template <typename Key>
  friend struct PrefixFlattener;

  Intervals<uint32_t> v4_;
  Intervals<Uint128> v6_;
  std::vector<AclAction> actions_;  // by entry index
  size_t entry_count_ = 0;
};

}  // namespace sipwall
