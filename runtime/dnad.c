/*
 * dnad.c - the daemon's command line.
 *
 * Built so far: loading and verifying a bundle.  `dnad check-bundle B`
 * loads B and reports what it holds; `dnad serve --bundle B` loads and
 * verifies B and refuses to start on a bad one, but the server itself
 * (HTTP ingest, engine, stores) is not built yet: after a successful load
 * it says so and exits 2.  Exit status: 0 ok, 1 a bad bundle, 2 usage,
 * I/O, or a command that is not built yet.
 */
#include "bundle.h"
#include "clock.h"
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DNA_VERSION "0.1.0"

static const char usage_text[] =
    "usage: dnad COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  check-bundle B           load and verify bundle B (format version, checksum,\n"
    "                           length, references, bytecode) and summarize it\n"
    "  replay B EVENTS.jsonl --out DIR [--baseline OTHER.dnab] [--until TIME]\n"
    "         [--strict] [--format text|markdown] [--threads N]\n"
    "                           run B over the events with every external effect\n"
    "                           captured: DIR/state.jsonl, DIR/effects.jsonl, with a\n"
    "                           baseline DIR/diff.jsonl; a summary on stdout\n"
    "  serve --bundle B         load and verify B; the server itself is NOT BUILT YET:\n"
    "                           after a successful load dnad says so and exits 2\n"
    "\n"
    "Not built yet: serve (HTTP ingest, stores), migrate.\n"
    "\n"
    "Options:\n"
    "  -h, --help               this text\n"
    "  --version                the version\n"
    "\n"
    "Exit status: 0 ok, 1 the bundle was refused, 2 usage, I/O or not built yet.\n";

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "dnad: ");
    fprintf(stderr, msg, arg);
    fprintf(stderr, "\nTry 'dnad --help'.\n");
    return 2;
}

static int load(const char *path, DnaBundle *b)
{
    DnaLoadResult res;
    DnaLoadError e = bundle_load_file(path, b, &res);
    if (e == DNA_LOAD_OK) return 0;
    fprintf(stderr, "dnad: refusing bundle: %s\n", res.msg);
    bundle_free(b);
    return e == DNA_LOAD_IO ? 2 : 1;
}

static int cmd_check(int argc, char **argv)
{
    if (argc != 1) return usage_error("%s", "check-bundle takes one bundle file");
    DnaBundle b;
    int rc = load(argv[0], &b);
    if (rc) return rc;
    printf("%s: ok: format %u, %u events, %u entities, %u rules, %u code units, %u instructions\n", argv[0],
           b.version, b.nevents, b.nentities, b.nrules, b.nunits, b.ncode);
    bundle_free(&b);
    return 0;
}

static int cmd_replay(int argc, char **argv)
{
    ReplayOpts o;
    memset(&o, 0, sizeof o);
    const char *bundle = NULL, *baseline = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--out") || !strcmp(a, "--baseline") || !strcmp(a, "--until") || !strcmp(a, "--format") ||
            !strcmp(a, "--threads")) {
            if (i + 1 >= argc) return usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--out")) o.out = v;
            else if (!strcmp(a, "--baseline")) baseline = v;
            else if (!strcmp(a, "--threads")) {
                char *end;
                long t = strtol(v, &end, 10);
                if (*end || t < 1 || t > 16) return usage_error("--threads takes 1 to 16, not '%s'", v);
                o.threads = (int)t;
            }
            else if (!strcmp(a, "--format")) {
                if (!strcmp(v, "markdown")) o.markdown = 1;
                else if (strcmp(v, "text")) return usage_error("unknown format '%s' (text or markdown)", v);
            } else {
                if (clk_parse(v, strlen(v), &o.until)) return usage_error("--until needs an RFC 3339 time, not '%s'", v);
                o.has_until = 1;
            }
        } else if (!strcmp(a, "--strict")) o.strict = 1;
        else if (a[0] == '-' && a[1]) return usage_error("unknown option '%s'", a);
        else if (!bundle) bundle = a;
        else if (!o.events) o.events = a;
        else return usage_error("unexpected argument '%s'", a);
    }
    if (!bundle || !o.events) return usage_error("%s", "replay needs a bundle and an events file");
    if (!o.out) return usage_error("%s", "replay needs --out DIR");
    if (!o.threads) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = cores > 2 ? (int)(cores - 1) : 1;       /* the engine takes one core */
    }
    DnaBundle b, base;
    int rc = load(bundle, &b);
    if (rc) return rc;
    if (baseline) {
        rc = load(baseline, &base);
        if (rc) { bundle_free(&b); return rc; }
        o.baseline = &base;
    }
    rc = rep_run(&b, &o, stdout);
    if (baseline) bundle_free(&base);
    bundle_free(&b);
    return rc;
}

static int cmd_serve(int argc, char **argv)
{
    const char *bundle = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--bundle") && i + 1 < argc) bundle = argv[++i];
        else if (!strncmp(argv[i], "--bundle=", 9)) bundle = argv[i] + 9;
        else if ((!strcmp(argv[i], "--db") || !strcmp(argv[i], "--listen")) && i + 1 < argc) i++;
        else return usage_error("unknown argument '%s'", argv[i]);
    }
    if (!bundle) return usage_error("%s", "serve needs --bundle B");
    DnaBundle b;
    int rc = load(bundle, &b);
    if (rc) return rc;
    fprintf(stderr, "dnad: bundle %s loaded and verified (%u rules); serve is not built yet\n", bundle, b.nrules);
    bundle_free(&b);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) { fputs(usage_text, stderr); return 2; }
    const char *cmd = argv[1];
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "help")) {
            fputs(usage_text, stdout);
            return 0;
        }
    if (!strcmp(cmd, "--version")) { printf("dnad %s (bundle format %d)\n", DNA_VERSION, DNA_BUNDLE_VERSION); return 0; }
    if (!strcmp(cmd, "replay")) return cmd_replay(argc - 2, argv + 2);
    if (!strcmp(cmd, "check-bundle")) return cmd_check(argc - 2, argv + 2);
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 2, argv + 2);
    if (!strcmp(cmd, "migrate")) {
        fprintf(stderr, "dnad: '%s' is not built yet\n", cmd);
        return 2;
    }
    return usage_error("unknown command '%s'", cmd);
}
