#!/bin/sh
# review.sh - the pull-request review of a dna rules repository, for any CI
# system (examples/ci/dna.yml runs the same steps on GitHub Actions):
#
#   check, lint, fmt --check, test (JUnit), compile the rules of this
#   checkout, compile the rules of the base branch, and backtest: replay
#   the events with this checkout's bundle against the base branch's, the
#   review in markdown in OUT/review.md, ready to post on the pull request.
#
#   sh review.sh [RULES_DIR [EVENTS [BASE_REF [OUT]]]]
#
# Defaults: rules, events/last_month.jsonl, origin/main, dna-review.
# DNAC and DNAD name the binaries (default: dnac and dnad on PATH).  The
# base branch's rules are read with `git archive`, so the checkout needs
# the base ref (GitHub: actions/checkout with fetch-depth: 0).
# Every step runs even when one before it fails (a failing test does not
# hide the backtest); the exit status is the first failing step's (1 errors
# in the rules or failed tests, 2 usage or I/O).  Without a bundle (compile
# failed) there is no backtest.
set -u
rules=${1:-rules}
events=${2:-events/last_month.jsonl}
base_ref=${3:-origin/main}
out=${4:-dna-review}
dnac=${DNAC:-dnac}
dnad=${DNAD:-dnad}

rm -rf "$out"
mkdir -p "$out/base" || exit 2
status=0
step() { echo "== $*" >&2; }
note() { rc=$?; [ $rc = 0 ] || { echo "== $1 failed (exit $rc)" >&2; [ $status != 0 ] || status=$rc; }; }

step "check";   "$dnac" check "$rules";                                  note check
step "lint";    "$dnac" lint "$rules";                                   note lint
step "fmt";     "$dnac" fmt --check --diff "$rules";                     note fmt
step "test";    "$dnac" test --format junit "$rules" > "$out/junit.xml"; note test
step "compile"; "$dnac" compile "$rules" -o "$out/pr.dnab" || exit $?

step "compile $base_ref"
git archive "$base_ref" "$rules" | tar -x -C "$out/base" || exit 2
"$dnac" compile "$out/base/$rules" -o "$out/base.dnab" || exit $?

step "backtest over $events"
set -e
{
    echo "## dna backtest: this pull request's rules against \`$base_ref\`"
    echo
    echo "Replayed \`$events\` through both bundles."
    echo
    "$dnad" replay "$out/pr.dnab" "$events" --baseline "$out/base.dnab" --out "$out/replay" --format markdown --limit 20
} > "$out/review.md"
echo "review: $out/review.md" >&2
exit $status
