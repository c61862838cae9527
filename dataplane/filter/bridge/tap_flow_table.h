#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "common/ip_address.h"
#include "common/keyed_hash.h"
#include "common/time.h"

namespace sipwall {

// One conversation the control plane opened or answered, seen from its side: its service
// address and port, the peer's address and port. ICMP echo uses the identifier as local port
// and 0 as remote port.
struct TapFlow {
  uint8_t ip_proto = 0;
  IpAddress local;
  uint16_t local_port = 0;
  IpAddress remote;
  uint16_t remote_port = 0;
};

// The flows the tap sent recently, so their replies (and ICMP errors about them) may reach
// it while nothing else does. Shared by every worker: the tap may send on one worker's queue
// and RSS bring the reply to another. Bounded and lock-free: a slot holds a keyed 64-bit
// fingerprint of the flow (a per-process random seed, so nobody can aim collisions) and its
// expiry. A flow is refreshed by every frame the tap sends on it; when a probe window is
// full, the slot closest to expiry is replaced, so a busy control plane can at worst lose the
// oldest idle flow, whose next frame records it again.
class TapFlowTable {
 public:
  // `capacity` is rounded up to a power of two (at least 64).
  TapFlowTable(size_t capacity, Nanos ttl, uint64_t hash_seed);

  void record(const TapFlow& flow, Nanos now);
  bool contains(const TapFlow& flow, Nanos now) const;

  size_t capacity() const { return mask_ + 1; }
  Nanos ttl() const { return ttl_; }

 private:
  struct Slot {
    std::atomic<uint64_t> fingerprint{0};  // 0: empty
    std::atomic<uint64_t> expires{0};
  };
  uint64_t fingerprint(const TapFlow& flow) const;

  std::unique_ptr<Slot[]> slots_;
  size_t mask_;
  Nanos ttl_;
  KeyHash hash_;
};

}  // namespace sipwall
