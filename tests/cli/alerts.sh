#!/usr/bin/env bash
# Alerts end to end against a real SMTP server (aiosmtpd on 127.0.0.1, an
# ephemeral port), checking what arrives: the test message; one exception
# alert per batch of claims newly in review (claim id, sender, reason, and no
# other personal data); exactly one ALERT and one RESOLVED per condition
# change however often `alert --check` runs (disk low, a failing stage); the
# daily summary. Skips (125) without python3-aiosmtpd.
set -euo pipefail
: "${NCBOCR:?path to the ncbocr binary}" "${SOURCE_DIR:?source tree}"
py=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import aiosmtpd' 2>/dev/null; then py=$p; break; fi
done
[ -n "$py" ] || { echo "python3-aiosmtpd not installed: skipped"; exit 125; }
work=$(mktemp -d)
sink_pid=""
cleanup() { [ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; for f in "$work"/mail/*.eml; do [ -e "$f" ] && { echo "--- $f"; cat "$f"; }; done >&2; exit 1; }

"$py" "$SOURCE_DIR/tests/doubles/smtp_sink.py" --dir "$work/mail" --port-file "$work/port" &
sink_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; kill -0 "$sink_pid" 2>/dev/null || fail "SMTP sink died"; sleep 0.1; done
[ -s "$work/port" ] || fail "SMTP sink did not start"
port=$(cat "$work/port")

mkdir -p "$work/inbox" "$work/empty-tessdata"
write_config() { # min_free_percent tessdata_dir
  cat > "$work/ncbocr.yaml" <<YAML
spool: $work/spool
fetch:
  source: eml
  path: $work/inbox
ocr:
  tessdata_dir: "$2"
alerts:
  enabled: true
  smtp_host: 127.0.0.1
  smtp_port: $port
  recipients: [ops@tpa.example, lead@tpa.example]
  from: "ncbocr <ncbocr@tpa.example>"
health:
  min_free_percent: $1
YAML
}
write_config 0 ""
run() { "$NCBOCR" --config "$work/ncbocr.yaml" -q "$@"; }
count() { ls "$work/mail" 2>/dev/null | grep -c '\.eml$' || true; }
subjects() { grep -h '^Subject:' "$work"/mail/*.eml 2>/dev/null || true; }
nsubj() { subjects | grep -c -- "$1" || true; }

# --test: one well-formed message to both recipients.
run alert --test
[ "$(count)" = 1 ] || fail "alert --test: $(count) messages"
m="$work/mail/0001.eml"
for h in '^Date: ' '^Message-ID: <.*@tpa.example>' '^From: ncbocr <ncbocr@tpa.example>' \
         '^To: ops@tpa.example, lead@tpa.example' '^Subject: .*test message' '^MIME-Version: 1.0' \
         '^Content-Type: text/plain; charset=UTF-8' '^Auto-Submitted: auto-generated'; do
  grep -q "$h" "$m" || fail "test message lacks $h"
done
[ "$(sed -n 1p "$work/mail/0001.env")" = ncbocr@tpa.example ] || fail "envelope sender"
[ "$(sed -n '2,$p' "$work/mail/0001.env" | sort | tr '\n' ' ')" = "lead@tpa.example ops@tpa.example " ] \
  || fail "envelope recipients: $(cat "$work/mail/0001.env")"

# Claims newly in review: one batched alert, then nothing on later checks.
python3 "$SOURCE_DIR/tests/doubles/make_mail.py" "$work/inbox" one --receipt
python3 "$SOURCE_DIR/tests/doubles/make_mail.py" "$work/inbox" two
run fetch
review_id=$("$NCBOCR" --config "$work/ncbocr.yaml" claims --state review --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
run alert --check
run alert --check
[ "$(count)" = 2 ] || fail "exception alert: $(count) messages, want 2"
m="$work/mail/0002.eml"
grep -q "^Subject: .*1 claim needs a person" "$m" || fail "exception subject"
grep -q -- "$review_id" "$m" || fail "exception alert lacks the claim id $review_id"
grep -q "exceptions show" "$m" || fail "exception alert does not say where the details are"
if grep -Eq 'member-two@example.com|Siti|POL-2024|MBR-778899' "$m"; then fail "personal data in the alert"; fi

# Disk low (threshold 100%: any disk): once when it starts, once when it clears.
write_config 100 ""
run alert --check; run alert --check; run alert --check
[ "$(nsubj 'ALERT: disk space low')" = 1 ] || fail "disk low alerted $(nsubj 'ALERT: disk space low') times"
write_config 0 ""
run alert --check; run alert --check
[ "$(nsubj 'RESOLVED: disk space low')" = 1 ] || fail "disk low resolved $(nsubj 'RESOLVED: disk space low') times"

# A stage failing three runs in a row (OCR without its language data).
write_config 0 "$work/empty-tessdata"
for i in 1 2 3; do
  set +e; run ocr 2>/dev/null; set -e
  run alert --check
done
run alert --check
[ "$(nsubj 'ALERT: ocr stage failing')" = 1 ] || fail "ocr failing alerted $(nsubj 'ALERT: ocr stage failing') times"
[ "$(nsubj 'RESOLVED: ocr stage failing')" = 0 ] || fail "resolved too early"
# OCR works again: resolved once.
write_config 0 ""
run ocr 2>/dev/null || true
if "$NCBOCR" --config "$work/ncbocr.yaml" status --json | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["stages"]["ocr"]["exit_code"] != 0)'; then
  run alert --check; run alert --check
  [ "$(nsubj 'RESOLVED: ocr stage failing')" = 1 ] || fail "ocr failing resolved $(nsubj 'RESOLVED: ocr stage failing') times"
else
  echo "note: ocr still fails here (Tesseract language data missing?); resolution not checked"
fi

# The daily summary.
before=$(count)
run alert --summary
[ "$(count)" = $((before + 1)) ] || fail "summary not sent"
last="$work/mail/$(ls "$work/mail" | grep '\.eml$' | sort | tail -1)"
grep -q "^Subject: .*daily summary" "$last" || fail "summary subject"
grep -q "emails processed: *2" "$last" || fail "summary: emails processed"
grep -q "claims created: *2" "$last" || fail "summary: claims created"
grep -q "exceptions queued: *1" "$last" || fail "summary: exceptions queued"
grep -q "average confidence:" "$last" || fail "summary: confidence"

# Alerts off: --check sends nothing and succeeds.
sed -i 's/enabled: true/enabled: false/' "$work/ncbocr.yaml"
before=$(count)
run alert --check
[ "$(count)" = "$before" ] || fail "alerts disabled but a message was sent"
# Usage: exactly one action.
set +e; run alert 2>/dev/null; rc=$?; set -e
[ "$rc" = 64 ] || fail "alert without an action: exit $rc, want 64"
echo "alerts: ok ($(count) messages)"
