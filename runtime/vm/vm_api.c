/*
 * vm_api.c - the VM's tables of names, value formatting
 * and error messages (the loop itself is vm.c).
 */
#include "vm/vm.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *vm_result_name(VmResult r)
{
    static const char *const names[] = {
        "ok", "arithmetic overflow", "division by zero", "built strings exceed the scratch buffer",
        "a value of the wrong kind", "slot out of range", "no entity lookup in this state", "no such code unit",
    };
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "?";
}

void vm_init(DnaVm *vm)
{
    memset(vm, 0, sizeof *vm);
}

void vm_error_text(const DnaVm *vm, const DnaBundle *b, char *buf, size_t len)
{
    const char *rule = "?";
    if (vm->err_unit < b->nunits) {
        uint32_t r = b->units[vm->err_unit].rule;
        if (r < b->nrules) rule = bundle_str(b, b->rules[r].name);
        else rule = "(configuration)";
    }
    const DnaSrcLoc *loc = bundle_loc(b, vm->err_pc);
    if (loc && loc->file < b->nfiles)
        snprintf(buf, len, "rule %s (%s:%u:%u): %s", rule, bundle_str(b, b->files[loc->file].path), loc->line,
                 loc->col, vm_result_name(vm->err));
    else
        snprintf(buf, len, "rule %s (pc %u): %s", rule, vm->err_pc, vm_result_name(vm->err));
}
