#!/usr/bin/env bash
# Scale-out benchmark, run by hand (never by ctest): brings build/ncbocr up to
# date, then runs bench/scaleout.py, which fetches a sample of dev receipts
# into a fresh spool and runs one `ncbocr ocr`, then several at once, on it:
# wall and CPU time, claims per run, and a check that every claim was
# recognised exactly once. Writes bench/SCALEOUT.md.
#
#   bench/scaleout.sh [--limit N] [--runs R] [--images DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/CMakeCache.txt ] || cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" --target ncbocr >/dev/null
exec python3 bench/scaleout.py "$@"
