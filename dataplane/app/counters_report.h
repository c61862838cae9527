#pragma once

#include <functional>
#include <string>

#include "pipeline/worker_counters.h"
#include "worker.h"

namespace sipwall {

// The final (or periodic) counter table printed by the live program.
std::string format_counters(const WorkerCounters& filter, const IoCounters& io,
                            const std::function<std::string(RuleIndex)>& rule_id);

}  // namespace sipwall
