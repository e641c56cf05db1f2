#!/bin/sh
# review_test.sh - examples/ci on a real git repository: main holds the
# rules and events of tests/ci/fixture, a pull-request branch routes at 40
# points instead of 60 and sends a #hot-leads message instead of creating
# a task; examples/ci/review.sh runs every step and writes the review,
# whose body is pinned by review.expected.md.  The workflow examples/ci/dna.yml
# (parsed as YAML) must run the same steps: its backtest step, run as a
# shell script, writes the same body; its commands name only options the
# binaries have.
#
#   sh review_test.sh DNAC DNAD SRCDIR WORKDIR
#   UPDATE=1 sh review_test.sh ...       accept a new review body
set -u
dnac=$1 dnad=$2 src=$3 work=$4
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
rm -rf "$work"; mkdir -p "$work/repo" || exit 2
cd "$work/repo" || exit 2

# the repository: main with the rules and last month's events, a branch for the pull request
git init -q -b main . && git config user.email ci@example.com && git config user.name ci
cp -r "$here/fixture/rules" rules && mkdir events && cp "$here/fixture/last_month.jsonl" events/last_month.jsonl
git add -A && git commit -qm "rules" || fail "git commit"
git checkout -qb route-earlier
sed -i -e 's/when lead.score >= 60/when lead.score >= 40/' \
       -e 's|do create task "Call {lead.email}" due 1d|do notify slack "#hot-leads" "Hot: {lead.email}"|' rules/review.dna
grep -q '>= 40' rules/review.dna && grep -q '#hot-leads' rules/review.dna || fail "the edit did not apply"
git commit -qam "route at 40, tell #hot-leads" || fail "git commit"

DNAC=$dnac DNAD=$dnad sh "$src/examples/ci/review.sh" rules events/last_month.jsonl main out 2>steps
[ $? = 0 ] || { cat steps; fail "review.sh failed"; }
for s in check lint fmt test compile "compile main" "backtest over events/last_month.jsonl"; do
    grep -q "^== $s\$" steps || fail "review.sh did not run '$s': $(cat steps)"
done
python3 -c "import sys,xml.etree.ElementTree as E; r=E.parse('out/junit.xml').getroot(); assert r.get('failures')=='0' and r.get('tests')=='1', r.attrib" ||
    fail "junit.xml"
if [ "${UPDATE:-}" = 1 ]; then cp out/review.md "$here/review.expected.md"; echo "updated review.expected.md"; exit 0; fi
diff -u "$here/review.expected.md" out/review.md || fail "the review body differs"

# the workflow: the same steps, the same body
python3 - "$src/examples/ci/dna.yml" "$dnac" "$dnad" <<'PY' || exit 1
import os, re, subprocess, sys, yaml
wf = yaml.safe_load(open(sys.argv[1]))
dnac, dnad = sys.argv[2], sys.argv[3]
steps = wf["jobs"]["rules"]["steps"]
names = [s.get("name") for s in steps]
for want in ["check", "lint", "fmt", "test", "compile", "compile the base branch", "backtest", "post the review"]:
    assert want in names, "the workflow has no step %r: %s" % (want, names)
run = {s["name"]: s["run"] for s in steps if "run" in s and "name" in s}
assert "--format github" in run["check"] and "--format github" in run["lint"], "annotations"
assert "fmt --check --diff" in run["fmt"]
assert "--format junit" in run["test"]
assert "gh pr comment" in run["post the review"] and "--body-file review.md" in run["post the review"]
assert wf["permissions"]["pull-requests"] == "write"
env = dict(os.environ, RULES=wf["jobs"]["rules"]["env"]["RULES"], EVENTS=wf["jobs"]["rules"]["env"]["EVENTS"],
           GITHUB_STEP_SUMMARY="summary.md", PATH=os.path.dirname(dnac) + ":" + os.path.dirname(dnad) + ":" + os.environ["PATH"])
def sh(name):
    script = run[name].replace("${{ github.base_ref }}", "main").replace("origin/main", "main")
    r = subprocess.run(["sh", "-ec", script], env=env, capture_output=True, text=True)
    assert r.returncode == 0, "step %r: %s%s" % (name, r.stdout, r.stderr)
for name in ["check", "lint", "fmt", "test", "compile", "compile the base branch", "backtest"]:
    sh(name)
body = open("review.md").read()
want = open("out/review.md").read().replace("`main`", "`main`")
assert body == want, "the workflow's review differs from review.sh's:\n" + body[:400]
assert open("summary.md").read() == body, "the step summary"
print("ok: the workflow's steps run and write the same review")
PY
echo "ok review"
