#!/usr/bin/env bash
# Sizing benchmark, run by hand (never by ctest): brings build/ncbocr up to
# date (configuring build/ if need be, so the figures are those of the
# checkout), checks the paddle models, then runs bench/sizing.py, which runs
# the real pipeline (fetch, ocr, extract, submit to a file:// outbox,
# archive) over fresh spools for each OCR configuration (tesseract, paddle,
# tesseract+paddle) with one OCR worker and again with two, and writes
# bench/SIZING.md: CPU seconds and receipts per hour per core, peak memory
# per worker, the other stages' cost per claim, spool growth per 1,000 claims.
#
#   bench/sizing.sh [--limit N] [--paddle-limit N] [--images DIR]
#                   [--configs tesseract,paddle,tesseract+paddle] [--keep]
#
# Default receipts: 24, every k-th of ../shared/receipts-dev/img next to the
# checkout. On a shared machine run it at low priority:
# nice -n 10 bench/sizing.sh. The per-core figures are CPU time, not wall.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f build/CMakeCache.txt ] || cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)" --target ncbocr >/dev/null
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' build/CMakeCache.txt)
exec python3 bench/sizing.py --build-type "${build_type:-Release (default)}" "$@"
