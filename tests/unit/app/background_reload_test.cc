#include "background_reload.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>

namespace sipwall {
namespace {

// Waits (bounded) until the reload thread reports results, and takes them.
std::vector<BackgroundReload::Result> wait_done(BackgroundReload& r) {
  pollfd p{r.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1);
  return r.done();
}

TEST(BackgroundReload, RequestsDuringAReloadAreServedByOneMoreReload) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  std::atomic<bool> first_started{false};
  BackgroundReload r([&] {
    const int n = ++calls;
    if (n == 1) {
      first_started = true;
      released.wait();  // a long compile: the caller's thread is not held up
    }
    return "ok " + std::to_string(n);
  });
  r.request({"SIGHUP", 0});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!first_started && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(first_started);
  EXPECT_TRUE(r.busy());
  EXPECT_TRUE(r.done().empty());
  r.request({"control socket", 7});
  r.request({"control socket", 9});
  release.set_value();
  std::vector<BackgroundReload::Result> results;
  while (results.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    for (auto& x : wait_done(r)) results.push_back(std::move(x));
  }
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].outcome, "ok 1");
  ASSERT_EQ(results[0].requests.size(), 1u);
  EXPECT_EQ(results[0].requests[0].client, 0u);
  EXPECT_EQ(results[1].outcome, "ok 2");  // both waiting clients answered by one reload
  ASSERT_EQ(results[1].requests.size(), 2u);
  EXPECT_EQ(results[1].requests[0].client, 7u);
  EXPECT_EQ(results[1].requests[1].client, 9u);
  EXPECT_EQ(calls.load(), 2);
  EXPECT_FALSE(r.busy());
}

}  // namespace
}  // namespace sipwall
