#!/usr/bin/env python3
"""month_effects.py - replay the shipped rules over a month of events and
check what a sales team would see: every notification has a recipient, no
message has an empty hole, every task has an assignee, no email step goes
to a lead without an email address (or after it stopped taking mail), only
critical and high alerts are escalated, nothing is routed or enrolled for an
anonymous lead, and the digest posts on weekdays only.

    month_effects.py --dnac DNAC --dnad DNAD --rules DIR --events FILE --work DIR
                     [--report | --expect KIND ...]

It compiles DIR into WORK/rules.dnab, replays FILE into WORK/out, prints the
month's effect counts and every violation (the first few of each kind), and
exits 1 when there is one (0 with --report, which only counts: the command
that measures rules that are not yet clean).  --expect names the kinds of
violation the run must find, each at least once, and no other kind (the
checker's own test: tests/rules/bad/ commits each of them).

A lead is anonymous while it has no email: its key in replay output is its
first identity that is set, and `email` is the shipped lead's first identity,
so a key without '@' is a lead without an email.  Escalations are the effects
of workflows triggered `on alert [SIGNAL] overdue` (found in the rule files);
each is matched to the `overdue` effect the engine writes just before it for
the same lead at the same time.  A hole is empty when the message has two
spaces in a row, a space before punctuation or a closing bracket, an opening
bracket before a space or at the end, or starts or ends with white space.
"""
import argparse
import collections
import datetime
import json
import os
import re
import subprocess
import sys
import zoneinfo

HOLE = re.compile(r"  |\( | \)|\(\)| [,.:;!?](\s|$)|^\s|\s$|: *\)|\{\}")


def workflow_triggers(rules):
    """Names of the workflows per trigger kind: 'overdue' and 'schedule'."""
    found = {"overdue": set(), "schedule": set()}
    zone = "UTC"
    for root, _, files in os.walk(rules):
        for f in sorted(files):
            if not f.endswith(".dna"):
                continue
            text = open(os.path.join(root, f), encoding="utf-8").read()
            text = re.sub(r"//[^\n]*", "", text)
            m = re.search(r'^module\s+\S+\s+timezone\s+"([^"]+)"', text, re.M)
            if m:
                zone = m.group(1)
            for m in re.finditer(r"\bworkflow\s+(\w+)\s+for\s+\w+\s*\{(.*?)\bdo\b", text, re.S):
                name, head = m.group(1), m.group(2)
                if re.search(r"\bon\s+alert\s+(\w+\s+)?overdue\b", head):
                    found["overdue"].add(name)
                if re.search(r'\bon\s+schedule\s+"', head):
                    found["schedule"].add(name)
    return found, zone


def replay(a):
    os.makedirs(a.work, exist_ok=True)
    bundle = os.path.join(a.work, "rules.dnab")
    out = os.path.join(a.work, "out")
    subprocess.run([a.dnac, "compile", a.rules, "-o", bundle], check=True,
                   stdout=subprocess.DEVNULL)
    r = subprocess.run([a.dnad, "replay", bundle, a.events, "--out", out], check=True,
                       capture_output=True, text=True)
    return out, r.stdout


def main():
    ap = argparse.ArgumentParser()
    for o in ("dnac", "dnad", "rules", "events", "work"):
        ap.add_argument("--" + o, required=True)
    ap.add_argument("--report", action="store_true", help="count, never fail")
    ap.add_argument("--expect", nargs="+", default=None, metavar="KIND",
                    help="the violations the run must find, e.g. 'task without an assignee'")
    a = ap.parse_args()

    trig, zone = workflow_triggers(a.rules)
    tz = zoneinfo.ZoneInfo(zone)
    if not trig["overdue"]:
        print("FAIL: no `on alert overdue` workflow found in " + a.rules)
        return 1
    out, summary = replay(a)

    kinds = collections.Counter()
    count = collections.Counter()
    bad = collections.defaultdict(list)
    by_prio = collections.Counter()
    last_overdue = {}           # lead key -> (at, priority)
    stopped = set()             # lead keys whose email_ok became false

    def violation(what, e):
        bad[what].append(e)

    with open(os.path.join(out, "effects.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            e = json.loads(line)
            k, d, rule = e["kind"], e.get("detail") or {}, e.get("rule")
            key = (e.get("entity") or {}).get("key") or ""
            lead = (e.get("entity") or {}).get("kind") == "lead"
            anonymous = lead and "@" not in key
            kinds[k] += 1
            if k == "overdue":
                last_overdue[key] = (e["at"], d.get("priority"))
            if k == "set" and d.get("field") == "email_ok":
                (stopped.add if d.get("value") is False else stopped.discard)(key)
            if k == "notify":
                count["notifications"] += 1
                if not (d.get("channel") or d.get("recipient")):
                    violation("notification without a recipient", e)
            if k in ("notify", "task"):
                text = d.get("message") if k == "notify" else d.get("title")
                count["messages"] += 1
                if text is None or HOLE.search(text):
                    violation("message with an empty hole", e)
            if k == "task":
                count["tasks"] += 1
                if not d.get("assignee"):
                    violation("task without an assignee", e)
            if k == "sequence_step" and d.get("channel") == "email":
                count["email steps"] += 1
                if anonymous:
                    violation("email step to a lead without an email", e)
                elif key in stopped:
                    violation("email step after email_ok became false", e)
            if rule in trig["overdue"] and k not in ("capped",):
                at, prio = last_overdue.get(key, (None, None))
                prio = prio if at == e["at"] else "unknown"
                by_prio[prio] += 1
                count["escalations"] += 1
                if prio not in ("critical", "high"):
                    violation("escalation of a %s alert" % prio, e)
            if rule in trig["schedule"] and k == "notify":
                count["digest lines"] += 1
                at = datetime.datetime.fromisoformat(e["at"].replace("Z", "+00:00"))
                if at.astimezone(tz).isoweekday() >= 6:
                    violation("digest line on a weekend", e)
            if anonymous and k in ("route", "assign", "enroll"):
                violation("%s of a lead without an email" % k, e)

    print(summary.strip())
    print("month: %s" % ", ".join("%s %d" % kv for kv in sorted(count.items())))
    print("escalations by alert priority: %s" %
          (", ".join("%s %d" % kv for kv in sorted(by_prio.items())) or "none"))
    n = 0
    for what in sorted(bad):
        print("%s: %d" % (what, len(bad[what])))
        for e in bad[what][:3]:
            print("    " + json.dumps(e, ensure_ascii=False)[:400])
        n += len(bad[what])
    if a.expect is not None:
        want, got = set(a.expect), set(bad)
        for k in sorted(want - got):
            print("FAIL: expected a violation '%s', found none" % k)
        for k in sorted(got - want):
            print("FAIL: found violations '%s', not expected" % k)
        if want != got:
            return 1
        print("ok: found exactly the %d kinds of violation expected" % len(want))
        return 0
    if n and not a.report:
        print("FAIL: %d effects a sales team should not get" % n)
        return 1
    print("ok: %d violations" % n if a.report else "ok: every effect has a recipient, full messages, and merits it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
