#include "control_socket.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <utility>
#include <vector>

namespace sipwall {
namespace {

constexpr std::string_view kTooManyClients = "error: too many clients\n.\n";
constexpr std::string_view kPermissionDenied = "error: permission denied\n.\n";
constexpr size_t kReadChunk = 4096;
constexpr int kReadsPerEvent = 16;    // fairness: at most 64 KiB from one client per service()
constexpr int kAcceptsPerEvent = 64;  // fairness: the rest wait for the next service()
constexpr int kEventsPerWait = 32;
constexpr int kWaitsPerService = 8;

std::string errno_text(std::string_view what) {
  return std::string(what) + ": " + std::strerror(errno);
}

bool make_address(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

// Appends `text` as a reply: lines ending in "\n", a leading "." doubled, then the "." line.
void append_reply(std::string& out, std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    if (text[pos] == '.') out += '.';
    out.append(text.substr(pos, end - pos));
    out += '\n';
    pos = end + 1;
  }
  out += ".\n";
}

class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// SO_PEERCRED and SO_PEERGROUPS of a connected Unix socket; nullopt when the kernel refuses.
std::optional<PeerCredentials> peer_of(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return std::nullopt;
  PeerCredentials peer{cred.pid, cred.uid, cred.gid, {}};
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 3; ++attempt) {
    socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
      groups.resize(glen / sizeof(gid_t));
      peer.groups = std::move(groups);
      break;
    }
    if (errno != ERANGE) break;  // an old kernel: the primary group still counts
    groups.resize(glen / sizeof(gid_t) + 1);
  }
  return peer;
}

}  // namespace

AccessPolicy AccessPolicy::owner_and_root() {
  return AccessPolicy{{0, ::geteuid()}, std::nullopt};
}

bool peer_allowed(const PeerCredentials& peer, const AccessPolicy& policy) {
  for (const uid_t uid : policy.uids) {
    if (peer.uid == uid) return true;
  }
  if (!policy.group) return false;
  if (peer.gid == *policy.group) return true;
  for (const gid_t g : peer.groups) {
    if (g == *policy.group) return true;
  }
  return false;
}

ControlSocket::~ControlSocket() {
  for (auto& [id, c] : clients_) ::close(c.fd);
  clients_.clear();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    // Remove the file only if it is still the one this instance bound (not a successor's).
    struct stat st;
    if (::lstat(path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == dev_ &&
        st.st_ino == ino_) {
      ::unlink(path_.c_str());
    }
  }
}

std::string ControlSocket::open(const std::string& path, Handler handler) {
  return open(
      path,
      [h = std::move(handler)](uint64_t, std::string_view command) -> std::optional<std::string> {
        return h(command);
      },
      nullptr, AccessPolicy::owner_and_root());
}

std::string ControlSocket::open(const std::string& path, SessionHandler handler,
                                CloseHandler on_close, AccessPolicy access,
                                std::optional<gid_t> file_group) {
  if (listen_fd_ >= 0) return "control socket: already open on " + path_;
  sockaddr_un addr;
  if (!make_address(path, addr)) {
    return "control socket " + path + ": path empty or longer than " +
           std::to_string(sizeof addr.sun_path - 1) + " bytes";
  }
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) return "control socket " + path + ": exists and is not a socket";
    // Someone left a socket here: is a live process accepting on it?
    FdGuard probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (probe.get() < 0) return errno_text("control socket: socket");
    if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 ||
        errno == EAGAIN) {  // EAGAIN: alive, its backlog is full
      return "control socket " + path + ": another process is listening there";
    }
    if (errno != ECONNREFUSED) return errno_text("control socket " + path);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return errno_text("control socket " + path + ": removing the stale socket");
    }
  } else if (errno != ENOENT) {
    return errno_text("control socket " + path);
  }

  FdGuard lfd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (lfd.get() < 0) return errno_text("control socket: socket");
  if (::bind(lfd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return errno_text("control socket " + path + ": bind");
  }
  // Nobody can connect before listen(), so setting the mode here leaves no window.
  std::string error;
  if (::chmod(path.c_str(), 0660) != 0) {
    error = errno_text("control socket " + path + ": chmod");
  } else if (file_group && ::chown(path.c_str(), static_cast<uid_t>(-1), *file_group) != 0) {
    error = errno_text("control socket " + path + ": chown to the control group");
  } else if (::lstat(path.c_str(), &st) != 0) {
    error = errno_text("control socket " + path + ": stat");
  } else if (::listen(lfd.get(), static_cast<int>(kMaxClients)) != 0) {
    error = errno_text("control socket " + path + ": listen");
  }
  FdGuard efd(error.empty() ? ::epoll_create1(EPOLL_CLOEXEC) : -1);
  if (error.empty() && efd.get() < 0) error = errno_text("control socket: epoll_create1");
  if (error.empty()) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    if (::epoll_ctl(efd.get(), EPOLL_CTL_ADD, lfd.get(), &ev) != 0) {
      error = errno_text("control socket: epoll_ctl");
    }
  }
  if (!error.empty()) {
    ::unlink(path.c_str());
    return error;
  }
  path_ = path;
  handler_ = std::move(handler);
  on_close_ = std::move(on_close);
  access_ = std::move(access);
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  listen_fd_ = lfd.release();
  epoll_fd_ = efd.release();
  return {};
}

void ControlSocket::service() {
  if (epoll_fd_ < 0) return;
  now_ = Clock::now();
  epoll_event events[kEventsPerWait];
  for (int round = 0; round < kWaitsPerService; ++round) {
    int n = ::epoll_wait(epoll_fd_, events, kEventsPerWait, 0);
    if (n <= 0) return;  // nothing ready (or EINTR: the next service() picks it up)
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[i].data.u64;
      if (id == 0) {
        accept_clients();
        continue;
      }
      // Ids are never reused, so an event for a client closed earlier in this batch is skipped.
      auto it = clients_.find(id);
      if (it == clients_.end()) continue;
      Client& c = it->second;
      uint32_t ev = events[i].events;
      if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c.closing && !c.waiting &&
          c.out.size() - c.out_off < kMaxPending) {
        if (!on_readable(id, c)) continue;
      }
      process_lines(id, c);
    }
    if (n < kEventsPerWait) return;
  }
}

void ControlSocket::accept_clients() {
  for (int i = 0; i < kAcceptsPerEvent; ++i) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: none left; EMFILE and the like: try again on the next service()
    }
    const auto peer = peer_of(fd);
    if (!peer || !peer_allowed(*peer, access_)) {
      ++refused_;
      (void)::send(fd, kPermissionDenied.data(), kPermissionDenied.size(),
                   MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    if (clients_.size() >= kMaxClients) {
      // Best effort: the socket buffer of a fresh connection has room for this.
      (void)::send(fd, kTooManyClients.data(), kTooManyClients.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    uint64_t id = next_id_++;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = id;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      ::close(fd);
      continue;
    }
    Client& c = clients_[id];
    c.fd = fd;
    c.interest = EPOLLIN;
    c.last_progress = now_;
  }
}

size_t ControlSocket::close_idle(Clock::time_point now) {
  std::vector<uint64_t> idle;
  for (const auto& [id, c] : clients_) {
    // A client waiting for a deferred reply (a long reload) is not idle.
    if (!c.waiting && now - c.last_progress >= kIdleTimeout) idle.push_back(id);
  }
  for (const uint64_t id : idle) close_client(id);
  return idle.size();
}

bool ControlSocket::on_readable(uint64_t id, Client& c) {
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerEvent; ++i) {
    ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      c.last_progress = now_;
      c.in.append(buf, static_cast<size_t>(n));
      // Bound the buffer: a long line is refused as soon as it is known to be too long.
      if (c.in.size() > kMaxLine + 1 && c.in.find('\n') == std::string::npos) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0) {  // ECONNRESET and the like: nobody to answer
      close_client(id);
      return false;
    }
    // End of input: answer the complete lines (the client may only have shut down its sending
    // side, e.g. `echo cmd | socat - UNIX-CONNECT:...`), drop a partial one, then close.
    if (!process_lines(id, c)) return false;
    c.in.clear();
    c.closing = true;
    break;
  }
  return true;
}

bool ControlSocket::process_lines(uint64_t id, Client& c) {
  for (;;) {
    size_t start = 0;
    bool stalled = false;  // complete lines left, waiting for the replies to drain
    while (!c.closing && !c.waiting) {
      if (c.out.size() - c.out_off >= kMaxPending) {
        stalled = c.in.find('\n', start) != std::string::npos;
        break;
      }
      size_t nl = c.in.find('\n', start);
      if (nl == std::string::npos) break;
      std::string_view line(c.in.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() > kMaxLine) {
        reply(c, "error: line too long");
        c.closing = true;
        break;
      }
      start = nl + 1;
      if (line.empty()) continue;
      std::optional<std::string> text;
      try {
        text = handler_(id, line);
      } catch (const std::exception& e) {
        text = std::string("error: ") + e.what();
      } catch (...) {
        text = "error: unknown exception";
      }
      if (text) {
        reply(c, *text);
      } else {
        c.waiting = true;  // complete() answers it and serves the lines after it
      }
    }
    if (c.closing) {
      c.in.clear();
    } else {
      c.in.erase(0, start);
      if (c.in.size() > kMaxLine + 1 && c.in.find('\n') == std::string::npos) {
        reply(c, "error: line too long");
        c.in.clear();
        c.closing = true;
      }
    }
    if (!flush(id, c)) return false;
    if (!stalled || c.out.size() - c.out_off >= kMaxPending) break;
  }
  if (c.closing && c.out.size() == c.out_off) {
    close_client(id);
    return false;
  }
  return update_interest(id, c);
}

void ControlSocket::complete(uint64_t client, std::string_view text) {
  auto it = clients_.find(client);
  if (it == clients_.end() || !it->second.waiting) return;
  Client& c = it->second;
  c.waiting = false;
  now_ = Clock::now();
  c.last_progress = now_;
  reply(c, text);
  process_lines(client, c);
}

void ControlSocket::reply(Client& c, std::string_view text) {
  append_reply(c.out, text);
}

bool ControlSocket::flush(uint64_t id, Client& c) {
  while (c.out_off < c.out.size()) {
    ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.last_progress = now_;
      c.out_off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    close_client(id);  // EPIPE, ECONNRESET: the client is gone
    return false;
  }
  if (c.out_off == c.out.size()) {
    c.out.clear();
    c.out_off = 0;
  } else if (c.out_off > kReadChunk && c.out_off > c.out.size() / 2) {
    c.out.erase(0, c.out_off);
    c.out_off = 0;
  }
  return true;
}

bool ControlSocket::update_interest(uint64_t id, Client& c) {
  size_t pending = c.out.size() - c.out_off;
  uint32_t want = 0;
  if (!c.closing && !c.waiting && pending < kMaxPending) want |= EPOLLIN;
  if (pending > 0) want |= EPOLLOUT;
  if (want == c.interest) return true;
  epoll_event ev{};
  ev.events = want;
  ev.data.u64 = id;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev) != 0) {
    close_client(id);
    return false;
  }
  c.interest = want;
  return true;
}

void ControlSocket::close_client(uint64_t id) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  ::close(it->second.fd);
  clients_.erase(it);
  if (on_close_) on_close_(id);
}

std::string control_request(const std::string& path, std::string_view command, int timeout_ms) {
  if (command.find('\n') != std::string_view::npos) {
    throw std::invalid_argument("control command holds a newline");
  }
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto remaining_ms = [&]() -> int {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw std::runtime_error(path + ": no reply within the time limit");
    return static_cast<int>(left);
  };
  sockaddr_un addr;
  if (!make_address(path, addr)) throw std::runtime_error(path + ": bad socket path");
  FdGuard fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw std::runtime_error(errno_text("socket"));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EAGAIN) throw std::runtime_error(path + ": server busy (backlog full)");
    throw std::runtime_error(errno_text(path));
  }

  std::string out(command);
  out += '\n';
  size_t sent = 0;
  while (sent < out.size()) {
    ssize_t n = ::send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd.get(), POLLOUT, 0};
      ::poll(&p, 1, remaining_ms());
      continue;
    }
    break;  // EPIPE: the server closed; it may have said why, so read what it sent
  }

  std::string in;
  std::string reply;
  size_t scan = 0;
  char buf[kReadChunk];
  for (;;) {
    // Consume complete lines.
    for (size_t nl; (nl = in.find('\n', scan)) != std::string::npos; scan = nl + 1) {
      std::string_view line(in.data() + scan, nl - scan);
      if (line == ".") return reply;
      if (!line.empty() && line.front() == '.') line.remove_prefix(1);
      reply.append(line);
      reply += '\n';
    }
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      in.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd.get(), POLLIN, 0};
      ::poll(&p, 1, remaining_ms());
      continue;
    }
    throw std::runtime_error(path + ": connection closed before the reply was complete");
  }
}

}  // namespace sipwall
