/*
 * bundle.h - a compiled rule set (.dnab) in memory, and its file form.
 *
 * The emitter (compiler/emit/emit.c) fills a DnaBundle, bundle_write() turns it
 * into bytes, bundle_read() turns bytes back into a DnaBundle (all of it in
 * the bundle's own arena) and bundle_verify() checks its code before the
 * VM may run it.  Everything refers to other things by index: strings into
 * `strs`, code units into `units`, and so on; DNA_NIL means "none".
 *
 * File layout (every integer little-endian, written field by field; see
 * bundle_write.c for the exact order of each section):
 *
 *   0   8  magic "DNAB\r\n\x1a\n"
 *   8   4  format version (DNA_BUNDLE_VERSION)
 *   12  4  flags (0)
 *   16  8  total file length in bytes
 *   24 32  SHA-256 of the whole file with these 32 bytes zeroed
 *   56 32  SHA-256 of the sources (paths and contents, in load order)
 *   88  4  section count, then sections: tag (4 ASCII bytes), u32 0,
 *          u64 payload length, payload.  Sections appear once each, in the
 *          order of DNA_SECTIONS below; nothing may follow the last one.
 *
 * The checksum is SHA-256 from OpenSSL's libcrypto (already linked through
 * libcurl and libpq): it catches any corruption of a file that is read once
 * at start-up, where CRC32C's speed buys nothing, and the same function
 * gives the sources' hash.  It is an integrity check, not a signature.
 */
#ifndef DNA_BUNDLE_H
#define DNA_BUNDLE_H

#include "base/mem.h"
#include "bundle/ops.h"
#include "bundle/value.h"

#include <stddef.h>
#include <stdint.h>

#define DNA_BUNDLE_MAGIC "DNAB\r\n\x1a\n"
#define DNA_BUNDLE_VERSION 1
#define DNA_BUNDLE_HEADER 92
#define DNA_NIL 0xffffffffu

/* The types of slots, constants and unit results. */
typedef enum DnaTypeCode {
    DT_VOID, DT_BOOL, DT_INT, DT_DEC, DT_STR, DT_DUR, DT_TS, DT_TOD,
    DT_ENUM, DT_REF, DT_LIST, DT_JSON, DT__COUNT
} DnaTypeCode;

typedef struct DnaType {
    uint8_t code;           /* DnaTypeCode */
    uint8_t optional;
    uint8_t elem;           /* DT_LIST: the element's code */
    uint8_t pad;
    uint32_t ref;           /* DT_ENUM (or list of enum): enum id; DT_REF: entity kind */
} DnaType;

typedef struct DnaEnum {
    uint32_t name;          /* string: the field it was declared on */
    uint32_t nvalues;
    uint32_t *values;       /* strings, in declaration order */
} DnaEnum;

typedef enum DnaSlotKind {
    DS_BUILTIN, DS_PAYLOAD, DS_IDENTITY, DS_DECLARED, DS_DERIVED,
    DS_SCORE, DS_COMPONENT, DS_INTENT_PRIMARY, DS_INTENT_CONFIDENCE,
    DS_INTENT_TOTAL, DS_INTENT_CATEGORY, DS_TOUCH
} DnaSlotKind;

typedef struct DnaSlot {
    uint32_t name;          /* string, e.g. "url", "score.engagement" */
    DnaType type;
    uint8_t kind;           /* DnaSlotKind */
    uint8_t pad[3];
    uint32_t dflt;          /* constant: the declared default, or DNA_NIL */
} DnaSlot;

typedef struct DnaEvent {
    uint32_t name;
    uint32_t nslots;        /* 0 id, 1 type, 2 source, 3 occurred_at, then payload */
    DnaSlot *slots;
} DnaEvent;

typedef struct DnaEntity {
    uint32_t name;
    uint32_t nslots;
    DnaSlot *slots;
    uint32_t nidentity;     /* slot indexes of the identity keys, in order */
    uint32_t *identity;
} DnaEntity;

typedef struct DnaConst {
    uint8_t type;           /* DnaTypeCode: DT_STR uses str, others i */
    uint8_t pad[3];
    uint32_t str;
    int64_t i;
} DnaConst;

/* A code unit: one compiled expression.  It reads the payload of `event`
 * (DNA_NIL: none) and the slots of entity kind `entity` (DNA_NIL: none). */
typedef struct DnaUnit {
    uint32_t pc, len;       /* its instructions: code[pc .. pc+len) */
    uint32_t nregs;
    DnaType type;           /* of the result */
    uint32_t event, entity;
    uint32_t tz;            /* string: the module's time zone, DNA_NIL for UTC */
    uint32_t rule;          /* owner, for error messages; DNA_NIL for config */
} DnaUnit;

typedef enum DnaRuleKind {
    DR_SCORE, DR_INTENT, DR_SIGNAL, DR_ROUTE, DR_WORKFLOW, DR_DERIVE, DR__COUNT
} DnaRuleKind;

typedef enum DnaTrig {
    DTR_EVENT, DTR_CHANGED, DTR_CREATED, DTR_CROSSES_ABOVE, DTR_CROSSES_BELOW,
    DTR_BECOMES, DTR_CHANGES, DTR_STAYS, DTR_INACTIVE, DTR_OVERDUE,
    DTR_SCHEDULE, DTR_STATE, DTR__COUNT      /* DTR_STATE: route / derive */
} DnaTrig;

typedef enum DnaWindow { DW_NONE, DW_DAY, DW_WEEK, DW_MONTH, DW_LIFETIME } DnaWindow;
typedef enum DnaDecay { DD_NONE, DD_EXPIRE, DD_LINEAR, DD_HALF_LIFE } DnaDecay;
typedef enum DnaMode { DM_LIVE, DM_APPROVAL, DM_SHADOW } DnaMode;

typedef struct DnaRule {
    uint32_t name;          /* string: "engagement#1", "hot_lead", "lead.grade" */
    uint8_t kind;           /* DnaRuleKind */
    uint8_t trig;           /* DnaTrig */
    uint8_t window;         /* DnaWindow of the limit */
    uint8_t decay;          /* DnaDecay */
    uint8_t mode;           /* DnaMode (workflows) */
    uint8_t pad[3];
    uint32_t entity;
    uint32_t event;         /* DTR_EVENT: event type */
    uint32_t watch;         /* watched slot of `entity` (state triggers); derive: target slot */
    uint32_t target;        /* score: component slot; intent: category slot; signal: signal */
    uint32_t cond;          /* unit: `when`, or DNA_NIL */
    uint32_t value;         /* unit: points, derived value, threshold, `becomes` value, route subject */
    uint32_t limit;         /* count, 0 = no limit */
    uint32_t file, line, col;   /* where the rule starts */
    int64_t priority;
    int64_t decay_ms;       /* expire / decay time */
    int64_t duration_ms;    /* stays ... for / inactive for */
    uint32_t schedule;      /* string: cron, or DNA_NIL */
    uint32_t arm, narms;    /* route arms / workflow action list (one arm) */
} DnaRule;

typedef enum DnaArmKind { DA_MATCH, DA_WILDCARD, DA_ELSE, DA_DO } DnaArmKind;

typedef struct DnaArm {
    uint8_t kind;           /* DnaArmKind */
    uint8_t pad[3];
    uint32_t pattern;       /* DA_MATCH: enum value index */
    uint32_t action, nactions;
} DnaArm;

/* Action kinds (DnaAction.kind), the format's own: stored in files, never
 * renumbered; the emitter maps the AST's ActKind onto them (a switch).
 * X(NAME, text): DACT_NAME. */
#define DNA_ACTIONS(X) \
    X(SET, "set") X(MOVE, "move") X(ASSIGN, "assign") X(ROUTE, "route") X(PIPELINE, "pipeline")  \
    X(CREATE, "create") X(TASK, "task") X(NOTIFY, "notify") X(WEBHOOK, "webhook") X(CALL, "call") \
    X(ENROLL, "enroll") X(EMIT, "emit")

typedef enum DnaActKind {
#define DNA_ACT_ENUM(name, text) DACT_##name,
    DNA_ACTIONS(DNA_ACT_ENUM)
#undef DNA_ACT_ENUM
    DACT__COUNT
} DnaActKind;

/* "set", "notify", ...; "?" for a kind the format does not define. */
static inline const char *bundle_action_name(uint32_t kind)
{
    static const char *const names[] = {
#define DNA_ACT_NAME(name, text) text,
        DNA_ACTIONS(DNA_ACT_NAME)
#undef DNA_ACT_NAME
    };
    return kind < DACT__COUNT ? names[kind] : "?";
}

/* An action: kind (DnaActKind), one reference and named arguments, each a
 * code unit or a constant. */
typedef struct DnaAction {
    uint8_t kind;
    uint8_t pad[3];
    uint32_t ref;           /* connector, team, sequence, event, entity kind; by kind */
    uint32_t ref2;          /* connector method, strategy name (string) */
    uint32_t arg, nargs;
} DnaAction;

typedef struct DnaArg {
    uint32_t key;           /* string: role ("message", "channel", "title"...) or field */
    uint32_t unit;          /* code unit, or DNA_NIL */
    uint32_t konst;         /* constant, or DNA_NIL */
} DnaArg;

/* Trigger index: (kind, a, b) -> rules in run order (priority, then source). */
typedef enum DnaKey {
    DK_EVENT,               /* a = event type */
    DK_FIELD,               /* a = entity kind, b = watched slot (changes/becomes/crosses/stays) */
    DK_CHANGED, DK_CREATED, /* a = entity kind */
    DK_TIMER_STAYS, DK_TIMER_INACTIVE, DK_OVERDUE, DK_SCHEDULE,   /* a = entity kind */
    DK_ROUTE, DK_DERIVE,    /* a = entity kind: routes, derived fields in dependency order */
    DK__COUNT
} DnaKey;

typedef struct DnaTrigger {
    uint8_t kind;           /* DnaKey */
    uint8_t pad[3];
    uint32_t a, b;
    uint32_t nrules;
    uint32_t *rules;
} DnaTrigger;

/* A generic `key value` setting of a source, connector or member. */
typedef struct DnaOpt {
    uint32_t key;           /* string */
    uint32_t word;          /* string or DNA_NIL: `rate 1 per second` -> "second", `auth token` */
    uint32_t env;           /* string: environment variable NAME, or DNA_NIL; never its value */
    uint32_t konst;         /* constant or DNA_NIL */
} DnaOpt;

/* Source map expressions over the request body, as data (prefix order). */
typedef enum DnaJOp {
    DJ_PATH,                /* arg: string "a.b.c" below body */
    DJ_CONST,               /* arg: constant */
    DJ_HEADER,              /* arg: string header name */
    DJ_CALL,                /* arg: builtin id, n children */
    DJ_BINARY,              /* arg: operator code (DnaOp, bundle/ops.h), 2 children */
    DJ_NOT,                 /* 1 child */
    DJ__COUNT
} DnaJOp;

typedef struct DnaJNode {
    uint8_t op;
    uint8_t n;
    uint8_t pad[2];
    uint32_t arg;
} DnaJNode;

typedef struct DnaAssign {
    uint32_t target;        /* string: "id", "occurred_at", "subject.email", a payload field */
    uint32_t expr;          /* index of the root in jnodes */
} DnaAssign;

typedef struct DnaMap {
    uint32_t event;
    uint32_t when;          /* jnode root or DNA_NIL */
    uint32_t assign, nassigns;
} DnaMap;

typedef struct DnaSource {
    uint32_t name;
    uint32_t opt, nopts;    /* path, tolerance, signature settings (key "signature.*") */
    uint32_t map, nmaps;
    uint32_t nevents;
    uint32_t *events;
} DnaSource;

typedef struct DnaMethod {
    uint32_t name, verb;
    uint32_t path;          /* code unit building the path */
    uint32_t nparams;
    uint32_t *params;       /* entity kinds */
    uint32_t assign, nassigns;  /* `set ENTITY.FIELD = response...`: target "entity.field" */
} DnaMethod;

typedef struct DnaConnector {
    uint32_t name, kind;
    uint32_t opt, nopts;
    uint32_t method, nmethods;
} DnaConnector;

typedef struct DnaMember {
    uint32_t email;         /* string */
    uint32_t region;        /* string or DNA_NIL */
    int64_t max, weight;    /* 0 = not given */
    uint32_t nskills;
    uint32_t *skills;       /* strings */
} DnaMember;

typedef struct DnaTeam {
    uint32_t name;
    uint32_t nmembers;
    DnaMember *members;
} DnaTeam;

typedef struct DnaStep {
    uint32_t channel, via;  /* string, connector */
    uint32_t tmpl;          /* unit or DNA_NIL */
    int64_t wait_ms;
} DnaStep;

typedef struct DnaSequence {
    uint32_t name, entity;
    uint32_t nsteps;
    DnaStep *steps;
    uint32_t limit, nlimits;    /* opts: key channel, konst count, word window */
    uint32_t day_from, day_to;  /* 1 = mon .. 7 = sun, 0 = no window */
    uint32_t from_min, to_min;
    uint32_t tz;            /* string or DNA_NIL */
    uint32_t exit_when;     /* unit or DNA_NIL */
    uint32_t exit_event;    /* event or DNA_NIL */
} DnaSequence;

typedef struct DnaSignal {
    uint32_t name, entity;
    uint32_t weight;        /* unit */
    uint32_t priority;      /* 0 critical, 1 high, 2 medium, 3 low */
    int64_t decay_ms, sla_ms;
} DnaSignal;

typedef struct DnaSrcLoc {
    uint32_t pc;            /* first instruction this location covers */
    uint32_t file, line, col;
} DnaSrcLoc;

typedef struct DnaFile {
    uint32_t path;          /* string */
    uint32_t stdlib;
} DnaFile;

/* X-macro of sections, in file order: tag, field list (for documentation). */
#define DNA_SECTIONS(S) \
    S(STRS, "strings")  S(FILE, "source files") S(ENUM, "enums") \
    S(EVNT, "events")   S(ENTY, "entities")     S(CNST, "constants") \
    S(UNIT, "code units") S(RULE, "rules")      S(ARMS, "route arms") \
    S(ACTS, "actions")  S(ARGS, "action arguments") S(TRIG, "trigger index") \
    S(SIGN, "signals")  S(OPTS, "settings")     S(JEXP, "body expressions") \
    S(SRCS, "sources")  S(CONN, "connectors")   S(TEAM, "teams") \
    S(SEQN, "sequences") S(CODE, "code")        S(SMAP, "source map")

typedef struct DnaStr {
    const char *s;          /* NUL-terminated for convenience; may contain NUL */
    uint32_t len;
} DnaStr;

typedef struct DnaBundle {
    Arena arena;            /* owns everything below after bundle_read */
    uint32_t version;
    uint8_t checksum[32], source_hash[32];

    uint32_t nstrs;       DnaStr *strs;
    uint32_t nfiles;      DnaFile *files;
    uint32_t nenums;      DnaEnum *enums;
    uint32_t nevents;     DnaEvent *events;
    uint32_t nentities;   DnaEntity *entities;
    uint32_t nconsts;     DnaConst *consts;
    uint32_t nunits;      DnaUnit *units;
    uint32_t nrules;      DnaRule *rules;
    uint32_t narms;       DnaArm *arms;
    uint32_t nactions;    DnaAction *actions;
    uint32_t nargs;       DnaArg *args;
    uint32_t ntriggers;   DnaTrigger *triggers;
    uint32_t nsignals;    DnaSignal *signals;
    uint32_t nopts;       DnaOpt *opts;
    uint32_t njnodes;     DnaJNode *jnodes;
    uint32_t nassigns;    DnaAssign *assigns;
    uint32_t nmaps;       DnaMap *maps;
    uint32_t nsources;    DnaSource *sources;
    uint32_t nmethods;    DnaMethod *methods;
    uint32_t nconnectors; DnaConnector *connectors;
    uint32_t nteams;      DnaTeam *teams;
    uint32_t nsequences;  DnaSequence *sequences;
    uint32_t ncode;       uint32_t *code;
    uint32_t nlocs;       DnaSrcLoc *locs;

    DnaValue *kvals;        /* constants as values (built by bundle_prepare) */
    struct DnaNames *names; /* the name index of bundle_event & co (bundle_prepare; NULL: search) */
} DnaBundle;

/* A growable byte buffer (dna_realloc). */
typedef struct DnaBuf {
    uint8_t *p;
    size_t n, cap;
    int oom;
} DnaBuf;

void dna_buf_free(DnaBuf *b);

/* Serialize.  Deterministic: the same bundle gives the same bytes.
 * Returns 0 on success, -1 when out of memory. */
int bundle_write(const DnaBundle *b, DnaBuf *out);

/* Why a load failed; each has its own message (bundle_error_text). */
typedef enum DnaLoadError {
    DNA_LOAD_OK,
    DNA_LOAD_TRUNCATED,     /* shorter than its header or its recorded length */
    DNA_LOAD_MAGIC,         /* not a bundle */
    DNA_LOAD_VERSION,       /* another format version */
    DNA_LOAD_TRAILING,      /* bytes after the recorded end */
    DNA_LOAD_CHECKSUM,      /* contents do not match the checksum */
    DNA_LOAD_MALFORMED,     /* sections do not parse (checksum was right) */
    DNA_LOAD_VERIFY,        /* the code failed verification */
    DNA_LOAD_NOMEM,
    DNA_LOAD_IO
} DnaLoadError;

typedef struct DnaLoadResult {
    DnaLoadError error;
    char msg[256];          /* the full message for the user */
} DnaLoadResult;

/* Parse and check bytes into *b (which the caller frees with
 * bundle_free).  Runs bundle_verify too.  Returns the error code; on an
 * error *b holds nothing (bundle_free on it is harmless). */
DnaLoadError bundle_read(const uint8_t *data, size_t len, DnaBundle *b, DnaLoadResult *res);
/* Read a file and bundle_read it. */
DnaLoadError bundle_load_file(const char *path, DnaBundle *b, DnaLoadResult *res);
void bundle_free(DnaBundle *b);
const char *bundle_error_name(DnaLoadError e);

/* Build kvals from consts and the name index (arena).  Done by
 * bundle_read; tests that build a bundle by hand call it themselves.
 * Returns 0 on success. */
int bundle_prepare(DnaBundle *b);
/* The name index alone (bundle_names.c); 0, or -1 out of memory. */
typedef struct DnaNames DnaNames;
int bundle_index_names(DnaBundle *b);

/* Verify every code unit: operands in range, forward jumps inside the
 * unit, a RET at the end.  Returns 0, or -1 with a message in msg. */
int bundle_verify(const DnaBundle *b, char *msg, size_t msglen);

/* Small lookups. */
const char *bundle_str(const DnaBundle *b, uint32_t idx);   /* "" when out of range */
uint32_t bundle_find_str(const DnaBundle *b, const char *s);
uint32_t bundle_event(const DnaBundle *b, const char *name);
uint32_t bundle_entity(const DnaBundle *b, const char *name);
uint32_t bundle_slot(const DnaBundle *b, uint32_t entity, const char *name);
uint32_t bundle_event_slot(const DnaBundle *b, uint32_t event, const char *name);
uint32_t bundle_rule(const DnaBundle *b, const char *name);
/* The source location of pc, or NULL. */
const DnaSrcLoc *bundle_loc(const DnaBundle *b, uint32_t pc);

/* SHA-256 (libcrypto). */
void dna_sha256(const void *data, size_t len, uint8_t out[32]);

#endif
