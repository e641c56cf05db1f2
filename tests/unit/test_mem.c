/*
 * test_mem.c - base/mem.h's hook: the unsized allocations (a size header),
 * and SQLite and libcurl allocating through the hook once routed.
 */
#include "base/mem.h"
#include "deliver/deliver.h"
#include "store/db_sqlite.h"
#include "check_macros.h"

#include <curl/curl.h>
#include <stdint.h>

int main(void)
{
    MemStats *ms = dna_mem_stats();
    uint64_t live0 = ms->bytes_live, n0 = ms->allocs;

    char *s = dna_ustrdup("hello");
    CHECK(s && !strcmp(s, "hello"));
    CHECK_EQ_I(dna_usize(s), 6);
    s = dna_urealloc(s, 4096);
    CHECK(s && !strcmp(s, "hello"));
    CHECK_EQ_I(dna_usize(s), 4096);
    CHECK(((uintptr_t)s & 15) == 0);
    int *z = dna_ucalloc(100, sizeof *z);
    int zero = 1;
    for (int i = 0; z && i < 100; i++) zero &= z[i] == 0;
    CHECK(z && zero);
    CHECK(dna_ucalloc(SIZE_MAX / 2, 4) == NULL);
    CHECK(dna_calloc(SIZE_MAX / 2, 4) == NULL);
    CHECK(dna_umalloc(SIZE_MAX - 8) == NULL);
    dna_ufree(s);
    dna_ufree(z);
    dna_ufree(NULL);
    CHECK_EQ_I(ms->bytes_live, live0);
    CHECK(ms->allocs > n0);
    ms->fail_after = 1;                         /* the next one fails */
    CHECK(dna_ustrdup("x") == NULL);
    CHECK_EQ_I(ms->bytes_live, live0);

    /* SQLite through the hook: its allocations are counted, and returned */
    CHECK_EQ_I(db_use_dna_alloc(), 0);
    uint64_t a0 = ms->allocs;
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (randomblob(100000));", NULL, NULL, NULL) == SQLITE_OK);
    CHECK(ms->allocs > a0);
    CHECK(ms->bytes_live > live0 + 100000);
    sqlite3_close(db);
    /* libcurl through the hook */
    CHECK_EQ_I(dlv_global_init(), 0);
    uint64_t c0 = ms->allocs;
    CURL *h = curl_easy_init();
    CHECK(h != NULL);
    CHECK(ms->allocs > c0);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    sqlite3_shutdown();
    CHECK_EQ_I(ms->bytes_live, live0);
    return check_report("test_mem");
}
