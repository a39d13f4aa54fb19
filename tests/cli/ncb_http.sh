#!/usr/bin/env bash
# The real binary against the NCB double (tests/doubles/ncb_double.py):
#  - a refused key: `submit` exits 77 and every claim stays in ready;
#  - 503, a lost answer after commit, NCB's 400: each claim reaches NCB
#    exactly once, the refused one goes to review with NCB's reason;
#  - TLS with a private CA: refused without ncb.ca_file, fine with it;
#  - validate-credentials: exit 0 / 77 / 78 with the fix spelled out;
#  - neither the key nor claim data appears in the debug log.
set -euo pipefail
: "${NCBOCR:?set NCBOCR to the binary}" "${SOURCE_DIR:?set SOURCE_DIR to the source tree}"
for tool in python3 openssl; do
  command -v "$tool" >/dev/null || { echo "skip: $tool is not installed"; exit 125; }
done

work=$(mktemp -d /tmp/ncbocr-ncb-http.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
doubles="$SOURCE_DIR/tests/doubles"
fail() { echo "FAIL: $*" >&2; exit 1; }

# start_double NAME [flags...]: starts a double, sets PORT.
start_double() {
  local name=$1
  shift
  python3 "$doubles/ncb_double.py" --api-key secret-key "$@" >"$work/$name.port" 2>"$work/$name.log" &
  pids+=($!)
  for _ in $(seq 200); do
    [ -s "$work/$name.port" ] && break
    sleep 0.1
  done
  PORT=$(cat "$work/$name.port")
  [ -n "$PORT" ] || fail "the $name double did not start"
}
# dbl URL [BODY [CAFILE]]: GET, or POST BODY to, an endpoint of a double; prints the answer.
dbl() {
  python3 -c 'import sys, ssl, urllib.request as u
a = sys.argv[1:] + ["", ""]
ctx = ssl.create_default_context(cafile=a[2]) if a[2] else None
req = u.Request(a[0], data=a[1].encode() if a[1] else None)
print(u.urlopen(req, context=ctx, timeout=10).read().decode())' "$@"
}
control() { dbl "http://127.0.0.1:$1/_control" "$2" >/dev/null; }
count() { find "$1" -mindepth 1 -maxdepth 1 -type d | wc -l; }
# Makes every deferred claim due now, as the passing of its backoff would.
age_deferred() {
  python3 - "$1" <<'EOF'
import json, os, sys
root = os.path.join(sys.argv[1], "deferred")
for cid in os.listdir(root):
    p = os.path.join(root, cid, "claim.json")
    m = json.load(open(p))
    m["next_attempt_at"] = "2000-01-01T00:00:00Z"
    json.dump(m, open(p, "w"))
EOF
}
write_config() {  # write_config FILE SPOOL URL [extra yaml lines]
  local file=$1 spool=$2 url=$3
  shift 3
  { echo "spool: $spool"; echo "log: {level: warn}"; echo "ncb:"
    echo "  base_url: $url"; echo "  api_key_file: $work/ncb.key"
    for line in "$@"; do echo "  $line"; done; } >"$file"
}

# --- plain loopback ---
start_double plain
plain=$PORT
spool=$work/spool
mkdir -p "$spool/ready"
python3 "$doubles/make_ready_claims.py" "$spool" 4 --bad-date 3 >/dev/null
write_config "$work/plain.yaml" "$spool" "http://127.0.0.1:$plain/api/v1"
printf 'wrong-key\n' >"$work/ncb.key"
chmod 600 "$work/ncb.key"

rc=0
"$NCBOCR" --config "$work/plain.yaml" submit 2>"$work/401.err" || rc=$?
[ "$rc" = 77 ] || fail "a refused key should exit 77, got $rc"
[ "$(count "$spool/ready")" = 4 ] || fail "after 401 every claim must stay in ready"
grep -q "API key" "$work/401.err" || fail "the 401 message should name the API key"

printf 'secret-key\n' >"$work/ncb.key"
control "$plain" '{"reset": true, "fail_next": 1, "status": 503, "lose_response_next": 1}'
"$NCBOCR" --config "$work/plain.yaml" -v submit 2>"$work/submit1.err" || fail "submit exited $?"
[ "$(count "$spool/review")" = 1 ] || fail "NCB's 400 should send one claim to review"
grep -q 'VALIDATION_FAILED' "$spool"/review/*/claim.json || fail "review reason should carry NCB's error code"
grep -q 'Event date' "$spool"/review/*/claim.json || fail "review reason should name NCB's field"
[ "$(count "$spool/deferred")" = 1 ] || fail "the 503 should defer one claim"
age_deferred "$spool"
"$NCBOCR" --config "$work/plain.yaml" -v submit 2>"$work/submit2.err" || fail "second submit exited $?"
[ "$(count "$spool/submitted")" = 3 ] || fail "three claims should be submitted"
[ "$(count "$spool/ready")" = 0 ] || fail "nothing should be left in ready"

dbl "http://127.0.0.1:$plain/_claims" >"$work/claims.json"
python3 - "$work/claims.json" "$spool" <<'EOF' || fail "NCB should hold each claim exactly once"
import glob, json, sys
held = json.load(open(sys.argv[1]))
refs = {c["key"]: c["reference"] for c in held["claims"]}
assert len(held["claims"]) == 3, held["claims"]
assert any(r["status"] == -1 for r in held["requests"]), "the lost answer was not injected"
mine = [json.load(open(p)) for p in glob.glob(sys.argv[2] + "/submitted/*/claim.json")]
assert sorted(m["ncb_reference"] for m in mine) == sorted(refs.values()), (mine, refs)
EOF
if grep -h -e 'secret-key' -e 'POL-' -e 'RCP-' "$work"/submit*.err "$work/401.err"; then
  fail "the key or claim data leaked into the log"
fi
grep -q 'request' "$work/submit1.err" || fail "debug log should show the requests"

# --- validate-credentials ---
"$NCBOCR" --config "$work/plain.yaml" validate-credentials >"$work/v.out" || fail "validate should pass: $(cat "$work/v.out")"
grep -q 'all .* checks passed' "$work/v.out" || fail "validate should say all passed"
"$NCBOCR" --config "$work/plain.yaml" validate-credentials --json | python3 -c \
  'import json,sys; j=json.load(sys.stdin); assert j["ok"] and j["exit_code"] == 0, j' || fail "--json output"
chmod 644 "$work/ncb.key"
rc=0
"$NCBOCR" --config "$work/plain.yaml" validate-credentials >"$work/v.out" || rc=$?
[ "$rc" = 77 ] || fail "an unsafe key file should exit 77, got $rc"
grep -q "fix: chmod 600 $work/ncb.key" "$work/v.out" || fail "the fix should be spelled out"
chmod 600 "$work/ncb.key"
printf 'old-key\n' >"$work/ncb.key"
rc=0
"$NCBOCR" --config "$work/plain.yaml" validate-credentials >"$work/v.out" || rc=$?
[ "$rc" = 77 ] || fail "a refused key should exit 77, got $rc"
if grep -q old-key "$work/v.out"; then fail "validate printed the key"; fi
printf 'secret-key\n' >"$work/ncb.key"
write_config "$work/nourl.yaml" "$spool" '""'
rc=0
"$NCBOCR" --config "$work/nourl.yaml" validate-credentials >"$work/v.out" || rc=$?
[ "$rc" = 78 ] || fail "no NCB URL should exit 78, got $rc"

# --- TLS with a private CA ---
bash "$doubles/make_test_ca.sh" "$work/ca" >/dev/null 2>&1 || fail "cannot make the test CA"
start_double tls --tls-cert "$work/ca/server.pem" --tls-key "$work/ca/server.key"
tls=$PORT
tspool=$work/tls-spool
mkdir -p "$tspool/ready"
python3 "$doubles/make_ready_claims.py" "$tspool" 1 >/dev/null
write_config "$work/tls.yaml" "$tspool" "https://127.0.0.1:$tls/api/v1"
"$NCBOCR" --config "$work/tls.yaml" submit 2>/dev/null || fail "an untrusted NCB should defer, not fail the run"
[ "$(count "$tspool/deferred")" = 1 ] || fail "without ncb.ca_file the claim should be deferred"
grep -q 'TLS' "$tspool"/deferred/*/claim.json || fail "the deferral reason should mention TLS"
rc=0
"$NCBOCR" --config "$work/tls.yaml" validate-credentials >"$work/v.out" || rc=$?
[ "$rc" = 78 ] || fail "an untrusted certificate should exit 78 from validate, got $rc"
grep -q 'ncb.ca_file' "$work/v.out" || fail "validate should point at ncb.ca_file"

write_config "$work/tls.yaml" "$tspool" "https://127.0.0.1:$tls/api/v1" "ca_file: $work/ca/ca.pem"
"$NCBOCR" --config "$work/tls.yaml" validate-credentials >/dev/null || fail "validate with the CA should pass"
age_deferred "$tspool"
"$NCBOCR" --config "$work/tls.yaml" submit || fail "submit over TLS exited $?"
[ "$(count "$tspool/submitted")" = 1 ] || fail "with ncb.ca_file the claim should be submitted"
dbl "https://127.0.0.1:$tls/_claims" "" "$work/ca/ca.pem" |
  python3 -c 'import json,sys; assert len(json.load(sys.stdin)["claims"]) == 1' || fail "TLS double should hold 1 claim"
echo "ok"
