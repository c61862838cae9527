#pragma once

// Replay protection for stateless nonces: per nonce, the highest nonce-count (nc) accepted
// and a 64-bit window below it (as IPsec's anti-replay window, RFC 4303 3.4.3), so requests
// that arrive out of order over UDP still pass but no (nonce, nc) passes twice.
//
// The table is bounded: fixed buckets of a few ways, allocated once. Only authenticated
// requests are recorded (the caller checks the response first), so filling it takes valid
// credentials. When an entry must go, the expired or oldest one does, and the table's horizon
// moves up to its issue time: a nonce issued at or before the horizon that has no entry may
// have lost one, so it is refused as stale (the client gets a new nonce) instead of starting
// a fresh window an attacker could replay into. The horizon starts at the table's creation,
// so a restart does not forget what was used before it either.
//
// Not thread-safe: workers that share nonces serialise their calls (a lock, or one table per
// shard of nonce ids).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace sipwall {

enum class NcCheck : uint8_t {
  fresh,    // accepted and recorded
  replay,   // this nc was accepted before
  too_old,  // below the window: cannot tell, refused
  stale,    // no entry and issued at or before the horizon: ask for a new nonce
};
std::string_view to_string(NcCheck c);

class NcReplayWindow {
 public:
  static constexpr size_t kWays = 8;
  static constexpr uint32_t kWindow = 64;

  // `capacity`: entries (rounded up to whole buckets of kWays, a power of two of them).
  // `lifetime`: the nonce lifetime; entries of nonces past it are free.
  NcReplayWindow(size_t capacity, Nanos lifetime, Nanos created);

  // Records `nc` for the nonce (id, issued) if it was not used before.
  NcCheck check_and_record(uint64_t nonce_id, Nanos issued, uint32_t nc, Nanos now);

  size_t capacity() const { return entries_.size(); }
  size_t size() const { return used_; }
  Nanos horizon() const { return horizon_; }

 private:
  struct Entry {
    uint64_t id = 0;
    Nanos issued = 0;
    uint32_t highest = 0;  // 0: free (nc 0 is never valid)
    uint64_t seen = 0;     // bit k: highest - k was accepted
  };

  bool expired(const Entry& e, Nanos now) const {
    return now - std::min(now, e.issued) > lifetime_;
  }

  std::vector<Entry> entries_;
  size_t bucket_mask_ = 0;
  size_t used_ = 0;
  Nanos lifetime_;
  Nanos horizon_;
};

}  // namespace sipwall
