#!/usr/bin/env bash
# Quick start: install what is missing, build, and run the main job (one pass
# of every stage) on the bundled sample inbox. No network, no credentials:
# claims go to a local NCB outbox and a local archive under var/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo
echo "== ncbocr run on samples/inbox (config/sample.yaml)"
rc=0
build/ncbocr --config config/sample.yaml run || rc=$?
echo
build/ncbocr --config config/sample.yaml status
echo
build/ncbocr --config config/sample.yaml claims
echo
echo "NCB requests written to var/ncb-outbox/, originals archived under var/archive/claims/."
echo "Claims waiting for a clerk: build/ncbocr --config config/sample.yaml claims --state review"
exit "$rc"
