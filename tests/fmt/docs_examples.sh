#!/bin/sh
# docs_examples.sh - every ```dna block of the README files and docs/ is in
# the formatter's layout: each block is written to a file of its own and
# must pass `dnac fmt --check` (the diff is printed when it does not).  A
# block needs only to parse (a fragment such as one `route` is a file).
#
#   sh docs_examples.sh DNAC REPO WORK_DIR
#   sh docs_examples.sh --fix DNAC REPO WORK_DIR    rewrite the blocks in place
set -u
fix=0
[ "$1" = --fix ] && { fix=1; shift; }
dnac=$1 repo=$2 work=$3
rm -rf "$work"; mkdir -p "$work" || exit 2
cd "$repo" || exit 2
python3 - "$dnac" "$work" "$fix" README.md docs/*.md examples/*.md examples/*/README.md rules/README.md <<'PY'
import os, subprocess, sys
dnac, work, fix, files = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4:]
blocks = bad = 0
for path in files:
    if not os.path.exists(path):
        continue
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i, changed = [], 0, False
    while i < len(lines):
        out.append(lines[i])
        if lines[i].strip() != "```dna":
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        blocks += 1
        name = os.path.join(work, "%s_%d.dna" % (path.replace("/", "_"), i + 2))
        with open(name, "w", encoding="utf-8") as f:
            f.write("\n".join(lines[i + 1:j]) + "\n")
        if fix:
            subprocess.run([dnac, "fmt", name], check=False)
            out.extend(open(name, encoding="utf-8").read().rstrip("\n").split("\n"))
            changed |= out[-(j - i - 1):] != lines[i + 1:j]
        else:
            r = subprocess.run([dnac, "fmt", "--check", "--diff", name], capture_output=True, text=True)
            if r.returncode != 0:
                bad += 1
                print("FAIL: %s:%d: the example is not in the formatter's layout" % (path, i + 2))
                print(r.stdout + r.stderr)
            out.extend(lines[i + 1:j])
        i = j
    if fix and changed:
        open(path, "w", encoding="utf-8").write("\n".join(out))
        print("rewrote", path)
print("%d examples, %d not formatted" % (blocks, bad))
sys.exit(1 if bad or not blocks else 0)
PY
