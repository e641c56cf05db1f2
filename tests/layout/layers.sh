#!/bin/sh
# tests/layout/layers.sh ROOT - every #include "..." of runtime/ and compiler/
# names its layer ("vm/vm.h"), resolves to a file, and reaches only a layer
# below its own (or its own):
#
#   runtime: base < bundle < vm < jit < engine < store < deliver < serve < dnad.c
#   compiler: front (base) < sema (+ bundle) < emit (+ vm), tools (sema);
#             dnac/ (the program) may include the compiler and base..engine
#
# stdlib/builtins.h is open to every layer; the generated headers only to the
# layer that generates them (parser.h, lexer.h: front; sqlite_migrations.h:
# store).  Prints each violation; exits 1 if there is one.
set -u
root=$1
cd "$root" || exit 2

# allowed LAYER: the layers LAYER may include
allowed() {
    case $1 in
    base) echo "base" ;;
    bundle) echo "base bundle" ;;
    vm) echo "base bundle vm" ;;
    jit) echo "base bundle vm jit" ;;
    engine) echo "base bundle vm jit engine" ;;
    store) echo "base bundle vm jit engine store" ;;
    deliver) echo "base bundle vm jit engine store deliver" ;;
    serve) echo "base bundle vm jit engine store deliver serve" ;;
    dnad) echo "base bundle vm jit engine store deliver serve" ;;
    front) echo "base front" ;;
    sema) echo "base bundle front sema" ;;
    emit) echo "base bundle vm front sema emit" ;;
    tools) echo "base bundle front sema tools" ;;
    dnac) echo "base bundle vm jit engine front sema emit tools dnac" ;;
    *) echo "" ;;
    esac
}
generated() {
    case $1:$2 in
    front:parser.h | front:lexer.h | store:sqlite_migrations.h) return 0 ;;
    *) return 1 ;;
    esac
}

bad=0
checked=0
for f in $(find runtime compiler -name '*.[ch]' | sort); do
    case $f in
    runtime/dnad.c) layer=dnad ;;
    runtime/*/*) layer=${f#runtime/}; layer=${layer%%/*} ;;
    compiler/*/*) layer=${f#compiler/}; layer=${layer%%/*} ;;
    *) echo "$f: a source file outside a layer folder"; bad=1; continue ;;
    esac
    ok=$(allowed "$layer")
    if [ -z "$ok" ]; then
        echo "$f: '$layer' is not a layer this test knows"
        bad=1
        continue
    fi
    # every quoted include, with its line number
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
        sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1 \2/' > /tmp/layers.$$
    while read -r line inc; do
        checked=$((checked + 1))
        case $inc in
        ../* | */../* | ./*)
            echo "$f:$line: \"$inc\": a relative include; name the layer"; bad=1; continue ;;
        stdlib/*)
            [ -f "$inc" ] || { echo "$f:$line: \"$inc\" does not exist"; bad=1; }
            continue ;;
        */*) ;;
        *)
            generated "$layer" "$inc" || { echo "$f:$line: \"$inc\" names no layer"; bad=1; }
            continue ;;
        esac
        to=${inc%%/*}
        if [ -f "runtime/$inc" ]; then :
        elif [ -f "compiler/$inc" ]; then :
        else
            echo "$f:$line: \"$inc\" does not exist under runtime/ or compiler/"; bad=1; continue
        fi
        case " $ok " in
        *" $to "*) ;;
        *) echo "$f:$line: layer '$layer' includes \"$inc\" of layer '$to', which is not below it"; bad=1 ;;
        esac
    done < /tmp/layers.$$
done
rm -f /tmp/layers.$$
if [ "$bad" -eq 0 ]; then
    echo "layers: $checked includes, each names its layer and reaches only the layers below"
fi
exit "$bad"
