#!/usr/bin/env bash
# GPU preprocessing check, for a machine with an NVIDIA GPU and the CUDA
# toolkit: builds ncbocr with the CUDA kernels in build-cuda/, then
#   1. the parity test: CPU vs GPU preprocessing, share of pixels that differ
#      after Otsu binarisation (<= 0.5%) on test pages and dev receipts, and
#      the fields eval extracts from dev receipts (identical);
#   2. a GPU-versus-CPU preprocessing benchmark on the same receipts (printed
#      by the parity test), and ncbocr ocr --stats on a batch both ways;
# and prints both. On a machine without a GPU the parity test says SKIPPED.
#
#   scripts/gpu-check.sh [RECEIPTS_DIR]    (default ../shared/receipts-dev)
# Environment: LIMIT (receipts, default 40), CUDA_ARCH (default native).
set -euo pipefail
cd "$(dirname "$0")/.."
receipts=${1:-../shared/receipts-dev}
limit=${LIMIT:-40}
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
[ -x "$nvcc" ] || { echo "gpu-check: no nvcc: install the CUDA toolkit" >&2; exit 69; }
command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "gpu-check: nvidia-smi not found"

echo "== build (build-cuda, -DNCBOCR_CUDA=ON)"
cmake -S . -B build-cuda -DNCBOCR_CUDA=ON -DCMAKE_CUDA_COMPILER="$nvcc" \
  -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-native}" >/dev/null
cmake --build build-cuda -j"$(nproc)" --target ncbocr ncbocr_tests 2>&1 | tail -3

subset=$(mktemp -d)
trap 'rm -rf "$subset"' EXIT
if [ -d "$receipts/img" ]; then
  ls "$receipts/img" | sort | head -n "$limit" | while read -r f; do ln -s "$(realpath "$receipts/img/$f")" "$subset/$f"; done
else
  echo "gpu-check: no receipts at $receipts/img: parity on the test pages only"
fi

echo "== parity and preprocessing benchmark (unit test, --no-skip)"
rc=0
NCBOCR_PARITY_IMAGES=$subset build-cuda/ncbocr_tests -tc='gpu*' --no-skip || rc=1

echo "== parity of extracted fields (tests/cli/gpu_parity.sh)"
NCBOCR=$PWD/build-cuda/ncbocr SOURCE_DIR=$PWD NCBOCR_PARITY_RECEIPTS=$receipts NCBOCR_PARITY_LIMIT=$limit \
  bash tests/cli/gpu_parity.sh || rc=1

if [ -n "$(ls "$subset")" ]; then
  echo "== ncbocr ocr --stats on $limit receipts, CPU then GPU preprocessing"
  for gpu in false true; do
    OCR_USE_GPU=$gpu build-cuda/ncbocr ocr --json --stats --lang eng "$subset"/* 2>&1 >/dev/null | grep '^{' || rc=1
  done
fi
echo "== gpu-check: $([ $rc = 0 ] && echo PASSED || echo FAILED)"
exit $rc
