#!/usr/bin/env bash
# The real services end to end (issue 4's "done when"): claim emails in the
# Gmail double (more than one page of messages.list), `ncbocr run` with NCB
# over HTTP (the NCB double), and then: every message fetched and labelled,
# exactly one NCB claim per receipt that reached done (its reference kept on
# the claim), one Drive file per archived claim in claims/YYYY/MM/DD, one
# Sheets row per archived claim in its month's tab. Then the same on a fresh
# spool with faults injected at every service (Gmail 500 and 429 with
# Retry-After, a 401, access tokens expired between runs, the token endpoint
# 500, NCB 503s long enough to defer claims, NCB 429 with Retry-After, an NCB
# answer lost after NCB committed, Drive 500s and a lost upload answer,
# Sheets 429 and a lost append answer), run to quiescence: the same end
# state, nothing twice. The same email under a second Gmail id makes no
# claim (Message-ID). Then a revoked refresh
# token: exit 77 and the new message stays unlabelled. Then `ncbocr auth
# gmail` through the double's consent page and the loopback redirect.
source "$(dirname "$0")/lib.bash"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 125; }
command -v openssl >/dev/null || { echo "openssl missing: skipped"; exit 125; }
[ -d "$SOURCE_DIR/samples/inbox" ] || { echo "samples/inbox missing: skipped"; exit 125; }
DOUBLE="$SOURCE_DIR/tests/doubles/google_double.py"

openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/sa.pem" 2>/dev/null
openssl pkey -in "$WORK/sa.pem" -pubout -out "$WORK/sa.pub"

PID=""
start_double() {  # start_double: sets PORT and BASE
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  # The last double's port must not be read as this one's: the new process
  # empties the file only once it starts.
  rm -f "$WORK/port"
  python3 "$DOUBLE" --public-key "$WORK/sa.pub" --refresh-token 1//test-refresh \
    --client-id cid --client-secret csecret --drive-root ROOTFOLDER --spreadsheet SHEET1 \
    --page-size 3 >"$WORK/port" 2>"$WORK/double.err" &
  PID=$!
  for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  PORT=$(head -1 "$WORK/port")
  [ -n "$PORT" ] || { echo "google double did not start" >&2; cat "$WORK/double.err" >&2; exit 1; }
  BASE="http://127.0.0.1:$PORT"
}
NCB_PID=""
start_ncb() {  # start_ncb: a fresh NCB double; sets NCB_URL and NCB_CTL
  [ -n "$NCB_PID" ] && kill "$NCB_PID" 2>/dev/null && wait "$NCB_PID" 2>/dev/null || true
  rm -f "$WORK/ncb.port"
  python3 "$SOURCE_DIR/tests/doubles/ncb_double.py" --api-key ncb-secret >"$WORK/ncb.port" 2>"$WORK/ncb.err" &
  NCB_PID=$!
  for _ in $(seq 100); do [ -s "$WORK/ncb.port" ] && break; sleep 0.1; done
  local port; port=$(head -1 "$WORK/ncb.port")
  [ -n "$port" ] || { echo "NCB double did not start" >&2; cat "$WORK/ncb.err" >&2; exit 1; }
  NCB_URL="http://127.0.0.1:$port/api/v1"
  NCB_CTL="http://127.0.0.1:$port"
}
ncb_control() { curl -sf -X POST -H 'Content-Type: application/json' -d "$1" "$NCB_CTL/_control" >/dev/null; }
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; [ -n "$NCB_PID" ] && kill "$NCB_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

control() { curl -sf -X POST -H 'Content-Type: application/json' -d "${2:-{\}}" "$BASE/_control/$1" >/dev/null; }

load_samples() {
  python3 - "$SOURCE_DIR/samples/inbox" "$BASE" <<'PY'
import base64, json, os, sys, urllib.request
d, base = sys.argv[1], sys.argv[2]
msgs = [{"raw_b64": base64.b64encode(open(os.path.join(d, f), "rb").read()).decode(),
         "internalDate": 1700000000000 + i * 1000}
        for i, f in enumerate(sorted(os.listdir(d))) if f.endswith(".eml")]
req = urllib.request.Request(base + "/_control/messages", json.dumps({"messages": msgs}).encode(),
                             {"Content-Type": "application/json"})
urllib.request.urlopen(req)
PY
}

setup_run() {  # setup_run NAME: fresh spool, credentials and config under $WORK/NAME
  local d="$WORK/$1"
  mkdir -p "$d"
  cat > "$d/client.json" <<JSON
{"installed": {"client_id": "cid", "client_secret": "csecret",
  "auth_uri": "$BASE/o/oauth2/auth", "token_uri": "$BASE/token"}}
JSON
  cat > "$d/token.json" <<JSON
{"token": "", "refresh_token": "1//test-refresh", "token_uri": "$BASE/token",
 "client_id": "cid", "client_secret": "csecret",
 "scopes": ["https://www.googleapis.com/auth/gmail.modify"], "expiry": "2020-01-01T00:00:00Z"}
JSON
  python3 - "$WORK/sa.pem" "$BASE/token" > "$d/sa.json" <<'PY'
import json, sys
print(json.dumps({"type": "service_account", "client_email": "ncbocr@test.iam.gserviceaccount.com",
                  "private_key_id": "k1", "private_key": open(sys.argv[1]).read(), "token_uri": sys.argv[2]}))
PY
  printf 'ncb-secret\n' > "$d/ncb.key"
  chmod 600 "$d/client.json" "$d/token.json" "$d/sa.json" "$d/ncb.key"
  cat > "$d/ncbocr.yaml" <<YAML
spool: $d/spool
log:
  level: warn
fetch:
  source: gmail
gmail:
  credentials_path: $d/client.json
  token_path: $d/token.json
  api_base_url: $BASE
ncb:
  base_url: $NCB_URL
  api_key_file: $d/ncb.key
archive:
  drive_credentials_path: $d/sa.json
  drive_folder_id: ROOTFOLDER
  drive_api_base_url: $BASE
  sheets_credentials_path: $d/sa.json
  sheets_spreadsheet_id: SHEET1
  sheets_api_base_url: $BASE
YAML
}

# check_end_state NAME: the double's state against the spool's claims.
check_end_state() {
  curl -sf "$BASE/_control/state" > "$WORK/$1/state.json"
  curl -sf "$NCB_CTL/_claims" > "$WORK/$1/ncb.json"
  python3 - "$WORK/$1" <<'PY'
import datetime, glob, json, os, sys
d = sys.argv[1]
st = json.load(open(os.path.join(d, "state.json")))
ncb = json.load(open(os.path.join(d, "ncb.json")))
bad = []
claims = [json.load(open(p)) for p in glob.glob(os.path.join(d, "spool", "*", "*", "claim.json"))]
done = [c for c in claims if c["state"] == "done"]
emails = {c["source"]["email_id"] for c in claims}
labels = {l["name"]: l["id"] for l in st["gmail"]["labels"]}
if "ncbocr-processed" not in labels: bad.append("processed label never created")
msgs = st["gmail"]["messages"]
# The query is "has:attachment -label:ncbocr-processed": those, and only those, are taken.
wanted = [m for m in msgs if m["has_attachment"]]
for m in wanted:
    if labels.get("ncbocr-processed") not in m["labelIds"]: bad.append("message %s not labelled" % m["id"])
    if "UNREAD" in m["labelIds"]: bad.append("message %s still unread" % m["id"])
for m in msgs:
    if not m["has_attachment"] and m["labelIds"] != ["INBOX", "UNREAD"]: bad.append("message %s touched" % m["id"])
if emails != {m["id"] for m in wanted}: bad.append("claims came from %d emails, %d match the query" % (len(emails), len(wanted)))
if len(wanted) <= 3: bad.append("only %d messages: not more than one page" % len(wanted))
if not done: bad.append("no claim reached done; the check would prove nothing")
files = {f["id"]: f for f in st["drive"]["files"]}
uploads = [f for f in files.values() if f["mimeType"] != "application/vnd.google-apps.folder"]
def path_of(f):
    parts = []
    while f["parents"]:
        f = files[f["parents"][0]]
        parts.append(f["name"] if f["id"] != "ROOTFOLDER" else "")
    return "/".join(reversed(parts)).lstrip("/")
for c in done:
    mine = [f for f in uploads if f["appProperties"].get("ncbocr_claim_id") == c["id"]]
    local = datetime.datetime.fromisoformat(c["created_at"].replace("Z", "+00:00")).astimezone()
    if len(mine) != 1:
        bad.append("claim %s has %d Drive files" % (c["id"], len(mine))); continue
    f = mine[0]
    if path_of(f) != local.strftime("claims/%Y/%m/%d"): bad.append("claim %s filed in %s" % (c["id"], path_of(f)))
    if f["name"] != c["source"]["email_id"] + "_" + c["attachment"]["filename"]: bad.append("file name " + f["name"])
    if f["sha256"] != c["attachment"]["sha256"]: bad.append("claim %s: Drive content differs" % c["id"])
    if f["appProperties"].get("ncbocr_email_id") != c["source"]["email_id"]: bad.append("email id property")
    tab = st["sheets"]["SHEET1"].get(local.strftime("%Y-%m"))
    if tab is None: bad.append("no tab " + local.strftime("%Y-%m")); continue
    if tab[0][:3] != ["processed_at", "claim_id", "email_id"]: bad.append("header row " + repr(tab[0][:3]))
    rows = [r for r in tab if len(r) > 1 and r[1] == c["id"]]
    if len(rows) != 1: bad.append("claim %s has %d rows" % (c["id"], len(rows))); continue
    if rows[0][10] != "submitted" or f["webViewLink"] not in rows[0]: bad.append("row of %s: %r" % (c["id"], rows[0][10:14]))
if len(uploads) != len(done): bad.append("%d Drive files for %d archived claims" % (len(uploads), len(done)))
# NCB: exactly one claim per receipt that reached done, with the reference kept.
refs = {c["reference"] for c in ncb["claims"]}
if len(ncb["claims"]) != len(done): bad.append("%d NCB claims for %d done claims" % (len(ncb["claims"]), len(done)))
receipts = [(c["body"].get("source_email_id"), c["body"].get("source_filename")) for c in ncb["claims"]]
if len(set(receipts)) != len(receipts): bad.append("a receipt became two NCB claims")
for c in done:
    if c.get("ncb_reference") not in refs: bad.append("claim %s: reference %r not in NCB" % (c["id"], c.get("ncb_reference")))
if any(c["state"] in ("fetched", "ocred", "ready", "submitted", "deferred") for c in claims):
    bad.append("not quiescent: " + repr(sorted(c["state"] for c in claims)))
# Folders: one of each name per parent, even after retries.
seen = {}
for f in files.values():
    if f["mimeType"] == "application/vnd.google-apps.folder" and f["parents"]:
        key = (f["parents"][0], f["name"])
        if key in seen: bad.append("folder %s twice" % f["name"])
        seen[key] = 1
if st["violations"]: bad.append("violations: %r" % st["violations"])
if st["grants"]["jwt_bearer"] < 1: bad.append("no service account token was asked for")
print("%d claims, %d done, %d Drive files, %d messages" % (len(claims), len(done), len(uploads), len(msgs)))
json.dump({"done": len(done), "claims": len(claims), "grants": st["grants"], "ncb": len(ncb["claims"])},
          open(os.path.join(d, "summary.json"), "w"))
for b in bad: print("  " + b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# quiesce CONFIG: run, and send deferred claims on at once (as their backoff
# passing would), until nothing is left between fetched and done.
quiesce() {
  local spool; spool=$(sed -n 's/^spool: //p' "$1")
  for _ in 1 2 3 4 5 6; do
    "$NCBOCR" --config "$1" run >>"$WORK/out" 2>>"$WORK/err" || true
    "$NCBOCR" --config "$1" retry --state deferred >/dev/null 2>&1 || true
    ls "$spool"/{fetched,ocred,ready,submitted,deferred}/ 2>/dev/null | grep -q . || return 0
  done
}

# ---- 1. a clean run
start_double
start_ncb
load_samples
setup_run clean
expect_code 0 "$NCBOCR" --config "$WORK/clean/ncbocr.yaml" run
if check_end_state clean; then pass; else fail "clean run: end state"; fi
n_msgs=$(ls "$SOURCE_DIR"/samples/inbox/*.eml | wc -l)
expect_code 0 "$NCBOCR" --config "$WORK/clean/ncbocr.yaml" status --json
# Token written back 0600 with the refreshed access token.
[ "$(stat -c %a "$WORK/clean/token.json")" = 600 ] && pass || fail "token file mode"
grep -q '"token": "ya29.double-' "$WORK/clean/token.json" && pass || fail "token not written back"
# A second run changes nothing: no new claims, files or rows.
cp "$WORK/clean/state.json" "$WORK/clean/state1.json"
expect_code 0 "$NCBOCR" --config "$WORK/clean/ncbocr.yaml" run
if check_end_state clean; then pass; else fail "second run: end state"; fi
python3 - "$WORK/clean" <<'PY' && pass || fail "second run added Drive files or rows"
import json, sys
a = json.load(open(sys.argv[1] + "/state1.json")); b = json.load(open(sys.argv[1] + "/state.json"))
sys.exit(0 if a["drive"]["files"] == b["drive"]["files"] and a["sheets"] == b["sheets"] else 1)
PY
clean_done=$(python3 -c "import json;print(json.load(open('$WORK/clean/summary.json'))['done'])")
# The same email again under a new Gmail id (forwarded back, restored from
# Trash): its Message-ID is known, so no claim is made, and it is labelled.
python3 - "$SOURCE_DIR/samples/inbox/01-en-clinic-jpeg.eml" "$BASE" <<'PY'
import base64, json, sys, urllib.request
raw = open(sys.argv[1], "rb").read()
urllib.request.urlopen(urllib.request.Request(sys.argv[2] + "/_control/messages",
    json.dumps({"messages": [{"id": "again01", "raw_b64": base64.b64encode(raw).decode()}]}).encode(),
    {"Content-Type": "application/json"}))
PY
n_claims=$(ls "$WORK"/clean/spool/*/*/claim.json | wc -l)
expect_code 0 "$NCBOCR" --config "$WORK/clean/ncbocr.yaml" fetch
[ "$(ls "$WORK"/clean/spool/*/*/claim.json | wc -l)" = "$n_claims" ] && pass || fail "a second Gmail id of one email made claims"
curl -sf "$BASE/_control/state" | python3 -c '
import json, sys
st = json.load(sys.stdin)
label = [l["id"] for l in st["gmail"]["labels"] if l["name"] == "ncbocr-processed"][0]
m = [x for x in st["gmail"]["messages"] if x["id"] == "again01"][0]
sys.exit(0 if label in m["labelIds"] and "UNREAD" not in m["labelIds"] else 1)' && pass || fail "the second copy was not labelled"

# ---- 2. the same with faults
start_double
start_ncb
load_samples
setup_run faults
control fault '{"method": "GET", "path": "/gmail/v1/users/me/messages$", "status": 429, "retry_after": 1}'
control fault '{"method": "GET", "path": "/gmail/v1/users/me/messages/", "status": 500, "count": 2}'
control fault '{"method": "GET", "path": "/gmail/v1/users/me/labels", "status": 401}'
control fault '{"method": "POST", "path": "/modify$", "status": 503, "after": true}'
control fault '{"method": "POST", "path": "/upload/drive/v3/files", "status": 500, "after": true}'
control fault '{"method": "POST", "path": "/upload/drive/v3/files", "status": 503}'
control fault '{"method": "POST", "path": "/drive/v3/files$", "status": 500, "after": true}'
control fault '{"method": "POST", "path": ":append$", "status": 503, "after": true}'
control fault '{"method": "POST", "path": ":append$", "status": 429, "retry_after": 1}'
control fault '{"method": "POST", "path": "/token", "status": 500}'
# NCB: down for longer than one claim's retries (it is deferred), then a 429
# with Retry-After, then a claim committed whose answer is lost.
ncb_control '{"fail_next": 6, "status": 503, "rate_limit_next": 1, "retry_after": 1, "lose_response_next": 1}'
"$NCBOCR" --config "$WORK/faults/ncbocr.yaml" run >"$WORK/out" 2>"$WORK/err" || true
# Access tokens expire between runs: the saved one is refused, refreshed, retried.
control expire_tokens
quiesce "$WORK/faults/ncbocr.yaml"
if check_end_state faults; then pass; else fail "run with faults: end state"; sed 's/^/  | /' "$WORK/err" >&2; fi
faults_done=$(python3 -c "import json;print(json.load(open('$WORK/faults/summary.json'))['done'])")
[ "$faults_done" = "$clean_done" ] && pass || fail "faults: $faults_done done, clean: $clean_done"
python3 - "$WORK/faults/state.json" "$WORK/faults/ncb.json" <<'PY' && pass || fail "not every injected fault was met"
import json, sys
st, ncb = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
left = [f for f in st["faults_left"] if f["count"] > 0]
left += [k for k in ("fail_next", "rate_limit_next", "lose_response_next") if ncb["faults"][k]]
if not any(r["status"] == -1 for r in ncb["requests"]): left.append("no NCB answer was lost")
if not any(r["status"] == 200 for r in ncb["requests"] if r["path"].endswith("/claims/submit")):
    left.append("the lost answer was not replayed")
if left: print(left, file=sys.stderr)
sys.exit(1 if left else 0)
PY
ncb_faults=$(python3 -c "import json;print(json.load(open('$WORK/faults/summary.json'))['ncb'])")
[ "$ncb_faults" = "$clean_done" ] && pass || fail "faults: $ncb_faults NCB claims, clean: $clean_done"

# ---- 3. refresh token revoked: exit 77, the new mail stays unlabelled
control revoke
control expire_tokens
python3 - "$BASE" <<'PY'
import base64, json, urllib.request, sys
raw = (b"From: a@example.com\r\nTo: claims@example.com\r\nSubject: x\r\n"
       b"Content-Disposition: attachment; filename=r.jpg\r\n\r\nhello\r\n")
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/_control/messages",
    json.dumps({"messages": [{"id": "revokedmsg", "raw_b64": base64.b64encode(raw).decode()}]}).encode(),
    {"Content-Type": "application/json"}))
PY
expect_code 77 "$NCBOCR" --config "$WORK/faults/ncbocr.yaml" fetch
expect_grep "ncbocr auth gmail" "$WORK/err"
curl -sf "$BASE/_control/state" | python3 -c '
import json, sys
st = json.load(sys.stdin)
m = [x for x in st["gmail"]["messages"] if x["id"] == "revokedmsg"][0]
sys.exit(0 if m["labelIds"] == ["INBOX", "UNREAD"] else 1)' && pass || fail "revoked: message was touched"

# ---- 4. ncbocr auth gmail: consent page, loopback redirect, token file 0600
setup_run auth
rm -f "$WORK/auth/token.json"
mkfifo "$WORK/auth/stdin"
"$NCBOCR" --config "$WORK/auth/ncbocr.yaml" auth gmail --timeout 30 <"$WORK/auth/stdin" >"$WORK/auth/out" 2>"$WORK/auth/err" &
AUTH_PID=$!
exec 9>"$WORK/auth/stdin"  # keep stdin open, as a terminal would be
url=""
for _ in $(seq 100); do
  url=$(grep -o "$BASE/o/oauth2/auth[^ ]*" "$WORK/auth/out" || true)
  [ -n "$url" ] && break; sleep 0.1
done
[ -n "$url" ] && pass || fail "auth gmail printed no consent URL"
# The browser: consent page -> redirect to ncbocr's loopback listener.
curl -sfL -o /dev/null "$url" && pass || fail "redirect to the loopback listener failed"
rc=0; wait "$AUTH_PID" || rc=$?
exec 9>&-
[ "$rc" = 0 ] && pass || { fail "auth gmail exited $rc"; sed 's/^/  | /' "$WORK/auth/err" >&2; }
[ "$(stat -c %a "$WORK/auth/token.json" 2>/dev/null)" = 600 ] && pass || fail "new token file mode"
grep -q '"refresh_token": "1//double-' "$WORK/auth/token.json" && pass || fail "no refresh token saved"
# The new token works: a fetch with it succeeds.
expect_code 0 "$NCBOCR" --config "$WORK/auth/ncbocr.yaml" fetch

finish
