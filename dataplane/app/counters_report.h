#pragma once

#include <functional>
#include <span>
#include <string>

#include "pipeline/worker_counters.h"
#include "worker.h"

namespace sipwall {

// The final (or periodic) counter table printed by the live program.
// `ban_labels` names the series of WorkerCounters::ban_drops ("ban.<id>" lines, when not 0).
std::string format_counters(const WorkerCounters& filter, const IoCounters& io,
                            const std::function<std::string(RuleIndex)>& rule_id,
                            std::span<const std::string> ban_labels = {});

// One worker's share, as lines of the same table ("worker1.pass", ...): RSS pins a source to a
// worker, so an operator (and a test) can see what each queue judged.
std::string format_worker_counters(size_t worker, const WorkerCounters& filter,
                                   std::span<const std::string> ban_labels = {});

}  // namespace sipwall
