#include "state/pinhole_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>

namespace sipwall {
namespace {

IpAddress v4(uint32_t a) {
  return IpAddress::v4(a);
}
IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}
EntryId call(const char* id) {
  return *EntryId::parse(id);
}

const IpAddress kPeer = ip("203.0.113.9");
constexpr std::nullopt_t kAnySource = std::nullopt;

Outcome open(PinholeTable& t, const IpAddress& a, uint16_t port, Nanos until, EntryId c = {},
             Nanos now = 0) {
  return t.open(a, port, kAnySource, c, Owner::control, until, now).outcome;
}

TEST(PinholeTable, OpenAdmitsUntilExpiry) {
  PinholeTable t(16, 1);
  const auto a = ip("192.0.2.10");
  EXPECT_FALSE(t.admits(a, 40000, kPeer, 0));
  ASSERT_EQ(open(t, a, 40000, 1000), Outcome::added);
  EXPECT_TRUE(t.admits(a, 40000, kPeer, 0));
  EXPECT_TRUE(t.admits(a, 40000, kPeer, 999));
  EXPECT_FALSE(t.admits(a, 40000, kPeer, 1000));  // expiry is exclusive
  EXPECT_FALSE(t.admits(a, 40001, kPeer, 0));
  EXPECT_FALSE(t.admits(ip("192.0.2.11"), 40000, kPeer, 0));
  EXPECT_EQ(t.size(), 1u);
  t.for_each(
      [&](PinholeTable::Handle, const TableEntry& e, const IpAddress& address, uint16_t port) {
        EXPECT_EQ(address, a);
        EXPECT_EQ(port, 40000);
        EXPECT_EQ(e.owner, Owner::control);
      });
}

TEST(PinholeTable, ReopenExtends) {
  PinholeTable t(4, 1);
  const auto a = ip("2001:db8::1");
  ASSERT_EQ(open(t, a, 5004, 100), Outcome::added);
  ASSERT_EQ(open(t, a, 5004, 500), Outcome::extended);
  ASSERT_EQ(open(t, a, 5004, 400), Outcome::exists);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.admits(a, 5004, kPeer, 450));
}

TEST(PinholeTable, FamiliesAreDistinct) {
  PinholeTable t(4, 1);
  std::array<uint8_t, 16> raw{};
  raw[0] = 192;
  raw[2] = 2;
  raw[3] = 1;
  ASSERT_EQ(open(t, ip("192.0.2.1"), 6000, 10), Outcome::added);
  EXPECT_FALSE(t.admits(IpAddress::v6(raw), 6000, kPeer, 0));
}

// Two calls share a media address and port (a conference bridge, a reused port): the first
// call's BYE must not close the second call's media.
TEST(PinholeTable, ReferencesArePerCall) {
  PinholeTable t(16, 1);
  const auto a = ip("198.51.100.1");
  ASSERT_EQ(open(t, a, 7000, 100, call("call-1")), Outcome::added);
  ASSERT_EQ(open(t, a, 7000, 100, call("call-2")), Outcome::added);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.close(a, 7000, call("call-1"), 0), Outcome::removed);
  EXPECT_TRUE(t.admits(a, 7000, kPeer, 0));
  EXPECT_EQ(t.close(a, 7000, call("call-1"), 0), Outcome::not_found);
  EXPECT_EQ(t.close(a, 7000, EntryId{}, 0), Outcome::not_found);  // no id-less reference
  EXPECT_TRUE(t.admits(a, 7000, kPeer, 0));
  EXPECT_EQ(t.close(a, 7000, call("call-2"), 0), Outcome::removed);
  EXPECT_FALSE(t.admits(a, 7000, kPeer, 0));
  EXPECT_EQ(t.size(), 0u);
}

TEST(PinholeTable, ReferencesPerPinholeAreBounded) {
  PinholeTable t(64, 1);
  const auto a = ip("198.51.100.1");
  for (size_t i = 0; i < PinholeTable::kMaxRefsPerPinhole; ++i) {
    ASSERT_EQ(open(t, a, 7000, 100, *EntryId::parse(std::to_string(i))), Outcome::added);
  }
  EXPECT_EQ(open(t, a, 7000, 100, call("one-more")), Outcome::full);
  EXPECT_EQ(t.full_rejections(), 1u);
  EXPECT_EQ(open(t, a, 7002, 100, call("one-more")), Outcome::added);  // another port is fine
}

TEST(PinholeTable, ASourceRestrictionAdmitsOnlyThatPrefix) {
  PinholeTable t(16, 1);
  const auto a = ip("198.51.100.1");
  ASSERT_EQ(t.open(a, 7000, IpPrefix::parse("203.0.113.0/24"), call("c1"), Owner::control, 100, 0)
                .outcome,
            Outcome::added);
  EXPECT_TRUE(t.admits(a, 7000, ip("203.0.113.200"), 0));
  EXPECT_FALSE(t.admits(a, 7000, ip("192.0.2.1"), 0));
  EXPECT_FALSE(t.admits(a, 7000, ip("2001:db8::1"), 0));
  // Another call on the same port without a restriction opens it to everyone.
  ASSERT_EQ(open(t, a, 7000, 100, call("c2")), Outcome::added);
  EXPECT_TRUE(t.admits(a, 7000, ip("192.0.2.1"), 0));
  const auto bad =
      t.open(a, 7000, IpPrefix{ip("192.0.2.1"), 33}, call("c3"), Owner::control, 100, 0);
  EXPECT_EQ(bad.outcome, Outcome::invalid);
}

TEST(PinholeTable, FullRefusesNewReferencesButExtendsOld) {
  PinholeTable t(3, 1);
  ASSERT_EQ(open(t, v4(1), 1, 100), Outcome::added);
  ASSERT_EQ(open(t, v4(2), 2, 100), Outcome::added);
  ASSERT_EQ(open(t, v4(3), 3, 100), Outcome::added);
  EXPECT_EQ(open(t, v4(4), 4, 100), Outcome::full);
  EXPECT_EQ(open(t, v4(2), 2, 200), Outcome::extended);
  EXPECT_EQ(t.size(), 3u);
  EXPECT_EQ(t.close(v4(1), 1, {}, 0), Outcome::removed);
  EXPECT_EQ(open(t, v4(4), 4, 100), Outcome::added);
}

TEST(PinholeTable, ExpiryReclaimsReferences) {
  PinholeTable t(4, 1);
  for (uint32_t i = 0; i < 4; ++i) ASSERT_EQ(open(t, v4(i), 10, i < 2 ? 50 : 500), Outcome::added);
  EXPECT_EQ(open(t, v4(9), 10, 500), Outcome::full);
  EXPECT_EQ(t.expire_some(50, 4), 2u);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_TRUE(t.admits(v4(3), 10, kPeer, 60));
  EXPECT_EQ(open(t, v4(9), 10, 500), Outcome::added);
}

TEST(PinholeTable, FlushByOwner) {
  PinholeTable t(8, 1);
  ASSERT_EQ(open(t, v4(1), 1, 100), Outcome::added);
  ASSERT_EQ(t.open(v4(1), 1, kAnySource, call("op"), Owner::operator_, 100, 0).outcome,
            Outcome::added);
  EXPECT_EQ(t.flush(Owner::control), 1u);
  EXPECT_TRUE(t.admits(v4(1), 1, kPeer, 0));
  EXPECT_EQ(t.flush(std::nullopt), 1u);
  EXPECT_FALSE(t.admits(v4(1), 1, kPeer, 0));
}

// Random open/close/expire with several calls per port against a std::map model: exercises
// probe runs shared by one key's references, wrap-around and backward-shift deletion.
TEST(PinholeTable, MatchesModelUnderChurn) {
  constexpr size_t kCapacity = 64;
  PinholeTable t(kCapacity, 5);
  using Key = std::tuple<uint32_t, uint16_t, int>;
  std::map<Key, Nanos> model;
  std::mt19937 rng(7);
  const EntryId calls[] = {EntryId{}, call("a"), call("b")};
  Nanos now = 0;
  for (int step = 0; step < 50000; ++step) {
    const uint32_t host = rng() % 40;
    const uint16_t port = static_cast<uint16_t>(10000 + 2 * (rng() % 3));
    const int c = static_cast<int>(rng() % 3);
    const Key key{host, port, c};
    const auto it = model.find(key);
    const bool live = it != model.end() && now < it->second;
    switch (rng() % 8) {
      case 0:
      case 1:
      case 2:
      case 3: {
        const Nanos until = now + 1 + rng() % 200;
        const Outcome o = open(t, v4(host), port, until, calls[c], now);
        if (it != model.end()) {
          ASSERT_NE(o, Outcome::full);
          it->second = live ? std::max(it->second, until) : until;
        } else if (model.size() < kCapacity) {
          ASSERT_EQ(o, Outcome::added);
          model[key] = until;
        } else {
          ASSERT_EQ(o, Outcome::full);
        }
        break;
      }
      case 4:
      case 5:
        ASSERT_EQ(t.close(v4(host), port, calls[c], now),
                  live ? Outcome::removed : Outcome::not_found);
        model.erase(key);
        break;
      case 6:
        t.expire_some(now, kCapacity);
        std::erase_if(model, [&](const auto& kv) { return kv.second <= now; });
        break;
      default:
        now += rng() % 20;
    }
    ASSERT_EQ(t.size(), model.size());
    bool open_now = false;
    for (int k = 0; k < 3; ++k) {
      const auto m = model.find(Key{host, port, k});
      open_now |= m != model.end() && now < m->second;
    }
    ASSERT_EQ(t.admits(v4(host), port, kPeer, now), open_now) << "step " << step;
  }
}

}  // namespace
}  // namespace sipwall
