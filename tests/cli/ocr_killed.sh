#!/usr/bin/env bash
# A poison claim (issue 15): a receipt whose OCR run is killed every time
# (here by the test, as the OOM killer, timeout(1) or systemd would) is not
# started for ever. Each run records the attempt before working on the claim;
# after ocr.max_attempts (3) killed runs the next one parks it in failed with
# "gave up after 3 attempts (killed / timed out during ocr)", status --check
# names it, and the good claim queued behind it goes on.
source "$(dirname "$0")/lib.bash"

mkdir -p "$WORK/inbox1" "$WORK/inbox2"
# The poison: a receipt that takes seconds a page to render.
slow_receipt_eml "$WORK/inbox1/poison.eml"
cp "$SOURCE_DIR/samples/inbox/01-en-clinic-jpeg.eml" "$WORK/inbox2/"

config() { eml_config "$1"; }
N="$NCBOCR --config $WORK/ncbocr.yaml"
# The poison is fetched first, so its claim sorts (and is read) first.
config "$WORK/inbox1"; expect_code 0 $N fetch
sleep 1.1
config "$WORK/inbox2"; expect_code 0 $N fetch
poison=$(ls "$WORK/spool/fetched" | head -1)
good=$(ls "$WORK/spool/fetched" | tail -1)
[ -n "$poison" ] && [ "$poison" != "$good" ] && pass || fail "two claims in fetched"

# The run that has an attempt open on the poison, if any.
open_run() {
  python3 -c 'import json, sys; print((json.load(open(sys.argv[1])).get("open_attempt") or {}).get("run", ""))' \
    "$WORK/spool/fetched/$poison/claim.json" 2>/dev/null || true
}
# Kills `ncbocr ocr` with SIGNAL as soon as this run's attempt on the poison
# is on record (the worker is then on it, for seconds a page). The attempt a
# killed run left open stays on record until the next run counts it: wait for
# a new one.
kill_on_poison() {
  local before i now=""
  before=$(open_run)
  $N ocr >"$WORK/ocr.log" 2>&1 &
  local pid=$!
  for i in $(seq 1 600); do
    now=$(open_run)
    if [ -n "$now" ] && [ "$now" != "$before" ]; then break; fi
    sleep 0.05
  done
  [ -n "$now" ] && [ "$now" != "$before" ] && pass || fail "no new attempt on record"
  kill -s "$1" "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -ge 128 ] && pass || fail "ocr was not killed (exit $rc)"
}
kill_on_poison KILL
kill_on_poison TERM  # timeout(1) and systemd stop with SIGTERM first
kill_on_poison KILL
[ -d "$WORK/spool/fetched/$poison" ] && pass || fail "the poison left fetched while being killed"
[ -d "$WORK/spool/fetched/$good" ] && pass || fail "the good claim moved while ocr was being killed"

# Before it gives up, status --check names the claim runs die on.
expect_code 69 $N status --check
expect_grep "ocr died on claim $poison 2 times" "$WORK/out"

# The fourth run parks it at once, without starting it, and reads the other.
expect_code 0 $N ocr
cp "$WORK/err" "$WORK/ocr4.log"
$N claims show "$poison" > "$WORK/show.txt"
expect_grep "failed" "$WORK/show.txt"
expect_grep "gave up after 3 attempts (killed / timed out during ocr)" "$WORK/show.txt"
[ -d "$WORK/spool/ocred/$good" ] && pass || fail "the good claim was not read after the poison was parked"
expect_code 69 $N status --check
expect_grep "1 claims parked in failed after their stage died on them (killed / timed out): $poison" "$WORK/out"

# A retry by a person starts its count afresh.
expect_code 0 $N retry "$poison"
python3 - "$WORK/spool/fetched/$poison/claim.json" <<'PY' && pass || fail "retry did not reset the attempts"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["attempts"] == 0 and c.get("interrupted", 0) == 0 and "open_attempt" not in c, c
PY

finish
