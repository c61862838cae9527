#include "worker_mailbox.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "pipeline/filter_policy.h"
#include "sig/signature_set.h"

namespace sipwall {
namespace {

// Two workers' pipelines, each with its own mailbox, driven by hand: "a worker's turn" is a
// drain() call, as between two bursts.
class WorkerMailboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FilterConfig config;
    config.limits.table_capacity = 1024;
    config.ban_capacity = 4;
    auto signatures = SignatureSet::compile({});
    ASSERT_TRUE(signatures) << signatures.error;
    auto built = FilterPolicy::build(config, std::move(signatures.set), 2);
    ASSERT_TRUE(built.policy) << built.error;
    policy_ = std::move(built.policy);
    for (size_t w = 0; w < 2; ++w) pipelines_.push_back(std::make_unique<Pipeline>(*policy_, w));
    ASSERT_EQ(boxes_.create(2, 4), "");
  }

  std::unique_ptr<UpdateBatch> ban(const char* prefix, uint64_t client) {
    auto b = std::make_unique<UpdateBatch>();
    b->client = client;
    b->work.updates.push_back(StateUpdate{AddPrefix{
        StateTable::ban, *IpPrefix::parse(prefix), 100 * kNanosPerSecond, {}, Owner::operator_}});
    return b;
  }
  void turn(unsigned worker) { boxes_.of(worker).drain(*pipelines_[worker], 0); }
  bool banned(unsigned worker, const char* address) {
    return pipelines_[worker]->dynamic_state().bans().match(*IpAddress::parse(address), 0) !=
           ExpiringPrefixTable::kNoHandle;
  }

  std::unique_ptr<const FilterPolicy> policy_;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
  WorkerMailboxes boxes_;
};

TEST_F(WorkerMailboxTest, ABatchIsDoneOnlyOnceEveryWorkerAppliedIt) {
  EXPECT_TRUE(boxes_.idle());
  EXPECT_EQ(boxes_.publish(ban("192.0.2.1", 7)), 1u);
  EXPECT_FALSE(boxes_.idle());
  EXPECT_TRUE(boxes_.of(0).pending());
  EXPECT_TRUE(boxes_.collect().empty());
  turn(0);
  EXPECT_TRUE(banned(0, "192.0.2.1"));
  EXPECT_FALSE(banned(1, "192.0.2.1"));
  EXPECT_FALSE(boxes_.of(0).pending());
  EXPECT_EQ(boxes_.applied_by_all(), 0u);
  EXPECT_TRUE(boxes_.collect().empty()) << "worker 1 has not applied it";
  turn(1);
  EXPECT_TRUE(banned(1, "192.0.2.1"));
  auto done = boxes_.collect();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]->client, 7u);
  EXPECT_EQ(done[0]->seq, 1u);
  EXPECT_FALSE(done[0]->worker_full[0] || done[0]->worker_full[1]);
  EXPECT_TRUE(boxes_.idle());
}

TEST_F(WorkerMailboxTest, MoreBatchesThanTheRingsHoldWaitAndKeepTheirOrder) {
  // Depth 4: three in flight at most; the rest wait in order.
  const char* prefixes[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"};
  for (uint64_t i = 0; i < 5; ++i) boxes_.publish(ban(prefixes[i], i + 1));
  turn(0);
  turn(1);
  auto first = boxes_.collect();
  ASSERT_EQ(first.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) EXPECT_EQ(first[i]->client, i + 1);
  EXPECT_FALSE(banned(0, "10.0.0.4"));
  turn(0);
  turn(1);
  auto rest = boxes_.collect();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0]->client, 4u);
  EXPECT_EQ(rest[1]->client, 5u);
  // The fifth ban met a full table (capacity 4) on both workers: reported per worker.
  EXPECT_TRUE(rest[1]->worker_full[0] && rest[1]->worker_full[1]);
  EXPECT_FALSE(rest[0]->worker_full[0]);
  EXPECT_TRUE(boxes_.idle());
}

}  // namespace
}  // namespace sipwall
