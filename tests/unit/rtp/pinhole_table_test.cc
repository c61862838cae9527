#include "rtp/pinhole_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>

namespace sipwall {
namespace {

IpAddress v4(uint32_t a) {
  return IpAddress::v4(a);
}
IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}

TEST(PinholeTable, OpenAllowsUntilExpiry) {
  PinholeTable t(16);
  const auto a = ip("192.0.2.10");
  EXPECT_FALSE(t.allows(a, 40000, 0));
  ASSERT_TRUE(t.open(a, 40000, 1000));
  EXPECT_TRUE(t.allows(a, 40000, 0));
  EXPECT_TRUE(t.allows(a, 40000, 999));
  EXPECT_FALSE(t.allows(a, 40000, 1000));  // expiry is exclusive
  EXPECT_FALSE(t.allows(a, 40001, 0));
  EXPECT_FALSE(t.allows(ip("192.0.2.11"), 40000, 0));
  EXPECT_EQ(t.size(), 1u);
}

TEST(PinholeTable, ReopenExtends) {
  PinholeTable t(4);
  const auto a = ip("2001:db8::1");
  ASSERT_TRUE(t.open(a, 5004, 100));
  ASSERT_TRUE(t.open(a, 5004, 500));
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.allows(a, 5004, 300));
}

TEST(PinholeTable, FamiliesAreDistinct) {
  PinholeTable t(4);
  std::array<uint8_t, 16> raw{};
  raw[0] = 192;
  raw[1] = 0;
  raw[2] = 2;
  raw[3] = 1;
  const auto six = IpAddress::v6(raw);
  const auto four = ip("192.0.2.1");
  ASSERT_TRUE(t.open(four, 6000, 10));
  EXPECT_FALSE(t.allows(six, 6000, 0));
}

TEST(PinholeTable, Close) {
  PinholeTable t(8);
  const auto a = ip("198.51.100.1");
  ASSERT_TRUE(t.open(a, 7000, 100));
  EXPECT_TRUE(t.close(a, 7000));
  EXPECT_FALSE(t.allows(a, 7000, 0));
  EXPECT_FALSE(t.close(a, 7000));
  EXPECT_EQ(t.size(), 0u);
}

TEST(PinholeTable, FullRefusesNewKeysButExtendsOld) {
  PinholeTable t(3);
  ASSERT_TRUE(t.open(v4(1), 1, 100));
  ASSERT_TRUE(t.open(v4(2), 2, 100));
  ASSERT_TRUE(t.open(v4(3), 3, 100));
  EXPECT_FALSE(t.open(v4(4), 4, 100));
  EXPECT_TRUE(t.open(v4(2), 2, 200));
  EXPECT_EQ(t.size(), 3u);
  EXPECT_TRUE(t.close(v4(1), 1));
  EXPECT_TRUE(t.open(v4(4), 4, 100));
}

TEST(PinholeTable, ExpireReclaimsSlots) {
  PinholeTable t(4);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(t.open(v4(i), 10, i < 2 ? 50 : 500));
  EXPECT_FALSE(t.open(v4(9), 10, 500));
  EXPECT_EQ(t.expire(50), 2u);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_TRUE(t.allows(v4(3), 10, 60));
  EXPECT_TRUE(t.open(v4(9), 10, 500));
}

TEST(PinholeTable, EnforcementSwitchDefaultsOff) {
  PinholeTable t(4);
  const auto a = ip("192.0.2.1");
  EXPECT_FALSE(t.enforcing());
  EXPECT_TRUE(t.admits(a, 1234, 0));
  t.set_enforcing(true);
  EXPECT_FALSE(t.admits(a, 1234, 0));
  ASSERT_TRUE(t.open(a, 1234, 10));
  EXPECT_TRUE(t.admits(a, 1234, 5));
  EXPECT_FALSE(t.admits(a, 1234, 10));
}

// Random open/close/expire against a std::map model: exercises probe chains, wrap-around and
// backward-shift deletion.
TEST(PinholeTable, MatchesModelUnderChurn) {
  PinholeTable t(64);
  std::map<std::pair<uint32_t, uint16_t>, Nanos> model;
  std::mt19937 rng(7);
  Nanos now = 0;
  for (int step = 0; step < 50000; ++step) {
    const uint32_t host = rng() % 96;
    const uint16_t port = static_cast<uint16_t>(10000 + 2 * (rng() % 3));
    const auto key = std::make_pair(host, port);
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2:
      case 3: {
        const Nanos until = now + 1 + rng() % 200;
        const bool exists = model.count(key) != 0;
        const bool ok = t.open(v4(host), port, until);
        EXPECT_EQ(ok, exists || model.size() < 64);
        if (ok) model[key] = until;
        break;
      }
      case 4:
      case 5:
        EXPECT_EQ(t.close(v4(host), port), model.erase(key) == 1);
        break;
      case 6: {
        size_t expected = 0;
        for (auto it = model.begin(); it != model.end();) {
          if (it->second <= now) {
            it = model.erase(it);
            ++expected;
          } else {
            ++it;
          }
        }
        EXPECT_EQ(t.expire(now), expected);
        break;
      }
      default:
        now += rng() % 20;
    }
    ASSERT_EQ(t.size(), model.size());
    const auto it = model.find(key);
    EXPECT_EQ(t.allows(v4(host), port, now), it != model.end() && now < it->second);
  }
  for (const auto& [k, until] : model) {
    EXPECT_EQ(t.allows(v4(k.first), k.second, now), now < until);
  }
}

TEST(PinholeTable, Clear) {
  PinholeTable t(4);
  ASSERT_TRUE(t.open(v4(1), 1, 10));
  t.clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.allows(v4(1), 1, 0));
}

}  // namespace
}  // namespace sipwall
