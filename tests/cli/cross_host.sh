#!/usr/bin/env bash
# Two hosts on one spool (issue 14), stood in for by two UTS namespaces with
# their own host names (unshare -u), since the locks ncbocr takes are fcntl
# open-file-description locks, the kind an NFS v4 server enforces between
# clients. Checked:
#   - ocr runs on both "hosts" at once share the queue: every claim is
#     recognised exactly once, and status names the host of the last run;
#   - a run that hangs (SIGSTOP) with its lease unrenewed past the lease is
#     STALE in status and status --check; once it dies (SIGKILL, as a host
#     that dies loses its locks) status says the run died, --check no longer
#     reports it, and the other host's next run takes over its claim.
source "$(dirname "$0")/lib.bash"
command -v unshare >/dev/null && unshare -u true 2>/dev/null || { echo "unshare -u not permitted: skipped"; exit 125; }

# on HOST CMD...: CMD with the host name HOST.
on() { local h=$1; shift; unshare -u sh -c 'hostname "$0" && exec "$@"' "$h" "$@"; }

mkdir -p "$WORK/inbox" "$WORK/slow"
cp "$SOURCE_DIR"/samples/inbox/*.eml "$WORK/inbox/"
slow_receipt_eml "$WORK/slow/slow.eml"
config() { eml_config "$1" "  batch_size: 1"; }
N="$NCBOCR --config $WORK/ncbocr.yaml"
config "$WORK/inbox"; expect_code 0 $N fetch
claims=$(ls "$WORK/spool/fetched" | wc -l)
[ "$claims" -ge 3 ] && pass || fail "only $claims claims fetched"

# Both hosts at once.
on worker-a $N ocr >"$WORK/a.log" 2>&1 & a=$!
on worker-b $N ocr >"$WORK/b.log" 2>&1 & b=$!
wait $a && wait $b && pass || fail "an ocr run failed: $(cat "$WORK/a.log" "$WORK/b.log")"
python3 - "$WORK/spool" "$claims" <<'PY' && pass || fail "not every claim recognised exactly once"
import json, os, sys
spool, n = sys.argv[1], int(sys.argv[2])
moves = [json.loads(l) for l in open(os.path.join(spool, "journal", "journal.log"))]
ocred = [m["claim"] for m in moves if m.get("from") == "fetched" and m.get("to") == "ocred"]
assert len(ocred) == n == len(set(ocred)), (n, ocred)
assert not os.listdir(os.path.join(spool, "fetched"))
PY
expect_code 0 $N status --json
python3 - "$WORK/out" <<'PY' && pass || fail "status does not name the host of the last ocr run: $(cat "$WORK/out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["stages"]["ocr"]["host"] in ("worker-a", "worker-b"), j["stages"]["ocr"]
assert j["runs"]["ocr"] == [], j["runs"]
PY

# worker-b's run hangs on the slow claim.
config "$WORK/slow"; expect_code 0 $N fetch
slow=$(ls "$WORK/spool/fetched" | head -1)
on worker-b $N ocr >"$WORK/b2.log" 2>&1 & b=$!
lease=""
for _ in $(seq 1 400); do
  lease=$(ls "$WORK"/spool/stages/ocr@*.running 2>/dev/null | head -1 || true)
  [ -n "$lease" ] && grep -q '"open_attempt"' "$WORK/spool/fetched/$slow/claim.json" 2>/dev/null && break
  sleep 0.05
done
[ -n "$lease" ] && pass || fail "no run lease appeared"
pid=$(pgrep -f "ncbocr --config $WORK/ncbocr.yaml ocr" | head -1 || true)
[ -n "$pid" ] && pass || fail "no ocr process"
kill -STOP "$pid"
expect_code 0 $N status
expect_grep "ocr: running on worker-b (pid $pid)" "$WORK/out"
# Its lease was last renewed long ago (as it would be after 120 s stopped):
# rewritten in place, so the stopped run still holds the file's lock.
python3 - "$lease" <<'PY'
import json, sys
with open(sys.argv[1], "r+") as f:
    j = json.loads(f.read())
    j["renewed_at"] = "2020-01-01T00:00:00Z"
    body = json.dumps(j)
    f.seek(0); f.write(body + " " * (511 - len(body)) + "\n"); f.truncate()
PY
expect_code 0 $N status
expect_grep "ocr: STALE: locked by worker-b (pid $pid)" "$WORK/out"
expect_code 69 $N status --check
expect_grep "stale: ocr is locked by worker-b (pid $pid) whose run has not renewed its lease" "$WORK/out"
# worker-a's run meanwhile leaves the claim worker-b holds alone.
on worker-a $N ocr >"$WORK/a2.log" 2>&1 && pass || fail "worker-a's run failed"
[ -d "$WORK/spool/fetched/$slow" ] && pass || fail "worker-a took the claim worker-b holds"

# worker-b dies: its locks go with it.
kill -KILL "$pid"; kill -CONT "$pid" 2>/dev/null || true; wait $b 2>/dev/null || true
expect_code 0 $N status
expect_grep "ocr: a run on worker-b (pid $pid) started .* died without finishing" "$WORK/out"
$N status --check >"$WORK/check.txt" 2>&1 || true
grep -q "^stale:" "$WORK/check.txt" && fail "a dead run still reported stale" || pass
# worker-a's next run takes the claim over, counting the dead run's attempt.
on worker-a $N ocr >"$WORK/a3.log" 2>&1 || true
expect_grep "a ocr run died on it\|an ocr run died on it" "$WORK/a3.log"
expect_code 0 $N status --json
python3 - "$WORK/out" <<'PY' && pass || fail "the dead run's lease is still shown: $(cat "$WORK/out")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["runs"]["ocr"] == [], j["runs"]
assert j["stages"]["ocr"]["host"] == "worker-a", j["stages"]["ocr"]
PY
finish
