#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/ip_address.h"
#include "common/time.h"
#include "packet/packet_parser.h"

namespace sipwall {

// Why fragments were dropped. The pipeline counts all of them under DropReason::fragment;
// this finer reason is for fragment statistics.
enum class FragmentDrop : uint8_t {
  none,
  overlap,       // overlaps another fragment (RFC 5722): the whole datagram goes
  duplicate,     // exact copy (same offset, length and bytes) of a held fragment: only it goes
  too_big,       // reassembled size would exceed max_datagram_bytes
  too_many,      // more than max_fragments_per_datagram
  tiny_first,    // first fragment lacks the full header chain / UDP or TCP header
  inconsistent,  // disagrees with the known end (second last fragment, data past the end)
  table_full,    // no free entry for a new datagram: only the new fragment goes
  timeout,       // datagram not complete within the timeout
  flushed,       // drain() at the end of an offline capture
};
inline constexpr size_t kFragmentDropCount = 10;
std::string_view to_string(FragmentDrop why);

struct FragmentConfig {
  uint32_t max_datagrams = 1024;
  uint32_t max_datagram_bytes = 16384 + 64;  // reassembled upper-layer bytes
  uint32_t max_fragments_per_datagram = 64;
  Nanos timeout = 5 * kNanosPerSecond;  // from the datagram's first fragment
  uint64_t hash_seed = 0;               // fixed per table so runs stay deterministic
};

// Reassembles IPv4 and IPv6 fragments so a datagram is judged as a whole, and holds the
// caller's cookie (mbuf pointer, packet index) of every fragment so all of them can be released
// with the datagram's verdict. All memory is allocated in the constructor. Not thread-safe: one
// table per worker. Deterministic: results depend only on the calls and their timestamps.
//
// Sinks are called as sink(FragmentDrop why, std::span<const uint64_t> cookies) for datagrams
// dropped outside add()'s own result; the caller drops those fragments.
//
// Lifetime: spans and the datagram pointer in a Result stay valid until the next call to add(),
// expire() or drain(); spans passed to a sink only during that sink call. A completed or dropped
// datagram's entry is already released when add() returns, and its buffer is recycled, not
// freed: in ASan builds the memory a Result or a sink was shown is poisoned when that lifetime
// ends, so a view kept too long is reported (use-after-poison) instead of reading another
// datagram's bytes.
class FragmentTable {
 public:
  enum class Status : uint8_t { held, complete, dropped };
  struct Result {
    Status status = Status::held;
    FragmentDrop why = FragmentDrop::none;  // dropped only
    // complete: every fragment of the datagram, this one included, in arrival order.
    // dropped: every fragment dropped by this call: this one, plus the held fragments when the
    // whole datagram is discarded (overlap, too_big, too_many, tiny_first, inconsistent).
    std::span<const uint64_t> cookies;
    // complete only: L2/L3 from the first fragment, L4 parsed from the reassembled bytes
    // (reassembled = true, frag.is_fragment = false).
    const ParsedPacket* datagram = nullptr;
    // complete only: the L4 parse of the reassembled bytes (e.g. malformed_l4 for a bad UDP
    // length); the caller drops all cookies under that reason if it is not ok.
    ParseStatus datagram_status = ParseStatus::ok;
  };

  explicit FragmentTable(const FragmentConfig& cfg = {});
  ~FragmentTable();
  FragmentTable(const FragmentTable&) = delete;  // megabytes of buffers; and see Lifetime
  FragmentTable& operator=(const FragmentTable&) = delete;

  // `fragment` must come from parse_packet() with frag.is_fragment set. Datagrams past their
  // timeout are expired first (reported to on_expired as FragmentDrop::timeout), so a stale
  // datagram is never completed and its entry can be reused.
  template <class Sink>
  Result add(const ParsedPacket& fragment, uint64_t cookie, Nanos now, Sink&& on_expired) {
    expire(now, on_expired);  // ends the previous Result's lifetime
    return insert(fragment, cookie);
  }

  // Drops datagrams whose first fragment is older than the timeout. Call between bursts.
  template <class Sink>
  void expire(Nanos now, Sink&& sink) {
    retire_result();
    advance_clock(now);
    for (uint32_t e = oldest_expired(); e != kNone; e = oldest_expired()) {
      report_and_release(e, FragmentDrop::timeout, sink);
    }
  }

  // Drops everything held (end of an offline capture), oldest first.
  template <class Sink>
  void drain(Sink&& sink) {
    retire_result();
    while (head_ != kNone) report_and_release(head_, FragmentDrop::flushed, sink);
  }

  // Forgets every datagram without reporting it and restarts the clock: the table is as
  // constructed, without allocating (a fuzzer reuses one table across inputs this way).
  void reset();

  // Datagrams in the table, including ones kept only to drop their late fragments.
  size_t in_use() const { return in_use_; }
  size_t capacity() const { return entries_.size(); }
  const FragmentConfig& config() const { return cfg_; }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  struct Key {
    IpAddress src, dst;  // family is part of the address
    uint32_t id = 0;
    uint8_t proto = 0;  // IPv4 only; IPv6 keys on (src, dst, id)
    bool operator==(const Key&) const = default;
  };
  struct Piece {
    uint32_t offset, length;
  };
  struct Entry {
    Key key;
    uint64_t hash = 0;
    Nanos created = 0;
    uint32_t prev = kNone, next = kNone;  // age list, oldest at head_
    uint32_t count = 0;                   // fragments held
    uint32_t received = 0;                // bytes held
    uint32_t max_end = 0;
    uint32_t total = 0;  // valid once has_last
    bool has_first = false, has_last = false;
    // Set once the datagram was discarded: later fragments are dropped on arrival with this
    // reason until the entry times out (RFC 5722: "including those not yet received").
    FragmentDrop poisoned = FragmentDrop::none;
    ParsedPacket first;  // the offset-0 fragment's parse (spans cleared)
  };

  Result insert(const ParsedPacket& fragment, uint64_t cookie);
  Result discard(uint32_t e, FragmentDrop why, uint64_t cookie);
  Result drop_single(FragmentDrop why, uint64_t cookie);
  Result complete(uint32_t e);

  template <class Sink>
  void report_and_release(uint32_t e, FragmentDrop why, Sink& sink) {
    const auto held = cookies_of(e);
    if (!held.empty()) sink(why, held);
    release(e);
    poison_entry(e);
  }

  // ASan builds: poisons what the last Result showed (a released entry's buffer and cookies,
  // the datagram, a discarded entry's cookies, the single cookie); no-ops otherwise.
  void retire_result();
  void poison_entry(uint32_t e);
  void unpoison_entry(uint32_t e);

  void advance_clock(Nanos now) { clock_ = now > clock_ ? now : clock_; }
  uint32_t oldest_expired() const;
  std::span<const uint64_t> cookies_of(uint32_t e) const;
  uint64_t hash_key(const Key& k) const;
  uint32_t find(const Key& k, uint64_t h) const;
  uint32_t allocate(const Key& k, uint64_t h);
  void release(uint32_t e);
  void unlink_slot(uint32_t e);

  // Buffers are 8-octet aligned (stride_) so ASan can poison exactly one entry's buffer.
  uint8_t* buffer_of(uint32_t e) { return &buffers_[size_t{e} * stride_]; }
  uint64_t* cookie_slots(uint32_t e) {
    return &cookies_[size_t{e} * (cfg_.max_fragments_per_datagram + 1)];
  }
  Piece* pieces_of(uint32_t e) { return &pieces_[size_t{e} * cfg_.max_fragments_per_datagram]; }

  FragmentConfig cfg_;
  size_t stride_;  // max_datagram_bytes rounded up to 8
  std::vector<Entry> entries_;
  std::vector<uint8_t> buffers_;   // max_datagrams x stride_
  std::vector<uint64_t> cookies_;  // max_datagrams x (max_fragments + 1): room for the dropper
  std::vector<Piece> pieces_;      // max_datagrams x max_fragments
  std::vector<uint32_t> free_;     // stack of free entry indices
  std::vector<uint32_t> slots_;    // open addressing, linear probing; kNone = empty
  uint64_t slot_mask_ = 0;
  uint32_t head_ = kNone, tail_ = kNone;
  size_t in_use_ = 0;
  Nanos clock_ = 0;  // max timestamp seen, so out-of-order capture times keep the list ordered
  uint64_t single_cookie_ = 0;
  ParsedPacket datagram_;
  // What the last Result showed, for retire_result(): a released entry (complete) or a
  // discarded one whose cookies it listed, and whether it showed single_cookie_ / datagram_.
  uint32_t shown_released_ = kNone;
  uint32_t shown_discarded_ = kNone;
  bool shown_single_ = false;
  bool shown_datagram_ = false;
};

}  // namespace sipwall
