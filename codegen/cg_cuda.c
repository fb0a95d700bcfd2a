/* cg_cuda.c: --target=cuda, CUDA C++ for NVRTC or nvcc (file extension .cu), through cg_text.c.
 *
 * Entry points are `extern "C" __global__ void <name>(...)` with the DCK GPU kernel ABI:
 * by-value parameters, buffers as `T *__restrict__` (`const T *__restrict__` for const
 * buffers, which lets the compiler use the read-only data cache) plus an `unsigned int`
 * length, the exact global size (dck_gx, dck_gy, dck_gz) and in checked mode the
 * `unsigned int *dck_oob` record. [[workgroup]] becomes __launch_bounds__. The output needs
 * no header (NVRTC compiles it with no include path): vector types are our own structs with
 * the DCK layout (dck_float4, 3-element vectors padded to 4), half is stored as its 16-bit
 * bits and computed in float (inline PTX cvt), 64-bit integers are long long.
 * Subgroups are warps: subgroup_size() is warpSize, reductions are __shfl_xor_sync
 * butterflies when the whole warp is active and a walk over __activemask() otherwise.
 * Atomics map to atomicAdd & co; float and double atomic add are native (sm_60+).
 *
 * cg_cuda_emit() is also the NVRTC route of the PTX target (dckc --ptx-via=nvrtc).
 */
#include "abi/abi.h"
#include "cg_text.h"
#include "cg_cuda.h"

#include <stdlib.h>
#include <string.h>

static const char *cu_scalar(CgText *t, const Type *s, bool mem)
{
    (void)t;
    switch (s->kind) {
    case TY_BOOL: return "bool";
    case TY_INT:
        switch (s->bits) {
        case 8: return s->is_signed ? "signed char" : "uchar";
        case 16: return s->is_signed ? "short" : "ushort";
        case 32: return s->is_signed ? "int" : "uint";
        default: return s->is_signed ? "long long" : "unsigned long long";
        }
    case TY_FLOAT:
        return s->bits == 16 ? (mem ? "ushort" : "float") : s->bits == 32 ? "float" : "double";
    default: ICE("not a scalar: %s", s->name);
    }
}

static void note_vec(CgText *t, Type *v)
{
    for (int i = 0; i < t->vec_types.len; i++)
        if (t->vec_types.data[i] == v) return;
    vec_push(t->a, &t->vec_types, v);
}

static const char *cu_vector(CgText *t, const Type *v, bool mem)
{
    Type *e = v->elem;
    if (e->kind == TY_FLOAT && e->bits == 16 && !mem) {
        Type *fv = ty_vec(ty_scalar(SC_FLOAT), v->n);
        note_vec(t, fv);
        return arena_printf(t->a, "dck_float%d", v->n);
    }
    note_vec(t, (Type *)v);
    return arena_printf(t->a, "dck_%s%d", ty_scalar_name(e->scalar), v->n);
}

static const char *cu_vec_make(CgText *t, const Type *v, const char *const *c)
{
    StrBuf sb = {0};
    sb_printf(&sb, "%s{", cu_vector(t, v, false));
    for (int k = 0; k < v->n; k++) sb_printf(&sb, "%s%s", k ? ", " : "", c[k]);
    sb_putc(&sb, '}');
    const char *r = arena_strdup(t->a, sb.data);
    sb_free(&sb);
    return r;
}

static const char *cu_zero_agg(CgText *t, const Type *ty)
{
    if (ty->kind == TY_VEC) return arena_printf(t->a, "%s{}", cu_vector(t, ty, false));
    return arena_printf(t->a, "%s{}", cgt_struct_name(t, ty));
}

static int cmp_vec(const void *pa, const void *pb)
{
    const Type *a = *(Type *const *)pa, *b = *(Type *const *)pb;
    if (a->elem->scalar != b->elem->scalar) return (int)a->elem->scalar - (int)b->elem->scalar;
    return a->n - b->n;
}

#define Q "static __device__ __forceinline__"

static void cu_prologue(CgText *t, StrBuf *o)
{
    sb_puts(
        o,
        "// CUDA C++ for NVRTC or nvcc; needs no header. Kernel ABI: docs/backends.md (CUDA C).\n"
        "typedef unsigned char uchar;\ntypedef unsigned short ushort;\ntypedef unsigned int uint;\n\n");
    if (t->vec_types.len) {
        qsort(t->vec_types.data, (size_t)t->vec_types.len, sizeof(Type *), cmp_vec);
        sb_puts(
            o,
            "/* vectors with the DCK layout (3-element vectors have the size and alignment of 4) */\n");
    }
    for (int i = 0; i < t->vec_types.len; i++) {
        Type *v = t->vec_types.data[i];
        const char *n = arena_printf(t->a, "dck_%s%d", ty_scalar_name(v->elem->scalar), v->n);
        const char *e = cu_scalar(t, v->elem, true);
        sb_printf(o, "struct __align__(%u) %s { %s x, y", v->align, n, e);
        if (v->n >= 3) sb_puts(o, ", z");
        if (v->n == 4) sb_puts(o, ", w");
        if (v->n == 3) sb_puts(o, ", dck_pad");
        sb_puts(o, "; };\n");
        sb_printf(o, "static_assert(sizeof(%s) == %u && alignof(%s) == %u, \"%s layout\");\n", n,
                  v->size, n, v->align, n);
    }
    if (t->vec_types.len) sb_putc(o, '\n');
    if (t->cf.uses_half)
        sb_puts(o,
                "/* half: stored as its bits, computed in float */\n" Q
                " float dck_h2f(ushort h)\n{\n    float f;\n"
                "    asm(\"cvt.f32.f16 %0, %1;\" : \"=f\"(f) : \"h\"(h));\n    return f;\n}\n" Q
                " ushort dck_f2h(float f)\n{\n    ushort h;\n"
                "    asm(\"cvt.rn.f16.f32 %0, %1;\" : \"=h\"(h) : \"f\"(f));\n    return h;\n}\n" Q
                " float dck_hround(float f) { return dck_h2f(dck_f2h(f)); }\n\n");
    if (t->uses_oob)
        sb_puts(
            o,
            "/* checked mode: the first out-of-bounds access of the launch */\n"
            "static __device__ __noinline__ void dck_oob_report(uint *oob, uint param, uint line, uint is_write,\n"
            "                                                   unsigned long long index, uint len)\n{\n"
            "    if (atomicCAS(&oob[0], 0u, 1u) != 0u)\n        return;\n"
            "    oob[1] = param;\n    oob[2] = line;\n    oob[3] = is_write;\n"
            "    oob[4] = (uint)index;\n    oob[5] = (uint)(index >> 32);\n    oob[6] = len;\n    oob[7] = 0u;\n}\n\n");
}

static void cu_kernel_open(CgText *t, StrBuf *o)
{
    const IrFunc *f = t->f;
    sb_puts(o, "extern \"C\" __global__ void ");
    if (f->has_wg) sb_printf(o, "__launch_bounds__(%u) ", f->wg[0] * f->wg[1] * f->wg[2]);
    char sym[300];
    sb_printf(o, "%s(", abi_entry_symbol(sym, sizeof sym, "cuda", f->name));
    const char *sep = "";
    for (int p = 0; p < f->nparams; p++) {
        const Type *ty = f->params[p].type;
        if (ty->kind == TY_BUFFER)
            sb_printf(o, "%s%s%s *__restrict__ %s, uint %s", sep, ty->is_const ? "const " : "",
                      cgt_mtype(t, ty->elem), t->pname[p], t->lenname[p]);
        else
            sb_printf(o, "%s%s %s", sep, cgt_mtype(t, ty), t->pname[p]);
        sep = ",\n        ";
    }
    sb_printf(o, "%suint dck_gx, uint dck_gy, uint dck_gz", sep);
    if (t->checked) sb_puts(o, ",\n        uint *dck_oob");
    sb_puts(o, ")\n{\n");
    for (int d = 0; d < 3; d++)
        if (t->use_wi[0][d])
            sb_printf(o, "    const uint dck_gid_%c = blockIdx.%c * blockDim.%c + threadIdx.%c;\n",
                      "xyz"[d], "xyz"[d], "xyz"[d], "xyz"[d]);
    if (!t->has_barrier)
        sb_puts(
            o,
            "    if (dck_gid_x >= dck_gx || dck_gid_y >= dck_gy || dck_gid_z >= dck_gz)\n        return;\n");
}

static const char *cu_workitem(CgText *t, BuiltinId b, int d)
{
    char c = "xyz"[d];
    switch (b) {
    case BI_GLOBAL_ID: return arena_printf(t->a, "dck_gid_%c", c);
    case BI_LOCAL_ID: return arena_printf(t->a, "threadIdx.%c", c);
    case BI_GROUP_ID: return arena_printf(t->a, "blockIdx.%c", c);
    case BI_LOCAL_SIZE: return arena_printf(t->a, "blockDim.%c", c);
    case BI_NUM_GROUPS: return arena_printf(t->a, "gridDim.%c", c);
    case BI_GLOBAL_SIZE: return d == 0 ? "dck_gx" : d == 1 ? "dck_gy" : "dck_gz";
    default: ICE("work-item query %d", (int)b);
    }
}

static const char *cu_atomic(CgText *t, BuiltinId b, const Type *e, CgSpace sp, const char *lv,
                             const char *a, const char *b2)
{
    if (sp == CGS_PRIVATE) ICE("atomic on private memory");
    const char *ULL = "unsigned long long";
    if (e->kind == TY_FLOAT) {
        bool dbl = e->bits == 64;
        switch (b) {
        case BI_ATOMIC_ADD: return arena_printf(t->a, "atomicAdd(&%s, %s)", lv, a);
        case BI_ATOMIC_XCHG:
            if (!dbl) return arena_printf(t->a, "atomicExch(&%s, %s)", lv, a);
            return arena_printf(
                t->a,
                "__longlong_as_double((long long)atomicExch((%s *)&%s, (%s)__double_as_longlong(%s)))",
                ULL, lv, ULL, a);
        case BI_ATOMIC_CAS:
            if (!dbl)
                return arena_printf(
                    t->a,
                    "__uint_as_float(atomicCAS((uint *)&%s, __float_as_uint(%s), __float_as_uint(%s)))",
                    lv, a, b2);
            return arena_printf(
                t->a,
                "__longlong_as_double((long long)atomicCAS((%s *)&%s, (%s)__double_as_longlong(%s), "
                "(%s)__double_as_longlong(%s)))",
                ULL, lv, ULL, a, ULL, b2);
        default: ICE("float atomic %s", builtin_info[b].name);
        }
    }
    ICE_ASSERT(e->kind == TY_INT && e->bits >= 32);
    if (e->bits == 32) {
        switch (b) {
        case BI_ATOMIC_ADD: return arena_printf(t->a, "atomicAdd(&%s, %s)", lv, a);
        case BI_ATOMIC_SUB: return arena_printf(t->a, "atomicSub(&%s, %s)", lv, a);
        case BI_ATOMIC_MIN: return arena_printf(t->a, "atomicMin(&%s, %s)", lv, a);
        case BI_ATOMIC_MAX: return arena_printf(t->a, "atomicMax(&%s, %s)", lv, a);
        case BI_ATOMIC_AND: return arena_printf(t->a, "atomicAnd(&%s, %s)", lv, a);
        case BI_ATOMIC_OR: return arena_printf(t->a, "atomicOr(&%s, %s)", lv, a);
        case BI_ATOMIC_XOR: return arena_printf(t->a, "atomicXor(&%s, %s)", lv, a);
        case BI_ATOMIC_XCHG: return arena_printf(t->a, "atomicExch(&%s, %s)", lv, a);
        case BI_ATOMIC_CAS: return arena_printf(t->a, "atomicCAS(&%s, %s, %s)", lv, a, b2);
        default: ICE("atomic %d", (int)b);
        }
    }
    /* 64-bit: the unsigned long long forms; signed min/max have their own */
    const char *T = cu_scalar(t, e, false);
    const char *p =
        e->is_signed ? arena_printf(t->a, "(%s *)&%s", ULL, lv) : arena_printf(t->a, "&%s", lv);
    const char *ua = e->is_signed ? arena_printf(t->a, "(%s)%s", ULL, a) : a;
    const char *r;
    switch (b) {
    case BI_ATOMIC_ADD: r = arena_printf(t->a, "atomicAdd(%s, %s)", p, ua); break;
    case BI_ATOMIC_SUB: r = arena_printf(t->a, "atomicAdd(%s, 0ull - (%s)%s)", p, ULL, a); break;
    case BI_ATOMIC_MIN: return arena_printf(t->a, "atomicMin(&%s, %s)", lv, a);
    case BI_ATOMIC_MAX: return arena_printf(t->a, "atomicMax(&%s, %s)", lv, a);
    case BI_ATOMIC_AND: r = arena_printf(t->a, "atomicAnd(%s, %s)", p, ua); break;
    case BI_ATOMIC_OR: r = arena_printf(t->a, "atomicOr(%s, %s)", p, ua); break;
    case BI_ATOMIC_XOR: r = arena_printf(t->a, "atomicXor(%s, %s)", p, ua); break;
    case BI_ATOMIC_XCHG: r = arena_printf(t->a, "atomicExch(%s, %s)", p, ua); break;
    case BI_ATOMIC_CAS:
        r = arena_printf(t->a, "atomicCAS(%s, %s, %s)", p, ua,
                         e->is_signed ? arena_printf(t->a, "(%s)%s", ULL, b2) : b2);
        break;
    default: ICE("atomic %d", (int)b);
    }
    return e->is_signed ? arena_printf(t->a, "(%s)%s", T, r) : r;
}

/* warp reductions: butterfly when the warp is complete, else over the active lanes */
static const char *sg_reduce_helper(CgText *t, BuiltinId b, const Type *ty)
{
    const char *op = b == BI_SUBGROUP_ADD ? "add" : b == BI_SUBGROUP_MIN ? "min" : "max";
    const char *fn = arena_printf(t->a, "dck_sg_%s_%s", op, cf_sname(&t->cf, ty));
    if (!cf_want_helper(&t->cf, fn)) return fn;
    const char *T = cu_scalar(t, ty, false);
    /* what __shfl_sync moves: int/uint for narrow types, the type itself otherwise */
    const char *W = ty->kind == TY_BOOL                   ? "int"
                    : ty->kind == TY_INT && ty->bits < 32 ? (ty->is_signed ? "int" : "uint")
                                                          : T;
    const char *comb;
    if (b == BI_SUBGROUP_ADD) {
        comb = ty->kind == TY_INT ? arena_printf(t->a, "(%s)((%s)r + (%s)o)", W,
                                                 ty->bits == 64 ? "unsigned long long" : "uint",
                                                 ty->bits == 64 ? "unsigned long long" : "uint")
                                  : "r + o";
    } else if (ty->kind == TY_FLOAT) {
        comb = arena_printf(t->a, "%s(r, o)",
                            b == BI_SUBGROUP_MIN ? (ty->bits == 64 ? "fmin" : "fminf")
                                                 : (ty->bits == 64 ? "fmax" : "fmaxf"));
    } else {
        comb = b == BI_SUBGROUP_MIN ? "(o < r ? o : r)" : "(r < o ? o : r)";
    }
    StrBuf *h = &t->cf.helpers;
    sb_printf(h, Q " %s %s(%s x)\n{\n", T, fn, T);
    sb_printf(h, "    const uint m = __activemask();\n    %s r = (%s)x;\n", W, W);
    sb_puts(h, "    if (m == 0xffffffffu) {\n        for (int s = 16; s > 0; s >>= 1) {\n");
    sb_printf(h, "            %s o = __shfl_xor_sync(m, r, s);\n            r = %s;\n        }\n",
              W, comb);
    sb_printf(h, "        return (%s)r;\n    }\n", T);
    sb_printf(h, "    const %s mine = r;\n    bool first = true;\n", W);
    sb_puts(h, "    for (uint rest = m; rest != 0u; rest &= rest - 1u) {\n");
    sb_printf(h, "        %s o = __shfl_sync(m, mine, __ffs(rest) - 1);\n", W);
    sb_printf(h,
              "        r = first ? o : %s;\n        first = false;\n    }\n    return (%s)r;\n}\n",
              comb, T);
    return fn;
}

static const char *cu_subgroup(CgText *t, BuiltinId b, const Type *ty, const char *a,
                               const char *lane)
{
    switch (b) {
    case BI_SUBGROUP_SIZE: return "(uint)warpSize";
    case BI_SUBGROUP_LOCAL_ID:
        return "((threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z)) & 31u)";
    case BI_SUBGROUP_ADD:
    case BI_SUBGROUP_MIN:
    case BI_SUBGROUP_MAX: return arena_printf(t->a, "%s(%s)", sg_reduce_helper(t, b, ty), a);
    case BI_SUBGROUP_BROADCAST:
    case BI_SUBGROUP_SHUFFLE: {
        const char *T = cu_scalar(t, ty, false);
        if (ty->kind == TY_BOOL)
            return arena_printf(t->a, "(__shfl_sync(__activemask(), (int)%s, (int)%s) != 0)", a,
                                lane);
        if (ty->kind == TY_INT && ty->bits < 32)
            return arena_printf(t->a, "(%s)__shfl_sync(__activemask(), (int)%s, (int)%s)", T, a,
                                lane);
        return arena_printf(t->a, "__shfl_sync(__activemask(), %s, (int)%s)", a, lane);
    }
    default: ICE("subgroup builtin %d", (int)b);
    }
}

/* the C library's names (float: name + 'f') plus CUDA's rsqrt/rsqrtf */
static const char *cu_mathfn(CgText *t, BuiltinId b, const Type *e)
{
    const char *fn = b == BI_RSQRT ? "rsqrt" : cf_libm_name(b);
    if (!fn) return NULL;
    return e->bits == 64 ? fn : arena_printf(t->a, "%sf", fn);
}

static const char *cu_intfn(CgText *t, BuiltinId b, const Type *e, const char *a, const char *b2)
{
    const char *T = cu_scalar(t, e, false);
    int w = e->bits;
    const char *U = w == 64 ? "unsigned long long" : "uint";
    const char *UN = w == 8 ? "uchar" : w == 16 ? "ushort" : U; /* same-width unsigned */
    switch (b) {
    case BI_POPCOUNT:
        if (w == 64) return arena_printf(t->a, "(%s)__popcll((%s)%s)", T, U, a);
        return arena_printf(t->a, "(%s)__popc((uint)(%s)%s)", T, UN, a);
    case BI_CLZ:
        if (w == 64) return arena_printf(t->a, "(%s)__clzll((long long)%s)", T, a);
        if (w == 32) return arena_printf(t->a, "(%s)__clz((int)%s)", T, a);
        return arena_printf(t->a, "(%s)(__clz((int)(uint)(%s)%s) - %d)", T, UN, a, 32 - w);
    case BI_CTZ:
        if (w == 64)
            return arena_printf(t->a, "(%s)__popcll(~(%s)%s & ((%s)%s - 1ull))", T, U, a, U, a);
        return arena_printf(t->a, "(%s)__popc((uint)(%s)(~%s & (%s - 1)))", T, UN, a, a);
    case BI_MUL_HI:
        if (w == 32)
            return arena_printf(t->a, "%s(%s, %s)", e->is_signed ? "__mulhi" : "__umulhi", a, b2);
        if (w == 64)
            return arena_printf(t->a, "%s(%s, %s)", e->is_signed ? "__mul64hi" : "__umul64hi", a,
                                b2);
        return NULL;
    default: return NULL;
    }
}

static const char *cu_f2i(CgText *t, const Type *to, const Type *from, const char *a)
{
    (void)from; /* cvt.rzi saturates and maps NaN to 0 */
    return arena_printf(t->a, "(%s)%s", cu_scalar(t, to, false), a);
}

static const char *cu_oob_call(CgText *t, int param, int line, bool is_write, const char *index64,
                               const char *len)
{
    return arena_printf(t->a, "dck_oob_report(dck_oob, %du, %du, %du, %s, %s)", param, line,
                        is_write ? 1 : 0, index64, len);
}

static const char *cu_param_ref(CgText *t, int p) { return t->pname[p]; }
static const char *cu_len_ref(CgText *t, int p) { return t->lenname[p]; }

static const CgDialect cuda_dialect = {
    .target = "cuda",
    .kind = CGT_CUDA,
    .vec_ops = false,
    .half_native = false,
    .bool_mem_uchar = false,
    .scalar = cu_scalar,
    .vector = cu_vector,
    .vec_make = cu_vec_make,
    .zero_agg = cu_zero_agg,
    .prologue = cu_prologue,
    .kernel_open = cu_kernel_open,
    .workitem = cu_workitem,
    .barrier = "__syncthreads()",
    .atomic = cu_atomic,
    .subgroup = cu_subgroup,
    .mathfn = cu_mathfn,
    .intfn = cu_intfn,
    .f2i = cu_f2i,
    .oob_call = cu_oob_call,
    .param_ref = cu_param_ref,
    .len_ref = cu_len_ref,
    .unsupported = NULL,
};

bool cg_cuda_emit(const IrModule *m, const CgOptions *o, StrBuf *out, StrBuf *err)
{
    return cgt_emit(&cuda_dialect, m, o, out, err);
}

const CgTarget cg_target_cuda = {
    .name = "cuda",
    .ext = ".cu",
    .binary = false,
    .emit = cg_cuda_emit,
};
