/* cg_opencl.c: --target=opencl, OpenCL C 1.2 (file extension .cl), through cg_text.c.
 *
 * Entry points are `__kernel void <name>(...)` with the DCK GPU kernel ABI: by-value
 * parameters, buffers as `__global T *restrict` plus a `uint` length, the exact global size
 * (dck_gx, dck_gy, dck_gz) and in checked mode the `__global uint *dck_oob` record.
 * [[workgroup]] becomes reqd_work_group_size. Extensions are enabled only where a kernel
 * needs them: cl_khr_fp64 (double), cl_khr_int64_base_atomics / cl_khr_int64_extended_atomics
 * (64-bit atomics). half needs no extension: it is stored as 16-bit bits (ushort) and
 * converted with vload_half / vstore_half, computing in float (each result rounded to half),
 * so kernels using half run on devices without cl_khr_fp16 (PoCL). bool in memory is uchar.
 * Subgroups: OpenCL C 1.2 has none (and PoCL offers no cl_khr_subgroups), so this backend
 * has subgroups of one work-item, as the CPU backend: subgroup_size() == 1,
 * subgroup_local_id() == 0, every cross-lane operation returns its own operand.
 * Float atomic add, float compare-and-swap and 64-bit float atomics are compare-exchange
 * loops on the integer bits.
 */
#include "abi/abi.h"
#include "cg_text.h"

#include <string.h>

static const char *ocl_scalar(CgText *t, const Type *s, bool mem)
{
    (void)t;
    switch (s->kind) {
    case TY_BOOL: return mem ? "uchar" : "bool";
    case TY_INT:
        switch (s->bits) {
        case 8: return s->is_signed ? "char" : "uchar";
        case 16: return s->is_signed ? "short" : "ushort";
        case 32: return s->is_signed ? "int" : "uint";
        default: return s->is_signed ? "long" : "ulong";
        }
    case TY_FLOAT:
        return s->bits == 16 ? (mem ? "ushort" : "float") : s->bits == 32 ? "float" : "double";
    default: ICE("not a scalar: %s", s->name);
    }
}

static const char *ocl_vector(CgText *t, const Type *v, bool mem)
{
    const Type *e = v->elem;
    if (e->kind == TY_BOOL) return arena_printf(t->a, "uchar%d", v->n);
    return arena_printf(t->a, "%s%d", ocl_scalar(t, e, mem), v->n);
}

static const char *ocl_vec_make(CgText *t, const Type *v, const char *const *c)
{
    const char *T = ocl_vector(t, v, false);
    bool same = true;
    for (int k = 1; k < v->n; k++) same &= strcmp(c[k], c[0]) == 0;
    if (same) return arena_printf(t->a, "(%s)(%s)", T, c[0]);
    StrBuf sb = {0};
    sb_printf(&sb, "(%s)(", T);
    for (int k = 0; k < v->n; k++) sb_printf(&sb, "%s%s", k ? ", " : "", c[k]);
    sb_putc(&sb, ')');
    const char *r = arena_strdup(t->a, sb.data);
    sb_free(&sb);
    return r;
}

static const char *ocl_zero_agg(CgText *t, const Type *ty)
{
    if (ty->kind == TY_VEC) return arena_printf(t->a, "(%s)(0)", ocl_vector(t, ty, false));
    return arena_printf(t->a, "(%s){0}", cgt_struct_name(t, ty));
}

static const char *space_kw(CgSpace sp)
{
    if (sp == CGS_GLOBAL) return "__global";
    if (sp == CGS_SHARED) return "__local";
    ICE("atomic on private memory");
}

static void ocl_prologue(CgText *t, StrBuf *o)
{
    sb_puts(o, "// OpenCL C 1.2. Kernel ABI: docs/backends.md (OpenCL C).\n");
    if (t->uses_double) sb_puts(o, "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
    if (t->uses_i64_atomics)
        sb_puts(o, "#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable\n");
    if (t->uses_i64_atomics_ext)
        sb_puts(o, "#pragma OPENCL EXTENSION cl_khr_int64_extended_atomics : enable\n");
    sb_putc(o, '\n');
    if (t->cf.uses_half)
        sb_puts(
            o,
            "/* half: stored as its bits, computed in float */\n"
            "static inline float dck_h2f(ushort h) { return vload_half(0, (const __private half *)&h); }\n"
            "static inline ushort dck_f2h(float f)\n{\n    ushort h;\n"
            "    vstore_half(f, 0, (__private half *)&h);\n    return h;\n}\n"
            "static inline float dck_hround(float f) { return dck_h2f(dck_f2h(f)); }\n\n");
    if (t->uses_oob)
        sb_puts(
            o,
            "/* checked mode: the first out-of-bounds access of the launch */\n"
            "static void dck_oob_report(__global uint *oob, uint param, uint line, uint is_write, ulong index,\n"
            "                           uint len)\n{\n"
            "    if (atomic_cmpxchg((volatile __global uint *)&oob[0], 0u, 1u) != 0u)\n        return;\n"
            "    oob[1] = param;\n    oob[2] = line;\n    oob[3] = is_write;\n"
            "    oob[4] = (uint)index;\n    oob[5] = (uint)(index >> 32);\n    oob[6] = len;\n    oob[7] = 0u;\n}\n\n");
}

static void ocl_kernel_open(CgText *t, StrBuf *o)
{
    const IrFunc *f = t->f;
    sb_printf(o, "__kernel ");
    if (f->has_wg)
        sb_printf(o, "__attribute__((reqd_work_group_size(%u, %u, %u)))\n", f->wg[0], f->wg[1],
                  f->wg[2]);
    char sym[300];
    sb_printf(o, "void %s(", abi_entry_symbol(sym, sizeof sym, "opencl", f->name));
    const char *sep = "";
    for (int p = 0; p < f->nparams; p++) {
        const Type *ty = f->params[p].type;
        if (ty->kind == TY_BUFFER) {
            sb_printf(o, "%s__global %s%s *restrict %s, uint %s", sep, ty->is_const ? "const " : "",
                      cgt_mtype(t, ty->elem), t->pname[p], t->lenname[p]);
        } else {
            sb_printf(o, "%s%s %s", sep, cgt_mtype(t, ty), t->pname[p]);
        }
        sep = ",\n        ";
    }
    sb_printf(o, "%suint dck_gx, uint dck_gy, uint dck_gz", sep);
    if (t->checked) sb_puts(o, ",\n        __global uint *dck_oob");
    sb_puts(o, ")\n{\n");
    if (!t->has_barrier)
        sb_puts(
            o,
            "    if (get_global_id(0) >= dck_gx || get_global_id(1) >= dck_gy || get_global_id(2) >= dck_gz)\n"
            "        return;\n");
}

static const char *ocl_workitem(CgText *t, BuiltinId b, int d)
{
    switch (b) {
    case BI_GLOBAL_ID: return arena_printf(t->a, "(uint)get_global_id(%d)", d);
    case BI_LOCAL_ID: return arena_printf(t->a, "(uint)get_local_id(%d)", d);
    case BI_GROUP_ID: return arena_printf(t->a, "(uint)get_group_id(%d)", d);
    case BI_LOCAL_SIZE: return arena_printf(t->a, "(uint)get_local_size(%d)", d);
    case BI_NUM_GROUPS: return arena_printf(t->a, "(uint)get_num_groups(%d)", d);
    case BI_GLOBAL_SIZE: return d == 0 ? "dck_gx" : d == 1 ? "dck_gy" : "dck_gz";
    default: ICE("work-item query %d", (int)b);
    }
}

/* compare-exchange loop helpers for float atomics, per address space */
static const char *float_atomic_helper(CgText *t, BuiltinId b, const Type *e, CgSpace sp)
{
    bool dbl = e->bits == 64;
    const char *S = space_kw(sp), *F = dbl ? "double" : "float", *U = dbl ? "ulong" : "uint";
    const char *cas = dbl ? "atom_cmpxchg" : "atomic_cmpxchg", *as_u = dbl ? "as_ulong" : "as_uint",
               *as_f = dbl ? "as_double" : "as_float";
    const char *op = b == BI_ATOMIC_ADD ? "add" : b == BI_ATOMIC_XCHG ? "xchg" : "cas";
    const char *fn = arena_printf(t->a, "dck_atomic_%s_%s_%s", op, dbl ? "f64" : "f32",
                                  sp == CGS_GLOBAL ? "global" : "local");
    if (!cf_want_helper(&t->cf, fn)) return fn;
    StrBuf *h = &t->cf.helpers;
    if (b == BI_ATOMIC_CAS) {
        sb_printf(h, "static inline %s %s(volatile %s %s *p, %s e, %s d)\n{\n", F, fn, S, F, F, F);
        sb_printf(h, "    return %s(%s((volatile %s %s *)p, %s(e), %s(d)));\n}\n", as_f, cas, S, U,
                  as_u, as_u);
        return fn;
    }
    sb_printf(h, "static inline %s %s(volatile %s %s *p, %s v)\n{\n", F, fn, S, F, F);
    sb_printf(h, "    volatile %s %s *q = (volatile %s %s *)p;\n", S, U, S, U);
    sb_printf(h, "    %s old = *q, prev;\n    do {\n        prev = old;\n", U);
    sb_printf(h, "        old = %s(q, prev, %s);\n", cas,
              b == BI_ATOMIC_ADD ? arena_printf(t->a, "%s(%s(prev) + v)", as_u, as_f)
                                 : arena_printf(t->a, "%s(v)", as_u));
    sb_printf(h, "    } while (old != prev);\n    return %s(prev);\n}\n", as_f);
    return fn;
}

static const char *ocl_atomic(CgText *t, BuiltinId b, const Type *e, CgSpace sp, const char *lv,
                              const char *a, const char *b2)
{
    space_kw(sp);
    if (e->kind == TY_FLOAT) {
        if (b == BI_ATOMIC_XCHG && e->bits == 32)
            return arena_printf(t->a, "atomic_xchg(&%s, %s)", lv, a);
        ICE_ASSERT(b == BI_ATOMIC_ADD || b == BI_ATOMIC_XCHG || b == BI_ATOMIC_CAS);
        const char *fn = float_atomic_helper(t, b, e, sp);
        if (b == BI_ATOMIC_CAS) return arena_printf(t->a, "%s(&%s, %s, %s)", fn, lv, a, b2);
        return arena_printf(t->a, "%s(&%s, %s)", fn, lv, a);
    }
    ICE_ASSERT(e->kind == TY_INT && e->bits >= 32);
    const char *pre = e->bits == 64 ? "atom_" : "atomic_";
    static const char *const opn[] = {
        [BI_ATOMIC_ADD] = "add", [BI_ATOMIC_SUB] = "sub",   [BI_ATOMIC_MIN] = "min",
        [BI_ATOMIC_MAX] = "max", [BI_ATOMIC_AND] = "and",   [BI_ATOMIC_OR] = "or",
        [BI_ATOMIC_XOR] = "xor", [BI_ATOMIC_XCHG] = "xchg", [BI_ATOMIC_CAS] = "cmpxchg",
    };
    ICE_ASSERT(b >= BI_ATOMIC_ADD && b <= BI_ATOMIC_CAS);
    if (b == BI_ATOMIC_CAS) return arena_printf(t->a, "%s%s(&%s, %s, %s)", pre, opn[b], lv, a, b2);
    return arena_printf(t->a, "%s%s(&%s, %s)", pre, opn[b], lv, a);
}

static const char *ocl_subgroup(CgText *t, BuiltinId b, const Type *ty, const char *a,
                                const char *lane)
{
    (void)t;
    (void)ty;
    (void)lane;
    switch (b) {
    case BI_SUBGROUP_SIZE: return "1u";
    case BI_SUBGROUP_LOCAL_ID: return "0u";
    default: return a; /* one work-item per subgroup */
    }
}

/* the C library's names plus OpenCL C's own clamp, mix, step, sign and rsqrt */
static const char *ocl_mathfn(CgText *t, BuiltinId b, const Type *e)
{
    (void)t;
    (void)e;
    switch (b) {
    case BI_CLAMP:
    case BI_MIX:
    case BI_STEP:
    case BI_SIGN:
    case BI_RSQRT: return builtin_info[b].name;
    default: return cf_libm_name(b);
    }
}

static const char *ocl_intfn(CgText *t, BuiltinId b, const Type *e, const char *a, const char *b2)
{
    const char *T = ocl_scalar(t, e, false);
    const char *U = ocl_scalar(t,
                               ty_scalar(e->bits == 8    ? SC_UCHAR
                                         : e->bits == 16 ? SC_USHORT
                                         : e->bits == 32 ? SC_UINT
                                                         : SC_ULONG),
                               false);
    switch (b) {
    case BI_POPCOUNT: return arena_printf(t->a, "popcount(%s)", a);
    case BI_CLZ: return arena_printf(t->a, "clz(%s)", a);
    case BI_CTZ: /* OpenCL C 1.2 has no ctz: the trailing zeros are the ones of ~a & (a - 1) */
        return arena_printf(t->a, "(%s)popcount((%s)(~%s & (%s - 1)))", T, U, a, a);
    case BI_MUL_HI: return arena_printf(t->a, "mul_hi(%s, %s)", a, b2);
    case BI_ROTATE: return arena_printf(t->a, "rotate(%s, %s)", a, b2);
    default: return NULL;
    }
}

static const char *ocl_f2i(CgText *t, const Type *to, const Type *from, const char *a)
{
    (void)from;
    return arena_printf(t->a, "convert_%s_sat(%s)", ocl_scalar(t, to, false), a);
}

static const char *ocl_oob_call(CgText *t, int param, int line, bool is_write, const char *index64,
                                const char *len)
{
    return arena_printf(t->a, "dck_oob_report(dck_oob, %du, %du, %du, %s, %s)", param, line,
                        is_write ? 1 : 0, index64, len);
}

static const char *ocl_param_ref(CgText *t, int p) { return t->pname[p]; }
static const char *ocl_len_ref(CgText *t, int p) { return t->lenname[p]; }

static const CgDialect opencl_dialect = {
    .target = "opencl",
    .kind = CGT_OPENCL,
    .vec_ops = true,
    .half_native = false,
    .bool_mem_uchar = true,
    .scalar = ocl_scalar,
    .vector = ocl_vector,
    .vec_make = ocl_vec_make,
    .zero_agg = ocl_zero_agg,
    .prologue = ocl_prologue,
    .kernel_open = ocl_kernel_open,
    .workitem = ocl_workitem,
    .barrier = "barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)",
    .atomic = ocl_atomic,
    .subgroup = ocl_subgroup,
    .mathfn = ocl_mathfn,
    .intfn = ocl_intfn,
    .f2i = ocl_f2i,
    .oob_call = ocl_oob_call,
    .param_ref = ocl_param_ref,
    .len_ref = ocl_len_ref,
    .unsupported = NULL,
};

static bool opencl_emit(const IrModule *m, const CgOptions *o, StrBuf *out, StrBuf *err)
{
    return cgt_emit(&opencl_dialect, m, o, out, err);
}

const CgTarget cg_target_opencl = {
    .name = "opencl",
    .ext = ".cl",
    .binary = false,
    .emit = opencl_emit,
};
