#!/bin/sh
# test.sh - run test.vim in a headless vim and print its result.
#   sh editors/vim/test.sh REPO_ROOT
set -u
root=$1
out=$(mktemp)
DNA_VIM_OUT=$out vim -u NONE -N -es --cmd "let g:root = '$root'" -S "$root/editors/vim/test.vim" </dev/null
cat "$out"
tail -n 1 "$out" | grep -q ' 0 failed$'
rc=$?
rm -f "$out"
exit $rc
