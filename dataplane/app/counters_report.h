#pragma once

#include <functional>
#include <string>

#include "pipeline/worker_counters.h"
#include "worker.h"

namespace sipwall {

// The final (or periodic) counter table printed by the live program.
std::string format_counters(const WorkerCounters& filter, const IoCounters& io,
                            const std::function<std::string(RuleIndex)>& rule_id);

// One worker's share, as lines of the same table ("worker1.pass", ...): RSS pins a source to a
// worker, so an operator (and a test) can see what each queue judged.
std::string format_worker_counters(size_t worker, const WorkerCounters& filter);

}  // namespace sipwall
