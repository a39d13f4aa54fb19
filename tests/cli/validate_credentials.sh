#!/usr/bin/env bash
# `ncbocr validate-credentials` against the project's doubles on 127.0.0.1:
# the Google double (OAuth token endpoint, Gmail, Drive, Sheets), the NCB
# double and, when python3-aiosmtpd is installed, the SMTP sink. All
# configured services pass (exit 0, table and --json); then one thing broken
# at a time gives the documented exit code and a fix that names the remedy:
# a group-readable token file and key file (77, chmod 600), a revoked refresh
# token (77, ncbocr auth gmail), a spreadsheet or folder id that names
# nothing (78), a folder in a My Drive (78), NCB with a wrong key (77), an
# SMTP server that is down (69). --offline makes no call at all. The IMAP
# checks run against Dovecot in imap.sh.
source "$(dirname "$0")/lib.bash"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 125; }
command -v openssl >/dev/null || { echo "openssl missing: skipped"; exit 125; }
D="$SOURCE_DIR/tests/doubles"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/sa.pem" 2>/dev/null
openssl pkey -in "$WORK/sa.pem" -pubout -out "$WORK/sa.pub"

PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
wait_file() { for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

start_google() {  # start_google NAME [EXTRA FLAGS]: sets GBASE
  local name=$1; shift
  python3 "$D/google_double.py" --public-key "$WORK/sa.pub" --refresh-token 1//test-refresh \
    --client-id cid --client-secret csecret --drive-root ROOTFOLDER --spreadsheet SHEET1 "$@" \
    >"$WORK/$name.port" 2>"$WORK/$name.err" &
  PIDS+=($!)
  wait_file "$WORK/$name.port" || { echo "google double did not start" >&2; exit 1; }
  GBASE="http://127.0.0.1:$(head -1 "$WORK/$name.port")"
}
start_google google
python3 "$D/ncb_double.py" --api-key ncb-secret >"$WORK/ncb.port" 2>"$WORK/ncb.err" &
PIDS+=($!)
wait_file "$WORK/ncb.port" || { echo "NCB double did not start" >&2; exit 1; }
NCB="http://127.0.0.1:$(head -1 "$WORK/ncb.port")/api/v1"

SMTP_PORT=""
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import aiosmtpd' 2>/dev/null; then
    "$py" "$D/smtp_sink.py" --dir "$WORK/mail" --port-file "$WORK/smtp.port" 2>"$WORK/smtp.err" &
    PIDS+=($!)
    wait_file "$WORK/smtp.port" && SMTP_PORT=$(cat "$WORK/smtp.port")
    break
  fi
done
[ -n "$SMTP_PORT" ] || echo "python3-aiosmtpd not installed: SMTP checks left out"

# Credentials in the formats Google's libraries write, all 0600.
cat > "$WORK/client.json" <<JSON
{"installed": {"client_id": "cid", "client_secret": "csecret", "token_uri": "$GBASE/token"}}
JSON
cat > "$WORK/token.json" <<JSON
{"token": "", "refresh_token": "1//test-refresh", "token_uri": "$GBASE/token", "client_id": "cid",
 "client_secret": "csecret", "scopes": ["https://www.googleapis.com/auth/gmail.modify"],
 "expiry": "2020-01-01T00:00:00Z"}
JSON
python3 - "$WORK/sa.pem" "$GBASE/token" > "$WORK/sa.json" <<'PY'
import json, sys
print(json.dumps({"type": "service_account", "client_email": "ncbocr@test.iam.gserviceaccount.com",
                  "private_key_id": "k1", "private_key": open(sys.argv[1]).read(), "token_uri": sys.argv[2]}))
PY
printf 'ncb-secret\n' > "$WORK/ncb.key"
chmod 600 "$WORK/client.json" "$WORK/token.json" "$WORK/sa.json" "$WORK/ncb.key"

write_config() {  # write_config BASE: all services; the Google ones at BASE
  cat > "$WORK/ncbocr.yaml" <<YAML
spool: $WORK/spool
fetch:
  source: gmail
gmail:
  credentials_path: $WORK/client.json
  token_path: $WORK/token.json
  api_base_url: $1
ncb:
  base_url: $NCB
  api_key_file: $WORK/ncb.key
archive:
  drive_credentials_path: $WORK/sa.json
  drive_folder_id: ROOTFOLDER
  drive_api_base_url: $1
  sheets_credentials_path: $WORK/sa.json
  sheets_spreadsheet_id: SHEET1
  sheets_api_base_url: $1
YAML
  if [ -n "$SMTP_PORT" ]; then
    printf 'alerts:\n  enabled: true\n  smtp_host: 127.0.0.1\n  smtp_port: %s\n  recipients: [ops@tpa.example]\n' \
      "$SMTP_PORT" >> "$WORK/ncbocr.yaml"
  fi
}
use_google() {  # use_google BASE: config and every credential file point at that double
  write_config "$1"
  sed -i "s|\"token_uri\": \"[^\"]*\"|\"token_uri\": \"$1/token\"|" \
    "$WORK/token.json" "$WORK/client.json" "$WORK/sa.json"
}
use_google "$GBASE"
V="$NCBOCR --config $WORK/ncbocr.yaml validate-credentials"

# check_json EXIT SERVICE CHECK [FIX-WORDS]: the --json answer has that exit
# code and the named check failed with a fix containing FIX-WORDS.
check_json() {
  local got=0
  $V --json >"$WORK/v.json" 2>"$WORK/v.err" || got=$?
  python3 - "$WORK/v.json" "$got" "$@" <<'PY' && pass || { fail "validate: want exit $1, $2/$3 failed with '${4:-}'"; cat "$WORK/v.json" >&2; }
import json, sys
path, got, want, service, check = sys.argv[1:6]
fix = sys.argv[6] if len(sys.argv) > 6 else ""
j = json.load(open(path))
assert int(got) == int(want) == j["exit_code"], (got, want, j["exit_code"])
assert j["ok"] is False
bad = [c for c in j["checks"] if not c["ok"]]
hit = [c for c in bad if c["service"] == service and c["check"] == check]
assert hit, bad
assert fix in hit[0]["fix"], hit[0]
for c in bad:
    assert c["fix"], c  # every failure spells out the fix
PY
}

# ---- 1. everything configured passes
expect_code 0 $V
expect_grep "checks passed" "$WORK/out"
for svc in gmail ncb drive sheets; do expect_grep "^$svc " "$WORK/out"; done
$V --json > "$WORK/ok.json"
python3 - "$WORK/ok.json" "$SMTP_PORT" <<'PY' && pass || { fail "--json of a passing run"; cat "$WORK/ok.json" >&2; }
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is True and j["exit_code"] == 0
live = {(c["service"], c["check"]) for c in j["checks"] if c["ok"]}
want = {("gmail", "token refresh"), ("gmail", "profile"), ("ncb", "health"), ("drive", "token"),
        ("drive", "folder"), ("sheets", "token"), ("sheets", "spreadsheet")}
if sys.argv[2]:
    want.add(("smtp", "session"))
assert want <= live, want - live
PY
# Live calls really happened: a refresh grant, a JWT grant, the profile and
# folder reads; and nothing was written to Gmail, Drive or Sheets.
curl -sf "$GBASE/_control/state" > "$WORK/state.json"
python3 - "$WORK/state.json" <<'PY' && pass || fail "the Google double did not see the expected calls"
import json, sys
st = json.load(open(sys.argv[1]))
paths = [(r["method"], r["path"]) for r in st["requests"]]
assert st["grants"]["refresh_token"] >= 1 and st["grants"]["jwt_bearer"] >= 2, st["grants"]
assert ("GET", "/gmail/v1/users/me/profile") in paths
assert ("GET", "/drive/v3/files/ROOTFOLDER") in paths
assert ("GET", "/v4/spreadsheets/SHEET1") in paths
assert all(m == "GET" for m, p in paths if p != "/token"), paths
assert len(st["drive"]["files"]) == 1 and st["sheets"]["SHEET1"] == {"Sheet1": []}
assert not st["violations"], st["violations"]
PY
if [ -n "$SMTP_PORT" ]; then
  [ -z "$(ls -A "$WORK/mail" 2>/dev/null)" ] && pass || fail "the SMTP check sent mail"
fi
# The refreshed token was written back, still 0600.
[ "$(stat -c %a "$WORK/token.json")" = 600 ] && pass || fail "token file mode after refresh"

# ---- 2. unsafe files: 77 with chmod 600 spelled out; no network needed to see it
chmod 640 "$WORK/token.json"
check_json 77 gmail "token file" "chmod 600 $WORK/token.json"
chmod 600 "$WORK/token.json"
chmod 644 "$WORK/sa.json"
check_json 77 drive "key file" "chmod 600 $WORK/sa.json"
chmod 600 "$WORK/sa.json"

# ---- 3. a revoked refresh token: 77, re-authorise
curl -sf -X POST "$GBASE/_control/revoke" >/dev/null
check_json 77 gmail "token refresh" "ncbocr auth gmail"
expect_code 77 $V
expect_grep "fix: .*ncbocr auth gmail" "$WORK/out"
# --offline checks files only, so the revoked grant goes unnoticed there.
expect_code 0 $V --offline
kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
start_google google2
use_google "$GBASE"
expect_code 0 $V

# ---- 4. ids that name nothing: 78, with the setting to fix
sed -i "s|sheets_spreadsheet_id: SHEET1|sheets_spreadsheet_id: NOSUCHSHEET|" "$WORK/ncbocr.yaml"
check_json 78 sheets spreadsheet "SHEETS_SPREADSHEET_ID"
sed -i "s|NOSUCHSHEET|SHEET1|; s|drive_folder_id: ROOTFOLDER|drive_folder_id: NOSUCHFOLDER|" "$WORK/ncbocr.yaml"
check_json 78 drive folder "DRIVE_FOLDER_ID"
sed -i "s|NOSUCHFOLDER|ROOTFOLDER|" "$WORK/ncbocr.yaml"
# A folder in a My Drive: uploads would fail for want of quota.
GOOD=$GBASE
start_google mydrive --shared-drive-id ""
use_google "$GBASE"
check_json 78 drive folder "shared drive"
use_google "$GOOD"

# ---- 5. NCB refuses the key: 77
printf 'wrong-key\n' > "$WORK/ncb.key"
check_json 77 ncb health "API key"
printf 'ncb-secret\n' > "$WORK/ncb.key"

# ---- 6. SMTP server down: 69 (nothing else wrong)
if [ -n "$SMTP_PORT" ]; then
  closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  sed -i "s|smtp_port: $SMTP_PORT|smtp_port: $closed|" "$WORK/ncbocr.yaml"
  check_json 69 smtp session "reachable"
fi
finish
