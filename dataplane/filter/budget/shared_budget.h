#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "budget/budget_config.h"
#include "budget/budget_plan.h"
#include "budget/shared_meter.h"
#include "common/time.h"

namespace sipwall {

// The meters of one budget, shared by every worker (each on its own cache line: a grant writes
// one, and workers keep reading the others). RSS pins a source to one worker, so nothing is split
// per worker: a trusted trunk on one worker can use its whole reserve, and the total holds
// whatever the spread. Survives rule reloads (the plan changes, the meters keep their state; a
// reserve keeps its slot while its `trust` statement keeps its rank among the reserving ones).
class SharedBudget {
 public:
  struct alignas(64) Meter {
    SharedMeter meter;
  };
  struct Pair {
    Meter messages;
    Meter bytes;
  };

  // The budget's clock: 1/256 ns since its first packet.
  BudgetTime time(Nanos now) {
    Nanos base = base_.load(std::memory_order_relaxed);
    if (base == 0) {
      const Nanos want = now == 0 ? 1 : now;
      if (base_.compare_exchange_strong(base, want, std::memory_order_relaxed)) base = want;
    }
    return now > base ? (now - base) * kBudgetUnitsPerNano : 0;
  }

  Pair total;
  std::array<Pair, kTierCount> tier;
  std::array<Meter, kMaxReserves> reserves;

 private:
  std::atomic<Nanos> base_{0};
};

// Both budgets: signaling punted to the control plane and transit signaling passed to the core.
struct SharedBudgets {
  SharedBudget punt;
  SharedBudget pass;
};

}  // namespace sipwall
