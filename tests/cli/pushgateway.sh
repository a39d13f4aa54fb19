#!/usr/bin/env bash
# Metrics for batch jobs: with metrics.pushgateway_url each stage run PUTs its
# own series (stage="<stage>") to a Pushgateway as the group
# /metrics/job/<stage>/instance/<host>, in the text exposition format, so a
# pod without a textfile directory is still seen. A small loopback receiver
# stands in for the gateway and checks the method, the path, the content type
# and every line. A gateway that fails costs a warning, never the stage.
source "$(dirname "$0")/lib.bash"
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 125; }

cat > "$WORK/gateway.py" <<'PY'
import http.server, json, re, sys
out, port_file, status = sys.argv[1], sys.argv[2], int(sys.argv[3])
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*",?)*\})? -?[0-9.e+]+$')
class H(http.server.BaseHTTPRequestHandler):
    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        problems, typed = [], set()
        for line in body.splitlines():
            if line.startswith("# TYPE "):
                typed.add(line.split()[2])
            elif line.startswith("# HELP "):
                pass
            elif not sample.match(line):
                problems.append("bad line: " + line)
            else:
                name = re.split(r"[{ ]", line)[0]
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                if name not in typed and base not in typed:
                    problems.append("no # TYPE before " + name)
        with open(out, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path,
                                "type": self.headers.get("Content-Type", ""),
                                "body": body, "problems": problems}) + "\n")
        self.send_response(status)
        self.end_headers()
    do_PUT = do_POST = handle_any
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(port_file, "w").write(str(s.server_port))
s.serve_forever()
PY

start_gateway() { # start_gateway STATUS
  rm -f "$WORK/port"
  python3 "$WORK/gateway.py" "$WORK/pushes.jsonl" "$WORK/port" "$1" & gw=$!
  for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
  [ -s "$WORK/port" ] || fail "the gateway did not start"
}
mkdir -p "$WORK/inbox"
python3 "$SOURCE_DIR/tests/doubles/make_mail.py" "$WORK/inbox" one --receipt
start_gateway 200
cat > "$WORK/ncbocr.yaml" <<YAML
spool: $WORK/spool
fetch:
  source: eml
  path: $WORK/inbox
metrics:
  pushgateway_url: http://127.0.0.1:$(cat "$WORK/port")/
YAML
n() { "$NCBOCR" --config "$WORK/ncbocr.yaml" "$@"; }
expect_code 0 n fetch
python3 - "$WORK/pushes.jsonl" "$(hostname)" <<'PY' && pass || fail "the fetch push: $(cat "$WORK/pushes.jsonl")"
import json, sys
pushes = [json.loads(l) for l in open(sys.argv[1])]
assert len(pushes) == 1, pushes
p = pushes[0]
assert p["method"] == "PUT", p["method"]                      # replaces the group
assert p["path"] == "/metrics/job/fetch/instance/" + sys.argv[2], p["path"]
assert p["type"].startswith("text/plain; version=0.0.4"), p["type"]
assert not p["problems"], p["problems"]
lines = [l for l in p["body"].splitlines() if not l.startswith("#")]
assert lines, "nothing pushed"
assert all('stage="fetch"' in l for l in lines), [l for l in lines if 'stage="fetch"' not in l]
assert any(l.startswith("ncbocr_stage_last_run_claims{") and l.endswith(" 1") for l in lines), lines
PY

# metrics.instance (METRICS_INSTANCE) names the group instead of the host:
# pods named anew for every run share one group per stage.
rm -f "$WORK/pushes.jsonl"
expect_code 0 env METRICS_INSTANCE=ncbocr-pods "$NCBOCR" --config "$WORK/ncbocr.yaml" ocr
python3 - "$WORK/pushes.jsonl" <<'PY' && pass || fail "the ocr push with an instance: $(cat "$WORK/pushes.jsonl")"
import json, sys
pushes = [json.loads(l) for l in open(sys.argv[1])]
assert [p["path"] for p in pushes] == ["/metrics/job/ocr/instance/ncbocr-pods"], pushes
assert not pushes[0]["problems"], pushes[0]["problems"]
PY
expect_code 78 env METRICS_INSTANCE=a/b "$NCBOCR" --config "$WORK/ncbocr.yaml" status
expect_grep "metrics.instance" "$WORK/err"
kill $gw; wait $gw 2>/dev/null || true

# A gateway that answers 500: one warning naming it, and the stage still ok.
start_gateway 500
sed -i "s|pushgateway_url: .*|pushgateway_url: http://127.0.0.1:$(cat "$WORK/port")/|" "$WORK/ncbocr.yaml"
expect_code 0 n ocr
expect_grep "cannot push metrics: .*HTTP 500" "$WORK/err"
kill $gw; wait $gw 2>/dev/null || true

# Plain http to a host that is not loopback is refused when the config loads.
sed -i "s|pushgateway_url: .*|pushgateway_url: http://gateway.example/|" "$WORK/ncbocr.yaml"
expect_code 78 n status
expect_grep "metrics.pushgateway_url" "$WORK/err"
finish
