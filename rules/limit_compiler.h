#pragma once

#include "limit/limit_config.h"
#include "rules/diagnostics.h"
#include "rules/limit_plan.h"
#include "rules/rule_set.h"

namespace sipwall::rules {

// Turns `limit` and `override` statements into slots: slot ids in file order, per-method slot
// lists, overrides resolved to their limit's slot (an unknown limit id is an error) and sorted
// longest prefix first. Also refuses: more than kMaxLimitSlots limits, a packet kind that would
// take more than kMaxSlotsPerPacket buckets, an override prefix longer than its slot's source
// aggregation (one bucket covers the whole aggregate), the same prefix overriding one limit twice.
LimitPlan compile_limits(const RuleSet& set, Diagnostics& diags);

}  // namespace sipwall::rules
