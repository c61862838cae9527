// StreamServer on real loopback sockets: messages framed across reads, pings answered, a
// framing error or an invalid message closes the connection, per-source limits counted.
// Every wait is bounded.
#include "control/app/stream_server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "control/app/socket_address.h"

namespace sipwall::control {
namespace {

const std::string kRegister =
    "REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:a@x>;tag=1\r\n"
    "To: <sip:a@x>\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\nContent-Length: 4\r\n\r\nbody";

class StreamServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto fd = open_tcp_listener(*IpAddress::parse("127.0.0.1"), 0, 16);
    ASSERT_TRUE(fd.ok()) << fd.error();
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(*fd, reinterpret_cast<sockaddr*>(&ss), &len);
    IpAddress a;
    from_sockaddr(ss, a, port_);
    StreamLimits limits;
    limits.max_per_source = 2;
    server_ = std::make_unique<StreamServer>(
        loop_, *fd, limits, 1, [this](std::string_view m, const IpAddress&, uint16_t, uint64_t id) {
          messages_.emplace_back(m);
          last_id_ = id;
          return m.find("INVALID") == std::string_view::npos;
        });
  }

  int connect_client() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    const SocketAddress sa = to_sockaddr(*IpAddress::parse("127.0.0.1"), port_);
    EXPECT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&sa.storage), sa.length), 0);
    return fd;
  }

  // Runs the loop until `done` or 2 s.
  template <typename F>
  bool run_until(F done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      loop_.run_once(10);
    }
    return true;
  }

  // What the server sent (or "" on close / nothing within 1 s); true in `closed` on EOF.
  static std::string receive(int fd, bool* closed = nullptr) {
    timeval tv{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (closed) *closed = n == 0;
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }

  EventLoop loop_;
  uint16_t port_ = 0;
  std::unique_ptr<StreamServer> server_;
  std::vector<std::string> messages_;
  uint64_t last_id_ = 0;
};

TEST_F(StreamServerTest, FramesAcrossReadsAndAnswersPings) {
  const int c = connect_client();
  ASSERT_TRUE(run_until([&] { return server_->open_connections() == 1; }));
  const std::string two = kRegister + "\r\n\r\n" + kRegister;  // message, ping, message
  ASSERT_EQ(write(c, two.data(), 30), 30);
  loop_.run_once(50);
  EXPECT_TRUE(messages_.empty());
  ASSERT_EQ(write(c, two.data() + 30, two.size() - 30), static_cast<ssize_t>(two.size() - 30));
  ASSERT_TRUE(run_until([&] { return messages_.size() == 2; }));
  EXPECT_EQ(messages_[0], kRegister);
  EXPECT_EQ(receive(c), "\r\n");  // the pong
  // The server answers on the connection by id.
  EXPECT_TRUE(server_->send(last_id_, "SIP/2.0 200 OK\r\n"));
  EXPECT_EQ(receive(c), "SIP/2.0 200 OK\r\n");
  EXPECT_EQ(server_->counters().pings, 1u);
  close(c);
  ASSERT_TRUE(run_until([&] { return server_->open_connections() == 0; }));
  EXPECT_FALSE(server_->send(last_id_, "late"));
}

TEST_F(StreamServerTest, FramingErrorAndInvalidMessageClose) {
  const int c = connect_client();
  const std::string no_length = "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
  ASSERT_EQ(write(c, no_length.data(), no_length.size()), static_cast<ssize_t>(no_length.size()));
  ASSERT_TRUE(run_until([&] { return server_->counters().framing_errors == 1; }));
  bool closed = false;
  receive(c, &closed);
  EXPECT_TRUE(closed);
  close(c);

  const int d = connect_client();
  std::string invalid = kRegister;
  invalid.replace(invalid.find("body"), 4, "INVA");
  invalid.replace(invalid.find("Call-ID: c"), 10, "Call-ID: INVALID");
  ASSERT_EQ(write(d, invalid.data(), invalid.size()), static_cast<ssize_t>(invalid.size()));
  ASSERT_TRUE(run_until([&] { return server_->counters().invalid_messages == 1; }));
  receive(d, &closed);
  EXPECT_TRUE(closed);
  close(d);
}

TEST_F(StreamServerTest, PerSourceLimit) {
  const int a = connect_client();
  const int b = connect_client();
  const int c = connect_client();
  ASSERT_TRUE(run_until([&] { return server_->counters().refused_per_source == 1; }));
  EXPECT_EQ(server_->open_connections(), 2u);
  bool closed = false;
  receive(c, &closed);
  EXPECT_TRUE(closed);
  for (const int fd : {a, b, c}) close(fd);
}

TEST_F(StreamServerTest, IdleConnectionsAreClosed) {
  const int c = connect_client();
  server_->set_now(kNanosPerSecond);
  ASSERT_TRUE(run_until([&] { return server_->open_connections() == 1; }));
  server_->sweep(kNanosPerSecond + 299 * kNanosPerSecond);
  EXPECT_EQ(server_->open_connections(), 1u);
  server_->sweep(kNanosPerSecond + 301 * kNanosPerSecond);
  EXPECT_EQ(server_->open_connections(), 0u);
  EXPECT_EQ(server_->counters().idle_closed, 1u);
  close(c);
}

}  // namespace
}  // namespace sipwall::control
