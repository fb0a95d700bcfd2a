/* cg_ptx.c: the PTX backend, DCK IR -> LLVM IR (NVPTX) -> LLVM's optimizer -> PTX.
 *
 * Built into the plugin libdckc_ptx.so (see cg_ptx.h), never into dckc or libdckrt.
 *
 * The kernel ABI (team brief, docs/ptx.md): per .dck parameter in order, a by-value
 * scalar as itself, a by-value vector or struct as a `byval` aggregate of its C layout
 * (float3 = 16 bytes), a buffer as (ptr addrspace(1) noalias, i32 element count); then
 * the launch's global size x, y, z (i32); then, in checked mode, a ptr addrspace(1) to
 * the uint[8] out-of-bounds record. Kernels use the PTX kernel calling convention and
 * `nvvm.annotations` (kernel, and reqntid for [[workgroup]]).
 *
 * Memory: buffers are in the global address space (1), shared arrays are one internal
 * addrspace(3) global each, private slots are allocas. Every access is a byte offset
 * (index * element size + the constant path's offset) from the object's base, and a load or
 * store of the leaf type at its natural alignment; a struct is loaded and stored field by
 * field (padding is never touched). Read-only buffers are `noalias readonly` with
 * `!invariant.load`, so NVPTX selects ld.global.nc.
 *
 * Values: scalars and vectors are LLVM scalars and vectors (bool is i1, i8 in memory),
 * structs are literal LLVM structs. Element-wise operations are scalarized per component
 * (NVPTX scalarizes them anyway); the semantics are the C backend's: wrapping integers,
 * division by zero giving 0 without trapping, shift counts modulo the width, saturating
 * float -> int conversions, no contraction of a * b + c (fma() is explicit), IEEE sqrt and
 * division. Transcendental functions come from CUDA's libdevice (linked in when used).
 *
 * Work-items: ids from the PTX special registers; global_id = ctaid * ntid + tid (32-bit);
 * a kernel without barrier() returns at entry for ids outside the global size. Subgroups are
 * warps: subgroup_size() is 32, subgroup_local_id() the lane; reductions run over the active
 * lanes (a butterfly of shfl.sync when the whole warp is active, else a loop over the active
 * lanes in ascending order); broadcast and shuffle are shfl.sync.idx.
 */
#include "cg_ptx.h"

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <llvm/Config/llvm-config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

/* The op table of ops.def (the compiler's ir_op_info lives in the host, not in this plugin). */
static const struct {
    const char *name;
    int flags;
} op_info[IR_OP_COUNT] = {
#define OP(ID, nm, fl) [IR_##ID] = {nm, fl},
#include "compiler/ops.def"
#undef OP
};

typedef LLVMValueRef V;
typedef LLVMTypeRef T;

typedef struct Px {
    const IrModule *m;
    bool checked;
    int opt;
    Arena *a;
    LLVMContextRef cx;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    T i1, i8, i16, i32, i64, f16, f32, f64, vd, p0, p1, p3, p5;
    bool uses_libdevice;
    bool timing;            /* $DCK_PTX_TIME: report the CPU time of each phase */
    double t0;              /* when the current phase began (ms of CPU time) */
    LLVMCodeGenOptLevel cg; /* the NVPTX code generator's level */
    V oob_fn;               /* internal helper recording a violation (checked mode) */

    /* per kernel */
    const IrFunc *f;
    V fn;
    int nid;
    V *val;                   /* by instruction id */
    LLVMBasicBlockRef *bb;    /* by block id: first LLVM block */
    LLVMBasicBlockRef *bbend; /* by block id: the LLVM block its terminator is in */
    uint8_t *reach;
    V *bufp, *buflen, *pval; /* by parameter index */
    V *shared, *local;
    V gsz[3], oob;
    V sreg[4][3]; /* tid, ntid, ctaid, nctaid */
    V gid[3];
    V activemask_asm;
} Px;

/* ---------------------------------------------------------------- types */

static T scalar_t(Px *p, const Type *t)
{
    switch (t->kind) {
    case TY_BOOL: return p->i1;
    case TY_INT: return LLVMIntTypeInContext(p->cx, (unsigned)t->bits);
    case TY_FLOAT: return t->bits == 16 ? p->f16 : t->bits == 32 ? p->f32 : p->f64;
    default: ICE("not a scalar type: %s", t->name);
    }
}

/* The type of a value of DCK type t. */
static T vt(Px *p, const Type *t)
{
    switch (t->kind) {
    case TY_BOOL:
    case TY_INT:
    case TY_FLOAT: return scalar_t(p, t);
    case TY_VEC: return LLVMVectorType(scalar_t(p, t->elem), (unsigned)t->n);
    case TY_STRUCT: {
        T fs[64];
        ICE_ASSERT(t->nfields <= 64);
        for (int k = 0; k < t->nfields; k++) fs[k] = vt(p, t->fields[k].type);
        return LLVMStructTypeInContext(p->cx, fs, (unsigned)t->nfields, false);
    }
    case TY_ARRAY: return LLVMArrayType(vt(p, t->elem), (unsigned)t->n); /* a struct's field */
    default: ICE("no value type for %s", t->name);
    }
}

/* In memory, bool is a byte. */
static T memt(Px *p, const Type *t)
{
    if (t->kind == TY_BOOL) return p->i8;
    if (t->kind == TY_VEC && t->elem->kind == TY_BOOL) return LLVMVectorType(p->i8, (unsigned)t->n);
    return vt(p, t);
}

static V ci32(Px *p, uint64_t v) { return LLVMConstInt(p->i32, v, false); }
static V ci64(Px *p, uint64_t v) { return LLVMConstInt(p->i64, v, false); }

/* ---------------------------------------------------------------- intrinsics */

static V intrinsic(Px *p, const char *name, T *over, int nover, T *fty)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    if (!id) ICE("LLVM has no intrinsic %s", name);
    V fn = LLVMGetIntrinsicDeclaration(p->mod, id, over, (size_t)nover);
    *fty = LLVMIntrinsicGetType(p->cx, id, over, (size_t)nover);
    return fn;
}

static V call_intr(Px *p, const char *name, T *over, int nover, V *args, int nargs)
{
    T fty;
    V fn = intrinsic(p, name, over, nover, &fty);
    return LLVMBuildCall2(p->b, fty, fn, args, (unsigned)nargs, "");
}

static V call_intr1(Px *p, const char *name, T over, V a)
{
    return call_intr(p, name, &over, 1, &a, 1);
}

/* A libdevice function (__nv_*) of n float arguments of type ft. */
static V call_libdevice(Px *p, const char *name, T ft, V *args, int n)
{
    V fn = LLVMGetNamedFunction(p->mod, name);
    T ps[3] = {ft, ft, ft};
    T fty = LLVMFunctionType(ft, ps, (unsigned)n, false);
    if (!fn) fn = LLVMAddFunction(p->mod, name, fty);
    p->uses_libdevice = true;
    return LLVMBuildCall2(p->b, fty, fn, args, (unsigned)n, "");
}

static V sreg(Px *p, const char *what, int d)
{
    char name[64];
    snprintf(name, sizeof name, "llvm.nvvm.read.ptx.sreg.%s.%c", what, "xyz"[d]);
    return call_intr(p, name, NULL, 0, NULL, 0);
}

/* ---------------------------------------------------------------- helpers of the IR */

static IrInst *terminator(const IrBlock *b)
{
    IrInst *t = b->last;
    return t && (op_info[t->op].flags & OPF_TERM) ? t : NULL;
}

static int succs(const IrBlock *b, IrBlock *out[2])
{
    IrInst *t = terminator(b);
    if (!t) return 0;
    if (t->op == IR_BR) {
        out[0] = t->target[0];
        return 1;
    }
    if (t->op == IR_CBR) {
        out[0] = t->target[0];
        out[1] = t->target[1];
        return 2;
    }
    return 0;
}

/* ---------------------------------------------------------------- values */

static V value(Px *p, const IrInst *i);

/* Component k of a value (a scalar operand is broadcast). */
static V comp(Px *p, const IrInst *v, int k)
{
    V x = value(p, v);
    if (v->type->kind == TY_VEC) return LLVMBuildExtractElement(p->b, x, ci32(p, (uint64_t)k), "");
    return x;
}

static V zero_of(Px *p, const Type *t) { return LLVMConstNull(vt(p, t)); }

static V value(Px *p, const IrInst *i)
{
    ICE_ASSERT(i->id >= 0 && i->id < p->nid);
    if (p->val[i->id]) return p->val[i->id];
    V v = NULL;
    switch (i->op) {
    case IR_CONST:
        if (i->type->kind == TY_FLOAT)
            v = LLVMConstReal(vt(p, i->type), i->imm.f);
        else
            v = LLVMConstInt(vt(p, i->type), i->imm.i, false);
        break;
    case IR_UNDEF: v = zero_of(p, i->type); break;
    case IR_PARAM:
        ICE_ASSERT(i->param >= 0 && i->param < p->f->nparams && p->pval[i->param]);
        v = p->pval[i->param];
        break;
    case IR_BUFLEN:
        ICE_ASSERT(i->mem.id >= 0 && i->mem.id < p->f->nparams && p->buflen[i->mem.id]);
        v = p->buflen[i->mem.id];
        break;
    case IR_WORKITEM: {
        int d = i->dim;
        ICE_ASSERT(d >= 0 && d < 3);
        switch (i->builtin) {
        case BI_GLOBAL_ID: v = p->gid[d]; break;
        case BI_LOCAL_ID: v = p->sreg[0][d]; break;
        case BI_LOCAL_SIZE: v = p->sreg[1][d]; break;
        case BI_GROUP_ID: v = p->sreg[2][d]; break;
        case BI_NUM_GROUPS: v = p->sreg[3][d]; break;
        case BI_GLOBAL_SIZE: v = p->gsz[d]; break;
        default: ICE("work-item query %d", (int)i->builtin);
        }
        break;
    }
    default: ICE("value %%%d (%s) used before it is defined", i->id, op_info[i->op].name);
    }
    return p->val[i->id] = v;
}

/* ---------------------------------------------------------------- scalar semantics */

static bool is_half(const Type *t) { return t->kind == TY_FLOAT && t->bits == 16; }

static V int_div(Px *p, const Type *t, V a, V b, bool rem)
{
    T ty = scalar_t(p, t);
    V zero = LLVMConstNull(ty), one = LLVMConstInt(ty, 1, false);
    V bz = LLVMBuildICmp(p->b, LLVMIntEQ, b, zero, "");
    if (!t->is_signed) {
        V d = LLVMBuildSelect(p->b, bz, one, b, "");
        V r = rem ? LLVMBuildURem(p->b, a, d, "") : LLVMBuildUDiv(p->b, a, d, "");
        return LLVMBuildSelect(p->b, bz, zero, r, "");
    }
    V m1 = LLVMConstAllOnes(ty);
    V bm1 = LLVMBuildICmp(p->b, LLVMIntEQ, b, m1, "");
    V bad = LLVMBuildOr(p->b, bz, bm1, "");
    V d = LLVMBuildSelect(p->b, bad, one, b, "");
    V r = rem ? LLVMBuildSRem(p->b, a, d, "") : LLVMBuildSDiv(p->b, a, d, "");
    if (rem) return LLVMBuildSelect(p->b, bad, zero, r, "");
    V neg = LLVMBuildSub(p->b, zero, a, "");
    return LLVMBuildSelect(p->b, bz, zero, LLVMBuildSelect(p->b, bm1, neg, r, ""), "");
}

static V to_float(Px *p, const Type *t, V x)
{
    return is_half(t) ? LLVMBuildFPExt(p->b, x, p->f32, "") : x;
}
static V from_float(Px *p, const Type *t, V x)
{
    return is_half(t) ? LLVMBuildFPTrunc(p->b, x, p->f16, "") : x;
}

static V bin(Px *p, IrOp op, const Type *t, V a, V b)
{
    LLVMBuilderRef B = p->b;
    if (t->kind == TY_BOOL) {
        switch (op) {
        case IR_AND: return LLVMBuildAnd(B, a, b, "");
        case IR_OR: return LLVMBuildOr(B, a, b, "");
        case IR_XOR: return LLVMBuildXor(B, a, b, "");
        default: ICE("bool op %s", op_info[op].name);
        }
    }
    if (t->kind == TY_FLOAT) {
        switch (op) {
        case IR_ADD: return LLVMBuildFAdd(B, a, b, "");
        case IR_SUB: return LLVMBuildFSub(B, a, b, "");
        case IR_MUL: return LLVMBuildFMul(B, a, b, "");
        case IR_DIV: return LLVMBuildFDiv(B, a, b, "");
        case IR_REM: {
            V args[2] = {to_float(p, t, a), to_float(p, t, b)};
            T ft = t->bits == 64 ? p->f64 : p->f32;
            return from_float(
                p, t, call_libdevice(p, t->bits == 64 ? "__nv_fmod" : "__nv_fmodf", ft, args, 2));
        }
        default: ICE("float op %s", op_info[op].name);
        }
    }
    ICE_ASSERT(t->kind == TY_INT);
    switch (op) {
    case IR_ADD: return LLVMBuildAdd(B, a, b, "");
    case IR_SUB: return LLVMBuildSub(B, a, b, "");
    case IR_MUL: return LLVMBuildMul(B, a, b, "");
    case IR_DIV: return int_div(p, t, a, b, false);
    case IR_REM: return int_div(p, t, a, b, true);
    case IR_AND: return LLVMBuildAnd(B, a, b, "");
    case IR_OR: return LLVMBuildOr(B, a, b, "");
    case IR_XOR: return LLVMBuildXor(B, a, b, "");
    case IR_SHL:
    case IR_SHR: {
        V n = LLVMBuildAnd(B, b, LLVMConstInt(scalar_t(p, t), (uint64_t)(t->bits - 1), false), "");
        if (op == IR_SHL) return LLVMBuildShl(B, a, n, "");
        return t->is_signed ? LLVMBuildAShr(B, a, n, "") : LLVMBuildLShr(B, a, n, "");
    }
    default: ICE("int op %s", op_info[op].name);
    }
}

static V cmp(Px *p, IrOp op, const Type *t, V a, V b)
{
    if (t->kind == TY_FLOAT) {
        LLVMRealPredicate pr = op == IR_EQ   ? LLVMRealOEQ
                               : op == IR_NE ? LLVMRealUNE
                               : op == IR_LT ? LLVMRealOLT
                               : op == IR_LE ? LLVMRealOLE
                               : op == IR_GT ? LLVMRealOGT
                                             : LLVMRealOGE;
        return LLVMBuildFCmp(p->b, pr, a, b, "");
    }
    bool s = t->kind == TY_INT && t->is_signed;
    LLVMIntPredicate pr = op == IR_EQ   ? LLVMIntEQ
                          : op == IR_NE ? LLVMIntNE
                          : op == IR_LT ? (s ? LLVMIntSLT : LLVMIntULT)
                          : op == IR_LE ? (s ? LLVMIntSLE : LLVMIntULE)
                          : op == IR_GT ? (s ? LLVMIntSGT : LLVMIntUGT)
                                        : (s ? LLVMIntSGE : LLVMIntUGE);
    return LLVMBuildICmp(p->b, pr, a, b, "");
}

static V convert(Px *p, const Type *to, const Type *from, V x)
{
    LLVMBuilderRef B = p->b;
    if (to == from) return x;
    T tt = scalar_t(p, to);
    if (to->kind == TY_BOOL) {
        if (from->kind == TY_FLOAT)
            return LLVMBuildFCmp(B, LLVMRealUNE, x, LLVMConstNull(scalar_t(p, from)), "");
        return LLVMBuildICmp(B, LLVMIntNE, x, LLVMConstNull(scalar_t(p, from)), "");
    }
    if (from->kind == TY_BOOL) {
        if (to->kind == TY_FLOAT) return LLVMBuildUIToFP(B, x, tt, "");
        return LLVMBuildZExt(B, x, tt, "");
    }
    if (to->kind == TY_FLOAT && from->kind == TY_FLOAT)
        return to->bits > from->bits ? LLVMBuildFPExt(B, x, tt, "")
                                     : LLVMBuildFPTrunc(B, x, tt, "");
    if (to->kind == TY_FLOAT)
        return from->is_signed ? LLVMBuildSIToFP(B, x, tt, "") : LLVMBuildUIToFP(B, x, tt, "");
    if (from->kind == TY_FLOAT) { /* saturating, NaN -> 0: as the C backend's helpers */
        T over[2] = {tt, scalar_t(p, from)};
        return call_intr(p, to->is_signed ? "llvm.fptosi.sat" : "llvm.fptoui.sat", over, 2, &x, 1);
    }
    if (to->bits == from->bits) return x;
    if (to->bits < from->bits) return LLVMBuildTrunc(B, x, tt, "");
    return from->is_signed ? LLVMBuildSExt(B, x, tt, "") : LLVMBuildZExt(B, x, tt, "");
}

/* Builtins that are one libdevice function (float: __nv_<name>f, double: __nv_<name>). */
static const char *const nv_name[BI_COUNT] = {
    [BI_EXP] = "exp",   [BI_EXP2] = "exp2", [BI_LOG] = "log",   [BI_LOG2] = "log2",
    [BI_POW] = "pow",   [BI_SIN] = "sin",   [BI_COS] = "cos",   [BI_TAN] = "tan",
    [BI_ASIN] = "asin", [BI_ACOS] = "acos", [BI_ATAN] = "atan", [BI_ATAN2] = "atan2",
    [BI_SINH] = "sinh", [BI_COSH] = "cosh", [BI_TANH] = "tanh", [BI_ROUND] = "round",
    [BI_FMOD] = "fmod",
};
/* Builtins that are one LLVM intrinsic of the float type. */
static const char *const llvm_name[BI_COUNT] = {
    [BI_ABS] = "llvm.fabs",    [BI_MIN] = "llvm.minnum",  [BI_MAX] = "llvm.maxnum",
    [BI_SQRT] = "llvm.sqrt",   [BI_FLOOR] = "llvm.floor", [BI_CEIL] = "llvm.ceil",
    [BI_TRUNC] = "llvm.trunc", [BI_FMA] = "llvm.fma",
};

static V fbuiltin(Px *p, BuiltinId bi, const Type *t, V *a0)
{
    LLVMBuilderRef B = p->b;
    bool h = is_half(t);
    int cbits = h ? 32 : t->bits; /* half computes in float */
    T ft = cbits == 64 ? p->f64 : p->f32;
    V a[3];
    int n = builtin_info[bi].nargs;
    for (int k = 0; k < 3; k++) a[k] = k < n && a0[k] ? to_float(p, t, a0[k]) : NULL;
    V r;
    if (nv_name[bi]) {
        char name[32];
        snprintf(name, sizeof name, "__nv_%s%s", nv_name[bi], cbits == 64 ? "" : "f");
        r = call_libdevice(p, name, ft, a, n);
    } else if (llvm_name[bi]) {
        r = call_intr(p, llvm_name[bi], &ft, 1, a, n);
    } else {
        V one = LLVMConstReal(ft, 1.0), zero = LLVMConstReal(ft, 0.0);
        switch (bi) {
        case BI_CLAMP: {
            V lo = call_intr(p, "llvm.maxnum", &ft, 1, (V[]){a[0], a[1]}, 2);
            r = call_intr(p, "llvm.minnum", &ft, 1, (V[]){lo, a[2]}, 2);
            break;
        }
        case BI_MIX:
            r = LLVMBuildFAdd(B, a[0], LLVMBuildFMul(B, LLVMBuildFSub(B, a[1], a[0], ""), a[2], ""),
                              "");
            break;
        case BI_STEP:
            r = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, a[1], a[0], ""), zero, one, "");
            break;
        case BI_SIGN: {
            V x = a[0];
            V same = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOEQ, x, x, ""), x, zero, "");
            V neg = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, x, zero, ""),
                                    LLVMBuildFNeg(B, one, ""), same, "");
            r = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOGT, x, zero, ""), one, neg, "");
            break;
        }
        case BI_RSQRT: r = LLVMBuildFDiv(B, one, call_intr1(p, "llvm.sqrt", ft, a[0]), ""); break;
        case BI_FRACT: {
            V d = LLVMBuildFSub(B, a[0], call_intr1(p, "llvm.floor", ft, a[0]), "");
            V lim = LLVMConstReal(ft, cbits == 64 ? 0x1.fffffffffffffp-1 : 0x1.fffffep-1);
            r = call_intr(p, "llvm.minnum", &ft, 1, (V[]){d, lim}, 2);
            break;
        }
        case BI_ISNAN: return LLVMBuildFCmp(B, LLVMRealUNO, a[0], a[0], "");
        case BI_ISINF: {
            V ab = call_intr1(p, "llvm.fabs", ft, a[0]);
            return LLVMBuildFCmp(B, LLVMRealOEQ, ab, LLVMConstReal(ft, __builtin_inf()), "");
        }
        default: ICE("builtin %s on %s", builtin_info[bi].name, t->name);
        }
    }
    return from_float(p, t, r);
}

static V ibuiltin(Px *p, BuiltinId bi, const Type *t, V *a)
{
    LLVMBuilderRef B = p->b;
    T ty = scalar_t(p, t);
    bool s = t->is_signed;
    switch (bi) {
    case BI_ABS: {
        if (!s) return a[0];
        V neg = LLVMBuildSub(B, LLVMConstNull(ty), a[0], "");
        return LLVMBuildSelect(B, LLVMBuildICmp(B, LLVMIntSLT, a[0], LLVMConstNull(ty), ""), neg,
                               a[0], "");
    }
    case BI_MIN:
        return LLVMBuildSelect(B, LLVMBuildICmp(B, s ? LLVMIntSLT : LLVMIntULT, a[1], a[0], ""),
                               a[1], a[0], "");
    case BI_MAX:
        return LLVMBuildSelect(B, LLVMBuildICmp(B, s ? LLVMIntSLT : LLVMIntULT, a[0], a[1], ""),
                               a[1], a[0], "");
    case BI_CLAMP: {
        V lo = ibuiltin(p, BI_MAX, t, (V[]){a[0], a[1], NULL});
        return ibuiltin(p, BI_MIN, t, (V[]){lo, a[2], NULL});
    }
    case BI_POPCOUNT: return call_intr1(p, "llvm.ctpop", ty, a[0]);
    case BI_CLZ:
        return call_intr(p, "llvm.ctlz", &ty, 1, (V[]){a[0], LLVMConstInt(p->i1, 0, false)}, 2);
    case BI_CTZ:
        return call_intr(p, "llvm.cttz", &ty, 1, (V[]){a[0], LLVMConstInt(p->i1, 0, false)}, 2);
    case BI_MUL_HI:
        if (t->bits == 64)
            return call_intr(p, s ? "llvm.nvvm.mulhi.ll" : "llvm.nvvm.mulhi.ull", NULL, 0, a, 2);
        else {
            T w = LLVMIntTypeInContext(p->cx, (unsigned)(2 * t->bits));
            V x = s ? LLVMBuildSExt(B, a[0], w, "") : LLVMBuildZExt(B, a[0], w, "");
            V y = s ? LLVMBuildSExt(B, a[1], w, "") : LLVMBuildZExt(B, a[1], w, "");
            V m = LLVMBuildMul(B, x, y, "");
            return LLVMBuildTrunc(
                B, LLVMBuildLShr(B, m, LLVMConstInt(w, (uint64_t)t->bits, false), ""), ty, "");
        }
    case BI_ROTATE: return call_intr(p, "llvm.fshl", &ty, 1, (V[]){a[0], a[0], a[1]}, 3);
    default: ICE("builtin %s on %s", builtin_info[bi].name, t->name);
    }
}

/* ---------------------------------------------------------------- element-wise */

static V scalar_elem(Px *p, const IrInst *i, int k)
{
    LLVMBuilderRef B = p->b;
    switch (i->op) {
    case IR_ADD:
    case IR_SUB:
    case IR_MUL:
    case IR_DIV:
    case IR_REM:
    case IR_AND:
    case IR_OR:
    case IR_XOR:
    case IR_SHL:
    case IR_SHR:
        return bin(p, i->op, ty_elem(i->type), comp(p, i->ops[0], k), comp(p, i->ops[1], k));
    case IR_NEG: {
        Type *t = ty_elem(i->type);
        V a = comp(p, i->ops[0], k);
        if (t->kind == TY_FLOAT) return LLVMBuildFNeg(B, a, "");
        return LLVMBuildSub(B, LLVMConstNull(scalar_t(p, t)), a, "");
    }
    case IR_NOT: return LLVMBuildNot(B, comp(p, i->ops[0], k), "");
    case IR_EQ:
    case IR_NE:
    case IR_LT:
    case IR_LE:
    case IR_GT:
    case IR_GE:
        return cmp(p, i->op, ty_elem(i->ops[0]->type), comp(p, i->ops[0], k),
                   comp(p, i->ops[1], k));
    case IR_SELECT:
        return LLVMBuildSelect(B, comp(p, i->ops[0], k), comp(p, i->ops[1], k),
                               comp(p, i->ops[2], k), "");
    case IR_CONVERT:
        return convert(p, ty_elem(i->type), ty_elem(i->ops[0]->type), comp(p, i->ops[0], k));
    case IR_BUILTIN: {
        V a[3] = {0};
        for (int j = 0; j < i->nops && j < 3; j++) a[j] = comp(p, i->ops[j], k);
        BuiltinId bi = i->builtin;
        Type *t = ty_elem(i->ops[0]->type);
        if (bi == BI_STEP || bi == BI_SELECT) t = ty_elem(i->type);
        if (bi == BI_SELECT) return LLVMBuildSelect(B, a[2], a[1], a[0], "");
        if (t->kind == TY_FLOAT) return fbuiltin(p, bi, t, a);
        return ibuiltin(p, bi, t, a);
    }
    default: ICE("not element-wise: %s", op_info[i->op].name);
    }
}

static V elementwise(Px *p, const IrInst *i)
{
    if (i->type->kind != TY_VEC) return scalar_elem(p, i, 0);
    V r = LLVMGetUndef(vt(p, i->type));
    for (int k = 0; k < i->type->n; k++)
        r = LLVMBuildInsertElement(p->b, r, scalar_elem(p, i, k), ci32(p, (uint64_t)k), "");
    return r;
}

static V build_vector(Px *p, const Type *t, V *e)
{
    V r = LLVMGetUndef(vt(p, t));
    for (int k = 0; k < t->n; k++)
        r = LLVMBuildInsertElement(p->b, r, e[k], ci32(p, (uint64_t)k), "");
    return r;
}

/* sum over components of x_k * y_k (or (x_k - y_k)^2), in float for half, left to right */
static V reduce_sum(Px *p, const IrInst *x, const IrInst *y, bool diff)
{
    LLVMBuilderRef B = p->b;
    Type *et = ty_elem(x->type);
    V s = NULL;
    for (int k = 0; k < ty_width(x->type); k++) {
        V a = to_float(p, et, comp(p, x, k)), b = y ? to_float(p, et, comp(p, y, k)) : a;
        V t = diff ? LLVMBuildFSub(B, a, b, "") : NULL;
        V term = diff ? LLVMBuildFMul(B, t, t, "") : LLVMBuildFMul(B, a, b, "");
        s = s ? LLVMBuildFAdd(B, s, term, "") : term;
    }
    return s;
}

/* ---------------------------------------------------------------- subgroups */

static V activemask(Px *p)
{
    T fty = LLVMFunctionType(p->i32, NULL, 0, false);
    if (!p->activemask_asm) {
        const char *as = "activemask.b32 $0;", *cons = "=r";
        p->activemask_asm =
            LLVMGetInlineAsm(fty, (char *)as, strlen(as), (char *)cons, strlen(cons), true, false,
                             LLVMInlineAsmDialectATT, false);
    }
    return LLVMBuildCall2(p->b, fty, p->activemask_asm, NULL, 0, "");
}

/* shfl.sync of a 32-bit value */
static V shfl32(Px *p, const char *mode, V mask, V x, V lane)
{
    char name[48];
    snprintf(name, sizeof name, "llvm.nvvm.shfl.sync.%s.i32", mode);
    return call_intr(p, name, NULL, 0, (V[]){mask, x, lane, ci32(p, 0x1f)}, 4);
}

/* shfl.sync of a scalar of any type (through its bits, 64-bit in two halves) */
static V shfl(Px *p, const Type *t, const char *mode, V mask, V x, V lane)
{
    LLVMBuilderRef B = p->b;
    int w = t->kind == TY_BOOL ? 1 : t->bits;
    T bits = LLVMIntTypeInContext(p->cx, (unsigned)w);
    V xi = t->kind == TY_FLOAT ? LLVMBuildBitCast(B, x, bits, "") : x;
    V r;
    if (w == 64) {
        V lo = LLVMBuildTrunc(B, xi, p->i32, ""),
          hi = LLVMBuildTrunc(B, LLVMBuildLShr(B, xi, ci64(p, 32), ""), p->i32, "");
        lo = shfl32(p, mode, mask, lo, lane);
        hi = shfl32(p, mode, mask, hi, lane);
        r = LLVMBuildOr(B, LLVMBuildZExt(B, lo, p->i64, ""),
                        LLVMBuildShl(B, LLVMBuildZExt(B, hi, p->i64, ""), ci64(p, 32), ""), "");
    } else if (w == 32) {
        r = shfl32(p, mode, mask, xi, lane);
    } else {
        r = LLVMBuildTrunc(B, shfl32(p, mode, mask, LLVMBuildZExt(B, xi, p->i32, ""), lane), bits,
                           "");
    }
    return t->kind == TY_FLOAT ? LLVMBuildBitCast(B, r, scalar_t(p, t), "") : r;
}

static V sg_op(Px *p, BuiltinId bi, const Type *t, V a, V b)
{
    if (bi == BI_SUBGROUP_ADD)
        return t->kind == TY_FLOAT ? LLVMBuildFAdd(p->b, a, b, "") : LLVMBuildAdd(p->b, a, b, "");
    bool mx = bi == BI_SUBGROUP_MAX;
    if (t->kind == TY_FLOAT) {
        T ft = scalar_t(p, t);
        return call_intr(p, mx ? "llvm.maxnum" : "llvm.minnum", &ft, 1, (V[]){a, b}, 2);
    }
    return ibuiltin(p, mx ? BI_MAX : BI_MIN, t, (V[]){a, b, NULL});
}

/* Reduction over the active lanes of the warp; every active lane gets the result. */
static V sg_reduce(Px *p, BuiltinId bi, const Type *t, V x)
{
    LLVMBuilderRef B = p->b;
    T ty = scalar_t(p, t);
    V mask = activemask(p);
    LLVMBasicBlockRef full = LLVMAppendBasicBlockInContext(p->cx, p->fn, "sg.full");
    LLVMBasicBlockRef part = LLVMAppendBasicBlockInContext(p->cx, p->fn, "sg.part");
    LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(p->cx, p->fn, "sg.loop");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(p->cx, p->fn, "sg.done");
    LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, mask, ci32(p, 0xffffffffu), ""), full, part);

    /* whole warp: butterfly */
    LLVMPositionBuilderAtEnd(B, full);
    V acc = x;
    for (int k = 16; k >= 1; k /= 2)
        acc = sg_op(p, bi, t, acc,
                    shfl(p, t, "bfly", ci32(p, 0xffffffffu), acc, ci32(p, (uint64_t)k)));
    V full_r = acc;
    LLVMBuildBr(B, done);

    /* some lanes inactive: the active lanes in ascending order */
    LLVMPositionBuilderAtEnd(B, part);
    T i32 = p->i32;
    V first = call_intr(p, "llvm.cttz", &i32, 1, (V[]){mask, LLVMConstInt(p->i1, 0, false)}, 2);
    V acc0 = shfl(p, t, "idx", mask, x, first);
    V rem0 = LLVMBuildAnd(B, mask, LLVMBuildSub(B, mask, ci32(p, 1), ""), "");
    LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, rem0, ci32(p, 0), ""), done, loop);

    LLVMPositionBuilderAtEnd(B, loop);
    V racc = LLVMBuildPhi(B, ty, ""), rrem = LLVMBuildPhi(B, p->i32, "");
    V lane = call_intr(p, "llvm.cttz", &i32, 1, (V[]){rrem, LLVMConstInt(p->i1, 0, false)}, 2);
    V nacc = sg_op(p, bi, t, racc, shfl(p, t, "idx", mask, x, lane));
    V nrem = LLVMBuildAnd(B, rrem, LLVMBuildSub(B, rrem, ci32(p, 1), ""), "");
    LLVMBuildCondBr(B, LLVMBuildICmp(B, LLVMIntEQ, nrem, ci32(p, 0), ""), done, loop);
    LLVMAddIncoming(racc, (V[]){acc0, nacc}, (LLVMBasicBlockRef[]){part, loop}, 2);
    LLVMAddIncoming(rrem, (V[]){rem0, nrem}, (LLVMBasicBlockRef[]){part, loop}, 2);

    LLVMPositionBuilderAtEnd(B, done);
    V r = LLVMBuildPhi(B, ty, "");
    LLVMAddIncoming(r, (V[]){full_r, acc0, nacc}, (LLVMBasicBlockRef[]){full, part, loop}, 3);
    return r;
}

/* ---------------------------------------------------------------- memory */

/* Pointer to byte `off` (a dynamic offset, may be NULL) + coff of base. */
static V byte_ptr(Px *p, V base, V off, uint32_t coff)
{
    V ptr = base;
    if (off) ptr = LLVMBuildInBoundsGEP2(p->b, p->i8, ptr, &off, 1, "");
    if (coff) {
        V c = ci64(p, coff);
        ptr = LLVMBuildInBoundsGEP2(p->b, p->i8, ptr, &c, 1, "");
    }
    return ptr;
}

static void mark_invariant(Px *p, V ld)
{
    unsigned kind = LLVMGetMDKindIDInContext(p->cx, "invariant.load", 14);
    LLVMSetMetadata(ld, kind, LLVMMDNodeInContext(p->cx, NULL, 0));
}

/* Byte offset of member k of aggregate t (a struct field or an array element). */
static uint32_t member_offset(const Type *t, int k)
{
    return t->kind == TY_STRUCT ? t->fields[k].offset : (uint32_t)k * t->elem->size;
}

static const Type *member_type(const Type *t, int k)
{
    return t->kind == TY_STRUCT ? t->fields[k].type : t->elem;
}

static V load_t(Px *p, V base, V off, uint32_t coff, const Type *t, bool inv)
{
    LLVMBuilderRef B = p->b;
    if (t->kind == TY_STRUCT || t->kind == TY_ARRAY) {
        V r = LLVMGetUndef(vt(p, t));
        int n = t->kind == TY_STRUCT ? t->nfields : t->n;
        for (int k = 0; k < n; k++)
            r = LLVMBuildInsertValue(
                B, r, load_t(p, base, off, coff + member_offset(t, k), member_type(t, k), inv),
                (unsigned)k, "");
        return r;
    }
    ICE_ASSERT(t->kind != TY_BUFFER);
    V ptr = byte_ptr(p, base, off, coff);
    V ld = LLVMBuildLoad2(B, memt(p, t), ptr, "");
    LLVMSetAlignment(ld, t->align ? t->align : 1);
    if (inv) mark_invariant(p, ld);
    if (ty_elem((Type *)t)->kind == TY_BOOL) ld = LLVMBuildTrunc(B, ld, vt(p, t), "");
    return ld;
}

static void store_t(Px *p, V base, V off, uint32_t coff, const Type *t, V v)
{
    LLVMBuilderRef B = p->b;
    if (t->kind == TY_STRUCT || t->kind == TY_ARRAY) {
        int n = t->kind == TY_STRUCT ? t->nfields : t->n;
        for (int k = 0; k < n; k++)
            store_t(p, base, off, coff + member_offset(t, k), member_type(t, k),
                    LLVMBuildExtractValue(B, v, (unsigned)k, ""));
        return;
    }
    V ptr = byte_ptr(p, base, off, coff);
    if (ty_elem((Type *)t)->kind == TY_BOOL) v = LLVMBuildZExt(B, v, memt(p, t), "");
    V st = LLVMBuildStore(B, v, ptr);
    LLVMSetAlignment(st, t->align ? t->align : 1);
}

static V ext_index(Px *p, const IrInst *ix, T to)
{
    V v = value(p, ix);
    const Type *t = ix->type;
    unsigned w = LLVMGetIntTypeWidth(to);
    if (t->bits == (int)w) return v;
    if (t->bits > (int)w) return LLVMBuildTrunc(p->b, v, to, "");
    return t->is_signed ? LLVMBuildSExt(p->b, v, to, "") : LLVMBuildZExt(p->b, v, to, "");
}

typedef struct Addr {
    V base;        /* i8 pointer of the object */
    V off;         /* dynamic byte offset, or NULL */
    uint32_t coff; /* constant byte offset */
    Type *t;       /* the accessed element */
    V idx64;       /* buffers: the index as i64 (checked mode) */
    bool is_const; /* read-only buffer */
} Addr;

static Addr address(Px *p, const IrInst *i)
{
    const IrMemRef *mr = &i->mem;
    const IrFunc *f = p->f;
    Addr ad = {0};
    Type *t;
    switch (mr->kind) {
    case MEM_BUFFER: {
        ICE_ASSERT(mr->id >= 0 && mr->id < f->nparams && f->params[mr->id].type->kind == TY_BUFFER);
        ICE_ASSERT(ir_mem_nbase(mr) == 1 && p->bufp[mr->id]);
        t = f->params[mr->id].type->elem;
        ad.base = p->bufp[mr->id];
        ad.is_const = f->params[mr->id].type->is_const;
        ad.idx64 = ext_index(p, i->ops[0], p->i64);
        /* no overflow: an index is at most 64 bits wide and buffers hold < 2^32 elements */
        ad.off = i->ops[0]->type->is_signed ? LLVMBuildNSWMul(p->b, ad.idx64, ci64(p, t->size), "")
                                            : LLVMBuildNUWMul(p->b, ad.idx64, ci64(p, t->size), "");
        break;
    }
    case MEM_SHARED:
    case MEM_LOCAL: {
        bool sh = mr->kind == MEM_SHARED;
        ICE_ASSERT(mr->id >= 0 && mr->id < (sh ? f->shared.len : f->locals.len));
        const IrSlot *s = sh ? &f->shared.data[mr->id] : &f->locals.data[mr->id];
        t = s->type;
        ad.base = sh ? p->shared[mr->id] : p->local[mr->id];
        for (int k = 0; k < ir_mem_nbase(mr); k++) {
            ICE_ASSERT(t->kind == TY_ARRAY);
            /* an index outside a fixed array is undefined (docs/language.md): nuw holds */
            V term =
                LLVMBuildNUWMul(p->b, ext_index(p, i->ops[k], p->i64), ci64(p, t->elem->size), "");
            ad.off = ad.off ? LLVMBuildNUWAdd(p->b, ad.off, term, "") : term;
            t = t->elem;
        }
        break;
    }
    default: ICE("memory kind %d", (int)mr->kind);
    }
    int next = ir_mem_nbase(mr); /* the index operand of the next array step */
    for (int k = 0; k < mr->npath; k++) {
        int q = mr->path[k];
        if (t->kind == TY_STRUCT) {
            ICE_ASSERT(q >= 0 && q < t->nfields);
            ad.coff += t->fields[q].offset;
            t = t->fields[q].type;
        } else if (t->kind == TY_ARRAY) { /* an array field: undefined outside it, so nuw */
            ICE_ASSERT(q == IR_PATH_INDEX && next < mr->nidx);
            V term = LLVMBuildNUWMul(p->b, ext_index(p, i->ops[next++], p->i64),
                                     ci64(p, t->elem->size), "");
            ad.off = ad.off ? LLVMBuildNUWAdd(p->b, ad.off, term, "") : term;
            t = t->elem;
        } else {
            ICE_ASSERT(t->kind == TY_VEC && q >= 0 && q < t->n);
            ad.coff += (uint32_t)q * t->elem->size;
            t = t->elem;
        }
    }
    ad.t = t;
    return ad;
}

/* Checked mode: branches on index < len. Returns the block of the out-of-bounds path's end
 * (after recording the violation) and leaves the builder in the in-bounds block; the caller
 * joins both at *join. NULL when the access is not checked. */
static LLVMBasicBlockRef check_open(Px *p, const IrInst *i, const Addr *ad, bool is_write,
                                    LLVMBasicBlockRef *join)
{
    if (!p->checked || i->mem.kind != MEM_BUFFER) return NULL;
    LLVMBuilderRef B = p->b;
    V len = LLVMBuildZExt(B, p->buflen[i->mem.id], p->i64, "");
    V ok = LLVMBuildICmp(B, LLVMIntULT, ad->idx64, len, "");
    LLVMBasicBlockRef in = LLVMAppendBasicBlockInContext(p->cx, p->fn, "in");
    LLVMBasicBlockRef out = LLVMAppendBasicBlockInContext(p->cx, p->fn, "oob");
    *join = LLVMAppendBasicBlockInContext(p->cx, p->fn, "join");
    LLVMBuildCondBr(B, ok, in, out);
    LLVMPositionBuilderAtEnd(B, out);
    V args[6] = {p->oob,
                 ci32(p, (uint64_t)i->mem.id),
                 ci32(p, (uint64_t)(i->loc.line > 0 ? i->loc.line : 0)),
                 ci32(p, is_write ? 1 : 0),
                 ad->idx64,
                 len};
    LLVMBuildCall2(B, LLVMGlobalGetValueType(p->oob_fn), p->oob_fn, args, 6, "");
    LLVMBuildBr(B, *join);
    LLVMPositionBuilderAtEnd(B, in);
    return out;
}

/* Closes a checked access: v (may be NULL) becomes a phi with zero from the oob path. */
static V check_close(Px *p, LLVMBasicBlockRef out, LLVMBasicBlockRef join, V v, const Type *t)
{
    if (!out) return v;
    LLVMBuilderRef B = p->b;
    LLVMBasicBlockRef in_end = LLVMGetInsertBlock(B);
    LLVMBuildBr(B, join);
    LLVMPositionBuilderAtEnd(B, join);
    if (!v) return NULL;
    V phi = LLVMBuildPhi(B, vt(p, t), "");
    V z = zero_of(p, t);
    LLVMAddIncoming(phi, (V[]){v, z}, (LLVMBasicBlockRef[]){in_end, out}, 2);
    return phi;
}

static V atomic_op(Px *p, BuiltinId bi, Type *t, V ptr, V v, V d)
{
    LLVMBuilderRef B = p->b;
    LLVMAtomicOrdering mo = LLVMAtomicOrderingMonotonic;
    bool fl = t->kind == TY_FLOAT;
    T ity = fl ? LLVMIntTypeInContext(p->cx, (unsigned)t->bits) : scalar_t(p, t);
    if (bi == BI_ATOMIC_CAS) {
        V e = fl ? LLVMBuildBitCast(B, v, ity, "") : v,
          n = fl ? LLVMBuildBitCast(B, d, ity, "") : d;
        V x = LLVMBuildAtomicCmpXchg(B, ptr, e, n, mo, mo, false);
        V old = LLVMBuildExtractValue(B, x, 0, "");
        return fl ? LLVMBuildBitCast(B, old, scalar_t(p, t), "") : old;
    }
    if (fl && bi == BI_ATOMIC_XCHG) {
        V old = LLVMBuildAtomicRMW(B, LLVMAtomicRMWBinOpXchg, ptr, LLVMBuildBitCast(B, v, ity, ""),
                                   mo, false);
        return LLVMBuildBitCast(B, old, scalar_t(p, t), "");
    }
    LLVMAtomicRMWBinOp op;
    switch (bi) {
    case BI_ATOMIC_ADD: op = fl ? LLVMAtomicRMWBinOpFAdd : LLVMAtomicRMWBinOpAdd; break;
    case BI_ATOMIC_SUB: op = fl ? LLVMAtomicRMWBinOpFSub : LLVMAtomicRMWBinOpSub; break;
    case BI_ATOMIC_MIN: op = t->is_signed ? LLVMAtomicRMWBinOpMin : LLVMAtomicRMWBinOpUMin; break;
    case BI_ATOMIC_MAX: op = t->is_signed ? LLVMAtomicRMWBinOpMax : LLVMAtomicRMWBinOpUMax; break;
    case BI_ATOMIC_AND: op = LLVMAtomicRMWBinOpAnd; break;
    case BI_ATOMIC_OR: op = LLVMAtomicRMWBinOpOr; break;
    case BI_ATOMIC_XOR: op = LLVMAtomicRMWBinOpXor; break;
    case BI_ATOMIC_XCHG: op = LLVMAtomicRMWBinOpXchg; break;
    default: ICE("atomic %d", (int)bi);
    }
    ICE_ASSERT(!fl || bi == BI_ATOMIC_ADD || bi == BI_ATOMIC_SUB);
    return LLVMBuildAtomicRMW(B, op, ptr, v, mo, false);
}

static void emit_access(Px *p, const IrInst *i)
{
    Addr ad = address(p, i);
    LLVMBasicBlockRef join = NULL, out;
    int ni = i->mem.nidx;
    if (i->op == IR_LOAD) {
        out = check_open(p, i, &ad, false, &join);
        V v = load_t(p, ad.base, ad.off, ad.coff, ad.t, ad.is_const);
        p->val[i->id] = check_close(p, out, join, v, ad.t);
        return;
    }
    if (i->op == IR_STORE) {
        ICE_ASSERT(i->nops == ni + 1);
        out = check_open(p, i, &ad, true, &join);
        store_t(p, ad.base, ad.off, ad.coff, ad.t, value(p, i->ops[ni]));
        check_close(p, out, join, NULL, ad.t);
        return;
    }
    out = check_open(p, i, &ad, true, &join);
    V ptr = byte_ptr(p, ad.base, ad.off, ad.coff);
    V v = atomic_op(p, i->builtin, ad.t, ptr, value(p, i->ops[ni]),
                    i->builtin == BI_ATOMIC_CAS ? value(p, i->ops[ni + 1]) : NULL);
    p->val[i->id] = check_close(p, out, join, v, ad.t);
}

/* ---------------------------------------------------------------- instructions */

static void emit_builtin(Px *p, const IrInst *i)
{
    LLVMBuilderRef B = p->b;
    BuiltinId bi = i->builtin;
    ICE_ASSERT(bi > BI_NONE && bi < BI_COUNT);
    V r;
    switch (builtin_info[bi].cls) {
    case BK_DOT:
    case BK_LENGTH: {
        Type *et = ty_elem(i->ops[0]->type);
        V s = bi == BI_DOT      ? reduce_sum(p, i->ops[0], i->ops[1], false)
              : bi == BI_LENGTH ? reduce_sum(p, i->ops[0], NULL, false)
                                : reduce_sum(p, i->ops[0], i->ops[1], true);
        if (bi != BI_DOT) s = call_intr1(p, "llvm.sqrt", LLVMTypeOf(s), s);
        r = from_float(p, et, s);
        break;
    }
    case BK_CROSS: {
        const IrInst *x = i->ops[0], *y = i->ops[1];
        Type *et = ty_elem(i->type);
        static const int p1[3] = {1, 2, 0}, p2[3] = {2, 0, 1};
        V e[4];
        for (int k = 0; k < 3; k++) {
            V a = LLVMBuildFMul(B, to_float(p, et, comp(p, x, p1[k])),
                                to_float(p, et, comp(p, y, p2[k])), "");
            V b = LLVMBuildFMul(B, to_float(p, et, comp(p, x, p2[k])),
                                to_float(p, et, comp(p, y, p1[k])), "");
            e[k] = from_float(p, et, LLVMBuildFSub(B, a, b, ""));
        }
        e[3] = LLVMConstNull(scalar_t(p, et));
        r = build_vector(p, i->type, e);
        break;
    }
    case BK_ANYALL: {
        const IrInst *x = i->ops[0];
        r = comp(p, x, 0);
        for (int k = 1; k < ty_width(x->type); k++)
            r = bi == BI_ANY ? LLVMBuildOr(B, r, comp(p, x, k), "")
                             : LLVMBuildAnd(B, r, comp(p, x, k), "");
        break;
    }
    case BK_SG0:
        r = bi == BI_SUBGROUP_SIZE
                ? ci32(p, 32)
                : call_intr(p, "llvm.nvvm.read.ptx.sreg.laneid", NULL, 0, NULL, 0);
        break;
    case BK_SG1: r = sg_reduce(p, bi, i->type, value(p, i->ops[0])); break;
    case BK_SGLANE: {
        V lane = ext_index(p, i->ops[1], p->i32);
        r = shfl(p, i->type, "idx", activemask(p), value(p, i->ops[0]), lane);
        break;
    }
    default:
        if (bi == BI_NORMALIZE) {
            const IrInst *x = i->ops[0];
            Type *et = ty_elem(x->type);
            V s = reduce_sum(p, x, NULL, false);
            T ft = LLVMTypeOf(s);
            V rs = LLVMBuildFDiv(B, LLVMConstReal(ft, 1.0), call_intr1(p, "llvm.sqrt", ft, s), "");
            int n = ty_width(x->type);
            V e[4];
            for (int k = 0; k < n; k++)
                e[k] = from_float(p, et, LLVMBuildFMul(B, to_float(p, et, comp(p, x, k)), rs, ""));
            r = n == 1 ? e[0] : build_vector(p, i->type, e);
            break;
        }
        r = elementwise(p, i);
        break;
    }
    p->val[i->id] = r;
}

static void emit_inst(Px *p, const IrInst *i)
{
    LLVMBuilderRef B = p->b;
    switch (i->op) {
    case IR_CONST:
    case IR_PARAM:
    case IR_UNDEF:
    case IR_WORKITEM:
    case IR_BUFLEN:
    case IR_PHI: /* created at the block's head beforehand */ return;
    case IR_LOAD:
    case IR_STORE:
    case IR_ATOMIC: emit_access(p, i); return;
    case IR_BARRIER: call_intr(p, "llvm.nvvm.barrier0", NULL, 0, NULL, 0); return;
    case IR_CALL: ICE("call to '%s' left after inlining", i->callee ? i->callee->name : "?");
    case IR_BUILTIN: emit_builtin(p, i); return;
    case IR_VECTOR: {
        V e[4];
        for (int k = 0; k < i->nops && k < 4; k++) e[k] = value(p, i->ops[k]);
        p->val[i->id] = build_vector(p, i->type, e);
        return;
    }
    case IR_SPLAT: {
        V e[4], s = value(p, i->ops[0]);
        for (int k = 0; k < i->type->n; k++) e[k] = s;
        p->val[i->id] = build_vector(p, i->type, e);
        return;
    }
    case IR_EXTRACT:
        if (i->ops[0]->type->kind == TY_STRUCT)
            p->val[i->id] = LLVMBuildExtractValue(B, value(p, i->ops[0]), (unsigned)i->idx, "");
        else
            p->val[i->id] =
                LLVMBuildExtractElement(B, value(p, i->ops[0]), ci32(p, (uint64_t)i->idx), "");
        return;
    case IR_INSERT:
        if (i->type->kind == TY_STRUCT)
            p->val[i->id] = LLVMBuildInsertValue(B, value(p, i->ops[0]), value(p, i->ops[1]),
                                                 (unsigned)i->idx, "");
        else
            p->val[i->id] = LLVMBuildInsertElement(B, value(p, i->ops[0]), value(p, i->ops[1]),
                                                   ci32(p, (uint64_t)i->idx), "");
        return;
    case IR_SHUFFLE: {
        if (i->type->kind != TY_VEC) {
            p->val[i->id] = comp(p, i->ops[0], i->mask[0]);
            return;
        }
        V e[4];
        for (int k = 0; k < i->type->n; k++) e[k] = comp(p, i->ops[0], i->mask[k]);
        p->val[i->id] = build_vector(p, i->type, e);
        return;
    }
    case IR_SELECT:
        if (i->ops[0]->type->kind == TY_BOOL) {
            p->val[i->id] = LLVMBuildSelect(B, value(p, i->ops[0]), value(p, i->ops[1]),
                                            value(p, i->ops[2]), "");
            return;
        }
        p->val[i->id] = elementwise(p, i);
        return;
    default:
        if (op_info[i->op].flags & OPF_TERM) return;
        p->val[i->id] = elementwise(p, i);
        return;
    }
}

static int pred_index(const IrBlock *s, const IrBlock *b)
{
    for (int k = 0; k < s->npreds; k++)
        if (s->preds[k] == b) return k;
    ICE("block b%d is not a predecessor of b%d", b->id, s->id);
}

static void emit_term(Px *p, const IrInst *t, LLVMBasicBlockRef ret)
{
    LLVMBuilderRef B = p->b;
    switch (t->op) {
    case IR_BR: LLVMBuildBr(B, p->bb[t->target[0]->id]); return;
    case IR_CBR:
        if (t->target[0] == t->target[1])
            LLVMBuildBr(B, p->bb[t->target[0]->id]);
        else
            LLVMBuildCondBr(B, value(p, t->ops[0]), p->bb[t->target[0]->id],
                            p->bb[t->target[1]->id]);
        return;
    case IR_RET: LLVMBuildBr(B, ret); return;
    case IR_UNREACHABLE: LLVMBuildUnreachable(B); return;
    default: ICE("terminator %s", op_info[t->op].name);
    }
}

/* ---------------------------------------------------------------- kernels */

static void add_attr(Px *p, V fn, unsigned idx, const char *name, uint64_t val)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    ICE_ASSERT(kind != 0);
    LLVMAddAttributeAtIndex(fn, idx, LLVMCreateEnumAttribute(p->cx, kind, val));
}

static void annotate(Px *p, V fn, const char *key, uint32_t v)
{
    LLVMMetadataRef md[3] = {LLVMValueAsMetadata(fn),
                             LLVMMDStringInContext2(p->cx, key, strlen(key)),
                             LLVMValueAsMetadata(ci32(p, v))};
    LLVMAddNamedMetadataOperand(p->mod, "nvvm.annotations",
                                LLVMMetadataAsValue(p->cx, LLVMMDNodeInContext2(p->cx, md, 3)));
}

/* The kernel's LLVM signature (see the header comment). */
static V declare_kernel(Px *p, const IrFunc *f)
{
    T ps[256];
    int n = 0;
    for (int k = 0; k < f->nparams; k++) {
        const Type *t = f->params[k].type;
        ICE_ASSERT(n + 2 < 250);
        if (t->kind == TY_BUFFER) {
            ps[n++] = p->p1;
            ps[n++] = p->i32;
        } else if (ty_is_scalar(t)) {
            ps[n++] = scalar_t(p, t);
        } else {
            ps[n++] = p->p0; /* byval aggregate */
        }
    }
    for (int d = 0; d < 3; d++) ps[n++] = p->i32;
    if (p->checked) ps[n++] = p->p1;
    V fn = LLVMAddFunction(p->mod, f->name, LLVMFunctionType(p->vd, ps, (unsigned)n, false));
    LLVMSetFunctionCallConv(fn, LLVMPTXKernelCallConv);
    add_attr(p, fn, (unsigned)LLVMAttributeFunctionIndex, "nounwind", 0);
    int a = 1; /* attribute index of the first parameter */
    for (int k = 0; k < f->nparams; k++) {
        const Type *t = f->params[k].type;
        if (t->kind == TY_BUFFER) {
            add_attr(p, fn, (unsigned)a, "noalias", 0);
            add_attr(p, fn, (unsigned)a, "nocapture", 0);
            add_attr(p, fn, (unsigned)a, "align", t->elem->align ? t->elem->align : 1);
            if (t->is_const) add_attr(p, fn, (unsigned)a, "readonly", 0);
            a += 2;
        } else if (ty_is_scalar(t)) {
            a++;
        } else {
            unsigned kind = LLVMGetEnumAttributeKindForName("byval", 5);
            LLVMAddAttributeAtIndex(
                fn, (unsigned)a,
                LLVMCreateTypeAttribute(p->cx, kind, LLVMArrayType(p->i8, t->size)));
            add_attr(p, fn, (unsigned)a, "align", t->align);
            a++;
        }
    }
    if (p->checked) add_attr(p, fn, (unsigned)(a + 3), "noalias", 0);
    annotate(p, fn, "kernel", 1);
    if (f->has_wg) {
        annotate(p, fn, "reqntidx", f->wg[0]);
        annotate(p, fn, "reqntidy", f->wg[1]);
        annotate(p, fn, "reqntidz", f->wg[2]);
    }
    return fn;
}

static bool has_barrier(const IrFunc *f)
{
    for (int b = 0; b < f->blocks.len; b++)
        for (const IrInst *i = f->blocks.data[b]->first; i; i = i->next)
            if (i->op == IR_BARRIER) return true;
    return false;
}

/* Reverse post-order of the reachable blocks (definitions before uses but for phis). */
static int rpo(Px *p, IrBlock **order)
{
    const IrFunc *f = p->f;
    int nb = f->blocks.len;
    if (!nb) return 0;
    IrBlock **stack = arena_alloc(p->a, sizeof(IrBlock *) * (size_t)(nb + 1));
    int *next = arena_alloc(p->a, sizeof(int) * (size_t)p->nid);
    IrBlock **post = arena_alloc(p->a, sizeof(IrBlock *) * (size_t)(nb + 1));
    int sp = 0, np = 0;
    stack[sp++] = f->blocks.data[0];
    p->reach[f->blocks.data[0]->id] = 1;
    while (sp) {
        IrBlock *b = stack[sp - 1], *s[2];
        int ns = succs(b, s);
        if (next[b->id] < ns) {
            IrBlock *c = s[next[b->id]++];
            if (!p->reach[c->id]) {
                p->reach[c->id] = 1;
                stack[sp++] = c;
            }
        } else {
            post[np++] = b;
            sp--;
        }
    }
    for (int k = 0; k < np; k++) order[k] = post[np - 1 - k];
    return np;
}

static void emit_kernel(Px *p, const IrFunc *f, V fn)
{
    LLVMBuilderRef B = p->b;
    p->f = f;
    p->fn = fn;
    p->nid = f->next_id + 1;
    p->val = arena_alloc(p->a, sizeof(V) * (size_t)p->nid);
    p->bb = arena_alloc(p->a, sizeof(LLVMBasicBlockRef) * (size_t)p->nid);
    p->bbend = arena_alloc(p->a, sizeof(LLVMBasicBlockRef) * (size_t)p->nid);
    p->reach = arena_alloc(p->a, (size_t)p->nid);
    int np = f->nparams + 1;
    p->bufp = arena_alloc(p->a, sizeof(V) * (size_t)np);
    p->buflen = arena_alloc(p->a, sizeof(V) * (size_t)np);
    p->pval = arena_alloc(p->a, sizeof(V) * (size_t)np);
    p->shared = arena_alloc(p->a, sizeof(V) * (size_t)(f->shared.len + 1));
    p->local = arena_alloc(p->a, sizeof(V) * (size_t)(f->locals.len + 1));
    p->activemask_asm = NULL;

    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(p->cx, fn, "entry");
    LLVMPositionBuilderAtEnd(B, entry);

    /* parameters */
    unsigned a = 0;
    for (int k = 0; k < f->nparams; k++) {
        const Type *t = f->params[k].type;
        if (t->kind == TY_BUFFER) {
            p->bufp[k] = LLVMGetParam(fn, a++);
            p->buflen[k] = LLVMGetParam(fn, a++);
        } else if (ty_is_scalar(t)) {
            p->pval[k] = LLVMGetParam(fn, a++);
        } else {
            p->pval[k] = load_t(p, LLVMGetParam(fn, a++), NULL, 0, t, false);
        }
    }
    for (int d = 0; d < 3; d++) p->gsz[d] = LLVMGetParam(fn, a++);
    p->oob = p->checked ? LLVMGetParam(fn, a++) : NULL;

    /* shared arrays: one addrspace(3) global each */
    for (int s = 0; s < f->shared.len; s++) {
        const Type *t = f->shared.data[s].type;
        char name[256];
        snprintf(name, sizeof name, "%.200s.shared.%d", f->name, s);
        T at = LLVMArrayType(p->i8, t->size ? t->size : 1);
        V g = LLVMAddGlobalInAddressSpace(p->mod, at, name, 3);
        LLVMSetLinkage(g, LLVMInternalLinkage);
        LLVMSetInitializer(g, LLVMGetUndef(at));
        LLVMSetAlignment(g, t->align > 4 ? t->align : 4);
        p->shared[s] = g;
    }
    /* private slots */
    for (int s = 0; s < f->locals.len; s++) {
        const Type *t = f->locals.data[s].type;
        V al = LLVMBuildAlloca(B, LLVMArrayType(p->i8, t->size ? t->size : 1), "");
        LLVMSetAlignment(al, t->align > 4 ? t->align : 4);
        /* accessed through the local address space (5), so PTX says ld.local/st.local even
         * where the code generator runs without its address-space inference (-O1, -O2) */
        p->local[s] = LLVMBuildAddrSpaceCast(B, al, p->p5, "");
    }

    /* work-item registers */
    static const char *const regs[4] = {"tid", "ntid", "ctaid", "nctaid"};
    for (int r = 0; r < 4; r++)
        for (int d = 0; d < 3; d++) p->sreg[r][d] = sreg(p, regs[r], d);
    for (int d = 0; d < 3; d++)
        p->gid[d] =
            LLVMBuildAdd(B, LLVMBuildMul(B, p->sreg[2][d], p->sreg[1][d], ""), p->sreg[0][d], "");

    LLVMBasicBlockRef ret = LLVMAppendBasicBlockInContext(p->cx, fn, "ret");
    IrBlock **order = arena_alloc(p->a, sizeof(IrBlock *) * (size_t)(f->blocks.len + 1));
    int nb = rpo(p, order);
    ICE_ASSERT(nb > 0);
    for (int k = 0; k < nb; k++) p->bb[order[k]->id] = LLVMAppendBasicBlockInContext(p->cx, fn, "");

    /* the entry guard: work-items outside the global size return (kernels without barrier) */
    LLVMBasicBlockRef first = p->bb[order[0]->id];
    if (!has_barrier(f)) {
        V out = NULL;
        for (int d = 0; d < 3; d++) {
            V o = LLVMBuildICmp(B, LLVMIntUGE, p->gid[d], p->gsz[d], "");
            out = out ? LLVMBuildOr(B, out, o, "") : o;
        }
        LLVMBuildCondBr(B, out, ret, first);
    } else {
        LLVMBuildBr(B, first);
    }

    /* phis first (their operands may come from later blocks) */
    for (int k = 0; k < nb; k++) {
        LLVMPositionBuilderAtEnd(B, p->bb[order[k]->id]);
        for (IrInst *i = order[k]->first; i && i->op == IR_PHI; i = i->next)
            p->val[i->id] = LLVMBuildPhi(B, vt(p, i->type), "");
    }
    for (int k = 0; k < nb; k++) {
        IrBlock *b = order[k];
        LLVMPositionBuilderAtEnd(B, p->bb[b->id]);
        for (IrInst *i = b->first; i; i = i->next) emit_inst(p, i);
        IrInst *t = terminator(b);
        if (!t) ICE("block b%d has no terminator", b->id);
        p->bbend[b->id] = LLVMGetInsertBlock(B);
        emit_term(p, t, ret);
    }
    /* phi operands: one entry per distinct reachable predecessor */
    for (int k = 0; k < nb; k++) {
        IrBlock *b = order[k];
        for (IrInst *i = b->first; i && i->op == IR_PHI; i = i->next) {
            for (int e = 0; e < b->npreds; e++) {
                IrBlock *pb = b->preds[e];
                if (!p->reach[pb->id] || pred_index(b, pb) != e) continue;
                V in = value(p, i->ops[e]);
                LLVMBasicBlockRef from = p->bbend[pb->id];
                LLVMAddIncoming(p->val[i->id], &in, &from, 1);
            }
        }
    }
    LLVMPositionBuilderAtEnd(B, ret);
    LLVMBuildRetVoid(B);
}

/* checked mode: void dck.oob(ptr addrspace(1) rec, i32 param, i32 line, i32 is_write, i64 index, i64 len) */
static void define_oob_fn(Px *p)
{
    LLVMBuilderRef B = p->b;
    T ps[6] = {p->p1, p->i32, p->i32, p->i32, p->i64, p->i64};
    V fn = LLVMAddFunction(p->mod, "dck.oob", LLVMFunctionType(p->vd, ps, 6, false));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    add_attr(p, fn, (unsigned)LLVMAttributeFunctionIndex, "noinline", 0);
    add_attr(p, fn, (unsigned)LLVMAttributeFunctionIndex, "cold", 0);
    add_attr(p, fn, (unsigned)LLVMAttributeFunctionIndex, "nounwind", 0);
    LLVMBasicBlockRef e = LLVMAppendBasicBlockInContext(p->cx, fn, "");
    LLVMBasicBlockRef w = LLVMAppendBasicBlockInContext(p->cx, fn, "");
    LLVMBasicBlockRef d = LLVMAppendBasicBlockInContext(p->cx, fn, "");
    LLVMPositionBuilderAtEnd(B, e);
    V rec = LLVMGetParam(fn, 0);
    V x = LLVMBuildAtomicCmpXchg(B, rec, ci32(p, 0), ci32(p, 1), LLVMAtomicOrderingMonotonic,
                                 LLVMAtomicOrderingMonotonic, false);
    LLVMBuildCondBr(B, LLVMBuildExtractValue(B, x, 1, ""), w, d);
    LLVMPositionBuilderAtEnd(B, w);
    V fields[7];
    fields[0] = LLVMGetParam(fn, 1);
    fields[1] = LLVMGetParam(fn, 2);
    fields[2] = LLVMGetParam(fn, 3);
    for (int k = 0; k < 2; k++) {
        V v = LLVMGetParam(fn, (unsigned)(4 + k));
        fields[3 + 2 * k] = LLVMBuildTrunc(B, v, p->i32, "");
        fields[4 + 2 * k] = LLVMBuildTrunc(B, LLVMBuildLShr(B, v, ci64(p, 32), ""), p->i32, "");
    }
    for (int k = 0; k < 7; k++) {
        V idx = ci64(p, (uint64_t)(4 * (k + 1)));
        V st = LLVMBuildStore(B, fields[k], LLVMBuildInBoundsGEP2(B, p->i8, rec, &idx, 1, ""));
        LLVMSetVolatile(st, true);
        LLVMSetAlignment(st, 4);
    }
    LLVMBuildBr(B, d);
    LLVMPositionBuilderAtEnd(B, d);
    LLVMBuildRetVoid(B);
    p->oob_fn = fn;
}

/* ---------------------------------------------------------------- LLVM setup and output */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_llvm(void)
{
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
}

static bool link_libdevice(Px *p, const char *path, StrBuf *err)
{
    if (!path) {
        sb_puts(
            err,
            "the module uses math functions from CUDA's libdevice, but libdevice.10.bc was not found "
            "(set $DCK_LIBDEVICE or $CUDA_HOME)");
        return false;
    }
    LLVMMemoryBufferRef mb;
    char *msg = NULL;
    if (LLVMCreateMemoryBufferWithContentsOfFile(path, &mb, &msg)) {
        sb_printf(err, "cannot read %s: %s", path, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return false;
    }
    /* Lazily: only the module's globals are read now, a function body when it is linked.
     * Parsing all of libdevice (350 functions) cost 50 ms per compilation; the few
     * functions a module calls take well under 1 ms. The lazy module owns mb. */
    LLVMModuleRef ld;
    if (LLVMGetBitcodeModuleInContext2(p->cx, mb, &ld)) {
        sb_printf(err, "%s is not valid LLVM bitcode", path);
        return false;
    }
    /* Every public libdevice function the module does not call goes before linking, so
     * its body is never read. (libdevice's public functions call only intrinsics and
     * internal helpers, which the linker brings along when a kept function uses them.) */
    for (V fn = LLVMGetFirstFunction(ld), next; fn; fn = next) {
        next = LLVMGetNextFunction(fn);
        if (LLVMIsDeclaration(fn) || LLVMGetLinkage(fn) != LLVMExternalLinkage) continue;
        size_t len;
        const char *name = LLVMGetValueName2(fn, &len);
        V used = LLVMGetNamedFunction(p->mod, name);
        if (!used || !LLVMIsDeclaration(used)) LLVMDeleteFunction(fn);
    }
    LLVMSetTarget(ld, LLVMGetTarget(p->mod));
    LLVMSetDataLayout(ld, LLVMGetDataLayoutStr(p->mod));
    if (LLVMLinkModules2(p->mod, ld)) {
        sb_printf(err, "linking %s failed", path);
        return false;
    }
    /* only the kernels are entry points: the library's functions become internal, so the
     * optimizer drops what is not called */
    for (V fn = LLVMGetFirstFunction(p->mod); fn; fn = LLVMGetNextFunction(fn)) {
        if (LLVMIsDeclaration(fn) || LLVMGetFunctionCallConv(fn) == LLVMPTXKernelCallConv) continue;
        LLVMSetLinkage(fn, LLVMInternalLinkage);
    }
    for (V g = LLVMGetFirstGlobal(p->mod); g; g = LLVMGetNextGlobal(g))
        if (!LLVMIsDeclaration(g)) LLVMSetLinkage(g, LLVMInternalLinkage);
    return true;
}

/* PIPELINE. dckc's IR reaches LLVM already inlined, promoted to registers, constant-folded,
 * CSE'd and simplified, so -O1/-O2 run a short pipeline instead of LLVM's default<O3>, which
 * cost about 5 ms of CPU per kernel (docs/ptx.md has the measurements):
 *   module: always-inline (libdevice's functions), globaldce (the ones not called),
 *     globalopt (libdevice's never-written tables become constant: ld.global.nc);
 *   function: nvvm-reflect (libdevice's __nvvm_reflect), early-cse (the IR's repeated address
 *     arithmetic, dead special-register reads), simplifycfg; then (-O2) loop-rotate and full
 *     unrolling of constant trip counts (loop-unroll<O3>: e.g. the 16-step inner loop of a
 *     tiled matrix product becomes straight-line code; no runtime unrolling, ptxas unrolls
 *     such loops itself), sroa (private arrays indexed by the unrolled constants);
 *     instcombine, simplifycfg; separate-const-offset-from-gep + early-cse (constant offsets
 *     out of the address arithmetic, so they become [reg+offset] operands); licm (-O2).
 *     Checked mode adds gvn after instcombine: it drops the bounds checks that dominating
 *     ones already imply.
 * Then the NVPTX code generator runs at its -O0 level: its optimizing level cost another
 * 4 ms per kernel, mostly in optimizations that ptxas redoes. What ptxas does not redo is
 * done here instead: loads and stores in the local address space (allocas are used through
 * addrspace(5), see emit_kernel), 32 x 32 -> 64-bit multiplies (widen_multiplies) and
 * constant-offset addresses sunk next to their uses (sink_offsets).
 * -O3 runs LLVM's default<O3> and its code generator's full pipeline (the previous -O2). */
static const char *pipeline(const Px *p, char *buf, size_t n)
{
    if (p->opt == 0) return "default<O0>";
    if (p->opt >= 3) return "default<O3>";
    snprintf(buf, n,
             "always-inline,globaldce,globalopt,function(nvvm-reflect,early-cse,simplifycfg,%s"
             "sroa,instcombine,%ssimplifycfg,separate-const-offset-from-gep,early-cse%s)",
             p->opt >= 2 ? "loop(loop-rotate),loop-unroll<O3;no-runtime>," : "",
             p->checked ? "gvn," : "", p->opt >= 2 ? ",loop-mssa(licm)" : "");
    return buf;
}

/* At its -O0 level the NVPTX code generator selects `mul.lo.s64` for every 64-bit product,
 * e.g. a 32-bit index times the element size (zext i32 -> i64, then mul or shl), where its
 * optimizing level selects `mul.wide.u32` (one IMAD.WIDE in SASS instead of two or three
 * instructions). This rewrites such products, after the optimizer, to `mul.wide.[us]32` as
 * inline PTX (which ptxas optimizes like any other instruction). Exact: the 32 x 32-bit
 * product always fits in 64 bits. */
static void widen_multiplies(Px *p)
{
    T fty = LLVMFunctionType(p->i64, (T[]){p->i32, p->i32}, 2, false);
    V asm_u = NULL, asm_s = NULL;
    for (V fn = LLVMGetFirstFunction(p->mod); fn; fn = LLVMGetNextFunction(fn))
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
            for (V in = LLVMGetFirstInstruction(bb), next; in; in = next) {
                next = LLVMGetNextInstruction(in);
                LLVMOpcode op = LLVMGetInstructionOpcode(in);
                if ((op != LLVMMul && op != LLVMShl) || LLVMTypeOf(in) != p->i64) continue;
                V x = LLVMGetOperand(in, 0), c = LLVMGetOperand(in, 1);
                if (!LLVMIsAConstantInt(c)) continue;
                bool sx = LLVMIsASExtInst(x) != NULL;
                if ((!sx && !LLVMIsAZExtInst(x)) || LLVMTypeOf(LLVMGetOperand(x, 0)) != p->i32)
                    continue;
                uint64_t k = LLVMConstIntGetZExtValue(c);
                if (op == LLVMShl) {
                    if (k > 30) continue;
                    k = 1ull << k;
                }
                if (k > (sx ? 0x7fffffffull : 0xffffffffull)) continue;
                V *a = sx ? &asm_s : &asm_u;
                if (!*a) {
                    const char *as = sx ? "mul.wide.s32 $0, $1, $2;" : "mul.wide.u32 $0, $1, $2;";
                    const char *cons = "=l,r,n";
                    *a = LLVMGetInlineAsm(fty, (char *)as, strlen(as), (char *)cons, strlen(cons),
                                          false, false, LLVMInlineAsmDialectATT, false);
                }
                LLVMPositionBuilderBefore(p->b, in);
                V args[2] = {LLVMGetOperand(x, 0), ci32(p, k)};
                V r = LLVMBuildCall2(p->b, fty, *a, args, 2, "");
                LLVMReplaceAllUsesWith(in, r);
                LLVMInstructionEraseFromParent(in);
                if (!LLVMGetFirstUse(x)) LLVMInstructionEraseFromParent(x);
            }
}

/* The optimizer hoists loop-invariant addresses out of loops, among them base + constant
 * offset (after full unrolling: one per unrolled access). The code generator's optimizing
 * level sinks those back next to their loads and stores (CodeGenPrepare) so that they
 * become [reg+offset] operands; its -O0 level does not, and each offset would stay a live
 * 64-bit register across the loop. This does that sinking: a `getelementptr i8, base, C`
 * used in other blocks is recomputed in each using block (the original goes when unused). */
static void sink_offsets(Px *p)
{
    for (V fn = LLVMGetFirstFunction(p->mod); fn; fn = LLVMGetNextFunction(fn))
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
            for (V in = LLVMGetFirstInstruction(bb), next; in; in = next) {
                next = LLVMGetNextInstruction(in);
                if (!LLVMIsAGetElementPtrInst(in) || LLVMGetNumOperands(in) != 2 ||
                    !LLVMIsAConstantInt(LLVMGetOperand(in, 1)))
                    continue;
                V base = LLVMGetOperand(in, 0), off = LLVMGetOperand(in, 1);
                T et = LLVMGetGEPSourceElementType(in);
                bool inb = LLVMIsInBounds(in);
                LLVMUseRef u = LLVMGetFirstUse(in);
                while (u) {
                    LLVMUseRef un = LLVMGetNextUse(u);
                    V user = LLVMGetUser(u);
                    if (LLVMIsAInstruction(user) && !LLVMIsAPHINode(user) &&
                        LLVMGetInstructionParent(user) != bb) {
                        LLVMPositionBuilderBefore(p->b, user);
                        V g = inb ? LLVMBuildInBoundsGEP2(p->b, et, base, &off, 1, "")
                                  : LLVMBuildGEP2(p->b, et, base, &off, 1, "");
                        int n = LLVMGetNumOperands(user);
                        for (int k = 0; k < n; k++)
                            if (LLVMGetOperand(user, (unsigned)k) == in)
                                LLVMSetOperand(user, (unsigned)k, g);
                        u = LLVMGetFirstUse(in); /* the use list changed */
                        continue;
                    }
                    u = un;
                }
                if (!LLVMGetFirstUse(in)) LLVMInstructionEraseFromParent(in);
            }
}

/* $DCK_PTX_TIME set: the CPU time of each phase goes to stderr (for tuning the pipeline) */
static double phase_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void phase_report(Px *p, const char *what)
{
    if (!p->timing) return;
    double t = phase_ms();
    fprintf(stderr, "dckc ptx: %-10s %8.2f ms\n", what, t - p->t0);
    p->t0 = t;
}

static bool ptx_emit(const IrModule *m, const CgOptions *o, const char *sm, const char *libdevice,
                     StrBuf *out, StrBuf *err)
{
    Px px = {0};
    Px *p = &px;
    p->timing = getenv("DCK_PTX_TIME") != NULL;
    p->t0 = p->timing ? phase_ms() : 0;
    pthread_once(&init_once, init_llvm);
    phase_report(p, "init");
    p->m = m;
    p->checked = (o && o->checked) || m->checked;
    p->opt = o ? o->opt_level : 2;
    p->a = arena_new();
    p->cx = LLVMContextCreate();
    p->mod = LLVMModuleCreateWithNameInContext(m->source_name ? m->source_name : "dck", p->cx);
    p->b = LLVMCreateBuilderInContext(p->cx);
    LLVMTargetMachineRef tm = NULL;
    bool ok = false;
    char *msg = NULL;

    const char *triple = "nvptx64-nvidia-cuda";
    char cpu[16];
    snprintf(cpu, sizeof cpu, "sm_%s", sm);
    LLVMTargetRef target;
    if (LLVMGetTargetFromTriple(triple, &target, &msg)) {
        sb_printf(err, "LLVM has no NVPTX target: %s", msg ? msg : "?");
        goto done;
    }
    /* -O0 to -O2: the code generator's fast path (see PIPELINE below); -O3: its full one */
    p->cg = p->opt == 3 ? LLVMCodeGenLevelAggressive : LLVMCodeGenLevelNone;
    const char *env_cg = getenv("DCK_PTX_CODEGEN"); /* for experiments: 0-3, LLVM's levels */
    if (env_cg && *env_cg >= '0' && *env_cg <= '3' && !env_cg[1])
        p->cg = (LLVMCodeGenOptLevel)(*env_cg - '0');
    tm = LLVMCreateTargetMachine(target, triple, cpu, "+ptx78", p->cg, LLVMRelocDefault,
                                 LLVMCodeModelDefault);
    if (!tm) {
        sb_printf(err, "cannot create an NVPTX target machine for %s", cpu);
        goto done;
    }
    LLVMSetTarget(p->mod, triple);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
    char *dl = LLVMCopyStringRepOfTargetData(td);
    LLVMSetDataLayout(p->mod, dl);
    LLVMDisposeMessage(dl);
    LLVMDisposeTargetData(td);

    p->i1 = LLVMInt1TypeInContext(p->cx);
    p->i8 = LLVMInt8TypeInContext(p->cx);
    p->i16 = LLVMInt16TypeInContext(p->cx);
    p->i32 = LLVMInt32TypeInContext(p->cx);
    p->i64 = LLVMInt64TypeInContext(p->cx);
    p->f16 = LLVMHalfTypeInContext(p->cx);
    p->f32 = LLVMFloatTypeInContext(p->cx);
    p->f64 = LLVMDoubleTypeInContext(p->cx);
    p->vd = LLVMVoidTypeInContext(p->cx);
    p->p0 = LLVMPointerTypeInContext(p->cx, 0);
    p->p1 = LLVMPointerTypeInContext(p->cx, 1);
    p->p3 = LLVMPointerTypeInContext(p->cx, 3);
    p->p5 = LLVMPointerTypeInContext(p->cx, 5);

    IceScope scope;
    ice_push(&scope);
    if (setjmp(scope.jb) == 0) {
        /* every kernel is declared first, so internal names never take a kernel's name */
        V *fns = arena_alloc(p->a, sizeof(V) * (size_t)(m->funcs.len + 1));
        for (int k = 0; k < m->funcs.len; k++)
            if (m->funcs.data[k]->is_kernel) fns[k] = declare_kernel(p, m->funcs.data[k]);
        if (p->checked) define_oob_fn(p);
        for (int k = 0; k < m->funcs.len; k++) {
            const IrFunc *f = m->funcs.data[k];
            if (!f->is_kernel) continue;
            ice_context(f->name);
            emit_kernel(p, f, fns[k]);
        }
        ice_context(NULL);
        ice_pop(&scope);
        ok = true;
    } else {
        sb_puts(err, scope.msg);
        ice_context(NULL);
    }
    if (!ok) goto done;
    ok = false;
    if (LLVMVerifyModule(p->mod, LLVMReturnStatusAction, &msg)) {
        sb_printf(err, "invalid LLVM IR generated: %s", msg ? msg : "?");
        goto done;
    }
    LLVMDisposeMessage(msg);
    msg = NULL;
    if (getenv("DCK_PTX_DUMP_LLVM")) LLVMDumpModule(p->mod);
    phase_report(p, "irgen");
    if (p->uses_libdevice && !link_libdevice(p, libdevice, err)) {
        if (!libdevice && o->unavailable) *o->unavailable = true;
        goto done;
    }
    phase_report(p, "libdevice");

    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    const char *env_passes = getenv("DCK_PTX_PASSES"); /* for experiments: an LLVM pipeline */
    char pbuf[512];
    LLVMErrorRef e = LLVMRunPasses(
        p->mod, env_passes && *env_passes ? env_passes : pipeline(p, pbuf, sizeof pbuf), tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (e) {
        char *em = LLVMGetErrorMessage(e);
        sb_printf(err, "LLVM passes failed: %s", em);
        LLVMDisposeErrorMessage(em);
        goto done;
    }
    if (p->cg == LLVMCodeGenLevelNone && p->opt > 0) {
        widen_multiplies(p);
        sink_offsets(p);
    }
    phase_report(p, "passes");
    LLVMMemoryBufferRef buf;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, p->mod, LLVMAssemblyFile, &msg, &buf)) {
        sb_printf(err, "PTX emission failed: %s", msg ? msg : "?");
        goto done;
    }
    phase_report(p, "codegen");
    const char *src = m->source_name ? m->source_name : "?";
    for (const char *q = src; *q; q++)
        if (*q == '/') src = q + 1;
    sb_puts(out, "//\n// Generated by dckc --target=ptx (LLVM " LLVM_VERSION_STRING ") from ");
    for (const char *q = src; *q; q++) sb_putc(out, (unsigned char)*q < 32 ? '_' : *q);
    sb_printf(out, " for sm_%s%s. Do not edit.\n", sm, p->checked ? ", checked mode" : "");
    sb_putn(out, LLVMGetBufferStart(buf), LLVMGetBufferSize(buf));
    LLVMDisposeMemoryBuffer(buf);
    ok = true;

done:
    if (msg) LLVMDisposeMessage(msg);
    LLVMDisposeBuilder(p->b);
    LLVMDisposeModule(p->mod);
    if (tm) LLVMDisposeTargetMachine(tm);
    LLVMContextDispose(p->cx);
    arena_free(p->a);
    return ok;
}

static const CgPtxPlugin plugin = {
    .abi = CG_PTX_PLUGIN_ABI,
    .sizes = CG_PTX_SIZES,
    .llvm_version = LLVM_VERSION_STRING,
    .emit = ptx_emit,
};

EXPORT const CgPtxPlugin *dckc_ptx_plugin(void) { return &plugin; }
