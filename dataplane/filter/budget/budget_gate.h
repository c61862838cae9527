#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "budget/budget_config.h"
#include "budget/budget_plan.h"
#include "budget/fair_share.h"
#include "budget/meter_credit.h"
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
// Lock-free and allocation-free. Each gate prepays the shared meters in chunks (MeterCredit),
// so most decisions touch no shared line but to read; a refused message writes nothing
// shared, beyond a chunk of credit it may have prepaid for a companion meter.
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
  // admit() at budget time `t`; repeating it at a later time is harmless (the fairness slot
  // counts a request once per window, grants only when granted).
  bool admit_at(const BudgetPlan& plan, const Request& r, size_t workers, BudgetTime t);
  [[gnu::noinline]] bool admit_later(const BudgetPlan& plan, const Request& r, size_t workers,
                                     BudgetTime t);
  // This worker's prepaid credit on a pair of meters (MeterCredit).
  struct PairCredit {
    MeterCredit messages;
    MeterCredit bytes;
  };
  bool take_pair(SharedBudget::Pair& pair, PairCredit& credit, const MeterPair& params,
                 BudgetTime t, uint32_t bytes);
  void charge_total(const BudgetPlan& plan, BudgetTime t, uint32_t bytes);

  SharedBudget* shared_;
  // Takes and forced charges of the total keep separate credit (see MeterCredit); reserves are
  // taken exactly (one trunk each, their rates are small).
  std::array<PairCredit, kTierCount> tier_takes_{};
  PairCredit total_takes_{};
  PairCredit total_charges_{};
  FairShare fair_;
};

}  // namespace sipwall
