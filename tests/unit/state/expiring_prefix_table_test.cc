#include "state/expiring_prefix_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>
#include <vector>

namespace sipwall {
namespace {

constexpr Nanos kSec = kNanosPerSecond;
constexpr auto kNone = ExpiringPrefixTable::kNoHandle;

IpAddress addr(const char* text) {
  return *IpAddress::parse(text);
}
IpPrefix prefix(const char* text) {
  return *IpPrefix::parse(text);
}

struct Table : ExpiringPrefixTable {
  explicit Table(size_t capacity, uint64_t seed = 1) : ExpiringPrefixTable(capacity, seed) {}
  Outcome add(const char* p, Nanos until, Nanos now = 0, std::string_view id = "x") {
    return ExpiringPrefixTable::add(prefix(p), until, *EntryId::parse(id), Owner::operator_, now)
        .outcome;
  }
  bool matches(const char* a, Nanos now) const { return match(addr(a), now) != kNone; }
};

TEST(ExpiringPrefixTable, AddAndRemoveOneAddress) {
  Table t(16);
  EXPECT_FALSE(t.matches("192.0.2.1", 0));
  EXPECT_EQ(t.add("192.0.2.1", 100 * kSec), Outcome::added);
  EXPECT_TRUE(t.matches("192.0.2.1", 0));
  EXPECT_FALSE(t.matches("192.0.2.2", 0));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.remove(prefix("192.0.2.1/32"), 0), Outcome::removed);
  EXPECT_FALSE(t.matches("192.0.2.1", 0));
  EXPECT_EQ(t.remove(prefix("192.0.2.1"), 0), Outcome::not_found);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.lengths(IpFamily::v4).empty());
}

TEST(ExpiringPrefixTable, ExpiresExactlyAtUntilAndIsReclaimedIncrementally) {
  Table t(16);
  const Nanos until = 10 * kSec;
  ASSERT_EQ(t.add("192.0.2.1", until), Outcome::added);
  EXPECT_TRUE(t.matches("192.0.2.1", until - 1));
  EXPECT_FALSE(t.matches("192.0.2.1", until));
  EXPECT_EQ(t.size(), 1u);  // ignored, not yet reclaimed
  EXPECT_EQ(t.expire_some(until - 1, 16), 0u);
  EXPECT_EQ(t.expire_some(until, 16), 1u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.lengths(IpFamily::v4).empty());
}

TEST(ExpiringPrefixTable, AddingAgainExtendsButNeverShortens) {
  Table t(16);
  ASSERT_EQ(t.add("192.0.2.0/24", 10 * kSec), Outcome::added);
  EXPECT_EQ(t.add("192.0.2.0/24", 20 * kSec), Outcome::extended);
  EXPECT_TRUE(t.matches("192.0.2.9", 15 * kSec));
  // Same prefix (host bits ignored), earlier expiry: kept.
  EXPECT_EQ(t.add("192.0.2.77/24", 5 * kSec), Outcome::exists);
  EXPECT_TRUE(t.matches("192.0.2.9", 15 * kSec));
  EXPECT_EQ(t.size(), 1u);
  // An expired, unreclaimed entry is renewed in place, as a new one.
  EXPECT_EQ(t.add("192.0.2.0/24", 30 * kSec, 25 * kSec), Outcome::added);
  EXPECT_TRUE(t.matches("192.0.2.9", 29 * kSec));
  EXPECT_EQ(t.lengths(IpFamily::v4).size(), 1u);
}

TEST(ExpiringPrefixTable, LongestLivePrefixWinsAndNamesItsEntry) {
  Table t(16);
  ASSERT_EQ(t.add("198.51.100.0/24", 100 * kSec, 0, "wide"), Outcome::added);
  ASSERT_EQ(t.add("198.51.100.7/32", 10 * kSec, 0, "narrow"), Outcome::added);
  EXPECT_EQ(t.entry(t.match(addr("198.51.100.7"), kSec)).id.view(), "narrow");
  EXPECT_EQ(t.entry(t.match(addr("198.51.100.8"), kSec)).id.view(), "wide");
  // Once the /32 expired, the /24 still covers the address.
  EXPECT_EQ(t.entry(t.match(addr("198.51.100.7"), 10 * kSec)).id.view(), "wide");
  EXPECT_EQ(t.find(prefix("198.51.100.7")), t.match(addr("198.51.100.7"), kSec));
  EXPECT_EQ(ExpiringPrefixTable::prefix_of(t.entry(t.find(prefix("198.51.100.0/24"))).key),
            prefix("198.51.100.0/24"));
}

TEST(ExpiringPrefixTable, PrefixesOfSeveralLengthsAllMatch) {
  Table t(64);
  for (const char* p : {"198.51.100.0/24", "203.0.113.7/32", "2001:db8:1:2::/64", "2001:db9::/32",
                        "2001:dba::1/128"}) {
    ASSERT_EQ(t.add(p, 100 * kSec), Outcome::added) << p;
  }
  EXPECT_TRUE(t.matches("198.51.100.0", kSec));
  EXPECT_TRUE(t.matches("198.51.100.255", kSec));
  EXPECT_FALSE(t.matches("198.51.101.0", kSec));
  EXPECT_TRUE(t.matches("203.0.113.7", kSec));
  EXPECT_FALSE(t.matches("203.0.113.8", kSec));
  EXPECT_TRUE(t.matches("2001:db8:1:2:dead:beef:1:2", kSec));
  EXPECT_FALSE(t.matches("2001:db8:1:3::", kSec));
  EXPECT_TRUE(t.matches("2001:db9:ffff::1", kSec));
  EXPECT_TRUE(t.matches("2001:dba::1", kSec));
  EXPECT_FALSE(t.matches("2001:dba::2", kSec));
  const std::vector<uint8_t> v4(t.lengths(IpFamily::v4).begin(), t.lengths(IpFamily::v4).end());
  const std::vector<uint8_t> v6(t.lengths(IpFamily::v6).begin(), t.lengths(IpFamily::v6).end());
  EXPECT_EQ(v4, (std::vector<uint8_t>{32, 24}));
  EXPECT_EQ(v6, (std::vector<uint8_t>{128, 64, 32}));
  // Removing the only /24 retires that length; the /32 keeps working.
  ASSERT_EQ(t.remove(prefix("198.51.100.0/24"), 0), Outcome::removed);
  EXPECT_EQ(t.lengths(IpFamily::v4).size(), 1u);
  EXPECT_FALSE(t.matches("198.51.100.1", kSec));
  EXPECT_TRUE(t.matches("203.0.113.7", kSec));
  // Flushing retires lengths as well.
  EXPECT_EQ(t.flush(std::nullopt), 4u);
  EXPECT_TRUE(t.lengths(IpFamily::v4).empty());
  EXPECT_TRUE(t.lengths(IpFamily::v6).empty());
}

TEST(ExpiringPrefixTable, FamiliesAreIsolated) {
  Table t(16);
  ASSERT_EQ(t.add("0.0.0.0/0", 100 * kSec), Outcome::added);
  EXPECT_TRUE(t.matches("192.0.2.1", 0));
  EXPECT_FALSE(t.matches("::", 0));
  EXPECT_FALSE(t.matches("::ffff:192.0.2.1", 0));
  ASSERT_EQ(t.remove(prefix("0.0.0.0/0"), 0), Outcome::removed);
  ASSERT_EQ(t.add("c000:201::/32", 100 * kSec), Outcome::added);  // bytes c0 00 02 01
  EXPECT_FALSE(t.matches("192.0.2.1", 0));
  EXPECT_TRUE(t.matches("c000:201::5", 0));
  EXPECT_EQ(t.remove(prefix("192.0.2.1/32"), 0), Outcome::not_found);
}

TEST(ExpiringPrefixTable, RefusesLengthsLongerThanTheFamily) {
  Table t(4);
  const EntryId none;
  EXPECT_EQ(
      t.ExpiringPrefixTable::add({addr("192.0.2.1"), 33}, kSec, none, Owner::control, 0).outcome,
      Outcome::invalid);
  EXPECT_EQ(t.remove({addr("192.0.2.1"), 33}, 0), Outcome::invalid);
  EXPECT_EQ(t.ExpiringPrefixTable::add({addr("::1"), 129}, kSec, none, Owner::control, 0).outcome,
            Outcome::invalid);
  EXPECT_EQ(t.size(), 0u);
}

// Random operations on a small, crowded table against a std::map model, including the
// incremental expiry and the lengths-in-use list.
TEST(ExpiringPrefixTable, MatchesAModelUnderRandomOperations) {
  std::mt19937_64 rng(777);
  constexpr size_t kCapacity = 48;
  ExpiringPrefixTable t(kCapacity, 3);
  using ModelKey = std::tuple<IpFamily, std::array<uint8_t, 16>, uint8_t>;
  std::map<ModelKey, Nanos> model;
  const auto random_prefix = [&] {
    const bool v4 = rng() % 2 == 0;
    const uint8_t lens4[] = {8, 16, 24, 32};
    const uint8_t lens6[] = {32, 48, 64, 128};
    const uint8_t len = v4 ? lens4[rng() % 4] : lens6[rng() % 4];
    // Few distinct networks, so entries overlap and addresses hit them.
    const IpAddress a =
        v4 ? IpAddress::v4(static_cast<uint32_t>(0x0A000000 | (rng() % 4) << 16 | (rng() % 4) << 8 |
                                                 rng() % 4))
           : *IpAddress::parse(("2001:db8:" + std::to_string(rng() % 3) + ":" +
                                std::to_string(rng() % 3) + "::" + std::to_string(rng() % 3))
                                   .c_str());
    return IpPrefix{a.masked(len), len};
  };
  const auto key = [](const IpPrefix& p) {
    return ModelKey{p.address.family, p.address.bytes, p.length};
  };
  Nanos now = 0;
  for (int step = 0; step < 200'000; ++step) {
    now += rng() % 1000;
    const IpPrefix p = random_prefix();
    const auto it = model.find(key(p));
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2: {
        const Nanos until = now + rng() % 50'000;
        const auto r = t.add(p, until, {}, Owner::control, now);
        if (it != model.end()) {
          ASSERT_NE(r.outcome, Outcome::full);
          it->second = now < it->second ? std::max(it->second, until) : until;
        } else if (model.size() < kCapacity) {
          ASSERT_EQ(r.outcome, Outcome::added);
          model[key(p)] = until;
        } else {
          ASSERT_EQ(r.outcome, Outcome::full);
        }
        break;
      }
      case 3:
        ASSERT_EQ(t.remove(p, now),
                  it != model.end() && now < it->second ? Outcome::removed : Outcome::not_found);
        model.erase(key(p));
        break;
      case 4: {
        t.expire_some(now, kCapacity);  // one whole pass: every expired entry goes
        std::erase_if(model, [&](const auto& kv) { return kv.second <= now; });
        break;
      }
      default: {
        const IpAddress a = p.address;  // an address inside some candidate prefix
        bool covered = false;
        for (const auto& [k, until] : model) {
          const IpPrefix q{IpAddress{std::get<1>(k), std::get<0>(k)}, std::get<2>(k)};
          if (q.contains(a) && now < until) covered = true;
        }
        ASSERT_EQ(t.match(a, now) != kNone, covered) << a.to_string() << " step " << step;
      }
    }
    ASSERT_EQ(t.size(), model.size());
  }
}

}  // namespace
}  // namespace sipwall
