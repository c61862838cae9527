#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "latency_histogram.h"
#include "state_service.h"
#include "worker_mailbox.h"

namespace sipwall {

// What /metrics shows of the command channel (a copy taken under a lock).
struct CommandMetrics {
  std::map<std::string, uint64_t> applied;  // state commands applied, by command name
  struct Table {
    uint64_t size = 0;
    uint64_t capacity = 0;
    uint64_t full_rejections = 0;
  };
  std::array<Table, 3> tables{};  // by StateTable: ban, trust, pinhole
  LatencyHistogram::Snapshot apply_latency;
  uint64_t state_file_writes = 0;
  uint64_t state_file_errors = 0;
  // Series names of ban drops by label (WorkerCounters::ban_drops): [0] is "other".
  std::vector<std::string> ban_labels{std::string(BanLabels::kOther)};
};

// The live dataplane's state commands, on the control thread: a command is checked against the
// master copy (StateService), its updates posted to every worker's mailbox as one batch, and the
// reply sent (ControlSocket::complete()) once every worker has applied it, so after the reply
// every worker enforces it. Replies are in command order per client; other clients and the
// rest of the control loop go on meanwhile. Also saves and restores the state file.
class CommandChannel {
 public:
  using Clock = std::function<Nanos()>;  // the workers' clock (live: tsc_nanos)
  using Complete = std::function<void(uint64_t client, const std::string& reply)>;

  // `state_file` empty: none.
  CommandChannel(const DynamicStateConfig& config, std::string state_file, Clock clock);

  // The workers' mailboxes (an error text on failure); give worker i `mailbox(i)`.
  std::string create_mailboxes(unsigned workers);
  WorkerMailbox* mailbox(unsigned worker) { return &mailboxes_.of(worker); }

  // A state command line (ban, trust, pinhole, pinholes, sync) from `client`: the reply now, or
  // nothing when it follows through complete() once every worker applied it.
  std::optional<std::string> execute(uint64_t client, std::string_view line);
  // Replies (through `complete`, e.g. ControlSocket::complete) to the commands every worker has
  // applied since the last call; bounded expiry of the master copy; saves the state file when
  // its interval has passed.
  void poll(const Complete& complete);
  // True while updates are on their way to the workers (poll() soon).
  bool busy() const { return !mailboxes_.idle(); }
  void end_session(uint64_t client) { service_.end_session(client); }

  // Loads the state file and posts its entries to the workers (they apply them as they start).
  // Returns a message for the log ("" when there is no state file).
  std::string restore();
  // Writes the state file now (an error text, "" on success or without a state file).
  std::string save();

  CommandMetrics metrics() const;
  const DynamicState& state() const { return service_.state(); }

  static constexpr std::chrono::seconds kSaveInterval{5};

 private:
  void publish(uint64_t client, std::string kind, StateService::Work work,
               std::chrono::steady_clock::time_point started);
  void count(const std::string& kind);
  void refresh_tables();

  StateService service_;
  WorkerMailboxes mailboxes_;
  std::string state_file_;
  std::chrono::steady_clock::time_point next_save_;
  Clock clock_;
  LatencyHistogram latency_;
  mutable std::mutex metrics_mutex_;
  CommandMetrics metrics_;
};

}  // namespace sipwall
