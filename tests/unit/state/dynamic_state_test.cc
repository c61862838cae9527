#include "state/dynamic_state.h"

#include <gtest/gtest.h>

#include <vector>

namespace sipwall {
namespace {

constexpr Nanos kSec = kNanosPerSecond;

IpAddress ip(const char* s) {
  return *IpAddress::parse(s);
}
IpPrefix prefix(const char* s) {
  return *IpPrefix::parse(s);
}

DynamicStateConfig small() {
  DynamicStateConfig c;
  c.ban_capacity = 8;
  c.trust_capacity = 8;
  c.pinhole_capacity = 8;
  c.hash_seed = 11;
  return c;
}

StateUpdate ban(const char* p, Nanos until, Owner owner = Owner::control, const char* id = "b") {
  return {AddPrefix{StateTable::ban, prefix(p), until, *EntryId::parse(id), owner}};
}
StateUpdate trust(const char* p, Nanos until, Owner owner = Owner::control) {
  return {AddPrefix{StateTable::trust, prefix(p), until, {}, owner}};
}
StateUpdate pinhole(const char* a, uint16_t port, Nanos until, Owner owner = Owner::control,
                    const char* call = "c") {
  return {OpenPinhole{ip(a), port, std::nullopt, *EntryId::parse(call), until, owner}};
}

TEST(DynamicState, BansTrustAndPinholesAreSeparateTables) {
  DynamicState s(small());
  EXPECT_EQ(s.apply(ban("192.0.2.0/24", 10 * kSec, Owner::control, "flood-1"), 0).outcome,
            Outcome::added);
  EXPECT_EQ(s.apply(trust("198.51.100.0/24", 10 * kSec), 0).outcome, Outcome::added);
  const BanHandle h = s.ban_match(ip("192.0.2.5"), kSec);
  ASSERT_NE(h, kNoBan);
  EXPECT_EQ(s.ban_id(h), "flood-1");
  EXPECT_EQ(s.bans().entry(h).hits, 1u);
  EXPECT_EQ(s.ban_match(ip("198.51.100.5"), kSec), kNoBan);
  EXPECT_TRUE(s.trusted(ip("198.51.100.5"), kSec));
  EXPECT_FALSE(s.trusted(ip("192.0.2.5"), kSec));
  EXPECT_EQ(s.ban_id(kNoBan), "");
  // Removing from one table leaves the other alone.
  EXPECT_EQ(s.apply({RemovePrefix{StateTable::trust, prefix("192.0.2.0/24")}}, 0).outcome,
            Outcome::not_found);
  EXPECT_EQ(s.apply({RemovePrefix{StateTable::ban, prefix("192.0.2.0/24")}}, 0).outcome,
            Outcome::removed);
  EXPECT_EQ(s.ban_match(ip("192.0.2.5"), kSec), kNoBan);
  EXPECT_TRUE(s.trusted(ip("198.51.100.5"), kSec));
}

TEST(DynamicState, PinholeEnforcementStartsFromTheConfigAndFollowsCommands) {
  DynamicState off(small());
  EXPECT_FALSE(off.enforcing_pinholes());
  EXPECT_TRUE(off.pinhole_admits(ip("192.0.2.1"), 4000, ip("203.0.113.1"), 0));
  DynamicStateConfig c = small();
  c.enforce_pinholes = true;
  DynamicState s(c);
  EXPECT_FALSE(s.pinhole_admits(ip("192.0.2.1"), 4000, ip("203.0.113.1"), 0));
  ASSERT_EQ(s.apply(pinhole("192.0.2.1", 4000, 10 * kSec), 0).outcome, Outcome::added);
  EXPECT_TRUE(s.pinhole_admits(ip("192.0.2.1"), 4000, ip("203.0.113.1"), 0));
  EXPECT_EQ(s.apply({ClosePinhole{ip("192.0.2.1"), 4000, *EntryId::parse("c")}}, 0).outcome,
            Outcome::removed);
  EXPECT_FALSE(s.pinhole_admits(ip("192.0.2.1"), 4000, ip("203.0.113.1"), 0));
  s.apply({SetPinholeEnforcement{false}}, 0);
  EXPECT_TRUE(s.pinhole_admits(ip("192.0.2.1"), 4000, ip("203.0.113.1"), 0));
}

TEST(DynamicState, FlushTouchesOneTableAndOneOwnerUnlessAll) {
  DynamicState s(small());
  s.apply(ban("192.0.2.1", 10 * kSec, Owner::control), 0);
  s.apply(ban("192.0.2.2", 10 * kSec, Owner::operator_), 0);
  s.apply(trust("192.0.2.3", 10 * kSec, Owner::control), 0);
  const ApplyResult r = s.apply({FlushTable{StateTable::ban, Owner::control}}, 0);
  EXPECT_EQ(r.outcome, Outcome::flushed);
  EXPECT_EQ(r.removed, 1u);
  EXPECT_NE(s.ban_match(ip("192.0.2.2"), 0), kNoBan);  // the operator's ban stays
  EXPECT_TRUE(s.trusted(ip("192.0.2.3"), 0));          // another table
  EXPECT_EQ(s.apply({FlushTable{StateTable::ban, std::nullopt}}, 0).removed, 1u);
  EXPECT_EQ(s.bans().size(), 0u);
  EXPECT_EQ(s.apply({FlushTable{StateTable::trust, Owner::operator_}}, 0).removed, 0u);
  EXPECT_EQ(s.apply({FlushTable{StateTable::trust, std::nullopt}}, 0).removed, 1u);
}

TEST(DynamicState, ReplaceOwnedSwapsOnlyTheSyncingOwnersEntries) {
  DynamicState s(small());
  s.apply(ban("192.0.2.1", 10 * kSec, Owner::control), 0);            // stale: not in the journal
  s.apply(ban("192.0.2.2", 10 * kSec, Owner::operator_), 0);          // the operator's: stays
  s.apply(trust("192.0.2.3", 10 * kSec, Owner::control), 0);          // stale
  s.apply(pinhole("192.0.2.4", 4000, 10 * kSec, Owner::control), 0);  // stale
  const std::vector<StateUpdate> journal = {
      ban("198.51.100.1", 20 * kSec, Owner::control),
      ban("192.0.2.2", 30 * kSec, Owner::control),  // merges into the operator's ban
      trust("198.51.100.2", 20 * kSec, Owner::control),
      pinhole("198.51.100.3", 5000, 20 * kSec, Owner::control),
      ban("198.51.100.9", 20 * kSec, Owner::operator_),  // not the syncing owner's: skipped
      {FlushTable{StateTable::ban, std::nullopt}},       // not an add: skipped
  };
  const ApplyResult r =
      s.apply({ReplaceOwned{Owner::control, journal.data(), journal.size()}}, kSec);
  EXPECT_EQ(r.outcome, Outcome::flushed);
  EXPECT_EQ(r.removed, 3u);
  EXPECT_EQ(r.added, 4u);
  EXPECT_EQ(r.rejected, 0u);
  EXPECT_EQ(s.ban_match(ip("192.0.2.1"), kSec), kNoBan);
  const BanHandle kept = s.ban_match(ip("192.0.2.2"), kSec);
  ASSERT_NE(kept, kNoBan);
  EXPECT_EQ(s.bans().entry(kept).owner, Owner::operator_);
  EXPECT_EQ(s.bans().entry(kept).until, 30 * kSec);
  EXPECT_NE(s.ban_match(ip("198.51.100.1"), kSec), kNoBan);
  EXPECT_EQ(s.ban_match(ip("198.51.100.9"), kSec), kNoBan);
  EXPECT_FALSE(s.trusted(ip("192.0.2.3"), kSec));
  EXPECT_TRUE(s.trusted(ip("198.51.100.2"), kSec));
  EXPECT_EQ(s.pinholes().size(), 1u);
  EXPECT_EQ(s.bans().size(), 2u);
}

TEST(DynamicState, ReplaceOwnedCountsAddsThatFindNoRoom) {
  DynamicStateConfig c = small();
  c.ban_capacity = 2;
  DynamicState s(c);
  s.apply(ban("192.0.2.1", 10 * kSec, Owner::operator_), 0);
  const std::vector<StateUpdate> journal = {ban("198.51.100.1", 20 * kSec),
                                            ban("198.51.100.2", 20 * kSec)};
  const ApplyResult r = s.apply({ReplaceOwned{Owner::control, journal.data(), 2}}, 0);
  EXPECT_EQ(r.added, 1u);
  EXPECT_EQ(r.rejected, 1u);
  EXPECT_EQ(s.bans().full_rejections(), 1u);
}

TEST(DynamicState, ExpireSomeReclaimsEveryTableWithinItsBudget) {
  DynamicState s(small());
  s.apply(ban("192.0.2.1", kSec), 0);
  s.apply(trust("192.0.2.2", kSec), 0);
  s.apply(pinhole("192.0.2.3", 4000, kSec), 0);
  s.apply(ban("192.0.2.9", 100 * kSec), 0);
  EXPECT_EQ(s.expire_some(kSec - 1, 8), 0u);
  EXPECT_EQ(s.expire_some(kSec, 8), 3u);
  EXPECT_EQ(s.bans().size(), 1u);
  EXPECT_EQ(s.trust().size(), 0u);
  EXPECT_EQ(s.pinholes().size(), 0u);
}

TEST(DynamicState, InvalidUpdatesChangeNothing) {
  DynamicState s(small());
  EXPECT_EQ(
      s.apply({AddPrefix{StateTable::pinhole, prefix("192.0.2.1"), kSec, {}, Owner::control}}, 0)
          .outcome,
      Outcome::invalid);
  EXPECT_EQ(
      s.apply({AddPrefix{StateTable::ban, IpPrefix{ip("192.0.2.1"), 40}, kSec, {}, Owner::control}},
              0)
          .outcome,
      Outcome::invalid);
  EXPECT_EQ(s.apply({RemovePrefix{StateTable::pinhole, prefix("192.0.2.1")}}, 0).outcome,
            Outcome::invalid);
  EXPECT_EQ(s.bans().size() + s.trust().size() + s.pinholes().size(), 0u);
}

}  // namespace
}  // namespace sipwall
