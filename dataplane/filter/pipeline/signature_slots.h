#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sipwall {

// Stable numbers for rule ids across reloads: a signature's hit counter keeps counting when
// rules are reordered, added or removed (Prometheus counters must never go backwards), and a
// limit keeps its token buckets while its id stays. Used off the fast path: by whoever builds
// policies, and by whoever reads counters.
class StableSlots {
 public:
  explicit StableSlots(size_t capacity = 16384) : capacity_(capacity) {}

  // The slot of `id`, assigning the next free one to a new id; capacity() when full.
  uint32_t slot_of(std::string_view id);
  // The id counted in `slot`, empty when unassigned.
  std::string id(uint32_t slot) const;
  size_t size() const;
  size_t capacity() const { return capacity_; }

 private:
  mutable std::mutex mutex_;
  size_t capacity_;
  std::unordered_map<std::string, uint32_t> slots_;
  std::vector<std::string> ids_;
};

}  // namespace sipwall
