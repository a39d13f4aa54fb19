#!/usr/bin/env bash
# CPU and GPU preprocessing agree: at most 0.5% of pixels differ after
# binarisation (the "gpu parity" unit test, run with --no-skip) and eval
# extracts the same fields from the dev receipts either way. Needs a GPU and
# a build with -DNCBOCR_CUDA=ON (scripts/gpu-check.sh); anywhere else it
# reports SKIPPED (exit 125), never passed.
#
# Receipts for the field comparison: $NCBOCR_PARITY_RECEIPTS (img/ + key/),
# default ../shared/receipts-dev next to the checkout if it exists; the first
# $NCBOCR_PARITY_LIMIT (default 20).
source "$(dirname "$0")/lib.bash"

got=0
OCR_USE_GPU=true "$NCBOCR" ocr --lang eng "$SOURCE_DIR/tests/data/ocr/receipt.png" >"$WORK/out" 2>"$WORK/err" || got=$?
if [ "$got" = 78 ] && grep -q "no GPU" "$WORK/err"; then
  echo "SKIPPED: $(grep -o 'no GPU.*' "$WORK/err" | head -1)"
  exit 125
fi
[ "$got" = 0 ] || { fail "ocr with OCR_USE_GPU=true exited $got"; sed 's/^/  | /' "$WORK/err" >&2; }

tests_bin="$(dirname "$NCBOCR")/ncbocr_tests"
if "$tests_bin" -tc='gpu*' --no-skip >"$WORK/parity" 2>&1; then pass; else fail "pixel parity"; fi
cat "$WORK/parity"

receipts=${NCBOCR_PARITY_RECEIPTS:-$SOURCE_DIR/../shared/receipts-dev}
if [ -d "$receipts/img" ] && [ -d "$receipts/key" ]; then
  for gpu in false true; do
    OCR_USE_GPU=$gpu "$NCBOCR" eval --images "$receipts/img" --keys "$receipts/key" --lang eng \
      --limit "${NCBOCR_PARITY_LIMIT:-20}" --json >"$WORK/eval-$gpu.json" 2>"$WORK/eval-$gpu.err" ||
      fail "eval with OCR_USE_GPU=$gpu"
  done
  if python3 - "$WORK/eval-false.json" "$WORK/eval-true.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
# eval lists every field it got wrong with the value found; the rest equal
# the key. Same accuracy and same misses: the same fields were extracted.
def fields(r):
    return [(m["id"], m.get("error"), *(json.dumps(m.get(f)) for f in ("company", "date", "address", "total")))
            for m in r["misses"]]
same = a["accuracy"] == b["accuracy"] and fields(a) == fields(b)
print("fields on %d receipts: CPU %s, GPU %s -> %s" % (a["receipts"], a["accuracy"], b["accuracy"],
                                                     "identical" if same else "DIFFERENT"))
sys.exit(0 if same else 1)
PY
  then pass; else fail "extracted fields differ between CPU and GPU preprocessing"; fi
else
  echo "no dev receipts at $receipts: field comparison not run"
fi
finish
