#!/usr/bin/env bash
# The crash and fault harness, short mode: 48 claim emails through the whole
# pipeline (Gmail, NCB, Drive and Sheets doubles) while stage processes are
# SIGKILLed at random (25 kills at least) and faults are injected (NCB 5xx,
# 429 and lost answers, Gmail 500s, Sheets 429, expired tokens, a full
# spool), then quiescence and the end-state checks of tests/torture/run.py.
# The seed is printed; rerun with TORTURE_SEED=N to replay a failure's
# schedule (process timing still varies). The long run is by hand:
# tests/torture/run.py --ncbocr build/ncbocr --long (see its README).
source "$(dirname "$0")/lib.bash"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 125; }
command -v openssl >/dev/null || { echo "openssl missing: skipped"; exit 125; }
seed=${TORTURE_SEED:-$(( $(date +%s) % 100000 ))}
if python3 "$SOURCE_DIR/tests/torture/run.py" --ncbocr "$NCBOCR" --seed "$seed" --selftest >"$WORK/out" 2>&1; then
  pass
else
  fail "torture run (seed $seed) found problems"
fi
cat "$WORK/out"
grep -q "lost 0, duplicated 0" "$WORK/out" && pass || fail "summary does not say lost 0, duplicated 0"
finish
