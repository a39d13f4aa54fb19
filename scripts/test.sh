#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing (build and test
# dependencies), builds, and runs every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test-deps
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
