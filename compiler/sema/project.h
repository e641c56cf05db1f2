/*
 * project.h - a compilation: the files named on the command line (files or
 * directories of .dna files), the standard-library modules they import, and
 * the checked program.
 */
#ifndef DNA_PROJECT_H
#define DNA_PROJECT_H

#include "sema/types.h"
#include "front/parse.h"

typedef struct Project {
    Arena arena;
    Interner in;
    SrcSet src;
    DiagList diags;
    Node **files;               /* parsed N_FILE per source id (index = id) */
    Comment **comments;         /* per source id */
    uint32_t cap;
    Program prog;
    const char *stdlib_dir;     /* where `import stdlib.X` looks */
    char io_error[512];         /* a file or directory that could not be read */
    int nuser;                  /* files given by the user */
} Project;

void proj_init(Project *pr, const char *stdlib_dir);
void proj_free(Project *pr);
/* Add a file or a directory (recursively, *.dna in name order).
 * Returns 0 and fills io_error when it cannot be read. */
int  proj_add_path(Project *pr, const char *path);
/* Add in-memory source (fuzzing, tests). */
int  proj_add_source(Project *pr, const char *name, const char *text, size_t len);
/* Parse everything, load imports, resolve and check.  Returns the number
 * of errors. */
uint32_t proj_check(Project *pr);

/* The standard library directory: $DNA_STDLIB, then beside the executable
 * (../stdlib, ../share/dna/stdlib), then the source tree it was built from. */
const char *proj_find_stdlib(const char *argv0);

#endif
