/* cg_msl.c: --target=msl, Metal Shading Language 2.4 (file extension .metal), via cg_text.c.
 *
 * The DCK GPU kernel ABI for block-based targets: buffers are `device T *` (`const device
 * T *` for const buffers) at [[buffer(0..nbuf-1)]] in .dck order; in checked mode the
 * out-of-bounds record `device atomic_uint *dck_oob` is [[buffer(nbuf)]]; every scalar (the
 * by-value parameters in order, then each buffer's uint length in buffer order, then the
 * global size dck_gx, dck_gy, dck_gz) is one struct `<kernel>_args`, laid out with the C
 * rules (static_asserts check every offset), passed as `constant <kernel>_args &args` at the
 * next buffer index. Work-item positions come from [[thread_position_in_grid]] & co, only
 * those the kernel uses. Structs use MSL's own vectors (float3 is 16 bytes, as in DCK).
 * Atomics are atomic_fetch_*_explicit(..., memory_order_relaxed) on the element cast to
 * `device/threadgroup atomic_int/atomic_uint *`; float add and compare-and-swap are
 * compare-exchange loops on the bits (MSL 2.4 has no atomic<float> and only a weak CAS).
 * Subgroups are SIMD-groups (simd_sum, simd_min, simd_max, simd_broadcast, simd_shuffle).
 * Metal has no double and MSL 2.4 no 64-bit atomics or 64-bit SIMD reductions: a kernel
 * that needs one of them is left out of the file with a comment saying why (the runtime
 * then reports the kernel as missing), the other kernels of the module are unaffected.
 */
#include "abi/abi.h"
#include "cg_text.h"

#include <string.h>

static const char *msl_scalar(CgText *t, const Type *s, bool mem)
{
    (void)t;
    (void)mem;
    switch (s->kind) {
    case TY_BOOL: return "bool";
    case TY_INT:
        switch (s->bits) {
        case 8: return s->is_signed ? "char" : "uchar";
        case 16: return s->is_signed ? "short" : "ushort";
        case 32: return s->is_signed ? "int" : "uint";
        default: return s->is_signed ? "long" : "ulong";
        }
    case TY_FLOAT: return s->bits == 16 ? "half" : s->bits == 32 ? "float" : "double";
    default: ICE("not a scalar: %s", s->name);
    }
}

static const char *msl_vector(CgText *t, const Type *v, bool mem)
{
    return arena_printf(t->a, "%s%d", msl_scalar(t, v->elem, mem), v->n);
}

static const char *msl_vec_make(CgText *t, const Type *v, const char *const *c)
{
    const char *T = msl_vector(t, v, false);
    bool same = true;
    for (int k = 1; k < v->n; k++) same &= strcmp(c[k], c[0]) == 0;
    if (same) return arena_printf(t->a, "%s(%s)", T, c[0]);
    StrBuf sb = {0};
    sb_printf(&sb, "%s(", T);
    for (int k = 0; k < v->n; k++) sb_printf(&sb, "%s%s", k ? ", " : "", c[k]);
    sb_putc(&sb, ')');
    const char *r = arena_strdup(t->a, sb.data);
    sb_free(&sb);
    return r;
}

static const char *msl_zero_agg(CgText *t, const Type *ty)
{
    if (ty->kind == TY_VEC) return arena_printf(t->a, "%s(0)", msl_vector(t, ty, false));
    return arena_printf(t->a, "%s{}", cgt_struct_name(t, ty));
}

static const char *space_kw(CgSpace sp)
{
    if (sp == CGS_GLOBAL) return "device";
    if (sp == CGS_SHARED) return "threadgroup";
    ICE("atomic on private memory");
}

static void msl_prologue(CgText *t, StrBuf *o)
{
    sb_puts(o, "// Metal Shading Language 2.4. Kernel ABI: docs/backends.md (MSL).\n"
               "#include <metal_stdlib>\nusing namespace metal;\n\n");
    if (t->uses_oob)
        sb_puts(
            o,
            "/* checked mode: the first out-of-bounds access of the launch */\n"
            "static void dck_oob_report(device atomic_uint *oob, uint param, uint line, uint is_write, ulong index,\n"
            "                           uint len)\n{\n"
            "    uint expected = 0u;\n"
            "    while (!atomic_compare_exchange_weak_explicit(&oob[0], &expected, 1u, memory_order_relaxed,\n"
            "                                                  memory_order_relaxed)) {\n"
            "        if (expected != 0u)\n            return;\n    }\n"
            "    atomic_store_explicit(&oob[1], param, memory_order_relaxed);\n"
            "    atomic_store_explicit(&oob[2], line, memory_order_relaxed);\n"
            "    atomic_store_explicit(&oob[3], is_write, memory_order_relaxed);\n"
            "    atomic_store_explicit(&oob[4], (uint)index, memory_order_relaxed);\n"
            "    atomic_store_explicit(&oob[5], (uint)(index >> 32), memory_order_relaxed);\n"
            "    atomic_store_explicit(&oob[6], len, memory_order_relaxed);\n"
            "    atomic_store_explicit(&oob[7], 0u, memory_order_relaxed);\n}\n\n");
}

static void msl_kernel_open(CgText *t, StrBuf *o)
{
    const IrFunc *f = t->f;
    const char *an = arena_printf(t->a, "%s_args", f->name);
    /* the argument block, C layout */
    sb_printf(o, "/* %s: the scalar arguments (C layout) */\nstruct %s {\n", f->name, an);
    uint32_t *voff, *loff;
    AbiBlock blk = cg_scalar_block(t->a, f, &voff, &loff);
    StrBuf asserts = {0};
    int nbuf = 0;
    for (int p = 0; p < f->nparams; p++) {
        const Type *ty = f->params[p].type;
        if (ty->kind == TY_BUFFER) {
            nbuf++;
            continue;
        }
        sb_printf(o, "    %s;\n", cgt_decl(t, ty, t->pname[p]));
        sb_printf(&asserts, "static_assert(__builtin_offsetof(%s, %s) == %u, \"%s offset\");\n", an,
                  t->pname[p], voff[p], t->pname[p]);
    }
    for (int p = 0; p < f->nparams; p++) {
        if (f->params[p].type->kind != TY_BUFFER) continue;
        sb_printf(o, "    uint %s;\n", t->lenname[p]);
        sb_printf(&asserts, "static_assert(__builtin_offsetof(%s, %s) == %u, \"%s offset\");\n", an,
                  t->lenname[p], loff[p], t->lenname[p]);
    }
    sb_puts(o, "    uint dck_gx, dck_gy, dck_gz; /* the launch's global size */\n};\n");
    sb_printf(&asserts,
              "static_assert(__builtin_offsetof(%s, dck_gx) == %u, \"global size offset\");\n", an,
              blk.gsize_off);
    sb_printf(o, "static_assert(sizeof(%s) == %u, \"%s size\");\n", an, blk.size, an);
    sb_putn(o, asserts.data, asserts.len);
    sb_free(&asserts);
    sb_putc(o, '\n');

    if (f->has_wg)
        sb_printf(o,
                  "// [[workgroup(%u, %u, %u)]]: launched with threadgroups of exactly this size\n",
                  f->wg[0], f->wg[1], f->wg[2]);
    char sym[300];
    sb_printf(o, "kernel void %s(", abi_entry_symbol(sym, sizeof sym, "msl", f->name));
    const char *sep = "";
    int k = 0;
    for (int p = 0; p < f->nparams; p++) {
        const Type *ty = f->params[p].type;
        if (ty->kind != TY_BUFFER) continue;
        sb_printf(o, "%s%sdevice %s *%s [[buffer(%d)]]", sep, ty->is_const ? "const " : "",
                  cgt_mtype(t, ty->elem), t->pname[p], k++);
        sep = ",\n        ";
    }
    if (t->checked) {
        sb_printf(o, "%sdevice atomic_uint *dck_oob [[buffer(%d)]]", sep, nbuf);
        sep = ",\n        ";
    }
    sb_printf(o, "%sconstant %s &args [[buffer(%d)]]", sep, an, nbuf + (t->checked ? 1 : 0));
    sep = ",\n        ";
    static const char *const attr[6] = {
        "thread_position_in_grid", "thread_position_in_threadgroup", "threadgroup_position_in_grid",
        "threads_per_threadgroup", "threadgroups_per_grid",          NULL};
    static const char *const var[6] = {"dck_gid",   "dck_lid",     "dck_tgid",
                                       "dck_tsize", "dck_ngroups", NULL};
    for (int w = 0; w < 5; w++) {
        if (!(t->use_wi[w][0] | t->use_wi[w][1] | t->use_wi[w][2])) continue;
        sb_printf(o, "%suint3 %s [[%s]]", sep, var[w], attr[w]);
    }
    if (t->use_sg_lid) sb_printf(o, "%suint dck_lane [[thread_index_in_simdgroup]]", sep);
    if (t->use_sg_size) sb_printf(o, "%suint dck_simd_size [[threads_per_simdgroup]]", sep);
    sb_puts(o, ")\n{\n");
    if (!t->has_barrier)
        sb_puts(
            o,
            "    if (dck_gid.x >= args.dck_gx || dck_gid.y >= args.dck_gy || dck_gid.z >= args.dck_gz)\n"
            "        return;\n");
}

static const char *msl_workitem(CgText *t, BuiltinId b, int d)
{
    char c = "xyz"[d];
    switch (b) {
    case BI_GLOBAL_ID: return arena_printf(t->a, "dck_gid.%c", c);
    case BI_LOCAL_ID: return arena_printf(t->a, "dck_lid.%c", c);
    case BI_GROUP_ID: return arena_printf(t->a, "dck_tgid.%c", c);
    case BI_LOCAL_SIZE: return arena_printf(t->a, "dck_tsize.%c", c);
    case BI_NUM_GROUPS: return arena_printf(t->a, "dck_ngroups.%c", c);
    case BI_GLOBAL_SIZE: return d == 0 ? "args.dck_gx" : d == 1 ? "args.dck_gy" : "args.dck_gz";
    default: ICE("work-item query %d", (int)b);
    }
}

static const char *cas_loop_helper(CgText *t, BuiltinId b, const Type *e, CgSpace sp)
{
    const char *S = space_kw(sp);
    bool fl = e->kind == TY_FLOAT;
    const char *T = msl_scalar(t, e, false),
               *A = e->is_signed && !fl ? "atomic_int" : "atomic_uint",
               *U = e->is_signed && !fl ? "int" : "uint";
    const char *op = b == BI_ATOMIC_ADD ? "add" : b == BI_ATOMIC_XCHG ? "xchg" : "cas";
    const char *fn = arena_printf(t->a, "dck_atomic_%s_%s_%s", op, cf_sname(&t->cf, e), S);
    if (!cf_want_helper(&t->cf, fn)) return fn;
    StrBuf *h = &t->cf.helpers;
    const char *to_u = fl ? "as_type<uint>" : "", *to_t = fl ? "as_type<float>" : "";
    if (b == BI_ATOMIC_CAS) {
        sb_printf(h, "static inline %s %s(%s %s *p, %s e, %s d)\n{\n", T, fn, S, A, T, T);
        sb_printf(h, "    %s want = %s(e), old = want;\n", U, to_u);
        sb_printf(
            h,
            "    while (!atomic_compare_exchange_weak_explicit(p, &old, %s(d), memory_order_relaxed,\n"
            "                                                  memory_order_relaxed) && old == want) {\n",
            to_u);
        sb_puts(h, "    }\n");
        sb_printf(h, "    return %s(old);\n}\n", to_t);
        return fn;
    }
    ICE_ASSERT(fl && b == BI_ATOMIC_ADD);
    sb_printf(h, "static inline float %s(%s atomic_uint *p, float v)\n{\n", fn, S);
    sb_puts(
        h,
        "    uint old = atomic_load_explicit(p, memory_order_relaxed);\n"
        "    while (!atomic_compare_exchange_weak_explicit(p, &old, as_type<uint>(as_type<float>(old) + v),\n"
        "                                                  memory_order_relaxed, memory_order_relaxed)) {\n"
        "    }\n    return as_type<float>(old);\n}\n");
    return fn;
}

static const char *msl_atomic(CgText *t, BuiltinId b, const Type *e, CgSpace sp, const char *lv,
                              const char *a, const char *b2)
{
    const char *S = space_kw(sp);
    if (e->kind == TY_FLOAT) {
        ICE_ASSERT(e->bits == 32);
        const char *p = arena_printf(t->a, "(%s atomic_uint *)&%s", S, lv);
        if (b == BI_ATOMIC_XCHG)
            return arena_printf(
                t->a,
                "as_type<float>(atomic_exchange_explicit(%s, as_type<uint>(%s), memory_order_relaxed))",
                p, a);
        const char *fn = cas_loop_helper(t, b, e, sp);
        if (b == BI_ATOMIC_CAS) return arena_printf(t->a, "%s(%s, %s, %s)", fn, p, a, b2);
        return arena_printf(t->a, "%s(%s, %s)", fn, p, a);
    }
    ICE_ASSERT(e->kind == TY_INT && e->bits == 32);
    const char *p =
        arena_printf(t->a, "(%s %s *)&%s", S, e->is_signed ? "atomic_int" : "atomic_uint", lv);
    if (b == BI_ATOMIC_CAS)
        return arena_printf(t->a, "%s(%s, %s, %s)", cas_loop_helper(t, b, e, sp), p, a, b2);
    const char *fn = b == BI_ATOMIC_ADD   ? "atomic_fetch_add_explicit"
                     : b == BI_ATOMIC_SUB ? "atomic_fetch_sub_explicit"
                     : b == BI_ATOMIC_MIN ? "atomic_fetch_min_explicit"
                     : b == BI_ATOMIC_MAX ? "atomic_fetch_max_explicit"
                     : b == BI_ATOMIC_AND ? "atomic_fetch_and_explicit"
                     : b == BI_ATOMIC_OR  ? "atomic_fetch_or_explicit"
                     : b == BI_ATOMIC_XOR ? "atomic_fetch_xor_explicit"
                                          : "atomic_exchange_explicit";
    return arena_printf(t->a, "%s(%s, %s, memory_order_relaxed)", fn, p, a);
}

static const char *msl_subgroup(CgText *t, BuiltinId b, const Type *ty, const char *a,
                                const char *lane)
{
    bool wide = ty->kind != TY_BOOL && ty->bits == 64;
    switch (b) {
    case BI_SUBGROUP_SIZE: return "dck_simd_size";
    case BI_SUBGROUP_LOCAL_ID: return "dck_lane";
    case BI_SUBGROUP_ADD: return arena_printf(t->a, "simd_sum(%s)", a);
    case BI_SUBGROUP_MIN: return arena_printf(t->a, "simd_min(%s)", a);
    case BI_SUBGROUP_MAX: return arena_printf(t->a, "simd_max(%s)", a);
    case BI_SUBGROUP_BROADCAST:
    case BI_SUBGROUP_SHUFFLE: {
        const char *fn = b == BI_SUBGROUP_BROADCAST ? "simd_broadcast" : "simd_shuffle";
        if (ty->kind == TY_BOOL)
            return arena_printf(t->a, "(%s((ushort)%s, (ushort)%s) != 0)", fn, a, lane);
        if (wide)
            return arena_printf(t->a, "as_type<%s>(%s(as_type<uint2>(%s), (ushort)%s))",
                                msl_scalar(t, ty, false), fn, a, lane);
        return arena_printf(t->a, "%s(%s, (ushort)%s)", fn, a, lane);
    }
    default: ICE("subgroup builtin %d", (int)b);
    }
}

/* the C library's names plus the Metal standard library's clamp, mix, step, sign, rsqrt and
 * fract (overloaded for half, float and vectors) */
static const char *msl_mathfn(CgText *t, BuiltinId b, const Type *e)
{
    (void)t;
    (void)e;
    switch (b) {
    case BI_CLAMP:
    case BI_MIX:
    case BI_STEP:
    case BI_SIGN:
    case BI_RSQRT:
    case BI_FRACT: return builtin_info[b].name;
    default: return cf_libm_name(b);
    }
}

static const char *msl_intfn(CgText *t, BuiltinId b, const Type *e, const char *a, const char *b2)
{
    (void)e;
    switch (b) {
    case BI_POPCOUNT: return arena_printf(t->a, "popcount(%s)", a);
    case BI_CLZ: return arena_printf(t->a, "clz(%s)", a);
    case BI_CTZ: return arena_printf(t->a, "ctz(%s)", a);
    case BI_MUL_HI: return arena_printf(t->a, "mulhi(%s, %s)", a, b2);
    default: return NULL;
    }
}

/* float -> int saturates and NaN gives 0, as on every other target (the C backend's dck_cvt_*,
 * OpenCL's convert_T_sat, SPIR-V, PTX's cvt.rzi): MSL's cast is C++'s, undefined out of range
 * (clang turned a 5-iteration loop over such a cast into an endless one). One helper per
 * integer type; half converts to float exactly on the way in, so the bounds are float
 * literals (2^(w-1), 2^w: exact in float), valid with Metal's fast math off (runtime/metal.m). */
static const char *msl_f2i(CgText *t, const Type *to, const Type *from, const char *a)
{
    (void)from;
    const char *fn = arena_printf(t->a, "dck_cvt_%s", cf_sname(&t->cf, to));
    if (!cf_want_helper(&t->cf, fn)) return arena_printf(t->a, "%s(%s)", fn, a);
    const char *T = msl_scalar(t, to, false);
    int w = to->bits;
    static const char *const pow2[] = {"128.0f",
                                       "256.0f",
                                       "32768.0f",
                                       "65536.0f",
                                       "2147483648.0f",
                                       "4294967296.0f",
                                       "9223372036854775808.0f",
                                       "18446744073709551616.0f"};
    int row = w == 8 ? 0 : w == 16 ? 2 : w == 32 ? 4 : 6;
    uint64_t umax = w == 64 ? ~(uint64_t)0 : ((uint64_t)1 << w) - 1;
    if (to->is_signed)
        sb_printf(
            &t->cf.helpers,
            "static inline %s %s(float x) { return x != x ? %s : x <= -%s ? %s : x >= %s ? %s : "
            "(%s)x; }\n",
            T, fn, cf_int_lit(&t->cf, to, 0), pow2[row],
            cf_int_lit(&t->cf, to, (uint64_t)1 << (w - 1)), pow2[row],
            cf_int_lit(&t->cf, to, umax >> 1), T);
    else
        sb_printf(
            &t->cf.helpers,
            "static inline %s %s(float x) { return x != x || x <= -1.0f ? %s : x >= %s ? %s : "
            "(%s)x; }\n",
            T, fn, cf_int_lit(&t->cf, to, 0), pow2[row + 1], cf_int_lit(&t->cf, to, umax), T);
    return arena_printf(t->a, "%s(%s)", fn, a);
}

static const char *msl_oob_call(CgText *t, int param, int line, bool is_write, const char *index64,
                                const char *len)
{
    return arena_printf(t->a, "dck_oob_report(dck_oob, %du, %du, %du, %s, %s)", param, line,
                        is_write ? 1 : 0, index64, len);
}

static const char *msl_param_ref(CgText *t, int p)
{
    return arena_printf(t->a, "args.%s", t->pname[p]);
}
static const char *msl_len_ref(CgText *t, int p)
{
    return arena_printf(t->a, "args.%s", t->lenname[p]);
}

static bool has_double(const Type *ty)
{
    if (!ty) return false;
    switch (ty->kind) {
    case TY_FLOAT: return ty->bits == 64;
    case TY_VEC:
    case TY_ARRAY:
    case TY_BUFFER: return has_double(ty->elem);
    case TY_STRUCT:
        for (int i = 0; i < ty->nfields; i++)
            if (has_double(ty->fields[i].type)) return true;
        return false;
    default: return false;
    }
}

static const char *msl_unsupported(CgText *t, const IrFunc *f)
{
    (void)t;
    for (int p = 0; p < f->nparams; p++)
        if (has_double(f->params[p].type)) return "Metal has no double";
    for (int s = 0; s < f->locals.len; s++)
        if (has_double(f->locals.data[s].type)) return "Metal has no double";
    for (int s = 0; s < f->shared.len; s++)
        if (has_double(f->shared.data[s].type)) return "Metal has no double";
    for (int b = 0; b < f->blocks.len; b++)
        for (const IrInst *i = f->blocks.data[b]->first; i; i = i->next) {
            if (has_double(i->type)) return "Metal has no double";
            for (int k = 0; k < i->nops; k++)
                if (has_double(i->ops[k]->type)) return "Metal has no double";
            if (i->op == IR_ATOMIC && i->type->kind != TY_VOID && ty_elem(i->type)->bits == 64)
                return "MSL 2.4 has no 64-bit atomics";
            if (i->op == IR_ATOMIC && i->nops > i->mem.nidx &&
                i->ops[i->mem.nidx]->type->bits == 64)
                return "MSL 2.4 has no 64-bit atomics";
            if (i->op == IR_BUILTIN && builtin_info[i->builtin].cls == BK_SG1 &&
                i->type->kind == TY_INT && i->type->bits == 64)
                return "MSL 2.4 has no 64-bit SIMD-group reductions";
        }
    return NULL;
}

static const CgDialect msl_dialect = {
    .target = "msl",
    .kind = CGT_MSL,
    .vec_ops = true,
    .half_native = true,
    .bool_mem_uchar = false,
    .scalar = msl_scalar,
    .vector = msl_vector,
    .vec_make = msl_vec_make,
    .zero_agg = msl_zero_agg,
    .prologue = msl_prologue,
    .kernel_open = msl_kernel_open,
    .workitem = msl_workitem,
    .barrier = "threadgroup_barrier(mem_flags::mem_threadgroup | mem_flags::mem_device)",
    .atomic = msl_atomic,
    .subgroup = msl_subgroup,
    .mathfn = msl_mathfn,
    .intfn = msl_intfn,
    .f2i = msl_f2i,
    .oob_call = msl_oob_call,
    .param_ref = msl_param_ref,
    .len_ref = msl_len_ref,
    .unsupported = msl_unsupported,
};

static bool msl_emit(const IrModule *m, const CgOptions *o, StrBuf *out, StrBuf *err)
{
    return cgt_emit(&msl_dialect, m, o, out, err);
}

const CgTarget cg_target_msl = {
    .name = "msl",
    .ext = ".metal",
    .binary = false,
    .emit = msl_emit,
};
