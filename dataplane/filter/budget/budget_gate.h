#pragma once

#include <cstddef>
#include <cstdint>

#include "budget/budget_config.h"
#include "budget/budget_plan.h"
#include "budget/fair_share.h"
#include "budget/shared_budget.h"
#include "common/time.h"

namespace sipwall {

// One worker's door to one shared budget. A message of a tier is admitted when, in this order:
//   1. trusted with a reserve: its reserve has a token (the total is charged too);
//   2. its tier's share has a message and its bytes (the total is charged too);
//   3. the total has a message and its bytes left over, which only happens while some share is
//      not using its part (work-conserving borrowing).
// Untrusted messages first pass the fairness gate (FairShare): a source aggregate over its fair
// part of this window skips its share and may only borrow while the total is at least half full.
// Lock-free and allocation-free; a refused message writes nothing shared.
class BudgetGate {
 public:
  explicit BudgetGate(SharedBudget& shared) : shared_(&shared) {}

  struct Request {
    Tier tier = Tier::untrusted;
    uint16_t reserve = kNoReserve;  // trusted prefixes with a reserve
    uint64_t aggregate_hash = 0;    // keyed hash of the source aggregate (untrusted fairness)
    uint32_t bytes = 0;
    Nanos now = 0;
  };
  // `workers`: how many workers share the budget (each one's fairness floor is its part).
  bool admit(const BudgetPlan& plan, const Request& r, size_t workers);

  // Asks for the fairness slot an untrusted request with this aggregate hash will use.
  void prefetch(uint64_t aggregate_hash) const { fair_.prefetch(aggregate_hash); }

  const FairShare& fairness() const { return fair_; }

 private:
  bool take_pair(SharedBudget::Pair& pair, const MeterPair& params, BudgetTime t, uint32_t bytes);
  void charge_total(const BudgetPlan& plan, BudgetTime t, uint32_t bytes);

  SharedBudget* shared_;
  FairShare fair_;
};

}  // namespace sipwall
