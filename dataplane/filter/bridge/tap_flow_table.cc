#include "bridge/tap_flow_table.h"

#include <bit>
#include <cstring>

namespace sipwall {
namespace {

constexpr size_t kProbe = 8;
// As for MAC learning: refresh a busy flow's expiry at most this often, not on every frame.
constexpr Nanos kRefreshInterval = kNanosPerSecond;

void words(const IpAddress& a, uint64_t& lo, uint64_t& hi) {
  std::memcpy(&lo, a.bytes.data(), 8);
  std::memcpy(&hi, a.bytes.data() + 8, 8);
}

}  // namespace

TapFlowTable::TapFlowTable(size_t capacity, Nanos ttl, uint64_t hash_seed)
    : mask_(std::bit_ceil(std::max<size_t>(capacity, 64)) - 1), ttl_(ttl), hash_(hash_seed) {
  slots_ = std::make_unique<Slot[]>(mask_ + 1);
}

uint64_t TapFlowTable::fingerprint(const TapFlow& f) const {
  uint64_t llo, lhi, rlo, rhi;
  words(f.local, llo, lhi);
  words(f.remote, rlo, rhi);
  const uint32_t ports = uint32_t{f.local_port} << 16 | f.remote_port;
  const uint32_t kind = uint32_t{f.ip_proto} << 8 | static_cast<uint32_t>(f.local.family);
  const uint64_t h = hash_(llo, lhi, ports);
  return hash_(rlo ^ h, rhi, kind) | 1;  // never 0, the empty mark
}

void TapFlowTable::record(const TapFlow& flow, Nanos now) {
  const uint64_t fp = fingerprint(flow);
  const Nanos until = now + ttl_;
  Slot* victim = nullptr;
  Nanos victim_expires = UINT64_MAX;
  for (size_t i = 0; i < kProbe; ++i) {
    Slot& s = slots_[(fp + i) & mask_];
    const uint64_t f = s.fingerprint.load(std::memory_order_relaxed);
    const Nanos expires = s.expires.load(std::memory_order_relaxed);
    if (f == fp) {
      // Only later: a worker whose clock reads behind the one that recorded the flow must not
      // shorten it (nor rewrite a line other workers read).
      if (until > expires && until - expires >= kRefreshInterval) {
        s.expires.store(until, std::memory_order_relaxed);
      }
      return;
    }
    const Nanos key = f == 0 || expires <= now ? 0 : expires;
    if (key < victim_expires) {
      victim = &s;
      victim_expires = key;
    }
  }
  // Expiry first: a reader must never see the new fingerprint with the old slot's expiry.
  victim->expires.store(0, std::memory_order_relaxed);
  victim->fingerprint.store(fp, std::memory_order_release);
  victim->expires.store(until, std::memory_order_release);
}

bool TapFlowTable::contains(const TapFlow& flow, Nanos now) const {
  const uint64_t fp = fingerprint(flow);
  for (size_t i = 0; i < kProbe; ++i) {
    const Slot& s = slots_[(fp + i) & mask_];
    if (s.fingerprint.load(std::memory_order_acquire) != fp) continue;
    return s.expires.load(std::memory_order_acquire) > now;
  }
  return false;
}

}  // namespace sipwall
