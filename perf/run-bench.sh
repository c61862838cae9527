#!/usr/bin/env bash
# Builds an optimised (-march=native) tree and runs the pipeline benchmark on one core, then
# the same benchmark built from a reference commit (default: main) in the same run, so mixes
# (a) and (b) are compared on the same machine under the same load.
# The last lines are "mix=<name> mpps=<f> ns_per_packet=<f> limit_ratio=<f>", one per mix and
# build ("ref:" prefixed for the reference; it has no mix c).
# Usage: perf/run-bench.sh [--ref COMMIT|none] [--seconds S] [--runs R] [--packets N]
#        [--mix a|b|c|all|a-rtp|a-sip|a-bad]
set -euo pipefail
cd "$(dirname "$0")/.."
ref=main
if [[ ${1:-} == --ref ]]; then ref=$2; shift 2; fi
build=build/perf
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" -Dbuildtype=release -Dnative=true >/dev/null
fi
ninja -C "$build" perf/bench_pipeline >/dev/null
cpu=$(( $(nproc) > 1 ? 1 : 0 ))
lscpu | grep 'Model name' || true
out=$("$build/perf/bench_pipeline" --cpu "$cpu" "$@")
if [[ $ref != none ]]; then
  # The reference tree: an export of the commit (no worktree), built the same way.
  src=build/perf-ref/src
  rev=$(git rev-parse "$ref")
  if [[ ! -f build/perf-ref/rev || $(cat build/perf-ref/rev) != "$rev" ]]; then
    rm -rf build/perf-ref && mkdir -p "$src"
    git archive "$rev" | tar -x -C "$src"
    meson setup build/perf-ref/build "$src" -Dbuildtype=release -Dnative=true >/dev/null
    echo "$rev" > build/perf-ref/rev
  fi
  ninja -C build/perf-ref/build perf/bench_pipeline >/dev/null
  ref_args=()
  mix=all
  while [[ $# -gt 0 ]]; do
    if [[ $1 == --mix ]]; then mix=$2; else ref_args+=("$1" "$2"); fi
    shift 2
  done
  if [[ $mix == all || $mix == a || $mix == b ]]; then
    [[ $mix == all ]] && mix_list="a b" || mix_list=$mix
    for m in $mix_list; do
      ref_out=$(build/perf-ref/build/perf/bench_pipeline --cpu "$cpu" --mix "$m" "${ref_args[@]}")
      out+=$'\n'$(echo "$ref_out" | sed 's/^mix /ref mix /; s/^RESULT /RESULT ref:/')
    done
  fi
fi
echo "$out" | grep -v '^RESULT '
echo "$out" | sed -n 's/^RESULT //p'
