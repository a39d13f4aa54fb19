#!/usr/bin/env bash
# OCR throughput benchmark, run by hand (never by ctest): builds ncbocr in
# build/ (configured if need be, brought up to date always, so the figures
# are those of the checkout), then runs bench/bench.py, which times ncbocr
# against the tesseract CLI (per file with defaults; OMP_THREAD_LIMIT=1 with
# xargs -P) on the same receipts, runs ncbocr eval for accuracy, prints the
# ratios and writes bench/RESULTS.md.
#
#   bench/run.sh [--limit N] [--images DIR [--keys DIR]] [--lang eng]
#                [--workers N] [--before OLD_NCBOCR] [--skip-baselines]
#
# Default receipts: ../shared/receipts-dev (img/ and key/) next to the
# checkout, 40 of them spread over the set. Run it at low priority on a
# shared machine: nice -n 10 bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/CMakeCache.txt ] || cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" --target ncbocr >/dev/null
exec python3 bench/bench.py "$@"
