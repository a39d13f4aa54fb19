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
finish() {
  echo "$passes passed, $failures failed"
  [ "$failures" = 0 ]
}
