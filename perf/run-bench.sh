#!/usr/bin/env bash
# Builds an optimised (-march=native) tree and runs the pipeline benchmark on one core.
# The last lines are "mix=<name> mpps=<f> ns_per_packet=<f> limit_ratio=<f>", one per mix.
# Usage: perf/run-bench.sh [--seconds S] [--runs R] [--packets N] [--cpu C] [--mix a|b|all|a-rtp|a-sip|a-bad]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/perf
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" -Dbuildtype=release -Dnative=true >/dev/null
fi
ninja -C "$build" perf/bench_pipeline >/dev/null
cpu=$(( $(nproc) > 1 ? 1 : 0 ))
out=$("$build/perf/bench_pipeline" --cpu "$cpu" "$@")
echo "$out" | grep -v '^RESULT '
echo "$out" | sed -n 's/^RESULT //p'
