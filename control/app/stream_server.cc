#include "control/app/stream_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "control/app/socket_address.h"
#include "control/policy/failure_tracker.h"

namespace sipwall::control {

StreamServer::StreamServer(EventLoop& loop, int listen_fd, const StreamLimits& limits,
                           uint64_t first_id, OnMessage on_message)
    : loop_(loop),
      listen_fd_(listen_fd),
      limits_(limits),
      on_message_(std::move(on_message)),
      next_id_(first_id) {
  loop_.add(listen_fd_, EPOLLIN, [this](uint32_t) { accept_all(); });
}

StreamServer::~StreamServer() {
  std::vector<uint64_t> ids;
  for (const auto& [id, c] : connections_) ids.push_back(id);
  for (const uint64_t id : ids) close_connection(id);
  loop_.remove(listen_fd_);
  close(listen_fd_);
}

void StreamServer::accept_all() {
  for (int i = 0; i < 64; ++i) {  // bounded per wake-up, so UDP is served during a SYN flood
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd =
        accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    auto c = std::make_unique<Connection>();
    c->fd = fd;
    if (!from_sockaddr(ss, c->peer, c->port)) {
      close(fd);
      continue;
    }
    if (connections_.size() >= limits_.max_connections) {
      ++counters_.refused_total;
      close(fd);
      continue;
    }
    const std::string key = policy::source_key(c->peer);
    if (per_source_[key] >= limits_.max_per_source) {
      ++counters_.refused_per_source;
      close(fd);
      continue;
    }
    ++per_source_[key];
    c->id = next_id_++;
    c->last_active = now_;
    const uint64_t id = c->id;
    connections_.emplace(id, std::move(c));
    loop_.add(fd, EPOLLIN | EPOLLRDHUP, [this, id](uint32_t ev) { on_event(id, ev); });
    ++counters_.accepted;
  }
}

void StreamServer::on_event(uint64_t id, uint32_t events) {
  const auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  if (events & (EPOLLERR | EPOLLHUP)) {
    close_connection(id);
    return;
  }
  if ((events & EPOLLOUT) && !write_some(c)) {
    close_connection(id);
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP)) {
    if (!read_some(c)) {
      close_connection(id);
      return;
    }
    // The handler may have closed it (a framing error).
    if (connections_.count(id) == 0) return;
  }
}

bool StreamServer::read_some(Connection& c) {
  char buf[16384];
  for (int i = 0; i < 16; ++i) {
    const ssize_t n = read(c.fd, buf, sizeof buf);
    if (n > 0) {
      c.input.append(buf, static_cast<size_t>(n));
      c.last_active = now_;
      const uint64_t id = c.id;
      frame(c);
      if (connections_.count(id) == 0) return true;
      continue;
    }
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
  return true;
}

void StreamServer::frame(Connection& c) {
  size_t offset = 0;
  const uint64_t id = c.id;
  while (true) {
    const StreamFrame f = c.framer.next(std::string_view(c.input).substr(offset));
    if (f.kind == StreamFrameKind::need_more) break;
    if (f.kind == StreamFrameKind::error) {
      ++counters_.framing_errors;
      close_connection(id);
      return;
    }
    if (f.kind == StreamFrameKind::ping) {
      ++counters_.pings;
      if (!send(id, "\r\n")) return;
    } else if (f.kind == StreamFrameKind::message) {
      // The message views the input buffer; the handler may send on this connection (the
      // output buffer) but not touch the input.
      if (!on_message_(f.message, c.peer, c.port, id)) {
        ++counters_.invalid_messages;
        close_connection(id);
        return;
      }
      if (connections_.count(id) == 0) return;
    }
    offset += f.consumed;
  }
  c.input.erase(0, offset);
}

bool StreamServer::write_some(Connection& c) {
  while (!c.output.empty()) {
    const ssize_t n = ::send(c.fd, c.output.data(), c.output.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c.output.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  const bool want = !c.output.empty();
  if (want != c.want_write) {
    c.want_write = want;
    loop_.modify(c.fd, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u));
  }
  return true;
}

bool StreamServer::send(uint64_t connection, std::string_view text) {
  const auto it = connections_.find(connection);
  if (it == connections_.end()) return false;
  Connection& c = *it->second;
  if (c.output.size() + text.size() > limits_.max_output_bytes) {
    ++counters_.output_overflows;
    close_connection(connection);
    return false;
  }
  c.output.append(text);
  if (!write_some(c)) {
    close_connection(connection);
    return false;
  }
  return true;
}

void StreamServer::sweep(Nanos now) {
  now_ = now;
  std::vector<uint64_t> idle;
  for (const auto& [id, c] : connections_) {
    if (now > c->last_active && now - c->last_active > limits_.idle_timeout) idle.push_back(id);
  }
  counters_.idle_closed += idle.size();
  for (const uint64_t id : idle) close_connection(id);
}

void StreamServer::close_connection(uint64_t id) {
  const auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  loop_.remove(c.fd);
  close(c.fd);
  const std::string key = policy::source_key(c.peer);
  if (auto p = per_source_.find(key); p != per_source_.end() && --p->second == 0) {
    per_source_.erase(p);
  }
  connections_.erase(it);
}

}  // namespace sipwall::control
