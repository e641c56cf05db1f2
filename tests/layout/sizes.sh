#!/bin/sh
# tests/layout/sizes.sh ROOT - no C file of runtime/ or compiler/ over 1,200
# lines, no function over 150 (the interpreter loop, vm_run in vm/vm.c,
# excepted).  A function is a line starting a definition at column 0 and
# running to the next line that is exactly "}".
set -u
root=$1
status=0
for f in $(find "$root/runtime" "$root/compiler" -name '*.[ch]' | sort); do
    rel=${f#"$root"/}
    n=$(wc -l < "$f")
    if [ "$n" -gt 1200 ]; then
        echo "$rel: $n lines (at most 1200)"
        status=1
    fi
    awk -v file="$rel" '
        /^[A-Za-z_][^;=]*\(/ && !/^(typedef|struct|enum|union|#)/ { cand = $0; candline = NR; next }
        /^\{$/ && cand != "" { start = candline; name = cand; cand = ""; next }
        /^\}/ && start { len = NR - start + 1
            if (len > 150 && name !~ /vm_run|VM_RUN/) { printf "%s:%d: %d lines: %s\n", file, start, len, name; bad = 1 }
            start = 0; next }
        /^[^ \t{}]/ && !/^\{/ { if (cand != "" && NR > candline + 3) cand = "" }
        END { exit bad }' "$f" || status=1
done
[ "$status" -eq 0 ] && echo "sizes: every file <= 1200 lines, every function <= 150"
exit "$status"
