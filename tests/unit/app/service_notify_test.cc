#include "service_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace sipwall {
namespace {

// A datagram socket standing in for systemd's notification socket.
class FakeSystemd {
 public:
  explicit FakeSystemd(const std::string& name) : name_(name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                               (name[0] == '@' ? 0 : 1));
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), length), 0) << strerror(errno);
    timeval timeout{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  ~FakeSystemd() {
    close(fd_);
    if (name_[0] == '/') unlink(name_.c_str());
    unsetenv("NOTIFY_SOCKET");
  }
  std::string receive() const {
    char buf[256];
    const ssize_t n = recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
  }

 private:
  std::string name_;
  int fd_ = -1;
};

TEST(ServiceNotifier, SendsToASocketPath) {
  const std::string path = "/tmp/sipwall-notify-test-" + std::to_string(getpid());
  FakeSystemd systemd(path);
  ServiceNotifier notifier;
  ASSERT_TRUE(notifier.enabled());
  EXPECT_TRUE(notifier.notify("READY=1\nSTATUS=filtering"));
  EXPECT_EQ(systemd.receive(), "READY=1\nSTATUS=filtering");
  EXPECT_TRUE(notifier.notify("WATCHDOG=1"));
  EXPECT_EQ(systemd.receive(), "WATCHDOG=1");
}

TEST(ServiceNotifier, SendsToAnAbstractSocket) {
  FakeSystemd systemd("@sipwall-notify-test-" + std::to_string(getpid()));
  ServiceNotifier notifier;
  EXPECT_TRUE(notifier.notify("STOPPING=1"));
  EXPECT_EQ(systemd.receive(), "STOPPING=1");
}

TEST(ServiceNotifier, DoesNothingOutsideSystemd) {
  unsetenv("NOTIFY_SOCKET");
  ServiceNotifier notifier;
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.notify("READY=1"));
}

TEST(ServiceNotifier, TheWatchdogIntervalIsForThisProcessOnly) {
  setenv("WATCHDOG_USEC", "20000000", 1);
  unsetenv("WATCHDOG_PID");
  EXPECT_EQ(ServiceNotifier().watchdog_interval(), std::chrono::seconds(20));
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(ServiceNotifier().watchdog_interval(), std::chrono::seconds(20));
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  EXPECT_EQ(ServiceNotifier().watchdog_interval().count(), 0) << "another process's watchdog";
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  setenv("WATCHDOG_USEC", "soon", 1);
  EXPECT_EQ(ServiceNotifier().watchdog_interval().count(), 0);
  unsetenv("WATCHDOG_USEC");
  unsetenv("WATCHDOG_PID");
  EXPECT_EQ(ServiceNotifier().watchdog_interval().count(), 0);
}

TEST(LoopProgress, NamesAWorkerWhoseLoopStoodStill) {
  LoopProgress progress;
  EXPECT_EQ(progress.stuck_worker(std::vector<uint64_t>{5, 9}), -1) << "first look: nothing";
  EXPECT_EQ(progress.stuck_worker(std::vector<uint64_t>{6, 10}), -1);
  EXPECT_EQ(progress.stuck_worker(std::vector<uint64_t>{7, 10}), 1);
  EXPECT_EQ(progress.stuck_worker(std::vector<uint64_t>{8, 11}), -1) << "it moves again";
  EXPECT_EQ(progress.stuck_worker(std::vector<uint64_t>{8, 12}), 0);
}

}  // namespace
}  // namespace sipwall
