#!/usr/bin/env bash
# Sets everything up and runs every test: the release build and the ASan+UBSan build, each with
# the unit, corpus and offline integration suites, then the SIP tests of -march=native builds and
# the fuzz targets over their seeds and regression inputs.
# Prints "N passed, N failed" at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${SIPWALL_SKIP_DEPS:-0}" != 1 ]]; then
  bash deploy/install-deps.sh
fi

passed=0
failed=0
# run_suite DIR [meson setup options...]; with ONLY="target test" it builds and runs just that.
run_suite() {
  local dir=$1
  shift
  if [[ ! -f "$dir/build.ninja" ]]; then
    meson setup "$dir" "$@"
  fi
  local rc=0
  if [[ -n "${ONLY:-}" ]]; then
    local target=${ONLY% *} name=${ONLY#* }
    ninja -C "$dir" "$target"
    meson test -C "$dir" --no-rebuild --print-errorlogs "$name" || rc=$?
  else
    ninja -C "$dir"
    meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
  fi
  local log="$dir/meson-logs/testlog.json"
  local ok bad
  ok=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["result"]=="OK"))' "$log")
  bad=$(python3 -c 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["result"] not in ("OK","SKIP")))' "$log")
  passed=$((passed + ok))
  failed=$((failed + bad))
  [[ $rc -eq 0 ]] || echo "test suites failed in $dir" >&2
}

run_suite build/release
# Sanitizers: every test again under ASan+UBSan; any report fails the test.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build/asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized

# The -march=native build (what perf/run-bench.sh measures) compiles the validator's AVX-512
# fast paths, which the builds above (-march=corei7) do not: its SIP tests, the differential
# ones against the frozen reference validator included, run on them here, under ASan+UBSan and
# optimised as released. (The fuzz build's sip_diff target checks the same paths against the
# same reference, but only over its seeds for a few seconds, not the differential tests'
# enumerations of every special byte at every position and every span against an exactly-sized
# buffer: it does not replace this.)
ONLY="tests/unit/sip/sip_test sip" run_suite build/native-asan -Dnative=true \
  -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
# libFuzzer targets (tests/fuzz/, clang, ASan+UBSan, -march=native): one meson test per target
# replays its regression inputs and seeds, then fuzzes a few seconds (tests/fuzz/run.sh --test).
CC=clang CXX=clang++ run_suite build/fuzz -Dfuzz=true -Ddataplane_app=false -Dnative=true \
  -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
unset ASAN_OPTIONS UBSAN_OPTIONS
ONLY="tests/unit/sip/sip_test sip" run_suite build/native -Dbuildtype=release -Dnative=true

echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
