#!/bin/sh
# tests/layout/layers_selftest.sh ROOT - layers.sh fails on a copy of the
# tree where base/ includes a header of serve/, and where a file includes
# "../" : the check can fail.
set -u
root=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/runtime" "$root/compiler" "$root/stdlib" "$tmp/"
printf '#include "serve/serve.h"\n' >> "$tmp/runtime/base/mem.c"
printf '#include "../vm/vm.h"\n' >> "$tmp/runtime/engine/ledger.c"
out=$(sh "$root/tests/layout/layers.sh" "$tmp" 2>&1) && { echo "layers.sh passed a broken tree"; exit 1; }
echo "$out" | grep -q "runtime/base/mem.c:.*layer 'base' includes \"serve/serve.h\" of layer 'serve'" ||
    { echo "no message for base -> serve:"; echo "$out"; exit 1; }
echo "$out" | grep -q 'runtime/engine/ledger.c:.*a relative include' ||
    { echo "no message for the relative include:"; echo "$out"; exit 1; }
echo "layers selftest: both violations reported"
