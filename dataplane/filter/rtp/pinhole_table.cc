#include "rtp/pinhole_table.h"

#include <bit>
#include <cstring>

namespace sipwall {
namespace {

inline uint64_t mix(uint64_t x) {  // murmur3 fmix64
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

PinholeTable::PinholeTable(size_t capacity) : capacity_(capacity) {
  const size_t slots = std::bit_ceil(capacity < 4 ? size_t{8} : capacity * 2);
  slots_.resize(slots);
  mask_ = slots - 1;
}

size_t PinholeTable::home(const IpAddress& addr, uint16_t port) const {
  uint64_t a = 0;
  uint64_t b = 0;
  std::memcpy(&a, addr.bytes.data(), 8);
  std::memcpy(&b, addr.bytes.data() + 8, 8);
  const uint64_t h = mix(a ^ mix(b ^ (uint64_t{port} << 8) ^ static_cast<uint64_t>(addr.family)));
  return static_cast<size_t>(h) & mask_;
}

size_t PinholeTable::find(const IpAddress& addr, uint16_t port) const {
  size_t i = home(addr, port);
  // Terminates: the load factor stays <= 1/2, so an empty slot always exists.
  while (slots_[i].used && !(slots_[i].port == port && slots_[i].addr == addr)) {
    i = (i + 1) & mask_;
  }
  return i;
}

bool PinholeTable::open(const IpAddress& addr, uint16_t port, Nanos until) {
  const size_t i = find(addr, port);
  Slot& s = slots_[i];
  if (s.used) {
    s.until = until;
    return true;
  }
  if (size_ >= capacity_) return false;
  s.addr = addr;
  s.port = port;
  s.until = until;
  s.used = true;
  ++size_;
  return true;
}

bool PinholeTable::close(const IpAddress& addr, uint16_t port) {
  const size_t i = find(addr, port);
  if (!slots_[i].used) return false;
  erase_at(i);
  return true;
}

bool PinholeTable::allows(const IpAddress& addr, uint16_t port, Nanos now) const {
  const Slot& s = slots_[find(addr, port)];
  return s.used && now < s.until;
}

// Backward-shift deletion: pull later members of the probe run into the hole so lookups never
// need tombstones.
void PinholeTable::erase_at(size_t i) {
  size_t hole = i;
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask_;
    if (!slots_[j].used) break;
    const size_t h = home(slots_[j].addr, slots_[j].port);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

size_t PinholeTable::expire(Nanos now) {
  size_t removed = 0;
  for (size_t i = 0; i < slots_.size();) {
    if (slots_[i].used && slots_[i].until <= now) {
      erase_at(i);  // may shift another entry into i: look at i again
      ++removed;
    } else {
      ++i;
    }
  }
  return removed;
}

void PinholeTable::clear() {
  for (Slot& s : slots_) s = Slot{};
  size_ = 0;
}

}  // namespace sipwall
