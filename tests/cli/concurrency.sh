#!/usr/bin/env bash
# Two ocr runs at once on one spool never process the same claim twice, and a
# run that finds the lock held exits 0 without touching anything.
source "$(dirname "$0")/lib.bash"

cat > "$WORK/ncbocr.yaml" <<YAML
spool: $WORK/spool
fetch:
  source: eml
  path: $SOURCE_DIR/samples/inbox
YAML
N="$NCBOCR --config $WORK/ncbocr.yaml"
expect_code 0 $N fetch
fetched=$(ls "$WORK/spool/fetched" | wc -l)
[ "$fetched" -gt 0 ] && pass || fail "nothing fetched"

for round in 1 2 3; do
  $N ocr 2>"$WORK/a.err" & a=$!
  $N ocr 2>"$WORK/b.err" & b=$!
  ra=0; rb=0
  wait $a || ra=$?
  wait $b || rb=$?
  [ "$ra" = 0 ] && [ "$rb" = 0 ] && pass || fail "round $round: exit codes $ra $rb"
  # Put everything back for the next round (as an operator's retry would).
  for d in "$WORK"/spool/ocred/* "$WORK"/spool/failed/*; do
    [ -e "$d" ] && mv "$d" "$WORK/spool/fetched/"
  done
done

python3 - "$WORK/spool/journal/journal.log" <<'PY' && pass || fail "a claim was processed twice in one round"
import json, sys, collections
moves = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("actor") == "ocr" and e.get("from") == "fetched":
        moves[e["claim"]] += 1
# Three rounds: each claim left fetched exactly three times, once per round.
bad = {c: n for c, n in moves.items() if n != 3}
assert moves and not bad, bad
PY
finish
