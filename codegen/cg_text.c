/* cg_text.c: the shared emitter of the C-like GPU text backends (see cg_text.h).
 *
 * Per kernel: analysis (reachable blocks, live instructions, which values need a variable,
 * which parameters, buffers, slots and work-item queries are used), then the body, then the
 * dialect's signature and the declarations in front of it. Expressions and the statements of
 * pure instructions are the C-family printer's (cg_cfam.c); this file adds the GPU dialect's
 * names, types, memory forms, memory accesses and control flow.
 *
 * Structuring: the body is the region tree of compiler/ir_cfg.h (if/else, `for (;;)`,
 * break, continue, return, and the selector dck_sel for the jumps they cannot express),
 * printed by cg_text_flow.c. Phis are parallel copies on the edges, ordered so that no copy
 * overwrites a value a later one reads; only a cycle goes through temporaries.
 */
#include "cg_text.h"
#include "compiler/ir_cfg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cgt_comps[] = "xyzw";

#define EMIT(...) (indent(t), sb_printf(t->out, __VA_ARGS__))

static void indent(CgText *t)
{
    for (int i = 0; i < t->depth; i++) sb_puts(t->out, "    ");
}

/* ---------------------------------------------------------------- names */

// clang-format off
static const char *const reserved_words[] = {
    /* C++ (C's keywords: cf_is_c_keyword) */
    "class", "delete", "new", "this",
    "template", "typename", "namespace", "using", "operator", "private", "protected", "public",
    "virtual", "friend", "mutable", "explicit", "export", "throw", "try", "catch", "constexpr",
    "decltype", "nullptr", "noexcept", "static_assert", "alignas", "alignof", "thread_local",
    "char16_t", "char32_t", "wchar_t", "and", "or", "not", "xor", "bitand", "bitor", "compl",
    "and_eq", "or_eq", "xor_eq", "not_eq", "dynamic_cast", "static_cast", "const_cast",
    "reinterpret_cast", "typeid", "concept", "requires", "main", "offsetof", "NULL", "NAN",
    "INFINITY", "std", "metal", "size_t", "ptrdiff_t", "intptr_t", "uintptr_t",
    /* OpenCL C */
    "kernel", "__kernel", "global", "__global", "local", "__local", "constant", "__constant",
    "private", "__private", "read_only", "write_only", "read_write", "image2d_t", "image3d_t",
    "sampler_t", "event_t", "half", "uchar", "ushort", "uint", "ulong", "vec_type_hint",
    "barrier", "mem_fence", "get_global_id", "get_local_id", "get_group_id", "get_local_size",
    "get_num_groups", "get_global_size", "get_work_dim", "get_global_offset",
    /* CUDA */
    "threadIdx", "blockIdx", "blockDim", "gridDim", "warpSize", "device", "shared", "host",
    /* MSL */
    "threadgroup", "thread", "vertex", "fragment", "array", "packed_float3", "simd_sum",
    "simd_min", "simd_max", "simd_shuffle", "simd_broadcast", "threadgroup_barrier", "mem_flags",
    "as_type", "args", "atomic", "atomic_int", "atomic_uint",
    /* DCK builtins and math names the dialects call */
    "abs", "fabs", "min", "max", "fmin", "fmax", "clamp", "mix", "step", "sign", "sqrt", "rsqrt",
    "exp", "exp2", "log", "log2", "pow", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
    "sinh", "cosh", "tanh", "floor", "ceil", "round", "trunc", "fract", "fmod", "fma", "isnan",
    "isinf", "select", "dot", "cross", "length", "normalize", "distance", "popcount", "clz",
    "ctz", "mul_hi", "mulhi", "rotate", "any", "all", "len", "vload_half", "vstore_half",
    "convert_int", "as_uint", "as_float", "atomic_add", "atomic_sub", "atomic_min", "atomic_max",
    "atomic_and", "atomic_or", "atomic_xor", "atomic_xchg", "atomic_cmpxchg", "atom_add",
    "atom_sub", "atom_min", "atom_max", "atom_and", "atom_or", "atom_xor", "atom_xchg",
    "atom_cmpxchg", "atomicAdd", "atomicSub", "atomicMin", "atomicMax", "atomicAnd", "atomicOr",
    "atomicXor", "atomicExch", "atomicCAS",
};
// clang-format on

static bool is_reserved(const char *s)
{
    if (cf_is_c_keyword(s)) return true;
    for (int i = 0; i < ARRAY_LEN(reserved_words); i++)
        if (strcmp(s, reserved_words[i]) == 0) return true;
    if (strncmp(s, "dck_", 4) == 0 || strncmp(s, "__", 2) == 0) return true;
    /* our value and temporary names: v<N>, t<N> */
    if ((s[0] == 'v' || s[0] == 't') && s[1]) {
        const char *p = s + 1;
        while (*p >= '0' && *p <= '9') p++;
        if (!*p) return true;
    }
    return false;
}

static bool in_list(const CgtStrVec *v, const char *s)
{
    for (int i = 0; i < v->len; i++)
        if (strcmp(v->data[i], s) == 0) return true;
    return false;
}

/* A unique, non-reserved target identifier derived from `base`. */
static const char *unique_name(CgText *t, CgtStrVec *scope, const char *base)
{
    StrBuf sb = {0};
    for (const char *p = base && *base ? base : "x"; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
                  (ch >= '0' && ch <= '9');
        sb_putc(&sb, ok ? ch : '_');
    }
    if (sb.data[0] >= '0' && sb.data[0] <= '9') {
        char *s = arena_printf(t->a, "n%s", sb.data);
        sb_free(&sb);
        sb_puts(&sb, s);
    }
    while (is_reserved(sb.data) || in_list(scope, sb.data) || in_list(&t->names, sb.data))
        sb_putc(&sb, '_');
    const char *r = arena_strdup(t->a, sb.data);
    sb_free(&sb);
    vec_push(t->a, scope, r);
    return r;
}

/* ---------------------------------------------------------------- types */

const char *cgt_struct_name(CgText *t, const Type *st)
{
    for (int i = 0; i < t->struct_types.len; i++)
        if (t->struct_types.data[i] == st) return t->struct_name[i];
    ICE("struct %s was not collected", st->name);
}

static void note_scalar(CgText *t, const Type *s)
{
    if (s->kind == TY_FLOAT && s->bits == 16) t->cf.uses_half = true;
    if (s->kind == TY_FLOAT && s->bits == 64) t->uses_double = true;
}

static const char *type_name(CgText *t, const Type *ty, bool mem)
{
    switch (ty->kind) {
    case TY_BOOL:
    case TY_INT:
    case TY_FLOAT: note_scalar(t, ty); return t->d->scalar(t, ty, mem);
    case TY_VEC: note_scalar(t, ty->elem); return t->d->vector(t, ty, mem);
    case TY_STRUCT: return cgt_struct_name(t, ty);
    case TY_VOID: return "void";
    default: break;
    }
    ICE("no target type for %s", ty->name);
}

const char *cgt_vtype(CgText *t, const Type *ty) { return type_name(t, ty, false); }

const char *cgt_mtype(CgText *t, const Type *ty)
{
    while (ty->kind == TY_ARRAY) ty = ty->elem;
    return type_name(t, ty, true);
}

const char *cgt_decl(CgText *t, const Type *ty, const char *name)
{
    return cf_decl(&t->cf, ty, name);
}

/* does the value form differ from the memory form (element-wise)? */
static bool half_split(CgText *t, const Type *ty)
{
    return cf_is_half(ty_elem((Type *)ty)) && !t->d->half_native;
}

static const char *to_val(CgText *t, const Type *ty, const char *e)
{
    if (ty->kind == TY_BOOL && t->d->bool_mem_uchar) return arena_printf(t->a, "(%s != 0)", e);
    if (!half_split(t, ty)) return e;
    t->cf.uses_half = true;
    if (ty->kind == TY_FLOAT) return arena_printf(t->a, "dck_h2f(%s)", e);
    const char *c[4];
    for (int k = 0; k < ty->n; k++) c[k] = arena_printf(t->a, "dck_h2f(%s.%c)", e, cgt_comps[k]);
    return t->d->vec_make(t, ty, c);
}

/* value v (value form) in memory form; mem-form vectors are built by the dialect with the
 * "memory" spelling, which vec_make gets through a type with the same shape */
static const char *to_mem(CgText *t, const Type *ty, const char *e)
{
    if (ty->kind == TY_BOOL && t->d->bool_mem_uchar) return arena_printf(t->a, "(uchar)%s", e);
    if (!half_split(t, ty)) return e;
    t->cf.uses_half = true;
    if (ty->kind == TY_FLOAT) return arena_printf(t->a, "dck_f2h(%s)", e);
    /* a vector of bits: the dialect's memory vector spelled out component by component */
    StrBuf sb = {0};
    const char *mt = type_name(t, ty, true);
    if (t->d->kind == CGT_OPENCL)
        sb_printf(&sb, "(%s)(", mt);
    else
        sb_printf(&sb, "%s{", mt);
    for (int k = 0; k < ty->n; k++)
        sb_printf(&sb, "%sdck_f2h(%s.%c)", k ? ", " : "", e, cgt_comps[k]);
    sb_puts(&sb, t->d->kind == CGT_OPENCL ? ")" : "}");
    const char *r = arena_strdup(t->a, sb.data);
    sb_free(&sb);
    return r;
}

void cgt_emit_struct_decls(CgText *t, StrBuf *o, bool cxx_asserts)
{
    for (int i = 0; i < t->struct_types.len; i++) {
        Type *st = t->struct_types.data[i];
        const char *n = t->struct_name[i];
        sb_printf(o, "/* struct %s: the DCK (C) layout, %u bytes */\ntypedef struct %s {\n",
                  st->name, st->size, n);
        uint32_t cur = 0;
        int npad = 0;
        CgtStrVec fields = {0};
        const char **fname = arena_alloc(t->a, sizeof(char *) * (size_t)(st->nfields + 1));
        for (int k = 0; k < st->nfields; k++) {
            const Field *fl = &st->fields[k];
            if (fl->offset > cur)
                sb_printf(o, "    uchar dck_pad%d[%u];\n", npad++, fl->offset - cur);
            fname[k] = unique_name(t, &fields, fl->name);
            sb_printf(o, "    %s;\n", cgt_decl(t, fl->type, fname[k]));
            cur = fl->offset + fl->type->size;
        }
        if (st->size > cur) sb_printf(o, "    uchar dck_pad%d[%u];\n", npad++, st->size - cur);
        sb_printf(o, "} %s;\n", n);
        if (cxx_asserts) {
            sb_printf(o, "static_assert(sizeof(%s) == %u && alignof(%s) == %u, \"%s layout\");\n",
                      n, st->size, n, st->align, st->name);
            /* NVRTC has no offsetof: there the explicit padding above fixes the offsets */
            for (int k = 0; k < st->nfields && t->d->kind != CGT_CUDA; k++)
                sb_printf(o, "static_assert(__builtin_offsetof(%s, %s) == %u, \"%s.%s offset\");\n",
                          n, fname[k], st->fields[k].offset, st->name, st->fields[k].name);
        } else {
            sb_printf(o, "typedef char dck_assert_%s_size[sizeof(%s) == %u ? 1 : -1];\n", n, n,
                      st->size);
            for (int k = 0; k < st->nfields; k++)
                sb_printf(
                    o,
                    "typedef char dck_assert_%s_%d[__builtin_offsetof(%s, %s) == %u ? 1 : -1];\n",
                    n, k, n, fname[k], st->fields[k].offset);
        }
        sb_putc(o, '\n');
    }
}

/* field name of struct st field k in the target (the same renaming as the declaration) */
static const char *field_name(CgText *t, const Type *st, int k)
{
    CgtStrVec fields = {0};
    const char *r = NULL;
    for (int i = 0; i <= k; i++) r = unique_name(t, &fields, st->fields[i].name);
    return r;
}

/* ---------------------------------------------------------------- the C-family hooks */

static CgText *text_of(CfPrinter *p) { return p->owner; }

static const char *tx_type(CfPrinter *p, const Type *ty)
{
    return type_name(text_of(p), ty, false);
}
static const char *tx_mem_type(CfPrinter *p, const Type *ty)
{
    return type_name(text_of(p), ty, true);
}

static const char *tx_inline_value(CfPrinter *p, const IrInst *i)
{
    CgText *t = text_of(p);
    switch (i->op) {
    case IR_PARAM: return to_val(t, i->type, t->d->param_ref(t, i->param));
    case IR_BUFLEN: return t->d->len_ref(t, i->mem.id);
    case IR_WORKITEM: return t->d->workitem(t, i->builtin, i->dim);
    default: ICE("inline value %s", ir_op_info[i->op].name);
    }
}

static const char *tx_zero_agg(CfPrinter *p, const Type *ty)
{
    return text_of(p)->d->zero_agg(text_of(p), ty);
}

static const char *tx_vec_make(CfPrinter *p, const Type *v, const char *const *c)
{
    return text_of(p)->d->vec_make(text_of(p), v, c);
}

static const char *tx_field(CfPrinter *p, const Type *st, int k)
{
    return field_name(text_of(p), st, k);
}

static const char *tx_to_val(CfPrinter *p, const Type *ty, const char *e)
{
    return to_val(text_of(p), ty, e);
}

static const char *tx_to_mem(CfPrinter *p, const Type *ty, const char *e)
{
    return to_mem(text_of(p), ty, e);
}

static const char *tx_mathfn(CfPrinter *p, BuiltinId b, const Type *e)
{
    return text_of(p)->d->mathfn(text_of(p), b, e);
}

static const char *tx_intfn(CfPrinter *p, BuiltinId b, const Type *e, const char *a, const char *b2)
{
    return text_of(p)->d->intfn(text_of(p), b, e, a, b2);
}

static const char *tx_f2i(CfPrinter *p, const Type *to, const Type *from, const char *a)
{
    return text_of(p)->d->f2i(text_of(p), to, from, a);
}

static const char *tx_subgroup(CfPrinter *p, BuiltinId b, const Type *ty, const char *a,
                               const char *lane)
{
    return text_of(p)->d->subgroup(text_of(p), b, ty, a, lane);
}

static void tx_line(CfPrinter *p, const char *text)
{
    CgText *t = text_of(p);
    EMIT("%s\n", text);
}

/* the C-family dialect of a GPU dialect */
static CfDialect cf_dialect_of(const CgDialect *d)
{
    bool cuda = d->kind == CGT_CUDA;
    return (CfDialect){
        .half = d->half_native ? CF_HALF_NATIVE : CF_HALF_FLOAT,
        .stdint_lits = false,
        .i64_suffix = cuda ? "ll" : "l",
        .cast_narrow_lits = true,
        .half_cast = "(half)",
        .half_prefix = "",
        .half_suffix = "h",
        .nan_bits = cuda,
        .helper_qual = cuda ? "static __device__ __forceinline__" : "static inline",
        .vec_ops = d->vec_ops,
        .zeroed_vars = false,
        .line_comment = true,
        .type = tx_type,
        .mem_type = tx_mem_type,
        .inline_value = tx_inline_value,
        .zero_agg = tx_zero_agg,
        .vec_make = tx_vec_make,
        .field = tx_field,
        .to_val = tx_to_val,
        .to_mem = tx_to_mem,
        .mathfn = tx_mathfn,
        .intfn = tx_intfn,
        .f2i = tx_f2i,
        .subgroup = tx_subgroup,
        .line = tx_line,
    };
}

/* ---------------------------------------------------------------- analysis */

static void analyse(CgText *t)
{
    const IrFunc *f = t->f;
    Arena *a = t->fa;
    t->cf.f = f;
    t->cf.fa = a;
    cf_analyse(&t->cf);
    int n = t->nid = t->cf.nid;
    t->live = t->cf.live;
    t->reach = t->cf.reach;
    t->hasvar = arena_alloc(a, (size_t)n);
    t->need_tmp = arena_alloc(a, (size_t)n);
    memset(t->use_wi, 0, sizeof t->use_wi);
    t->use_sg_size = t->use_sg_lid = false;
    t->has_barrier = false;
    const int *nuses = t->cf.nuses;
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        if (!t->reach[b->id]) continue;
        for (IrInst *i = b->first; i; i = i->next) {
            if (!t->live[i->id]) continue;
            if (i->op == IR_WORKITEM) t->use_wi[i->builtin - BI_GLOBAL_ID][i->dim] = 1;
            bool sg = i->op == IR_BUILTIN && builtin_info[i->builtin].cls >= BK_SG0;
            if (sg && i->builtin == BI_SUBGROUP_SIZE) t->use_sg_size = true;
            if (sg && i->builtin == BI_SUBGROUP_LOCAL_ID) t->use_sg_lid = true;
            if (sg) t->uses_subgroups = true;
            if (i->op == IR_BARRIER) t->has_barrier = true;
            if (i->type != ty_void && !cf_is_inline(i) && (nuses[i->id] > 0 || i->op == IR_LOAD))
                t->hasvar[i->id] = 1;
            if (i->op == IR_LOAD && nuses[i->id] == 0 && !t->checked) t->hasvar[i->id] = 0;
            if (t->hasvar[i->id]) t->cf.name[i->id] = arena_printf(t->a, "v%d", i->id);
        }
    }
    if (!t->has_barrier)
        for (int d = 0; d < 3; d++) t->use_wi[0][d] = 1; /* the global-size guard */
}

/* ---------------------------------------------------------------- expressions */

static const char *N(CgText *t, const IrInst *v) { return cf_value(&t->cf, v); }

static const char *U64(CgText *t) { return cf_utype(&t->cf, ty_scalar(SC_ULONG)); }

/* ---------------------------------------------------------------- memory */

static void line_marker(CgText *t, const IrInst *i) { cf_line_marker(&t->cf, i); }

static const char *mem_lvalue(CgText *t, const IrInst *i, Type **elem_out, CgSpace *sp)
{
    const IrMemRef *mr = &i->mem;
    const IrFunc *f = t->f;
    StrBuf sb = {0};
    Type *ty;
    switch (mr->kind) {
    case MEM_BUFFER:
        ICE_ASSERT(mr->id >= 0 && mr->id < f->nparams &&
                   f->params[mr->id].type->kind == TY_BUFFER && ir_mem_nbase(mr) == 1);
        ty = f->params[mr->id].type->elem;
        sb_printf(&sb, "%s[%s]", t->pname[mr->id], N(t, i->ops[0]));
        *sp = CGS_GLOBAL;
        break;
    case MEM_SHARED:
    case MEM_LOCAL: {
        bool sh = mr->kind == MEM_SHARED;
        ICE_ASSERT(mr->id >= 0 && mr->id < (sh ? f->shared.len : f->locals.len));
        const IrSlot *s = sh ? &f->shared.data[mr->id] : &f->locals.data[mr->id];
        ty = s->type;
        sb_puts(&sb, sh ? t->sharedname[mr->id] : t->localname[mr->id]);
        for (int k = 0; k < ir_mem_nbase(mr); k++) {
            ICE_ASSERT(ty->kind == TY_ARRAY);
            sb_printf(&sb, "[%s]", N(t, i->ops[k]));
            ty = ty->elem;
        }
        *sp = sh ? CGS_SHARED : CGS_PRIVATE;
        break;
    }
    default: ICE("memory kind %d", (int)mr->kind);
    }
    *elem_out = cf_mem_path(&t->cf, &sb, i, ty);
    const char *s = arena_strdup(t->a, sb.data);
    sb_free(&sb);
    return s;
}

/* checked mode: the bounds condition of a buffer access, or NULL */
static const char *check_cond(CgText *t, const IrInst *i)
{
    if (!t->checked || i->mem.kind != MEM_BUFFER) return NULL;
    const IrInst *ix = i->ops[0];
    const char *idx = N(t, ix), *len = t->d->len_ref(t, i->mem.id);
    const Type *it = ix->type;
    if (!it->is_signed && it->bits == 32) return arena_printf(t->a, "%s < %s", idx, len);
    if (!it->is_signed) return arena_printf(t->a, "(%s)%s < (%s)%s", U64(t), idx, U64(t), len);
    return arena_printf(t->a, "%s >= 0 && (%s)%s < (%s)%s", idx, U64(t), idx, U64(t), len);
}

static void check_else(CgText *t, const IrInst *i, bool is_write, bool zero)
{
    const IrInst *ix = i->ops[0];
    const char *idx64 = ix->type->is_signed
                            ? arena_printf(t->a, "(%s)(%s)%s", U64(t),
                                           type_name(t, ty_scalar(SC_LONG), false), N(t, ix))
                            : arena_printf(t->a, "(%s)%s", U64(t), N(t, ix));
    EMIT("} else {\n");
    t->depth++;
    if (zero) EMIT("%s = %s;\n", N(t, i), cf_zero(&t->cf, i->type));
    t->uses_oob = true;
    EMIT("%s;\n", t->d->oob_call(t, i->mem.id, i->loc.line > 0 ? i->loc.line : 0, is_write, idx64,
                                 t->d->len_ref(t, i->mem.id)));
    t->depth--;
    EMIT("}\n");
}

static void emit_access(CgText *t, const IrInst *i)
{
    Type *et;
    CgSpace sp;
    const char *lv = mem_lvalue(t, i, &et, &sp);
    bool hv = t->hasvar[i->id];
    const char *cond = check_cond(t, i);
    int ni = i->mem.nidx;
    const char *stmt;
    if (i->op == IR_LOAD) {
        if (!hv && !cond) return;
        stmt = hv ? arena_printf(t->a, "%s = %s;", N(t, i), to_val(t, et, lv))
                  : arena_printf(t->a, "(void)%s;", lv);
    } else if (i->op == IR_STORE) {
        ICE_ASSERT(i->nops == ni + 1);
        stmt = arena_printf(t->a, "%s = %s;", lv, to_mem(t, et, N(t, i->ops[ni])));
    } else {
        if (et->kind == TY_INT && et->bits == 64) {
            t->uses_i64_atomics = true;
            BuiltinId b = i->builtin;
            if (b == BI_ATOMIC_MIN || b == BI_ATOMIC_MAX || b == BI_ATOMIC_AND ||
                b == BI_ATOMIC_OR || b == BI_ATOMIC_XOR)
                t->uses_i64_atomics_ext = true;
        }
        const char *call = t->d->atomic(t, i->builtin, et, sp, lv, N(t, i->ops[ni]),
                                        i->builtin == BI_ATOMIC_CAS ? N(t, i->ops[ni + 1]) : NULL);
        stmt = hv ? arena_printf(t->a, "%s = %s;", N(t, i), call) : arena_printf(t->a, "%s;", call);
    }
    if (!cond) {
        EMIT("%s\n", stmt);
        return;
    }
    EMIT("if (%s) {\n", cond);
    t->depth++;
    EMIT("%s\n", stmt);
    t->depth--;
    check_else(t, i, i->op != IR_LOAD, hv);
}

/* ---------------------------------------------------------------- instructions */

static void emit_inst(CgText *t, const IrInst *i)
{
    if (!t->live[i->id] || cf_is_inline(i) || i->op == IR_PHI) return;
    if (ir_op_info[i->op].flags & OPF_TERM) return;
    switch (i->op) {
    case IR_BARRIER:
        line_marker(t, i);
        EMIT("%s;\n", t->d->barrier);
        return;
    case IR_LOAD:
    case IR_STORE:
    case IR_ATOMIC:
        line_marker(t, i);
        emit_access(t, i);
        return;
    default: break;
    }
    if (!t->hasvar[i->id]) return;
    line_marker(t, i);
    cf_emit_value(&t->cf, i);
}

static void emit_block_insts(CgText *t, const IrBlock *b)
{
    for (IrInst *i = b->first; i; i = i->next) emit_inst(t, i);
}

/* Phi copies for the edge b -> s (the occ-th edge from b to s): a parallel copy, emitted
 * in an order where no copy overwrites a phi a later copy still reads; a cycle (a swap)
 * goes through temporaries t<id>. */
static void emit_edge(CgText *t, const IrBlock *b, const IrBlock *s, int occ)
{
    int n = 0, k = -1;
    for (IrInst *p = s->first; p && p->op == IR_PHI; p = p->next)
        if (t->live[p->id] && t->hasvar[p->id]) n++;
    if (!n) return;
    k = cf_pred_index(s, b, occ);
    const IrInst **dst = arena_alloc(t->fa, sizeof(IrInst *) * (size_t)n);
    const IrInst **src = arena_alloc(t->fa, sizeof(IrInst *) * (size_t)n);
    int m = 0;
    for (IrInst *p = s->first; p && p->op == IR_PHI; p = p->next) {
        if (!t->live[p->id] || !t->hasvar[p->id] || p->ops[k] == p) continue;
        dst[m] = p;
        src[m] = p->ops[k];
        m++;
    }
    uint8_t *done = arena_alloc(t->fa, (size_t)m + 1);
    int left = m;
    bool progress = true;
    while (left && progress) {
        progress = false;
        for (int j = 0; j < m; j++) {
            if (done[j]) continue;
            bool blocked = false;
            for (int q = 0; q < m && !blocked; q++)
                blocked = !done[q] && q != j && src[q] == dst[j];
            if (blocked) continue;
            EMIT("%s = %s;\n", N(t, dst[j]), N(t, src[j]));
            done[j] = 1;
            left--;
            progress = true;
        }
    }
    if (!left) return;
    for (int j = 0; j < m; j++)
        if (!done[j]) {
            t->need_tmp[dst[j]->id] = 1;
            EMIT("t%d = %s;\n", dst[j]->id, N(t, src[j]));
        }
    for (int j = 0; j < m; j++)
        if (!done[j]) EMIT("%s = t%d;\n", N(t, dst[j]), dst[j]->id);
}

/* ---------------------------------------------------------------- structuring */

/* The region tree of ir_cfg.h is printed by cg_text_flow.c through these. */
void cgt_flow_block(CgText *t, const IrBlock *b) { emit_block_insts(t, b); }

void cgt_flow_edge(CgText *t, const IrBlock *b, const IrBlock *s, int occ)
{
    emit_edge(t, b, s, occ);
}

void cgt_flow_return(CgText *t, const IrBlock *b) { line_marker(t, ir_terminator(b)); }

const char *cgt_flow_value(CgText *t, const IrInst *v) { return N(t, v); }

/* ---------------------------------------------------------------- kernels */

static void emit_kernel(CgText *t, StrBuf *o)
{
    const IrFunc *f = t->f;
    const char *why = t->d->unsupported ? t->d->unsupported(t, f) : NULL;
    if (why) {
        sb_printf(o, "/* kernel %s is not available on this target: %s */\n\n", f->name, why);
        return;
    }
    analyse(t);
    t->kernel_names.len = 0;
    t->pname = arena_alloc(t->fa, sizeof(char *) * (size_t)(f->nparams + 1));
    t->lenname = arena_alloc(t->fa, sizeof(char *) * (size_t)(f->nparams + 1));
    t->localname = arena_alloc(t->fa, sizeof(char *) * (size_t)(f->locals.len + 1));
    t->sharedname = arena_alloc(t->fa, sizeof(char *) * (size_t)(f->shared.len + 1));
    for (int p = 0; p < f->nparams; p++) {
        t->pname[p] = unique_name(t, &t->kernel_names, f->params[p].name);
        if (f->params[p].type->kind == TY_BUFFER)
            t->lenname[p] =
                unique_name(t, &t->kernel_names, arena_printf(t->a, "%s_len", t->pname[p]));
    }
    for (int s = 0; s < f->shared.len; s++)
        t->sharedname[s] = unique_name(t, &t->kernel_names, f->shared.data[s].name);
    for (int s = 0; s < f->locals.len; s++)
        t->localname[s] = unique_name(t, &t->kernel_names, f->locals.data[s].name);

    /* the body, structured if possible */
    StrBuf body = {0};
    t->out = &body;
    t->depth = 1;
    t->cf.cur_file = -2;
    t->cf.cur_line = -1;
    IrRegionTree *rt = ir_cfg_regions(t->fa, ir_cfg_compute(t->fa, f));
    cgt_emit_flow(t, rt);
    t->state_machine = rt->dispatch;

    /* signature, declarations, body */
    t->out = o;
    t->depth = 0;
    t->d->kernel_open(t, o);
    t->depth = 1;
    for (int s = 0; s < f->shared.len; s++)
        if (t->cf.use_shared[s])
            EMIT("%s %s;\n",
                 t->d->kind == CGT_OPENCL ? "__local"
                 : t->d->kind == CGT_CUDA ? "__shared__"
                                          : "threadgroup",
                 cgt_decl(t, f->shared.data[s].type, t->sharedname[s]));
    for (int s = 0; s < f->locals.len; s++) {
        if (!t->cf.use_local[s]) continue;
        const Type *ty = f->locals.data[s].type;
        const char *init = ty_is_scalar(ty)           ? cf_zero(&t->cf, ty)
                           : t->d->kind == CGT_OPENCL ? "{0}"
                                                      : "{}";
        if (ty_is_scalar(ty) && half_split(t, ty)) init = "0";
        if (ty_is_scalar(ty) && ty->kind == TY_BOOL && t->d->bool_mem_uchar) init = "0";
        EMIT("%s = %s;\n", cgt_decl(t, ty, t->localname[s]), init);
    }
    /* the values' variables, one declaration per type (in order of first appearance) */
    CgtStrVec dtype = {0}, dname = {0};
    if (rt->uses_selector) {
        vec_push(t->fa, &dtype, "int");
        vec_push(t->fa, &dname, "dck_sel = 0");
    }
    for (int bi = 0; bi < f->blocks.len; bi++) {
        const IrBlock *b = f->blocks.data[bi];
        if (!t->reach[b->id]) continue;
        for (IrInst *i = b->first; i; i = i->next) {
            if (!t->live[i->id] || !t->hasvar[i->id]) continue;
            vec_push(t->fa, &dtype, cgt_vtype(t, i->type));
            vec_push(t->fa, &dname, arena_printf(t->a, "v%d", i->id));
            if (i->op == IR_PHI && t->need_tmp[i->id]) {
                vec_push(t->fa, &dtype, cgt_vtype(t, i->type));
                vec_push(t->fa, &dname, arena_printf(t->a, "t%d", i->id));
            }
        }
    }
    uint8_t *done = arena_alloc(t->fa, (size_t)dtype.len + 1);
    for (int k = 0; k < dtype.len; k++) {
        if (done[k]) continue;
        indent(t);
        size_t line0 = o->len;
        sb_printf(o, "%s %s", dtype.data[k], dname.data[k]);
        for (int j = k + 1; j < dtype.len; j++) {
            if (done[j] || strcmp(dtype.data[j], dtype.data[k]) != 0) continue;
            done[j] = 1;
            if (o->len - line0 > 90) {
                sb_printf(o, ";\n");
                indent(t);
                line0 = o->len;
                sb_printf(o, "%s %s", dtype.data[k], dname.data[j]);
            } else {
                sb_printf(o, ", %s", dname.data[j]);
            }
        }
        sb_puts(o, ";\n");
    }
    /* the structured body's final `return;` is implied */
    static const char tail_ret[] = "\n    return;\n";
    size_t tl = sizeof tail_ret - 1;
    if (!t->state_machine && body.len >= tl && memcmp(body.data + body.len - tl, tail_ret, tl) == 0)
        body.len -= tl - 1;
    sb_putn(o, body.data, body.len);
    sb_puts(o, "}\n\n");
    sb_free(&body);
}

bool cgt_kernel_uses(const IrFunc *f, bool (*pred)(const IrInst *))
{
    for (int b = 0; b < f->blocks.len; b++)
        for (const IrInst *i = f->blocks.data[b]->first; i; i = i->next)
            if (pred(i)) return true;
    return false;
}

static void emit_module(CfPrinter *p, StrBuf *out)
{
    CgText *t = text_of(p);
    const IrModule *m = t->m;
    cf_note_module(p, &t->struct_types, NULL);
    for (int fi = 0; fi < m->funcs.len; fi++) {
        const IrFunc *f = m->funcs.data[fi];
        if (!f->is_kernel) continue;
        vec_push(t->a, &t->names, f->name);
        vec_push(t->a, &t->names,
                 arena_printf(t->a, "%s_args", f->name)); /* MSL's argument block */
    }
    t->struct_name = arena_alloc(t->a, sizeof(char *) * (size_t)(t->struct_types.len + 1));
    CgtStrVec scope = {0};
    for (int i = 0; i < t->struct_types.len; i++) {
        t->struct_name[i] = unique_name(t, &scope, t->struct_types.data[i]->name);
        vec_push(t->a, &t->names, t->struct_name[i]);
    }

    StrBuf kern = {0};
    for (int fi = 0; fi < m->funcs.len; fi++) {
        const IrFunc *f = m->funcs.data[fi];
        if (!f->is_kernel) continue;
        ice_context(f->name);
        t->f = f;
        t->fa = t->cf.fa = arena_new();
        emit_kernel(t, &kern);
        arena_free(t->fa);
        t->fa = t->cf.fa = NULL;
    }
    ice_context(NULL);
    t->f = NULL;
    /* the struct declarations may name vector types: spell them before the prologue */
    StrBuf structs = {0};
    cgt_emit_struct_decls(t, &structs, t->d->kind != CGT_OPENCL);

    sb_printf(out, "// Generated by dckc --target=%s from ", t->d->target);
    for (const char *p = m->source_name ? cf_base_name(m->source_name) : "?"; *p; p++)
        sb_putc(out, (unsigned char)*p < 32 ? '_' : *p);
    sb_puts(out, ". Do not edit.\n");
    if (t->checked)
        sb_puts(
            out,
            "// Checked mode: buffer accesses are bounds-checked (out-of-bounds record last parameter).\n");
    t->d->prologue(t, out);
    if (structs.len) sb_putn(out, structs.data, structs.len);
    cf_put_helpers(p, out);
    if (kern.len) sb_putn(out, kern.data, kern.len);
    sb_free(&kern);
    sb_free(&structs);
}

bool cgt_emit(const CgDialect *d, const IrModule *m, const CgOptions *o, StrBuf *out, StrBuf *err)
{
    CgText t = {0};
    t.m = m;
    t.d = d;
    t.checked = (o && o->checked) || m->checked;
    t.a = arena_new();
    CfDialect cfd = cf_dialect_of(d);
    t.cf = (CfPrinter){.d = &cfd, .m = m, .owner = &t, .a = t.a, .checked = t.checked};
    return cf_run(&t.cf, emit_module, out, err);
}
