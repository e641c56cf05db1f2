#!/usr/bin/env python3
"""lsp_bench.py - how long `dnac lsp` takes to answer an edit, against
`dnac check` of the same folder in the same run.

    python3 tests/bench/lsp_bench.py build/dnac rules [N]

Baseline: N runs of `dnac check --format json FOLDER` (a process each).
Measured: N full-text didChange notifications of FOLDER/scoring.dna (or the
folder's first .dna file), each timed until the diagnostics of that file
arrive (the server checks and lints the whole project, then publishes every
file's diagnostics); then N hovers and N completions after `lead.`.
Prints milliseconds per operation and the ratio to the baseline.
"""
import json
import os
import subprocess
import sys
import time


def frame(msg):
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read(p):
    n = 0
    while True:
        line = p.stdout.readline()
        if not line:
            raise EOFError
        line = line.strip()
        if not line:
            break
        k, v = line.split(b":", 1)
        if k.lower() == b"content-length":
            n = int(v)
    return json.loads(p.stdout.read(n))


def main():
    dnac, folder = sys.argv[1], os.path.abspath(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    files = sorted(f for f in os.listdir(folder) if f.endswith(".dna"))
    name = "scoring.dna" if "scoring.dna" in files else files[0]
    path = os.path.join(folder, name)
    uri = "file://" + path
    text = open(path).read()

    t0 = time.perf_counter()
    for _ in range(n):
        subprocess.run([dnac, "check", "--format", "json", folder], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    base = (time.perf_counter() - t0) / n * 1000

    p = subprocess.Popen([dnac, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(m):
        p.stdin.write(frame(m))
        p.stdin.flush()

    def until(pred):
        while True:
            m = read(p)
            if pred(m):
                return m

    send({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": {}}})
    until(lambda m: m.get("id") == 0)
    send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
          "params": {"textDocument": {"uri": uri, "languageId": "dna", "version": 1, "text": text}}})
    is_mine = lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
    until(is_mine)
    t0 = time.perf_counter()
    for i in range(n):
        send({"jsonrpc": "2.0", "method": "textDocument/didChange",
              "params": {"textDocument": {"uri": uri, "version": i + 2},
                         "contentChanges": [{"text": text + "\n" * (i % 2)}]}})
        until(is_mine)
    change = (time.perf_counter() - t0) / n * 1000

    lines = text.split("\n")
    k = next((i for i, l in enumerate(lines) if "lead." in l), 0)
    col = lines[k].find("lead.") + 5 if "lead." in lines[k] else 0
    timings = {}
    for method in ("textDocument/hover", "textDocument/completion"):
        t0 = time.perf_counter()
        for i in range(n):
            rid = 1000 + i
            send({"jsonrpc": "2.0", "id": rid, "method": method,
                  "params": {"textDocument": {"uri": uri}, "position": {"line": k, "character": col}}})
            until(lambda m: m.get("id") == rid)
        timings[method] = (time.perf_counter() - t0) / n * 1000
    send({"jsonrpc": "2.0", "id": 9, "method": "shutdown"})
    until(lambda m: m.get("id") == 9)
    send({"jsonrpc": "2.0", "method": "exit"})
    p.wait(timeout=30)

    total = sum(1 for _, _, fs in os.walk(folder) for f in fs if f.endswith(".dna"))
    print("project %s (%d .dna files, %s edited), %d runs each" % (folder, total, name, n))
    print("baseline  dnac check (process):     %7.2f ms" % base)
    print("lsp       didChange -> diagnostics: %7.2f ms  (%.2fx the baseline)" % (change, change / base))
    for m, v in timings.items():
        print("lsp       %-27s %7.2f ms  (%.2fx the baseline)" % (m.split("/")[1] + ":", v, v / base))


if __name__ == "__main__":
    main()
