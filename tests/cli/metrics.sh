#!/usr/bin/env bash
# Metrics end to end: a real fetch writes ncbocr.prom (metrics.enabled), the
# file and `ncbocr metrics --print` pass `promtool check metrics` and hold the
# numbers of the spool; `ncbocr metrics` rewrites the file; the Prometheus
# rules pass `promtool check rules` and their unit tests; every metric the
# rules and the dashboard use is one ncbocr writes. Skips (125) without promtool.
set -euo pipefail
: "${NCBOCR:?path to the ncbocr binary}" "${SOURCE_DIR:?source tree}"
command -v promtool >/dev/null 2>&1 || { echo "promtool not installed (Debian package prometheus): skipped"; exit 125; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$work/inbox" "$work/textfile"
python3 "$SOURCE_DIR/tests/doubles/make_mail.py" "$work/inbox" one --receipt
python3 "$SOURCE_DIR/tests/doubles/make_mail.py" "$work/inbox" two
cat > "$work/ncbocr.yaml" <<YAML
spool: $work/spool
fetch:
  source: eml
  path: $work/inbox
metrics:
  enabled: true
  textfile_dir: $work/textfile
YAML
run() { "$NCBOCR" --config "$work/ncbocr.yaml" "$@"; }
value() { # value FILE SERIES
  awk -v s="$2" '$1 == s { print $2 }' "$1"
}

# The fetch stage writes the file itself.
run -q fetch
prom="$work/textfile/ncbocr.prom"
[ -f "$prom" ] || fail "fetch did not write $prom"
promtool check metrics < "$prom" || fail "promtool check metrics rejects $prom"
[ "$(stat -c %a "$prom")" = 644 ] || fail "$prom is not mode 0644"
[ "$(value "$prom" 'ncbocr_claims{state="fetched"}')" = 1 ] || fail "fetched gauge: $(grep 'ncbocr_claims{' "$prom")"
[ "$(value "$prom" 'ncbocr_claims{state="review"}')" = 1 ] || fail "review gauge"
[ "$(value "$prom" 'ncbocr_claims_processed_total{stage="fetch",to="fetched"}')" = 1 ] || fail "fetch counter"
[ "$(value "$prom" 'ncbocr_stage_last_exit_code{stage="fetch"}')" = 0 ] || fail "fetch exit code"
[ -n "$(value "$prom" 'ncbocr_stage_last_success_timestamp_seconds{stage="fetch"}')" ] || fail "no last success"
if grep -Eq 'Siti|POL-2024|MBR-778899|member-one' "$prom"; then fail "personal data in the metrics"; fi

# --print renders the same numbers to stdout without writing.
rm "$prom"
run metrics --print > "$work/print.prom"
[ ! -e "$prom" ] || fail "--print wrote the file"
promtool check metrics < "$work/print.prom" || fail "promtool check metrics rejects --print output"
[ "$(value "$work/print.prom" 'ncbocr_claims{state="review"}')" = 1 ] || fail "--print review gauge"

# The plain subcommand (what cron runs after each stage) writes it.
run -q metrics
[ -f "$prom" ] || fail "ncbocr metrics did not write $prom"
# The counters survive across processes: a second fetch finds nothing new and
# the count stays, rather than restarting from zero.
run -q fetch
[ "$(value "$prom" 'ncbocr_claims_processed_total{stage="fetch",to="fetched"}')" = 1 ] || fail "counter after a second run"

# With metrics off, `ncbocr metrics` writes nothing and succeeds (cron stays quiet).
sed -i 's/enabled: true/enabled: false/' "$work/ncbocr.yaml"
rm "$prom"
out=$(run -q metrics 2>&1) || fail "metrics with metrics off failed"
[ -z "$out" ] || fail "metrics -q with metrics off printed: $out"
[ ! -e "$prom" ] || fail "metrics off, file written"

# A directory that does not exist is an I/O error (74).
sed -i "s|enabled: false|enabled: true|; s|textfile_dir: .*|textfile_dir: $work/nonexistent|" "$work/ncbocr.yaml"
set +e; run -q metrics 2>/dev/null; rc=$?; set -e
[ "$rc" = 74 ] || fail "missing textfile dir: exit $rc, want 74"

# Rules and dashboard.
promtool check rules "$SOURCE_DIR/monitoring/ncbocr-alerts.yml" || fail "promtool check rules"
(cd "$SOURCE_DIR/monitoring" && promtool test rules ncbocr-alerts.test.yml) || fail "promtool test rules"
python3 - "$SOURCE_DIR/monitoring" "$work/print.prom" <<'PY' || fail "rules/dashboard use metrics ncbocr does not write"
import json, re, sys
mon, prom = sys.argv[1], sys.argv[2]
written = set(re.findall(r"^# TYPE (\S+)", open(prom).read(), re.M))
dash = json.load(open(mon + "/ncbocr-dashboard.json"))
exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
exprs.append(open(mon + "/ncbocr-alerts.yml").read())
used = {re.sub(r"_(bucket|sum|count)$", "", m) for e in exprs for m in re.findall(r"\bncbocr_[a-z_]+", e)}
missing = sorted(used - written)
if missing:
    print("not written by ncbocr:", missing, file=sys.stderr)
    sys.exit(1)
print("rules and dashboard use %d metrics, all written" % len(used))
PY
echo "metrics: ok"
