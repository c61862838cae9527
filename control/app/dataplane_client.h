#pragma once

// sipwall-control's side of the dataplane's control socket (control/protocol/COMMANDS.md):
// a non-blocking Unix stream connection that carries `ban add`, `trust add` and `trust del`
// (as=control), counts the replies, and reconnects when either side restarts. It keeps what
// it has added and not yet expired (the journal, in memory for now), and when the dataplane
// it reconnects to has a new boot epoch (`ping` -> `ok epoch=N`: it restarted and lost its
// tables) it replays that journal inside `sync begin` / `sync end`, so a restarted dataplane
// gets its bans back. A reconnect to the same dataplane only sends what was queued.
//
// With a journal file (`--journal`), the journal also survives sipwall-control: it is written
// (atomically, at most once a second) when it changed, read at start, and the first connection
// of a run that read one replays it with a sync too, so a restarted sipwall-control neither
// loses nor duplicates the bans of the run before; and since the journal is then the whole
// state, every reconnect syncs (no need to trust the epoch).

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "common/time.h"
#include "control/app/event_loop.h"
#include "control/protocol/command.h"

namespace sipwall::control {

struct DataplaneCounters {
  uint64_t sent = 0;
  uint64_t ok = 0;       // ok, exists
  uint64_t refused = 0;  // full, not found, error
  uint64_t dropped = 0;  // queue full while disconnected
  uint64_t connects = 0;
  uint64_t syncs = 0;
  uint64_t journal_writes = 0;
  uint64_t journal_write_errors = 0;
};

class DataplaneClient {
 public:
  static constexpr size_t kMaxQueued = 65536;

  DataplaneClient(EventLoop& loop, std::string socket_path);
  ~DataplaneClient();

  // Queues the command (sent at once when connected) and records it in the journal.
  void send(const Command& command, Nanos now);
  // Reconnects when due (every second while disconnected); writes the journal file when due.
  void tick(Nanos now);

  // Reads the journal file (absent: an empty journal) and keeps writing it there. Returns an
  // error text naming the line, "" when it was read.
  std::string use_journal(const std::string& path, Nanos now);
  // Writes the journal file now if it changed since it was last written (at exit).
  void save_journal(Nanos now) {
    if (journal_dirty_ && !journal_path_.empty()) write_journal(now);
  }

  bool connected() const { return fd_ >= 0 && !connecting_; }
  const DataplaneCounters& counters() const { return counters_; }

 private:
  void connect_now(Nanos now);
  void disconnect();
  void on_event(uint32_t events);
  void on_connected();
  void flush();
  void read_replies();
  void on_reply(const std::string& first_line);
  void journal(const Command& command, Nanos now);
  void queue_line(std::string line);
  void write_journal(Nanos now);

  EventLoop& loop_;
  std::string path_;
  int fd_ = -1;
  bool connecting_ = false;
  Nanos next_attempt_ = 0;
  Nanos now_ = 0;
  std::deque<std::string> queue_;  // lines not yet written, each with its '\n'
  std::string output_;             // being written
  std::string input_;
  bool in_reply_ = false;  // reading the lines of a reply up to "."
  std::string reply_first_;
  bool awaiting_ping_ = false;
  std::optional<uint64_t> epoch_;  // the dataplane's boot epoch, once known
  uint64_t sync_generation_ = 0;
  // Live adds by "table prefix": the command and when it expires.
  std::map<std::string, std::pair<PrefixAddCommand, Nanos>> journal_;
  std::string journal_path_;
  bool journal_dirty_ = false;
  Nanos journal_written_ = 0;
  bool sync_on_first_connect_ = false;  // a journal was read from the file
  DataplaneCounters counters_;
};

}  // namespace sipwall::control
