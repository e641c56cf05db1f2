#!/bin/sh
# stdlib_docs.sh SRC - every const and fn of stdlib/*.dna is documented in
# docs/stdlib.md (a table row naming it).
set -eu
src=$1
missing=0
for f in "$src"/stdlib/*.dna; do
    for name in $(sed -n 's/^[[:space:]]*\(const\|fn\)[[:space:]]\+\([A-Za-z_][A-Za-z0-9_]*\).*/\2/p' "$f"); do
        if ! grep -q "^| \`$name\` |" "$src/docs/stdlib.md"; then
            echo "docs/stdlib.md does not document '$name' of $f" >&2
            missing=$((missing + 1))
        fi
    done
done
[ "$missing" -eq 0 ] || exit 1
echo "ok: every const and fn of stdlib/ is documented"
