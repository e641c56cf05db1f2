/*
 * fault_vfs.c - fault injection for dnad's SQLite store, in the SQLite
 * style: a VFS over the default one that fails the Nth write, sync or
 * read of the database and its WAL with an I/O error or "disk full".
 *
 * Loaded into dnad with LD_PRELOAD (tests/serve/fault.sh); its constructor
 * registers the shim as the default VFS, so the daemon runs unchanged.
 * Configured from the environment:
 *
 *   DNA_FAULT_OP      write | sync | read       (unset: count only)
 *   DNA_FAULT_N       the operation that fails, from 1, counted over the
 *                     process (all connections, the database and the WAL)
 *   DNA_FAULT_ERR     ioerr (default) | full
 *   DNA_FAULT_STICKY  1: the Nth and every one after fail (a dead disk)
 *   DNA_FAULT_LOG     a file: "fault OP N" when it fires, and at exit the
 *                     counts "count write W sync S read R"
 */
#include <sqlite3.h>

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct FFile {
    sqlite3_file base;              /* pMethods: the shim's */
    int counted;                    /* the database or its WAL */
    sqlite3_file *real;             /* right after this struct */
} FFile;

enum { OP_NONE, OP_WRITE, OP_SYNC, OP_READ };

static sqlite3_vfs *g_real;
static sqlite3_vfs g_vfs;
static sqlite3_io_methods g_io;
static int g_op, g_err = SQLITE_IOERR, g_sticky;
static long g_n;
static atomic_long g_count[4];
static const char *g_log;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
    if (!g_log) return;
    FILE *f = fopen(g_log, "a");
    if (!f) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fclose(f);
}

static const char *const op_names[] = { "none", "write", "sync", "read" };

/* Count one operation of kind op; 1 if it must fail. */
static int hit(FFile *f, int op)
{
    if (!f->counted) return 0;
    long k = atomic_fetch_add(&g_count[op], 1) + 1;
    if (op != g_op || !(k == g_n || (g_sticky && k > g_n))) return 0;
    if (k == g_n) note("fault %s %ld%s\n", op_names[op], k, g_sticky ? " and after" : "");
    return 1;
}

static int err_for(int op)
{
    if (g_err == SQLITE_FULL && op == OP_WRITE) return SQLITE_FULL;
    return op == OP_WRITE ? SQLITE_IOERR_WRITE : op == OP_SYNC ? SQLITE_IOERR_FSYNC : SQLITE_IOERR_READ;
}

#define REAL(f) (((FFile *)(f))->real)

static int f_close(sqlite3_file *f) { int rc = REAL(f)->pMethods->xClose(REAL(f)); return rc; }
static int f_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    if (hit((FFile *)f, OP_READ)) return err_for(OP_READ);
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int f_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    if (hit((FFile *)f, OP_WRITE)) return err_for(OP_WRITE);
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size) { return REAL(f)->pMethods->xTruncate(REAL(f), size); }
static int f_sync(sqlite3_file *f, int flags)
{
    if (hit((FFile *)f, OP_SYNC)) return err_for(OP_SYNC);
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size) { return REAL(f)->pMethods->xFileSize(REAL(f), size); }
static int f_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int f_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int f_reserved(sqlite3_file *f, int *out) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out); }
static int f_fcntl(sqlite3_file *f, int op, void *arg) { return REAL(f)->pMethods->xFileControl(REAL(f), op, arg); }
static int f_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int f_devchar(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int f_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, ext, pp);
}
static int f_shmlock(sqlite3_file *f, int off, int n, int flags) { return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags); }
static void f_shmbarrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int f_shmunmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp) { return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp); }
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) { return REAL(f)->pMethods->xUnfetch(REAL(f), off, p); }

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out)
{
    (void)vfs;
    FFile *f = (FFile *)file;
    f->real = (sqlite3_file *)(f + 1);
    f->counted = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) != 0;
    int rc = g_real->xOpen(g_real, name, f->real, flags, out);
    /* without methods SQLite calls no xClose: the real file is not open */
    f->base.pMethods = f->real->pMethods ? &g_io : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *v, const char *n, int sync) { (void)v; return g_real->xDelete(g_real, n, sync); }
static int v_access(sqlite3_vfs *v, const char *n, int fl, int *out) { (void)v; return g_real->xAccess(g_real, n, fl, out); }
static int v_full(sqlite3_vfs *v, const char *n, int len, char *out) { (void)v; return g_real->xFullPathname(g_real, n, len, out); }
static void *v_dlopen(sqlite3_vfs *v, const char *n) { (void)v; return g_real->xDlOpen(g_real, n); }
static void v_dlerror(sqlite3_vfs *v, int n, char *m) { (void)v; g_real->xDlError(g_real, n, m); }
static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *s))(void) { (void)v; return g_real->xDlSym(g_real, h, s); }
static void v_dlclose(sqlite3_vfs *v, void *h) { (void)v; g_real->xDlClose(g_real, h); }
static int v_random(sqlite3_vfs *v, int n, char *out) { (void)v; return g_real->xRandomness(g_real, n, out); }
static int v_sleep(sqlite3_vfs *v, int us) { (void)v; return g_real->xSleep(g_real, us); }
static int v_time(sqlite3_vfs *v, double *out) { (void)v; return g_real->xCurrentTime(g_real, out); }
static int v_lasterr(sqlite3_vfs *v, int n, char *m) { (void)v; return g_real->xGetLastError ? g_real->xGetLastError(g_real, n, m) : 0; }
static int v_time64(sqlite3_vfs *v, sqlite3_int64 *out) { (void)v; return g_real->xCurrentTimeInt64(g_real, out); }

__attribute__((constructor)) static void fault_init(void)
{
    sqlite3_initialize();
    g_real = sqlite3_vfs_find(NULL);
    if (!g_real) return;
    const char *op = getenv("DNA_FAULT_OP"), *n = getenv("DNA_FAULT_N"), *err = getenv("DNA_FAULT_ERR");
    g_op = !op ? OP_NONE : !strcmp(op, "write") ? OP_WRITE : !strcmp(op, "sync") ? OP_SYNC : !strcmp(op, "read") ? OP_READ : OP_NONE;
    g_n = n ? atol(n) : 0;
    g_err = err && !strcmp(err, "full") ? SQLITE_FULL : SQLITE_IOERR;
    g_sticky = getenv("DNA_FAULT_STICKY") && !strcmp(getenv("DNA_FAULT_STICKY"), "1");
    g_log = getenv("DNA_FAULT_LOG");
    g_io = (sqlite3_io_methods){ 3, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock, f_unlock, f_reserved,
                                 f_fcntl, f_sector, f_devchar, f_shmmap, f_shmlock, f_shmbarrier, f_shmunmap, f_fetch, f_unfetch };
    g_vfs = *g_real;
    g_vfs.iVersion = g_real->iVersion < 2 ? g_real->iVersion : 2;
    g_vfs.szOsFile = (int)sizeof(FFile) + g_real->szOsFile;
    g_vfs.zName = "dna_fault";
    g_vfs.pNext = NULL;
    g_vfs.xOpen = v_open;
    g_vfs.xDelete = v_delete;
    g_vfs.xAccess = v_access;
    g_vfs.xFullPathname = v_full;
    g_vfs.xDlOpen = v_dlopen;
    g_vfs.xDlError = v_dlerror;
    g_vfs.xDlSym = v_dlsym;
    g_vfs.xDlClose = v_dlclose;
    g_vfs.xRandomness = v_random;
    g_vfs.xSleep = v_sleep;
    g_vfs.xCurrentTime = v_time;
    g_vfs.xGetLastError = v_lasterr;
    g_vfs.xCurrentTimeInt64 = v_time64;
    sqlite3_vfs_register(&g_vfs, 1);
}

__attribute__((destructor)) static void fault_fini(void)
{
    note("count write %ld sync %ld read %ld\n", atomic_load(&g_count[OP_WRITE]), atomic_load(&g_count[OP_SYNC]),
         atomic_load(&g_count[OP_READ]));
}
