#!/usr/bin/env bash
# The man pages: every page renders without a single groff warning
# (groff -man -ww -z) and lints clean under mandoc (-Tlint -W warning: the
# other common man reader, which also checks the .TH date); every subcommand `ncbocr --help` lists has its page and
# is listed in ncbocr(1); ncbocr(1) documents every exit code and every
# environment variable of src/base/config.cc, and ncbocr.yaml(5) every key of its
# schema. Skips (125) without groff.
set -euo pipefail
: "${NCBOCR:?path to the ncbocr binary}" "${SOURCE_DIR:?source tree}"
command -v groff >/dev/null 2>&1 || { echo "groff not installed (Debian groff-base): skipped"; exit 125; }
man="$SOURCE_DIR/man"
errors=0
err() { echo "FAIL: $*" >&2; errors=$((errors + 1)); }

pages=("$man"/*.[1-8])
[ -e "${pages[0]}" ] || { echo "FAIL: no man pages in $man" >&2; exit 1; }
for p in "${pages[@]}"; do
  out=$(groff -man -ww -z "$p" 2>&1) || err "$(basename "$p"): groff failed"
  [ -z "$out" ] || err "$(basename "$p"): $out"
  if command -v mandoc >/dev/null 2>&1; then
    lint=$(mandoc -Tlint -W warning "$p" 2>&1) || err "$(basename "$p"): mandoc: $lint"
  fi
  # One .TH shape for all: NAME SECTION YYYY-MM-DD "ncbocr VERSION" TITLE.
  head -n 3 "$p" | grep -Eq '^\.TH [A-Z.\\-]+ [1-8] [0-9]{4}-[0-9]{2}-[0-9]{2} "ncbocr [0-9.]+" "[A-Za-z ]+"$' ||
    err "$(basename "$p"): .TH is not NAME SECTION YYYY-MM-DD \"ncbocr VERSION\" TITLE"
done
command -v mandoc >/dev/null 2>&1 || err "mandoc not installed (scripts/setup.sh --test-deps installs it)"

# Subcommands from the binary's own help ("SUBCOMMANDS:" then "  name  text").
subs=$("$NCBOCR" --help | awk 'toupper($0) ~ /^SUBCOMMANDS:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$subs" ] || err "found no subcommands in ncbocr --help"
# groff spells a hyphen \-; compare without the escapes.
overview=$(sed 's/\\-/-/g' "$man/ncbocr.1")
for s in $subs; do
  [ -f "$man/ncbocr-$s.1" ] || err "subcommand '$s' has no man/ncbocr-$s.1"
  grep -q "ncbocr-$s (1)" <<<"$overview" || err "ncbocr.1 does not list subcommand '$s'"
done

for code in 0 64 65 69 70 74 75 77 78; do
  grep -q "^\.B $code\$" "$man/ncbocr.1" || err "ncbocr.1 EXIT STATUS lacks $code"
done

# The environment variables and configuration keys of src/base/config.cc.
envs=$(sed -n '/EnvNames()/,/^}/p' "$SOURCE_DIR/src/base/config.cc" | grep -oE '\{"[A-Z_0-9]+", "' | grep -oE '[A-Z_0-9]+')
[ -n "$envs" ] || err "found no environment variables in src/base/config.cc"
for e in $envs NCBOCR_CONFIG; do
  grep -q "^\.B $e\$" "$man/ncbocr.1" || err "ncbocr.1 ENVIRONMENT lacks $e"
  [ "$e" = NCBOCR_CONFIG ] || grep -q "\\\\fB$e\\\\fR" "$man/ncbocr.yaml.5" || err "ncbocr.yaml.5 does not name $e"
done
keys=$(sed -n '/Schema()/,/^}/p' "$SOURCE_DIR/src/base/config.cc" | grep -oE '^\s*\{"[a-z_.]+", \{Kind' | grep -oE '"[a-z_.]+"' | tr -d '"')
[ -n "$keys" ] || err "found no configuration keys in src/base/config.cc"
for k in $keys; do
  grep -q "^\.B $k\$" "$man/ncbocr.yaml.5" || err "ncbocr.yaml.5 does not document key $k"
done

[ "$errors" = 0 ] || { echo "$errors problems" >&2; exit 1; }
echo "manpages: ${#pages[@]} pages ok"
