#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace sipwall {

// Watches the files of a rule set (the root and every include) and says when one changed.
//
// It watches the directories that hold the files, not the files themselves, and filters the
// events by file name, so it survives the ways editors and config-management tools replace a
// file: vim (new file renamed over, or the old one renamed to a backup and a new one written),
// sed -i / Ansible / Puppet (temp file renamed over the target), truncate + write, `mv` away and
// back, delete and recreate. Writes to other files in the same directories do not count. When a
// file is a symlink, the directory of its final target is watched too (for the target's name).
//
// Single-threaded: call it from one thread (the main thread). Linux only (inotify).
//
// Debouncing is the caller's job: an editor's save is several events (create, write, close,
// rename, delete of a backup) spread over a few milliseconds, and a tool may still be writing
// when the first event arrives. changed() folds every pending event into one `true`; the caller
// should wait until changed() stayed false for ~200 ms (poll fd() with a timeout) before it
// reloads, and reload once.
//
// Typical use:
//   RuleFileWatcher w;
//   w.watch(rules.files);                  // before or right after reading the files
//   ... poll() on w.fd() ...; if (w.changed()) { wait for quiet; reload; w.watch(new.files); }
class RuleFileWatcher {
 public:
  RuleFileWatcher() = default;
  ~RuleFileWatcher();
  RuleFileWatcher(const RuleFileWatcher&) = delete;
  RuleFileWatcher& operator=(const RuleFileWatcher&) = delete;

  // Watches `files`, replacing whatever was watched before (the inotify fd stays the same unless
  // `files` is empty, which stops watching and closes it). Returns an error text on failure, one
  // line per problem (inotify unavailable, a directory that does not exist or cannot be read);
  // the directories that could be watched are watched anyway. The files themselves need not
  // exist: creating one later counts as a change. Events already pending are kept, so a change
  // made between reading the files and calling watch() is not lost (at worst one extra reload);
  // a change in a directory watched for the first time made before this call is not seen, so
  // call watch() before reading the files when that matters. Call it again after every reload,
  // even when the list is unchanged: it re-resolves symlinks and re-adds watches on directories
  // that were removed and recreated.
  std::string watch(const std::vector<std::string>& files);

  // For poll() (POLLIN); -1 when not watching. Readable does not mean changed: events for other
  // files in the watched directories make it readable too; call changed() to drain them.
  int fd() const { return fd_; }

  // Drains pending events without blocking; true when a watched file was created, written and
  // closed, moved over (rename), moved away, deleted (and maybe recreated) or had its attributes
  // changed since the last call, when a watched directory itself was deleted or moved, or when
  // the kernel's event queue overflowed (events were lost, so assume a change).
  bool changed();

 private:
  int fd_ = -1;
  // Watch descriptor (one per directory) -> the file names watched in that directory.
  std::map<int, std::set<std::string, std::less<>>> names_;
};

}  // namespace sipwall
