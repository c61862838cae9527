#include "state_service.h"

#include <gtest/gtest.h>

#include <string>

namespace sipwall {
namespace {

constexpr Nanos kSec = kNanosPerSecond;

Command cmd(std::string_view line) {
  ParseResult r = parse_command(line);
  EXPECT_TRUE(std::holds_alternative<Command>(r)) << line;
  return std::get<Command>(r);
}

class StateServiceTest : public ::testing::Test {
 protected:
  StateServiceTest() : service_(DynamicStateConfig{2, 4, 4, false, 1}) {}

  // Runs a command as live mode does with every worker agreeing: the reply text.
  std::string run(std::string_view line, uint64_t session = 1, Nanos now = 0) {
    StateService::Step step = service_.execute(session, cmd(line), now);
    if (step.reply) return format_reply(*step.reply);
    EXPECT_TRUE(step.work.has_value());
    ++published_;
    return format_reply(StateService::reply_after(*step.work, false));
  }

  StateService service_;
  int published_ = 0;
};

TEST_F(StateServiceTest, FullIsKnownBeforeAnyWorkerIsTouched) {
  EXPECT_EQ(run("ban add 192.0.2.1 ttl=60"), "ok");
  EXPECT_EQ(run("ban add 192.0.2.2 ttl=60 id=x"), "ok");
  EXPECT_EQ(published_, 2);
  EXPECT_EQ(run("ban add 192.0.2.3 ttl=60"), "full");
  EXPECT_EQ(published_, 2) << "a full table sends nothing to the workers";
  EXPECT_EQ(service_.full_rejections(), 1u);
  EXPECT_EQ(run("ban add 192.0.2.1 ttl=120"), "exists: ttl extended");
  // A worker that found its own table full makes the reply full.
  StateService::Step step = service_.execute(1, cmd("ban del 192.0.2.2"), 0);
  ASSERT_TRUE(step.work);
  EXPECT_EQ(format_reply(StateService::reply_after(*step.work, true)), "full");
}

TEST_F(StateServiceTest, BanAddsCarryTheMetricLabelOfTheirId) {
  StateService service(DynamicStateConfig{16, 4, 4, false, 1});
  auto label_of = [&](std::string_view line, uint64_t session = 1) {
    StateService::Step step = service.execute(session, cmd(line), 0);
    EXPECT_TRUE(step.work) << line;
    if (!step.work) return BanLabel{255};
    const auto& op = step.work->updates.back().op;
    if (const auto* r = std::get_if<ReplaceOwned>(&op)) {
      return std::get<AddPrefix>(r->entries().back().op).label;
    }
    return std::get<AddPrefix>(op).label;
  };
  const BanLabel scan = label_of("ban add 192.0.2.0/24 ttl=60 id=scan-42");
  EXPECT_NE(scan, kOtherBanLabel);
  EXPECT_EQ(service.ban_labels().name(scan), "scan-42");
  EXPECT_EQ(label_of("ban add 192.0.2.7 ttl=60 id=scan-42"), scan);
  EXPECT_EQ(label_of("ban add 192.0.2.8 ttl=60"), kOtherBanLabel);
  EXPECT_EQ(label_of("ban add 192.0.2.9 ttl=60 id=auth-fail-9 as=control"), kOtherBanLabel);
  // Trust entries have no series; a sync's adds are labelled like any other.
  EXPECT_EQ(label_of("trust add 198.51.100.1 ttl=60 id=carrier"), kOtherBanLabel);
  EXPECT_EQ(service.ban_labels().size(), 2u);
  service.execute(2, cmd("sync begin 1"), 0);
  service.execute(2, cmd("ban add 203.0.113.0/24 ttl=60 id=sync-1"), 0);
  const BanLabel synced = label_of("sync end", 2);
  EXPECT_EQ(service.ban_labels().name(synced), "sync-1");
}

TEST_F(StateServiceTest, ListShowsEntriesAsCommandsWithTheTimeLeft) {
  run("ban add 192.0.2.0/24 ttl=60 id=scan as=control");
  run("ban add 198.51.100.7 ttl=30");
  const std::string all = run("ban list", 1, 10 * kSec);
  EXPECT_NE(all.find("ban add 192.0.2.0/24 ttl=50 id=scan as=control"), std::string::npos) << all;
  EXPECT_NE(all.find("ban add 198.51.100.7/32 ttl=20"), std::string::npos) << all;
  EXPECT_NE(all.find("count=2"), std::string::npos) << all;
  const std::string some = run("ban list 192.0.2.9");
  EXPECT_NE(some.find("count=1"), std::string::npos) << some;
  EXPECT_EQ(some.find("198.51.100.7"), std::string::npos) << some;
}

TEST_F(StateServiceTest, SyncReplacesOnlyTheCallersEntriesInOneStep) {
  run("ban add 192.0.2.1 ttl=60 as=control");
  run("ban add 192.0.2.2 ttl=60");  // the operator's
  EXPECT_EQ(run("sync begin 7 as=control"), "ok epoch=7");
  EXPECT_TRUE(service_.syncing(1));
  EXPECT_EQ(run("ban add 203.0.113.5 ttl=60 as=control"), "ok buffered=1");
  EXPECT_EQ(service_.state().bans().size(), 2u) << "nothing applied before sync end";
  EXPECT_NE(run("ban del 192.0.2.2 as=control").find("error"), std::string::npos);
  EXPECT_NE(run("ban add 203.0.113.6 ttl=60").find("error"), std::string::npos)
      << "another owner inside the sync";
  // Another connection is not syncing: its commands apply at once.
  EXPECT_EQ(run("trust add 198.51.100.0/24 ttl=60", 2), "ok");
  const std::string end = run("sync end");
  EXPECT_EQ(end.rfind("ok", 0), 0u) << end;
  EXPECT_NE(end.find("epoch=7"), std::string::npos) << end;
  const auto& bans = service_.state().bans();
  EXPECT_EQ(bans.size(), 2u);
  EXPECT_NE(bans.find(*IpPrefix::parse("192.0.2.2")), ExpiringPrefixTable::kNoHandle);
  EXPECT_NE(bans.find(*IpPrefix::parse("203.0.113.5")), ExpiringPrefixTable::kNoHandle);
  EXPECT_EQ(bans.find(*IpPrefix::parse("192.0.2.1")), ExpiringPrefixTable::kNoHandle);
  EXPECT_NE(run("sync end").find("error"), std::string::npos);
}

TEST_F(StateServiceTest, AnAbandonedSyncAppliesNothing) {
  run("ban add 192.0.2.1 ttl=60 as=control");
  run("sync begin 1 as=control");
  run("ban add 203.0.113.5 ttl=60 as=control");
  service_.end_session(1);
  EXPECT_FALSE(service_.syncing(1));
  EXPECT_EQ(service_.state().bans().size(), 1u);
  EXPECT_NE(service_.state().bans().find(*IpPrefix::parse("192.0.2.1")),
            ExpiringPrefixTable::kNoHandle);
}

TEST_F(StateServiceTest, FlushTouchesOnlyTheCallersOwnEntries) {
  run("ban add 192.0.2.1 ttl=60 as=control");
  run("ban add 192.0.2.2 ttl=60");
  EXPECT_EQ(run("ban flush as=control"), "ok removed=1");
  EXPECT_EQ(service_.state().bans().size(), 1u);
  EXPECT_EQ(run("ban flush owner=all"), "ok removed=1");
  EXPECT_EQ(service_.state().bans().size(), 0u);
}

}  // namespace
}  // namespace sipwall
