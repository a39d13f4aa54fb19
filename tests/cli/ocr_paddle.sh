#!/usr/bin/env bash
# ncbocr ocr --engine paddle: missing models are one line and exit 78; a bad
# engine name is refused; with the models (beside the binary, as
# scripts/setup.sh puts them), the generated receipt is read.
source "$(dirname "$0")/lib.bash"
img="$SOURCE_DIR/tests/data/ocr/receipt.png"
mkdir -p "$WORK/empty"

OCR_MODELS_DIR="$WORK/empty" expect_code 78 "$NCBOCR" -q ocr --engine paddle "$img"
expect_grep "$WORK/empty/det.onnx is missing" "$WORK/err"
expect_grep "scripts/setup.sh" "$WORK/err"
n=$(grep -c '^ncbocr:' "$WORK/err" || true)
[ "$n" = 1 ] && pass || fail "expected one error line, got $n"

# auto without the models: Tesseract reads, after one warning naming the file.
OCR_MODELS_DIR="$WORK/empty" expect_code 0 "$NCBOCR" -q ocr --engine auto --json "$img"
expect_grep "ncbocr: warning: ocr.engine auto: the paddle engine's models are not installed (no $WORK/empty/det.onnx" "$WORK/err"
n=$(grep -c 'warning' "$WORK/err" || true)
[ "$n" = 1 ] && pass || fail "expected one warning line, got $n"
expect_grep '"engine":"tesseract' "$WORK/out"
OCR_MODELS_DIR="$WORK/empty" OCR_ENGINE=auto expect_code 0 "$NCBOCR" -q ocr "$img"
expect_grep "ocr.engine auto" "$WORK/err"

expect_code 64 "$NCBOCR" ocr --engine easyocr "$img"
OCR_ENGINE=easyocr expect_code 78 "$NCBOCR" ocr "$img"
expect_grep "OCR_ENGINE" "$WORK/err"

if [ -f "$(dirname "$NCBOCR")/models/det.onnx" ]; then
  expect_code 0 "$NCBOCR" -q ocr --engine paddle "$img"
  expect_grep "^TOTAL 45.05$" "$WORK/out"
  expect_grep "SEJAHTERA SDN BHD" "$WORK/out"
  OCR_ENGINE=paddle expect_code 0 "$NCBOCR" -q ocr --json "$img"
  expect_grep '"engine":"paddle' "$WORK/out"
  # auto with the models: both engines, no warning.
  OCR_SECOND_READING=always expect_code 0 "$NCBOCR" -q ocr --engine auto --json "$img"
  grep -q "warning" "$WORK/err" && fail "a warning with the models installed" || pass
  expect_grep '"second":{"engine":"paddle' "$WORK/out"
elif [ "${NCBOCR_PADDLE_REQUIRED:-0}" = 1 ]; then
  fail "no models beside $NCBOCR with NCBOCR_PADDLE_REQUIRED=1"
else
  echo "skipped the reading checks: no models beside $NCBOCR (scripts/setup.sh fetches them)"
fi
finish
