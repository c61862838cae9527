#include "acl/prefix_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace sipwall {
namespace {

IpAddress addr(const char* text) {
  return *IpAddress::parse(text);
}
AclEntry allow(const char* prefix) {
  return {*IpPrefix::parse(prefix), AclAction::allow};
}
AclEntry deny(const char* prefix) {
  return {*IpPrefix::parse(prefix), AclAction::deny};
}

PrefixTable build(std::vector<AclEntry> entries) {
  Result<PrefixTable> r = PrefixTable::build(entries);
  EXPECT_TRUE(r.ok()) << r.error();
  return std::move(r).value();
}

std::optional<AclAction> at(const PrefixTable& t, const char* address) {
  return t.lookup(addr(address));
}

constexpr std::optional<AclAction> kAllow = AclAction::allow;
constexpr std::optional<AclAction> kDeny = AclAction::deny;
constexpr std::optional<AclAction> kNone = std::nullopt;

TEST(PrefixTable, EmptyMatchesNothing) {
  const PrefixTable def;
  EXPECT_EQ(at(def, "192.0.2.1"), kNone);
  EXPECT_EQ(at(def, "::1"), kNone);
  const PrefixTable built = build({});
  EXPECT_EQ(at(built, "0.0.0.0"), kNone);
  EXPECT_EQ(at(built, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), kNone);
}

TEST(PrefixTable, LongestNestedPrefixWins) {
  const PrefixTable t =
      build({deny("10.0.0.0/8"), allow("10.1.0.0/16"), deny("10.1.2.0/24"), allow("10.1.2.3/32")});
  EXPECT_EQ(at(t, "9.255.255.255"), kNone);
  EXPECT_EQ(at(t, "10.0.0.0"), kDeny);
  EXPECT_EQ(at(t, "10.0.255.255"), kDeny);
  EXPECT_EQ(at(t, "10.1.0.0"), kAllow);
  EXPECT_EQ(at(t, "10.1.1.255"), kAllow);
  EXPECT_EQ(at(t, "10.1.2.0"), kDeny);
  EXPECT_EQ(at(t, "10.1.2.2"), kDeny);
  EXPECT_EQ(at(t, "10.1.2.3"), kAllow);
  EXPECT_EQ(at(t, "10.1.2.4"), kDeny);
  EXPECT_EQ(at(t, "10.1.3.0"), kAllow);
  EXPECT_EQ(at(t, "10.2.0.0"), kDeny);
  EXPECT_EQ(at(t, "10.255.255.255"), kDeny);
  EXPECT_EQ(at(t, "11.0.0.0"), kNone);
  EXPECT_EQ(t.entry_count(), 4u);
}

TEST(PrefixTable, DefaultRoutesAndHostRoutesAtTheEdges) {
  const PrefixTable t =
      build({deny("0.0.0.0/0"), allow("0.0.0.0/32"), allow("255.255.255.255/32"), allow("::/0"),
             deny("::/128"), deny("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")});
  EXPECT_EQ(at(t, "0.0.0.0"), kAllow);
  EXPECT_EQ(at(t, "0.0.0.1"), kDeny);
  EXPECT_EQ(at(t, "255.255.255.254"), kDeny);
  EXPECT_EQ(at(t, "255.255.255.255"), kAllow);
  EXPECT_EQ(at(t, "::"), kDeny);
  EXPECT_EQ(at(t, "::1"), kAllow);
  EXPECT_EQ(at(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), kAllow);
  EXPECT_EQ(at(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), kDeny);
}

TEST(PrefixTable, FamiliesAreIsolated) {
  const PrefixTable v4_only = build({deny("0.0.0.0/0")});
  EXPECT_EQ(at(v4_only, "::"), kNone);
  EXPECT_EQ(at(v4_only, "::ffff:192.0.2.1"), kNone);
  EXPECT_EQ(at(v4_only, "2001:db8::1"), kNone);
  const PrefixTable v6_only = build({deny("::/0"), allow("c000:200::/24")});
  EXPECT_EQ(at(v6_only, "192.0.2.1"), kNone);  // same leading bytes, other family
  EXPECT_EQ(at(v6_only, "c000:201::"), kAllow);
}

TEST(PrefixTable, AdjacentRangesStayApartOrMerge) {
  const PrefixTable split = build({allow("192.0.2.0/25"), deny("192.0.2.128/25")});
  EXPECT_EQ(at(split, "192.0.1.255"), kNone);
  EXPECT_EQ(at(split, "192.0.2.127"), kAllow);
  EXPECT_EQ(at(split, "192.0.2.128"), kDeny);
  EXPECT_EQ(at(split, "192.0.2.255"), kDeny);
  EXPECT_EQ(at(split, "192.0.3.0"), kNone);
  const PrefixTable merged = build({allow("192.0.2.0/25"), allow("192.0.2.128/25")});
  EXPECT_EQ(at(merged, "192.0.2.127"), kAllow);
  EXPECT_EQ(at(merged, "192.0.2.128"), kAllow);
  // Each interval names its entry, so two entries stay two intervals even with one action.
  EXPECT_EQ(merged.interval_count(), split.interval_count());
  EXPECT_EQ(merged.match(*IpAddress::parse("192.0.2.127"))->entry, 0u);
  EXPECT_EQ(merged.match(*IpAddress::parse("192.0.2.128"))->entry, 1u);
}

TEST(PrefixTable, MatchNamesTheLongestPrefixEntry) {
  const PrefixTable t = build(
      {deny("10.0.0.0/8"), allow("10.1.0.0/16"), deny("10.1.2.0/24"), allow("2001:db8::/32")});
  const auto at_entry = [&](const char* a) {
    const auto m = t.match(*IpAddress::parse(a));
    return m ? static_cast<int>(m->entry) : -1;
  };
  EXPECT_EQ(at_entry("10.9.9.9"), 0);
  EXPECT_EQ(at_entry("10.1.9.9"), 1);
  EXPECT_EQ(at_entry("10.1.2.3"), 2);
  EXPECT_EQ(at_entry("10.1.3.0"), 1);  // back in the /16 after the /24 ends
  EXPECT_EQ(at_entry("2001:db8:ffff::1"), 3);
  EXPECT_EQ(at_entry("11.0.0.0"), -1);
  EXPECT_EQ(t.match(*IpAddress::parse("10.1.2.3"))->action, AclAction::deny);
}

TEST(PrefixTable, RefusesDuplicatesAndContradictions) {
  const std::vector<AclEntry> dup = {deny("10.0.0.0/8"), allow("10.1.0.0/16"), deny("10.0.0.0/8")};
  const Result<PrefixTable> r1 = PrefixTable::build(dup);
  ASSERT_FALSE(r1.ok());
  EXPECT_EQ(r1.error(), "duplicate ACL prefix 10.0.0.0/8 (entries 0 and 2)");

  const std::vector<AclEntry> both = {allow("2001:db8::/32"), deny("2001:db8::/32")};
  const Result<PrefixTable> r2 = PrefixTable::build(both);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error(),
            "ACL prefix 2001:db8::/32 is listed as both allow and deny (entries 0 and 1)");

  // Host bits are ignored: 10.9.9.9/8 is 10.0.0.0/8.
  const std::vector<AclEntry> unmasked = {deny("10.0.0.0/8"),
                                          {IpPrefix{addr("10.9.9.9"), 8}, AclAction::deny}};
  EXPECT_FALSE(PrefixTable::build(unmasked).ok());

  const std::vector<AclEntry> too_long = {{IpPrefix{addr("10.0.0.0"), 33}, AclAction::deny}};
  const Result<PrefixTable> r3 = PrefixTable::build(too_long);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error(), "ACL entry 0: prefix length 33 is longer than the address");

  // The same length and bits in different families are different prefixes.
  const std::vector<AclEntry> families = {deny("0.0.0.0/0"), allow("::/0")};
  EXPECT_TRUE(PrefixTable::build(families).ok());
}

// ---- brute force against random prefixes ----

__extension__ using U128 = unsigned __int128;

U128 to_u128(const IpAddress& a) {
  U128 v = 0;
  for (int i = 0; i < 16; ++i) v = (v << 8) | a.bytes[static_cast<size_t>(i)];
  return v;
}
IpAddress from_u128(U128 v, IpFamily family) {
  std::array<uint8_t, 16> b{};
  for (int i = 15; i >= 0; --i, v >>= 8) b[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
  if (family == IpFamily::v4) return IpAddress::v4(std::span<const uint8_t, 4>(b.data(), 4));
  return IpAddress::v6(b);
}
// v4 addresses live in the top 32 bits of the 128-bit value (bytes 0..3).
U128 host_bits(const IpPrefix& p) {
  const unsigned width = p.address.bit_width();
  const U128 in_family =
      p.length >= width ? U128{0} : (~U128{0} >> p.length) >> (128 - width) << (128 - width);
  return in_family;
}

std::optional<AclAction> reference(const std::vector<AclEntry>& entries, const IpAddress& a) {
  int best = -1;
  std::optional<AclAction> action;
  for (const AclEntry& e : entries) {
    if (e.prefix.contains(a) && e.prefix.length > best) {
      best = e.prefix.length;
      action = e.action;
    }
  }
  return action;
}

TEST(PrefixTable, MatchesBruteForceOnRandomPrefixes) {
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 40; ++round) {
    // A few base addresses per family, so that many random prefixes nest.
    std::vector<IpAddress> bases;
    for (int i = 0; i < 4; ++i) {
      bases.push_back(IpAddress::v4(static_cast<uint32_t>(rng())));
      std::array<uint8_t, 16> b{};
      for (auto& x : b) x = static_cast<uint8_t>(rng());
      bases.push_back(IpAddress::v6(b));
    }
    bases.push_back(IpAddress::v4(0u));
    bases.push_back(IpAddress::v4(0xFFFFFFFFu));
    std::vector<AclEntry> entries;
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      IpAddress base = bases[rng() % bases.size()];
      // Perturb low bits sometimes, to get siblings and adjacent ranges.
      if (rng() % 2 == 0) {
        U128 v = to_u128(base);
        const unsigned width = base.bit_width();
        v ^= (U128{1} << (128 - width + rng() % width));
        base = from_u128(v, base.family);
      }
      const auto len = static_cast<uint8_t>(rng() % (base.bit_width() + 1));
      const IpPrefix p{base.masked(len), len};
      const bool seen = std::any_of(entries.begin(), entries.end(),
                                    [&](const AclEntry& e) { return e.prefix == p; });
      if (!seen) entries.push_back({p, rng() % 2 ? AclAction::allow : AclAction::deny});
    }
    const PrefixTable t = build(entries);

    std::vector<IpAddress> probes;
    for (const AclEntry& e : entries) {  // both edges of every prefix, and one step outside
      const U128 first = to_u128(e.prefix.address);
      const U128 last = first | host_bits(e.prefix);
      const U128 step = U128{1} << (128 - e.prefix.address.bit_width());
      const IpFamily f = e.prefix.address.family;
      probes.push_back(from_u128(first, f));
      probes.push_back(from_u128(last, f));
      probes.push_back(from_u128(first - step, f));  // wraps to the top at 0: still valid
      probes.push_back(from_u128(last + step, f));
    }
    for (int i = 0; i < 2000; ++i) {
      const IpAddress& base = bases[rng() % bases.size()];
      const U128 noise = static_cast<U128>(rng()) << 64 | rng();
      probes.push_back(from_u128(to_u128(base) ^ (noise >> (rng() % 128)), base.family));
    }
    for (const IpAddress& a : probes) {
      ASSERT_EQ(t.lookup(a), reference(entries, a)) << a.to_string() << " round " << round;
    }
  }
}

}  // namespace
}  // namespace sipwall
