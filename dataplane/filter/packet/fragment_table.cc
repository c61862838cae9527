#include "packet/fragment_table.h"

#include <algorithm>
#include <cstring>

#include "common/sanitizer.h"

namespace sipwall {

std::string_view to_string(FragmentDrop why) {
  switch (why) {
    case FragmentDrop::none:
      return "none";
    case FragmentDrop::overlap:
      return "overlap";
    case FragmentDrop::duplicate:
      return "duplicate";
    case FragmentDrop::too_big:
      return "too_big";
    case FragmentDrop::too_many:
      return "too_many";
    case FragmentDrop::tiny_first:
      return "tiny_first";
    case FragmentDrop::inconsistent:
      return "inconsistent";
    case FragmentDrop::table_full:
      return "table_full";
    case FragmentDrop::timeout:
      return "timeout";
    case FragmentDrop::flushed:
      return "flushed";
  }
  return "unknown";
}

namespace {

FragmentConfig sanitized(FragmentConfig cfg) {
  cfg.max_datagrams = std::max<uint32_t>(cfg.max_datagrams, 1);
  cfg.max_datagram_bytes = std::max<uint32_t>(cfg.max_datagram_bytes, 1);
  cfg.max_fragments_per_datagram = std::max<uint32_t>(cfg.max_fragments_per_datagram, 1);
  return cfg;
}

uint64_t slot_count(uint32_t max_datagrams) {
  uint64_t n = 1;
  while (n < uint64_t{max_datagrams} * 2) n <<= 1;  // load factor <= 1/2 keeps probes short
  return n;
}

}  // namespace

FragmentTable::FragmentTable(const FragmentConfig& cfg)
    : cfg_(sanitized(cfg)),
      stride_((size_t{cfg_.max_datagram_bytes} + 7) / 8 * 8),
      entries_(cfg_.max_datagrams),
      buffers_(size_t{cfg_.max_datagrams} * stride_),
      cookies_(size_t{cfg_.max_datagrams} * (cfg_.max_fragments_per_datagram + 1)),
      pieces_(size_t{cfg_.max_datagrams} * cfg_.max_fragments_per_datagram),
      slots_(slot_count(cfg_.max_datagrams), kNone),
      slot_mask_(slots_.size() - 1) {
  free_.reserve(cfg_.max_datagrams);
  reset();
  asan_poison(&datagram_, sizeof datagram_);
  asan_poison(&single_cookie_, sizeof single_cookie_);
}

void FragmentTable::reset() {
  retire_result();
  free_.clear();
  for (uint32_t e = cfg_.max_datagrams; e-- > 0;) {
    entries_[e] = Entry{};
    free_.push_back(e);  // entry 0 is used first
    poison_entry(e);
  }
  std::fill(slots_.begin(), slots_.end(), kNone);
  head_ = tail_ = kNone;
  in_use_ = 0;
  clock_ = 0;
}

FragmentTable::~FragmentTable() {
  // The vectors' memory goes back to the allocator as it was handed out.
  asan_unpoison(buffers_.data(), buffers_.size());
  asan_unpoison(cookies_.data(), cookies_.size() * sizeof(uint64_t));
  asan_unpoison(&datagram_, sizeof datagram_);
  asan_unpoison(&single_cookie_, sizeof single_cookie_);
}

void FragmentTable::poison_entry(uint32_t e) {
  asan_poison(buffer_of(e), stride_);
  asan_poison(cookie_slots(e), (cfg_.max_fragments_per_datagram + 1) * sizeof(uint64_t));
}

void FragmentTable::unpoison_entry(uint32_t e) {
  asan_unpoison(buffer_of(e), stride_);
  asan_unpoison(cookie_slots(e), (cfg_.max_fragments_per_datagram + 1) * sizeof(uint64_t));
}

void FragmentTable::retire_result() {
#ifdef SIPWALL_ASAN
  if (shown_released_ != kNone) poison_entry(shown_released_);
  // A discarded entry stays in use (it drops late fragments) with no cookie held: only the
  // cookie slots the Result listed go; insert() unpoisons a slot before writing it.
  if (shown_discarded_ != kNone) {
    asan_poison(cookie_slots(shown_discarded_),
                (cfg_.max_fragments_per_datagram + 1) * sizeof(uint64_t));
  }
  if (shown_datagram_) asan_poison(&datagram_, sizeof datagram_);
  if (shown_single_) asan_poison(&single_cookie_, sizeof single_cookie_);
  shown_released_ = shown_discarded_ = kNone;
  shown_datagram_ = shown_single_ = false;
#endif
}

FragmentTable::Result FragmentTable::insert(const ParsedPacket& f, uint64_t cookie) {
  if (!f.is_ip || !f.frag.is_fragment) return drop_single(FragmentDrop::inconsistent, cookie);
  const Key key{f.src, f.dst, f.frag.id, f.src.is_v4() ? f.frag.next_header : uint8_t{0}};
  const uint64_t h = hash_key(key);
  uint32_t e = find(key, h);
  if (e == kNone) {
    if (free_.empty()) return drop_single(FragmentDrop::table_full, cookie);
    e = allocate(key, h);
  }
  Entry& en = entries_[e];
  if (en.poisoned != FragmentDrop::none) return drop_single(en.poisoned, cookie);

  const auto data = f.fragment_data;
  const uint64_t off = f.frag.offset;
  const uint64_t len = data.size();
  const uint64_t end = off + len;
  const bool last = !f.frag.more;
  if (!last && (len == 0 || len % 8 != 0)) return discard(e, FragmentDrop::inconsistent, cookie);
  if (end > cfg_.max_datagram_bytes) return discard(e, FragmentDrop::too_big, cookie);
  const bool past_end =
      en.has_last ? (end > en.total || (last && end != en.total)) : (last && end < en.max_end);
  if (past_end) return discard(e, FragmentDrop::inconsistent, cookie);
  if (off == 0 && !f.frag.headers_complete) return discard(e, FragmentDrop::tiny_first, cookie);

  Piece* pieces = pieces_of(e);
  uint8_t* buf = buffer_of(e);
  for (uint32_t i = 0; i < en.count; ++i) {
    const Piece& p = pieces[i];
    if (off < uint64_t{p.offset} + p.length && p.offset < end) {
      // Identical bytes are a harmless retransmission; anything else is RFC 5722 overlap.
      if (p.offset == off && p.length == len && std::memcmp(buf + off, data.data(), len) == 0) {
        return drop_single(FragmentDrop::duplicate, cookie);
      }
      return discard(e, FragmentDrop::overlap, cookie);
    }
  }
  if (en.count == cfg_.max_fragments_per_datagram) {
    return discard(e, FragmentDrop::too_many, cookie);
  }

  if (len != 0) std::memcpy(buf + off, data.data(), len);
  pieces[en.count] = {static_cast<uint32_t>(off), static_cast<uint32_t>(len)};
  asan_unpoison(&cookie_slots(e)[en.count], sizeof(uint64_t));
  cookie_slots(e)[en.count] = cookie;
  ++en.count;
  en.received += static_cast<uint32_t>(len);
  en.max_end = std::max(en.max_end, static_cast<uint32_t>(end));
  if (last) {
    en.has_last = true;
    en.total = static_cast<uint32_t>(end);
  }
  if (off == 0) {
    en.has_first = true;
    en.first = f;
    // Only the header fields are kept; the spans point into a packet the caller owns.
    en.first.l3_payload = en.first.l4_payload = en.first.fragment_data = {};
  }
  // No overlaps and nothing past total, so byte count == total means full coverage.
  if (en.has_first && en.has_last && en.received == en.total) return complete(e);
  return Result{};
}

FragmentTable::Result FragmentTable::complete(uint32_t e) {
  const Entry& en = entries_[e];
  const ParsedPacket& first = en.first;
  asan_unpoison(&datagram_, sizeof datagram_);
  datagram_ = ParsedPacket{};
  datagram_.ethertype = first.ethertype;
  datagram_.vlan_count = first.vlan_count;
  datagram_.vlan_tci = first.vlan_tci;
  datagram_.l3_offset = first.l3_offset;
  datagram_.is_ip = true;
  datagram_.reassembled = true;
  datagram_.src = first.src;
  datagram_.dst = first.dst;
  datagram_.ttl = first.ttl;
  // RFC 8200 4.5: the next header of the offset-0 fragment describes the reassembled payload.
  const ParseStatus status =
      parse_upper_layer(en.key.src.family, first.frag.next_header,
                        std::span<const uint8_t>(buffer_of(e), en.total), true, datagram_);
  Result r{Status::complete, FragmentDrop::none, {cookie_slots(e), en.count}, &datagram_, status};
  release(e);  // memory stays intact until the next call, which is all the Result promises
  shown_released_ = e;
  shown_datagram_ = true;
  return r;
}

FragmentTable::Result FragmentTable::discard(uint32_t e, FragmentDrop why, uint64_t cookie) {
  Entry& en = entries_[e];
  uint64_t* held = cookie_slots(e);
  asan_unpoison(&held[en.count], sizeof(uint64_t));
  held[en.count] = cookie;  // the slot array has one spare element for exactly this
  shown_discarded_ = e;
  Result r{Status::dropped, why, {held, en.count + 1}, nullptr, ParseStatus::ok};
  en.poisoned = why;
  en.count = 0;
  en.received = 0;
  return r;
}

FragmentTable::Result FragmentTable::drop_single(FragmentDrop why, uint64_t cookie) {
  asan_unpoison(&single_cookie_, sizeof single_cookie_);
  single_cookie_ = cookie;
  shown_single_ = true;
  return Result{Status::dropped, why, {&single_cookie_, 1}, nullptr, ParseStatus::ok};
}

uint32_t FragmentTable::oldest_expired() const {
  if (head_ == kNone || clock_ - entries_[head_].created < cfg_.timeout) return kNone;
  return head_;
}

std::span<const uint64_t> FragmentTable::cookies_of(uint32_t e) const {
  return {&cookies_[size_t{e} * (cfg_.max_fragments_per_datagram + 1)], entries_[e].count};
}

uint64_t FragmentTable::hash_key(const Key& k) const {
  uint64_t h = cfg_.hash_seed ^ 0x9E3779B97F4A7C15ULL;
  const auto mix = [&h](uint64_t w) {
    h ^= w;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
  };
  for (const IpAddress* a : {&k.src, &k.dst}) {
    uint64_t w[2];
    std::memcpy(w, a->bytes.data(), sizeof w);
    mix(w[0]);
    mix(w[1]);
  }
  mix(uint64_t{k.id} | (uint64_t{k.proto} << 32) | (uint64_t{k.src.is_v4()} << 40));
  return h;
}

uint32_t FragmentTable::find(const Key& k, uint64_t h) const {
  for (uint64_t i = h & slot_mask_;; i = (i + 1) & slot_mask_) {
    const uint32_t e = slots_[i];
    if (e == kNone) return kNone;
    if (entries_[e].hash == h && entries_[e].key == k) return e;
  }
}

uint32_t FragmentTable::allocate(const Key& k, uint64_t h) {
  const uint32_t e = free_.back();
  free_.pop_back();
  Entry& en = entries_[e];
  en = Entry{};
  unpoison_entry(e);
  en.key = k;
  en.hash = h;
  en.created = clock_;
  en.prev = tail_;
  if (tail_ != kNone) {
    entries_[tail_].next = e;
  } else {
    head_ = e;
  }
  tail_ = e;
  uint64_t i = h & slot_mask_;
  while (slots_[i] != kNone) i = (i + 1) & slot_mask_;
  slots_[i] = e;
  ++in_use_;
  return e;
}

void FragmentTable::release(uint32_t e) {
  Entry& en = entries_[e];
  (en.prev != kNone ? entries_[en.prev].next : head_) = en.next;
  (en.next != kNone ? entries_[en.next].prev : tail_) = en.prev;
  unlink_slot(e);
  free_.push_back(e);  // never reallocates: reserved for every entry
  --in_use_;
}

void FragmentTable::unlink_slot(uint32_t e) {
  uint64_t i = entries_[e].hash & slot_mask_;
  while (slots_[i] != e) i = (i + 1) & slot_mask_;
  // Backward-shift deletion: pull later members of the probe run into the hole, no tombstones.
  for (uint64_t j = (i + 1) & slot_mask_; slots_[j] != kNone; j = (j + 1) & slot_mask_) {
    const uint64_t home = entries_[slots_[j]].hash & slot_mask_;
    if (((j - home) & slot_mask_) >= ((j - i) & slot_mask_)) {
      slots_[i] = slots_[j];
      i = j;
    }
  }
  slots_[i] = kNone;
}

}  // namespace sipwall
