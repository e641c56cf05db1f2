#!/bin/sh
# screenshot.sh - make media/screenshot.png: media/sample.dna checked by
# dnac, rendered to HTML by test/render.js through the grammar, captured by
# Debian's headless Chromium (apt-get install chromium).  Run from
# editors/vscode after `npm ci`, with dnac built in ../../build:
#
#   sh test/screenshot.sh [DNAC]
set -eu
cd "$(dirname "$0")/.."
dnac=${1:-../../build/dnac}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$dnac" check --format json media/sample.dna >"$tmp/diags.jsonl" || true
node test/render.js media/sample.dna "$tmp/diags.jsonl" "$tmp/sample.html"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$tmp/profile" --hide-scrollbars --force-device-scale-factor=1 \
    --window-size=1060,890 --screenshot="$PWD/media/screenshot.png" "file://$tmp/sample.html" 2>/dev/null
echo "wrote media/screenshot.png"
