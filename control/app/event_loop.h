#pragma once

// One epoll instance and the handler of each descriptor. Single-threaded: handlers run inside
// run_once(), and may add or remove descriptors (their own included) while they run.

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

namespace sipwall::control {

class EventLoop {
 public:
  using Handler = std::function<void(uint32_t events)>;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // False (errno set) when epoll refuses the descriptor.
  bool add(int fd, uint32_t events, Handler handler);
  bool modify(int fd, uint32_t events);
  void remove(int fd);

  // Waits up to `timeout_ms` for events and runs their handlers.
  void run_once(int timeout_ms);

 private:
  int epoll_fd_ = -1;
  std::unordered_map<int, std::shared_ptr<Handler>> handlers_;
};

}  // namespace sipwall::control
