#!/usr/bin/env bash
# The binary's contract: usage errors, configuration errors, exit codes, JSON.
source "$(dirname "$0")/lib.bash"

expect_code 64 "$NCBOCR" nosuch
expect_code 64 "$NCBOCR" --no-such-flag status
expect_code 64 "$NCBOCR"
expect_code 0 "$NCBOCR" --version
expect_grep "ncbocr " "$WORK/out"
expect_code 0 "$NCBOCR" --help
for sub in fetch ocr extract submit archive run status claims; do
  expect_grep "^  $sub" "$WORK/out"
done

cat > "$WORK/bad.yaml" <<YAML
spool: $WORK/spool
ocr:
  langauges: [eng]
YAML
expect_code 78 "$NCBOCR" --config "$WORK/bad.yaml" status
expect_grep "ocr.langauges" "$WORK/err"
expect_grep "$WORK/bad.yaml" "$WORK/err"

cat > "$WORK/type.yaml" <<YAML
spool: $WORK/spool
ncb:
  max_attempts: often
YAML
expect_code 78 "$NCBOCR" --config "$WORK/type.yaml" status
expect_grep "ncb.max_attempts" "$WORK/err"

expect_code 78 env OCR_HIGH_CONFIDENCE_THRESHOLD=2 "$NCBOCR" --spool "$WORK/spool" status
expect_grep "OCR_HIGH_CONFIDENCE_THRESHOLD\|high_confidence_threshold" "$WORK/err"
# A bad value from the environment is the variable's fault, not the file's.
expect_code 78 env OCR_USE_GPU=yes "$NCBOCR" --spool "$WORK/spool" status
expect_grep "environment variable OCR_USE_GPU" "$WORK/err"
expect_code 0 env LOG_LEVEL=INFO "$NCBOCR" --spool "$WORK/spool" status

# --source takes every source the man page lists: imap reaches the
# configuration check (no imap.url), not a usage error.
rc=0
"$NCBOCR" --spool "$WORK/spool" fetch --source imap >"$WORK/out" 2>"$WORK/err" || rc=$?
[ "$rc" != 64 ] && ! grep -q "not in" "$WORK/err" && pass || fail "fetch --source imap refused as usage ($rc): $(cat "$WORK/err")"
expect_grep "imap" "$WORK/err"

cat > "$WORK/ok.yaml" <<YAML
spool: $WORK/spool
YAML
expect_code 0 "$NCBOCR" --config "$WORK/ok.yaml" status --json
python3 - "$WORK/out" <<'PY' && pass || fail "status --json shape"
import json, sys
j = json.load(open(sys.argv[1]))
assert set(j["queues"]) >= {"fetched", "ocred", "ready", "submitted", "done", "review", "deferred", "failed", "rejected", "duplicate"}, j
assert all(v == 0 for v in j["queues"].values())
assert set(j["stages"]) == {"fetch", "ocr", "extract", "submit", "archive"}
PY
# status --check --json: the documented object, exit 69 when a check fails.
expect_code 0 "$NCBOCR" --config "$WORK/ok.yaml" status --check --json
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j == {"healthy": True, "problems": []}, j' \
  "$WORK/out" && pass || fail "status --check --json (healthy): $(cat "$WORK/out")"
cat > "$WORK/full.yaml" <<YAML
spool: $WORK/spool
health:
  min_free_percent: 100
YAML
expect_code 69 "$NCBOCR" --config "$WORK/full.yaml" status --check --json
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["healthy"] is False and j["problems"][0]["check"] == "disk" and j["problems"][0]["message"], j' \
  "$WORK/out" && pass || fail "status --check --json (disk): $(cat "$WORK/out")"
expect_code 0 "$NCBOCR" --config "$WORK/ok.yaml" claims --json
expect_grep "^\[\]" "$WORK/out"
expect_code 65 "$NCBOCR" --config "$WORK/ok.yaml" claims show 20240101-000000-deadbeef
expect_grep "no such claim" "$WORK/err"
expect_code 64 "$NCBOCR" --config "$WORK/ok.yaml" claims --state nosuch

# Submit with no NCB configured is a configuration error, not a crash.
expect_code 78 "$NCBOCR" --config "$WORK/ok.yaml" submit
# HTTP NCB for a non-loopback host without TLS is refused.
expect_code 78 env NCB_API_BASE_URL=http://ncb.example.com/api "$NCBOCR" --config "$WORK/ok.yaml" submit
expect_grep "loopback" "$WORK/err"

# Issue 15: a device, a directory or too much on stdin is refused with the
# file and the problem named, before anything is read or decoded.
cat > "$WORK/small.yaml" <<YAML
spool: $WORK/spool
fetch:
  max_attachment_bytes: 4096
  max_message_bytes: 8192
YAML
S="$NCBOCR --config $WORK/small.yaml"
expect_code 65 $S extract /dev/zero
expect_grep "/dev/zero: not a regular file" "$WORK/err"
expect_code 65 $S extract "$WORK"
expect_grep "$WORK: is a directory" "$WORK/err"
head -c 5000 /dev/zero > "$WORK/big.json"
expect_code 65 $S extract "$WORK/big.json"
expect_grep "big.json: larger than fetch.max_attachment_bytes (4096 bytes)" "$WORK/err"
expect_code 65 bash -c "head -c 100000 /dev/zero | $S extract -"
expect_grep "stdin: larger than fetch.max_attachment_bytes" "$WORK/err"
echo '{"pages": []}' > "$WORK/ocr.json"
expect_code 65 $S extract "$WORK/ocr.json" --email /dev/zero
expect_grep "/dev/zero: not a regular file" "$WORK/err"
expect_code 65 $S ocr "$WORK"
expect_grep "$WORK: is a directory" "$WORK/err"
expect_code 65 $S ocr /dev/zero
expect_grep "/dev/zero: not a regular file" "$WORK/err"

# A spool belongs to the service user: a command that would write to it as
# anyone else (root, say) is refused with the owner named, before it leaves
# files the service cannot read; reading it is fine.
if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null; then
  mkdir -p "$WORK/owned"
  "$NCBOCR" --spool "$WORK/owned/spool" status >/dev/null
  chown -R nobody "$WORK/owned/spool"
  expect_code 77 "$NCBOCR" --spool "$WORK/owned/spool" fetch --source eml --path "$SOURCE_DIR/samples/inbox"
  expect_grep "belongs to nobody" "$WORK/err"
  expect_grep "sudo -u nobody" "$WORK/err"
  [ -z "$(find "$WORK/owned/spool" -user root)" ] && pass || fail "a refused command left root's files in the spool"
  expect_code 0 "$NCBOCR" --spool "$WORK/owned/spool" status
  expect_code 77 "$NCBOCR" --spool "$WORK/owned/spool" exceptions approve 20260101-000000-deadbeef --reviewer ops
  # Another unprivileged user who can write through the group (a volume
  # shared by group, as Kubernetes' fsGroup makes it) is let through.
  if command -v setpriv >/dev/null && getent group nogroup >/dev/null; then
    mkdir -p "$WORK/shared/inbox" && chmod 0755 "$WORK" "$WORK/shared" "$WORK/shared/inbox"
    "$NCBOCR" --spool "$WORK/shared/spool" status >/dev/null
    chown -R root:nogroup "$WORK/shared/spool" && chmod -R g+rwX "$WORK/shared/spool"
    rc=0
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$NCBOCR" --spool "$WORK/shared/spool" \
      fetch --source eml --path "$WORK/shared/inbox" >"$WORK/out" 2>"$WORK/err" || rc=$?
    [ "$rc" = 0 ] && pass || fail "a group-writable spool refused another user (exit $rc): $(cat "$WORK/err")"
  fi
else
  echo "spool ownership: needs root and a 'nobody' user, not checked"
fi

# An image piped in is read as the same file given by name would be, and
# leaves no temporary file behind; bytes that are no document say "stdin".
img="$SOURCE_DIR/tests/data/ocr/receipt.png"
mkdir -p "$WORK/tmpd"
expect_code 0 "$NCBOCR" --spool "$WORK/spool" extract "$img" --json
cp "$WORK/out" "$WORK/by-name.json"
expect_code 0 env TMPDIR="$WORK/tmpd" bash -c "cat '$img' | '$NCBOCR' --spool '$WORK/spool' extract - --json"
python3 - "$WORK/by-name.json" "$WORK/out" <<'PY' && pass || fail "extract - on a piped image differs from extract FILE"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["fields"]["total_amount"]["value"], a
assert a["fields"] == b["fields"], (a["fields"], b["fields"])
PY
[ -z "$(ls -A "$WORK/tmpd")" ] && pass || fail "extract - left $(ls "$WORK/tmpd")"
expect_code 65 env TMPDIR="$WORK/tmpd" bash -c "printf 'GIF89a not really' | '$NCBOCR' --spool '$WORK/spool' extract -"
expect_grep "stdin" "$WORK/err"
if grep -q "ncbocr-stdin-" "$WORK/err"; then fail "the temporary file's name in the error"; else pass; fi
[ -z "$(ls -A "$WORK/tmpd")" ] && pass || fail "a failed extract - left $(ls "$WORK/tmpd")"

finish
