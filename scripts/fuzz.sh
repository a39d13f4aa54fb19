#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang, ASan+UBSan) into build-fuzz/ and
# runs each one: first every kept regression input (fuzz/regressions/TARGET/),
# then new inputs for --seconds. A crash, leak, timeout or out-of-memory input
# is copied into fuzz/regressions/TARGET/ (commit it with the fix) and the
# script exits 1. See fuzz/README.md.
#
#   scripts/fuzz.sh                      every target, 45 s each (what CI runs),
#                                        as many at once as there are cores
#   scripts/fuzz.sh --seconds 3600 mime  one target for an hour (a long run)
#   scripts/fuzz.sh --replay             only the regression inputs, no fuzzing
#   scripts/fuzz.sh --no-build ...       use the targets already built
#   scripts/fuzz.sh --build-dir DIR ...  targets from DIR (configured with
#                                        NCBOCR_FUZZ=ON; test.sh uses build-asan)
#   scripts/fuzz.sh --parallel N ...     N targets at once (default: nproc)
#   scripts/fuzz.sh ... -- -jobs=2       extra libFuzzer flags after --
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
all_targets=(mime parse email_fields ocr_json ncb_response google_api google_auth config)

seconds=45
build=1
out=build-fuzz
replay_only=0
parallel=$(nproc)
targets=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=${2:?--seconds needs a number}; shift ;;
    --seconds=*) seconds=${1#*=} ;;
    --replay) replay_only=1 ;;
    --build-dir) out=${2:?--build-dir needs a folder}; shift ;;
    --no-build) build=0 ;;
    --parallel) parallel=${2:?--parallel needs a number}; shift ;;
    --parallel=*) parallel=${1#*=} ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 64 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
[ "${#targets[@]}" -gt 0 ] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [ -f "fuzz/${t}_fuzz.cc" ] || { echo "fuzz.sh: no target $t (have: ${all_targets[*]})" >&2; exit 64; }
done

if [ "$build" = 1 ]; then
  if ! grep -qs '^NCBOCR_FUZZ:BOOL=ON' "$out/CMakeCache.txt"; then
    cxx=$(command -v clang++ || command -v clang++-14 || true)
    if [ -z "$cxx" ]; then
      echo "fuzz.sh: clang++ is needed (scripts/setup.sh --test-deps installs it)" >&2
      exit 69
    fi
    cmake -S . -B "$out" -DNCBOCR_FUZZ=ON -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
  fi
  cmake --build "$out" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
fi

# Sanitizer reports stop the run with a stack trace; leaks count as failures.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TMPDIR=${TMPDIR:-/tmp}

# Longest input tried: big enough for what each reader meets (a message with
# a few parts, a config file, a receipt) and small enough to keep the slow
# regex readers (parse, email_fields) at useful speed.
max_len_for() {
  case "$1" in
    mime) echo 65536 ;;
    config) echo 16384 ;;
    parse|email_fields) echo 2048 ;;
    *) echo 8192 ;;
  esac
}

summary="$out/fuzz-summary.txt"
: > "$summary"

# One target: replay, then fuzz. Writes its summary line to $out/fuzz-T.line
# and exits non-zero when the target failed; messages go to $out/fuzz-T.err.
run_target() {
  local t=$1
  local bin="$out/fuzz/fuzz_$t"
  local regress="fuzz/regressions/$t"
  local log="$out/fuzz-$t.log"
  local -a kept=()
  mkdir -p "$regress" "$out/corpus/$t" "$out/artifacts/$t"

  # 1. Every input that once failed must pass now.
  mapfile -t kept < <(find "$regress" -type f ! -name '.*' | sort)
  if [ "${#kept[@]}" -gt 0 ]; then
    if ! "$bin" "${kept[@]}" > "$log.replay" 2>&1; then
      tail -40 "$log.replay"
      echo "fuzz $t: a regression input in $regress fails again (log: $log.replay)"
      echo "fuzz $t: regression inputs fail" > "$out/fuzz-$t.line"
      return 1
    fi
  fi
  if [ "$replay_only" = 1 ]; then
    echo "fuzz $t: ${#kept[@]} regression inputs pass" > "$out/fuzz-$t.line"
    return 0
  fi

  # 2. New inputs. New corpus entries go to build-fuzz/corpus/ (kept between
  # runs there), never into the seed folders in git.
  rm -f "$out/artifacts/$t"/*
  local rc=0
  "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len_for "$t")" \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" "${extra[@]}" \
    "$out/corpus/$t" "fuzz/corpus/$t" "$regress" > "$log" 2>&1 || rc=$?
  local execs speed cov new=0
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$( (grep -oE 'cov: [0-9]+' "$log" || true) | tail -1 | cut -d' ' -f2)
  for a in "$out/artifacts/$t"/*; do
    [ -f "$a" ] || continue
    cp "$a" "$regress/" && new=$((new + 1))
  done
  echo "fuzz $t: ${execs:-0} executions in ${seconds}s (${speed:-0}/s), coverage ${cov:-?}, regression inputs ${#kept[@]}, new failures $new" \
    > "$out/fuzz-$t.line"
  if [ "$rc" != 0 ] || [ "$new" -gt 0 ]; then
    grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$log" | head -30 || true
    echo "fuzz $t: FAILED (exit $rc); the input is now in $regress (log: $log)"
    return 1
  fi
}

# Targets run $parallel at a time (each libFuzzer process uses one core);
# results are printed in the order the targets were named.
declare -A pid_of=()
running=0
for t in "${targets[@]}"; do
  rm -f "$out/fuzz-$t.line" "$out/fuzz-$t.err"
  run_target "$t" > "$out/fuzz-$t.err" 2>&1 &
  pid_of[$t]=$!
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
failed=()
for t in "${targets[@]}"; do
  wait "${pid_of[$t]}" || failed+=("$t")
  [ -f "$out/fuzz-$t.line" ] && tee -a "$summary" < "$out/fuzz-$t.line"
  if [ -s "$out/fuzz-$t.err" ]; then cat "$out/fuzz-$t.err" >&2; fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets clean"
