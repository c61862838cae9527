#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "state/entry_id.h"
#include "state/owner.h"

namespace sipwall {

// A ban's metric label: which series of sipwall_ban_drops_total its drops count in. 0 is the
// shared `other` series; 1..kBanLabelCount-1 name one ban id each.
using BanLabel = uint8_t;
inline constexpr BanLabel kOtherBanLabel = 0;
inline constexpr size_t kBanLabelCount = 65;

// Gives ban ids their own metric series while keeping the series bounded. Only ids an operator
// (sipwallctl) or the rule file chose get one: the control plane bans per offending source
// (ids such as auth-fail-<n>, without bound), so its bans, bans without an id, an id literally
// named "other" and every id past the first kBanLabelCount - 1 count as `other`. A label once
// given is never reused while the process runs, so each series only grows.
//
// Lives with the control thread (StateService): it labels a ban add before the update reaches
// any worker, and the workers count drops by the label the update carries, so they never look
// an id up. Fixed size; label() allocates nothing.
class BanLabels {
 public:
  static constexpr std::string_view kOther = "other";

  // The label for a ban with this id added by `owner` (registering the id when there is room).
  BanLabel label(const EntryId& id, Owner owner);
  // The series name of a label: its id, or "other" (for 0 and labels never given).
  std::string_view name(BanLabel label) const;
  // Labels given so far, `other` included: names 0 .. size()-1 are the series to export.
  size_t size() const { return 1 + named_; }

 private:
  std::array<EntryId, kBanLabelCount> ids_{};  // [0] unused: `other`
  size_t named_ = 0;
};

}  // namespace sipwall
