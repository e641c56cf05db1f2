/*
 * bundle_fields.h - the field order of every fixed-size record in a .dnab.
 *
 * One list per record, X(width, field, refers_to), shared by the writer
 * (bundle_write.c), the reader (bundle_read.c) and the reference checker
 * (verify.c), so the three cannot disagree.  Widths: u8, u32, i64 (all
 * little-endian); `ty` is a DnaType (u8 code, u8 optional, u8 elem, u8 0,
 * u32 ref).  refers_to names the table a u32 indexes (DNA_NIL allowed), or
 * _ when it is a plain number.
 */
#ifndef DNA_BUNDLE_FIELDS_H
#define DNA_BUNDLE_FIELDS_H

#define DNA_F_FILE(X)   X(u32, path, strs) X(u32, stdlib, _)
#define DNA_F_SLOT(X)   X(u32, name, strs) X(ty, type, _) X(u8, kind, _) X(u32, dflt, consts)
#define DNA_F_CONST(X)  X(u8, type, _) X(u32, str, strs) X(i64, i, _)
#define DNA_F_UNIT(X)   X(u32, pc, _) X(u32, len, _) X(u32, nregs, _) X(ty, type, _) \
                        X(u32, event, events) X(u32, entity, entities) X(u32, tz, strs) X(u32, rule, rules)
#define DNA_F_RULE(X)   X(u32, name, strs) X(u8, kind, _) X(u8, trig, _) X(u8, window, _) \
                        X(u8, decay, _) X(u8, mode, _) X(u32, entity, entities) X(u32, event, events) \
                        X(u32, watch, _) X(u32, target, _) X(u32, cond, units) X(u32, value, units) \
                        X(u32, limit, _) X(u32, file, files) X(u32, line, _) X(u32, col, _) \
                        X(i64, priority, _) X(i64, decay_ms, _) X(i64, duration_ms, _) \
                        X(u32, schedule, strs) X(u32, arm, _) X(u32, narms, _)
#define DNA_F_ARM(X)    X(u8, kind, _) X(u32, pattern, _) X(u32, action, _) X(u32, nactions, _)
#define DNA_F_ACTION(X) X(u8, kind, _) X(u32, ref, _) X(u32, ref2, _) X(u32, arg, _) X(u32, nargs, _)
#define DNA_F_ARG(X)    X(u32, key, strs) X(u32, unit, units) X(u32, konst, consts)
#define DNA_F_SIGNAL(X) X(u32, name, strs) X(u32, entity, entities) X(u32, weight, units) \
                        X(u32, priority, _) X(i64, decay_ms, _) X(i64, sla_ms, _)
#define DNA_F_OPT(X)    X(u32, key, strs) X(u32, word, strs) X(u32, env, strs) X(u32, konst, consts)
#define DNA_F_JNODE(X)  X(u8, op, _) X(u8, n, _) X(u32, arg, _)
#define DNA_F_ASSIGN(X) X(u32, target, strs) X(u32, expr, jnodes)
#define DNA_F_MAP(X)    X(u32, event, events) X(u32, when, jnodes) X(u32, assign, _) X(u32, nassigns, _)
#define DNA_F_MEMBER(X) X(u32, email, strs) X(u32, region, strs) X(i64, max, _) X(i64, weight, _)
#define DNA_F_STEP(X)   X(u32, channel, strs) X(u32, via, connectors) X(u32, tmpl, units) X(i64, wait_ms, _)
#define DNA_F_SEQ(X)    X(u32, name, strs) X(u32, entity, entities) X(u32, limit, _) X(u32, nlimits, _) \
                        X(u32, day_from, _) X(u32, day_to, _) X(u32, from_min, _) X(u32, to_min, _) \
                        X(u32, tz, strs) X(u32, exit_when, units) X(u32, exit_event, events)
#define DNA_F_SOURCE(X) X(u32, name, strs) X(u32, opt, _) X(u32, nopts, _) X(u32, map, _) X(u32, nmaps, _)
#define DNA_F_METHOD(X) X(u32, name, strs) X(u32, verb, strs) X(u32, path, units) X(u32, assign, _) \
                        X(u32, nassigns, _)
#define DNA_F_CONN(X)   X(u32, name, strs) X(u32, kind, strs) X(u32, opt, _) X(u32, nopts, _) \
                        X(u32, method, _) X(u32, nmethods, _)
#define DNA_F_LOC(X)    X(u32, pc, _) X(u32, file, files) X(u32, line, _) X(u32, col, _)

#endif
