# Shared helpers for the tests that run the real binary. Sourced, not run.
# Environment from ctest: NCBOCR (the binary), SOURCE_DIR (the checkout).
set -euo pipefail
: "${NCBOCR:?set NCBOCR to the ncbocr binary}"
: "${SOURCE_DIR:?set SOURCE_DIR to the source checkout}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ncbocr-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
passes=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { passes=$((passes + 1)); }
# expect_code CODE CMD...: runs CMD, checks its exit status.
expect_code() {
  local want=$1; shift
  local got=0
  "$@" >"$WORK/out" 2>"$WORK/err" || got=$?
  if [ "$got" != "$want" ]; then
    fail "expected exit $want, got $got: $*"; sed 's/^/  | /' "$WORK/err" >&2
  else
    pass
  fi
}
expect_grep() {  # expect_grep PATTERN FILE
  if grep -q -- "$1" "$2"; then pass; else fail "'$1' not in $2"; sed 's/^/  | /' "$2" | head -20 >&2; fi
}
# slow_receipt_eml FILE: a claim email whose receipt takes seconds to read
# (a PDF whose pages each draw one huge compressed image), within every
# page and pixel limit.
slow_receipt_eml() {
  python3 - "$SOURCE_DIR" "$1" <<'PY'
import sys
sys.path.insert(0, sys.argv[1] + "/tests/hostile")
import make_hostile as h
open(sys.argv[2], "wb").write(h.with_attachment("slow", h.pdf_huge_image_pages(12, 12000),
                                                "application/pdf", "r.pdf"))
PY
}
# eml_config INBOX [YAML]: $WORK/ncbocr.yaml for a spool in $WORK fed from
# the .eml folder INBOX, one OCR worker, English, a file:// NCB outbox;
# YAML, if given, is more lines under ocr: (indented two spaces).
eml_config() {
  cat > "$WORK/ncbocr.yaml" <<YAML
spool: $WORK/spool
fetch:
  source: eml
  path: $1
ocr:
  workers: 1
  languages: [eng]
${2:-}
ncb:
  base_url: file://$WORK/outbox
YAML
}
finish() {
  echo "$passes passed, $failures failed"
  [ "$failures" = 0 ]
}
