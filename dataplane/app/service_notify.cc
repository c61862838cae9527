#include "service_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace sipwall {

ServiceNotifier::ServiceNotifier() {
  const char* socket_name = std::getenv("NOTIFY_SOCKET");
  if (socket_name && (socket_name[0] == '/' || socket_name[0] == '@') &&
      std::strlen(socket_name) < sizeof(sockaddr_un::sun_path)) {
    address_ = socket_name;
    if (address_[0] == '@') address_[0] = '\0';  // abstract namespace
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  const char* pid = std::getenv("WATCHDOG_PID");
  const char* usec = std::getenv("WATCHDOG_USEC");
  if (usec && (!pid || std::strtoll(pid, nullptr, 10) == getpid())) {
    char* end = nullptr;
    const long long n = std::strtoll(usec, &end, 10);
    if (end && *end == '\0' && n > 0) watchdog_ = std::chrono::microseconds(n);
  }
}

ServiceNotifier::~ServiceNotifier() {
  if (fd_ >= 0) close(fd_);
}

bool ServiceNotifier::notify(std::string_view state) const {
  if (fd_ < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, address_.data(), address_.size());
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size() +
                                             (address_[0] == '\0' ? 0 : 1));
  const ssize_t sent = sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL,
                              reinterpret_cast<const sockaddr*>(&addr), length);
  return sent == static_cast<ssize_t>(state.size());
}

int LoopProgress::stuck_worker(std::span<const uint64_t> loops) {
  int stuck = -1;
  if (last_.size() == loops.size()) {
    for (size_t w = 0; w < loops.size(); ++w) {
      if (loops[w] == last_[w]) {
        stuck = static_cast<int>(w);
        break;
      }
    }
  }
  last_.assign(loops.begin(), loops.end());
  return stuck;
}

}  // namespace sipwall
