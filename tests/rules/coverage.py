#!/usr/bin/env python3
"""coverage.py - every workflow, signal and score component of a rule set
is exercised by its tests: some `dnac test` of the set records an effect of
that rule (a workflow's action, a signal, a score entry or a capped one).

    coverage.py --dnac DNAC --rules DIR

Declarations are read from the rule files outside DIR/tests; the effects
from `dnac test -v DIR`, which prints every effect of every test.  A
workflow whose only action is `route` counts through the route's effects
(rule `route.lead`): routing records them under its own rule.  Exits 1
when a test fails or a declaration has no effect in any test, naming it.
"""
import argparse
import json
import os
import re
import subprocess
import sys


def declarations(rules):
    found = {"workflow": set(), "signal": set(), "score": set(), "alias": {}}
    for root, dirs, files in os.walk(rules):
        dirs[:] = [d for d in dirs if d != "tests"]
        for f in files:
            if not f.endswith(".dna"):
                continue
            text = re.sub(r"//[^\n]*", "", open(os.path.join(root, f), encoding="utf-8").read())
            for kind in ("workflow", "signal", "score"):
                for m in re.finditer(r"^%s\s+(\w+)\s+for\s" % kind, text, re.M):
                    found[kind].add(m.group(1))
            # a workflow whose only action is `route` leaves the route's
            # effects, recorded under the route's rule (route.ENTITY)
            for m in re.finditer(r"^workflow\s+(\w+)\s+for\s+(\w+)\s*\{[^}]*?\bdo\s+route\s*\}", text, re.M):
                found["alias"][m.group(1)] = "route." + m.group(2)
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dnac", required=True)
    ap.add_argument("--rules", required=True)
    a = ap.parse_args()
    decl = declarations(a.rules)
    if not (decl["workflow"] and decl["signal"] and decl["score"]):
        print("FAIL: no workflows, signals or scores found in " + a.rules)
        return 1
    r = subprocess.run([a.dnac, "test", "-v", a.rules], capture_output=True, text=True)
    fired = set()
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            rule = json.loads(line).get("rule")
            if rule:
                fired.add(rule)
                fired.add(rule.split("#")[0])
    last = (r.stdout.strip().splitlines() or ["?"])[-1]
    missing = []
    for kind in ("score", "signal", "workflow"):
        for name in sorted(decl[kind]):
            if name not in fired and decl["alias"].get(name) not in fired:
                missing.append("%s %s" % (kind, name))
    n = len(decl["workflow"]) + len(decl["signal"]) + len(decl["score"])
    print("tests: %s" % last)
    print("%d workflows, %d signals, %d score components; %d without an effect in any test" %
          (len(decl["workflow"]), len(decl["signal"]), len(decl["score"]), len(missing)))
    for m in missing:
        print("    untested: " + m)
    if r.returncode != 0:
        print("FAIL: dnac test exits %d" % r.returncode)
        return 1
    if missing:
        print("FAIL: %d of %d declarations are not exercised by a test" % (len(missing), n))
        return 1
    print("ok: every workflow, signal and score component has a test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
