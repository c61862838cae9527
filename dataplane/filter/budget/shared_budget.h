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

  // The budget's clock: 1/256 ns since its first packet, and never behind the latest time a
  // worker published (to within kPublishStep). Workers read their clocks once per burst, so one
  // that lost its CPU holds a stale reading; measured against meters that fresher workers moved
  // on, it would look more than a tolerance in debt and be refused however idle the budget is.
  BudgetTime time(Nanos now) {
    Nanos base = base_.load(std::memory_order_relaxed);
    if (base == 0) [[unlikely]] {
      const Nanos want = now == 0 ? 1 : now;
      if (base_.compare_exchange_strong(base, want, std::memory_order_relaxed)) base = want;
    }
    const BudgetTime t = now > base ? (now - base) * kBudgetUnitsPerNano : 0;
    const BudgetTime latest = latest_.load(std::memory_order_relaxed);
    if (t < latest) return latest;
    // Published at most once per step and worker: the line stays shared, read-mostly. Racing
    // stores of two fresh workers both lie ahead of the value they replace.
    if (t - latest >= kPublishStep) latest_.store(t, std::memory_order_relaxed);
    return t;
  }

  // The latest time a worker published (see time()).
  BudgetTime published() const { return latest_.load(std::memory_order_relaxed); }

  // How far the published time may lag the freshest worker's: 1 ms, a tenth of the tolerance.
  static constexpr BudgetTime kPublishStep = kNanosPerMilli * kBudgetUnitsPerNano;

  Pair total;
  std::array<Pair, kTierCount> tier;
  std::array<Meter, kMaxReserves> reserves;

 private:
  std::atomic<Nanos> base_{0};
  std::atomic<BudgetTime> latest_{0};  // beside base_: one line, read with it
};

// Both budgets: signaling punted to the control plane and transit signaling passed to the core.
struct SharedBudgets {
  SharedBudget punt;
  SharedBudget pass;
};

}  // namespace sipwall
