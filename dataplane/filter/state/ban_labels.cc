#include "state/ban_labels.h"

namespace sipwall {

BanLabel BanLabels::label(const EntryId& id, Owner owner) {
  if (id.empty() || owner == Owner::control || id.view() == kOther) return kOtherBanLabel;
  for (size_t i = 1; i <= named_; ++i) {
    if (ids_[i] == id) return static_cast<BanLabel>(i);
  }
  if (named_ + 1 >= kBanLabelCount) return kOtherBanLabel;
  ids_[++named_] = id;
  return static_cast<BanLabel>(named_);
}

std::string_view BanLabels::name(BanLabel label) const {
  if (label == kOtherBanLabel || label > named_) return kOther;
  return ids_[label].view();
}

}  // namespace sipwall
