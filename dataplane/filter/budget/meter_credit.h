#pragma once

#include <algorithm>
#include <cstdint>

#include "budget/shared_meter.h"

namespace sipwall {

// One worker's prepaid part of a SharedMeter. A compare-and-swap on a shared line costs more
// than the rest of a budget decision (measured: ~6 ns each; a decision made 4), so a worker
// takes MeterParams::chunk at once and spends it message by message in plain arithmetic. What it
// holds is already charged to the meter: the budget never admits more than the meter's rate
// and tolerance, and a worker holds back at most one chunk per meter from the others (a
// sixteenth of the tolerance: with W workers, W/16 of the burst). Near the limit a take asks for
// exactly what the message lacks, as without credit. Credit is in the meter's time units, so it
// keeps its value across plans of a rule reload.
//
// A credit serves either takes or forced charges of its meter, never both: credit prepaid by a
// forced charge (which may push the meter into debt) must not pay for a take that the meter
// itself would refuse.
class MeterCredit {
 public:
  // SharedMeter::try_take, paid from the credit while it lasts; false changes nothing.
  bool try_take(SharedMeter& m, BudgetTime now, uint64_t cost, const MeterParams& p) {
    if (units_ >= cost && !p.closed) [[likely]] {
      units_ -= cost;
      return true;
    }
    return prepay_take(m, now, cost, p);
  }

  // SharedMeter::charge, paid from the credit while it lasts.
  void charge(SharedMeter& m, BudgetTime now, uint64_t cost, const MeterParams& p) {
    if (units_ >= cost && !p.closed) [[likely]] {
      units_ -= cost;
      return;
    }
    prepay_charge(m, now, cost, p);
  }

  // Returns a take (a companion meter refused the same message) to the credit.
  void give_back(uint64_t cost) { units_ += cost; }

  uint64_t units() const { return units_; }

 private:
  // The shared meter's part, once per chunk (and for every refusal: inline, as refusals are
  // what a flood gets).
  bool prepay_take(SharedMeter& m, BudgetTime now, uint64_t cost, const MeterParams& p) {
    if (p.closed) return false;
    // A chunk beyond what this message lacks; near the limit exactly what it lacks, as
    // without a credit.
    const uint64_t need = cost - std::min(cost, units_);
    const uint64_t took = m.take_up_to(now, need, p.chunk, p);
    if (took == 0 && need != 0) return false;
    units_ = units_ + took - cost;
    return true;
  }

  // Forced charges refill only while messages are granted: out of line.
  [[gnu::noinline]] void prepay_charge(SharedMeter& m, BudgetTime now, uint64_t cost,
                                       const MeterParams& p) {
    if (p.closed) return;
    const uint64_t need = cost - std::min(cost, units_);
    m.charge(now, need + p.chunk, p);
    units_ = units_ + need + p.chunk - cost;
  }

  uint64_t units_ = 0;
};

}  // namespace sipwall
