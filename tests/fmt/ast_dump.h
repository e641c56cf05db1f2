/*
 * ast_dump.h - a canonical text dump of a syntax tree, ignoring spans, for
 * comparing the tree of a file with the tree of its formatted text.
 */
#ifndef DNA_TEST_AST_DUMP_H
#define DNA_TEST_AST_DUMP_H

#include "front/ast.h"
#include <stddef.h>

/* Returns a malloc'd string (free with free()). */
char *ast_dump(const Node *n);

#endif
