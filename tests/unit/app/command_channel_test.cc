#include "command_channel.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "pipeline/filter_policy.h"
#include "sig/signature_set.h"

namespace sipwall {
namespace {

namespace fs = std::filesystem;

// The command channel with two workers driven by hand: "a worker's turn" is its drain between
// two bursts, so the test decides exactly when each worker applies.
class CommandChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.limits.table_capacity = 1024;
    config_.ban_capacity = 8;
    auto signatures = SignatureSet::compile({});
    ASSERT_TRUE(signatures) << signatures.error;
    auto built = FilterPolicy::build(config_, std::move(signatures.set), 2);
    ASSERT_TRUE(built.policy) << built.error;
    policy_ = std::move(built.policy);
    std::string tmpl = (fs::temp_directory_path() / "sipwall-channel-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<CommandChannel> channel(const std::string& state_file = "") {
    auto c = std::make_unique<CommandChannel>(dynamic_state_config(config_), state_file,
                                              [this] { return now_; });
    EXPECT_EQ(c->create_mailboxes(2), "");
    pipelines_.clear();
    for (size_t w = 0; w < 2; ++w) pipelines_.push_back(std::make_unique<Pipeline>(*policy_, w));
    return c;
  }
  void turn(CommandChannel& c, unsigned w) { c.mailbox(w)->drain(*pipelines_[w], now_); }
  std::vector<std::pair<uint64_t, std::string>> poll(CommandChannel& c) {
    std::vector<std::pair<uint64_t, std::string>> replies;
    c.poll([&](uint64_t client, const std::string& r) { replies.emplace_back(client, r); });
    return replies;
  }
  bool banned(unsigned w, const char* address) {
    return pipelines_[w]->dynamic_state().bans().match(*IpAddress::parse(address), now_) !=
           ExpiringPrefixTable::kNoHandle;
  }

  FilterConfig config_;
  std::unique_ptr<const FilterPolicy> policy_;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
  Nanos now_ = 5 * kNanosPerSecond;
  fs::path dir_;
};

TEST_F(CommandChannelTest, TheReplyWaitsUntilEveryWorkerEnforcesTheCommand) {
  auto c = channel();
  EXPECT_EQ(c->execute(7, "ban add 192.0.2.1 ttl=60 id=b1"), std::nullopt);
  EXPECT_TRUE(c->busy());
  EXPECT_TRUE(poll(*c).empty());
  turn(*c, 1);
  EXPECT_TRUE(poll(*c).empty()) << "worker 0 does not enforce it yet";
  EXPECT_FALSE(banned(0, "192.0.2.1"));
  turn(*c, 0);
  const auto replies = poll(*c);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0], (std::pair<uint64_t, std::string>{7, "ok"}));
  EXPECT_TRUE(banned(0, "192.0.2.1") && banned(1, "192.0.2.1"));
  EXPECT_FALSE(c->busy());
  EXPECT_EQ(c->metrics().applied.at("ban add"), 1u);
  EXPECT_EQ(c->metrics().apply_latency.count, 1u);
  // Reads and refusals are answered at once and reach no worker.
  const auto listed = c->execute(7, "ban list");
  ASSERT_TRUE(listed);
  EXPECT_NE(listed->find("count=1"), std::string::npos) << *listed;
  EXPECT_EQ(c->execute(7, "ban add 192.0.2.300 ttl=5")->rfind("error: 9: ", 0), 0u);
  EXPECT_FALSE(c->busy());
}

TEST_F(CommandChannelTest, FullIsAnsweredWithoutTouchingTheWorkers) {
  auto c = channel();
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(c->execute(1, "ban add 10.0.0." + std::to_string(i) + " ttl=60"), std::nullopt);
  }
  EXPECT_EQ(c->execute(1, "ban add 10.0.1.1 ttl=60"), "full");
  turn(*c, 0);
  turn(*c, 1);
  EXPECT_EQ(poll(*c).size(), 8u);
  EXPECT_EQ(c->metrics().tables[0].size, 8u);
  EXPECT_EQ(c->metrics().tables[0].full_rejections, 1u);
  EXPECT_FALSE(banned(0, "10.0.1.1"));
}

TEST_F(CommandChannelTest, TheStateFileBringsBansBackToEveryWorker) {
  const std::string path = (dir_ / "state").string();
  {
    auto c = channel(path);
    c->execute(1, "ban add 192.0.2.0/24 ttl=600 id=keep");
    c->execute(1, "trust add 198.51.100.7 ttl=600");
    turn(*c, 0);
    turn(*c, 1);
    poll(*c);
    ASSERT_EQ(c->save(), "");
  }
  now_ = 1000 * kNanosPerSecond;  // a new process: its clock starts elsewhere
  auto c = channel(path);
  EXPECT_EQ(c->restore(), "state file " + path + ": 2 entries restored, 0 expired");
  turn(*c, 0);
  turn(*c, 1);
  EXPECT_TRUE(banned(0, "192.0.2.77") && banned(1, "192.0.2.77"));
  EXPECT_EQ(pipelines_[1]->ban_id(
                pipelines_[1]->dynamic_state().bans().match(*IpAddress::parse("192.0.2.77"), now_)),
            "keep");
  EXPECT_TRUE(pipelines_[0]->trusted_dynamic(*IpAddress::parse("198.51.100.7"), now_));
  // A corrupt file: refused with the reason, nothing restored.
  { std::ofstream(path) << "# sipwall dynamic state v1\nban add 192.0.2.1 ttl=5\n"; }
  auto d = channel(path);
  EXPECT_NE(d->restore().find("state file refused"), std::string::npos);
  EXPECT_FALSE(d->busy());
}

}  // namespace
}  // namespace sipwall
