#!/usr/bin/env bash
# Builds the fuzz build if needed and runs the libFuzzer targets of tests/fuzz/.
#
#   tests/fuzz/run.sh [--minutes N | --seconds N] [--build-dir DIR] [TARGET...]
#
# Targets (default: all): packet sip sip_diff signatures media pipeline rules policy command
# stream digest.
# Each target first replays its regression inputs (tests/fuzz/regressions/<target>/), then fuzzes
# for the given time (default 60 s each) from its corpus: a persistent working corpus in the
# build directory, the seeds generated from ../shared/corpus and make_captures.py, and the
# committed seeds (tests/fuzz/seeds/<target>/). Prints executions, coverage and crashes per
# target. Every crash, timeout or out-of-memory input found is copied to
# tests/fuzz/regressions/<target>/ (commit it: the normal test run replays it), and the run
# goes on with the time left. Exit status 1 if anything crashed.
#
# --test: what the meson test of each target runs (tests/run.sh): a fresh working corpus, no
# build step, a longer per-input timeout. Targets run one after another; start several
# run.sh with different targets to use more cores.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build="$src/build/fuzz"
seconds=60
test_mode=0
targets=()
all_targets=(packet sip sip_diff signatures media pipeline rules policy command stream digest)

while [[ $# -gt 0 ]]; do
  case $1 in
    --minutes) seconds=$(($2 * 60)); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --test) test_mode=1; shift ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "unknown target '$t'" >&2; exit 2; }
done

if [[ $test_mode == 0 ]]; then
  if [[ ! -f "$build/build.ninja" ]]; then
    CC=clang CXX=clang++ meson setup "$build" "$src" -Dfuzz=true -Ddataplane_app=false \
      -Dnative=true -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=debugoptimized || exit 1
  fi
  ninja -C "$build" tests/fuzz/seeds.stamp "${targets[@]/#/tests/fuzz/fuzz_}" || exit 1
fi

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

# Options per target: the longest input, the per-input timeout, the dictionary.
declare -A max_len=([packet]=16384 [pipeline]=32768 [policy]=32768 [sip]=8192 [sip_diff]=8192
                    [signatures]=8192 [media]=2048 [rules]=4096 [command]=1200
                    [stream]=20000 [digest]=2048)
declare -A timeout=([rules]=60 [policy]=60)
declare -A dict=([sip]=sip.dict [sip_diff]=sip.dict [signatures]=sip.dict [pipeline]=sip.dict
                 [policy]=sip.dict [rules]=rules.dict [command]=command.dict
                 [stream]=sip.dict [digest]=digest.dict)

status=0
summary=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  out="$build/tests/fuzz/out/$t"
  regressions="$src/tests/fuzz/regressions/$t"
  mkdir -p "$out/artifacts"
  # A test run's logs are its own: a long run of the same target may be writing $out/*.log.
  if [[ $test_mode == 1 ]]; then
    work=$(mktemp -d "$out/check.XXXXXX")
    logs="$work.logs"
  else
    work="$out/corpus"
    logs="$out"
    mkdir -p "$work"
  fi
  mkdir -p "$logs"
  dirs=("$work")
  for d in "$build/tests/fuzz/seeds/$t" "$src/tests/fuzz/seeds/$t" "$regressions"; do
    [[ -d $d ]] && dirs+=("$d")
  done
  limit=${timeout[$t]:-25}
  # The test run shares the machine with builds: only a real hang should fail it.
  [[ $test_mode == 1 ]] && limit=$((limit * 4))
  opts=(-max_len="${max_len[$t]}" -timeout="$limit" -rss_limit_mb=2560
        -print_final_stats=1 -artifact_prefix="$out/artifacts/")
  [[ -n ${dict[$t]:-} ]] && opts+=(-dict="$src/tests/fuzz/${dict[$t]}")

  crashes=0
  # Regression inputs first, each once: a fixed bug must stay fixed.
  if [[ -d $regressions ]] && [[ -n $(ls -A "$regressions") ]]; then
    if ! "$bin" "${opts[@]}" "$regressions"/* >"$logs/replay.log" 2>&1; then
      echo "$t: a regression input fails again:" >&2
      grep -aE "Running:|ERROR|FUZZ_CHECK|SUMMARY" "$logs/replay.log" | tail -n 20 >&2
      crashes=$((crashes + 1))
    fi
  fi

  execs=0 cov=0 ft=0 corp=0 runs=0
  start=$(date +%s)
  left=$seconds
  while [[ $left -gt 0 && $runs -lt 20 ]]; do
    runs=$((runs + 1))
    before=$(ls "$out/artifacts" | sort)
    nice -n 10 "$bin" "${opts[@]}" -max_total_time="$left" "${dirs[@]}" >"$logs/fuzz.log" 2>&1
    rc=$?
    n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/fuzz.log" | tail -n 1)
    execs=$((execs + ${n:-0}))
    last=$(grep -aE '^#[0-9]+' "$logs/fuzz.log" | tail -n 1)
    [[ $last =~ cov:\ ([0-9]+) ]] && cov=${BASH_REMATCH[1]}
    [[ $last =~ ft:\ ([0-9]+) ]] && ft=${BASH_REMATCH[1]}
    [[ $last =~ corp:\ ([0-9]+) ]] && corp=${BASH_REMATCH[1]}
    if [[ $rc -ne 0 ]]; then
      new=$(comm -13 <(echo "$before") <(ls "$out/artifacts" | sort))
      echo "$t: the fuzzer stopped (exit $rc):" >&2
      grep -aE "ERROR|FUZZ_CHECK|SUMMARY|Test unit written|^    #[0-3] " "$logs/fuzz.log" | head -n 20 >&2
      if [[ -z $new ]]; then
        crashes=$((crashes + 1))
        break  # no input to keep: something other than an input failed
      fi
      mkdir -p "$regressions"
      for a in $new; do
        # A timeout on a loaded machine may be starvation, not a hang: keep it only if it recurs.
        if [[ $a == timeout-* ]] && "$bin" "${opts[@]}" "$out/artifacts/$a" >/dev/null 2>&1; then
          echo "$t: $a did not time out again: not kept" >&2
          continue
        fi
        cp "$out/artifacts/$a" "$regressions/$a"
        echo "$t: saved tests/fuzz/regressions/$t/$a" >&2
        crashes=$((crashes + 1))
      done
    fi
    left=$((seconds - ($(date +%s) - start)))
  done
  [[ $test_mode == 1 ]] && rm -rf "$work" "$logs"
  elapsed=$(($(date +%s) - start))
  line=$(printf '%-11s %12d execs in %5d s (%7d/s)  cov %6d  ft %7d  corpus %6d  crashes %d' \
    "$t" "$execs" "$elapsed" $((execs / (elapsed > 0 ? elapsed : 1))) "$cov" "$ft" "$corp" "$crashes")
  echo "$line"
  summary+=("$line")
  [[ $crashes -eq 0 ]] || status=1
done
if [[ ${#targets[@]} -gt 1 ]]; then
  echo "---"
  printf '%s\n' "${summary[@]}"
fi
exit $status
