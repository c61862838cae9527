#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/ip_address.h"
#include "common/time.h"

namespace sipwall {

// Media pinholes opened by the control plane: (destination address, destination port) -> open
// until an expiry time. Fixed capacity, open addressing with linear probing and backward-shift
// deletion; nothing allocates after construction. Not thread-safe: one writer applies control-plane
// updates between bursts; lookups run on the same core.
class PinholeTable {
 public:
  // Holds up to `capacity` pinholes (the slot array is sized to keep the load factor <= 1/2).
  explicit PinholeTable(size_t capacity);

  // Opens or extends a pinhole. False when the table is full (run expire() to reclaim slots).
  bool open(const IpAddress& addr, uint16_t port, Nanos until);
  // Closes a pinhole; false if it was not open.
  bool close(const IpAddress& addr, uint16_t port);
  // True when a pinhole for (addr, port) exists and now < until.
  bool allows(const IpAddress& addr, uint16_t port, Nanos now) const;
  // Removes every pinhole with until <= now; returns how many were removed.
  size_t expire(Nanos now);
  void clear();

  // Enforcement switch: off until the control plane pushes pinholes. While off, admits() passes
  // all media; the pipeline asks admits(), never allows(), for its verdict.
  void set_enforcing(bool on) { enforcing_ = on; }
  bool enforcing() const { return enforcing_; }
  bool admits(const IpAddress& addr, uint16_t port, Nanos now) const {
    return !enforcing_ || allows(addr, port, now);
  }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

 private:
  struct Slot {
    IpAddress addr;
    uint16_t port = 0;
    bool used = false;
    Nanos until = 0;
  };

  size_t home(const IpAddress& addr, uint16_t port) const;
  // Index of the slot holding the key, or of the empty slot that ends its probe sequence.
  size_t find(const IpAddress& addr, uint16_t port) const;
  void erase_at(size_t i);

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t capacity_ = 0;
  size_t size_ = 0;
  bool enforcing_ = false;
};

}  // namespace sipwall
