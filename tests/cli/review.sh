#!/usr/bin/env bash
# The clerk's and admin's commands end to end with the real binary: a claim in
# review is inspected, a bad correction refused, then corrected, approved and
# submitted to a file:// NCB outbox; a failed claim is retried and submitted;
# `status --check` fails while a stage is due and passes once it has run;
# backup, verify and restore reproduce `claims --json` exactly.
source "$(dirname "$0")/lib.bash"
py=python3
command -v $py >/dev/null || { echo "python3 not installed: skipped"; exit 125; }

cat > "$WORK/ncbocr.yaml" <<YAML
spool: $WORK/spool
ncb:
  base_url: file://$WORK/outbox
archive:
  dir: $WORK/archive
  audit_csv: $WORK/audit.csv
backup:
  dir: $WORK/backups
health:
  min_free_percent: 0
YAML
chmod 600 "$WORK/ncbocr.yaml"
n() { "$NCBOCR" --config "$WORK/ncbocr.yaml" -q "$@"; }
json_get() { $py -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

expect_code 0 n status  # creates the spool
review_id=$($py "$SOURCE_DIR/tests/doubles/make_review_claim.py" "$WORK/spool" review --no-total --sender clerk-test@example.com)
failed_id=$($py "$SOURCE_DIR/tests/doubles/make_review_claim.py" "$WORK/spool" failed --failed-at ready)

# --- list and show ---
expect_code 0 n exceptions list
expect_grep "$review_id" "$WORK/out"
expect_grep "clerk-test@example.com" "$WORK/out"
expect_grep "$failed_id.*failed" "$WORK/out"
expect_code 0 n exceptions list --json
cp "$WORK/out" "$WORK/list.json"
[ "$(json_get "$WORK/list.json" 'sorted(r["state"] for r in d)')" = "['failed', 'review']" ] && pass || fail "list states"
expect_code 0 n exceptions show "$review_id" --json
cp "$WORK/out" "$WORK/show.json"
[ "$(json_get "$WORK/show.json" 'd["ocr_text"][0]')" = "KLINIK DESA
JUMLAH RM 88.00" ] && pass || fail "show: OCR text"
[ "$(json_get "$WORK/show.json" 'd["fields"]["total_amount"]["value"]')" = "None" ] && pass || fail "show: total"
[ -f "$(json_get "$WORK/show.json" 'd["original"]')" ] && pass || fail "show: original path"
expect_code 0 n exceptions show "$review_id"
expect_grep "service_date" "$WORK/out"

# --- refused approvals leave the claim in review ---
expect_code 65 n exceptions approve "$review_id"   # total still missing
expect_grep "Claim Amount" "$WORK/err"
expect_code 65 n exceptions approve "$review_id" --set total_amount=12.5 --set service_date=2024-02-30
expect_grep "service_date" "$WORK/err"
expect_code 65 n exceptions approve "$review_id" --set total_amount=12.345
expect_code 65 n exceptions approve "$review_id" --set colour=blue
expect_code 64 n exceptions approve "$review_id" --set total_amount
expect_code 0 n claims --state review --json
expect_grep "$review_id" "$WORK/out"

# --- approve with corrections ---
expect_code 0 n exceptions approve "$review_id" --set "total_amount=RM 12.5" --set service_date=2024-12-14 \
  --note "confirmed with the clinic" --reviewer alice --json
[ "$(json_get "$WORK/out" 'd["id"], d["decision"], d["state"], d["reviewer"], sorted(d["corrected"])')" = \
  "('$review_id', 'approved', 'ready', 'alice', ['service_date', 'total_amount'])" ] && pass ||
  fail "approve --json: $(cat "$WORK/out")"
expect_code 0 n claims --state ready --json
expect_grep "$review_id" "$WORK/out"
grep "\"$review_id\"" "$WORK/spool/journal/journal.log" | tail -1 > "$WORK/jline"
expect_grep "user:alice" "$WORK/jline"
expect_grep "total_amount" "$WORK/jline"
if grep -q -e "12.50" -e "clinic" -e "2024-12-14" "$WORK/jline"; then fail "journal holds values or the note"; else pass; fi
expect_grep "confirmed with the clinic" "$WORK/spool/ready/$review_id/claim.json"

# --- retry the failed claim: it failed at submit, so it goes back to ready ---
expect_code 0 n retry "$failed_id" --json
[ "$(json_get "$WORK/out" '[(m["id"], m["to"]) for m in d["moved"]], d["refused"]')" = "([('$failed_id', 'ready')], [])" ] &&
  pass || fail "retry --json: $(cat "$WORK/out")"
expect_code 0 n claims --state ready --json
expect_grep "$failed_id" "$WORK/out"
expect_code 65 n retry "$review_id"   # ready: nothing to retry
expect_code 64 n retry

# --- status --check: submit is due (never ran, two claims wait) ---
expect_code 69 n status --check
expect_grep "submit has never run and 2 claims wait" "$WORK/out"
# On a terminal (a pty from script(1)) a stage shows how far it got.
if command -v script >/dev/null; then
  script -qec "'$NCBOCR' --config '$WORK/ncbocr.yaml' submit" "$WORK/typescript" >/dev/null 2>&1 &&
    pass || fail "submit under a pty failed"
  grep -q "submit 2 of 2" "$WORK/typescript" && pass || fail "no stage progress on a terminal: $(cat -v "$WORK/typescript" | head -3)"
else
  echo "progress on a terminal: script(1) missing, not checked"
  expect_code 0 n submit
fi
expect_code 69 n status --check   # now archive has work and never ran
expect_grep "archive" "$WORK/out"
if grep -q "submit" "$WORK/out"; then fail "submit still reported after it ran"; else pass; fi
expect_code 0 n archive
expect_code 0 n status --check
expect_grep "healthy" "$WORK/out"
body=$(grep -l "RCP-77" "$WORK"/outbox/*.json | xargs grep -l '"Claim Amount": 12.50' || true)
[ -n "$body" ] && pass || fail "the corrected amount did not reach the outbox"
grep -q '"Event date": "2024-12-14"' $body && pass || fail "the corrected date did not reach the outbox"
[ "$(ls "$WORK"/outbox/*.json | wc -l)" = 2 ] && pass || fail "expected 2 submissions"

# --- backup, verify, restore ---
n claims --json > "$WORK/claims-before.json"
expect_code 0 n backup --json
archive=$(ls "$WORK"/backups/ncbocr-backup-*.tar.gz)
[ "$(json_get "$WORK/out" 'd["archive"]')" = "$archive" ] && pass || fail "backup --json archive: $(cat "$WORK/out")"
[ "$(json_get "$WORK/out" 'd["sha256"]')" = "$(sha256sum "$archive" | cut -d' ' -f1)" ] && pass ||
  fail "backup --json sha256 is not the archive's"
[ "$(json_get "$WORK/out" 'd["size"]')" = "$(stat -c %s "$archive")" ] && pass || fail "backup --json size"
[ "$(stat -c %a "$archive")" = 600 ] && pass || fail "archive mode $(stat -c %a "$archive")"
expect_code 0 n backup --verify "$archive"
if command -v script >/dev/null; then
  script -qec "'$NCBOCR' --config '$WORK/ncbocr.yaml' backup --to '$WORK/bk-tty'" "$WORK/typescript" >/dev/null 2>&1 &&
    pass || fail "backup under a pty failed"
  grep -q "backup spool/ [0-9]* of [0-9]*" "$WORK/typescript" && pass || fail "no backup progress on a terminal"
  if grep -q " of [0-9]" "$WORK/out"; then fail "progress in a backup's output off a terminal"; else pass; fi
fi
head -c 2000 "$archive" > "$WORK/cut.tar.gz"
expect_code 65 n backup --verify "$WORK/cut.tar.gz"
expect_code 0 "$NCBOCR" --config "$WORK/ncbocr.yaml" --spool "$WORK/spool2" -q restore "$archive"
"$NCBOCR" --config "$WORK/ncbocr.yaml" --spool "$WORK/spool2" claims --json > "$WORK/claims-after.json"
diff "$WORK/claims-before.json" "$WORK/claims-after.json" >&2 && pass || fail "claims differ after restore"
[ "$(json_get "$WORK/claims-after.json" 'len(d)')" = 2 ] && pass || fail "expected 2 claims restored"
expect_code 64 "$NCBOCR" --config "$WORK/ncbocr.yaml" --spool "$WORK/spool2" restore "$archive"
expect_code 0 "$NCBOCR" --config "$WORK/ncbocr.yaml" --spool "$WORK/spool2" restore "$archive" --force
ls -d "$WORK"/spool2.pre-restore-* >/dev/null 2>&1 && pass || fail "the replaced spool was not kept aside"

finish
