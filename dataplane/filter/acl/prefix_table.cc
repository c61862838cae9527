#include "acl/prefix_table.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <tuple>

namespace sipwall {

namespace {

constexpr uint32_t kNone = 0;
constexpr uint32_t encode_entry(size_t index) {
  return static_cast<uint32_t>(index + 1);
}

std::string describe(const IpPrefix& p) {
  return p.to_string();
}

// Not std::numeric_limits: it has no unsigned __int128 specialisation in strict C++ modes.
template <typename Key>
constexpr Key kMaxKey = static_cast<Key>(~Key{0});
template <typename Key>
constexpr unsigned kKeyBits = sizeof(Key) * 8;

}  // namespace

// Turns one family's prefixes into disjoint intervals (see the class comment).
template <typename Key>
struct PrefixFlattener {
  struct Range {
    Key first;
    Key last;
    uint32_t entry;  // kNone or encode_entry(index)
  };

  static void run(std::vector<Range> ranges, PrefixTable::Intervals<Key>& out) {
    // Outer prefixes before the inner ones that share their start.
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
      return a.first != b.first ? a.first < b.first : a.last > b.last;
    });
    PrefixFlattener f{out};
    std::vector<Range> open;  // the chain of prefixes enclosing the current position
    for (const Range& r : ranges) {
      while (!open.empty() && open.back().last < r.first) {
        f.emit(open.back().last, open.back().entry);
        open.pop_back();
      }
      if (r.first > f.pos) f.emit(r.first - 1, open.empty() ? kNone : open.back().entry);
      open.push_back(r);  // prefixes nest or are disjoint, so r lies inside open.back()
    }
    while (!open.empty()) {
      f.emit(open.back().last, open.back().entry);
      open.pop_back();
    }
    f.emit(kMaxKey<Key>, kNone);
  }

  // Covers [pos, last] with `entry`, merging with the previous interval when equal.
  void emit(Key last, uint32_t entry) {
    if (done || last < pos) return;
    if (out.entry.empty() || out.entry.back() != entry) {
      out.starts.push_back(pos);
      out.entry.push_back(entry);
    }
    if (last == kMaxKey<Key>) {
      done = true;
    } else {
      pos = last + 1;
    }
  }

  PrefixTable::Intervals<Key>& out;
  Key pos = 0;
  bool done = false;
};

template <typename Key>
uint32_t PrefixTable::find(const Intervals<Key>& in, Key k) {
  if (in.starts.empty()) return kNone;
  // Branch-free search for the last start <= k (starts[0] == 0, so there is one): the
  // compiler turns the select into a conditional move, with no mispredicted branches.
  const Key* base = in.starts.data();
  for (size_t n = in.starts.size(); n > 1;) {
    const size_t half = n / 2;
    base = base[half] <= k ? base + half : base;
    n -= half;
  }
  return in.entry[static_cast<size_t>(base - in.starts.data())];
}

namespace {

template <typename Key>
Key host_mask(unsigned length) {
  return length >= kKeyBits<Key> ? Key{0} : static_cast<Key>(~Key{0} >> length);
}

template <typename Key>
Key to_key(const IpAddress& a) {
  Key k = 0;
  const unsigned n = a.is_v4() ? 4 : 16;
  for (unsigned i = 0; i < n; ++i) k = static_cast<Key>((k << 8) | a.bytes[i]);
  return k;
}

}  // namespace

Result<PrefixTable> PrefixTable::build(std::span<const AclEntry> entries) {
  // Normalise, then find duplicates by sorting entry indexes by (family, address, length).
  std::vector<IpPrefix> prefixes;
  prefixes.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const IpPrefix& p = entries[i].prefix;
    if (p.length > p.address.bit_width()) {
      return Result<PrefixTable>::failure("ACL entry " + std::to_string(i) + ": prefix length " +
                                          std::to_string(p.length) + " is longer than the address");
    }
    prefixes.push_back(IpPrefix{p.address.masked(p.length), p.length});
  }
  std::vector<size_t> order(entries.size());
  std::iota(order.begin(), order.end(), size_t{0});
  const auto rank = [&](size_t i) {
    const IpPrefix& p = prefixes[i];
    return std::tuple(p.address.family, p.address.bytes, p.length);
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rank(a) < rank(b); });
  for (size_t n = 1; n < order.size(); ++n) {
    const size_t a = order[n - 1], b = order[n];
    if (prefixes[a] != prefixes[b]) continue;
    const std::string where = " (entries " + std::to_string(std::min(a, b)) + " and " +
                              std::to_string(std::max(a, b)) + ")";
    if (entries[a].action == entries[b].action) {
      return Result<PrefixTable>::failure("duplicate ACL prefix " + describe(prefixes[a]) + where);
    }
    return Result<PrefixTable>::failure("ACL prefix " + describe(prefixes[a]) +
                                        " is listed as both allow and deny" + where);
  }

  std::vector<PrefixFlattener<uint32_t>::Range> v4;
  std::vector<PrefixFlattener<Uint128>::Range> v6;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    const IpPrefix& p = prefixes[i];
    const uint32_t entry = encode_entry(i);
    if (p.address.is_v4()) {
      const uint32_t first = to_key<uint32_t>(p.address);
      v4.push_back({first, first | host_mask<uint32_t>(p.length), entry});
    } else {
      const Uint128 first = to_key<Uint128>(p.address);
      v6.push_back({first, first | host_mask<Uint128>(p.length), entry});
    }
  }
  PrefixTable table;
  PrefixFlattener<uint32_t>::run(std::move(v4), table.v4_);
  PrefixFlattener<Uint128>::run(std::move(v6), table.v6_);
  table.entry_count_ = entries.size();
  for (const AclEntry& e : entries) table.actions_.push_back(e.action);
  return table;
}

std::optional<PrefixTable::Match> PrefixTable::search(const IpAddress& address) const {
  const uint32_t e =
      address.is_v4() ? find(v4_, to_key<uint32_t>(address)) : find(v6_, to_key<Uint128>(address));
  if (e == kNone) return std::nullopt;
  return Match{actions_[e - 1], e - 1};
}

std::optional<AclAction> PrefixTable::lookup(const IpAddress& address) const {
  const auto m = match(address);
  if (!m) return std::nullopt;
  return m->action;
}

}  // namespace sipwall
