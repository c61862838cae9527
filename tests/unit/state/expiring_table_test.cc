#include "state/expiring_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <vector>

namespace sipwall {
namespace {

constexpr uint64_t kSeed = 42;

TableKey key(uint64_t n) {
  return TableKey{n, ~n, 1u << 16};
}

TableEntry entry(uint64_t n, Nanos until, Owner owner = Owner::operator_,
                 std::string_view id = {}) {
  TableEntry e;
  e.key = key(n);
  e.until = until;
  e.owner = owner;
  if (!id.empty()) e.id = *EntryId::parse(id);
  return e;
}

EntryId id(std::string_view text) {
  return *EntryId::parse(text);
}

// Keys whose hashes share a home slot in a table of `capacity` (2 x capacity slots), found by
// search with the fixed seed: the probe runs the seed's secrecy protects against in live runs.
std::vector<uint64_t> colliding_keys(const ExpiringTable& t, size_t count) {
  const uint32_t mask = static_cast<uint32_t>(t.capacity() * 2 - 1);
  const uint32_t home = t.hash(key(0)) & mask;
  std::vector<uint64_t> out{0};
  for (uint64_t n = 1; out.size() < count; ++n) {
    if ((t.hash(key(n)) & mask) == home) out.push_back(n);
  }
  return out;
}

TEST(ExpiringTable, CollidingKeysShareOneRunAndSurviveDeletionsInIt) {
  ExpiringTable t(8, kSeed, ExpiringTable::Identity::key);
  const auto keys = colliding_keys(t, 5);
  for (const uint64_t k : keys) ASSERT_EQ(t.upsert(entry(k, 100), 0).outcome, Outcome::added);
  // Remove from the middle and the head of the run: backward shift keeps the rest reachable.
  EXPECT_EQ(t.erase(key(keys[2]), {}, 0), Outcome::removed);
  EXPECT_EQ(t.erase(key(keys[0]), {}, 0), Outcome::removed);
  for (const size_t i : {1, 3, 4}) {
    EXPECT_NE(t.find_live(key(keys[i]), 0), ExpiringTable::kNoHandle) << i;
  }
  EXPECT_EQ(t.find_live(key(keys[2]), 0), ExpiringTable::kNoHandle);
  EXPECT_EQ(t.size(), 3u);
}

TEST(ExpiringTable, TheSeedDecidesTheHash) {
  const ExpiringTable a(8, 1, ExpiringTable::Identity::key);
  const ExpiringTable b(8, 2, ExpiringTable::Identity::key);
  int same = 0;
  for (uint64_t n = 0; n < 64; ++n) same += a.hash(key(n)) == b.hash(key(n));
  EXPECT_LT(same, 4);
}

TEST(ExpiringTable, AddExtendKeepAndReplaceAnExpiredEntry) {
  ExpiringTable t(4, kSeed, ExpiringTable::Identity::key);
  const auto first = t.upsert(entry(1, 100, Owner::operator_, "a"), 0);
  ASSERT_EQ(first.outcome, Outcome::added);
  EXPECT_EQ(t.upsert(entry(1, 200), 10).outcome, Outcome::extended);
  EXPECT_EQ(t.entry(first.handle).until, 200u);
  EXPECT_EQ(t.upsert(entry(1, 150), 10).outcome, Outcome::exists);  // never shortened
  EXPECT_EQ(t.entry(first.handle).until, 200u);
  EXPECT_EQ(t.entry(first.handle).id.view(), "a");  // an add without an id keeps the old one
  // Expired but not reclaimed: a new add starts afresh, in the same place.
  const auto again = t.upsert(entry(1, 500, Owner::control, "b"), 200);
  EXPECT_EQ(again.outcome, Outcome::added);
  EXPECT_EQ(again.handle, first.handle);
  EXPECT_EQ(t.entry(again.handle).owner, Owner::control);
  EXPECT_EQ(t.entry(again.handle).id.view(), "b");
  EXPECT_EQ(t.size(), 1u);
}

TEST(ExpiringTable, TheMoreAuthoritativeOwnerKeepsAnEntry) {
  ExpiringTable t(4, kSeed, ExpiringTable::Identity::key);
  const auto h = t.upsert(entry(1, 100, Owner::control, "cp"), 0).handle;
  t.upsert(entry(1, 50, Owner::operator_, "op"), 0);
  EXPECT_EQ(t.entry(h).owner, Owner::operator_);
  EXPECT_EQ(t.entry(h).id.view(), "op");
  EXPECT_EQ(t.entry(h).until, 100u);
  t.upsert(entry(1, 300, Owner::control, "cp2"), 0);  // control extends, cannot take it back
  EXPECT_EQ(t.entry(h).owner, Owner::operator_);
  EXPECT_EQ(t.entry(h).id.view(), "op");
  EXPECT_EQ(t.entry(h).until, 300u);
  EXPECT_EQ(t.erase_owned(Owner::control), 0u);
  EXPECT_EQ(t.size(), 1u);
}

TEST(ExpiringTable, FullIsRefusedAndCountedUntilRoomIsMade) {
  ExpiringTable t(3, kSeed, ExpiringTable::Identity::key);
  for (uint64_t n = 0; n < 3; ++n) ASSERT_EQ(t.upsert(entry(n, 100), 0).outcome, Outcome::added);
  const auto refused = t.upsert(entry(9, 100), 0);
  EXPECT_EQ(refused.outcome, Outcome::full);
  EXPECT_EQ(refused.handle, ExpiringTable::kNoHandle);
  EXPECT_EQ(t.full_rejections(), 1u);
  EXPECT_EQ(t.upsert(entry(1, 200), 0).outcome, Outcome::extended);  // updates still work
  EXPECT_EQ(t.erase(key(0), {}, 0), Outcome::removed);
  EXPECT_EQ(t.upsert(entry(9, 100), 0).outcome, Outcome::added);
  EXPECT_EQ(t.full_rejections(), 1u);
}

TEST(ExpiringTable, EraseOfAnExpiredEntryReclaimsItAsNotFound) {
  ExpiringTable t(4, kSeed, ExpiringTable::Identity::key);
  t.upsert(entry(1, 100), 0);
  EXPECT_EQ(t.erase(key(1), {}, 100), Outcome::not_found);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.erase(key(1), {}, 0), Outcome::not_found);
}

TEST(ExpiringTable, ExpiryVisitsAtMostTheBudgetPerCall) {
  constexpr size_t kCapacity = 64;
  ExpiringTable t(kCapacity, kSeed, ExpiringTable::Identity::key);
  for (uint64_t n = 0; n < kCapacity; ++n) t.upsert(entry(n, 10), 0);
  // All expired; each call reclaims at most `budget` of them, and calls continue where the
  // last one stopped (the cursor), so a full pass takes capacity / budget calls.
  size_t calls = 0;
  while (t.size() > 0) {
    const size_t before = t.size();
    const size_t removed = t.expire_some(10, 5);
    EXPECT_LE(removed, 5u);
    EXPECT_EQ(before - t.size(), removed);
    ASSERT_LT(++calls, 100u);
  }
  EXPECT_EQ(calls, (kCapacity + 4) / 5);
  // Live entries are left alone; the budget counts positions, not removals.
  for (uint64_t n = 0; n < 8; ++n) t.upsert(entry(n, n % 2 ? 100 : 10), 0);
  size_t removed = 0;
  for (size_t i = 0; i < kCapacity; ++i) removed += t.expire_some(50, 1);
  EXPECT_EQ(removed, 4u);
  EXPECT_EQ(t.size(), 4u);
}

TEST(ExpiringTable, FlushTakesOnlyTheOwnersEntriesUnlessAll) {
  ExpiringTable t(16, kSeed, ExpiringTable::Identity::key);
  for (uint64_t n = 0; n < 9; ++n) {
    t.upsert(entry(n, 100, n % 3 == 0 ? Owner::operator_ : Owner::control), 0);
  }
  EXPECT_EQ(t.erase_owned(Owner::control), 6u);
  EXPECT_EQ(t.size(), 3u);
  t.for_each(
      [](ExpiringTable::Handle, const TableEntry& e) { EXPECT_EQ(e.owner, Owner::operator_); });
  EXPECT_EQ(t.erase_owned(Owner::rules), 0u);
  EXPECT_EQ(t.erase_owned(std::nullopt), 3u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(ExpiringTable, KeyAndIdKeepsOneEntryPerIdUpToTheBound) {
  ExpiringTable t(16, kSeed, ExpiringTable::Identity::key_and_id, 3);
  EXPECT_EQ(t.upsert(entry(1, 100, Owner::control, "a"), 0).outcome, Outcome::added);
  EXPECT_EQ(t.upsert(entry(1, 100, Owner::control, "b"), 0).outcome, Outcome::added);
  EXPECT_EQ(t.upsert(entry(1, 200, Owner::control, "a"), 0).outcome, Outcome::extended);
  EXPECT_EQ(t.upsert(entry(1, 100, Owner::control), 0).outcome, Outcome::added);  // no id
  EXPECT_EQ(t.upsert(entry(1, 100, Owner::control, "d"), 0).outcome, Outcome::full);
  EXPECT_EQ(t.upsert(entry(2, 100, Owner::control, "d"), 0).outcome, Outcome::added);
  EXPECT_EQ(t.erase(key(1), id("a"), 0), Outcome::removed);
  EXPECT_EQ(t.erase(key(1), id("a"), 0), Outcome::not_found);
  EXPECT_NE(t.find_live(key(1), 0), ExpiringTable::kNoHandle);  // b and the id-less one
  EXPECT_EQ(t.upsert(entry(1, 100, Owner::control, "d"), 0).outcome, Outcome::added);
  // Expired references do not count against the bound.
  EXPECT_EQ(t.upsert(entry(1, 300, Owner::control, "e"), 150).outcome, Outcome::added);
}

// Random operations on a crowded table (long probe runs, wrap-around, backward shifts, the
// expiry cursor) against a std::map model.
TEST(ExpiringTable, MatchesAModelUnderRandomOperations) {
  constexpr size_t kCapacity = 40;
  ExpiringTable t(kCapacity, 7, ExpiringTable::Identity::key);
  std::map<uint64_t, std::pair<Nanos, Owner>> model;
  std::mt19937_64 rng(99);
  Nanos now = 0;
  for (int step = 0; step < 100'000; ++step) {
    now += rng() % 30;
    const uint64_t k = rng() % 64;
    const auto it = model.find(k);
    const bool live = it != model.end() && now < it->second.first;
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2:
      case 3: {
        const Nanos until = now + 1 + rng() % 2000;
        const Owner owner = rng() % 2 ? Owner::control : Owner::operator_;
        const auto r = t.upsert(entry(k, until, owner), now);
        if (it != model.end()) {
          ASSERT_EQ(r.outcome, !live                      ? Outcome::added
                               : until > it->second.first ? Outcome::extended
                                                          : Outcome::exists);
          it->second =
              live ? std::pair{std::max(until, it->second.first),
                               outranks_or_equal(owner, it->second.second) ? owner
                                                                           : it->second.second}
                   : std::pair{until, owner};
        } else if (model.size() < kCapacity) {
          ASSERT_EQ(r.outcome, Outcome::added);
          model[k] = {until, owner};
        } else {
          ASSERT_EQ(r.outcome, Outcome::full);
        }
        break;
      }
      case 4:
        ASSERT_EQ(t.erase(key(k), {}, now), live ? Outcome::removed : Outcome::not_found);
        model.erase(k);
        break;
      case 5: {
        // The model reclaims what the table reports reclaimed: expired entries only.
        const size_t before = t.size();
        const size_t removed = t.expire_some(now, 1 + rng() % 8);
        ASSERT_EQ(before - t.size(), removed);
        size_t expired_in_model = 0;
        for (const auto& [mk, v] : model) expired_in_model += v.first <= now;
        ASSERT_LE(removed, expired_in_model);
        std::set<uint64_t> stored;
        t.for_each([&](ExpiringTable::Handle, const TableEntry& e) { stored.insert(e.key.lo); });
        for (auto m = model.begin(); m != model.end();) {
          if (!stored.contains(m->first)) {
            ASSERT_LE(m->second.first, now) << "a live entry was reclaimed";
            m = model.erase(m);
          } else {
            ++m;
          }
        }
        break;
      }
      case 6:
        if (rng() % 50 == 0) {
          const Owner owner = rng() % 2 ? Owner::control : Owner::operator_;
          size_t expected = 0;
          for (auto m = model.begin(); m != model.end();) {
            if (m->second.second == owner) {
              m = model.erase(m);
              ++expected;
            } else {
              ++m;
            }
          }
          ASSERT_EQ(t.erase_owned(owner), expected);
        }
        break;
      default: {
        const auto h = t.find_live(key(k), now);
        ASSERT_EQ(h != ExpiringTable::kNoHandle, live) << "step " << step;
        if (live) {
          ASSERT_EQ(t.entry(h).until, it->second.first);
          ASSERT_EQ(t.entry(h).owner, it->second.second);
        }
      }
    }
    ASSERT_EQ(t.size(), model.size()) << "step " << step;
  }
}

}  // namespace
}  // namespace sipwall
