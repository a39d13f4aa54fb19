#!/usr/bin/env bash
# The main job end to end on the bundled sample inbox, at debug level:
# every claim ends submitted and archived, in review, or a duplicate; a second
# run changes nothing; no personal data reaches the logs.
source "$(dirname "$0")/lib.bash"

cat > "$WORK/ncbocr.yaml" <<YAML
spool: $WORK/spool
log:
  level: debug
fetch:
  source: eml
  path: $SOURCE_DIR/samples/inbox
ncb:
  base_url: file://$WORK/outbox
archive:
  dir: $WORK/archive
  audit_csv: $WORK/archive/audit.csv
YAML
N="$NCBOCR --config $WORK/ncbocr.yaml"

expect_code 0 $N -vv run
cp "$WORK/err" "$WORK/run1.log"
$N claims --json > "$WORK/claims1.json"
$N status --json > "$WORK/status1.json"

python3 - "$WORK" "$SOURCE_DIR/samples/expected.json" <<'PY' && pass || fail "end state of the sample inbox"
import json, os, sys, glob
work, expected_path = sys.argv[1], sys.argv[2]
claims = json.load(open(f"{work}/claims1.json"))
expected = json.load(open(expected_path))
states = {}
for c in claims:
    states[c["state"]] = states.get(c["state"], 0) + 1
final_ok = {"done", "review", "duplicate"}
stuck = [c for c in claims if c["state"] not in final_ok]
assert not stuck, f"claims not in done/review/duplicate: {stuck}"
# One claim per receipt attachment, plus one per email with none; an
# attachment that holds several receipts is one claim per receipt.
want = sum(e.get("claims", max(1, len(e.get("fetch", [])))) for e in expected)
assert len(claims) == want, f"{len(claims)} claims, expected {want}"
# The two receipts of one PDF: two claims, pages 1 and 2, each in NCB with
# its own page's date and total.
for e in expected:
    if e.get("claims", 0) < 2:
        continue
    mine = sorted((c for c in claims if c["email_id"] == e["file"]), key=lambda c: c["pages"])
    assert [c["pages"] for c in mine] == [[i + 1, i + 1] for i in range(e["claims"])], mine
    for c, r in zip(mine, e["receipts"]):
        assert c["state"] == "done", c
        assert c["attachment_receipts"] == e["claims"], c
        body = next(json.load(open(f)) for f in glob.glob(f"{work}/outbox/*.json")
                    if json.load(open(f))["Invoice Number"] == r["receipt_number"])
        d, m, y = r["date"].split("/")
        assert body["Event date"] == f"{y}-{m}-{d}", (body, r)
        assert f'{body["Claim Amount"]:.2f}' == r["total"], (body, r)
done = [c for c in claims if c["state"] == "done"]
assert done, "no sample claim reached NCB"
for c in done:
    assert c["ncb_reference"], c
outbox = glob.glob(f"{work}/outbox/*.json")
assert len(outbox) == len(done), (len(outbox), len(done))
for f in outbox:
    body = json.load(open(f))
    for k in ("Event date", "Submission Date", "Claim Amount", "Invoice Number", "Policy Number"):
        assert k in body, (f, k)
    assert body["Claim Amount"] > 0
rows = open(f"{work}/archive/audit.csv").read().strip().splitlines()
assert len(rows) == len(done) + 1, (len(rows), len(done))
for c in claims:
    if c["state"] == "review":
        assert c["reason"], c
# Emails whose end is stated in expected.json end there.
for e in expected:
    if "end" not in e:
        continue
    mine = [c for c in claims if c["email_id"] == e["file"]]
    assert mine, f"no claim of {e['file']}"
    for c in mine:
        assert c["state"] in e["end"], (e["file"], c["state"], c["reason"])
print("states:", states)
PY

# Running it again changes nothing.
expect_code 0 $N run
$N claims --json > "$WORK/claims2.json"
if cmp -s "$WORK/claims1.json" "$WORK/claims2.json"; then pass; else fail "second run changed the claims"; diff "$WORK/claims1.json" "$WORK/claims2.json" | head >&2; fi
if [ "$(ls "$WORK/outbox" | wc -l)" = "$(python3 -c "import json;print(sum(c['state']=='done' for c in json.load(open('$WORK/claims1.json'))))")" ]; then pass; else fail "outbox grew on the second run"; fi

# No personal data in the logs, at debug level.
python3 - "$WORK/run1.log" "$SOURCE_DIR/samples/expected.json" <<'PY' && pass || fail "personal data in logs"
import json, sys
log = open(sys.argv[1], encoding="utf-8", errors="replace").read().lower()
assert len(log) > 200, "suspiciously empty log"
leaks = []
for e in json.load(open(sys.argv[2])):
    for key in ("member_name", "member_id", "policy_number"):
        v = e.get(key)
        if v and v.lower() in log:
            leaks.append((key, v))
    for r in e.get("receipts", []):
        v = r.get("receipt_number")
        if v and v.lower() in log:
            leaks.append(("receipt_number", v))
assert not leaks, f"found in the log: {leaks}"
PY

# The spool is private to the service user.
perm=$(stat -c %a "$WORK/spool")
[ "$perm" = 700 ] && pass || fail "spool mode $perm"

finish
