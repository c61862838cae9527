#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "common/ip_address.h"
#include "common/keyed_hash.h"
#include "common/time.h"
#include "state/ban_labels.h"
#include "state/entry_id.h"
#include "state/outcome.h"
#include "state/owner.h"

namespace sipwall {

// The hashed part of an entry's identity: two address words (memory byte order) and 32 bits
// for the rest (prefix length, family, port). extra == 0 marks a free entry, so encoders set a
// constant bit in it.
struct TableKey {
  uint64_t lo = 0;
  uint64_t hi = 0;
  uint32_t extra = 0;
  bool operator==(const TableKey&) const = default;
};

// One dynamic entry: a ban, a trusted source or a pinhole reference.
struct TableEntry {
  TableKey key;
  Nanos until = 0;  // live while now < until (absolute, the dataplane's clock)
  EntryId id;       // a ban's or trust entry's id; a pinhole reference's call
  Owner owner = Owner::operator_;
  bool has_src = false;             // pinholes: only sources inside `src` are admitted
  BanLabel label = kOtherBanLabel;  // bans: the metric series its drops count in (with `id`)
  IpPrefix src;
  uint64_t hits = 0;  // packets this entry decided (bans), kept by the owning worker
};

// The one expiring-table design behind bans, trusted sources and pinholes.
//
// Fixed capacity: every array is allocated in the constructor, nothing after. Entries live in
// a dense array at stable positions (a Handle stays valid until that entry is removed); an
// index of 2 x capacity (rounded up to a power of two) slots maps key hashes to them with
// linear probing and backward-shift deletion (no tombstones, so lookups never degrade).
// The hash is keyed with a per-process seed (FilterConfig::hash_seed, random in live runs):
// pinhole keys come from SDP that attackers write, and a predictable hash would let them build
// long probe runs.
//
// Identity::key: one entry per key (bans, trust). Identity::key_and_id: several entries may
// share a key if their ids differ (pinhole references, one per call); they hash alike, so all
// references of a key sit in one probe run and a lookup walks them together.
//
// Expiry is incremental: expire_some() visits at most `budget` entry positions from a cursor
// that wraps around, so each call costs a bounded amount and a whole pass takes
// capacity / budget calls. Expired entries that were not reclaimed yet never match (lookups
// compare until with now) and are replaced in place by a new add of the same key.
//
// Single writer, not thread-safe: a worker owns its table and changes it between bursts.
class ExpiringTable {
 public:
  using Handle = uint32_t;
  static constexpr Handle kNoHandle = UINT32_MAX;
  enum class Identity : uint8_t { key, key_and_id };
  // Called with every entry removed (erase, flush, expiry), before its position is reused.
  using RemoveHook = void (*)(void* context, const TableEntry& removed);

  // `max_per_key` bounds the entries sharing one key (Identity::key_and_id; 0: no bound).
  ExpiringTable(size_t capacity, uint64_t hash_seed, Identity identity, size_t max_per_key = 0);
  ~ExpiringTable();
  ExpiringTable(const ExpiringTable&) = delete;
  ExpiringTable& operator=(const ExpiringTable&) = delete;

  void set_remove_hook(RemoveHook hook, void* context);

  struct Upsert {
    Outcome outcome;  // added, extended, exists or full
    Handle handle;    // the entry (kNoHandle when full)
  };
  // Adds `entry`, or merges it into the live entry with the same identity: the expiry becomes
  // the later of the two, the owner the more authoritative (rules > operator > control), and
  // the id and source restriction follow the new entry when its owner outranks or equals the
  // stored one. A stored entry that has expired (until <= now) is replaced as if absent.
  Upsert upsert(const TableEntry& entry, Nanos now);

  // Removes the entry with this identity (`id` is ignored for Identity::key). removed, or
  // not_found when there is none or it had expired (it is reclaimed all the same).
  Outcome erase(const TableKey& key, const EntryId& id, Nanos now);

  // Removes every entry of `owner` (nullopt: every entry); returns how many. Entries are
  // chained per owner, so the work is proportional to the entries removed, not the capacity:
  // flushing or syncing a small owner on a large, mostly empty table costs next to nothing.
  size_t erase_owned(std::optional<Owner> owner);

  // Reclaims expired entries among the next `budget` positions of the cursor; returns how many.
  size_t expire_some(Nanos now, size_t budget);

  // The first live entry with `key` that `accept(const TableEntry&)` accepts, or kNoHandle.
  template <typename Accept>
  Handle find_live(const TableKey& key, Nanos now, Accept&& accept) const;
  Handle find_live(const TableKey& key, Nanos now) const {
    return find_live(key, now, [](const TableEntry&) { return true; });
  }

  // Every stored entry, live or expired-but-not-reclaimed: f(Handle, const TableEntry&).
  template <typename F>
  void for_each(F&& f) const;

  const TableEntry& entry(Handle h) const { return entries_[h]; }
  TableEntry& entry(Handle h) { return entries_[h]; }
  uint32_t hash(const TableKey& key) const;

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  uint64_t full_rejections() const { return full_rejections_; }

 private:
  struct Slot {
    uint32_t hash = 0;
    uint32_t index = 0;  // entry position + 1; 0: empty
  };
  // Per-owner doubly linked list of entry positions (kNoHandle ends it).
  struct Link {
    uint32_t prev = kNoHandle;
    uint32_t next = kNoHandle;
  };

  // The slot holding this exact identity, or slot_mask_ + 1.
  size_t find_slot(const TableKey& key, uint32_t h, const EntryId& id) const;
  void erase_slot(size_t slot);  // frees the entry and backward-shifts the probe run
  void link(uint32_t at, Owner owner);
  void unlink(uint32_t at, Owner owner);

  KeyHash hash_;
  Identity identity_;
  size_t capacity_;
  size_t max_per_key_;
  size_t slot_mask_;
  size_t size_ = 0;
  size_t free_top_;  // free_[0, free_top_) are free entry positions
  size_t cursor_ = 0;
  uint64_t full_rejections_ = 0;
  RemoveHook hook_ = nullptr;
  void* hook_context_ = nullptr;
  std::unique_ptr<TableEntry[]> entries_;
  std::unique_ptr<uint32_t[]> free_;
  std::unique_ptr<Slot[]> slots_;
  std::unique_ptr<Link[]> links_;
  std::array<uint32_t, kOwnerCount> owned_;  // first entry of each owner's list
};

template <typename Accept>
ExpiringTable::Handle ExpiringTable::find_live(const TableKey& key, Nanos now,
                                               Accept&& accept) const {
  const uint32_t h = hash(key);
  for (size_t i = h & slot_mask_; slots_[i].index != 0; i = (i + 1) & slot_mask_) {
    if (slots_[i].hash != h) continue;
    const TableEntry& e = entries_[slots_[i].index - 1];
    if (e.key == key && now < e.until && accept(e)) return slots_[i].index - 1;
  }
  return kNoHandle;
}

template <typename F>
void ExpiringTable::for_each(F&& f) const {
  for (size_t i = 0; i < capacity_; ++i) {
    if (entries_[i].key.extra != 0) f(static_cast<Handle>(i), entries_[i]);
  }
}

}  // namespace sipwall
