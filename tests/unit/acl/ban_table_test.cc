#include "acl/ban_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>
#include <vector>

namespace sipwall {
namespace {

constexpr Nanos kSec = kNanosPerSecond;

IpAddress addr(const char* text) {
  return *IpAddress::parse(text);
}
IpPrefix prefix(const char* text) {
  return *IpPrefix::parse(text);
}

TEST(BanTable, BanAndUnbanOneAddress) {
  BanTable t(16);
  EXPECT_FALSE(t.is_banned(addr("192.0.2.1"), 0));
  EXPECT_TRUE(t.ban(prefix("192.0.2.1"), 100 * kSec));
  EXPECT_TRUE(t.is_banned(addr("192.0.2.1"), 0));
  EXPECT_FALSE(t.is_banned(addr("192.0.2.2"), 0));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.unban(prefix("192.0.2.1/32")));
  EXPECT_FALSE(t.is_banned(addr("192.0.2.1"), 0));
  EXPECT_FALSE(t.unban(prefix("192.0.2.1")));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.lengths(IpFamily::v4).empty());
}

TEST(BanTable, ExpiresExactlyAtUntil) {
  BanTable t(16);
  const Nanos until = 10 * kSec;
  ASSERT_TRUE(t.ban(prefix("192.0.2.1"), until));
  EXPECT_TRUE(t.is_banned(addr("192.0.2.1"), until - 1));
  EXPECT_FALSE(t.is_banned(addr("192.0.2.1"), until));
  EXPECT_FALSE(t.is_banned(addr("192.0.2.1"), until + 1));
  EXPECT_EQ(t.size(), 1u);  // ignored, not yet reclaimed
  EXPECT_EQ(t.expire(until - 1), 0u);
  EXPECT_EQ(t.expire(until), 1u);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.lengths(IpFamily::v4).empty());
}

TEST(BanTable, BanningAgainReplacesTheExpiry) {
  BanTable t(16);
  ASSERT_TRUE(t.ban(prefix("192.0.2.0/24"), 10 * kSec));
  ASSERT_TRUE(t.ban(prefix("192.0.2.0/24"), 20 * kSec));  // extend
  EXPECT_TRUE(t.is_banned(addr("192.0.2.9"), 15 * kSec));
  ASSERT_TRUE(t.ban(prefix("192.0.2.77/24"), 5 * kSec));  // same prefix (host bits ignored)
  EXPECT_FALSE(t.is_banned(addr("192.0.2.9"), 6 * kSec));
  EXPECT_EQ(t.size(), 1u);
  // An expired, unreclaimed ban can be renewed in place.
  ASSERT_TRUE(t.ban(prefix("192.0.2.0/24"), 30 * kSec));
  EXPECT_TRUE(t.is_banned(addr("192.0.2.9"), 25 * kSec));
}

TEST(BanTable, PrefixBansOfSeveralLengthsAllMatch) {
  BanTable t(64);
  ASSERT_TRUE(t.ban(prefix("198.51.100.0/24"), 100 * kSec));
  ASSERT_TRUE(t.ban(prefix("203.0.113.7/32"), 100 * kSec));
  ASSERT_TRUE(t.ban(prefix("2001:db8:1:2::/64"), 100 * kSec));
  ASSERT_TRUE(t.ban(prefix("2001:db9::/32"), 100 * kSec));
  ASSERT_TRUE(t.ban(prefix("2001:dba::1/128"), 100 * kSec));
  EXPECT_TRUE(t.is_banned(addr("198.51.100.0"), kSec));
  EXPECT_TRUE(t.is_banned(addr("198.51.100.255"), kSec));
  EXPECT_FALSE(t.is_banned(addr("198.51.101.0"), kSec));
  EXPECT_TRUE(t.is_banned(addr("203.0.113.7"), kSec));
  EXPECT_FALSE(t.is_banned(addr("203.0.113.8"), kSec));
  EXPECT_TRUE(t.is_banned(addr("2001:db8:1:2:dead:beef:1:2"), kSec));
  EXPECT_FALSE(t.is_banned(addr("2001:db8:1:3::"), kSec));
  EXPECT_TRUE(t.is_banned(addr("2001:db9:ffff::1"), kSec));
  EXPECT_TRUE(t.is_banned(addr("2001:dba::1"), kSec));
  EXPECT_FALSE(t.is_banned(addr("2001:dba::2"), kSec));
  const std::vector<uint8_t> v4(t.lengths(IpFamily::v4).begin(), t.lengths(IpFamily::v4).end());
  const std::vector<uint8_t> v6(t.lengths(IpFamily::v6).begin(), t.lengths(IpFamily::v6).end());
  EXPECT_EQ(v4, (std::vector<uint8_t>{32, 24}));
  EXPECT_EQ(v6, (std::vector<uint8_t>{128, 64, 32}));
  // Unbanning the only /24 retires that length; the /32 keeps working.
  ASSERT_TRUE(t.unban(prefix("198.51.100.0/24")));
  EXPECT_EQ(t.lengths(IpFamily::v4).size(), 1u);
  EXPECT_FALSE(t.is_banned(addr("198.51.100.1"), kSec));
  EXPECT_TRUE(t.is_banned(addr("203.0.113.7"), kSec));
}

TEST(BanTable, FamiliesAreIsolated) {
  BanTable t(16);
  ASSERT_TRUE(t.ban(prefix("0.0.0.0/0"), 100 * kSec));
  EXPECT_TRUE(t.is_banned(addr("192.0.2.1"), 0));
  EXPECT_FALSE(t.is_banned(addr("::"), 0));
  EXPECT_FALSE(t.is_banned(addr("::ffff:192.0.2.1"), 0));
  ASSERT_TRUE(t.unban(prefix("0.0.0.0/0")));
  ASSERT_TRUE(t.ban(prefix("c000:201::/32"), 100 * kSec));  // bytes c0 00 02 01 = 192.0.2.1
  EXPECT_FALSE(t.is_banned(addr("192.0.2.1"), 0));
  EXPECT_TRUE(t.is_banned(addr("c000:201::5"), 0));
  EXPECT_FALSE(t.unban(prefix("192.0.2.1/32")));
}

TEST(BanTable, RefusesNewBansWhenFullUntilSpaceIsFreed) {
  BanTable t(4);
  for (uint32_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(t.ban(IpPrefix{IpAddress::v4(0x0A000000 + i), 32}, (i + 1) * kSec));
  }
  const IpPrefix extra{IpAddress::v4(0x0B000000), 32};
  EXPECT_FALSE(t.ban(extra, 100 * kSec));
  EXPECT_TRUE(t.ban(IpPrefix{IpAddress::v4(0x0A000000), 32}, 50 * kSec));  // update still works
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(t.capacity(), 4u);
  EXPECT_EQ(t.expire(2 * kSec), 1u);  // 10.0.0.1 (until 2 s) goes
  EXPECT_TRUE(t.ban(extra, 100 * kSec));
  EXPECT_FALSE(t.ban(IpPrefix{IpAddress::v4(0x0C000000), 32}, 100 * kSec));
  EXPECT_TRUE(t.unban(extra));
  EXPECT_TRUE(t.ban(IpPrefix{IpAddress::v4(0x0C000000), 32}, 100 * kSec));
}

TEST(BanTable, RefusesLengthsLongerThanTheFamily) {
  BanTable t(4);
  EXPECT_FALSE(t.ban(IpPrefix{addr("192.0.2.1"), 33}, kSec));
  EXPECT_FALSE(t.unban(IpPrefix{addr("192.0.2.1"), 33}));
  EXPECT_TRUE(t.ban(IpPrefix{addr("::1"), 128}, kSec));
  EXPECT_FALSE(t.ban(IpPrefix{addr("::1"), 129}, kSec));
}

// Random operations on a small, crowded table (long probe runs, wrap-around, backward
// shifts) against a std::map model.
TEST(BanTable, MatchesAModelUnderRandomOperations) {
  std::mt19937_64 rng(777);
  constexpr size_t kCapacity = 48;
  BanTable t(kCapacity, 3);
  using ModelKey = std::tuple<IpFamily, std::array<uint8_t, 16>, uint8_t>;
  std::map<ModelKey, Nanos> model;
  const auto random_prefix = [&] {
    const bool v4 = rng() % 2 == 0;
    const uint8_t lens4[] = {8, 16, 24, 32};
    const uint8_t lens6[] = {32, 48, 64, 128};
    const uint8_t len = v4 ? lens4[rng() % 4] : lens6[rng() % 4];
    // Few distinct networks, so bans overlap and addresses hit them.
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
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2: {
        const Nanos until = now + rng() % 50'000;
        const bool present = model.count(key(p)) != 0;
        const bool ok = t.ban(p, until);
        ASSERT_EQ(ok, present || model.size() < kCapacity);
        if (ok) model[key(p)] = until;
        break;
      }
      case 3:
        ASSERT_EQ(t.unban(p), model.erase(key(p)) == 1);
        break;
      case 4: {
        size_t expired = 0;
        for (auto it = model.begin(); it != model.end();) {
          if (it->second <= now) {
            it = model.erase(it);
            ++expired;
          } else {
            ++it;
          }
        }
        ASSERT_EQ(t.expire(now), expired);
        break;
      }
      default: {
        const IpAddress a = p.address;  // an address inside some candidate prefix
        bool banned = false;
        for (const auto& [k, until] : model) {
          const IpPrefix q{IpAddress{std::get<1>(k), std::get<0>(k)}, std::get<2>(k)};
          if (q.contains(a) && now < until) banned = true;
        }
        ASSERT_EQ(t.is_banned(a, now), banned) << a.to_string() << " step " << step;
      }
    }
    ASSERT_EQ(t.size(), model.size());
  }
}

}  // namespace
}  // namespace sipwall
