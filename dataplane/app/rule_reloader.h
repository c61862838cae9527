#pragma once

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app_options.h"
#include "pipeline/filter_policy.h"
#include "pipeline/signature_slots.h"
#include "rule_loading.h"
#include "worker.h"

namespace sipwall {

// Owns the rule set a live dataplane runs and replaces it atomically (dataplane/ARCHITECTURE.md): a
// new set is compiled and its policy built here, off the worker cores; it is published with one
// pointer store; the old policy is freed only after every worker has reported a quiescent state
// (DPDK QSBR) past the switch, so no packet is ever judged by freed rules or by a mix of two sets.
// A set that fails to compile is refused, the old one keeps running, and the failure counted.
class RuleReloader {
 public:
  struct Status {
    std::string source;
    std::string version;
    uint64_t reloads_applied = 0;
    uint64_t reloads_failed = 0;
    std::string last_error;
  };

  // Loads the first set (an error text on failure). `file` empty: the default set.
  static std::unique_ptr<RuleReloader> create(std::string file, FilterOverrides overrides,
                                              unsigned workers, uint64_t hash_seed,
                                              std::string& error);
  ~RuleReloader();

  // What worker `i` needs to follow reloads.
  PolicyFeed feed(unsigned worker) const;
  const FilterPolicy& current() const { return *current_.load(std::memory_order_acquire); }

  // Compiles the rule file again and switches to it; returns "ok ..." or the refusal.
  // Blocks until the old set can be freed (every worker passed a quiescent point).
  std::string reload();

  Status status() const;
  const StableSlots& slots() const { return slots_; }
  std::vector<std::string> watched_files() const;

 private:
  RuleReloader() = default;

  std::string file_;
  FilterOverrides overrides_;
  unsigned workers_ = 0;
  uint64_t hash_seed_ = 0;
  StableSlots slots_;
  StableSlots limit_slots_{kMaxLimitSlots};
  rte_rcu_qsbr* qsbr_ = nullptr;
  std::atomic<const FilterPolicy*> current_{nullptr};
  std::unique_ptr<const FilterPolicy> owned_;  // what current_ points to
  LoadedRules rules_;                          // the set behind owned_
  mutable std::mutex status_mutex_;
  Status status_;
};

}  // namespace sipwall
