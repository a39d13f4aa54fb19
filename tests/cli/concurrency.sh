#!/usr/bin/env bash
# Many processes on one spool. First: two ocr runs at once never process the
# same claim twice, and a run that finds the lock held exits 0 without
# touching anything. Then, in several rounds, a new batch of claim emails
# arrives and four processes of every stage (and four `ncbocr run`) start at
# once: every process exits 0, no claim is processed twice by a stage
# (journal), none is stranded (after one more plain run every claim is done,
# duplicate or in review, as its email says), NCB's outbox holds each
# receipt once and the archive and audit log each claim once.
#
# With NCBOCR_TEST_PRELOAD (ctest cli_concurrency_shared_fs) every ncbocr runs
# with that library preloaded: tests/shims/rename_einval.cc, which makes
# renameat2(RENAME_NOREPLACE) fail with EINVAL as on NFS, so the whole test
# runs on the spool's rename(2) fallback.
source "$(dirname "$0")/lib.bash"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 125; }
if [ -n "${NCBOCR_TEST_PRELOAD:-}" ]; then
  export NCBOCR_SHIM_MARK="$WORK/shim-reached"
  real_ncbocr="$NCBOCR"
  NCBOCR="$WORK/ncbocr-preloaded"
  printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$@"\n' "$NCBOCR_TEST_PRELOAD" "$real_ncbocr" > "$NCBOCR"
  chmod +x "$NCBOCR"
fi

cat > "$WORK/ncbocr.yaml" <<YAML
spool: $WORK/spool
fetch:
  source: eml
  path: $SOURCE_DIR/samples/inbox
YAML
N="$NCBOCR --config $WORK/ncbocr.yaml"
expect_code 0 $N fetch
fetched=$(ls "$WORK/spool/fetched" | wc -l)
[ "$fetched" -gt 0 ] && pass || fail "nothing fetched"

for round in 1 2 3; do
  $N ocr 2>"$WORK/a.err" & a=$!
  $N ocr 2>"$WORK/b.err" & b=$!
  ra=0; rb=0
  wait $a || ra=$?
  wait $b || rb=$?
  [ "$ra" = 0 ] && [ "$rb" = 0 ] && pass || fail "round $round: exit codes $ra $rb"
  # Put everything back for the next round (as an operator's retry would).
  for d in "$WORK"/spool/ocred/* "$WORK"/spool/failed/*; do
    [ -e "$d" ] && mv "$d" "$WORK/spool/fetched/"
  done
done

python3 - "$WORK/spool/journal/journal.log" <<'PY' && pass || fail "a claim was processed twice in one round"
import json, sys, collections
moves = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("actor") == "ocr" and e.get("from") == "fetched":
        moves[e["claim"]] += 1
# Three rounds: each claim left fetched exactly three times, once per round.
bad = {c: n for c, n in moves.items() if n != 3}
assert moves and not bad, bad
PY

# ---- every stage, four processes each, several rounds, one spool
P="$WORK/p"
mkdir -p "$P/inbox"
cat > "$P/ncbocr.yaml" <<YAML
spool: $P/spool
log:
  level: warn
fetch:
  source: eml
  path: $P/inbox
ncb:
  base_url: file://$P/outbox
archive:
  dir: $P/archive
  audit_csv: $P/audit.csv
YAML
M="$NCBOCR --config $P/ncbocr.yaml"
# 36 emails (PDF receipts with a text layer: cheap to OCR), a third per round.
python3 - "$P" <<PY
import json, sys
sys.path.insert(0, "$SOURCE_DIR/tests/torture")
import mails
ms = mails.make(36, 4242)
json.dump([{"id": m["id"], "kind": m["kind"], "receipts": m["receipts"]} for m in ms],
          open(sys.argv[1] + "/emails.json", "w"))
for m in ms:
    open(sys.argv[1] + "/all-%s.eml" % m["id"], "wb").write(m["raw"])
PY
all=("$P"/all-*.eml)
for round in 1 2 3; do
  for f in "${all[@]:$(( (round - 1) * 12 )):12}"; do mv "$f" "$P/inbox/$(basename "${f#$P/all-}")"; done
  pids=()
  for stage in fetch ocr extract submit archive run; do
    for i in 1 2 3 4; do $M $stage 2>"$P/$stage-$round-$i.err" & pids+=($!); done
  done
  codes=""
  for p in "${pids[@]}"; do rc=0; wait "$p" || rc=$?; [ "$rc" = 0 ] || codes="$codes $rc"; done
  [ -z "$codes" ] && pass || fail "round $round: processes exited with$codes"
done
# Whatever the last round's fetch committed after its ocr had looked goes on now.
expect_code 0 $M run

python3 - "$P" <<'PY' && pass || fail "claims processed twice or stranded"
import collections, glob, json, os, sys
p = sys.argv[1]
bad = []
emails = {m["id"] + ".eml": m for m in json.load(open(p + "/emails.json"))}
claims = {}
for path in glob.glob(p + "/spool/*/*/claim.json"):
    state = path.split("/")[-3]
    if state == "tmp":
        continue
    c = json.load(open(path))
    if c["id"] in claims:
        bad.append("claim %s in two states" % c["id"])
    claims[c["id"]] = (state, c)
# No stage moved a claim out of the same state twice.
moves = collections.Counter()
last = {}
for line in open(p + "/spool/journal/journal.log"):
    e = json.loads(line)
    last[e["claim"]] = e["to"]
    if e["actor"] in ("fetch", "ocr", "extract", "submit", "archive"):
        moves[(e["claim"], e["from"], e["actor"])] += 1
bad += ["claim %s left %r by %s %d times" % (k + (n,)) for k, n in moves.items() if n > 1]
# None stranded: every claim final or waiting, as its email says.
per_email = collections.Counter()
for cid, (state, c) in claims.items():
    m = emails[c["source"]["email_id"]]
    per_email[c["source"]["email_id"]] += 1
    want = {"review"} if m["kind"] == "no-member" else {"done", "duplicate"}
    if state not in want:
        bad.append("claim %s of a %s email is in %s: %s" % (cid, m["kind"], state, c.get("reason")))
    if last.get(cid) != state:
        bad.append("journal: claim %s last moved to %s, is in %s" % (cid, last.get(cid), state))
for eid, m in emails.items():
    if per_email[eid] != len(m["receipts"]):
        bad.append("email %s: %d claims for %d receipts" % (eid, per_email[eid], len(m["receipts"])))
# Each receipt once in NCB's outbox, each done claim once in the archive and audit log.
receipts = {r["number"] for m in emails.values() if m["kind"] != "no-member" for r in m["receipts"]}
sent = collections.Counter(json.load(open(f))["Invoice Number"] for f in glob.glob(p + "/outbox/*.json"))
if set(sent) != receipts or any(n != 1 for n in sent.values()):
    bad.append("outbox: %d requests for %d receipts" % (sum(sent.values()), len(receipts)))
done = [cid for cid, (s, _) in claims.items() if s == "done"]
if len(done) != len(receipts):
    bad.append("%d claims done for %d receipts" % (len(done), len(receipts)))
files = glob.glob(p + "/archive/claims/*/*/*/*")
rows = collections.Counter(l.split(",")[1] for l in open(p + "/audit.csv").read().splitlines()[1:])
if len(files) != len(done) or sorted(rows) != sorted(done) or any(n != 1 for n in rows.values()):
    bad.append("%d archived files, %d audit rows for %d done claims" % (len(files), sum(rows.values()), len(done)))
print("%d claims, %d done, %d stage moves" % (len(claims), len(done), sum(moves.values())))
for b in bad[:20]:
    print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
if [ -n "${NCBOCR_TEST_PRELOAD:-}" ]; then
  [ -e "$NCBOCR_SHIM_MARK" ] && pass || fail "the rename shim was never reached: the fallback was not exercised"
fi
finish
