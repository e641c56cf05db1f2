/*
 * vm.h - the register VM that evaluates rule code.
 *
 * vm_eval() runs one code unit of a verified bundle against a state: the
 * event's payload slots and the entity's slots, each an array of
 * DnaValue reached by slot index from its base pointer (the engine owns
 * them; tests use plain arrays).  An evaluation allocates nothing: the
 * registers and the scratch buffer for built strings live in DnaVm, which
 * the caller keeps and reuses.  Results that are strings point into the
 * scratch buffer, the bundle or the state, and stay valid until the next
 * evaluation with the same DnaVm.
 *
 * Errors (overflow, division by zero, a full scratch buffer...) set a
 * result code and leave through one exit with the pc saved, so
 * vm_error_text() names the rule and its source line.
 *
 * Dispatch: computed goto where the compiler has it, else a switch;
 * vm.c is compiled twice (vm.c, vm_switch.c) and vm_eval() picks the
 * switch build when DnaVm.use_switch is set, so tests exercise both.
 */
#ifndef DNA_VM_H
#define DNA_VM_H

#include "bundle/bundle.h"
#include "bundle/opcodes.h"   /* the instruction set: VM_OP_*, VM_FMT_*, VM_BI_* */
#include "bundle/value.h"

#include <stddef.h>
#include <stdint.h>

typedef enum VmResult {
    VM_OK,
    VM_ERR_OVERFLOW,        /* integer or decimal overflow */
    VM_ERR_DIV_ZERO,
    VM_ERR_SCRATCH,         /* built strings exceed the scratch buffer */
    VM_ERR_TYPE,            /* a value of the wrong kind (state or bundle bug) */
    VM_ERR_SLOT,            /* LDF slot outside the entity's slots */
    VM_ERR_DEREF,           /* no deref callback */
    VM_ERR_UNIT,            /* no such unit */
    VM_ERR__COUNT
} VmResult;

/* What rule code can see.  Any pointer may be NULL when the unit does not
 * read it (the verifier guarantees LDE/LDS only in units that declare an
 * event / entity; slot counts are checked again here). */
typedef struct DnaState {
    const DnaValue *event;      /* the event's slots (0 id, 1 type, 2 source, 3 occurred_at, payload) */
    uint32_t nevent;
    const DnaValue *entity;     /* the evaluated entity's slots */
    uint32_t nentity;
    int64_t self;               /* its handle */
    int64_t now_ms;             /* the evaluation clock */
    /* Another entity's slots by kind and handle (DEREF); NULL result: none. */
    const DnaValue *(*deref)(void *ud, uint32_t kind, int64_t handle, uint32_t *nslots);
    /* Seconds east of UTC in time zone `tz` (a bundle string) at ts; NULL: UTC. */
    int32_t (*tz_offset)(void *ud, const char *tz, int64_t ts_ms);
    void *ud;
} DnaState;

#ifndef DNA_VM_SCRATCH
#define DNA_VM_SCRATCH 4096
#endif

typedef struct DnaVm {
    DnaValue regs[DNA_MAX_REGS];
    char scratch[DNA_VM_SCRATCH];
    uint32_t scratch_used;
    int use_switch;             /* run the switch-dispatch build */
    /* the last error */
    VmResult err;
    uint32_t err_pc, err_unit;
    /* debug builds: called before every instruction when set */
    void (*trace)(void *ud, const DnaBundle *b, uint32_t pc, const DnaValue *regs);
    void *trace_ud;
} DnaVm;

void vm_init(DnaVm *vm);
/* Evaluate unit `unit`; on VM_OK *out holds the result. */
VmResult vm_eval(DnaVm *vm, const DnaBundle *b, uint32_t unit, const DnaState *st, DnaValue *out);
/* The switch-dispatch build (vm_switch.c); vm_eval() is the goto build. */
VmResult vm_run_switch(DnaVm *vm, const DnaBundle *b, uint32_t unit, const DnaState *st, DnaValue *out);
/* Whether the goto build really uses computed goto. */
extern const int vm_has_computed_goto;

/* "rule engagement#1 (rules.dna:12:40): division by zero" */
void vm_error_text(const DnaVm *vm, const DnaBundle *b, char *buf, size_t len);
const char *vm_result_name(VmResult r);

#endif
