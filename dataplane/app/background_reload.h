#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sipwall {

// Runs rule reloads on a thread of their own, so the control thread keeps serving commands
// (bans must not wait up to the compile budget behind a reload).
//
// request() queues a reload for a requester (a control-socket client waiting for its reply, or
// none for SIGHUP and file changes) and returns at once. Requests that arrive while a reload
// compiles are served together by one more reload afterwards: each requester's answer comes from
// a reload that started after it asked, so it reflects the files as they were then or later.
// The owner polls fd() (an eventfd, readable when results are ready) and takes them with done().
class BackgroundReload {
 public:
  struct Request {
    std::string why;      // "SIGHUP", "rule file changed", "control socket"
    uint64_t client = 0;  // control-socket client to answer; 0: nobody
  };
  struct Result {
    std::vector<Request> requests;
    std::string outcome;  // RuleReloader::reload()'s answer
  };

  // `reload` runs on the background thread, one call at a time.
  explicit BackgroundReload(std::function<std::string()> reload);
  ~BackgroundReload();  // waits for a running reload to finish
  BackgroundReload(const BackgroundReload&) = delete;
  BackgroundReload& operator=(const BackgroundReload&) = delete;

  void request(Request r);
  int fd() const { return event_fd_; }
  // The finished reloads since the last call, oldest first.
  std::vector<Result> done();
  bool busy() const;

 private:
  void run();

  std::function<std::string()> reload_;
  int event_fd_ = -1;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Request> queued_;
  std::vector<Result> results_;
  bool running_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace sipwall
