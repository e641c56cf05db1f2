#!/usr/bin/env python3
"""session.py - drive `dnac lsp` over pipes, the way an editor does, and
check every answer to the character.

    python3 session.py DNAC PROJECT_DIR

PROJECT_DIR (tests/lsp/project) is copied to a temporary folder; rules.dna
is opened with an error, changed to a fix, and asked for definition, hover,
completion and formatting; then shutdown and exit.  Positions are lines and
UTF-16 code units: the error line carries a character outside the BMP, so a
server counting bytes or code points gets the column wrong.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    else:
        print("ok:", what)


class Server:
    def __init__(self, argv):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 1
        self.pending = []               # notifications read while waiting for a response
        self.timer = threading.Timer(60, self.p.kill)
        self.timer.start()

    def send_raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def read(self):
        headers = {}
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise EOFError("the server closed its output")
            line = line.rstrip(b"\r\n")
            if not line:
                break
            k, v = line.split(b":", 1)
            headers[k.strip().lower()] = v.strip()
        n = int(headers[b"content-length"])
        return json.loads(self.p.stdout.read(n))

    def request(self, method, params):
        i = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        while True:
            m = self.read()
            if m.get("id") == i and "method" not in m:
                return m
            self.pending.append(m)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics(self, uri):
        """The next publishDiagnostics for uri (reading on as needed)."""
        while True:
            for k, m in enumerate(self.pending):
                if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
                    del self.pending[k]
                    return m["params"]["diagnostics"]
            self.pending.append(self.read())


def rng(l1, c1, l2, c2):
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


def pos(uri, line, ch):
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": ch}}


BROKEN = """module shop timezone "Europe/Berlin"

import stdlib.grades

const HOT = 50

score engagement for lead {
  on page_visit when event.title == "\U0001F680 launch" and event.urll contains "/pricing" add 10 limit 1 per day
  on form_submit add 20
}

derive lead.grade = grades.band(lead.score)
derive lead.is_hot = lead.score >= HOT
derive lead.level = match lead.seniority {
  c_level -> 3,
  _ -> 0,
}
"""


def main():
    dnac, src = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="dna-lsp-")
    proj = os.path.join(tmp, "my rules")          # a space: the URI has %20
    shutil.copytree(src, proj)
    rules = os.path.join(proj, "rules.dna")
    schema = os.path.join(proj, "schema.dna")
    uri = "file://" + rules.replace(" ", "%20")
    schema_uri = "file://" + schema.replace(" ", "%20")
    s = Server([dnac, "lsp"])
    try:
        run(s, uri, schema_uri)
    finally:
        s.timer.cancel()
        if s.p.poll() is None:
            s.p.kill()
        shutil.rmtree(tmp)
    print("%d passed, %d failed" % (checks_run[0] - len(failures), len(failures)))
    sys.exit(1 if failures else 0)


checks_run = [0]
_check = check


def check(cond, what):  # noqa: F811 - count every check
    checks_run[0] += 1
    _check(cond, what)


def run(s, uri, schema_uri):
    # before initialize: requests are refused
    r = s.request("textDocument/hover", pos(uri, 0, 0))
    check(r.get("error", {}).get("code") == -32002, "a request before initialize gets ServerNotInitialized")

    r = s.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    caps = r["result"]["capabilities"]
    check(caps["textDocumentSync"]["change"] == 1, "full document sync")
    check(caps["definitionProvider"] and caps["hoverProvider"] and caps["documentFormattingProvider"],
          "definition, hover and formatting are offered")
    check("." in caps["completionProvider"]["triggerCharacters"], "completion triggers on '.'")
    check(r["result"]["serverInfo"]["name"] == "dnac lsp", "serverInfo names dnac lsp")
    s.notify("initialized", {})

    # open with an error: unknown event field, after a non-BMP character on the line
    s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "dna", "version": 1,
                                                        "text": BROKEN}})
    d = s.diagnostics(uri)
    check(len(d) == 1, "one diagnostic for the broken file (got %d)" % len(d))
    if d:
        g = d[0]
        # line 7: '  on page_visit when event.title == "🚀 launch" and event.urll ...'
        # 'urll' starts at UTF-16 column 58: the rocket is two code units (one code point, four bytes)
        line = BROKEN.split("\n")[7]
        col16 = len(line[:line.index("urll")].encode("utf-16-le")) // 2
        check(col16 == 58, "the fixture puts 'urll' at UTF-16 column 58")
        check(g["range"] == rng(7, 58, 7, 62), "the range is 'urll' in UTF-16 columns: %s" % g["range"])
        check(g["code"] == "E011" and g["severity"] == 1, "code E011, severity error")
        check("unknown field 'urll' on event 'page_visit'" in g["message"], "the message names the field")
        check("help: did you mean 'url'?" in g["message"], "the help line is in the message")
    ds = s.diagnostics(schema_uri)
    check(ds == [], "the other file of the folder is checked too, and clean")

    # change to a fix: no errors; the lint finding stays away (limit given) ...
    fixed = BROKEN.replace("event.urll", "event.url")
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                        "contentChanges": [{"text": fixed}]})
    d = s.diagnostics(uri)
    check(d == [], "the fix clears the diagnostics: %s" % d)
    # ... and a lint finding shows as a warning: the form_submit rule has no limit? (L009 is for
    # page visits only) - drop the limit of the page_visit rule through a ranged change
    line7 = fixed.split("\n")[7]
    a = line7.index(" limit 1 per day")
    a16 = len(line7[:a].encode("utf-16-le")) // 2
    b16 = a16 + len(" limit 1 per day")
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                        "contentChanges": [{"range": rng(7, a16, 7, b16), "text": ""}]})
    d = s.diagnostics(uri)
    check(len(d) == 1 and d[0]["code"] == "L009" and d[0]["severity"] == 2,
          "a lint finding is a warning with its code: %s" % d)
    if d:
        check(d[0]["range"] == rng(7, 5, 7, 15), "the lint range is 'page_visit': %s" % d[0]["range"])
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 4},
                                        "contentChanges": [{"text": fixed}]})
    check(s.diagnostics(uri) == [], "back to clean")

    lines = fixed.split("\n")

    def at(line_no, needle, k=0):
        ln = lines[line_no]
        return len(ln[:ln.index(needle) + k].encode("utf-16-le")) // 2

    # definition: an event, an event field, an entity field, a const, an import, an enum value
    def definition(line_no, needle, k=1):
        r = s.request("textDocument/definition", pos(uri, line_no, at(line_no, needle, k)))
        return r.get("result")

    r = definition(7, "page_visit")
    check(r == {"uri": schema_uri, "range": rng(4, 6, 4, 16)}, "definition of an event: %s" % r)
    r = definition(7, "url")
    check(r == {"uri": schema_uri, "range": rng(4, 19, 4, 22)}, "definition of an event field: %s" % r)
    r = definition(13, "seniority")
    check(r == {"uri": schema_uri, "range": rng(10, 2, 10, 11)}, "definition of an entity field: %s" % r)
    r = definition(12, "HOT")
    check(r == {"uri": uri, "range": rng(4, 6, 4, 9)}, "definition of a const: %s" % r)
    r = definition(14, "c_level")
    check(r == {"uri": schema_uri, "range": rng(10, 18, 10, 25)},
          "definition of an enum value goes to the value in its field's type: %s" % r)
    r = definition(2, "grades")
    check(r is not None and r["uri"].endswith("/stdlib/grades.dna") and r["range"]["start"]["line"] >= 0,
          "definition of an import opens the module: %s" % r)
    r = definition(11, "band")
    check(r is not None and r["uri"].endswith("/stdlib/grades.dna"), "definition of a module's fn: %s" % r)

    # hover: a member's type, an enum's values, a declaration, an error code
    r = s.request("textDocument/hover", pos(uri, 12, at(12, "score", 2)))["result"]
    check(r and "lead.score: score (decimal)" in r["contents"]["value"], "hover gives a member's type: %s" % r)
    check(r and r["range"] == rng(12, at(12, "score"), 12, at(12, "score") + 5), "hover range is the word")
    r = s.request("textDocument/hover", pos(uri, 13, at(13, "seniority", 2)))["result"]
    v = r["contents"]["value"] if r else ""
    check("`c_level`, `vp`, `director`" in v, "hover lists an enum's values: %s" % v)
    check("field `seniority`: enum seniority?, declared in schema.dna line 11" in v,
          "hover on a member says where it is declared: %s" % v)
    r = s.request("textDocument/hover", pos(uri, 7, at(7, "page_visit", 2)))["result"]
    v = r["contents"]["value"] if r else ""
    check("event page_visit { url: string, title: string? }" in v and "schema.dna line 5" in v,
          "hover on an event shows its declaration and where: %s" % v)
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 5},
                                        "contentChanges": [{"text": "// see E011\n" + BROKEN}]})
    s.diagnostics(uri)
    r = s.request("textDocument/hover", pos(uri, 0, 8))["result"]
    v = r["contents"]["value"] if r else ""
    check(v.startswith("**E011: unknown field**") and "derived with `derive`" in v,
          "hover on a code gives `dnac explain`: %s" % v)
    bl = BROKEN.split("\n")[7]
    r = s.request("textDocument/hover", pos(uri, 8, len(bl[:bl.index("urll") + 2].encode("utf-16-le")) // 2))["result"]
    v = r["contents"]["value"] if r else ""
    check("**E011: unknown field**" in v, "hover on an error explains its code: %s" % v)

    # completion: after `lead.`, after `event.`, in a match arm, keywords
    def complete(text, line_no, ch):
        s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 6},
                                            "contentChanges": [{"text": text}]})
        s.diagnostics(uri)
        r = s.request("textDocument/completion", pos(uri, line_no, ch))["result"]
        return {i["label"]: i for i in r["items"]}

    t = fixed.replace("lead.score >= HOT", "lead.")
    items = complete(t, 12, len("derive lead.is_hot = lead."))
    check({"name", "seniority", "status", "email", "score", "grade"} <= set(items),
          "completion after `lead.` lists the fields: %s" % sorted(items))
    check(items.get("seniority", {}).get("detail") == "enum seniority?" and items["seniority"]["kind"] == 5,
          "a field item has its type: %s" % items.get("seniority"))
    t = fixed.replace("event.url contains", "event.u contains")
    items = complete(t, 7, at(7, "event.url") + len("event.u"))
    check({"url", "title", "id", "occurred_at"} <= set(items) and "form" not in items,
          "completion after `event.` lists the rule's event fields: %s" % sorted(items))
    t = fixed.replace("  _ -> 0,\n", "  \n  _ -> 0,\n")
    items = complete(t, 15, 2)
    check(set(items) >= {"c_level", "vp", "director"} and items["vp"]["kind"] == 20,
          "completion in a match arm lists the enum values: %s" % sorted(items))
    t = fixed.replace("  on form_submit add 20\n", "  on form_submit add 20\n  \n")
    items = complete(t, 9, 2)
    check({"on", "when", "add", "limit", "decay"} <= set(items) and "entity" not in items,
          "in a score block the rule keywords: %s" % sorted(items))
    items = complete(fixed + "\n", 17, 0)
    check({"entity", "event", "score", "workflow", "import"} <= set(items) and "add" not in items,
          "at the top level the declaration keywords: %s" % sorted(items))
    items = complete("// the rules of the shop\n" + fixed, 0, 12)
    check(items == {}, "nothing is offered in a comment: %s" % sorted(items))
    t = fixed.replace('"/pricing"', '"/pri {lead.}"')
    items = complete(t, 7, at(7, '"/pricing"') + len('"/pri {lead.'))
    check({"name", "seniority"} <= set(items), "completion in a template's hole: %s" % sorted(items))
    items = complete(t, 7, at(7, '"/pricing"') + 3)
    check(items == {}, "nothing is offered in the text of a string: %s" % sorted(items))
    t = fixed.replace("  on form_submit add 20\n", "  on form_submit add 20\n  on \n")
    items = complete(t, 9, 5)
    check({"page_visit", "form_submit"} <= set(items), "after `on` the events: %s" % sorted(items))

    # formatting: the formatter's text as one edit; none when formatted; an error when broken
    messy = fixed.replace("const HOT = 50", "const   HOT=50")
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 7},
                                        "contentChanges": [{"text": messy}]})
    s.diagnostics(uri)
    r = s.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                              "options": {"tabSize": 2, "insertSpaces": True}})
    e = r.get("result")
    n = messy.count("\n")
    check(isinstance(e, list) and len(e) == 1 and e[0]["range"] == rng(0, 0, n, 0),
          "formatting replaces the whole text: %s" % (e and e[0]["range"]))
    check(e and "const HOT = 50\n" in e[0]["newText"], "the edit is the formatter's layout")
    fmt = e[0]["newText"] if e else ""
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 8},
                                        "contentChanges": [{"text": fmt}]})
    s.diagnostics(uri)
    r = s.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": {}})
    check(r.get("result") == [], "a formatted text gets no edits")
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 9},
                                        "contentChanges": [{"text": "event {"}]})
    s.diagnostics(uri)
    r = s.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": {}})
    check(r.get("error", {}).get("code") == -32803, "a text that does not parse is not formatted: %s" % r)

    # a file one folder down belongs to the project above it: clean, and its
    # score component leads to the score in rules.dna
    s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 10},
                                        "contentChanges": [{"text": fixed}]})
    s.diagnostics(uri)
    test_uri = uri.replace("rules.dna", "tests/scoring_test.dna")
    test_path = os.path.join(os.path.dirname(uri[7:].replace("%20", " ")), "tests", "scoring_test.dna")
    test_text = open(test_path).read()
    s.notify("textDocument/didOpen", {"textDocument": {"uri": test_uri, "languageId": "dna", "version": 1,
                                                        "text": test_text}})
    check(s.diagnostics(test_uri) == [], "a test file in a subfolder checks with its parent's schema")
    tl = test_text.split("\n")
    k = next(i for i, l in enumerate(tl) if "engagement" in l)
    r = s.request("textDocument/definition", pos(test_uri, k, tl[k].index("engagement") + 1))["result"]
    check(r == {"uri": uri, "range": rng(6, 6, 6, 16)}, "definition of a score component: %s" % r)
    s.pending.clear()

    # definitions across files: an entity, a team, a sequence, a connector, a signal, a const
    route_uri = uri.replace("rules.dna", "routing.dna")
    route_text = open(uri[7:].replace("%20", " ").replace("rules.dna", "routing.dna")).read()
    s.notify("textDocument/didOpen", {"textDocument": {"uri": route_uri, "languageId": "dna", "version": 1,
                                                        "text": route_text}})
    check(s.diagnostics(route_uri) == [], "routing.dna checks clean")
    rl = route_text.split("\n")

    def def_in_route(needle, nth=0):
        k = [i for i, l in enumerate(rl) if needle in l][nth]
        return s.request("textDocument/definition", pos(route_uri, k, rl[k].index(needle) + 1))["result"]

    for needle, want in [("lead {", {"uri": schema_uri, "range": rng(7, 7, 7, 11)}),
                         ("sales)", {"uri": schema_uri, "range": rng(17, 5, 17, 10)}),
                         ("welcome", {"uri": schema_uri, "range": rng(21, 9, 21, 16)}),
                         ("slack", {"uri": schema_uri, "range": rng(14, 10, 14, 15)}),
                         ("PRICING", {"uri": schema_uri, "range": rng(25, 7, 25, 14)}),
                         ("HOT", {"uri": uri, "range": rng(4, 6, 4, 9)}),
                         ("create_contact", {"uri": schema_uri, "range": rng(32, 2, 32, 16)})]:
        r = def_in_route(needle)
        check(r == want, "definition of '%s' in routing.dna: %s" % (needle.split()[0].strip(")"), r))
    k = next(i for i, l in enumerate(rl) if "notify slack" in l)
    r = s.request("textDocument/hover", pos(route_uri, k, rl[k].index("slack") + 1))["result"]
    v = r["contents"]["value"] if r else ""
    check('connector slack slack_webhook url env("SLACK_WEBHOOK_URL")' in v and "schema.dna line 15" in v,
          "hover on a connector shows its declaration: %s" % v)
    s.pending.clear()

    # a file changed on disk: the open documents are checked again
    schema_path = uri[7:].replace("%20", " ").replace("rules.dna", "schema.dna")
    orig = open(schema_path).read()
    open(schema_path, "w").write(orig.replace("url: string,", "link: string,"))
    s.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": schema_uri, "type": 2}]})
    d = s.diagnostics(uri)
    check([g["code"] for g in d] == ["E011"] and d[0]["range"]["start"]["line"] == 7,
          "after a change on disk the open file sees it: %s" % [g["message"] for g in d])
    open(schema_path, "w").write(orig)
    s.pending.clear()

    # bad input: unknown method, broken JSON, no Content-Length, a huge message
    r = s.request("textDocument/hover", pos(uri, -1, 0))
    check(r.get("error", {}).get("code") == -32602, "a bad position gets InvalidParams")
    r = s.request("textDocument/definition", pos("file:///not/open.dna", 0, 0))
    check(r.get("error", {}).get("code") == -32602, "a document that is not open gets InvalidParams")
    r = s.request("textDocument/rename", pos(uri, 0, 0))
    check(r.get("error", {}).get("code") == -32601, "an unknown method gets MethodNotFound")
    s.send_raw(b"Content-Length: 5\r\n\r\n{oops")
    m = s.read()
    check(m.get("id") is None and m["error"]["code"] == -32700, "broken JSON gets a parse error")
    s.send_raw(b"X-Nothing: 1\r\n\r\n")
    m = s.read()
    check(m["error"]["code"] == -32700 and "Content-Length" in m["error"]["message"],
          "a header without Content-Length gets an error: %s" % m["error"]["message"])
    s.send_raw(b"Content-Length: 99999999999\r\n\r\n")
    m = s.read()
    check(m["error"]["code"] == -32600 and "limit" in m["error"]["message"], "a huge message is refused")
    s.p.stdin.close()           # the huge body never comes: the server must end, not hang or crash
    s.p.wait(timeout=30)
    check(s.p.returncode == 1, "end of input without exit: status 1")

    # a second server: shutdown then exit ends with status 0
    s2 = Server([sys.argv[1], "lsp"])
    s2.request("initialize", {"capabilities": {}})
    r = s2.request("shutdown", None)
    check("result" in r and r["result"] is None, "shutdown answers null")
    r = s2.request("textDocument/hover", pos(uri, 0, 0))
    check(r.get("error", {}).get("code") == -32600, "a request after shutdown is refused")
    s2.notify("exit", None)
    s2.p.wait(timeout=30)
    s2.timer.cancel()
    check(s2.p.returncode == 0, "exit after shutdown: status 0")


if __name__ == "__main__":
    main()
