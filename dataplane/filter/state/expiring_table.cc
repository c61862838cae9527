#include "state/expiring_table.h"

#include <algorithm>
#include <bit>

namespace sipwall {

ExpiringTable::ExpiringTable(size_t capacity, uint64_t hash_seed, Identity identity,
                             size_t max_per_key)
    : hash_(hash_seed),
      identity_(identity),
      // Entry positions are 32-bit; the slot index stores position + 1.
      capacity_(std::clamp<size_t>(capacity, 1, size_t{1} << 30)),
      max_per_key_(max_per_key),
      slot_mask_(std::bit_ceil(capacity_ * 2) - 1),
      free_top_(capacity_),
      entries_(std::make_unique<TableEntry[]>(capacity_)),
      free_(std::make_unique<uint32_t[]>(capacity_)),
      slots_(std::make_unique<Slot[]>(slot_mask_ + 1)),
      links_(std::make_unique<Link[]>(capacity_)) {
  owned_.fill(kNoHandle);
  // A stack: the lowest positions are handed out first.
  for (size_t i = 0; i < capacity_; ++i) free_[i] = static_cast<uint32_t>(capacity_ - 1 - i);
}

ExpiringTable::~ExpiringTable() = default;

void ExpiringTable::set_remove_hook(RemoveHook hook, void* context) {
  hook_ = hook;
  hook_context_ = context;
}

uint32_t ExpiringTable::hash(const TableKey& key) const {
  return static_cast<uint32_t>(hash_(key.lo, key.hi, key.extra) >> 32);
}

size_t ExpiringTable::find_slot(const TableKey& key, uint32_t h, const EntryId& id) const {
  for (size_t i = h & slot_mask_; slots_[i].index != 0; i = (i + 1) & slot_mask_) {
    if (slots_[i].hash != h) continue;
    const TableEntry& e = entries_[slots_[i].index - 1];
    if (e.key == key && (identity_ == Identity::key || e.id == id)) return i;
  }
  return slot_mask_ + 1;
}

ExpiringTable::Upsert ExpiringTable::upsert(const TableEntry& entry, Nanos now) {
  const uint32_t h = hash(entry.key);
  size_t live_same_key = 0;
  size_t i = h & slot_mask_;
  for (; slots_[i].index != 0; i = (i + 1) & slot_mask_) {
    if (slots_[i].hash != h) continue;
    const Handle at = slots_[i].index - 1;
    TableEntry& e = entries_[at];
    if (!(e.key == entry.key)) continue;
    if (identity_ == Identity::key_and_id && !(e.id == entry.id)) {
      if (now < e.until) ++live_same_key;
      continue;
    }
    if (e.until <= now) {  // expired, not reclaimed yet: a new entry in the same place
      if (hook_) hook_(hook_context_, e);
      unlink(at, e.owner);
      e = entry;
      e.hits = 0;
      link(at, e.owner);
      return {Outcome::added, at};
    }
    const Outcome o = entry.until > e.until ? Outcome::extended : Outcome::exists;
    e.until = std::max(e.until, entry.until);
    if (outranks_or_equal(entry.owner, e.owner)) {
      if (entry.owner != e.owner) {
        unlink(at, e.owner);
        link(at, entry.owner);
      }
      e.owner = entry.owner;
      if (identity_ == Identity::key && !entry.id.empty()) {
        e.id = entry.id;
        e.label = entry.label;  // the label belongs to the id
      }
      e.has_src = entry.has_src;
      e.src = entry.src;
    }
    return {o, at};
  }
  // `i` is the empty slot that ends the probe run: the new entry goes there.
  if (size_ == capacity_ || (max_per_key_ != 0 && live_same_key >= max_per_key_)) {
    ++full_rejections_;
    return {Outcome::full, kNoHandle};
  }
  const uint32_t at = free_[--free_top_];
  entries_[at] = entry;
  entries_[at].hits = 0;
  link(at, entry.owner);
  slots_[i] = Slot{h, at + 1};
  ++size_;
  return {Outcome::added, at};
}

Outcome ExpiringTable::erase(const TableKey& key, const EntryId& id, Nanos now) {
  const size_t slot = find_slot(key, hash(key), id);
  if (slot > slot_mask_) return Outcome::not_found;
  const bool live = now < entries_[slots_[slot].index - 1].until;
  erase_slot(slot);
  return live ? Outcome::removed : Outcome::not_found;
}

size_t ExpiringTable::erase_owned(std::optional<Owner> owner) {
  size_t removed = 0;
  for (size_t o = 0; o < kOwnerCount; ++o) {
    if (owner && static_cast<size_t>(*owner) != o) continue;
    while (owned_[o] != kNoHandle) {  // erase_slot() unlinks the head
      const TableEntry& e = entries_[owned_[o]];
      erase_slot(find_slot(e.key, hash(e.key), e.id));
      ++removed;
    }
  }
  return removed;
}

void ExpiringTable::link(uint32_t at, Owner owner) {
  uint32_t& head = owned_[static_cast<size_t>(owner)];
  links_[at] = Link{kNoHandle, head};
  if (head != kNoHandle) links_[head].prev = at;
  head = at;
}

void ExpiringTable::unlink(uint32_t at, Owner owner) {
  const Link l = links_[at];
  if (l.prev != kNoHandle) {
    links_[l.prev].next = l.next;
  } else {
    owned_[static_cast<size_t>(owner)] = l.next;
  }
  if (l.next != kNoHandle) links_[l.next].prev = l.prev;
  links_[at] = Link{};
}

size_t ExpiringTable::expire_some(Nanos now, size_t budget) {
  // Called between every two bursts: an empty table (the usual case for pinholes and trust)
  // must cost nothing, not `budget` entry reads (they cost mix (a) ~45 ns per RTP packet).
  if (size_ == 0) return 0;
  size_t removed = 0;
  for (size_t n = std::min(budget, capacity_); n > 0; --n) {
    const TableEntry& e = entries_[cursor_];
    if (e.key.extra != 0 && e.until <= now) {
      erase_slot(find_slot(e.key, hash(e.key), e.id));
      ++removed;
    }
    cursor_ = cursor_ + 1 == capacity_ ? 0 : cursor_ + 1;
  }
  return removed;
}

void ExpiringTable::erase_slot(size_t slot) {
  const uint32_t at = slots_[slot].index - 1;
  if (hook_) hook_(hook_context_, entries_[at]);
  unlink(at, entries_[at].owner);
  entries_[at] = TableEntry{};
  free_[free_top_++] = at;
  --size_;
  // Backward shift: pull later members of the probe run into the hole when their home slot
  // allows it, so lookups never need tombstones.
  size_t hole = slot;
  for (size_t j = (hole + 1) & slot_mask_; slots_[j].index != 0; j = (j + 1) & slot_mask_) {
    const size_t home = slots_[j].hash & slot_mask_;
    // Movable when home is not cyclically within (hole, j].
    const bool home_after_hole = ((home - hole - 1) & slot_mask_) < ((j - hole) & slot_mask_);
    if (!home_after_hole) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
}

}  // namespace sipwall
