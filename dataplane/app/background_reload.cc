#include "background_reload.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>
#include <utility>

namespace sipwall {

BackgroundReload::BackgroundReload(std::function<std::string()> reload)
    : reload_(std::move(reload)), event_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (event_fd_ < 0) throw std::runtime_error("eventfd failed");
  thread_ = std::thread([this] { run(); });
}

BackgroundReload::~BackgroundReload() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  ::close(event_fd_);
}

void BackgroundReload::request(Request r) {
  {
    std::lock_guard lock(mutex_);
    queued_.push_back(std::move(r));
  }
  wake_.notify_all();
}

bool BackgroundReload::busy() const {
  std::lock_guard lock(mutex_);
  return running_ || !queued_.empty();
}

std::vector<BackgroundReload::Result> BackgroundReload::done() {
  uint64_t count = 0;
  (void)::read(event_fd_, &count, sizeof count);  // EAGAIN when nothing is signalled
  std::lock_guard lock(mutex_);
  return std::exchange(results_, {});
}

void BackgroundReload::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || !queued_.empty(); });
    if (stop_) return;
    Result result;
    result.requests = std::exchange(queued_, {});
    running_ = true;
    lock.unlock();
    result.outcome = reload_();
    lock.lock();
    running_ = false;
    results_.push_back(std::move(result));
    const uint64_t one = 1;
    (void)::write(event_fd_, &one, sizeof one);
  }
}

}  // namespace sipwall
