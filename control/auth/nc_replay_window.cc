#include "control/auth/nc_replay_window.h"

#include <algorithm>
#include <bit>

namespace sipwall {

namespace {

// Nonce ids are sequential: mix them so neighbours spread over the buckets.
uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

std::string_view to_string(NcCheck c) {
  switch (c) {
    case NcCheck::fresh:
      return "fresh";
    case NcCheck::replay:
      return "replay";
    case NcCheck::too_old:
      return "too_old";
    case NcCheck::stale:
      return "stale";
  }
  return "unknown";
}

NcReplayWindow::NcReplayWindow(size_t capacity, Nanos lifetime, Nanos created)
    : lifetime_(lifetime), horizon_(created) {
  const size_t buckets = std::bit_ceil(std::max<size_t>(1, (capacity + kWays - 1) / kWays));
  entries_.resize(buckets * kWays);
  bucket_mask_ = buckets - 1;
}

NcCheck NcReplayWindow::check_and_record(uint64_t nonce_id, Nanos issued, uint32_t nc, Nanos now) {
  if (nc == 0) return NcCheck::too_old;  // never valid; 0 marks a free entry
  Entry* const bucket = &entries_[(mix(nonce_id) & bucket_mask_) * kWays];
  Entry* victim = nullptr;
  for (size_t w = 0; w < kWays; ++w) {
    Entry& e = bucket[w];
    if (e.highest != 0 && e.id == nonce_id && e.issued == issued) {
      if (nc > e.highest) {
        const uint32_t shift = nc - e.highest;
        e.seen = shift >= kWindow ? 1 : (e.seen << shift | 1);
        e.highest = nc;
        return NcCheck::fresh;
      }
      const uint32_t back = e.highest - nc;
      if (back >= kWindow) return NcCheck::too_old;
      const uint64_t bit = uint64_t{1} << back;
      if ((e.seen & bit) != 0) return NcCheck::replay;
      e.seen |= bit;
      return NcCheck::fresh;
    }
    // Free first, then expired, then the oldest issued.
    const auto rank = [&](const Entry* x) {
      return x->highest == 0 ? 0 : expired(*x, now) ? 1 : 2;
    };
    if (victim == nullptr || rank(&e) < rank(victim) ||
        (rank(&e) == rank(victim) && e.issued < victim->issued)) {
      victim = &e;
    }
  }
  if (issued <= horizon_) return NcCheck::stale;
  if (victim->highest == 0) {
    ++used_;
  } else if (!expired(*victim, now)) {
    // Older than every live window of its bucket: no room without losing a newer one.
    if (issued <= victim->issued) return NcCheck::stale;
    // A live window is lost: nonces issued up to its time can no longer start a new one.
    horizon_ = std::max(horizon_, victim->issued);
  }
  *victim = Entry{.id = nonce_id, .issued = issued, .highest = nc, .seen = 1};
  return NcCheck::fresh;
}

}  // namespace sipwall
