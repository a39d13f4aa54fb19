#!/usr/bin/env bash
# ncbocr ocr FILE... on the worker pool: results stream in input order
# whatever the batch size, --stats reports time per step and memory, and
# OCR_USE_GPU is honoured (true without a GPU: exit 78 with a clear message).
source "$(dirname "$0")/lib.bash"
data=$SOURCE_DIR/tests/data/ocr
files=("$data/receipt.png" "$data/two_pages.tif" "$data/receipt_rot90.png" "$data/receipt.png")

# Order and stats, with a batch smaller than the number of files.
OCR_BATCH_SIZE=1 OCR_USE_GPU=false "$NCBOCR" ocr --json --stats --workers 2 --lang eng "${files[@]}" \
  >"$WORK/out" 2>"$WORK/err" || fail "ocr exited $?"
python3 - "$WORK/out" "$WORK/err" "${files[@]}" <<'PY' && pass || fail "ocr --json/--stats output"
import json, sys
out, err, files = sys.argv[1], sys.argv[2], sys.argv[3:]
docs = [json.loads(l) for l in open(out)]
assert [d["file"] for d in docs] == files, [d["file"] for d in docs]
assert all(d["pages"] and d["pages"][0]["lines"] for d in docs)
stats = [json.loads(l) for l in open(err) if l.startswith("{")][-1]
assert stats["files"] == 4 and stats["failed"] == 0 and stats["workers"] == 2, stats
assert stats["pages"] == sum(len(d["pages"]) for d in docs), stats
assert stats["ms"]["recognise"] > 0 and 0 <= stats["outside_recognition"] < 1, stats
assert stats["peak_rss_mb"] > 0 and stats["receipts_per_min"] > 0, stats
assert stats["preprocess_on"] == "cpu", stats
PY

# Same text whatever the batch size and the number of workers.
OCR_BATCH_SIZE=8 OCR_USE_GPU=false "$NCBOCR" ocr --workers 1 --lang eng "${files[@]}" >"$WORK/text1" 2>/dev/null
OCR_BATCH_SIZE=1 OCR_USE_GPU=false "$NCBOCR" ocr --workers 2 --lang eng "${files[@]}" >"$WORK/text2" 2>/dev/null
if cmp -s "$WORK/text1" "$WORK/text2"; then pass; else fail "text depends on batch size or workers"; fi

# OCR_USE_GPU values.
expect_code 78 env OCR_USE_GPU=maybe "$NCBOCR" ocr --lang eng "$data/receipt.png"
expect_grep "auto, true or false" "$WORK/err"
gpu=0
OCR_USE_GPU=true "$NCBOCR" ocr --lang eng "$data/receipt.png" >"$WORK/out" 2>"$WORK/err" || gpu=$?
if [ "$gpu" = 78 ]; then
  expect_grep "no GPU" "$WORK/err"
  # auto on a machine without a GPU: the CPU, said once.
  expect_code 0 env OCR_USE_GPU=auto "$NCBOCR" ocr --lang eng "$data/receipt.png"
  expect_grep "TOTAL" "$WORK/out"
  [ "$(grep -c 'no GPU' "$WORK/err")" = 1 ] && pass || fail "auto without GPU should say so once"
else
  [ "$gpu" = 0 ] && pass || fail "OCR_USE_GPU=true on a GPU machine exited $gpu"
fi
# Progress: on a terminal (a pty from script(1)) with the results going to a
# file, stderr shows "ocr N of M"; with stderr not a terminal (cron, a log),
# or with -q, nothing of it.
if command -v script >/dev/null; then
  OCR_USE_GPU=false script -qec "'$NCBOCR' ocr --lang eng '${files[0]}' '${files[2]}' > '$WORK/prog.out'" \
    "$WORK/typescript" >/dev/null 2>&1 || fail "ocr under a pty failed"
  grep -q "ocr 2 of 2" "$WORK/typescript" && pass || fail "no progress line on a terminal: $(cat -v "$WORK/typescript" | head -3)"
  OCR_USE_GPU=false script -qec "'$NCBOCR' -q ocr --lang eng '${files[0]}' '${files[2]}' > '$WORK/prog.out'" \
    "$WORK/typescript" >/dev/null 2>&1
  if grep -q " of 2" "$WORK/typescript"; then fail "progress shown with -q"; else pass; fi
else
  echo "progress on a terminal: script(1) missing, not checked"
fi
OCR_USE_GPU=false "$NCBOCR" ocr --lang eng "${files[0]}" "${files[2]}" >"$WORK/prog.out" 2>"$WORK/prog.err" || fail "ocr"
if grep -q " of 2" "$WORK/prog.err"; then fail "progress written where stderr is not a terminal"; else pass; fi

finish
