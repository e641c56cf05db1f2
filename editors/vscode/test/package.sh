#!/bin/sh
# package.sh - package the extension with vsce (from node_modules, installed
# by `npm ci`) and check that the .vsix holds what VS Code loads: the
# manifest, extension.js, the grammar, the language configuration, the
# README with its screenshot and the language client.
#
#   sh test/package.sh EDITORS_VSCODE_DIR OUT.vsix
set -u
dir=$1 out=$2
cd "$dir" || exit 1
if [ ! -x node_modules/.bin/vsce ]; then
    echo "FAIL: node_modules/.bin/vsce is missing: run 'npm ci' in editors/vscode (.ci/setup does)"
    exit 1
fi
node --check extension.js || { echo "FAIL: extension.js does not parse"; exit 1; }
rm -f "$out"
node_modules/.bin/vsce package --allow-missing-repository --skip-license --no-rewrite-relative-links --out "$out" >"$out.log" 2>&1 || {
    cat "$out.log"; echo "FAIL: vsce package"; exit 1; }
list=$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$out") || exit 1
rc=0
for f in extension/package.json extension/extension.js extension/syntaxes/dna.tmLanguage.json \
         extension/language-configuration.json extension/readme.md extension/media/screenshot.png \
         extension/node_modules/vscode-languageclient/node.js; do
    if printf '%s\n' "$list" | grep -qx "$f"; then echo "ok: $f"; else echo "FAIL: $f is not in the package"; rc=1; fi
done
if printf '%s\n' "$list" | grep -q '^extension/test/'; then echo "FAIL: the tests are packaged"; rc=1; fi
[ $rc -eq 0 ] && echo "ok: $(basename "$out"), $(wc -c <"$out") bytes"
exit $rc
