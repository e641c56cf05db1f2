/*
 * opcodes.h - the one opcode table of the rule VM.
 *
 * Everything that knows about instructions is generated from the OP list
 * below: the enums (at the end of this file), the emitter's encoders
 * (compiler/emit/emit_expr.c), the
 * verifier (bundle/verify.c), the disassembler (bundle/disasm.c) and the
 * dispatch table (vm/vm.c).
 *
 * Instruction encoding: one little-endian 32-bit word.
 *
 *    31          24 23          16 15           8 7            0
 *   +--------------+--------------+--------------+--------------+
 *   |      C       |      B       |      A       |     op       |   iABC
 *   +--------------+--------------+--------------+--------------+
 *   |            Bx (unsigned)    |      A       |     op       |   iABx
 *   +--------------+--------------+--------------+--------------+
 *   |            sBx (signed)     |      A       |     op       |   iAsBx
 *   +-----------------------------+--------------+--------------+
 *
 * Limits, from the field widths:
 *   op   8 bits  -> at most 256 opcodes
 *   A,B,C 8 bits -> at most 256 registers per code unit (DNA_MAX_REGS)
 *   Bx  16 bits  -> at most 65536 constants, slots per event or entity,
 *                   entity kinds and enums (DNA_MAX_BX)
 *   sBx 16 bits  -> immediates -32768..32767; jumps reach at most 32767
 *                   words forward.  Jumps are relative to the next
 *                   instruction and must be >= 0: the verifier rejects a
 *                   backward jump, so every code unit runs each
 *                   instruction at most once and ends at its RET.
 *
 * Operand formats (the `operands` column) name what each field holds:
 *   R  a register            K  a constant index (Bx)
 *   E  an event slot (Bx)    S  an entity slot of the unit's entity (Bx)
 *   F  a slot of the entity whose slots R[A] holds (Bx, checked again at run time)
 *   N  an entity kind (Bx)   U  an enum id (Bx)
 *   I  a signed immediate (sBx)   J  a forward jump (sBx)
 *   T  a string constant (Bx: the constant must be a string)
 *   X  a format code (C)     L  a builtin function id (B)
 *
 * Value semantics (also in vm.h): values are typed statically; `none` is
 * the missing optional value.  Comparisons: EQ of two nones is true, of
 * none and a value false; an order comparison with a none is false;
 * string tests (contains, starts_with, ...) of a none are false;
 * arithmetic and string functions of a none give none.  A value is
 * truthy when it is present and non-zero.
 */
#ifndef DNA_OPCODES_H
#define DNA_OPCODES_H

#include <stddef.h>
#include <stdint.h>


/* OP(name, operands, effect) */
#define DNA_OPCODES(OP) \
    OP(LOADK,    RK,   "R[A] = K[Bx]")                                      \
    OP(LOADI,    RI,   "R[A] = sBx")                                        \
    OP(LOADNONE, R,    "R[A] = none")                                       \
    OP(MOVE,     RR,   "R[A] = R[B]")                                       \
    OP(LDE,      RE,   "R[A] = event.slot[Bx]")                             \
    OP(LDS,      RS,   "R[A] = entity.slot[Bx]")                            \
    OP(LDSELF,   R,    "R[A] = handle of the evaluated entity")             \
    OP(DEREF,    RN,   "R[A] = slots of the entity of kind Bx with handle R[A]") \
    OP(LDF,      RF,   "R[A] = R[A].slot[Bx]")                              \
    OP(JMP,      J,    "pc += sBx")                                         \
    OP(JF,       RJ,   "if not R[A] then pc += sBx")                        \
    OP(JT,       RJ,   "if R[A] then pc += sBx")                            \
    OP(NOT,      RR,   "R[A] = not R[B]")                                   \
    OP(BOOL,     RR,   "R[A] = R[B] is truthy")                             \
    OP(ISNONE,   RR,   "R[A] = R[B] is none")                               \
    OP(ISSET,    RR,   "R[A] = R[B] is not none")                           \
    OP(EQ_I,     RRR,  "R[A] = R[B] == R[C] (numbers, enums, bools, times)") \
    OP(NE_I,     RRR,  "R[A] = R[B] != R[C]")                               \
    OP(LT_I,     RRR,  "R[A] = R[B] < R[C]")                                \
    OP(LE_I,     RRR,  "R[A] = R[B] <= R[C]")                               \
    OP(EQ_S,     RRR,  "R[A] = R[B] == R[C] (strings)")                     \
    OP(NE_S,     RRR,  "R[A] = R[B] != R[C] (strings)")                     \
    OP(LT_S,     RRR,  "R[A] = R[B] < R[C] (strings, bytewise)")            \
    OP(LE_S,     RRR,  "R[A] = R[B] <= R[C] (strings, bytewise)")           \
    OP(CONTAINS, RRR,  "R[A] = string R[B] contains R[C]")                  \
    OP(HAS_I,    RRR,  "R[A] = list R[B] has R[C] (numbers, enums)")        \
    OP(HAS_S,    RRR,  "R[A] = list R[B] has R[C] (strings)")               \
    OP(ADD,      RRR,  "R[A] = R[B] + R[C] (int64, checked)")               \
    OP(SUB,      RRR,  "R[A] = R[B] - R[C] (int64, checked)")               \
    OP(MUL,      RRR,  "R[A] = R[B] * R[C] (int64, checked)")               \
    OP(MOD,      RRR,  "R[A] = R[B] % R[C] (truncated)")                    \
    OP(MUL_D,    RRR,  "R[A] = R[B] * R[C] / 1000 (half-even)")             \
    OP(DIV_D,    RRR,  "R[A] = R[B] * 1000 / R[C] (half-even)")             \
    OP(NEG,      RR,   "R[A] = -R[B]")                                      \
    OP(I2D,      RR,   "R[A] = R[B] * 1000 (int to decimal)")               \
    OP(CALL,     RLR,  "R[A] = builtin B(R[C], R[C+1])")                    \
    OP(SBEGIN,   R,    "R[A] = empty string at the scratch cursor")         \
    OP(SADDK,    RT,   "R[A] ..= K[Bx]")                                    \
    OP(SADD,     RRX,  "R[A] ..= R[B] formatted as C")                      \
    OP(ENAME,    RU,   "R[A] = name of value R[A] of enum Bx")              \
    OP(RET,      R,    "return R[A]")

/* Operand formats: which field holds what. */
#define DNA_OPFORMATS(F) \
    F(R)  F(RR)  F(RRR) F(RK)  F(RI)  F(RE)  F(RS)  F(RN)  F(RF) \
    F(J)  F(RJ)  F(RLR) F(RT)  F(RRX) F(RU)

/* Format codes of SADD (field C). */
#define DNA_FMTS(F) \
    F(STR, "string") F(INT, "int") F(DEC, "decimal") F(BOOL, "bool") \
    F(TS, "timestamp") F(DUR, "duration") F(TOD, "time of day")

#define DNA_MAX_REGS 256
#define DNA_MAX_BX 65536
#define DNA_MAX_JUMP 32767
#define DNA_MIN_IMM (-32768)
#define DNA_MAX_IMM 32767

#define DNA_INS_OP(w)  ((uint8_t)((w) & 0xff))
#define DNA_INS_A(w)   ((uint8_t)(((w) >> 8) & 0xff))
#define DNA_INS_B(w)   ((uint8_t)(((w) >> 16) & 0xff))
#define DNA_INS_C(w)   ((uint8_t)(((w) >> 24) & 0xff))
#define DNA_INS_BX(w)  ((uint16_t)((w) >> 16))
#define DNA_INS_SBX(w) ((int16_t)(uint16_t)((w) >> 16))

#define DNA_MK_ABC(op, a, b, c) \
    ((uint32_t)(op) | ((uint32_t)(a) << 8) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 24))
#define DNA_MK_ABX(op, a, bx) ((uint32_t)(op) | ((uint32_t)(a) << 8) | ((uint32_t)(uint16_t)(bx) << 16))

typedef enum VmOp {
#define OP(name, fmt, effect) VM_OP_##name,
    DNA_OPCODES(OP)
#undef OP
    VM_OP__COUNT
} VmOp;

typedef enum VmFmt {
#define F(name, text) VM_FMT_##name,
    DNA_FMTS(F)
#undef F
    VM_FMT__COUNT
} VmFmt;

typedef enum VmBuiltin {
#define BUILTIN(name, ret, n, a1, a2, where, doc) VM_BI_##name,
#include "stdlib/builtins.h"
#undef BUILTIN
    VM_BUILTIN__COUNT
} VmBuiltin;

/* where a builtin may appear: only ANYWHERE ones run in the VM */
#define VM_WHERE_ANYWHERE 1
#define VM_WHERE_CONFIG 0
#define VM_WHERE_SOURCE 0

/* names for listings and messages ("?" when out of range) */
const char *bc_op_name(unsigned op);
const char *bc_op_effect(unsigned op);
const char *bc_builtin_name(unsigned id);
unsigned bc_builtin_nargs(unsigned id);
const char *bc_fmt_name(unsigned f);

/* Formats v as format code fmt (VM_FMT_*) into buf, at most cap bytes, no
 * NUL; returns the length, or -1 when it does not fit or fmt is unknown. */
int bc_format(char *buf, size_t cap, unsigned fmt, int64_t v);

#endif
