/*
 * vm_switch.c - the interpreter loop again, dispatching through a switch.
 *
 * The computed-goto loop is the default; this build exists so that the
 * switch fallback (what a compiler without "labels as values" gets) is
 * compiled and tested on every build: vm_eval() runs it when
 * DnaVm.use_switch is set.
 */
#define DNA_VM_SWITCH 1
#include "vm/vm.c"
