#include "rule_file_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

namespace sipwall {
namespace {

// What happens to a file inside a watched directory that counts as a change of that file.
constexpr uint32_t kFileEvents =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_ATTRIB;
// What happens to a watched directory itself that counts as a change of every file in it.
constexpr uint32_t kDirEvents = IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT;

// The directory and name to watch for `file`, and for its final target when it is a symlink.
std::vector<std::pair<std::string, std::string>> targets(const std::string& file) {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&out](const fs::path& p) {
    fs::path dir = p.parent_path();
    std::string name = p.filename().string();
    if (name.empty() || name == "." || name == "..") return;
    out.emplace_back(dir.empty() ? std::string(".") : dir.string(), std::move(name));
  };
  fs::path p(file);
  add(p);
  std::error_code ec;
  if (fs::is_symlink(fs::symlink_status(p, ec))) {
    fs::path target = fs::canonical(p, ec);
    if (!ec) add(target);
  }
  return out;
}

}  // namespace

RuleFileWatcher::~RuleFileWatcher() {
  if (fd_ >= 0) ::close(fd_);
}

std::string RuleFileWatcher::watch(const std::vector<std::string>& files) {
  if (files.empty()) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    names_.clear();
    return {};
  }
  if (fd_ < 0) {
    fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd_ < 0) return std::string("inotify: ") + std::strerror(errno);
  }
  constexpr uint32_t kMask = kFileEvents | kDirEvents | IN_ONLYDIR;
  std::map<int, std::set<std::string, std::less<>>> fresh;
  std::set<std::string> failed_dirs;
  std::string errors;
  for (const std::string& file : files) {
    auto list = targets(file);
    if (list.empty()) {
      errors += file + ": not a file name\n";
      continue;
    }
    for (auto& [dir, name] : list) {
      if (failed_dirs.count(dir)) continue;
      int wd = inotify_add_watch(fd_, dir.c_str(), kMask);
      if (wd < 0) {
        errors += "watch " + dir + ": " + std::strerror(errno) + "\n";
        failed_dirs.insert(dir);
        continue;
      }
      fresh[wd].insert(std::move(name));
    }
  }
  // The same directory under two spellings (or two files in one directory) yields the same watch
  // descriptor, so `fresh` is already deduplicated. Drop the watches no longer needed; their
  // IN_IGNORED events are skipped by changed() since they are no longer in names_.
  for (const auto& [wd, names] : names_) {
    if (!fresh.count(wd)) inotify_rm_watch(fd_, wd);
  }
  names_ = std::move(fresh);
  if (!errors.empty()) errors.pop_back();
  return errors;
}

bool RuleFileWatcher::changed() {
  if (fd_ < 0) return false;
  bool any = false;
  alignas(inotify_event) char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: drained
    }
    if (n == 0) break;
    for (size_t off = 0; off + sizeof(inotify_event) <= static_cast<size_t>(n);) {
      inotify_event ev;
      std::memcpy(&ev, buf + off, sizeof ev);
      const char* name_ptr = buf + off + sizeof(inotify_event);
      off += sizeof(inotify_event) + ev.len;
      if (ev.mask & IN_Q_OVERFLOW) {
        any = true;
        continue;
      }
      auto it = names_.find(ev.wd);
      if (it == names_.end()) continue;  // a watch replaced by watch()
      if (ev.mask & IN_IGNORED) {
        // The directory is gone (deleted, unmounted); watch() re-adds it when it is back.
        names_.erase(it);
        any = true;
        continue;
      }
      if (ev.mask & kDirEvents) {
        any = true;
        continue;
      }
      if (ev.len == 0 || !(ev.mask & kFileEvents)) continue;
      std::string_view name(name_ptr, strnlen(name_ptr, ev.len));
      if (it->second.count(name)) any = true;
    }
  }
  return any;
}

}  // namespace sipwall
