/*
 * disasm.c - printing a bundle readably (dnac disasm).
 *
 * Schema, constants, then every rule with its trigger, options and the
 * code of each of its units: one instruction per line with its operands
 * decoded from the opcode table (opcodes.h), constants and slots by name,
 * jump targets as absolute pcs, and the source location beside the first
 * instruction of each line of source (with the line's text when the
 * caller can supply it).  Configuration (sources, connectors, teams,
 * sequences, signals) and the trigger index close it.  Output depends only
 * on the bundle (and the source text callback), so it can be a golden file.
 */
#include "bundle/disasm.h"
#include "bundle/opcodes.h"
#include "bundle/ops.h"

#include <inttypes.h>
#include <string.h>

enum {
#define F(name) DF_##name,
    DNA_OPFORMATS(F)
#undef F
};

static const uint8_t op_format[] = {
#define OP(name, fmt, effect) DF_##fmt,
    DNA_OPCODES(OP)
#undef OP
};

static const char *const type_names[] = { "void", "bool", "int", "decimal", "string", "duration", "timestamp",
                                          "time", "enum", "ref", "list", "json" };
static const char *const rule_kinds[] = { "score", "intent", "signal", "route", "workflow", "derive" };
static const char *const trig_names[] = { "on", "on changed", "on created", "crosses above", "crosses below",
                                          "becomes", "changes", "stays", "inactive", "alert overdue",
                                          "schedule", "state" };
static const char *const windows[] = { "", "day", "week", "month", "lifetime" };
static const char *const decays[] = { "", "expire", "decay linear", "decay half_life" };
static const char *const modes[] = { "live", "approval", "shadow" };
static const char *const arm_kinds[] = { "arm", "_", "else", "do" };
static const char *const key_names[] = { "event", "field", "changed", "created", "timer stays", "timer inactive",
                                         "alert overdue", "schedule", "route", "derive" };
static const char *const prios[] = { "critical", "high", "medium", "low" };

#define NAMEOF(arr, i) ((unsigned)(i) < sizeof arr / sizeof *arr ? arr[i] : "?")

typedef struct Dis {
    const DnaBundle *b;
    FILE *out;
    DisLineFn line;
    void *ud;
    uint8_t *printed;           /* per unit */
} Dis;

static const char *S(const Dis *d, uint32_t i) { return i == DNA_NIL ? "-" : bundle_str(d->b, i); }

static void type_text(const Dis *d, DnaType t, char *buf, size_t len)
{
    const char *base = NAMEOF(type_names, t.code);
    if (t.code == DT_ENUM && t.ref < d->b->nenums) base = S(d, d->b->enums[t.ref].name);
    if (t.code == DT_REF && t.ref < d->b->nentities) base = S(d, d->b->entities[t.ref].name);
    if (t.code == DT_LIST) snprintf(buf, len, "[%s]%s", NAMEOF(type_names, t.elem), t.optional ? "?" : "");
    else if (t.code == DT_ENUM) snprintf(buf, len, "enum %s%s", base, t.optional ? "?" : "");
    else snprintf(buf, len, "%s%s", base, t.optional ? "?" : "");
}

static void quoted(FILE *out, const char *s, uint32_t n)
{
    fputc('"', out);
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c == '\n') fputs("\\n", out);
        else if (c < 0x20) fprintf(out, "\\x%02x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

static void const_text(const Dis *d, uint32_t k)
{
    if (k >= d->b->nconsts) { fputs("?", d->out); return; }
    const DnaConst *c = &d->b->consts[k];
    char buf[64];
    switch (c->type) {
    case DT_STR: quoted(d->out, bundle_str(d->b, c->str), c->str < d->b->nstrs ? d->b->strs[c->str].len : 0); return;
    case DT_DEC: { int n = bc_format(buf, sizeof buf - 1, VM_FMT_DEC, c->i); buf[n < 0 ? 0 : n] = 0; fputs(buf, d->out); return; }
    case DT_DUR: { int n = bc_format(buf, sizeof buf - 1, VM_FMT_DUR, c->i); buf[n < 0 ? 0 : n] = 0; fputs(buf, d->out); return; }
    case DT_TOD: { int n = bc_format(buf, sizeof buf - 1, VM_FMT_TOD, c->i); buf[n < 0 ? 0 : n] = 0; fputs(buf, d->out); return; }
    case DT_TS: { int n = bc_format(buf, sizeof buf - 1, VM_FMT_TS, c->i); buf[n < 0 ? 0 : n] = 0; fputs(buf, d->out); return; }
    case DT_BOOL: fputs(c->i ? "true" : "false", d->out); return;
    case DT_VOID: fputs("none", d->out); return;
    default: fprintf(d->out, "%" PRId64, c->i); return;
    }
}

static const char *dur(int64_t ms, char *buf)
{
    int n = bc_format(buf, 40, VM_FMT_DUR, ms);
    buf[n < 0 ? 0 : n] = 0;
    return buf;
}

static const char *slot_name(const Dis *d, uint32_t entity, uint32_t slot)
{
    if (entity >= d->b->nentities || slot >= d->b->entities[entity].nslots) return "?";
    return S(d, d->b->entities[entity].slots[slot].name);
}

static void unit_code(Dis *d, uint32_t ui, const char *indent)
{
    const DnaBundle *b = d->b;
    if (ui >= b->nunits) { fprintf(d->out, "%s(no code)\n", indent); return; }
    const DnaUnit *u = &b->units[ui];
    d->printed[ui] = 1;
    char ty[96];
    type_text(d, u->type, ty, sizeof ty);
    fprintf(d->out, "%sunit %u -> %s, %u register%s%s%s\n", indent, ui, ty, u->nregs, u->nregs == 1 ? "" : "s",
            u->tz != DNA_NIL ? ", tz " : "", u->tz != DNA_NIL ? S(d, u->tz) : "");
    uint32_t deref_kind[DNA_MAX_REGS];
    for (int i = 0; i < DNA_MAX_REGS; i++) deref_kind[i] = DNA_NIL;
    const DnaSrcLoc *last = NULL;
    for (uint32_t pc = u->pc; pc < u->pc + u->len && pc < b->ncode; pc++) {
        uint32_t w = b->code[pc];
        unsigned op = DNA_INS_OP(w), a = DNA_INS_A(w), bb = DNA_INS_B(w), c = DNA_INS_C(w), bx = DNA_INS_BX(w);
        int sbx = DNA_INS_SBX(w);
        char ops[160];
        int n = 0;
        const char *note = NULL;
        if (op >= VM_OP__COUNT) { fprintf(d->out, "%s  %04u  ??? %08x\n", indent, pc, w); continue; }
        switch (op_format[op]) {
        case DF_R: n = snprintf(ops, sizeof ops, "r%u", a); break;
        case DF_RR: n = snprintf(ops, sizeof ops, "r%u, r%u", a, bb); break;
        case DF_RRR: n = snprintf(ops, sizeof ops, "r%u, r%u, r%u", a, bb, c); break;
        case DF_RRX: n = snprintf(ops, sizeof ops, "r%u, r%u, %s", a, bb, bc_fmt_name(c)); break;
        case DF_RK: case DF_RT: n = snprintf(ops, sizeof ops, "r%u, k%u", a, bx); note = "k"; break;
        case DF_RI: n = snprintf(ops, sizeof ops, "r%u, %d", a, sbx); break;
        case DF_RE: {
            const char *sn = u->event < b->nevents && bx < b->events[u->event].nslots
                           ? S(d, b->events[u->event].slots[bx].name) : "?";
            n = snprintf(ops, sizeof ops, "r%u, event.%s", a, sn);
            break;
        }
        case DF_RS:
            n = snprintf(ops, sizeof ops, "r%u, %s.%s", a, u->entity < b->nentities ? S(d, b->entities[u->entity].name) : "?",
                         slot_name(d, u->entity, bx));
            break;
        case DF_RN:
            n = snprintf(ops, sizeof ops, "r%u, %s", a, bx < b->nentities ? S(d, b->entities[bx].name) : "?");
            deref_kind[a] = bx;
            break;
        case DF_RF:
            n = snprintf(ops, sizeof ops, "r%u, .%s", a, slot_name(d, deref_kind[a], bx));
            deref_kind[a] = DNA_NIL;
            break;
        case DF_RU: n = snprintf(ops, sizeof ops, "r%u, %s", a, bx < b->nenums ? S(d, b->enums[bx].name) : "?"); break;
        case DF_J: n = snprintf(ops, sizeof ops, "-> %04d", (int)pc + 1 + sbx); break;
        case DF_RJ: n = snprintf(ops, sizeof ops, "r%u, -> %04d", a, (int)pc + 1 + sbx); break;
        case DF_RLR: {
            unsigned na = bc_builtin_nargs(bb);
            if (na == 0) n = snprintf(ops, sizeof ops, "r%u, %s()", a, bc_builtin_name(bb));
            else if (na == 1) n = snprintf(ops, sizeof ops, "r%u, %s(r%u)", a, bc_builtin_name(bb), c);
            else n = snprintf(ops, sizeof ops, "r%u, %s(r%u, r%u)", a, bc_builtin_name(bb), c, c + 1);
            break;
        }
        }
        (void)n;
        fprintf(d->out, "%s  %04u  %-9s %s", indent, pc, bc_op_name(op), ops);
        if (note) { fputs("  ; ", d->out); const_text(d, bx); }
        const DnaSrcLoc *l = bundle_loc(b, pc);
        if (l && l != last && (!last || l->line != last->line || l->file != last->file)) {
            const char *path = l->file < b->nfiles ? S(d, b->files[l->file].path) : "?";
            fprintf(d->out, "%s; %s:%u:%u", note ? "  " : "  ", path, l->line, l->col);
            const char *text = d->line ? d->line(d->ud, path, l->line) : NULL;
            if (text) {
                while (*text == ' ' || *text == '\t') text++;
                size_t tl = strcspn(text, "\n");
                if (tl > 72) tl = 72;
                fprintf(d->out, "  %.*s", (int)tl, text);
            }
            last = l;
        }
        fputc('\n', d->out);
    }
}

static void named_unit(Dis *d, const char *what, uint32_t ui, const char *indent)
{
    if (ui == DNA_NIL) return;
    fprintf(d->out, "%s%s:\n", indent, what);
    char ind[64];
    snprintf(ind, sizeof ind, "%.48s  ", indent);
    unit_code(d, ui, ind);
}

static void action_text(Dis *d, uint32_t ai, uint32_t entity, const char *indent)
{
    const DnaBundle *b = d->b;
    if (ai >= b->nactions) return;
    const DnaAction *a = &b->actions[ai];
    fprintf(d->out, "%saction %s", indent, bundle_action_name(a->kind));
    if (a->ref != DNA_NIL) {
        const char *what = "?";
        switch (a->kind) {
        case 0: case 1: what = slot_name(d, entity, a->ref); break;
        case 2: what = a->ref < b->nteams ? S(d, b->teams[a->ref].name) : "?"; break;
        case 5: what = a->ref < b->nentities ? S(d, b->entities[a->ref].name) : "?"; break;
        case 7: case 8: case 9: what = a->ref < b->nconnectors ? S(d, b->connectors[a->ref].name) : "?"; break;
        case 10: what = a->ref < b->nsequences ? S(d, b->sequences[a->ref].name) : "?"; break;
        case 11: what = a->ref < b->nevents ? S(d, b->events[a->ref].name) : "?"; break;
        }
        fprintf(d->out, " %s", what);
    }
    if (a->ref2 != DNA_NIL) {
        if (a->kind == DACT_CALL) fprintf(d->out, ".%s", a->ref2 < b->nmethods ? S(d, b->methods[a->ref2].name) : "?");
        else fprintf(d->out, " %s", S(d, a->ref2));
    }
    fputc('\n', d->out);
    char ind[64];
    snprintf(ind, sizeof ind, "%.48s  ", indent);
    for (uint32_t i = a->arg; i < a->arg + a->nargs && i < b->nargs; i++) {
        const DnaArg *g = &b->args[i];
        if (g->konst != DNA_NIL) {
            fprintf(d->out, "%s%s = ", ind, S(d, g->key));
            const_text(d, g->konst);
            fputc('\n', d->out);
        } else named_unit(d, S(d, g->key), g->unit, ind);
    }
}

static void rule_text(Dis *d, uint32_t ri)
{
    const DnaBundle *b = d->b;
    const DnaRule *r = &b->rules[ri];
    const char *ent = r->entity < b->nentities ? S(d, b->entities[r->entity].name) : "?";
    fprintf(d->out, "\nrule %u %s: %s for %s", ri, S(d, r->name), NAMEOF(rule_kinds, r->kind), ent);
    if (r->file < b->nfiles) fprintf(d->out, "  (%s:%u:%u)", S(d, b->files[r->file].path), r->line, r->col);
    fputc('\n', d->out);
    fprintf(d->out, "  trigger %s", NAMEOF(trig_names, r->trig));
    if (r->trig == DTR_EVENT && r->event < b->nevents) fprintf(d->out, " %s", S(d, b->events[r->event].name));
    if (r->watch != DNA_NIL) fprintf(d->out, " %s.%s", ent, slot_name(d, r->entity, r->watch));
    char db[48];
    if (r->duration_ms) fprintf(d->out, " for %s", dur(r->duration_ms, db));
    if (r->schedule != DNA_NIL) fprintf(d->out, " \"%s\"", S(d, r->schedule));
    fprintf(d->out, "  priority %" PRId64, r->priority);
    if (r->kind == DR_WORKFLOW) fprintf(d->out, "  mode %s", NAMEOF(modes, r->mode));
    fputc('\n', d->out);
    if (r->target != DNA_NIL) {
        if (r->kind == DR_SIGNAL || r->kind == DR_WORKFLOW)
            fprintf(d->out, "  signal %s\n", r->target < b->nsignals ? S(d, b->signals[r->target].name) : "?");
        else fprintf(d->out, "  adds to %s.%s\n", ent, slot_name(d, r->entity, r->target));
    }
    if (r->limit) fprintf(d->out, "  limit %u per %s\n", r->limit, NAMEOF(windows, r->window));
    if (r->decay) fprintf(d->out, "  %s %s\n", NAMEOF(decays, r->decay), dur(r->decay_ms, db));
    named_unit(d, "when", r->cond, "  ");
    named_unit(d, r->kind == DR_ROUTE ? "match" : r->kind == DR_WORKFLOW ? "value" :
                  r->kind == DR_DERIVE ? "value" : "points", r->value, "  ");
    for (uint32_t i = r->arm; i < r->arm + r->narms && i < b->narms; i++) {
        const DnaArm *a = &b->arms[i];
        fprintf(d->out, "  %s", NAMEOF(arm_kinds, a->kind));
        if (a->kind == DA_MATCH) fprintf(d->out, " %u", a->pattern);
        fputs(":\n", d->out);
        for (uint32_t k = a->action; k < a->action + a->nactions; k++) action_text(d, k, r->entity, "    ");
    }
}

static void slots_text(Dis *d, const DnaSlot *s, uint32_t n)
{
    static const char *const kinds[] = { "builtin", "payload", "identity", "declared", "derived", "score",
                                         "component", "intent", "intent", "intent", "intent", "touch" };
    for (uint32_t i = 0; i < n; i++) {
        char ty[96];
        type_text(d, s[i].type, ty, sizeof ty);
        fprintf(d->out, "    %3u %-24s %-22s %s", i, S(d, s[i].name), ty, NAMEOF(kinds, s[i].kind));
        if (s[i].dflt != DNA_NIL) { fputs(" = ", d->out); const_text(d, s[i].dflt); }
        fputc('\n', d->out);
    }
}

static void opts_text(Dis *d, uint32_t first, uint32_t n, const char *indent)
{
    for (uint32_t i = first; i < first + n && i < d->b->nopts; i++) {
        const DnaOpt *o = &d->b->opts[i];
        fprintf(d->out, "%s%s", indent, S(d, o->key));
        if (o->word != DNA_NIL) fprintf(d->out, " %s", S(d, o->word));
        if (o->env != DNA_NIL) fprintf(d->out, " env(%s)", S(d, o->env));
        if (o->konst != DNA_NIL) { fputc(' ', d->out); const_text(d, o->konst); }
        fputc('\n', d->out);
    }
}

static void jexpr_text(Dis *d, uint32_t *i)
{
    const DnaBundle *b = d->b;
    if (*i >= b->njnodes) { fputs("?", d->out); return; }
    const DnaJNode *j = &b->jnodes[(*i)++];
    switch (j->op) {
    case DJ_PATH: fprintf(d->out, "body%s%s", j->arg < b->nstrs && b->strs[j->arg].len ? "." : "", S(d, j->arg)); break;
    case DJ_CONST: const_text(d, j->arg); break;
    case DJ_HEADER: fprintf(d->out, "header(\"%s\")", S(d, j->arg)); break;
    case DJ_NOT: fputs("not(", d->out); jexpr_text(d, i); fputc(')', d->out); break;
    case DJ_BINARY: {
        const char *op = dna_op_text(j->arg);
        fputc('(', d->out);
        jexpr_text(d, i);
        fprintf(d->out, " %s ", op ? op : "?");
        jexpr_text(d, i);
        fputc(')', d->out);
        break;
    }
    case DJ_CALL:
        fprintf(d->out, "%s(", bc_builtin_name(j->arg));
        for (unsigned k = 0; k < j->n; k++) { if (k) fputs(", ", d->out); jexpr_text(d, i); }
        fputc(')', d->out);
        break;
    default: fputs("?", d->out);
    }
}

void dis_bundle(const DnaBundle *b, FILE *out, DisLineFn line, void *ud)
{
    Dis d = { b, out, line, ud, dna_malloc(b->nunits + 1) };
    if (!d.printed) return;
    memset(d.printed, 0, b->nunits + 1);
    fprintf(out, "; dna bundle, format %u\n; sources sha256 ", b->version);
    for (int i = 0; i < 32; i++) fprintf(out, "%02x", b->source_hash[i]);
    fprintf(out, "\n; %u rules, %u units, %u instructions, %u constants\n", b->nrules, b->nunits, b->ncode, b->nconsts);
    fputs("\nfiles:\n", out);
    for (uint32_t i = 0; i < b->nfiles; i++) fprintf(out, "  %u %s%s\n", i, S(&d, b->files[i].path), b->files[i].stdlib ? " (stdlib)" : "");
    if (b->nenums) fputs("\nenums:\n", out);
    for (uint32_t i = 0; i < b->nenums; i++) {
        fprintf(out, "  %u %s:", i, S(&d, b->enums[i].name));
        for (uint32_t k = 0; k < b->enums[i].nvalues; k++) fprintf(out, " %u=%s", k, S(&d, b->enums[i].values[k]));
        fputc('\n', out);
    }
    if (b->nevents) fputs("\nevents:\n", out);
    for (uint32_t i = 0; i < b->nevents; i++) {
        fprintf(out, "  %u %s\n", i, S(&d, b->events[i].name));
        slots_text(&d, b->events[i].slots, b->events[i].nslots);
    }
    if (b->nentities) fputs("\nentities:\n", out);
    for (uint32_t i = 0; i < b->nentities; i++) {
        const DnaEntity *e = &b->entities[i];
        fprintf(out, "  %u %s  identity", i, S(&d, e->name));
        for (uint32_t k = 0; k < e->nidentity; k++) fprintf(out, " %s", slot_name(&d, i, e->identity[k]));
        fputc('\n', out);
        slots_text(&d, e->slots, e->nslots);
    }
    if (b->nconsts) fputs("\nconstants:\n", out);
    for (uint32_t i = 0; i < b->nconsts; i++) {
        fprintf(out, "  k%-4u %-9s ", i, NAMEOF(type_names, b->consts[i].type));
        const_text(&d, i);
        fputc('\n', out);
    }
    for (uint32_t i = 0; i < b->nrules; i++) rule_text(&d, i);
    if (b->nsignals) fputs("\nsignals:\n", out);
    for (uint32_t i = 0; i < b->nsignals; i++) {
        const DnaSignal *s = &b->signals[i];
        char d1[48], d2[48];
        fprintf(out, "  %s for %s  priority %s  decay %s  sla %s\n", S(&d, s->name),
                s->entity < b->nentities ? S(&d, b->entities[s->entity].name) : "?", NAMEOF(prios, s->priority),
                dur(s->decay_ms, d1), dur(s->sla_ms, d2));
        named_unit(&d, "weight", s->weight, "    ");
    }
    if (b->nsources) fputs("\nsources:\n", out);
    for (uint32_t i = 0; i < b->nsources; i++) {
        const DnaSource *s = &b->sources[i];
        fprintf(out, "  %s\n", S(&d, s->name));
        opts_text(&d, s->opt, s->nopts, "    ");
        for (uint32_t k = 0; k < s->nevents; k++)
            fprintf(out, "    event %s\n", s->events[k] < b->nevents ? S(&d, b->events[s->events[k]].name) : "?");
        for (uint32_t m = s->map; m < s->map + s->nmaps && m < b->nmaps; m++) {
            const DnaMap *mp = &b->maps[m];
            fprintf(out, "    map %s", mp->event < b->nevents ? S(&d, b->events[mp->event].name) : "?");
            if (mp->when != DNA_NIL) { uint32_t j = mp->when; fputs(" when ", out); jexpr_text(&d, &j); }
            fputc('\n', out);
            for (uint32_t a = mp->assign; a < mp->assign + mp->nassigns && a < b->nassigns; a++) {
                uint32_t j = b->assigns[a].expr;
                fprintf(out, "      %s = ", S(&d, b->assigns[a].target));
                jexpr_text(&d, &j);
                fputc('\n', out);
            }
        }
    }
    if (b->nconnectors) fputs("\nconnectors:\n", out);
    for (uint32_t i = 0; i < b->nconnectors; i++) {
        const DnaConnector *c = &b->connectors[i];
        fprintf(out, "  %s %s\n", S(&d, c->name), S(&d, c->kind));
        opts_text(&d, c->opt, c->nopts, "    ");
        for (uint32_t m = c->method; m < c->method + c->nmethods && m < b->nmethods; m++) {
            const DnaMethod *mt = &b->methods[m];
            fprintf(out, "    method %u %s(", m, S(&d, mt->name));
            for (uint32_t k = 0; k < mt->nparams; k++)
                fprintf(out, "%s%s", k ? ", " : "", mt->params[k] < b->nentities ? S(&d, b->entities[mt->params[k]].name) : "?");
            fprintf(out, ") %s\n", S(&d, mt->verb));
            named_unit(&d, "path", mt->path, "      ");
        }
    }
    if (b->nteams) fputs("\nteams:\n", out);
    for (uint32_t i = 0; i < b->nteams; i++) {
        const DnaTeam *t = &b->teams[i];
        fprintf(out, "  %s\n", S(&d, t->name));
        for (uint32_t k = 0; k < t->nmembers; k++) {
            const DnaMember *m = &t->members[k];
            fprintf(out, "    member %s", S(&d, m->email));
            if (m->region != DNA_NIL) fprintf(out, " region %s", S(&d, m->region));
            if (m->max) fprintf(out, " max %" PRId64, m->max);
            if (m->weight) fprintf(out, " weight %" PRId64, m->weight);
            for (uint32_t s = 0; s < m->nskills; s++) fprintf(out, "%s%s", s ? "," : " skills ", S(&d, m->skills[s]));
            fputc('\n', out);
        }
    }
    if (b->nsequences) fputs("\nsequences:\n", out);
    for (uint32_t i = 0; i < b->nsequences; i++) {
        const DnaSequence *q = &b->sequences[i];
        fprintf(out, "  %s for %s\n", S(&d, q->name), q->entity < b->nentities ? S(&d, b->entities[q->entity].name) : "?");
        for (uint32_t k = 0; k < q->nsteps; k++) {
            const DnaStep *s = &q->steps[k];
            char d1[48];
            fprintf(out, "    step %s via %s wait %s\n", S(&d, s->channel),
                    s->via < b->nconnectors ? S(&d, b->connectors[s->via].name) : "?", dur(s->wait_ms, d1));
            named_unit(&d, "template", s->tmpl, "      ");
        }
        opts_text(&d, q->limit, q->nlimits, "    limit ");
        if (q->day_from)
            fprintf(out, "    window %u..%u %02u:%02u..%02u:%02u %s\n", q->day_from, q->day_to, q->from_min / 60,
                    q->from_min % 60, q->to_min / 60, q->to_min % 60, S(&d, q->tz));
        named_unit(&d, "exit when", q->exit_when, "    ");
        if (q->exit_event != DNA_NIL) fprintf(out, "    exit on %s\n", S(&d, b->events[q->exit_event].name));
    }
    fputs("\ntrigger index:\n", out);
    for (uint32_t i = 0; i < b->ntriggers; i++) {
        const DnaTrigger *t = &b->triggers[i];
        fprintf(out, "  %-14s ", NAMEOF(key_names, t->kind));
        if (t->kind == DK_EVENT) fprintf(out, "%s", t->a < b->nevents ? S(&d, b->events[t->a].name) : "?");
        else {
            fprintf(out, "%s", t->a < b->nentities ? S(&d, b->entities[t->a].name) : "?");
            if (t->kind == DK_FIELD) fprintf(out, ".%s", slot_name(&d, t->a, t->b));
        }
        fputs(" ->", out);
        for (uint32_t k = 0; k < t->nrules; k++)
            fprintf(out, " %s", t->rules[k] < b->nrules ? S(&d, b->rules[t->rules[k]].name) : "?");
        fputc('\n', out);
    }
    int header = 0;
    for (uint32_t i = 0; i < b->nunits; i++) {
        if (d.printed[i]) continue;
        if (!header++) fputs("\nother units:\n", out);
        unit_code(&d, i, "  ");
    }
    dna_free(d.printed, b->nunits + 1);
}
