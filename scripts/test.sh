#!/usr/bin/env bash
# Runs the whole test suite, as CI does (.ci/run): installs what is missing
# (build and test dependencies), then
#   1. builds build/ and runs every test with ctest;
#   2. builds build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer) and
#      runs every test again there: any sanitizer report, even from a process
#      whose failure a test expected, fails the run;
#   3. runs each libFuzzer target (built in build-asan/ too) for a short
#      while (scripts/fuzz.sh).
#
#   scripts/test.sh              all of the above
#   scripts/test.sh --quick      step 1 only (for developers)
#   scripts/test.sh [--quick] -- ARGS   ARGS go to ctest (e.g. -R spool)
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) ctest_args+=("$1") ;;  # as before: bare arguments go to ctest
  esac
  shift
done
jobs=$(nproc)
started=$SECONDS
step() { echo "== test.sh: $* ($((SECONDS - started)) s so far)"; }

step "build/ and ctest"
scripts/setup.sh --test-deps
# Models that setup installed must work: their tests fail, not skip.
[ -f build/models/det.onnx ] && export NCBOCR_PADDLE_REQUIRED=1
(cd build && ctest --output-on-failure -j"$jobs" "${ctest_args[@]}")
if [ "$quick" = 1 ]; then
  step "done (--quick)"
  exit 0
fi

step "build-asan/ (ASan + UBSan) and ctest"
# clang, with the fuzz targets in the same build: the sanitized library is
# compiled once for both the test run and the fuzz runs (step 3).
cxx=$(command -v clang++ || command -v clang++-14)
cmake -S . -B build-asan -DCMAKE_CXX_COMPILER="$cxx" -DNCBOCR_SANITIZE=ON -DNCBOCR_FUZZ=ON >/dev/null
cmake --build build-asan -j"$jobs"
# The paddle engine looks for its models beside the binary.
[ -d build/models ] && ln -sfn "$PWD/build/models" build-asan/models
# Reports go to files as well as failing the process: a test that expects a
# command to fail would otherwise take a sanitizer abort for the failure it
# wanted. Leaks in third-party libraries are suppressed (tests/lsan.supp).
logs=$PWD/build-asan/sanitizer-logs
rm -rf "$logs" && mkdir -p "$logs"
export ASAN_OPTIONS="detect_leaks=1:log_path=$logs/asan"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
asan_rc=0
(cd build-asan && ctest --output-on-failure -j"$jobs" "${ctest_args[@]}") || asan_rc=$?
if compgen -G "$logs/*" >/dev/null; then
  echo "test.sh: sanitizer reports (build-asan/sanitizer-logs):" >&2
  head -n 60 "$logs"/* >&2
  asan_rc=1
fi
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
[ "$asan_rc" = 0 ] || { echo "test.sh: the ASan+UBSan run failed" >&2; exit 1; }

step "fuzz smoke runs"
scripts/fuzz.sh --build-dir build-asan
step "done"
