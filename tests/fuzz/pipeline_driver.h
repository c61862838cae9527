#pragma once

// Drives one input through the whole pipeline twice, from fresh tables: once in bursts
// (process_burst) and once a frame at a time (process), with the same expire() points and the
// same bans and pinholes. Aborts unless both give the same decisions in the same order, every
// frame is decided exactly once (fragments included, after drain) and the counters add up to
// the decisions. Shared by the pipeline (default policy) and policy (rule-file policy) targets.

#include <cstdint>
#include <span>

#include "pipeline/filter_policy.h"

namespace sipwall::fuzz {

// A FilterConfig whose tables are small enough to build per input (and to fill up).
FilterConfig small_tables(FilterConfig cfg);

// `in`: 12 octets of set-up (burst sizes, a ban, a pinhole), then frame records
// (frame_records.h).
void run_pipelines(const FilterPolicy& policy, std::span<const uint8_t> in);

}  // namespace sipwall::fuzz
