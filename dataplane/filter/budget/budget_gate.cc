#include "budget/budget_gate.h"

namespace sipwall {

// The helpers are inlined into admit(): with most decisions paid from prepaid credit, their
// calls cost more than their work.
[[gnu::always_inline]] inline bool BudgetGate::take_pair(SharedBudget::Pair& pair,
                                                         PairCredit& credit,
                                                         const MeterPair& params, BudgetTime t,
                                                         uint32_t bytes) {
  const uint64_t message_cost = params.messages.cost_of(1);
  if (!credit.messages.try_take(pair.messages.meter, t, message_cost, params.messages)) {
    return false;
  }
  if (credit.bytes.try_take(pair.bytes.meter, t, params.bytes.cost_of(bytes), params.bytes)) {
    return true;
  }
  credit.messages.give_back(message_cost);
  return false;
}

[[gnu::always_inline]] inline void BudgetGate::charge_total(const BudgetPlan& plan, BudgetTime t,
                                                            uint32_t bytes) {
  total_charges_.messages.charge(shared_->total.messages.meter, t, plan.total.messages.cost_of(1),
                                 plan.total.messages);
  total_charges_.bytes.charge(shared_->total.bytes.meter, t, plan.total.bytes.cost_of(bytes),
                              plan.total.bytes);
}

[[gnu::always_inline]] inline bool BudgetGate::admit_at(const BudgetPlan& plan, const Request& r,
                                                        size_t workers, BudgetTime t) {
  const auto tier = static_cast<size_t>(r.tier);
  bool use_share = true;
  if (r.tier == Tier::trusted) {
    if (r.reserve < plan.reserves.size()) {
      const MeterParams& p = plan.reserves[r.reserve];
      if (shared_->reserves[r.reserve].meter.try_take(t, p.cost_of(1), p)) {
        charge_total(plan, t, r.bytes);
        return true;
      }
    }
  } else {
    // This worker's floor is computed when the window rolls, not per message (a division).
    if (fair_.window_over(r.now)) [[unlikely]] {
      fair_.roll(r.now, plan.untrusted_per_window / static_cast<double>(workers ? workers : 1));
    }
    if (fair_.over_fair_part(r.aggregate_hash)) {
      if (shared_->total.messages.meter.level(t, plan.total.messages) < 0.5) return false;
      use_share = false;
    }
  }
  bool granted = false;
  if (use_share && take_pair(shared_->tier[tier], tier_takes_[tier], plan.tier[tier], t, r.bytes)) {
    charge_total(plan, t, r.bytes);
    granted = true;
  } else {
    granted = take_pair(shared_->total, total_takes_, plan.total, t, r.bytes);
  }
  if (granted && r.tier == Tier::untrusted) fair_.granted(r.aggregate_hash);
  return granted;
}

bool BudgetGate::admit(const BudgetPlan& plan, const Request& r, size_t workers) {
  const BudgetTime t = shared_->time(r.now);
  if (admit_at(plan, r, workers, t)) [[likely]] {
    return true;
  }
  // One worker alone never sees a later published time: one load, no call.
  return shared_->published() > t && admit_later(plan, r, workers, t);
}

// A refusal measured at a time another worker has since moved past (this one lost its CPU
// between reading the budget's time and its meters) is no refusal: decide once more, then.
// Only refused messages pay for the second look.
bool BudgetGate::admit_later(const BudgetPlan& plan, const Request& r, size_t workers,
                             BudgetTime t) {
  const BudgetTime later = shared_->time(r.now);
  return later > t && admit_at(plan, r, workers, later);
}

}  // namespace sipwall
