#!/bin/sh
# run.sh - `dnac test`'s output formats, --filter and --coverage on formats.dna.
#
#   sh run.sh DNAC CASE WORK_DIR
#
# text, github, coverage: stdout, then stderr, then "exit N", diffed against
# expected/CASE.txt (UPDATE=1 rewrites it).  junit: stdout parsed by
# python3's xml.etree (a real XML parser): the counts, the failure and its
# escaped name; the closing line must be on stderr only.  json: every stdout
# line parsed by python3's json.  filter_nomatch: exit 1 and the reason.
set -u
dnac=$1 case=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work" || exit 2
cd "$here/../.." || exit 2          # the repository root: paths read tests/dnactest/...
in=tests/dnactest/formats.dna
fail() { echo "FAIL: $*"; exit 1; }

golden() {
    "$dnac" test "$@" >"$work/out" 2>"$work/err"
    rc=$?
    { cat "$work/out"; cat "$work/err"; echo "exit $rc"; } >"$work/got"
    if [ "${UPDATE:-}" = 1 ]; then cp "$work/got" "$here/expected/$case.txt"; echo "updated $case"; exit 0; fi
    diff -u "$here/expected/$case.txt" "$work/got" || fail "$case differs"
    echo "ok $case"
}

case $case in
text) golden $in ;;
github) golden --format github $in ;;
coverage) golden --coverage $in ;;
junit)
    "$dnac" test --format junit $in >"$work/out" 2>"$work/err"
    rc=$?
    [ $rc = 1 ] || fail "exit $rc, want 1 (a test fails)"
    [ "$(cat "$work/err")" = "2 passed, 1 failed" ] || fail "stderr is not the closing line: $(cat "$work/err")"
    python3 - "$work/out" <<'PY' || exit 1
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
def want(c, msg):
    if not c: print("FAIL: " + msg); sys.exit(1)
want(root.tag == "testsuites", "root is " + root.tag)
want(root.get("tests") == "3" and root.get("failures") == "1", "counts %s" % root.attrib)
suites = root.findall("testsuite")
want(len(suites) == 1 and suites[0].get("name") == "tests/dnactest/formats.dna", "one suite per file")
cases = suites[0].findall("testcase")
want([c.get("name") for c in cases] == ["a pricing visit scores 20", "two visits route the lead",
     'fails on purpose: <a & b> "quoted"'], "names %s" % [c.get("name") for c in cases])
want([c.get("line") for c in cases] == ["33", "39", "46"], "lines %s" % [c.get("line") for c in cases])
want(all(c.find("failure") is None for c in cases[:2]), "a passing test has a failure")
f = cases[2].find("failure")
want(f is not None and f.get("message") == "tests/dnactest/formats.dna:50:3: expect lead.score == 25: false\n      lead.score is 20.0",
     "failure message %r" % (f.get("message") if f is not None else None))
want("effects:" in f.text and '"rule":"engagement#1"' in f.text, "the failure lists the effects")
for c in cases: float(c.get("time"))
print("ok junit")
PY
    ;;
json)
    "$dnac" test --format json --coverage $in >"$work/out" 2>"$work/err"
    rc=$?
    [ $rc = 1 ] || fail "exit $rc, want 1"
    [ "$(cat "$work/err")" = "2 passed, 1 failed" ] || fail "stderr: $(cat "$work/err")"
    python3 - "$work/out" <<'PY' || exit 1
import sys, json
lines = [json.loads(l) for l in open(sys.argv[1])]
tests, cov = lines[:-1], lines[-1]
assert [t["status"] for t in tests] == ["passed", "passed", "failed"], tests
assert tests[2]["failures"][0].startswith("tests/dnactest/formats.dna:50:3: expect lead.score == 25"), tests[2]
assert tests[2]["effects"][0]["rule"] == "engagement#1" and "effects" not in tests[0], tests
c = cov["coverage"]
assert c["rules"] == [2, 4] and c["arms"] == [1, 2], c
assert [u["rule"] for u in c["unreached"]] == ["engagement#2", "hot"], c["unreached"]
print("ok json")
PY
    ;;
filter_nomatch)
    "$dnac" test --filter nomatch $in >"$work/out" 2>"$work/err"
    rc=$?
    [ $rc = 1 ] || fail "exit $rc, want 1: a filter that matches nothing"
    grep -q "^dnac: no test name contains 'nomatch'$" "$work/err" || fail "stderr: $(cat "$work/err")"
    "$dnac" test --filter "route the" $in >"$work/out" 2>&1 || fail "a filter that matches a passing test: exit $?"
    grep -q "^1 passed, 0 failed$" "$work/out" || fail "$(cat "$work/out")"
    echo "ok filter_nomatch" ;;
junit_bad_rules)
    printf 'module m\nconst A = B\n' > "$work/bad.dna"
    "$dnac" test --format junit "$work/bad.dna" >"$work/out" 2>"$work/err"
    rc=$?
    [ $rc = 1 ] || fail "exit $rc, want 1"
    grep -q "error\[E013\]: unknown name 'B'" "$work/err" || fail "the diagnostics are not on stderr: $(cat "$work/err")"
    python3 - "$work/out" <<'PY' || exit 1
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
e = r.find("testsuite/testcase/error")
assert r.get("errors") == "1" and e is not None and e.get("message").startswith("1 error in the rules"), ET.tostring(r)
print("ok junit_bad_rules")
PY
    ;;
bad_format)
    "$dnac" test --format xml $in >"$work/out" 2>"$work/err"
    rc=$?
    [ $rc = 2 ] || fail "exit $rc, want 2"
    grep -q "unknown format 'xml' (text, json, github or junit)" "$work/err" || fail "$(cat "$work/err")"
    "$dnac" check --format junit $in >"$work/out" 2>"$work/err"
    [ $? = 2 ] || fail "check --format junit is not a usage error"
    echo "ok bad_format" ;;
*) echo "unknown case $case"; exit 2 ;;
esac
