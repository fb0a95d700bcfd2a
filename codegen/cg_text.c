/* cg_text.c: the shared emitter of the C-like GPU text backends (see cg_text.h).
 *
 * Per kernel: analysis (reachable blocks, live instructions, which values need a variable,
 * which parameters, buffers, slots and work-item queries are used), then the body, then the
 * dialect's signature and the declarations in front of it.
 *
 * Structuring: the body is the region tree of compiler/ir_cfg.h (if/else, `for (;;)`,
 * break, continue, return, and the selector dck_sel for the jumps they cannot express),
 * printed by cg_text_flow.c. Phis are parallel copies on the edges, ordered so that no copy
 * overwrites a value a later one reads; only a cycle goes through temporaries.
 */
#include "cg_text.h"
#include "../compiler/ir_cfg.h"

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
    /* C, C++ */
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while", "bool", "true", "false", "asm", "typeof", "class", "delete", "new", "this",
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

static const char *base_name(const char *path)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\') b = p + 1;
    return b;
}

/* ---------------------------------------------------------------- types */

bool cgt_want_helper(CgText *t, const char *key)
{
    for (int i = 0; i < t->helper_keys.len; i++)
        if (strcmp(t->helper_keys.data[i], key) == 0) return false;
    vec_push(t->a, &t->helper_keys, arena_strdup(t->a, key));
    return true;
}

const char *cgt_sname(CgText *t, const Type *s)
{
    switch (s->kind) {
    case TY_BOOL: return "b";
    case TY_INT: return arena_printf(t->a, "%c%d", s->is_signed ? 'i' : 'u', s->bits);
    case TY_FLOAT: return arena_printf(t->a, "f%d", s->bits);
    default: ICE("sname of non-scalar type %s", s->name);
    }
}

const char *cgt_struct_name(CgText *t, const Type *st)
{
    for (int i = 0; i < t->struct_types.len; i++)
        if (t->struct_types.data[i] == st) return t->struct_name[i];
    ICE("struct %s was not collected", st->name);
}

static void note_scalar(CgText *t, const Type *s)
{
    if (s->kind == TY_FLOAT && s->bits == 16) t->uses_half = true;
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
    StrBuf dims = {0};
    const Type *b = ty;
    while (b->kind == TY_ARRAY) {
        sb_printf(&dims, "[%d]", b->n);
        b = b->elem;
    }
    const char *s =
        arena_printf(t->a, "%s %s%s", type_name(t, b, true), name, dims.data ? dims.data : "");
    sb_free(&dims);
    return s;
}

static bool is_half(const Type *s) { return s->kind == TY_FLOAT && s->bits == 16; }

/* does the value form differ from the memory form (element-wise)? */
static bool half_split(CgText *t, const Type *ty)
{
    return is_half(ty_elem((Type *)ty)) && !t->d->half_native;
}

static const char *to_val(CgText *t, const Type *ty, const char *e)
{
    if (ty->kind == TY_BOOL && t->d->bool_mem_uchar) return arena_printf(t->a, "(%s != 0)", e);
    if (!half_split(t, ty)) return e;
    t->uses_half = true;
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
    t->uses_half = true;
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

static void note_struct(CgText *t, Type *ty)
{
    if (!ty) return;
    switch (ty->kind) {
    case TY_STRUCT:
        for (int i = 0; i < t->struct_types.len; i++)
            if (t->struct_types.data[i] == ty) return;
        for (int i = 0; i < ty->nfields; i++) note_struct(t, ty->fields[i].type);
        vec_push(t->a, &t->struct_types, ty);
        return;
    case TY_ARRAY:
    case TY_BUFFER: note_struct(t, ty->elem); return;
    default: return;
    }
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

/* ---------------------------------------------------------------- literals */

static const char *float_lit(CgText *t, double v, int bits)
{
    bool dbl = bits == 64;
    bool hlit = bits == 16 && t->d->half_native;
    if (isnan(v) || isinf(v)) {
        if (t->d->kind == CGT_CUDA) {
            const char *s = isnan(v) ? (dbl ? "__longlong_as_double(0x7ff8000000000000LL)"
                                            : "__int_as_float(0x7fc00000)")
                                     : (dbl ? "__longlong_as_double(0x7ff0000000000000LL)"
                                            : "__int_as_float(0x7f800000)");
            return isinf(v) && v < 0 ? arena_printf(t->a, "(-%s)", s) : s;
        }
        const char *s = isnan(v) ? "NAN" : "INFINITY";
        const char *cast = dbl ? "(double)" : hlit ? "(half)" : "";
        return isinf(v) && v < 0 ? arena_printf(t->a, "(-%s%s)", cast, s)
                                 : arena_printf(t->a, "%s%s", cast, s);
    }
    char buf[64];
    int maxp = dbl ? 17 : 9;
    for (int p = 1; p <= maxp; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (dbl ? strtod(buf, NULL) == v : (double)strtof(buf, NULL) == (double)(float)v) break;
    }
    if (!strpbrk(buf, ".en")) strcat(buf, ".0");
    const char *suf = dbl ? "" : hlit ? "h" : "f";
    if (v < 0 || (v == 0 && signbit(v))) return arena_printf(t->a, "(%s%s)", buf, suf);
    return arena_printf(t->a, "%s%s", buf, suf);
}

static const char *int_lit(CgText *t, const Type *ty, uint64_t u)
{
    if (ty->kind == TY_BOOL) return u ? "true" : "false";
    int w = ty->bits;
    bool cuda = t->d->kind == CGT_CUDA;
    if (!ty->is_signed) {
        if (w < 32)
            return arena_printf(t->a, "(%s)%llu", type_name(t, ty, false), (unsigned long long)u);
        if (w == 32) return arena_printf(t->a, "%lluu", (unsigned long long)u);
        return arena_printf(t->a, "%llu%s", (unsigned long long)u, cuda ? "ull" : "ul");
    }
    int64_t v = w == 64 ? (int64_t)u : (int64_t)(u << (64 - w)) >> (64 - w);
    if (w == 64) {
        const char *L = cuda ? "ll" : "l";
        if (v == INT64_MIN) return arena_printf(t->a, "(-9223372036854775807%s - 1%s)", L, L);
        return v < 0 ? arena_printf(t->a, "(%lld%s)", (long long)v, L)
                     : arena_printf(t->a, "%lld%s", (long long)v, L);
    }
    if (w == 32 && v == INT32_MIN) return "(-2147483647 - 1)";
    if (w < 32)
        return arena_printf(t->a, "(%s)%s%lld%s", type_name(t, ty, false), v < 0 ? "(" : "",
                            (long long)v, v < 0 ? ")" : "");
    return v < 0 ? arena_printf(t->a, "(%lld)", (long long)v)
                 : arena_printf(t->a, "%lld", (long long)v);
}

static const char *zero_of(CgText *t, const Type *ty)
{
    if (ty->kind == TY_BOOL) return "false";
    if (ty->kind == TY_INT) return int_lit(t, ty, 0);
    if (ty->kind == TY_FLOAT) return float_lit(t, 0.0, half_split(t, ty) ? 32 : ty->bits);
    return t->d->zero_agg(t, ty);
}

/* ---------------------------------------------------------------- analysis */

static bool is_inline(const IrInst *i)
{
    switch (i->op) {
    case IR_CONST:
    case IR_PARAM:
    case IR_WORKITEM:
    case IR_BUFLEN:
    case IR_UNDEF: return true;
    default: return false;
    }
}

static int pred_index(const IrBlock *s, const IrBlock *p, int occ)
{
    for (int k = 0; k < s->npreds; k++)
        if (s->preds[k] == p && occ-- == 0) return k;
    ICE("block b%d is not a predecessor of b%d", p->id, s->id);
}

static void analyse(CgText *t)
{
    const IrFunc *f = t->f;
    Arena *a = t->fa;
    int n = t->nid = f->next_id + 1;
    t->live = arena_alloc(a, (size_t)n);
    t->hasvar = arena_alloc(a, (size_t)n);
    t->reach = arena_alloc(a, (size_t)n);
    t->need_tmp = arena_alloc(a, (size_t)n);
    t->name = arena_alloc(a, sizeof(char *) * (size_t)n);
    int np = f->nparams + 1;
    t->use_param = arena_alloc(a, (size_t)np);
    t->use_len = arena_alloc(a, (size_t)np);
    t->use_buf = arena_alloc(a, (size_t)np);
    t->use_local = arena_alloc(a, (size_t)f->locals.len + 1);
    t->use_shared = arena_alloc(a, (size_t)f->shared.len + 1);
    memset(t->use_wi, 0, sizeof t->use_wi);
    t->use_sg_size = t->use_sg_lid = false;
    t->has_barrier = false;
    int *nuses = arena_alloc(a, sizeof(int) * (size_t)n);

    IrBlock **stack = arena_alloc(a, sizeof(IrBlock *) * (size_t)(f->blocks.len + 1));
    int sp = 0;
    if (f->blocks.len) {
        stack[sp++] = f->blocks.data[0];
        t->reach[f->blocks.data[0]->id] = 1;
    }
    while (sp) {
        IrBlock *b = stack[--sp], *succ[2];
        int ns = ir_succs(b, succ);
        for (int k = 0; k < ns; k++)
            if (!t->reach[succ[k]->id]) {
                t->reach[succ[k]->id] = 1;
                stack[sp++] = succ[k];
            }
    }

    IrInst **work = arena_alloc(a, sizeof(IrInst *) * (size_t)n);
    int nwork = 0;
#define MARK(x)                  \
    do {                         \
        IrInst *x_ = (x);        \
        if (!t->live[x_->id]) {  \
            t->live[x_->id] = 1; \
            work[nwork++] = x_;  \
        }                        \
    } while (0)
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        if (!t->reach[b->id]) continue;
        for (IrInst *i = b->first; i; i = i->next) {
            if (i->op == IR_CALL)
                ICE("call to '%s' left after inlining", i->callee ? i->callee->name : "?");
            int fl = ir_op_info[i->op].flags;
            if ((fl & (OPF_TERM | OPF_SIDE)) ||
                (i->op == IR_LOAD && t->checked && i->mem.kind == MEM_BUFFER))
                MARK(i);
        }
    }
    while (nwork) {
        IrInst *i = work[--nwork];
        if (i->op == IR_PARAM) t->use_param[i->param] = 1;
        if (i->op == IR_BUFLEN) t->use_len[i->mem.id] = 1;
        if (i->op == IR_WORKITEM) t->use_wi[i->builtin - BI_GLOBAL_ID][i->dim] = 1;
        if (i->op == IR_BUILTIN && i->builtin == BI_SUBGROUP_SIZE) t->use_sg_size = true;
        if (i->op == IR_BUILTIN && i->builtin == BI_SUBGROUP_LOCAL_ID) t->use_sg_lid = true;
        if (i->op == IR_BUILTIN && builtin_info[i->builtin].cls >= BK_SG0) t->uses_subgroups = true;
        if (i->op == IR_BARRIER) t->has_barrier = true;
        for (int k = 0; k < i->nops; k++) {
            if (i->op == IR_PHI && !t->reach[i->block->preds[k]->id]) continue;
            if (i->op == IR_RET) continue;
            MARK(i->ops[k]);
        }
    }
#undef MARK
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        if (!t->reach[b->id]) continue;
        for (IrInst *i = b->first; i; i = i->next) {
            if (!t->live[i->id]) continue;
            for (int k = 0; k < i->nops; k++) {
                if (i->op == IR_PHI && !t->reach[i->block->preds[k]->id]) continue;
                if (i->op == IR_RET) continue;
                nuses[i->ops[k]->id]++;
            }
        }
    }
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        if (!t->reach[b->id]) continue;
        for (IrInst *i = b->first; i; i = i->next) {
            if (!t->live[i->id]) continue;
            if (i->type != ty_void && !is_inline(i) && (nuses[i->id] > 0 || i->op == IR_LOAD))
                t->hasvar[i->id] = 1;
            if (i->op == IR_LOAD && nuses[i->id] == 0 && !t->checked) t->hasvar[i->id] = 0;
            if (i->op == IR_LOAD || i->op == IR_STORE || i->op == IR_ATOMIC) {
                if (i->mem.kind == MEM_BUFFER) {
                    t->use_buf[i->mem.id] = 1;
                    if (t->checked) t->use_len[i->mem.id] = 1;
                } else if (i->mem.kind == MEM_SHARED) {
                    t->use_shared[i->mem.id] = 1;
                } else {
                    t->use_local[i->mem.id] = 1;
                }
            }
            if (t->hasvar[i->id]) t->name[i->id] = arena_printf(t->a, "v%d", i->id);
        }
    }
    if (!t->has_barrier)
        for (int d = 0; d < 3; d++) t->use_wi[0][d] = 1; /* the global-size guard */
}

/* ---------------------------------------------------------------- expressions */

static const char *inline_name(CgText *t, const IrInst *i)
{
    switch (i->op) {
    case IR_CONST:
        if (i->type->kind == TY_FLOAT)
            return float_lit(t, i->imm.f, half_split(t, i->type) ? 32 : i->type->bits);
        return int_lit(t, i->type, i->imm.i);
    case IR_PARAM: return to_val(t, i->type, t->d->param_ref(t, i->param));
    case IR_UNDEF: return zero_of(t, i->type);
    case IR_BUFLEN: return t->d->len_ref(t, i->mem.id);
    case IR_WORKITEM: return t->d->workitem(t, i->builtin, i->dim);
    default: return NULL;
    }
}

static const char *N(CgText *t, const IrInst *v)
{
    ICE_ASSERT(v->id >= 0 && v->id < t->nid);
    const char *s = t->name[v->id];
    if (!s && is_inline(v)) s = t->name[v->id] = inline_name(t, v);
    if (!s) ICE("value %%%d used but not defined in emitted code", v->id);
    return s;
}

static const char *comp(CgText *t, const IrInst *v, int k)
{
    if (v->type->kind == TY_VEC) return arena_printf(t->a, "%s.%c", N(t, v), cgt_comps[k]);
    return N(t, v);
}

static const char *utype(CgText *t, const Type *s)
{
    return type_name(t, ty_scalar(s->bits == 64 ? SC_ULONG : SC_UINT), false);
}

static const char *helper_divrem(CgText *t, const Type *s, bool rem)
{
    const char *fn = arena_printf(t->a, "dck_%s_%s", rem ? "rem" : "div", cgt_sname(t, s));
    if (!cgt_want_helper(t, fn)) return fn;
    const char *T = type_name(t, s, false), *Q = t->d->kind == CGT_OPENCL || t->d->kind == CGT_MSL
                                                     ? "static inline"
                                                     : "static __device__ __forceinline__";
    if (s->is_signed) {
        if (rem)
            sb_printf(
                &t->helpers,
                "%s %s %s(%s a, %s b) { return (b == 0 || b == -1) ? (%s)0 : (%s)(a %% b); }\n", Q,
                T, fn, T, T, T, T);
        else
            sb_printf(
                &t->helpers,
                "%s %s %s(%s a, %s b) { return b == 0 ? (%s)0 : b == -1 ? (%s)(0 - (%s)a) : (%s)(a / b); }\n",
                Q, T, fn, T, T, T, T, utype(t, s), T);
    } else {
        sb_printf(&t->helpers, "%s %s %s(%s a, %s b) { return b == 0 ? (%s)0 : (%s)(a %c b); }\n",
                  Q, T, fn, T, T, T, T, rem ? '%' : '/');
    }
    return fn;
}

static const char *bin_expr(CgText *t, IrOp op, const Type *s, const char *a, const char *b)
{
    static const char opc[] = {[IR_ADD] = '+', [IR_SUB] = '-', [IR_MUL] = '*', [IR_DIV] = '/',
                               [IR_AND] = '&', [IR_OR] = '|',  [IR_XOR] = '^'};
    if (s->kind == TY_BOOL) {
        ICE_ASSERT(op == IR_AND || op == IR_OR || op == IR_XOR);
        return arena_printf(t->a, "(%s %c %s)", a, opc[op], b);
    }
    if (s->kind == TY_FLOAT) {
        if (op == IR_REM)
            return arena_printf(t->a, "%s(%s, %s)", t->d->mathfn(t, BI_FMOD, s), a, b);
        ICE_ASSERT(op == IR_ADD || op == IR_SUB || op == IR_MUL || op == IR_DIV);
        return arena_printf(t->a, "(%s %c %s)", a, opc[op], b);
    }
    ICE_ASSERT(s->kind == TY_INT);
    int w = s->bits;
    const char *T = type_name(t, s, false), *U = utype(t, s);
    bool plain = !s->is_signed && w >= 32;
    switch (op) {
    case IR_ADD:
    case IR_SUB:
    case IR_MUL:
        if (plain) return arena_printf(t->a, "(%s %c %s)", a, opc[op], b);
        return arena_printf(t->a, "(%s)((%s)%s %c (%s)%s)", T, U, a, opc[op], U, b);
    case IR_DIV: return arena_printf(t->a, "%s(%s, %s)", helper_divrem(t, s, false), a, b);
    case IR_REM: return arena_printf(t->a, "%s(%s, %s)", helper_divrem(t, s, true), a, b);
    case IR_AND:
    case IR_OR:
    case IR_XOR:
        if (w >= 32) return arena_printf(t->a, "(%s %c %s)", a, opc[op], b);
        return arena_printf(t->a, "(%s)(%s %c %s)", T, a, opc[op], b);
    case IR_SHL:
        if (plain) return arena_printf(t->a, "(%s << (%s & %du))", a, b, w - 1);
        return arena_printf(t->a, "(%s)((%s)%s << (%s & %d))", T, U, a, b, w - 1);
    case IR_SHR:
        if (plain) return arena_printf(t->a, "(%s >> (%s & %du))", a, b, w - 1);
        return arena_printf(t->a, "(%s)(%s >> (%s & %d))", T, a, b, w - 1);
    default: ICE("binary op %s", ir_op_info[op].name);
    }
}

static const char *cmp_expr(CgText *t, IrOp op, const char *a, const char *b)
{
    const char *o = op == IR_EQ   ? "=="
                    : op == IR_NE ? "!="
                    : op == IR_LT ? "<"
                    : op == IR_LE ? "<="
                    : op == IR_GT ? ">"
                                  : ">=";
    return arena_printf(t->a, "(%s %s %s)", a, o, b);
}

static const char *convert_expr(CgText *t, const Type *to, const Type *from, const char *a)
{
    if (to == from) return a;
    if (to->kind == TY_BOOL) return arena_printf(t->a, "(%s != 0)", a);
    if (to->kind == TY_INT && from->kind == TY_FLOAT) return t->d->f2i(t, to, from, a);
    if (half_split(t, to) && half_split(t, from)) return a;
    if (half_split(t, to)) { /* to half: round through the bits */
        t->uses_half = true;
        return arena_printf(t->a, "dck_hround((float)%s)", a);
    }
    if (half_split(t, from) && to->kind == TY_FLOAT && to->bits == 32) return a;
    return arena_printf(t->a, "(%s)%s", type_name(t, to, false), a);
}

/* integer builtins with a generic expansion (arguments are names: repeating them is free) */
static const char *int_builtin(CgText *t, BuiltinId bi, const Type *s, const char **a)
{
    const char *T = type_name(t, s, false), *U = utype(t, s);
    int w = s->bits;
    switch (bi) {
    case BI_ABS:
        if (!s->is_signed) return a[0];
        return arena_printf(t->a, "(%s < 0 ? (%s)(0 - (%s)%s) : %s)", a[0], T, U, a[0], a[0]);
    case BI_MIN: return arena_printf(t->a, "(%s < %s ? %s : %s)", a[1], a[0], a[1], a[0]);
    case BI_MAX: return arena_printf(t->a, "(%s < %s ? %s : %s)", a[0], a[1], a[1], a[0]);
    case BI_CLAMP: {
        const char *mx = arena_printf(t->a, "(%s < %s ? %s : %s)", a[0], a[1], a[1], a[0]);
        return arena_printf(t->a, "(%s < %s ? %s : %s)", a[2], mx, a[2], mx);
    }
    case BI_SELECT: return arena_printf(t->a, "(%s ? %s : %s)", a[2], a[1], a[0]);
    default: break;
    }
    const char *r = t->d->intfn(t, bi, s, a[0], a[1]);
    if (r) return r;
    switch (bi) {
    case BI_ROTATE:
        return arena_printf(
            t->a, "(%s)(((%s)%s << ((%s)%s & %du)) | ((%s)%s >> ((%du - ((%s)%s & %du)) & %du)))",
            T, U,
            s->is_signed || w < 32 ? arena_printf(t->a, "(%s)%s",
                                                  type_name(t,
                                                            ty_scalar(w == 8    ? SC_UCHAR
                                                                      : w == 16 ? SC_USHORT
                                                                      : w == 32 ? SC_UINT
                                                                                : SC_ULONG),
                                                            false),
                                                  a[0])
                                   : a[0],
            U, a[1], w - 1, U,
            s->is_signed || w < 32 ? arena_printf(t->a, "(%s)%s",
                                                  type_name(t,
                                                            ty_scalar(w == 8    ? SC_UCHAR
                                                                      : w == 16 ? SC_USHORT
                                                                      : w == 32 ? SC_UINT
                                                                                : SC_ULONG),
                                                            false),
                                                  a[0])
                                   : a[0],
            w, U, a[1], w - 1, w - 1);
    case BI_MUL_HI:
        if (w < 32) return arena_printf(t->a, "(%s)(((int)%s * (int)%s) >> %d)", T, a[0], a[1], w);
        ICE("mul_hi on %s needs a dialect function", s->name);
    default: ICE("builtin %s on %s", builtin_info[bi].name, s->name);
    }
}

static const char *float_builtin(CgText *t, BuiltinId bi, const Type *s, const char **x)
{
    const char *fn = t->d->mathfn(t, bi, s);
    bool f32 = s->bits != 64;
    const char *one = f32 ? "1.0f" : "1.0", *zero = f32 ? "0.0f" : "0.0";
    if (fn) {
        int n = builtin_info[bi].nargs;
        return arena_printf(t->a, "%s(%s%s%s%s%s)", fn, x[0], n > 1 ? ", " : "", n > 1 ? x[1] : "",
                            n > 2 ? ", " : "", n > 2 ? x[2] : "");
    }
    switch (bi) {
    case BI_CLAMP:
        return arena_printf(t->a, "%s(%s(%s, %s), %s)", t->d->mathfn(t, BI_MIN, s),
                            t->d->mathfn(t, BI_MAX, s), x[0], x[1], x[2]);
    case BI_MIX: return arena_printf(t->a, "(%s + (%s - %s) * %s)", x[0], x[1], x[0], x[2]);
    case BI_STEP: return arena_printf(t->a, "(%s < %s ? %s : %s)", x[1], x[0], zero, one);
    case BI_SIGN:
        return arena_printf(t->a, "(%s > %s ? %s : %s < %s ? -%s : %s)", x[0], zero, one, x[0],
                            zero, one, x[0]);
    case BI_RSQRT:
        return arena_printf(t->a, "(%s / %s(%s))", one, t->d->mathfn(t, BI_SQRT, s), x[0]);
    case BI_FRACT:
        return arena_printf(t->a, "%s(%s - %s(%s), %s)", t->d->mathfn(t, BI_MIN, s), x[0],
                            t->d->mathfn(t, BI_FLOOR, s), x[0],
                            f32 ? "0.99999994f" : "0.99999999999999989");
    case BI_ISNAN: return arena_printf(t->a, "(isnan(%s) != 0)", x[0]);
    case BI_ISINF: return arena_printf(t->a, "(isinf(%s) != 0)", x[0]);
    case BI_SELECT: return arena_printf(t->a, "(%s ? %s : %s)", x[2], x[1], x[0]);
    default: ICE("builtin %s on %s", builtin_info[bi].name, s->name);
    }
}

/* round a half result computed in float */
static const char *hround(CgText *t, const Type *s, const char *e)
{
    if (!half_split(t, s)) return e;
    t->uses_half = true;
    return arena_printf(t->a, "dck_hround(%s)", e);
}

static const char *elem_expr(CgText *t, const IrInst *i, int k)
{
    Type *rt = ty_elem(i->type);
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
        return hround(t, rt, bin_expr(t, i->op, rt, comp(t, i->ops[0], k), comp(t, i->ops[1], k)));
    case IR_NEG: {
        const char *a = comp(t, i->ops[0], k);
        if (rt->kind == TY_FLOAT) return arena_printf(t->a, "-%s", a);
        return arena_printf(t->a, "(%s)(0 - (%s)%s)", type_name(t, rt, false), utype(t, rt), a);
    }
    case IR_NOT: {
        const char *a = comp(t, i->ops[0], k);
        if (rt->kind == TY_BOOL) return arena_printf(t->a, "!%s", a);
        return arena_printf(t->a, "(%s)~%s", type_name(t, rt, false), a);
    }
    case IR_EQ:
    case IR_NE:
    case IR_LT:
    case IR_LE:
    case IR_GT:
    case IR_GE: return cmp_expr(t, i->op, comp(t, i->ops[0], k), comp(t, i->ops[1], k));
    case IR_SELECT:
        return arena_printf(t->a, "(%s ? %s : %s)", comp(t, i->ops[0], k), comp(t, i->ops[1], k),
                            comp(t, i->ops[2], k));
    case IR_CONVERT: return convert_expr(t, rt, ty_elem(i->ops[0]->type), comp(t, i->ops[0], k));
    case IR_BUILTIN: {
        const char *a[3] = {0};
        for (int j = 0; j < i->nops && j < 3; j++) a[j] = comp(t, i->ops[j], k);
        Type *s = ty_elem(i->ops[0]->type);
        if (i->builtin == BI_STEP || i->builtin == BI_SELECT) s = rt;
        if (s->kind == TY_FLOAT) {
            const char *r = float_builtin(t, i->builtin, s, a);
            return rt->kind == TY_FLOAT ? hround(t, rt, r) : r;
        }
        if (s->kind == TY_BOOL) {
            ICE_ASSERT(i->builtin == BI_SELECT);
            return arena_printf(t->a, "(%s ? %s : %s)", a[2], a[1], a[0]);
        }
        return int_builtin(t, i->builtin, s, a);
    }
    default: ICE("not element-wise: %s", ir_op_info[i->op].name);
    }
}

/* whole-vector form of an element-wise instruction where the dialect has one, else NULL */
static const char *vector_expr(CgText *t, const IrInst *i)
{
    if (!t->d->vec_ops || i->type->kind != TY_VEC) return NULL;
    Type *e = i->type->elem;
    if (e->kind != TY_FLOAT || half_split(t, e)) return NULL;
    for (int k = 0; k < i->nops; k++)
        if (i->ops[k]->type != i->type) return NULL;
    switch (i->op) {
    case IR_ADD: return arena_printf(t->a, "%s + %s", N(t, i->ops[0]), N(t, i->ops[1]));
    case IR_SUB: return arena_printf(t->a, "%s - %s", N(t, i->ops[0]), N(t, i->ops[1]));
    case IR_MUL: return arena_printf(t->a, "%s * %s", N(t, i->ops[0]), N(t, i->ops[1]));
    case IR_DIV: return arena_printf(t->a, "%s / %s", N(t, i->ops[0]), N(t, i->ops[1]));
    case IR_NEG: return arena_printf(t->a, "-%s", N(t, i->ops[0]));
    case IR_BUILTIN: {
        BuiltinClass c = builtin_info[i->builtin].cls;
        if (c != BK_F1 && c != BK_F2 && c != BK_F3 && c != BK_N1 && c != BK_N2 && c != BK_N3)
            return NULL;
        if (i->builtin == BI_NORMALIZE) return NULL;
        const char *fn = t->d->mathfn(t, i->builtin, e);
        if (!fn) return NULL;
        const char *x[3] = {0};
        for (int k = 0; k < i->nops && k < 3; k++) x[k] = N(t, i->ops[k]);
        int n = builtin_info[i->builtin].nargs;
        return arena_printf(t->a, "%s(%s%s%s%s%s)", fn, x[0], n > 1 ? ", " : "", n > 1 ? x[1] : "",
                            n > 2 ? ", " : "", n > 2 ? x[2] : "");
    }
    default: return NULL;
    }
}

static void emit_elementwise(CgText *t, const IrInst *i)
{
    const char *d = N(t, i);
    const char *v = vector_expr(t, i);
    if (v) {
        EMIT("%s = %s;\n", d, v);
        return;
    }
    int n = ty_width(i->type);
    if (n == 1) {
        EMIT("%s = %s;\n", d, elem_expr(t, i, 0));
        return;
    }
    for (int k = 0; k < n; k++) EMIT("%s.%c = %s;\n", d, cgt_comps[k], elem_expr(t, i, k));
}

static const char *reduce_expr(CgText *t, const IrInst *x, const IrInst *y, bool diff)
{
    int n = ty_width(x->type);
    StrBuf sb = {0};
    for (int k = 0; k < n; k++) {
        const char *a = comp(t, x, k), *b = y ? comp(t, y, k) : a;
        if (k) sb_puts(&sb, " + ");
        if (diff)
            sb_printf(&sb, "(%s - %s) * (%s - %s)", a, b, a, b);
        else
            sb_printf(&sb, "%s * %s", a, b);
    }
    const char *s = arena_strdup(t->a, sb.data);
    sb_free(&sb);
    return s;
}

static void emit_builtin(CgText *t, const IrInst *i)
{
    BuiltinId bi = i->builtin;
    ICE_ASSERT(bi > BI_NONE && bi < BI_COUNT);
    const char *d = N(t, i);
    switch (builtin_info[bi].cls) {
    case BK_DOT:
    case BK_LENGTH: {
        Type *et = ty_elem(i->ops[0]->type);
        const char *sum = bi == BI_DOT      ? reduce_expr(t, i->ops[0], i->ops[1], false)
                          : bi == BI_LENGTH ? reduce_expr(t, i->ops[0], NULL, false)
                                            : reduce_expr(t, i->ops[0], i->ops[1], true);
        const char *e = bi == BI_DOT
                            ? arena_printf(t->a, "(%s)", sum)
                            : arena_printf(t->a, "%s(%s)", t->d->mathfn(t, BI_SQRT, et), sum);
        EMIT("%s = %s;\n", d, hround(t, et, e));
        return;
    }
    case BK_CROSS: {
        const IrInst *x = i->ops[0], *y = i->ops[1];
        Type *et = ty_elem(i->type);
        static const int p1[3] = {1, 2, 0}, p2[3] = {2, 0, 1};
        for (int k = 0; k < 3; k++)
            EMIT("%s.%c = %s;\n", d, cgt_comps[k],
                 hround(t, et,
                        arena_printf(t->a, "%s * %s - %s * %s", comp(t, x, p1[k]),
                                     comp(t, y, p2[k]), comp(t, x, p2[k]), comp(t, y, p1[k]))));
        if (i->type->n == 4) EMIT("%s.w = %s;\n", d, zero_of(t, et));
        return;
    }
    case BK_ANYALL: {
        const IrInst *x = i->ops[0];
        int n = ty_width(x->type);
        StrBuf sb = {0};
        for (int k = 0; k < n; k++)
            sb_printf(&sb, "%s%s", k ? (bi == BI_ANY ? " || " : " && ") : "", comp(t, x, k));
        EMIT("%s = %s;\n", d, sb.data);
        sb_free(&sb);
        return;
    }
    case BK_SG0:
    case BK_SG1:
    case BK_SGLANE:
        EMIT("%s = %s;\n", d,
             t->d->subgroup(t, bi, i->type, i->nops > 0 ? N(t, i->ops[0]) : NULL,
                            i->nops > 1 ? N(t, i->ops[1]) : NULL));
        return;
    default: break;
    }
    if (bi == BI_NORMALIZE) {
        const IrInst *x = i->ops[0];
        Type *et = ty_elem(x->type);
        const char *r = arena_printf(t->a, "(%s / %s(%s))", et->bits == 64 ? "1.0" : "1.0f",
                                     t->d->mathfn(t, BI_SQRT, et), reduce_expr(t, x, NULL, false));
        int n = ty_width(x->type);
        if (n == 1) {
            EMIT("%s = %s;\n", d, hround(t, et, arena_printf(t->a, "%s * %s", N(t, x), r)));
            return;
        }
        /* the reciprocal once, in component 0's slot of the result */
        const char *F = et->bits == 64 ? "double" : "float";
        const char *rn = arena_printf(t->a, "((%s)%s)", F, r);
        for (int k = 0; k < n; k++)
            EMIT("%s.%c = %s;\n", d, cgt_comps[k],
                 hround(t, et, arena_printf(t->a, "%s * %s", comp(t, x, k), rn)));
        return;
    }
    emit_elementwise(t, i);
}

/* ---------------------------------------------------------------- memory */

static void line_marker(CgText *t, const IrInst *i)
{
    if (i->loc.line <= 0) return;
    if (i->loc.file == t->cur_file && i->loc.line == t->cur_line) return;
    t->cur_file = i->loc.file;
    t->cur_line = i->loc.line;
    const char *fn =
        i->loc.file >= 0 && i->loc.file < t->m->nfiles ? base_name(t->m->files[i->loc.file]) : "?";
    indent(t);
    sb_puts(t->out, "// ");
    for (const char *p = fn; *p; p++) sb_putc(t->out, (unsigned char)*p < 32 ? '_' : *p);
    sb_printf(t->out, ":%d\n", i->loc.line);
}

static const char *mem_lvalue(CgText *t, const IrInst *i, Type **elem_out, CgSpace *sp)
{
    const IrMemRef *mr = &i->mem;
    const IrFunc *f = t->f;
    StrBuf sb = {0};
    Type *ty;
    switch (mr->kind) {
    case MEM_BUFFER:
        ICE_ASSERT(mr->id >= 0 && mr->id < f->nparams &&
                   f->params[mr->id].type->kind == TY_BUFFER && mr->nidx == 1);
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
        for (int k = 0; k < mr->nidx; k++) {
            ICE_ASSERT(ty->kind == TY_ARRAY);
            sb_printf(&sb, "[%s]", N(t, i->ops[k]));
            ty = ty->elem;
        }
        *sp = sh ? CGS_SHARED : CGS_PRIVATE;
        break;
    }
    default: ICE("memory kind %d", (int)mr->kind);
    }
    for (int k = 0; k < mr->npath; k++) {
        int p = mr->path[k];
        if (ty->kind == TY_STRUCT) {
            ICE_ASSERT(p >= 0 && p < ty->nfields);
            sb_printf(&sb, ".%s", field_name(t, ty, p));
            ty = ty->fields[p].type;
        } else {
            ICE_ASSERT(ty->kind == TY_VEC && p >= 0 && p < ty->n);
            sb_printf(&sb, ".%c", cgt_comps[p]);
            ty = ty->elem;
        }
    }
    const char *s = arena_strdup(t->a, sb.data);
    sb_free(&sb);
    *elem_out = ty;
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
    if (!it->is_signed)
        return arena_printf(t->a, "(%s)%s < (%s)%s", utype(t, ty_scalar(SC_ULONG)), idx,
                            utype(t, ty_scalar(SC_ULONG)), len);
    return arena_printf(t->a, "%s >= 0 && (%s)%s < (%s)%s", idx, utype(t, ty_scalar(SC_ULONG)), idx,
                        utype(t, ty_scalar(SC_ULONG)), len);
}

static void check_else(CgText *t, const IrInst *i, bool is_write, bool zero)
{
    const IrInst *ix = i->ops[0];
    const char *U64 = utype(t, ty_scalar(SC_ULONG));
    const char *idx64 = ix->type->is_signed
                            ? arena_printf(t->a, "(%s)(%s)%s", U64,
                                           type_name(t, ty_scalar(SC_LONG), false), N(t, ix))
                            : arena_printf(t->a, "(%s)%s", U64, N(t, ix));
    EMIT("} else {\n");
    t->depth++;
    if (zero) EMIT("%s = %s;\n", N(t, i), zero_of(t, i->type));
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
    if (!t->live[i->id] || is_inline(i) || i->op == IR_PHI) return;
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
    const char *d = N(t, i);
    switch (i->op) {
    case IR_SELECT:
        if (i->ops[0]->type->kind == TY_BOOL && !ty_is_scalar(i->type)) {
            EMIT("%s = %s ? %s : %s;\n", d, N(t, i->ops[0]), N(t, i->ops[1]), N(t, i->ops[2]));
            return;
        }
        emit_elementwise(t, i);
        return;
    case IR_VECTOR: {
        const char *c[4];
        for (int k = 0; k < i->nops && k < 4; k++) c[k] = N(t, i->ops[k]);
        EMIT("%s = %s;\n", d, t->d->vec_make(t, i->type, c));
        return;
    }
    case IR_SPLAT: {
        const char *c[4];
        for (int k = 0; k < i->type->n; k++) c[k] = N(t, i->ops[0]);
        EMIT("%s = %s;\n", d, t->d->vec_make(t, i->type, c));
        return;
    }
    case IR_EXTRACT: {
        const Type *at = i->ops[0]->type;
        if (at->kind == TY_STRUCT)
            EMIT("%s = %s;\n", d,
                 to_val(t, i->type,
                        arena_printf(t->a, "%s.%s", N(t, i->ops[0]), field_name(t, at, i->idx))));
        else
            EMIT("%s = %s.%c;\n", d, N(t, i->ops[0]), cgt_comps[i->idx]);
        return;
    }
    case IR_INSERT: {
        const Type *at = i->type;
        EMIT("%s = %s;\n", d, N(t, i->ops[0]));
        if (at->kind == TY_STRUCT)
            EMIT("%s.%s = %s;\n", d, field_name(t, at, i->idx),
                 to_mem(t, at->fields[i->idx].type, N(t, i->ops[1])));
        else
            EMIT("%s.%c = %s;\n", d, cgt_comps[i->idx], N(t, i->ops[1]));
        return;
    }
    case IR_SHUFFLE: {
        int n = ty_width(i->type);
        if (n == 1) {
            EMIT("%s = %s;\n", d, comp(t, i->ops[0], i->mask[0]));
        } else if (t->d->vec_ops) {
            char sw[5] = {0};
            for (int k = 0; k < n; k++) sw[k] = cgt_comps[i->mask[k]];
            EMIT("%s = %s.%s;\n", d, N(t, i->ops[0]), sw);
        } else {
            for (int k = 0; k < n; k++)
                EMIT("%s.%c = %s;\n", d, cgt_comps[k], comp(t, i->ops[0], i->mask[k]));
        }
        return;
    }
    case IR_BUILTIN: emit_builtin(t, i); return;
    default: emit_elementwise(t, i); return;
    }
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
    k = pred_index(s, b, occ);
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
    t->cur_file = -2;
    t->cur_line = -1;
    IrRegionTree *rt = ir_cfg_regions(t->fa, ir_cfg_compute(t->fa, f));
    cgt_emit_flow(t, rt);
    t->state_machine = rt->dispatch;

    /* signature, declarations, body */
    t->out = o;
    t->depth = 0;
    t->d->kernel_open(t, o);
    t->depth = 1;
    for (int s = 0; s < f->shared.len; s++)
        if (t->use_shared[s])
            EMIT("%s %s;\n",
                 t->d->kind == CGT_OPENCL ? "__local"
                 : t->d->kind == CGT_CUDA ? "__shared__"
                                          : "threadgroup",
                 cgt_decl(t, f->shared.data[s].type, t->sharedname[s]));
    for (int s = 0; s < f->locals.len; s++) {
        if (!t->use_local[s]) continue;
        const Type *ty = f->locals.data[s].type;
        const char *init = ty_is_scalar(ty)           ? zero_of(t, ty)
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

static void emit_module(CgText *t, StrBuf *out)
{
    const IrModule *m = t->m;
    for (int i = 0; i < m->structs.len; i++) note_struct(t, m->structs.data[i]);
    for (int fi = 0; fi < m->funcs.len; fi++) {
        const IrFunc *f = m->funcs.data[fi];
        if (!f->is_kernel) continue;
        for (int p = 0; p < f->nparams; p++) note_struct(t, f->params[p].type);
        for (int s = 0; s < f->locals.len; s++) note_struct(t, f->locals.data[s].type);
        for (int s = 0; s < f->shared.len; s++) note_struct(t, f->shared.data[s].type);
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
        t->fa = arena_new();
        emit_kernel(t, &kern);
        arena_free(t->fa);
        t->fa = NULL;
    }
    ice_context(NULL);
    t->f = NULL;
    /* the struct declarations may name vector types: spell them before the prologue */
    StrBuf structs = {0};
    cgt_emit_struct_decls(t, &structs, t->d->kind != CGT_OPENCL);

    sb_printf(out, "// Generated by dckc --target=%s from ", t->d->target);
    for (const char *p = m->source_name ? base_name(m->source_name) : "?"; *p; p++)
        sb_putc(out, (unsigned char)*p < 32 ? '_' : *p);
    sb_puts(out, ". Do not edit.\n");
    if (t->checked)
        sb_puts(
            out,
            "// Checked mode: buffer accesses are bounds-checked (out-of-bounds record last parameter).\n");
    t->d->prologue(t, out);
    if (structs.len) sb_putn(out, structs.data, structs.len);
    if (t->helpers.len) {
        sb_puts(out, "/* ---- helpers ---- */\n");
        sb_putn(out, t->helpers.data, t->helpers.len);
        sb_putc(out, '\n');
    }
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
    IceScope scope;
    ice_push(&scope);
    bool ok = true;
    StrBuf tmp = {0};
    if (setjmp(scope.jb) == 0) {
        emit_module(&t, &tmp);
        sb_putn(out, tmp.data, tmp.len);
    } else {
        ok = false;
        if (t.fa) arena_free(t.fa);
        sb_puts(err, scope.msg);
    }
    ice_pop(&scope);
    ice_context(NULL);
    sb_free(&tmp);
    sb_free(&t.helpers);
    arena_free(t.a);
    return ok;
}
