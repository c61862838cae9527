#include "control_socket.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sipwall {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr auto kWait = std::chrono::seconds(2);

std::string echo(std::string_view cmd) {
  if (cmd == "fail") throw std::runtime_error("boom");
  if (cmd == "fail-odd") throw 42;
  if (cmd == "empty") return "";
  if (cmd == "dots") return ".\n..x\nplain\n.";
  if (cmd.substr(0, 4) == "big ") return std::string(std::stoul(std::string(cmd.substr(4))), 'b');
  return "echo " + std::string(cmd);
}

// A client driven by hand, so one thread can interleave it with the server.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void send(std::string_view s) {
    ASSERT_EQ(::send(fd_, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Serves `server` until a whole reply arrived; returns it without the "." line (and
  // dot-stuffing undone), or nullopt when the connection closed or 2 s passed.
  std::optional<std::string> reply(ControlSocket& server) {
    auto deadline = Clock::now() + kWait;
    for (;;) {
      if (auto r = take_reply()) return r;
      if (eof_ || Clock::now() > deadline) return std::nullopt;
      pump(server, 20);
    }
  }
  // Serves `server` until the server closed this connection (true) or 2 s passed (false).
  bool closed_by_server(ControlSocket& server) {
    auto deadline = Clock::now() + kWait;
    while (!eof_ && Clock::now() < deadline) pump(server, 20);
    return eof_;
  }
  // Nothing but what was received so far; for checking that no reply came.
  const std::string& received() const { return in_; }

  // One round: wait up to `ms` for the server or this client, serve, read what is there.
  void pump(ControlSocket& server, int ms) {
    pollfd p[2] = {{server.fd(), POLLIN, 0}, {fd_, POLLIN, 0}};
    ::poll(p, 2, ms);
    server.service();
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        eof_ = true;
      }
      break;
    }
  }

 private:
  std::optional<std::string> take_reply() {
    std::string body;
    for (size_t pos = 0, nl; (nl = in_.find('\n', pos)) != std::string::npos; pos = nl + 1) {
      std::string_view line(in_.data() + pos, nl - pos);
      if (line == ".") {
        in_.erase(0, nl + 1);
        return body;
      }
      if (!line.empty() && line[0] == '.') line.remove_prefix(1);
      body.append(line);
      body += '\n';
    }
    return std::nullopt;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string in_;
};

class ControlSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "sipwall-ctl-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "dataplane.sock").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Serves `server` on another thread while the test thread uses control_request().
  class Background {
   public:
    explicit Background(ControlSocket& s)
        : thread_([this, &s] {
            while (!stop_) {
              pollfd p{s.fd(), POLLIN, 0};
              ::poll(&p, 1, 10);
              s.service();
            }
          }) {}
    ~Background() {
      stop_ = true;
      thread_.join();
    }

   private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
  };

  // Connects kMaxClients clients and serves until the server has accepted them all.
  std::vector<std::unique_ptr<RawClient>> fill_every_slot(ControlSocket& s) {
    std::vector<std::unique_ptr<RawClient>> clients;
    for (size_t i = 0; i < ControlSocket::kMaxClients; ++i) {
      clients.push_back(std::make_unique<RawClient>(path_));
      EXPECT_TRUE(clients.back()->connected());
    }
    const auto deadline = Clock::now() + kWait;
    while (s.client_count() < ControlSocket::kMaxClients && Clock::now() < deadline) {
      clients[0]->pump(s, 20);
    }
    EXPECT_EQ(s.client_count(), ControlSocket::kMaxClients);
    return clients;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(ControlSocketTest, RequestAndReply) {
  ControlSocket s;
  EXPECT_EQ(s.fd(), -1);
  ASSERT_EQ(s.open(path_, echo), "");
  ASSERT_GE(s.fd(), 0);
  struct stat st;
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  Background bg(s);
  EXPECT_EQ(control_request(path_, "status", 2000), "echo status\n");
  EXPECT_EQ(control_request(path_, "empty", 2000), "");
  EXPECT_EQ(control_request(path_, "dots", 2000), ".\n..x\nplain\n.\n");
  EXPECT_EQ(control_request(path_, "big 300000", 2000), std::string(300000, 'b') + "\n");
  EXPECT_THROW(control_request(path_, "two\nlines", 2000), std::invalid_argument);
}

TEST_F(ControlSocketTest, SocketFileRemovedOnDestruction) {
  {
    ControlSocket s;
    ASSERT_EQ(s.open(path_, echo), "");
    EXPECT_TRUE(fs::exists(fs::symlink_status(path_)));
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(path_)));
}

TEST_F(ControlSocketTest, SeveralCommandsOnOneConnection) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  RawClient c(path_);
  ASSERT_TRUE(c.connected());
  c.send("one\ntwo\r\n\nthree\n");  // CRLF accepted, the empty line ignored
  EXPECT_EQ(c.reply(s), "echo one\n");
  EXPECT_EQ(c.reply(s), "echo two\n");
  EXPECT_EQ(c.reply(s), "echo three\n");
  c.send("four\n");
  EXPECT_EQ(c.reply(s), "echo four\n");
  EXPECT_EQ(s.client_count(), 1u);
}

TEST_F(ControlSocketTest, TwoClientsInterleaved) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  RawClient a(path_);
  RawClient b(path_);
  a.send("first-");
  a.pump(s, 0);
  b.send("second\n");
  EXPECT_EQ(b.reply(s), "echo second\n");
  EXPECT_EQ(a.received(), "");
  a.send("half\n");
  b.send("again\n");
  EXPECT_EQ(a.reply(s), "echo first-half\n");
  EXPECT_EQ(b.reply(s), "echo again\n");
  EXPECT_EQ(s.client_count(), 2u);
}

TEST_F(ControlSocketTest, PartialLineDeliveredInPieces) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  RawClient c(path_);
  for (std::string_view piece : {"st", "a", "tu"}) {
    c.send(piece);
    c.pump(s, 20);
    c.pump(s, 0);
    EXPECT_EQ(c.received(), "") << "no reply before the line is complete";
  }
  c.send("s\n");
  EXPECT_EQ(c.reply(s), "echo status\n");
}

TEST_F(ControlSocketTest, LineOfTheMaximumLengthIsServed) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  RawClient c(path_);
  std::string line(ControlSocket::kMaxLine, 'x');
  c.send(line + "\r\n");
  EXPECT_EQ(c.reply(s), "echo " + line + "\n");
}

TEST_F(ControlSocketTest, LongLineIsRefusedAndTheClientClosed) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  RawClient partial(path_);  // never ends its line
  partial.send("ok\n" + std::string(ControlSocket::kMaxLine + 100, 'x'));
  EXPECT_EQ(partial.reply(s), "echo ok\n");
  EXPECT_EQ(partial.reply(s), "error: line too long\n");
  EXPECT_TRUE(partial.closed_by_server(s));

  RawClient whole(path_);  // ends it, together with a command that must not be served
  whole.send(std::string(ControlSocket::kMaxLine + 1, 'y') + "\nstatus\n");
  EXPECT_EQ(whole.reply(s), "error: line too long\n");
  EXPECT_TRUE(whole.closed_by_server(s));
  EXPECT_EQ(whole.received(), "");

  RawClient huge(path_);  // far more than the server buffers
  huge.send(std::string(200000, 'z'));
  EXPECT_EQ(huge.reply(s), "error: line too long\n");
  EXPECT_TRUE(huge.closed_by_server(s));
  EXPECT_EQ(s.client_count(), 0u);
}

TEST_F(ControlSocketTest, TooManyClients) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  std::vector<std::unique_ptr<RawClient>> clients = fill_every_slot(s);
  ASSERT_EQ(s.client_count(), ControlSocket::kMaxClients);

  RawClient extra(path_);
  ASSERT_TRUE(extra.connected());
  EXPECT_EQ(extra.reply(s), "error: too many clients\n");
  EXPECT_TRUE(extra.closed_by_server(s));
  // The same through the client function (it sends first, then reads why it was refused).
  {
    std::optional<std::string> got;
    std::thread t([&] { got = control_request(path_, "status", 2000); });
    auto until = Clock::now() + kWait;
    while (!got && Clock::now() < until) clients[0]->pump(s, 10);
    t.join();
    EXPECT_EQ(got, "error: too many clients\n");
  }

  clients.back()->send("still-served\n");
  EXPECT_EQ(clients.back()->reply(s), "echo still-served\n");

  clients.pop_back();  // one leaves: room for the next
  auto deadline = Clock::now() + kWait;
  while (s.client_count() == ControlSocket::kMaxClients && Clock::now() < deadline) {
    clients[0]->pump(s, 20);
  }
  RawClient next(path_);
  next.send("hello\n");
  EXPECT_EQ(next.reply(s), "echo hello\n");
}

TEST_F(ControlSocketTest, IdleClientsAreClosedAndFreeTheirSlots) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  std::vector<std::unique_ptr<RawClient>> clients = fill_every_slot(s);
  ASSERT_EQ(s.client_count(), ControlSocket::kMaxClients);
  // Times are handed to close_idle(), not waited for. Every client was last heard before `quiet`;
  // then the last one talks again.
  const auto quiet = Clock::now();
  EXPECT_EQ(s.close_idle(quiet + ControlSocket::kIdleTimeout / 2), 0u);
  clients.back()->send("ping\n");
  EXPECT_EQ(clients.back()->reply(s), "echo ping\n");
  EXPECT_EQ(s.close_idle(quiet + ControlSocket::kIdleTimeout), ControlSocket::kMaxClients - 1);
  EXPECT_EQ(s.client_count(), 1u);
  EXPECT_TRUE(clients[0]->closed_by_server(s));
  // The freed slots take new clients at once; the talking client is still served.
  RawClient next(path_);
  next.send("hello\n");
  EXPECT_EQ(next.reply(s), "echo hello\n");
  clients.back()->send("again\n");
  EXPECT_EQ(clients.back()->reply(s), "echo again\n");
}

TEST_F(ControlSocketTest, ClientThatNeverReadsItsRepliesIsIdle) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  RawClient stuck(path_);
  ASSERT_TRUE(stuck.connected());
  // Served without reading: the reply (over kMaxPending) fills the socket buffers and stops.
  ::pollfd p{s.fd(), POLLIN, 0};
  ::poll(&p, 1, 100);
  s.service();
  stuck.send("big 4000000\n");
  for (int i = 0; i < 5; ++i) {
    ::poll(&p, 1, 20);
    s.service();
  }
  ASSERT_EQ(s.client_count(), 1u);
  const auto now = Clock::now();
  EXPECT_EQ(s.close_idle(now), 0u);  // progress was recent
  EXPECT_EQ(s.close_idle(now + ControlSocket::kIdleTimeout), 1u);
  EXPECT_EQ(s.client_count(), 0u);
}

TEST_F(ControlSocketTest, ClientDisconnectingMidLineIsCleanedUp) {
  int calls = 0;
  ControlSocket s;
  ASSERT_EQ(s.open(path_,
                   [&calls](std::string_view cmd) {
                     ++calls;
                     return std::string(cmd);
                   }),
            "");
  {
    RawClient c(path_);
    c.send("half a comm");
    c.pump(s, 20);
    EXPECT_EQ(s.client_count(), 1u);
  }
  RawClient probe(path_);
  probe.send("probe\n");
  EXPECT_EQ(probe.reply(s), "probe\n");
  auto deadline = Clock::now() + kWait;
  while (s.client_count() != 1 && Clock::now() < deadline) probe.pump(s, 20);
  // Only the probe is left; the half line was dropped, never run.
  EXPECT_EQ(s.client_count(), 1u);
  EXPECT_EQ(calls, 1);
}

TEST_F(ControlSocketTest, HalfClosedClientStillGetsItsReplies) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  RawClient c(path_);
  c.send("one\ntwo\nunterminated");
  c.shutdown_write();  // like `echo cmd | socat - UNIX-CONNECT:path`
  EXPECT_EQ(c.reply(s), "echo one\n");
  EXPECT_EQ(c.reply(s), "echo two\n");
  EXPECT_TRUE(c.closed_by_server(s));
  EXPECT_EQ(c.received(), "");
  EXPECT_EQ(s.client_count(), 0u);
}

TEST_F(ControlSocketTest, HandlerExceptionsBecomeErrorReplies) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  RawClient c(path_);
  c.send("fail\nfail-odd\nafter\n");
  EXPECT_EQ(c.reply(s), "error: boom\n");
  EXPECT_EQ(c.reply(s), "error: unknown exception\n");
  EXPECT_EQ(c.reply(s), "echo after\n");
  Background bg(s);
  EXPECT_EQ(control_request(path_, "fail", 2000), "error: boom\n");
}

TEST_F(ControlSocketTest, LargeRepliesToASlowReaderAreAllDelivered) {
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  RawClient c(path_);
  // More than kMaxPending queued before the client reads anything: the server stops serving
  // this client's lines until the replies drain, then carries on, in order.
  c.send("big 700000\nbig 700000\nbig 700000\nlast\n");
  for (int i = 0; i < 5; ++i) {
    pollfd p{s.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    s.service();
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(c.reply(s), std::string(700000, 'b') + "\n");
  EXPECT_EQ(c.reply(s), "echo last\n");
}

TEST_F(ControlSocketTest, StaleSocketFileIsReplaced) {
  {
    // A socket file whose process died: bound, never unlinked.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ASSERT_TRUE(fs::is_socket(path_));
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  Background bg(s);
  EXPECT_EQ(control_request(path_, "status", 2000), "echo status\n");
}

TEST_F(ControlSocketTest, RefusesWhenALiveServerOwnsThePath) {
  ControlSocket first;
  ASSERT_EQ(first.open(path_, echo), "");
  {
    ControlSocket second;
    std::string error = second.open(path_, echo);
    EXPECT_NE(error.find("another process is listening"), std::string::npos) << error;
    EXPECT_EQ(second.fd(), -1);
  }
  // The refused instance left the file alone: the first one still answers.
  Background bg(first);
  EXPECT_EQ(control_request(path_, "status", 2000), "echo status\n");
}

TEST_F(ControlSocketTest, RefusesAPathThatIsNotASocket) {
  { std::ofstream(path_) << "precious\n"; }
  ControlSocket s;
  EXPECT_NE(s.open(path_, echo).find("not a socket"), std::string::npos);
  EXPECT_TRUE(fs::is_regular_file(path_));
  std::string long_path = (dir_ / std::string(120, 'l')).string();
  EXPECT_NE(s.open(long_path, echo), "");
  EXPECT_NE(s.open((dir_ / "missing-dir" / "x.sock").string(), echo), "");
}

TEST_F(ControlSocketTest, ClientErrors) {
  EXPECT_THROW(control_request(path_, "status", 500), std::runtime_error);  // nobody there
  ControlSocket s;
  ASSERT_EQ(s.open(path_, echo), "");
  // Never serviced: the request times out.
  auto start = Clock::now();
  EXPECT_THROW(control_request(path_, "status", 100), std::runtime_error);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1000));
}
TEST_F(ControlSocketTest, DeferredRepliesKeepTheirClientsOrderAndOthersAreServed) {
  ControlSocket s;
  std::vector<uint64_t> deferred;
  std::vector<uint64_t> closed;
  auto handler = [&](uint64_t client, std::string_view cmd) -> std::optional<std::string> {
    if (cmd == "slow") {
      deferred.push_back(client);
      return std::nullopt;
    }
    return "echo " + std::string(cmd);
  };
  ASSERT_EQ(
      s.open(
          path_, handler, [&](uint64_t c) { closed.push_back(c); }, AccessPolicy::owner_and_root()),
      "");
  RawClient a(path_);
  RawClient b(path_);
  a.send("slow\nafter\n");
  auto deadline = Clock::now() + kWait;
  while (deferred.empty() && Clock::now() < deadline) a.pump(s, 20);
  ASSERT_EQ(deferred.size(), 1u);
  // b is served while a waits; a's second line waits behind its deferred reply.
  b.send("quick\n");
  EXPECT_EQ(b.reply(s), "echo quick\n");
  a.pump(s, 20);
  EXPECT_EQ(a.received(), "");
  // Completing it sends the reply, then the line after it is answered.
  s.complete(deferred[0], "done");
  EXPECT_EQ(a.reply(s), "done\n");
  EXPECT_EQ(a.reply(s), "echo after\n");
  s.complete(deferred[0], "twice");  // nothing outstanding: ignored
  a.pump(s, 20);
  EXPECT_EQ(a.received(), "");
  // A client gone while its reply is outstanding: the close is reported, complete() ignored.
  a.send("slow\n");
  deadline = Clock::now() + kWait;
  while (deferred.size() < 2 && Clock::now() < deadline) a.pump(s, 20);
  ASSERT_EQ(deferred.size(), 2u);
  EXPECT_EQ(s.close_idle(Clock::now() + 2 * ControlSocket::kIdleTimeout), 1u)
      << "only b is idle: a waits for its reply";
  a.close();
  s.complete(deferred[1], "late");
  deadline = Clock::now() + kWait;
  while (s.client_count() > 0 && Clock::now() < deadline) b.pump(s, 20);
  EXPECT_EQ(s.client_count(), 0u);
  EXPECT_EQ(closed.size(), 2u);
}

TEST(PeerAccess, RootOwnerAndGroupMembers) {
  const AccessPolicy policy{{0, 1000}, gid_t{2000}};
  EXPECT_TRUE(peer_allowed({1, 0, 0, {}}, policy));
  EXPECT_TRUE(peer_allowed({1, 1000, 1000, {}}, policy));
  EXPECT_TRUE(peer_allowed({1, 1001, 2000, {}}, policy));          // primary group
  EXPECT_TRUE(peer_allowed({1, 1001, 1001, {5, 2000}}, policy));   // supplementary group
  EXPECT_FALSE(peer_allowed({1, 1001, 1001, {5, 2001}}, policy));  // neither
  EXPECT_FALSE(peer_allowed({1, 1001, 2000, {}}, AccessPolicy{{0, 1000}, std::nullopt}));
}

TEST_F(ControlSocketTest, PeersOutsideThePolicyAreRefusedAndCounted) {
  auto same = [](uint64_t, std::string_view c) { return std::optional<std::string>(c); };
  ControlSocket s;
  // Nobody this process could be: every peer is refused.
  const uid_t stranger = ::geteuid() == 4242 ? 4243 : 4242;
  ASSERT_EQ(s.open(path_, same, nullptr, AccessPolicy{{stranger}, std::nullopt}), "");
  RawClient c(path_);
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(c.reply(s), "error: permission denied\n");
  EXPECT_TRUE(c.closed_by_server(s));
  EXPECT_EQ(s.refused(), 1u);
  EXPECT_EQ(s.client_count(), 0u);
  // The primary group of this process admits it.
  ControlSocket t;
  const std::string other = path_ + ".2";
  ASSERT_EQ(t.open(other, same, nullptr, AccessPolicy{{stranger}, ::getegid()}), "");
  RawClient d(other);
  d.send("hi\n");
  EXPECT_EQ(d.reply(t), "hi\n");
  EXPECT_EQ(t.refused(), 0u);
}

}  // namespace
}  // namespace sipwall
