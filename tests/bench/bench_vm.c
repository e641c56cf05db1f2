/*
 * bench_vm.c - typical rule conditions through the VM and hand-written in C.
 *
 * Compiles a small rule set with the real compiler, then evaluates each
 * condition many times over a few rotating in-memory states: through the
 * VM (computed goto and switch) and through the same condition written in
 * C over the same slot arrays.  Prints ns/eval, allocations/eval (from
 * dna_mem_stats) and the VM/C ratio.  Goal: within 3x of C, 0 allocations.
 *
 *   bench_vm [ITERATIONS]      (default 5,000,000 per condition)
 */
#include "bench_conditions.h"

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 5000000;
    Project pr;
    DnaBundle b;
    Case cases[NCASES];
    uint32_t pv, lead;
    if (bc_setup(&pr, &b, cases, &pv, &lead)) return 1;
    DnaVm *vm = malloc(sizeof *vm);
    vm_init(vm);
    DnaState st = { NULL, b.events[pv].nslots, NULL, b.entities[lead].nslots, 1, 0, NULL, NULL, NULL };
    printf("%-28s %10s %10s %10s %8s %12s\n", "condition", "vm ns", "switch ns", "C ns", "vm/C", "allocs/eval");
    int bad = 0;
    volatile int64_t sink = 0;
    for (size_t ci = 0; ci < NCASES; ci++) {
        Case *c = &cases[ci];
        /* check that VM and C agree before timing */
        for (int k = 0; k < NSTATES; k++) {
            st.event = ev[k];
            st.entity = ld[k];
            DnaValue out;
            vm->use_switch = 0;
            if (vm_eval(vm, &b, c->unit, &st, &out) != VM_OK) { printf("vm error\n"); return 1; }
            if (!bc_agrees(c, k, &out)) {
                printf("%s: VM and C disagree on state %d\n", c->name, k);
                bad = 1;
            }
        }
        double t_vm[2];
        uint64_t allocs = 0;
        for (int sw = 0; sw < 2; sw++) {
            vm->use_switch = sw;
            uint64_t a0 = dna_mem_stats()->allocs;
            double t0 = now_ns();
            for (long i = 0; i < iters; i++) {
                int k = (int)(i & (NSTATES - 1));
                st.event = ev[k];
                st.entity = ld[k];
                DnaValue out;
                vm_eval(vm, &b, c->unit, &st, &out);
                sink += out.u.i;
            }
            t_vm[sw] = (now_ns() - t0) / (double)iters;
            allocs += dna_mem_stats()->allocs - a0;
        }
        double t0 = now_ns();
        for (long i = 0; i < iters; i++) sink += c->c((int)(i & (NSTATES - 1)));
        double t_c = (now_ns() - t0) / (double)iters;
        printf("%-28s %10.2f %10.2f %10.2f %7.2fx %12.3f\n", c->name, t_vm[0], t_vm[1], t_c, t_vm[0] / t_c,
               (double)allocs / (2.0 * (double)iters));
    }
    (void)sink;
    free(vm);
    bundle_free(&b);
    proj_free(&pr);
    return bad;
}
