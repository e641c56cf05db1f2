#!/bin/sh
# stdlib_docs.sh SRC - every const and fn of stdlib/*.dna is documented in
# docs/stdlib.md (a table row naming it), and every built-in function of
# stdlib/builtins.h in docs/language.md (a row of the table in section 6)
# and in stdlib/README.md.
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
builtins=$(sed -n 's/^BUILTIN(\([a-z_]*\),.*/\1/p' "$src/stdlib/builtins.h")
[ -n "$builtins" ] || { echo "no BUILTIN rows in stdlib/builtins.h" >&2; exit 1; }
for name in $builtins; do
    if ! grep -q "^| \`$name\` |" "$src/docs/language.md"; then
        echo "docs/language.md does not document the built-in '$name'" >&2
        missing=$((missing + 1))
    fi
    if ! grep -q "\`$name\`" "$src/stdlib/README.md"; then
        echo "stdlib/README.md does not name the built-in '$name'" >&2
        missing=$((missing + 1))
    fi
done
[ "$missing" -eq 0 ] || exit 1
echo "ok: every const and fn of stdlib/ and every built-in is documented"
