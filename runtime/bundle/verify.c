/*
 * verify.c - checking a loaded bundle before anything runs it.
 *
 * Two parts.  References: every index in every record points inside its
 * table (the lists in bundle_fields.h say which table).  Code: for every
 * unit, every operand of every instruction is in range for what the opcode
 * table (opcodes.h) says it is, every jump goes forward and stays inside
 * the unit, and the unit ends with RET.  With no backward jumps each
 * instruction runs at most once, so an evaluation is bounded by the
 * unit's length.  The VM relies on this and checks nothing of it again
 * (except LDF's slot, whose entity is only known at run time).
 */
#include "bundle/bundle.h"
#include "bundle/bundle_fields.h"
#include "bundle/opcodes.h"
#include "bundle/ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct V {
    const DnaBundle *b;
    char *msg;
    size_t msglen;
    int bad;
} V;

static int bad(V *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(V *v, const char *fmt, ...)
{
    if (v->bad++) return 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->msg, v->msglen, fmt, ap);
    va_end(ap);
    return 0;
}

static void ref(V *v, uint32_t x, uint32_t n, const char *what, const char *field, uint32_t i)
{
    if (x != DNA_NIL && x >= n) bad(v, "%s %u: %s %u is out of range (%u)", what, i, field, x, n);
}

static void range(V *v, uint32_t first, uint32_t count, uint32_t n, const char *what, uint32_t i)
{
    if (first > n || count > n - first) bad(v, "%s %u: range %u+%u is out of range (%u)", what, i, first, count, n);
}

#define CK__(x, f, w, i)
#define CK_strs(x, f, w, i)     ref(v, x, b->nstrs, w, f, i);
#define CK_consts(x, f, w, i)   ref(v, x, b->nconsts, w, f, i);
#define CK_units(x, f, w, i)    ref(v, x, b->nunits, w, f, i);
#define CK_rules(x, f, w, i)    ref(v, x, b->nrules, w, f, i);
#define CK_events(x, f, w, i)   ref(v, x, b->nevents, w, f, i);
#define CK_entities(x, f, w, i) ref(v, x, b->nentities, w, f, i);
#define CK_files(x, f, w, i)    ref(v, x, b->nfiles, w, f, i);
#define CK_jnodes(x, f, w, i)   ref(v, x, b->njnodes, w, f, i);
#define CK_connectors(x, f, w, i) ref(v, x, b->nconnectors, w, f, i);
#define CK(width, field, r) CK_##r(x->field, #field, what, i)
#define RECCHK(fn, T, LIST, WHAT) \
    static void fn(V *v, const T *x, uint32_t i) { const DnaBundle *b = v->b; const char *what = WHAT; LIST(CK) }
RECCHK(c_file, DnaFile, DNA_F_FILE, "file")
RECCHK(c_slot, DnaSlot, DNA_F_SLOT, "slot")
RECCHK(c_const, DnaConst, DNA_F_CONST, "constant")
RECCHK(c_unit, DnaUnit, DNA_F_UNIT, "unit")
RECCHK(c_rule, DnaRule, DNA_F_RULE, "rule")
RECCHK(c_arg, DnaArg, DNA_F_ARG, "argument")
RECCHK(c_signal, DnaSignal, DNA_F_SIGNAL, "signal")
RECCHK(c_opt, DnaOpt, DNA_F_OPT, "setting")
RECCHK(c_assign, DnaAssign, DNA_F_ASSIGN, "assignment")
RECCHK(c_map, DnaMap, DNA_F_MAP, "map")
RECCHK(c_member, DnaMember, DNA_F_MEMBER, "member")
RECCHK(c_step, DnaStep, DNA_F_STEP, "step")
RECCHK(c_seq, DnaSequence, DNA_F_SEQ, "sequence")
RECCHK(c_source, DnaSource, DNA_F_SOURCE, "source")
RECCHK(c_method, DnaMethod, DNA_F_METHOD, "method")
RECCHK(c_conn, DnaConnector, DNA_F_CONN, "connector")
RECCHK(c_loc, DnaSrcLoc, DNA_F_LOC, "source location")
#undef RECCHK
#undef CK

static void c_type(V *v, DnaType t, const char *what, uint32_t i)
{
    const DnaBundle *b = v->b;
    uint8_t code = t.code == DT_LIST ? t.elem : t.code;
    if (code == DT_ENUM && t.ref >= b->nenums) bad(v, "%s %u: enum %u is out of range", what, i, t.ref);
    if (code == DT_REF && t.ref >= b->nentities) bad(v, "%s %u: entity %u is out of range", what, i, t.ref);
}

static void c_slots(V *v, const DnaSlot *s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        c_slot(v, &s[i], i);
        c_type(v, s[i].type, "slot", i);
    }
}

static void c_strs(V *v, const uint32_t *s, uint32_t n, const char *what)
{
    for (uint32_t i = 0; i < n; i++)
        if (s[i] >= v->b->nstrs) bad(v, "%s: string %u is out of range", what, s[i]);
}

static void check_refs(V *v)
{
    const DnaBundle *b = v->b;
#define EACH(n, arr, fn) for (uint32_t i = 0; i < b->n; i++) fn(v, &b->arr[i], i)
    EACH(nfiles, files, c_file);
    for (uint32_t i = 0; i < b->nenums; i++) {
        ref(v, b->enums[i].name, b->nstrs, "enum", "name", i);
        c_strs(v, b->enums[i].values, b->enums[i].nvalues, "enum value");
    }
    for (uint32_t i = 0; i < b->nevents; i++) {
        ref(v, b->events[i].name, b->nstrs, "event", "name", i);
        if (b->events[i].nslots < 4) bad(v, "event %u: fewer than the 4 built-in slots", i);
        c_slots(v, b->events[i].slots, b->events[i].nslots);
    }
    for (uint32_t i = 0; i < b->nentities; i++) {
        const DnaEntity *e = &b->entities[i];
        ref(v, e->name, b->nstrs, "entity", "name", i);
        c_slots(v, e->slots, e->nslots);
        for (uint32_t j = 0; j < e->nidentity; j++) ref(v, e->identity[j], e->nslots, "entity", "identity", i);
    }
    for (uint32_t i = 0; i < b->nconsts; i++) {
        c_const(v, &b->consts[i], i);
        if (b->consts[i].type >= DT__COUNT) bad(v, "constant %u: unknown type %u", i, b->consts[i].type);
        if (b->consts[i].type == DT_STR && b->consts[i].str >= b->nstrs) bad(v, "constant %u: no string", i);
    }
    for (uint32_t i = 0; i < b->nunits; i++) {
        c_unit(v, &b->units[i], i);
        c_type(v, b->units[i].type, "unit", i);
    }
    for (uint32_t i = 0; i < b->nrules; i++) {
        const DnaRule *r = &b->rules[i];
        c_rule(v, r, i);
        if (r->kind >= DR__COUNT || r->trig >= DTR__COUNT) bad(v, "rule %u: unknown kind", i);
        if (r->entity == DNA_NIL) bad(v, "rule %u: no entity", i);
        range(v, r->arm, r->narms, b->narms, "rule", i);
    }
    for (uint32_t i = 0; i < b->narms; i++) range(v, b->arms[i].action, b->arms[i].nactions, b->nactions, "arm", i);
    for (uint32_t i = 0; i < b->nactions; i++) {
        if (b->actions[i].kind >= DACT__COUNT) bad(v, "action %u: unknown kind %u", i, b->actions[i].kind);
        range(v, b->actions[i].arg, b->actions[i].nargs, b->nargs, "action", i);
    }
    EACH(nargs, args, c_arg);
    for (uint32_t i = 0; i < b->ntriggers; i++) {
        const DnaTrigger *t = &b->triggers[i];
        if (t->kind >= DK__COUNT) bad(v, "trigger %u: unknown kind", i);
        for (uint32_t j = 0; j < t->nrules; j++) ref(v, t->rules[j], b->nrules, "trigger", "rule", i);
    }
    EACH(nsignals, signals, c_signal);
    EACH(nopts, opts, c_opt);
    for (uint32_t i = 0; i < b->njnodes; i++) {
        const DnaJNode *j = &b->jnodes[i];
        if (j->op >= DJ__COUNT) bad(v, "body expression %u: unknown op", i);
        if ((j->op == DJ_PATH || j->op == DJ_HEADER) && j->arg >= b->nstrs) bad(v, "body expression %u: no string", i);
        if (j->op == DJ_CONST && j->arg >= b->nconsts) bad(v, "body expression %u: no constant", i);
        if (j->op == DJ_BINARY && !dna_op_text(j->arg)) bad(v, "body expression %u: unknown operator %u", i, j->arg);
        if (j->op == DJ_CALL && !dna_map_builtin(j->arg))
            bad(v, "body expression %u: builtin %u cannot be evaluated in a source map", i, j->arg);
    }
    EACH(nassigns, assigns, c_assign);
    for (uint32_t i = 0; i < b->nmaps; i++) {
        c_map(v, &b->maps[i], i);
        range(v, b->maps[i].assign, b->maps[i].nassigns, b->nassigns, "map", i);
    }
    for (uint32_t i = 0; i < b->nsources; i++) {
        const DnaSource *s = &b->sources[i];
        c_source(v, s, i);
        range(v, s->opt, s->nopts, b->nopts, "source", i);
        range(v, s->map, s->nmaps, b->nmaps, "source", i);
        for (uint32_t j = 0; j < s->nevents; j++) ref(v, s->events[j], b->nevents, "source", "event", i);
    }
    for (uint32_t i = 0; i < b->nmethods; i++) {
        const DnaMethod *m = &b->methods[i];
        c_method(v, m, i);
        range(v, m->assign, m->nassigns, b->nassigns, "method", i);
        for (uint32_t j = 0; j < m->nparams; j++) ref(v, m->params[j], b->nentities, "method", "param", i);
    }
    for (uint32_t i = 0; i < b->nconnectors; i++) {
        c_conn(v, &b->connectors[i], i);
        range(v, b->connectors[i].opt, b->connectors[i].nopts, b->nopts, "connector", i);
        range(v, b->connectors[i].method, b->connectors[i].nmethods, b->nmethods, "connector", i);
    }
    for (uint32_t i = 0; i < b->nteams; i++) {
        ref(v, b->teams[i].name, b->nstrs, "team", "name", i);
        for (uint32_t j = 0; j < b->teams[i].nmembers; j++) {
            c_member(v, &b->teams[i].members[j], j);
            c_strs(v, b->teams[i].members[j].skills, b->teams[i].members[j].nskills, "skill");
        }
    }
    for (uint32_t i = 0; i < b->nsequences; i++) {
        const DnaSequence *s = &b->sequences[i];
        c_seq(v, s, i);
        range(v, s->limit, s->nlimits, b->nopts, "sequence", i);
        for (uint32_t j = 0; j < s->nsteps; j++) c_step(v, &s->steps[j], j);
    }
    for (uint32_t i = 0; i < b->nlocs; i++) {
        c_loc(v, &b->locs[i], i);
        if (i && b->locs[i].pc < b->locs[i - 1].pc) bad(v, "source map is not in pc order at entry %u", i);
    }
#undef EACH
}

/* ---- code ------------------------------------------------------------------ */

enum {
#define F(name) VF_##name,
    DNA_OPFORMATS(F)
#undef F
};

static const uint8_t op_format[] = {
#define OP(name, fmt, effect) VF_##fmt,
    DNA_OPCODES(OP)
#undef OP
};

static const struct { uint8_t nargs, allowed; } builtin_info[] = {
#define BUILTIN(name, ret, n, a1, a2, where, doc) { n, VM_WHERE_##where },
#include "stdlib/builtins.h"
#undef BUILTIN
};

static uint32_t max_entity_slots(const DnaBundle *b)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < b->nentities; i++)
        if (b->entities[i].nslots > m) m = b->entities[i].nslots;
    return m;
}

static void check_unit(V *v, uint32_t ui, uint32_t fslots)
{
    const DnaBundle *b = v->b;
    const DnaUnit *u = &b->units[ui];
    if (u->len == 0 || u->pc > b->ncode || u->len > b->ncode - u->pc) {
        bad(v, "unit %u: code range %u+%u is out of range (%u)", ui, u->pc, u->len, b->ncode);
        return;
    }
    if (u->nregs == 0 || u->nregs > DNA_MAX_REGS) { bad(v, "unit %u: %u registers", ui, u->nregs); return; }
    uint32_t end = u->pc + u->len;
    for (uint32_t pc = u->pc; pc < end && !v->bad; pc++) {
        uint32_t w = b->code[pc];
        uint32_t op = DNA_INS_OP(w), a = DNA_INS_A(w), bb = DNA_INS_B(w), c = DNA_INS_C(w), bx = DNA_INS_BX(w);
        int32_t sbx = DNA_INS_SBX(w);
        if (op >= VM_OP__COUNT) { bad(v, "unit %u pc %u: unknown opcode %u", ui, pc, op); return; }
        const char *name = bc_op_name(op);
#define REG(x) do { if ((x) >= u->nregs) { bad(v, "unit %u pc %u (%s): register %u is out of range (%u)", \
                                                ui, pc, name, (unsigned)(x), u->nregs); return; } } while (0)
        switch (op_format[op]) {
        case VF_R: REG(a); break;
        case VF_RR: REG(a); REG(bb); break;
        case VF_RRR: REG(a); REG(bb); REG(c); break;
        case VF_RRX:
            REG(a); REG(bb);
            if (c >= VM_FMT__COUNT) { bad(v, "unit %u pc %u (%s): format %u is out of range", ui, pc, name, c); return; }
            break;
        case VF_RK: case VF_RT:
            REG(a);
            if (bx >= b->nconsts) { bad(v, "unit %u pc %u (%s): constant %u is out of range (%u)", ui, pc, name, bx, b->nconsts); return; }
            if (op_format[op] == VF_RT && b->consts[bx].type != DT_STR) {
                bad(v, "unit %u pc %u (%s): constant %u is not a string", ui, pc, name, bx);
                return;
            }
            break;
        case VF_RI: REG(a); break;
        case VF_RE:
            REG(a);
            if (u->event == DNA_NIL || u->event >= b->nevents || bx >= b->events[u->event].nslots) {
                bad(v, "unit %u pc %u (%s): event slot %u is out of range", ui, pc, name, bx);
                return;
            }
            break;
        case VF_RS:
            REG(a);
            if (u->entity == DNA_NIL || u->entity >= b->nentities || bx >= b->entities[u->entity].nslots) {
                bad(v, "unit %u pc %u (%s): entity slot %u is out of range", ui, pc, name, bx);
                return;
            }
            break;
        case VF_RF:
            REG(a);
            if (bx >= fslots) { bad(v, "unit %u pc %u (%s): slot %u is out of range (%u)", ui, pc, name, bx, fslots); return; }
            break;
        case VF_RN:
            REG(a);
            if (bx >= b->nentities) { bad(v, "unit %u pc %u (%s): entity kind %u is out of range", ui, pc, name, bx); return; }
            break;
        case VF_RU:
            REG(a);
            if (bx >= b->nenums) { bad(v, "unit %u pc %u (%s): enum %u is out of range", ui, pc, name, bx); return; }
            break;
        case VF_J: case VF_RJ:
            if (op_format[op] == VF_RJ) REG(a);
            if (sbx < 0) { bad(v, "unit %u pc %u (%s): backward jump by %d", ui, pc, name, sbx); return; }
            if ((uint32_t)sbx >= end - (pc + 1)) {
                bad(v, "unit %u pc %u (%s): jump by %d leaves the unit", ui, pc, name, sbx);
                return;
            }
            break;
        case VF_RLR: {
            REG(a);
            if (bb >= VM_BUILTIN__COUNT) { bad(v, "unit %u pc %u (%s): builtin %u is out of range", ui, pc, name, bb); return; }
            if (!builtin_info[bb].allowed) {
                bad(v, "unit %u pc %u (%s): builtin %s is not allowed in rule code", ui, pc, name, bc_builtin_name(bb));
                return;
            }
            uint32_t n = builtin_info[bb].nargs;
            if (n) REG(c + n - 1);
            break;
        }
        }
#undef REG
    }
    if (!v->bad && DNA_INS_OP(b->code[end - 1]) != VM_OP_RET)
        bad(v, "unit %u: does not end with RET", ui);
}

int bundle_verify(const DnaBundle *b, char *msg, size_t msglen)
{
    char dummy[8];
    V v = { b, msg ? msg : dummy, msg ? msglen : sizeof dummy, 0 };
    v.msg[0] = 0;
    check_refs(&v);
    uint32_t fslots = max_entity_slots(b);
    for (uint32_t i = 0; i < b->nunits && !v.bad; i++) check_unit(&v, i, fslots);
    return v.bad ? -1 : 0;
}
