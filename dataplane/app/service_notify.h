#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sipwall {

// The systemd service notification protocol (sd_notify(3)) without libsystemd: datagrams such
// as "READY=1" or "WATCHDOG=1" to the Unix socket named by $NOTIFY_SOCKET (a path, or an
// abstract name starting with '@'). Without $NOTIFY_SOCKET (not started by systemd with
// Type=notify) every call does nothing. The watchdog interval is $WATCHDOG_USEC when
// $WATCHDOG_PID is unset or names this process.
class ServiceNotifier {
 public:
  ServiceNotifier();  // reads the environment
  ~ServiceNotifier();
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  bool enabled() const { return fd_ >= 0; }
  // Zero when systemd asked for no watchdog.
  std::chrono::microseconds watchdog_interval() const { return watchdog_; }

  // Sends one notification (lines "KEY=VALUE"); false when it could not be sent.
  bool notify(std::string_view state) const;

 private:
  int fd_ = -1;
  std::string address_;  // sockaddr_un path bytes ('\0'-prefixed when abstract)
  std::chrono::microseconds watchdog_{0};
};

// Whether every worker's poll loop advanced since the last check: a worker whose iteration
// count stood still for a whole watchdog period is stuck (a loop that never returns, a
// deadlock), and then the watchdog must not be fed, so systemd restarts the process.
class LoopProgress {
 public:
  // `loops`: each worker's iteration count now. Returns the index of a worker that did not
  // advance since the previous call, or -1 when all did (always -1 on the first call).
  int stuck_worker(std::span<const uint64_t> loops);

 private:
  std::vector<uint64_t> last_;
};

}  // namespace sipwall
