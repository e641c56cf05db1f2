/*
 * slog.h - structured logs: one JSON object per line on stderr.
 *
 *   slog("info", "listening", "port", SL_INT, (int64_t)8080, "db", SL_STR, "x.db", NULL);
 *
 * Keys are followed by a type tag and a value (SL_STR: const char *, NULL
 * prints null; SL_INT: int64_t; SL_DBL: double); the list ends with NULL.
 * Long lines are cut at 4 KiB.
 */
#ifndef DNA_SLOG_H
#define DNA_SLOG_H

#include <stdint.h>

enum { SL_STR = 1, SL_INT, SL_DBL };
void slog(const char *level, const char *msg, ...);

#endif
