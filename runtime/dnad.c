/*
 * dnad.c - the daemon's command line.
 *
 * `dnad check-bundle B` loads B and reports what it holds; `dnad replay`
 * runs B over a JSONL file (replay.h); `dnad serve` runs the daemon on
 * SQLite (serve.h); `migrate`, `dlq` and `connector` work on its store;
 * `approvals` and `alerts` talk to a running daemon's API (opcli.h).
 * Exit status: 0 ok, 1 a bad bundle (serve: a fatal store error; dlq: an
 * id that is not a dead letter), 2 usage, I/O, or a store that is not built.
 */
#include "bundle/bundle.h"
#include "base/clock.h"
#include "base/slog.h"
#include "engine/replay.h"
#include "jit/jit.h"
#include "serve/serve.h"
#include "store/db_sqlite.h"
#include "deliver/deliver.h"
#include "deliver/dlq.h"
#include "serve/opcli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DNA_VERSION "0.1.0"

static const char usage_text[] =
    "usage: dnad COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  check-bundle B           load and verify bundle B (format version, checksum,\n"
    "                           length, references, bytecode) and summarize it\n"
    "  replay B EVENTS.jsonl --out DIR [--baseline OTHER.dnab] [--until TIME]\n"
    "         [--strict] [--format text|markdown] [--threads N] [--limit N]\n"
    "         [--effects all|external|none] [--max-future SECONDS] [--jit on|off|auto]\n"
    "  replay B --from sqlite:PATH --out DIR [...]\n"
    "                           run B over the events with every external effect\n"
    "                           captured: DIR/state.jsonl, DIR/effects.jsonl, with a\n"
    "                           baseline DIR/diff.jsonl (per entity: what changed,\n"
    "                           the actions added and removed) and the review first\n"
    "                           (headline, --limit rows, default 50); a summary on\n"
    "                           stdout; --effects: every effect (default), only\n"
    "                           those serve would put in the outbox, or none\n"
    "                           (an empty effects.jsonl); an event more than\n"
    "                           --max-future (default 86400 s) ahead of the wall\n"
    "                           clock is refused; --from replays the events table\n"
    "                           of a store as the daemon ran it (each after the\n"
    "                           watermark recorded with it): the same effects,\n"
    "                           byte for byte\n"
    "  serve --bundle B [--db sqlite:PATH] [--listen ADDR:PORT] [--token-file F]\n"
    "        [--no-auth] [--max-body BYTES] [--lateness SECONDS] [--no-wall-clock]\n"
    "        [--max-connections N] [--max-connections-per-client N]\n"
    "        [--header-timeout SECONDS] [--request-timeout SECONDS]\n"
    "        [--max-future SECONDS] [--retry-base MS] [--no-delivery]\n"
    "        [--deliver-history] [--jit on|off|auto]\n"
    "                           the daemon: POST /v1/events (durable before 202),\n"
    "                           POST /v1/sources/NAME (signed tool webhooks),\n"
    "                           the engine over accepted events, timers by the\n"
    "                           watermark, the operator API, delivery of the\n"
    "                           outbox to the connectors (retries with backoff from\n"
    "                           --retry-base, default 1000 ms); defaults ./dna.db,\n"
    "                           127.0.0.1:8080 (port 0: any free port), 1 MiB, 60 s;\n"
    "                           an event more than --max-future (default 86400 s)\n"
    "                           ahead of the wall clock is refused;\n"
    "                           256 connections, 64 per client address (beyond:\n"
    "                           /healthz, /readyz, /metrics only), headers within\n"
    "                           10 s, a whole request within 60 s (else 408);\n"
    "                           the token comes from DNA_API_TOKEN or --token-file;\n"
    "                           logs are JSON lines on stderr; SIGTERM stops cleanly,\n"
    "                           SIGHUP loads the bundle file again; the daemon goes\n"
    "                           live when an accepted event comes within --lateness of\n"
    "                           the wall clock: only then does the watermark follow the\n"
    "                           wall clock, and external effects of evaluations before\n"
    "                           that moment are history, not delivered (--deliver-history\n"
    "                           delivers them)\n"
    "  import --bundle B EVENTS.jsonl [--db sqlite:PATH] [--tenant default]\n"
    "         [--deliver-history] [--max-future SECONDS]\n"
    "                           load history into a store without events (refused\n"
    "                           otherwise) with replay's watermark: the state is what\n"
    "                           replay of the file gives, external effects are history\n"
    "                           (--deliver-history: pending, for the serve that carries\n"
    "                           on); refused lines are reported and skipped\n"
    "  migrate [--db sqlite:PATH]\n"
    "                           create the store or bring its schema up to date\n"
    "                           (serve does this too when it starts)\n"
    "  dlq list|retry ID...|drop ID... [--all] [--db sqlite:PATH]\n"
    "                           the dead-letter queue: effects whose delivery\n"
    "                           failed for good; retry queues them again (same\n"
    "                           idempotency key), drop gives up on them\n"
    "  connector enable NAME [--db sqlite:PATH]\n"
    "                           deliver again through a connector a 410 disabled\n"
    "  approvals list [--state pending|decided|all] | approve ID | reject ID [--by WHO]\n"
    "  alerts list [--state open|acked|all] [--entity KIND/KEY] | ack ID [--by WHO]\n"
    "        [--url URL] [--token-file F] [--json]\n"
    "                           the operator API of a running daemon over HTTP\n"
    "                           (URL from --url, $DNA_URL or http://127.0.0.1:8080;\n"
    "                           the token from --token-file or DNA_API_TOKEN):\n"
    "                           lists as tables (--json: the API's answer), a\n"
    "                           decision or acknowledgement by id; exit 1 when\n"
    "                           the API refuses it (unknown id, already decided,\n"
    "                           bad token), 2 when the daemon cannot be reached\n"
    "\n"
    "Not built yet: PostgreSQL (--db postgres://...).\n"
    "\n"
    "--jit (also --jit=MODE; default: DNA_JIT, else auto): on compiles the bundle's\n"
    "rule code to machine code with LLVM, off interprets it, auto compiles bundles\n"
    "of at least 2,000 instructions; results are identical either way, and a\n"
    "bundle LLVM cannot compile runs on the interpreter (logged).  The replay\n"
    "summary's `jit:` line and serve's start log say which ran.\n"
    "\n"
    "Options:\n"
    "  -h, --help               this text\n"
    "  --version                the version\n"
    "\n"
    "Exit status: 0 ok, 1 the bundle was refused (serve: a fatal store error;\n"
    "dlq: an id that is not a dead letter), 2 usage, I/O or not built yet.\n";

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

/* ---- replay --from sqlite:PATH: the events table as the daemon ran it ---- */

typedef struct DbSource { sqlite3 *db; sqlite3_stmt *st; } DbSource;

static int db_next(void *ud, const char **body, size_t *len, int64_t *wm, int *has_wm, char *why, size_t wl)
{
    DbSource *d = ud;
    int rc = sqlite3_step(d->st);
    if (rc == SQLITE_DONE) return 0;
    if (rc != SQLITE_ROW) { snprintf(why, wl, "%s", sqlite3_errmsg(d->db)); return -1; }
    *body = (const char *)sqlite3_column_text(d->st, 0);
    *len = (size_t)sqlite3_column_bytes(d->st, 0);
    *has_wm = sqlite3_column_type(d->st, 1) != SQLITE_NULL;
    *wm = *has_wm ? sqlite3_column_int64(d->st, 1) : 0;
    return 1;
}

static int open_source(const char *path, DbSource *d, RepSource *src)
{
    memset(d, 0, sizeof *d);
    memset(src, 0, sizeof *src);
    if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d->db, "SELECT body, watermark FROM events WHERE tenant = '" DB_TENANT "' AND status <> 'pending' "
                                  "ORDER BY seq", -1, &d->st, NULL) != SQLITE_OK) {
        fprintf(stderr, "dnad: cannot read the store '%s': %s\n", path, d->db ? sqlite3_errmsg(d->db) : "cannot open");
        sqlite3_close(d->db);
        return -1;
    }
    src->next = db_next;
    src->ud = d;
    src->has_final = db_meta_get(d->db, "watermark", &src->final_wm);
    return 0;
}

static int cmd_replay(int argc, char **argv)
{
    ReplayOpts o;
    memset(&o, 0, sizeof o);
    o.max_future_ms = 24 * 3600 * CLK_SECOND;
    const char *bundle = NULL, *baseline = NULL, *from = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "--jit", 5) && (a[5] == '=' || !a[5])) {
            const char *v = a[5] ? a + 6 : i + 1 < argc ? argv[++i] : NULL;
            if (!v) return usage_error("%s needs a value", "--jit");
            JitMode m;
            if (jit_parse_mode(v, &m)) return usage_error("--jit takes on, off or auto, not '%s'", v);
            jit_set_mode(m);
        } else if (!strcmp(a, "--out") || !strcmp(a, "--baseline") || !strcmp(a, "--until") || !strcmp(a, "--format") ||
            !strcmp(a, "--threads") || !strcmp(a, "--limit") ||
            !strcmp(a, "--effects") || !strcmp(a, "--from") || !strcmp(a, "--max-future")) {
            if (i + 1 >= argc) return usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--out")) o.out = v;
            else if (!strcmp(a, "--from")) {
                if (strncmp(v, "sqlite:", 7) || !v[7]) return usage_error("--from needs sqlite:PATH, not '%s'", v);
                from = v + 7;
            } else if (!strcmp(a, "--max-future")) {
                char *end;
                long long n = strtoll(v, &end, 10);
                if (*end || n < 0) return usage_error("--max-future needs a number of seconds, not '%s'", v);
                o.max_future_ms = n * CLK_SECOND;
            }
            else if (!strcmp(a, "--baseline")) baseline = v;
            else if (!strcmp(a, "--threads")) {
                char *end;
                long t = strtol(v, &end, 10);
                if (*end || t < 1 || t > 16) return usage_error("--threads takes 1 to 16, not '%s'", v);
                o.threads = (int)t;
            } else if (!strcmp(a, "--limit")) {
                char *end;
                long long n = strtoll(v, &end, 10);
                if (*end || n < 1) return usage_error("--limit takes a number of rows, not '%s'", v);
                o.limit = (uint64_t)n;
            }
            else if (!strcmp(a, "--effects")) {
                if (!strcmp(v, "all")) o.effects = REP_EFFECTS_ALL;
                else if (!strcmp(v, "external")) o.effects = REP_EFFECTS_EXTERNAL;
                else if (!strcmp(v, "none")) o.effects = REP_EFFECTS_NONE;
                else return usage_error("unknown --effects '%s' (all, external or none)", v);
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
    if (from && o.events) return usage_error("%s", "replay takes an events file or --from, not both");
    if (from && baseline) return usage_error("%s", "--baseline takes an events file, not --from");
    if (!bundle || (!o.events && !from)) return usage_error("%s", "replay needs a bundle and an events file (or --from sqlite:PATH)");
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
    DbSource ds;
    RepSource src;
    if (from) {
        if (open_source(from, &ds, &src)) { if (baseline) bundle_free(&base); bundle_free(&b); return 2; }
        o.source = &src;
        o.events = from;
    }
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    o.wall_ms = (int64_t)wall.tv_sec * 1000 + wall.tv_nsec / 1000000;
    rc = rep_run(&b, &o, stdout);
    if (from) { sqlite3_finalize(ds.st); sqlite3_close(ds.db); }
    if (baseline) bundle_free(&base);
    bundle_free(&b);
    return rc;
}

static int parse_listen(const char *v, SrvConfig *c, char *host, size_t hl)
{
    const char *colon = strrchr(v, ':');
    if (!colon || colon == v) return -1;
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || !colon[1] || port > 65535) return -1;
    snprintf(host, hl, "%.*s", (int)(colon - v), v);
    if (!strcmp(host, "localhost")) snprintf(host, hl, "127.0.0.1");
    c->host = host;
    c->port = (uint16_t)port;
    return 0;
}

static char *read_token_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) buf[--n] = 0;
    return strdup(buf);
}

/* an LLVM failure: the bundle runs on the interpreter */
static void jit_stderr(const char *msg) { fprintf(stderr, "dnad: %s\n", msg); }
static void jit_slog(const char *msg) { slog("warn", "jit failed", "why", SL_STR, msg, NULL); }

/* serve, and import (the same daemon without HTTP over a file) */
static int serve_or_import(int argc, char **argv, int import)
{
    SrvConfig c;
    memset(&c, 0, sizeof c);
    static char host[256] = "127.0.0.1";
    c.host = host;
    c.port = 8080;
    c.db_path = "dna.db";
    c.max_body = 1 << 20;
    c.lateness_ms = 60 * CLK_SECOND;
    c.max_future_ms = 24 * 3600 * CLK_SECOND;
    c.wall_clock = 1;
    c.max_conns = 256;
    c.max_conns_per_client = 64;
    c.header_timeout_ms = 10 * CLK_SECOND;
    c.request_timeout_ms = 60 * CLK_SECOND;
    const char *bundle = NULL, *token_file = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        char name[64];
        const char *eq = strchr(a, '=');
        if (!strncmp(a, "--", 2) && eq) { snprintf(name, sizeof name, "%.*s", (int)(eq - a), a); v = eq + 1; a = name; }
        int takes = !strcmp(a, "--bundle") || !strcmp(a, "--db") || !strcmp(a, "--listen") || !strcmp(a, "--token-file") ||
                    !strcmp(a, "--max-body") || !strcmp(a, "--lateness") || !strcmp(a, "--max-connections") ||
                    !strcmp(a, "--retry-base") || !strcmp(a, "--max-future") || !strcmp(a, "--max-connections-per-client") ||
                    !strcmp(a, "--header-timeout") || !strcmp(a, "--request-timeout") || !strcmp(a, "--jit") ||
                    (import && !strcmp(a, "--tenant"));
        if (takes && !v) {
            if (i + 1 >= argc) return usage_error("%s needs a value", a);
            v = argv[++i];
        }
        if (!strcmp(a, "--bundle")) bundle = v;
        else if (!strcmp(a, "--db")) {
            if (!strncmp(v, "sqlite:", 7)) c.db_path = v + 7;
            else if (strstr(v, "://")) return usage_error("--db '%s': only sqlite:PATH is built yet (PostgreSQL is not)", v);
            else c.db_path = v;
            if (!*c.db_path) return usage_error("%s", "--db sqlite: needs a path");
        } else if (!strcmp(a, "--listen")) {
            if (parse_listen(v, &c, host, sizeof host)) return usage_error("--listen needs ADDR:PORT, not '%s'", v);
        } else if (!strcmp(a, "--token-file")) token_file = v;
        else if (!strcmp(a, "--max-body")) {
            char *end;
            unsigned long long n = strtoull(v, &end, 10);
            if (*end || !n) return usage_error("--max-body needs a number of bytes, not '%s'", v);
            c.max_body = (size_t)n;
        } else if (!strcmp(a, "--lateness")) {
            char *end;
            long long n = strtoll(v, &end, 10);
            if (*end || n < 0 || n > 3153600000LL) return usage_error("--lateness needs seconds (0 to 100 years), not '%s'", v);
            c.lateness_ms = n * CLK_SECOND;
        } else if (!strcmp(a, "--max-connections")) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*end || !n || n > 100000) return usage_error("--max-connections needs 1 to 100000, not '%s'", v);
            c.max_conns = (unsigned)n;
        } else if (!strcmp(a, "--max-connections-per-client")) {
            char *end;
            unsigned long n = strtoul(v, &end, 10);
            if (*end || !n || n > 1000000) return usage_error("--max-connections-per-client needs a number, not '%s'", v);
            c.max_conns_per_client = (unsigned)n;
        } else if (!strcmp(a, "--header-timeout") || !strcmp(a, "--request-timeout")) {
            char *end;
            long long n = strtoll(v, &end, 10);
            if (*end || n < 1 || n > 86400) return usage_error(a[2] == 'h' ? "--header-timeout needs seconds (1 to 86400), not '%s'"
                                                                           : "--request-timeout needs seconds (1 to 86400), not '%s'", v);
            if (a[2] == 'h') c.header_timeout_ms = n * CLK_SECOND; else c.request_timeout_ms = n * CLK_SECOND;
        } else if (!strcmp(a, "--max-future")) {
            char *end;
            long long n = strtoll(v, &end, 10);
            if (*end || n < 0 || n > 3153600000LL) return usage_error("--max-future needs seconds (0 to 100 years), not '%s'", v);
            c.max_future_ms = n * CLK_SECOND;
        } else if (!strcmp(a, "--retry-base")) {
            char *end;
            long long n = strtoll(v, &end, 10);
            if (*end || n < 1 || n > 3600000) return usage_error("--retry-base needs milliseconds (1 to 3600000), not '%s'", v);
            c.retry_base_ms = n;
        } else if (!strcmp(a, "--jit")) {
            JitMode m;
            if (jit_parse_mode(v, &m)) return usage_error("--jit takes on, off or auto, not '%s'", v);
            jit_set_mode(m);
        } else if (!strcmp(a, "--no-delivery") && !eq) c.no_delivery = 1;
        else if (!strcmp(a, "--no-auth") && !eq) c.no_auth = 1;
        else if (!strcmp(a, "--no-wall-clock") && !eq) c.wall_clock = 0;
        else if (!strcmp(a, "--deliver-history") && !eq) c.deliver_history = 1;
        else if (import && !strcmp(a, "--tenant")) {
            if (strcmp(v, "default")) return usage_error("--tenant '%s': this store has one tenant, 'default'", v);
        } else if (import && a[0] != '-' && !c.import_path) c.import_path = a;
        else return usage_error("unknown argument '%s'", argv[i]);
    }
    if (!bundle) return usage_error(import ? "%s" : "%s", import ? "import needs --bundle B" : "serve needs --bundle B");
    if (import) {
        if (!c.import_path) return usage_error("%s", "import needs an events file (JSONL, - for stdin)");
        DnaBundle b;
        int rc = load(bundle, &b);
        if (rc) return rc;
        c.no_auth = 1;                          /* no HTTP: import listens nowhere */
        c.no_delivery = 1;                      /* the daemon that carries on delivers */
        c.wall_clock = 0;                       /* replay's watermark: event time only */
        c.bundle_path = bundle;
        rc = srv_run(&b, &c);
        bundle_free(&b);
        return rc;
    }
    DnaBundle b;
    int rc = load(bundle, &b);                  /* a bad bundle is refused first, token or not */
    if (rc) return rc;
    char *token = NULL;
    if (token_file) {
        token = read_token_file(token_file);
        if (!token) { fprintf(stderr, "dnad: cannot read the token file '%s'\n", token_file); bundle_free(&b); return 2; }
    } else if (getenv("DNA_API_TOKEN")) token = strdup(getenv("DNA_API_TOKEN"));
    if (token && !*token) { free(token); token = NULL; }
    if (!token && !c.no_auth) {
        fprintf(stderr, "dnad: bundle %s loaded and verified (%u rules); serve needs an API token: set DNA_API_TOKEN "
                        "or pass --token-file FILE (or --no-auth for local use only)\n", bundle, b.nrules);
        bundle_free(&b);
        return 2;
    }
    c.token = token;
    c.bundle_path = bundle;
    /* compile first (the engines share it) and say in the start log whether it ran */
    jit_set_log(jit_slog);
    DnaJit *jit = jit_acquire(&b);
    char jd[300];
    jit_describe(jit, jd, sizeof jd);
    slog("info", "jit", "jit", SL_STR, jd, NULL);
    rc = srv_run(&b, &c);
    jit_release(jit);
    bundle_free(&b);
    free(token);
    return rc;
}

/* --db sqlite:PATH (or a bare path) for the commands that work on a store */
static int db_arg(int *argc, char ***argv, const char **path)
{
    *path = "dna.db";
    for (int i = 0; i < *argc; i++) {
        const char *a = (*argv)[i];
        const char *v = NULL;
        if (!strcmp(a, "--db")) {
            if (i + 1 >= *argc) return usage_error("%s", "--db needs a value");
            v = (*argv)[i + 1];
        } else if (!strncmp(a, "--db=", 5)) v = a + 5;
        if (!v) continue;
        if (!strncmp(v, "sqlite:", 7)) v += 7;
        else if (strstr(v, "://")) return usage_error("--db '%s': only sqlite:PATH is built yet (PostgreSQL is not)", v);
        if (!*v) return usage_error("%s", "--db sqlite: needs a path");
        *path = v;
        int k = a[4] == '=' ? 1 : 2;
        for (int j = i; j + k < *argc; j++) (*argv)[j] = (*argv)[j + k];
        *argc -= k;
        i--;
    }
    return 0;
}

static sqlite3 *open_store(const char *path, int create)
{
    if (!create && access(path, F_OK)) {
        fprintf(stderr, "dnad: no store at '%s' (pass --db sqlite:PATH)\n", path);
        return NULL;
    }
    char err[512];
    sqlite3 *db = db_open(path, err, sizeof err);
    if (!db) fprintf(stderr, "dnad: %s\n", err);
    return db;
}

static int cmd_migrate(int argc, char **argv)
{
    const char *path;
    if (db_arg(&argc, &argv, &path)) return 2;
    if (argc) return usage_error("unexpected argument '%s'", argv[0]);
    sqlite3 *db = open_store(path, 1);
    if (!db) return 2;
    printf("%s: schema version %lld\n", path, (long long)db_scalar(db, "SELECT max(version) FROM schema_version"));
    sqlite3_close(db);
    return 0;
}

static int parse_seq(const char *v, int64_t *seq)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    if (*end || n < 1) return -1;
    *seq = n;
    return 0;
}

static int cmd_dlq(int argc, char **argv)
{
    const char *path;
    if (db_arg(&argc, &argv, &path)) return 2;
    if (argc < 1) return usage_error("%s", "dlq needs list, retry ID... or drop ID...");
    const char *op = argv[0];
    int list = !strcmp(op, "list");
    if (!list && strcmp(op, "retry") && strcmp(op, "drop")) return usage_error("unknown dlq command '%s'", op);
    if (list && argc > 1) return usage_error("unexpected argument '%s'", argv[1]);
    if (!list && argc < 2) return usage_error("dlq %s needs the ids of dead letters (dnad dlq list)", op);
    for (int i = 1; i < argc; i++) {
        int64_t seq;
        if (strcmp(argv[i], "--all") && parse_seq(argv[i], &seq)) return usage_error("'%s' is not a dead letter's id", argv[i]);
    }
    sqlite3 *db = open_store(path, 0);
    if (!db) return 2;
    int rc = 0;
    if (list) {
        char *out = dlq_list(db, 100000);
        if (!out) { fprintf(stderr, "dnad: cannot read the outbox: %s\n", sqlite3_errmsg(db)); rc = 2; }
        else printf("%s\n", out);
        free(out);
    } else {
        int64_t now = (int64_t)time(NULL) * 1000;
        for (int i = 1; i < argc && !rc; i++) {
            int64_t ids[4096];
            int n = 0;
            if (!strcmp(argv[i], "--all")) {
                sqlite3_stmt *st;
                if (sqlite3_prepare_v2(db, "SELECT seq FROM outbox WHERE status = 'dead' ORDER BY seq", -1, &st, NULL) == SQLITE_OK) {
                    while (n < 4096 && sqlite3_step(st) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
                    sqlite3_finalize(st);
                }
            } else parse_seq(argv[i], &ids[n++]);
            for (int k = 0; k < n && !rc; k++) {
                int r = !strcmp(op, "retry") ? dlq_retry(db, ids[k], now) : dlq_drop(db, ids[k], now);
                if (r < 0) { fprintf(stderr, "dnad: %s: %s\n", op, sqlite3_errmsg(db)); rc = 2; }
                else if (r == 0) { fprintf(stderr, "dnad: %lld is not in the dead-letter queue\n", (long long)ids[k]); rc = 1; }
                else printf("%s %lld\n", !strcmp(op, "retry") ? "retrying" : "dropped", (long long)ids[k]);
            }
        }
    }
    sqlite3_close(db);
    return rc;
}

static int cmd_connector(int argc, char **argv)
{
    const char *path;
    if (db_arg(&argc, &argv, &path)) return 2;
    if (argc != 2 || strcmp(argv[0], "enable")) return usage_error("%s", "connector takes: enable NAME");
    sqlite3 *db = open_store(path, 0);
    if (!db) return 2;
    int r = dlq_connector_enable(db, argv[1]);
    sqlite3_close(db);
    if (r < 0) { fprintf(stderr, "dnad: cannot enable '%s'\n", argv[1]); return 2; }
    printf(r ? "connector %s enabled\n" : "connector %s was not disabled\n", argv[1]);
    return 0;
}

/* dnad approvals list|approve ID|reject ID, dnad alerts list|ack ID: the operator API over HTTP. */
static int cmd_operator(OpcWhat what, int argc, char **argv)
{
    const char *noun = what == OPC_APPROVALS ? "approvals" : "alerts";
    if (argc < 1) return usage_error(what == OPC_APPROVALS ? "%s needs list, approve ID or reject ID" : "%s needs list or ack ID", noun);
    const char *verb = argv[0], *id = NULL, *state = NULL, *entity = NULL, *by = NULL, *token_file = NULL;
    int list = !strcmp(verb, "list");
    if (!list && (what == OPC_APPROVALS ? strcmp(verb, "approve") && strcmp(verb, "reject") : strcmp(verb, "ack")))
        return usage_error("unknown action '%s'", verb);
    OpcConfig c = { getenv("DNA_URL"), getenv("DNA_API_TOKEN"), 0, 0 };
    if (!c.url || !*c.url) c.url = "http://127.0.0.1:8080";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int takes = !strcmp(a, "--url") || !strcmp(a, "--token-file") || !strcmp(a, "--state") || !strcmp(a, "--by") ||
                    (what == OPC_ALERTS && !strcmp(a, "--entity"));
        if (takes && i + 1 >= argc) return usage_error("%s needs a value", a);
        if (!strcmp(a, "--url")) c.url = argv[++i];
        else if (!strcmp(a, "--token-file")) token_file = argv[++i];
        else if (list && !strcmp(a, "--state")) state = argv[++i];
        else if (list && what == OPC_ALERTS && !strcmp(a, "--entity")) entity = argv[++i];
        else if (!list && !strcmp(a, "--by")) by = argv[++i];
        else if (!strcmp(a, "--json")) c.json = 1;
        else if (a[0] == '-' && a[1]) return usage_error("unknown option '%s'", a);
        else if (!list && !id) id = a;
        else return usage_error("unexpected argument '%s'", a);
    }
    if (!list && !id) return usage_error("%s needs an id", verb);
    char *tok = NULL;
    if (token_file) {
        tok = read_token_file(token_file);
        if (!tok) { fprintf(stderr, "dnad: cannot read '%s'\n", token_file); return 2; }
        c.token = tok;
    }
    int rc = list ? opc_list(&c, what, state, entity, stdout, stderr) : opc_act(&c, what, id, verb, by, stdout, stderr);
    free(tok);
    return rc;
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
    jit_set_log(jit_stderr);
    if (!strcmp(cmd, "replay")) return cmd_replay(argc - 2, argv + 2);
    if (!strcmp(cmd, "check-bundle")) return cmd_check(argc - 2, argv + 2);
    if (!strcmp(cmd, "serve")) return serve_or_import(argc - 2, argv + 2, 0);
    if (!strcmp(cmd, "import")) return serve_or_import(argc - 2, argv + 2, 1);
    if (!strcmp(cmd, "migrate")) return cmd_migrate(argc - 2, argv + 2);
    if (!strcmp(cmd, "dlq")) return cmd_dlq(argc - 2, argv + 2);
    if (!strcmp(cmd, "connector")) return cmd_connector(argc - 2, argv + 2);
    if (!strcmp(cmd, "approvals")) return cmd_operator(OPC_APPROVALS, argc - 2, argv + 2);
    if (!strcmp(cmd, "alerts")) return cmd_operator(OPC_ALERTS, argc - 2, argv + 2);
    return usage_error("unknown command '%s'", cmd);
}
