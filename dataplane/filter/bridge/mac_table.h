#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "common/keyed_hash.h"
#include "common/time.h"

namespace sipwall {

using MacAddress = std::array<uint8_t, 6>;

// The two sides a bridged frame can leave by (the punt port is the third, never learned).
enum class BridgeSide : uint8_t { outside = 0, inside = 1 };

inline bool is_group_mac(std::span<const uint8_t, 6> mac) {
  return (mac[0] & 1) != 0;  // broadcast or multicast
}

// Which side each station's MAC address was last seen on, shared by every worker: a station's
// frames may reach any worker (RSS, ARP on queue 0), and the tap's replies leave by another.
// Lock-free: a slot is one 64-bit word (address, side, valid bit) plus the time it was last
// seen. Two workers learning at once may lose one update; the next frame relearns it, and an
// unknown destination is flooded to both sides, so a race costs a flood, never a lost frame.
// Entries age out after `max_age` (a moved station is relearned from its next frame).
class MacTable {
 public:
  // `capacity` is rounded up to a power of two (at least 64).
  MacTable(size_t capacity, Nanos max_age, uint64_t hash_seed);

  // Records that `mac` (a unicast address) was seen on `side` at `now`.
  void learn(std::span<const uint8_t, 6> mac, BridgeSide side, Nanos now);
  // The side `mac` was last seen on, unless unknown or aged out.
  std::optional<BridgeSide> lookup(std::span<const uint8_t, 6> mac, Nanos now) const;

  size_t capacity() const { return mask_ + 1; }

 private:
  struct Slot {
    std::atomic<uint64_t> entry{0};  // 0: empty
    std::atomic<uint64_t> seen{0};
  };
  static uint64_t pack(std::span<const uint8_t, 6> mac);
  size_t home(uint64_t key) const;

  std::unique_ptr<Slot[]> slots_;
  size_t mask_;
  Nanos max_age_;
  KeyHash hash_;
};

}  // namespace sipwall
