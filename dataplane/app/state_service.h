#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/time.h"
#include "control/protocol/command.h"
#include "control/protocol/reply.h"
#include "pipeline/filter_config.h"
#include "state/ban_labels.h"
#include "state/dynamic_state.h"
#include "state/state_update.h"

namespace sipwall {

// The control thread's master copy of the dynamic state, and what turns a state command into
// worker updates. The same DynamicState class the workers run, fed the same updates in the same
// order, so it answers `list`, knows `full` before anything reaches a worker, and is what the
// state file saves. Used by live mode (updates go to every worker's mailbox) and offline mode
// (updates go straight to the one pipeline, before the packet the command is scheduled at).
// DPDK-free and single-threaded.
// The dynamic tables' sizes, seed and starting pinhole switch, as a rule set configures them.
DynamicStateConfig dynamic_state_config(const FilterConfig& config);

class StateService {
 public:
  // The work a command leaves for the workers: apply `updates` in order, then reply.
  struct Work {
    std::vector<StateUpdate> updates;
    std::vector<StateUpdate> sync_adds;  // what a ReplaceOwned in `updates` points at
    ApplyResult result;                  // the master copy's outcome
    std::optional<uint64_t> sync_epoch;  // sync end: echoed in the reply
  };
  // Either an immediate reply (list, refusals, full, collected sync adds) or work for workers.
  struct Step {
    std::optional<Reply> reply;
    std::optional<Work> work;
  };

  explicit StateService(const DynamicStateConfig& config);

  // A state command (changes_state() or list or sync begin/end) from connection `session` at
  // `now` (the dataplane's clock).
  Step execute(uint64_t session, const Command& command, Nanos now);
  // The reply once every worker applied `work` (full when any worker reported full).
  static Reply reply_after(const Work& work, bool any_worker_full);
  // A connection went away: its unfinished sync is dropped, nothing applied.
  void end_session(uint64_t session);
  bool syncing(uint64_t session) const { return syncs_.contains(session); }
  // Bounded expiry of the master copy; call on every control-loop turn.
  void expire_some(Nanos now) { state_.expire_some(now, kExpireBudget); }

  const DynamicState& state() const { return state_; }
  // The metric series of ban ids (sipwall_ban_drops_total), given as bans are added.
  const BanLabels& ban_labels() const { return ban_labels_; }
  uint64_t full_rejections() const { return full_rejections_; }

  static constexpr size_t kExpireBudget = 256;
  static constexpr size_t kMaxSyncEntries = 1 << 20;

 private:
  struct Sync {
    uint64_t epoch = 0;
    Owner owner = Owner::control;
    std::vector<StateUpdate> adds;
  };
  DynamicState state_;
  BanLabels ban_labels_;
  std::map<uint64_t, Sync> syncs_;
  uint64_t full_rejections_ = 0;
};

}  // namespace sipwall
