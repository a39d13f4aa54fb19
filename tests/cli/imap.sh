#!/usr/bin/env bash
# `ncbocr fetch` from IMAP against a real Dovecot on 127.0.0.1: the sample
# inbox gives the same claims as the .eml source; every message then carries
# the processed keyword and \Seen; a second fetch creates nothing; move_to
# moves the messages; imaps:// verifies the server against imap.ca_file; a
# wrong password exits 77 and imap:// to a remote host 78. A message
# delivered again (new UID) or a folder whose UIDVALIDITY changed makes no
# new claim: the Message-ID index knows it. validate-credentials logs in and
# EXAMINEs the folder (77 for a refused password or a 0640 password file, 78
# for a folder that does not exist). The whole pipeline from IMAP to NCB over
# HTTP (the NCB double, with a 503 burst and an answer lost after NCB
# committed) ends with exactly one NCB claim per receipt that reached done.
source "$(dirname "$0")/lib.bash"
DOVECOT=/usr/sbin/dovecot
[ -x "$DOVECOT" ] || { echo "skipped: $DOVECOT not installed (apt-get install dovecot-imapd)"; exit 125; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
TLS_PORT=$(free_port)
bash "$SOURCE_DIR/tests/doubles/make_test_ca.sh" "$WORK/ca"
mkdir -p "$WORK/run" "$WORK/state"
chmod 755 "$WORK" "$WORK/run"
# Dovecot will not give mail access to uid 0: as root, the mail user is nobody.
if [ "$(id -u)" = 0 ]; then MUID=$(id -u nobody); MGID=$(id -g nobody); else MUID=$(id -u); MGID=$(id -g); fi
NMSG=$(ls "$SOURCE_DIR"/samples/inbox/*.eml | wc -l)  # the sample emails
for u in clerk mover secure flow; do
  mkdir -p "$WORK/home/$u/Maildir/"{new,cur,tmp}
  n=0
  for f in "$SOURCE_DIR"/samples/inbox/*.eml; do  # deliver, in name order
    n=$((n + 1)); cp "$f" "$WORK/home/$u/Maildir/new/$((1700000000 + n)).M${n}P1.test"
    # flow runs the whole pipeline: three emails (four receipts) keep the OCR short.
    [ "$u" = flow ] && [ "$n" = 3 ] && break
  done
done
chown -R "$MUID:$MGID" "$WORK/home"
printf '%s\n' "clerk:{PLAIN}clerk-secret:$MUID:$MGID::$WORK/home/clerk" \
  "mover:{PLAIN}mover-secret:$MUID:$MGID::$WORK/home/mover" \
  "secure:{PLAIN}secure-secret:$MUID:$MGID::$WORK/home/secure" \
  "flow:{PLAIN}flow-secret:$MUID:$MGID::$WORK/home/flow" > "$WORK/passwd"
{
  echo "base_dir = $WORK/run"
  echo "state_dir = $WORK/state"
  echo "log_path = $WORK/dovecot.log"
  echo "protocols = imap"
  echo "listen = 127.0.0.1"
  echo "ssl = yes"
  echo "ssl_cert = <$WORK/ca/server.pem"
  echo "ssl_key = <$WORK/ca/server.key"
  echo "disable_plaintext_auth = no"
  echo "mail_location = maildir:~/Maildir"
  echo "first_valid_uid = 1"
  echo "passdb {"; echo "  driver = passwd-file"; echo "  args = scheme=PLAIN $WORK/passwd"; echo "}"
  echo "userdb {"; echo "  driver = passwd-file"; echo "  args = $WORK/passwd"; echo "}"
  echo "service imap-login {"
  echo "  inet_listener imap {"; echo "    address = 127.0.0.1"; echo "    port = $PORT"; echo "  }"
  echo "  inet_listener imaps {"; echo "    address = 127.0.0.1"; echo "    port = $TLS_PORT"; echo "  }"
  echo "}"
  if [ "$(id -u)" != 0 ]; then
    echo "default_internal_user = $(id -un)"; echo "default_login_user = $(id -un)"
  fi
} > "$WORK/dovecot.conf"
"$DOVECOT" -c "$WORK/dovecot.conf" || { cat "$WORK/dovecot.log" >&2 2>/dev/null; fail "dovecot did not start"; finish; exit 1; }
NCB_PID=""; GOOGLE_PID=""
trap '[ -f "$WORK/run/master.pid" ] && kill "$(cat "$WORK/run/master.pid")" 2>/dev/null; for p in $NCB_PID $GOOGLE_PID; do kill "$p" 2>/dev/null || true; done; sleep 0.2; rm -rf "$WORK"' EXIT
# Wait until it greets (no time limit asserted; give up after ~20 s).
python3 - "$PORT" <<'PY' || { fail "dovecot not answering"; cat "$WORK/dovecot.log" >&2; finish; exit 1; }
import socket, sys, time
for _ in range(200):
    try:
        with socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1) as s:
            if s.recv(100).startswith(b"* OK"): sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY

for u in clerk mover secure flow; do printf '%s-secret\n' "$u" > "$WORK/$u.pw"; chmod 600 "$WORK/$u.pw"; done
config() {  # config NAME USER [EXTRA-IMAP-LINES]
  cat > "$WORK/$1.yaml" <<YAML
spool: $WORK/spool-$1
log:
  level: debug
fetch:
  source: imap
imap:
  url: imap://127.0.0.1:$PORT/INBOX
  username: $2
  password_file: $WORK/$2.pw
${3:-}
YAML
}
cat > "$WORK/eml.yaml" <<YAML
spool: $WORK/spool-eml
fetch:
  source: eml
  path: $SOURCE_DIR/samples/inbox
YAML
expect_code 0 $NCBOCR --config "$WORK/eml.yaml" fetch
$NCBOCR --config "$WORK/eml.yaml" claims --json > "$WORK/eml.json"

# imaplib check: COUNTS of a user's folders, as "folder:search=count" lines.
imap_count() {  # imap_count USER FOLDER SEARCH...
  python3 - "$PORT" "$@" <<'PY'
import imaplib, sys
port, user, folder, search = int(sys.argv[1]), sys.argv[2], sys.argv[3], " ".join(sys.argv[4:])
m = imaplib.IMAP4("127.0.0.1", port)
m.login(user, user + "-secret")
typ, _ = m.select(folder, readonly=True)
if typ != "OK":
    print("nofolder"); sys.exit(0)
typ, data = m.uid("SEARCH", *search.split())
print(len(data[0].split()))
m.logout()
PY
}

config clerk clerk
N="$NCBOCR --config $WORK/clerk.yaml"
[ "$(imap_count clerk INBOX UNSEEN)" = "$NMSG" ] && pass || fail "sample mail not delivered unread"
expect_code 0 $N -vv fetch
cp "$WORK/err" "$WORK/fetch1.log"
$N claims --json > "$WORK/imap1.json"
python3 - "$WORK" "$SOURCE_DIR/samples/expected.json" <<'PY' && pass || fail "IMAP claims differ from the eml source"
import json, sys
work, expected = sys.argv[1], json.load(open(sys.argv[2]))
imap, eml = json.load(open(f"{work}/imap1.json")), json.load(open(f"{work}/eml.json"))
want = sum(max(1, len(e.get("fetch", []))) for e in expected)
assert len(imap) == want, (len(imap), want)
states = lambda cs: sorted(c["state"] for c in cs)
assert states(imap) == states(eml), (states(imap), states(eml))
PY
[ "$(imap_count clerk INBOX KEYWORD ncbocr-processed)" = "$NMSG" ] && pass || fail "not every message has the keyword"
[ "$(imap_count clerk INBOX UNKEYWORD ncbocr-processed)" = 0 ] && pass || fail "unprocessed messages left"
[ "$(imap_count clerk INBOX UNSEEN)" = 0 ] && pass || fail "processed messages not marked seen"
grep -rq 'ncbocr-processed' "$WORK/home/clerk/Maildir/dovecot-keywords" && pass || fail "no keyword in the Maildir"

# No personal data in the debug log.
python3 - "$WORK/fetch1.log" "$SOURCE_DIR/samples/expected.json" <<'PY' && pass || fail "personal data in the fetch log"
import json, sys
log = open(sys.argv[1], errors="replace").read().lower()
assert "claim" in log, "empty log"
assert "clerk-secret" not in log
for e in json.load(open(sys.argv[2])):
    for k in ("member_name", "member_id", "policy_number"):
        assert not e.get(k) or e[k].lower() not in log, k
PY

# A second fetch finds nothing new.
expect_code 0 $N fetch
$N claims --json > "$WORK/imap2.json"
cmp -s "$WORK/imap1.json" "$WORK/imap2.json" && pass || fail "second fetch changed the claims"

# Even with the keyword removed (say by a clerk), the source keys stop re-claims.
python3 - "$PORT" <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.login("clerk", "clerk-secret"); m.select("INBOX")
m.uid("STORE", "1:*", "-FLAGS", "(ncbocr-processed)"); m.logout()
PY
expect_code 0 $N fetch
$N claims --json > "$WORK/imap3.json"
cmp -s "$WORK/imap1.json" "$WORK/imap3.json" && pass || fail "re-listed messages made new claims"
[ "$(imap_count clerk INBOX KEYWORD ncbocr-processed)" = "$NMSG" ] && pass || fail "re-listed messages not marked again"

# The same email delivered again gets a new UID: its Message-ID is known, so
# no claim (not even a duplicate) is made, and the copy is marked processed.
python3 - "$PORT" "$SOURCE_DIR/samples/inbox/01-en-clinic-jpeg.eml" <<'PY'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.login("clerk", "clerk-secret")
m.append("INBOX", None, None, open(sys.argv[2], "rb").read()); m.logout()
PY
[ "$(imap_count clerk INBOX UNKEYWORD ncbocr-processed)" = 1 ] && pass || fail "re-delivered message not in INBOX"
expect_code 0 $N fetch
$N claims --json > "$WORK/imap4.json"
cmp -s "$WORK/imap1.json" "$WORK/imap4.json" && pass || fail "a re-delivered message made new claims"
[ "$(imap_count clerk INBOX KEYWORD ncbocr-processed)" = "$((NMSG + 1))" ] && pass || fail "re-delivered message not marked"
# The folder's UIDVALIDITY changes (rebuilt by the server): every message is
# new by UID, none by Message-ID.
uidv() { python3 - "$PORT" <<'PY'
import imaplib, re, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1])); m.login("clerk", "clerk-secret")
print(re.search(rb"UIDVALIDITY (\d+)", m.status("INBOX", "(UIDVALIDITY)")[1][0]).group(1).decode()); m.logout()
PY
}
old_validity=$(uidv)
md="$WORK/home/clerk/Maildir"
rm -f "$md"/dovecot*
for f in "$md"/cur/*; do mv "$f" "$md/new/$(basename "${f%%:2,*}")"; done
sleep 1  # UIDVALIDITY is a timestamp: make sure it differs
[ "$(uidv)" != "$old_validity" ] && pass || fail "UIDVALIDITY did not change"
[ "$(imap_count clerk INBOX UNKEYWORD ncbocr-processed)" = "$((NMSG + 1))" ] && pass || fail "rebuilt folder still has keywords"
expect_code 0 $N fetch
$N claims --json > "$WORK/imap5.json"
cmp -s "$WORK/imap1.json" "$WORK/imap5.json" && pass || fail "a new UIDVALIDITY made new claims"
[ "$(imap_count clerk INBOX KEYWORD ncbocr-processed)" = "$((NMSG + 1))" ] && pass || fail "messages not marked after UIDVALIDITY change"

# validate-credentials: login and EXAMINE (read-only: no flag changes).
printf 'ncb:\n  base_url: file://%s/outbox\n' "$WORK" >> "$WORK/clerk.yaml"
mkdir -p "$WORK/outbox"
expect_code 0 $N validate-credentials
expect_grep "^imap .*login .*ok .*$((NMSG + 1)) messages" "$WORK/out"
[ "$(imap_count clerk INBOX KEYWORD ncbocr-processed)" = "$((NMSG + 1))" ] && pass || fail "validate-credentials changed flags"
chmod 640 "$WORK/clerk.pw"
expect_code 77 $N validate-credentials
expect_grep "fix: chmod 600 $WORK/clerk.pw" "$WORK/out"
chmod 600 "$WORK/clerk.pw"
sed -i "s|/INBOX$|/NoSuchFolder|" "$WORK/clerk.yaml"
expect_code 78 $N validate-credentials
expect_grep "NoSuchFolder" "$WORK/out"
sed -i "s|/NoSuchFolder$|/INBOX|; s|$WORK/clerk.pw|$WORK/mover.pw|" "$WORK/clerk.yaml"
expect_code 77 $N validate-credentials
expect_grep "fix: check imap.username" "$WORK/out"
sed -i "s|$WORK/mover.pw|$WORK/clerk.pw|" "$WORK/clerk.yaml"

# move_to: the messages end in the Processed folder (created on first use).
config mover mover "  move_to: Processed"
expect_code 0 $NCBOCR --config "$WORK/mover.yaml" fetch
[ "$(imap_count mover INBOX ALL)" = 0 ] && pass || fail "messages left in INBOX after move_to"
[ "$(imap_count mover Processed KEYWORD ncbocr-processed)" = "$NMSG" ] && pass || fail "messages not in Processed with the keyword"
[ "$($NCBOCR --config "$WORK/mover.yaml" claims --json | python3 -c 'import json,sys;print(len(json.load(sys.stdin)))')" \
  = "$(python3 -c "import json;print(len(json.load(open('$WORK/imap1.json'))))")" ] && pass || fail "move_to run made other claims"

# imaps:// with the server's private CA in imap.ca_file works; without it, or
# with a CA that did not sign the certificate, verification fails (78).
config secure secure "  ca_file: $WORK/ca/ca.pem"
sed -i "s|imap://127.0.0.1:$PORT|imaps://127.0.0.1:$TLS_PORT|" "$WORK/secure.yaml"
expect_code 0 $NCBOCR --config "$WORK/secure.yaml" fetch
[ "$(imap_count secure INBOX KEYWORD ncbocr-processed)" = "$NMSG" ] && pass || fail "imaps fetch did not process the messages"
sed -i "s|$WORK/ca/ca.pem|$WORK/ca/other-ca.pem|" "$WORK/secure.yaml"
expect_code 78 $NCBOCR --config "$WORK/secure.yaml" fetch
expect_grep "imap.ca_file" "$WORK/err"
sed -i "/ca_file:/d" "$WORK/secure.yaml"
expect_code 78 $NCBOCR --config "$WORK/secure.yaml" fetch
expect_grep "imap.ca_file" "$WORK/err"

# A refused password is a credentials failure (77); nothing is marked.
printf 'wrong\n' > "$WORK/bad.pw"; chmod 600 "$WORK/bad.pw"
config bad clerk
sed -i "s|$WORK/clerk.pw|$WORK/bad.pw|" "$WORK/bad.yaml"
expect_code 77 $NCBOCR --config "$WORK/bad.yaml" fetch
# Plain imap:// to a host that is not loopback is a configuration error.
config remote clerk
sed -i "s|imap://127.0.0.1:$PORT|imap://mail.example.com|" "$WORK/remote.yaml"
expect_code 78 $NCBOCR --config "$WORK/remote.yaml" fetch
expect_grep "imaps://" "$WORK/err"

# ---- the whole pipeline from IMAP to NCB over HTTP, with NCB faults
python3 "$SOURCE_DIR/tests/doubles/ncb_double.py" --api-key ncb-secret >"$WORK/ncb.port" 2>"$WORK/ncb.err" &
NCB_PID=$!
for _ in $(seq 100); do [ -s "$WORK/ncb.port" ] && break; sleep 0.1; done
NCB_CTL="http://127.0.0.1:$(head -1 "$WORK/ncb.port")"
printf 'ncb-secret\n' > "$WORK/ncb.key"; chmod 600 "$WORK/ncb.key"
# Drive and Sheets: the Google double, a service account key it trusts.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/sa.pem" 2>/dev/null
openssl pkey -in "$WORK/sa.pem" -pubout -out "$WORK/sa.pub"
python3 "$SOURCE_DIR/tests/doubles/google_double.py" --public-key "$WORK/sa.pub" --drive-root ROOTFOLDER \
  --spreadsheet SHEET1 >"$WORK/google.port" 2>"$WORK/google.err" &
GOOGLE_PID=$!
for _ in $(seq 100); do [ -s "$WORK/google.port" ] && break; sleep 0.1; done
GBASE="http://127.0.0.1:$(head -1 "$WORK/google.port")"
python3 - "$WORK/sa.pem" "$GBASE/token" > "$WORK/sa.json" <<'PY'
import json, sys
print(json.dumps({"type": "service_account", "client_email": "ncbocr@test.iam.gserviceaccount.com",
                  "private_key": open(sys.argv[1]).read(), "token_uri": sys.argv[2]}))
PY
chmod 600 "$WORK/sa.json"
config flow flow "ncb:
  base_url: $NCB_CTL/api/v1
  api_key_file: $WORK/ncb.key
archive:
  drive_credentials_path: $WORK/sa.json
  drive_folder_id: ROOTFOLDER
  drive_api_base_url: $GBASE
  sheets_credentials_path: $WORK/sa.json
  sheets_spreadsheet_id: SHEET1
  sheets_api_base_url: $GBASE"
# Down long enough that a claim is deferred, then an answer lost after NCB committed.
curl -sf -X POST -d '{"fail_next": 6, "status": 503, "lose_response_next": 1}' "$NCB_CTL/_control" >/dev/null
F="$NCBOCR --config $WORK/flow.yaml"
for _ in 1 2 3 4 5 6; do
  $F run >>"$WORK/flow.log" 2>&1 || true
  $F retry --state deferred >/dev/null 2>&1 || true  # as if each backoff had passed
  ls "$WORK/spool-flow"/{fetched,ocred,ready,submitted,deferred}/ 2>/dev/null | grep -q . || break
done
curl -sf "$NCB_CTL/_claims" > "$WORK/flow-ncb.json"
curl -sf "$GBASE/_control/state" > "$WORK/flow-google.json"
$F claims --json > "$WORK/flow-claims.json"
python3 - "$WORK/flow-ncb.json" "$WORK/flow-claims.json" "$WORK/spool-flow" "$WORK/flow-google.json" <<'PY' && pass || { fail "IMAP to NCB: end state"; tail -20 "$WORK/flow.log" >&2; }
import datetime, glob, json, os, sys
ncb, listed, google = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), json.load(open(sys.argv[4]))
claims = [json.load(open(p)) for p in glob.glob(os.path.join(sys.argv[3], "*", "*", "claim.json"))]
done = [c for c in claims if c["state"] == "done"]
assert done, "no claim reached done"
assert len(claims) == len(listed), (len(claims), len(listed))
assert not [c for c in claims if c["state"] in ("fetched", "ocred", "ready", "submitted", "deferred")], \
    sorted(c["state"] for c in claims)
assert len(ncb["claims"]) == len(done), (len(ncb["claims"]), len(done))
receipts = [(c["body"]["source_email_id"], c["body"]["source_filename"]) for c in ncb["claims"]]
assert len(set(receipts)) == len(receipts), "a receipt became two NCB claims"
refs = {c["reference"] for c in ncb["claims"]}
assert all(c.get("ncb_reference") in refs for c in done)
assert any(r["status"] == -1 for r in ncb["requests"]), "no NCB answer was lost"
assert not ncb["faults"]["fail_next"] and not ncb["faults"]["lose_response_next"], ncb["faults"]
# One Drive file and one Sheet row per archived claim, in its day folder and month tab.
files = {f["id"]: f for f in google["drive"]["files"]}
uploads = [f for f in files.values() if f["mimeType"] != "application/vnd.google-apps.folder"]
assert len(uploads) == len(done), (len(uploads), len(done))
def path_of(f):
    parts = []
    while f["parents"] and f["parents"][0] != "ROOTFOLDER":
        f = files[f["parents"][0]]
        parts.append(f["name"])
    return "/".join(reversed(parts))
for c in done:
    local = datetime.datetime.fromisoformat(c["created_at"].replace("Z", "+00:00")).astimezone()
    mine = [f for f in uploads if f["appProperties"].get("ncbocr_claim_id") == c["id"]]
    assert len(mine) == 1 and path_of(mine[0]) == local.strftime("claims/%Y/%m/%d"), c["id"]
    rows = [r for r in google["sheets"]["SHEET1"][local.strftime("%Y-%m")] if len(r) > 1 and r[1] == c["id"]]
    assert len(rows) == 1, (c["id"], rows)
assert not google["violations"], google["violations"]
PY
[ "$(imap_count flow INBOX KEYWORD ncbocr-processed)" = 3 ] && pass || fail "IMAP to NCB: messages not marked"
kill "$NCB_PID" "$GOOGLE_PID" 2>/dev/null || true
finish
