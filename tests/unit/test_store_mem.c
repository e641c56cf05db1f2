/*
 * test_store_mem.c - the in-memory store's set of event ids seen
 * (store_mem.c): exact both ways over growth, ids that differ only in
 * length, in a NUL byte or in their last byte, long ids (two-byte
 * lengths), the empty id, and its size per id.
 */
#include "engine/state.h"
#include "check_macros.h"

#include <stdio.h>
#include <string.h>

int main(void)
{
    Store *st = store_mem_new();
    CHECK(st != NULL);
    if (!st) return check_report("store_mem");
    const StoreOps *o = st->ops;
    char id[300];
    int wrong = 0;
    const uint32_t n = 300000;
    uint64_t before = store_mem_bytes(st);
    for (uint32_t i = 0; i < n; i++) {              /* new ids are new, through every growth */
        int len = snprintf(id, sizeof id, "evt_%08u", i);
        wrong += o->seen_event(st, id, (uint32_t)len) != 0;
    }
    CHECK_EQ_I(wrong, 0);
    uint64_t per_id = (store_mem_bytes(st) - before) / n;
    CHECK_MSG(per_id <= 24, "more than 24 bytes per 12-byte id");
    wrong = 0;
    for (uint32_t i = 0; i < n; i++) {              /* and every one is seen again */
        int len = snprintf(id, sizeof id, "evt_%08u", i);
        wrong += o->seen_event(st, id, (uint32_t)len) != 1;
    }
    CHECK_EQ_I(wrong, 0);
    wrong = 0;
    for (uint32_t i = 0; i < 1000; i++) {           /* neighbours of seen ids are not seen */
        int len = snprintf(id, sizeof id, "evt_%08u", i * 10);
        wrong += o->seen_event(st, id, (uint32_t)len - 1) != 0;     /* a prefix: "evt_0000001" of "evt_00000010" */
        id[len] = 0;
        wrong += o->seen_event(st, id, (uint32_t)len + 1) != 0;     /* with a NUL byte after it */
        id[len] = 'x';
        wrong += o->seen_event(st, id, (uint32_t)len + 1) != 0;     /* one byte more */
    }
    CHECK_EQ_I(wrong, 0);
    CHECK_EQ_I(o->seen_event(st, "", 0), 0);
    CHECK_EQ_I(o->seen_event(st, "", 0), 1);
    memset(id, 'q', sizeof id);                     /* 200 and 201 bytes: lengths past one varint byte */
    CHECK_EQ_I(o->seen_event(st, id, 200), 0);
    CHECK_EQ_I(o->seen_event(st, id, 201), 0);
    CHECK_EQ_I(o->seen_event(st, id, 200), 1);
    CHECK_EQ_I(o->seen_event(st, id, 201), 1);
    o->free(st);
    return check_report("store_mem");
}
