#include "control/app/dataplane_client.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"

namespace sipwall::control {

DataplaneClient::DataplaneClient(EventLoop& loop, std::string socket_path)
    : loop_(loop), path_(std::move(socket_path)) {}

DataplaneClient::~DataplaneClient() {
  disconnect();
}

void DataplaneClient::journal(const Command& command, Nanos now) {
  if (const auto* add = std::get_if<PrefixAddCommand>(&command)) {
    const std::string key =
        std::string(add->table == StateTable::ban ? "ban " : "trust ") + add->prefix.to_string();
    auto& slot = journal_[key];
    const Nanos expires = now + add->ttl_seconds * kNanosPerSecond;
    // The dataplane keeps the later expiry of two adds; so does the journal.
    if (expires > slot.second) {
      slot = {*add, expires};
      journal_dirty_ = true;
    }
  } else if (const auto* del = std::get_if<PrefixDelCommand>(&command)) {
    journal_dirty_ |=
        journal_.erase(std::string(del->table == StateTable::ban ? "ban " : "trust ") +
                       del->prefix.to_string()) > 0;
  }
}

void DataplaneClient::queue_line(std::string line) {
  if (queue_.size() >= kMaxQueued) {
    ++counters_.dropped;  // the journal still has it: a sync brings it back
    return;
  }
  queue_.push_back(std::move(line) + "\n");
}

void DataplaneClient::send(const Command& command, Nanos now) {
  now_ = now;
  journal(command, now);
  queue_line(format_command(command));
  if (connected()) flush();
}

void DataplaneClient::tick(Nanos now) {
  now_ = now;
  std::erase_if(journal_, [now](const auto& kv) { return kv.second.second <= now; });
  if (fd_ < 0 && !path_.empty() && now >= next_attempt_) connect_now(now);
  if (journal_dirty_ && !journal_path_.empty() && now - journal_written_ >= kNanosPerSecond) {
    write_journal(now);
  }
}

// One line per live entry: its expiry (Unix ns), then the command that adds it.
void DataplaneClient::write_journal(Nanos now) {
  std::string text = "# sipwall-control journal: EXPIRY-NS COMMAND\n";
  for (const auto& [key, entry] : journal_) {
    if (entry.second <= now) continue;
    text += std::to_string(entry.second) + " " + format_command(entry.first) + "\n";
  }
  journal_written_ = now;
  if (write_file_atomically(journal_path_, text).empty()) {
    journal_dirty_ = false;
    ++counters_.journal_writes;
  } else {
    ++counters_.journal_write_errors;  // tried again a second later
  }
}

std::string DataplaneClient::use_journal(const std::string& path, Nanos now) {
  journal_path_ = path;
  std::ifstream in(path);
  if (!in) return "";  // no journal yet: a first run
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    Nanos expires = 0;
    const auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), expires);
    const ParseResult parsed = space == std::string::npos
                                   ? ParseResult{ParseError{0, "no command"}}
                                   : parse_command(std::string_view(line).substr(space + 1));
    const auto* command = std::get_if<Command>(&parsed);
    const auto* add = command ? std::get_if<PrefixAddCommand>(command) : nullptr;
    if (ec != std::errc{} || end != line.data() + space || !add) {
      return path + ":" + std::to_string(number) +
             ": not EXPIRY-NS followed by ban add or trust add";
    }
    if (expires <= now) continue;
    journal_[std::string(add->table == StateTable::ban ? "ban " : "trust ") +
             add->prefix.to_string()] = {*add, expires};
  }
  sync_on_first_connect_ = true;
  return "";
}

void DataplaneClient::connect_now(Nanos now) {
  next_attempt_ = now + kNanosPerSecond;
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path_.size() >= sizeof sa.sun_path) {
    close(fd);
    return;
  }
  std::memcpy(sa.sun_path, path_.c_str(), path_.size() + 1);
  const int r = connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
  if (r != 0 && errno != EINPROGRESS && errno != EAGAIN) {
    close(fd);
    return;
  }
  fd_ = fd;
  connecting_ = r != 0;
  loop_.add(fd_, EPOLLIN | EPOLLOUT | EPOLLRDHUP, [this](uint32_t ev) { on_event(ev); });
  if (!connecting_) on_connected();
}

void DataplaneClient::disconnect() {
  if (fd_ < 0) return;
  loop_.remove(fd_);
  close(fd_);
  fd_ = -1;
  connecting_ = false;
  output_.clear();
  input_.clear();
  in_reply_ = false;
  awaiting_ping_ = false;
}

void DataplaneClient::on_connected() {
  connecting_ = false;
  ++counters_.connects;
  // First learn who is there: the epoch tells a restarted dataplane from the same one.
  awaiting_ping_ = true;
  output_ = "ping\n";
  flush();
}

void DataplaneClient::on_event(uint32_t events) {
  if (connecting_) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      disconnect();
      return;
    }
    on_connected();
    if (fd_ < 0) return;
  }
  if (events & (EPOLLERR | EPOLLHUP)) {
    disconnect();
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP)) read_replies();
  if (fd_ >= 0 && (events & EPOLLOUT)) flush();
}

void DataplaneClient::flush() {
  if (fd_ < 0 || connecting_) return;
  // Until the ping is answered, nothing else goes out (a sync may have to come first).
  while (true) {
    if (output_.empty()) {
      if (awaiting_ping_ || queue_.empty()) break;
      // Batch queued lines into one write.
      while (!queue_.empty() && output_.size() < 65536) {
        output_ += queue_.front();
        queue_.pop_front();
        ++counters_.sent;
      }
    }
    const ssize_t n = ::send(fd_, output_.data(), output_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      output_.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    disconnect();
    return;
  }
  loop_.modify(fd_, EPOLLIN | EPOLLRDHUP | (output_.empty() ? 0u : EPOLLOUT));
}

void DataplaneClient::read_replies() {
  char buf[4096];
  while (true) {
    const ssize_t n = read(fd_, buf, sizeof buf);
    if (n > 0) {
      input_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    disconnect();
    return;
  }
  size_t start = 0;
  for (size_t nl = input_.find('\n'); nl != std::string::npos; nl = input_.find('\n', start)) {
    const std::string line = input_.substr(start, nl - start);
    start = nl + 1;
    if (line == ".") {
      in_reply_ = false;
      on_reply(reply_first_);
      if (fd_ < 0) return;
      continue;
    }
    if (!in_reply_) {
      in_reply_ = true;
      reply_first_ = line;
    }
  }
  input_.erase(0, start);
  if (input_.size() > 1 << 20) disconnect();  // a peer that never ends a line
}

void DataplaneClient::on_reply(const std::string& first) {
  const bool good = first.starts_with("ok") || first.starts_with("exists");
  if (!awaiting_ping_) {
    ++(good ? counters_.ok : counters_.refused);
    return;
  }
  awaiting_ping_ = false;
  uint64_t epoch = 0;
  if (const size_t at = first.find("epoch="); at != std::string::npos) {
    std::from_chars(first.data() + at + 6, first.data() + first.size(), epoch);
  }
  // A restarted dataplane lost its tables; a restarted sipwall-control that read its journal
  // replaces what the run before it left there. With a journal file the journal is the whole
  // state, so every reconnect syncs: the boot epoch is in whole seconds, and a dataplane
  // restarted within the same second would otherwise look like the one before.
  const bool reconnect = epoch_.has_value();
  const bool restarted = (reconnect && *epoch_ != epoch) || sync_on_first_connect_ ||
                         (reconnect && !journal_path_.empty());
  sync_on_first_connect_ = false;
  epoch_ = epoch;
  if (restarted) {
    // Its tables are empty: everything live in the journal goes back, in one step; what was
    // queued is in the journal already.
    ++counters_.syncs;
    std::deque<std::string> lines;
    lines.push_back("sync begin " + std::to_string(++sync_generation_) + " as=control\n");
    for (auto& [key, entry] : journal_) {
      if (entry.second <= now_) continue;
      PrefixAddCommand c = entry.first;
      c.ttl_seconds = (entry.second - now_ + kNanosPerSecond - 1) / kNanosPerSecond;
      lines.push_back(format_command(c) + "\n");
    }
    lines.push_back("sync end\n");
    queue_.clear();
    queue_ = std::move(lines);
  }
  flush();
}

}  // namespace sipwall::control
