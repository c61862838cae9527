#include "budget/budget_gate.h"

namespace sipwall {

bool BudgetGate::take_pair(SharedBudget::Pair& pair, const MeterPair& params, BudgetTime t,
                           uint32_t bytes) {
  const uint64_t message_cost = params.messages.cost_of(1);
  if (!pair.messages.meter.try_take(t, message_cost, params.messages)) return false;
  if (pair.bytes.meter.try_take(t, params.bytes.cost_of(bytes), params.bytes)) return true;
  pair.messages.meter.give_back(message_cost);
  return false;
}

void BudgetGate::charge_total(const BudgetPlan& plan, BudgetTime t, uint32_t bytes) {
  shared_->total.messages.meter.charge(t, plan.total.messages.cost_of(1), plan.total.messages);
  shared_->total.bytes.meter.charge(t, plan.total.bytes.cost_of(bytes), plan.total.bytes);
}

bool BudgetGate::admit(const BudgetPlan& plan, const Request& r, size_t workers) {
  const BudgetTime t = shared_->time(r.now);
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
    const double floor = plan.untrusted_per_window / static_cast<double>(workers ? workers : 1);
    if (fair_.over_fair_part(r.aggregate_hash, r.now, floor)) {
      if (shared_->total.messages.meter.level(t, plan.total.messages) < 0.5) return false;
      use_share = false;
    }
  }
  bool granted = false;
  if (use_share && take_pair(shared_->tier[tier], plan.tier[tier], t, r.bytes)) {
    charge_total(plan, t, r.bytes);
    granted = true;
  } else {
    granted = take_pair(shared_->total, plan.total, t, r.bytes);
  }
  if (granted && r.tier == Tier::untrusted) fair_.granted(r.aggregate_hash);
  return granted;
}

}  // namespace sipwall
