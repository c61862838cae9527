#include "pipeline/signature_slots.h"

namespace sipwall {

uint32_t StableSlots::slot_of(std::string_view id) {
  std::lock_guard lock(mutex_);
  const auto [it, inserted] =
      slots_.try_emplace(std::string(id), static_cast<uint32_t>(ids_.size()));
  if (!inserted) return it->second;
  if (ids_.size() >= capacity_) {
    slots_.erase(it);
    return static_cast<uint32_t>(capacity_);
  }
  ids_.emplace_back(id);
  return it->second;
}

std::string StableSlots::id(uint32_t slot) const {
  std::lock_guard lock(mutex_);
  return slot < ids_.size() ? ids_[slot] : std::string();
}

size_t StableSlots::size() const {
  std::lock_guard lock(mutex_);
  return ids_.size();
}

}  // namespace sipwall
