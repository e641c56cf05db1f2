#!/bin/sh
# tests/layout/readmes.sh ROOT - every file and folder (tracked by git) that
# sits beside a README.md is named in it: literally (`emit.c`, `golden/`),
# or by a bracket pattern (`disasm.[ch]`).  Prints each one it misses as
# FOLDER: NAME and exits 1 if there is any.
set -u
root=${1:-.}
cd "$root" || exit 2
missing=0
tmp=$(mktemp) || exit 2
trap 'rm -f "$tmp"' EXIT INT TERM
git ls-files >"$tmp" || exit 2

for readme in $(grep -E '(^|/)README\.md$' "$tmp"); do
    dir=$(dirname "$readme")
    if [ "$dir" = . ]; then prefix=''; else prefix="$dir/"; fi
    # the entries directly in dir: files, and folders as NAME/
    entries=$(awk -v p="$prefix" 'index($0, p) == 1 {
                  rest = substr($0, length(p) + 1); i = index(rest, "/")
                  print (i ? substr(rest, 1, i) : rest) }' "$tmp" | sort -u)
    patterns=$(grep -oE '[A-Za-z0-9_.*-]*\[[A-Za-z0-9]+\][A-Za-z0-9_.*-]*' "$readme" | sort -u)
    for e in $entries; do
        [ "$e" = README.md ] && continue
        name=${e%/}
        re=$(printf '%s' "$name" | sed 's/[.[\*^$+?(){}|]/\\&/g')
        if grep -qE "(^|[^A-Za-z0-9_.-])$re(\$|[^A-Za-z0-9_.-]|\\.(\$|[^A-Za-z0-9_]))" "$readme"; then continue; fi
        found=0
        for p in $patterns; do
            # shellcheck disable=SC2254
            case $name in $p) found=1; break ;; esac
        done
        [ $found = 1 ] && continue
        echo "$dir: $e"
        missing=$((missing + 1))
    done
done
[ $missing = 0 ]
