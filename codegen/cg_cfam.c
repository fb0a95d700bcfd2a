/* cg_cfam.c: the C-family printer (see cg_cfam.h).
 *
 * Semantics every dialect shares (docs/backends.md): integer arithmetic wraps (computed in
 * the unsigned type of its width where C would overflow), integer division and remainder by
 * zero give 0 and MIN / -1 wraps (helpers dck_div_* / dck_rem_*), shift counts are taken
 * modulo the width, float to int conversions saturate (NaN gives 0, the dialect's f2i),
 * sign(NaN) is 0 and fract stays below 1.0 as in OpenCL C. Expressions are fully
 * parenthesized; value names are repeated freely (they are variables, literals or pure
 * queries).
 */
#include "cg_cfam.h"

#include <ctype.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char cf_comps[] = "xyzw";

/* ---------------------------------------------------------------- the module */

bool cf_run(CfPrinter *p, void (*emit)(CfPrinter *p, StrBuf *out), StrBuf *out, StrBuf *err)
{
    IceScope scope;
    ice_push(&scope);
    bool ok = true;
    StrBuf tmp = {0};
    if (setjmp(scope.jb) == 0) {
        emit(p, &tmp);
        sb_putn(out, tmp.data, tmp.len);
    } else {
        ok = false;
        if (p->fa) arena_free(p->fa);
        sb_puts(err, scope.msg);
    }
    ice_pop(&scope);
    ice_context(NULL);
    sb_free(&tmp);
    sb_free(&p->helpers);
    arena_free(p->a);
    return ok;
}

static void note_type(CfPrinter *p, CfTypeVec *structs, Type *ty,
                      void (*leaf)(CfPrinter *p, Type *ty))
{
    if (!ty) return;
    switch (ty->kind) {
    case TY_STRUCT:
        for (int i = 0; i < structs->len; i++)
            if (structs->data[i] == ty) return;
        for (int i = 0; i < ty->nfields; i++) note_type(p, structs, ty->fields[i].type, leaf);
        vec_push(p->a, structs, ty); /* after its field types: declaration order */
        return;
    case TY_ARRAY:
    case TY_BUFFER: note_type(p, structs, ty->elem, leaf); return;
    default:
        if (leaf) leaf(p, ty);
        return;
    }
}

void cf_note_module(CfPrinter *p, CfTypeVec *structs, void (*leaf)(CfPrinter *p, Type *ty))
{
    const IrModule *m = p->m;
    for (int i = 0; i < m->structs.len; i++) note_type(p, structs, m->structs.data[i], leaf);
    for (int fi = 0; fi < m->funcs.len; fi++) {
        const IrFunc *f = m->funcs.data[fi];
        if (!f->is_kernel) continue;
        for (int k = 0; k < f->nparams; k++) note_type(p, structs, f->params[k].type, leaf);
        for (int s = 0; s < f->locals.len; s++) note_type(p, structs, f->locals.data[s].type, leaf);
        for (int s = 0; s < f->shared.len; s++) note_type(p, structs, f->shared.data[s].type, leaf);
        for (int b = 0; b < f->blocks.len; b++)
            for (const IrInst *i = f->blocks.data[b]->first; i; i = i->next) {
                note_type(p, structs, i->type, leaf);
                for (int k = 0; k < i->nops; k++) note_type(p, structs, i->ops[k]->type, leaf);
            }
    }
    for (int i = 0; i < m->pipelines.len; i++)
        for (int k = 0; k < m->pipelines.data[i]->nparams; k++)
            note_type(p, structs, m->pipelines.data[i]->params[k].type, leaf);
}

void cf_put_helpers(CfPrinter *p, StrBuf *out)
{
    if (!p->helpers.len) return;
    sb_puts(out, "/* ---- helpers ---- */\n");
    sb_putn(out, p->helpers.data, p->helpers.len);
    sb_putc(out, '\n');
}

const char *cf_libm_name(BuiltinId b)
{
    static const char *const libm[BI_COUNT] = {
        [BI_ABS] = "fabs",  [BI_MIN] = "fmin",    [BI_MAX] = "fmax",    [BI_SQRT] = "sqrt",
        [BI_EXP] = "exp",   [BI_EXP2] = "exp2",   [BI_LOG] = "log",     [BI_LOG2] = "log2",
        [BI_POW] = "pow",   [BI_SIN] = "sin",     [BI_COS] = "cos",     [BI_TAN] = "tan",
        [BI_ASIN] = "asin", [BI_ACOS] = "acos",   [BI_ATAN] = "atan",   [BI_ATAN2] = "atan2",
        [BI_SINH] = "sinh", [BI_COSH] = "cosh",   [BI_TANH] = "tanh",   [BI_FLOOR] = "floor",
        [BI_CEIL] = "ceil", [BI_ROUND] = "round", [BI_TRUNC] = "trunc", [BI_FMOD] = "fmod",
        [BI_FMA] = "fma",
    };
    return b > BI_NONE && b < BI_COUNT ? libm[b] : NULL;
}

/* ---------------------------------------------------------------- names */

// clang-format off
static const char *const c_keywords[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while", "bool", "true", "false", "asm", "typeof",
};
// clang-format on

bool cf_is_c_keyword(const char *s)
{
    for (int i = 0; i < ARRAY_LEN(c_keywords); i++)
        if (strcmp(s, c_keywords[i]) == 0) return true;
    return false;
}

const char *cf_base_name(const char *path)
{
    const char *b = path;
    for (const char *p = path; *p; p++)
        if (*p == '/' || *p == '\\') b = p + 1;
    return b;
}

const char *cf_sname(CfPrinter *p, const Type *s)
{
    switch (s->kind) {
    case TY_BOOL: return "b";
    case TY_INT: return arena_printf(p->a, "%c%d", s->is_signed ? 'i' : 'u', s->bits);
    case TY_FLOAT: return arena_printf(p->a, "f%d", s->bits);
    default: ICE("sname of non-scalar type %s", s->name);
    }
}

bool cf_want_helper(CfPrinter *p, const char *key)
{
    for (int i = 0; i < p->helper_keys.len; i++)
        if (strcmp(p->helper_keys.data[i], key) == 0) return false;
    vec_push(p->a, &p->helper_keys, arena_strdup(p->a, key));
    return true;
}

/* ---------------------------------------------------------------- types */

const char *cf_type(CfPrinter *p, const Type *ty) { return p->d->type(p, ty); }

const char *cf_utype(CfPrinter *p, const Type *s)
{
    return cf_type(p, ty_scalar(s->bits == 64 ? SC_ULONG : SC_UINT));
}

const char *cf_decl(CfPrinter *p, const Type *ty, const char *name)
{
    StrBuf dims = {0};
    const Type *b = ty;
    while (b->kind == TY_ARRAY) {
        sb_printf(&dims, "[%d]", b->n);
        b = b->elem;
    }
    const char *T = p->d->mem_type ? p->d->mem_type(p, b) : cf_type(p, b);
    const char *s = arena_printf(p->a, "%s %s%s", T, name, dims.data ? dims.data : "");
    sb_free(&dims);
    return s;
}

bool cf_is_half(const Type *s) { return s->kind == TY_FLOAT && s->bits == 16; }

const char *cf_half_in(CfPrinter *p, const Type *s, const char *e)
{
    if (!cf_is_half(s) || p->d->half != CF_HALF_CAST) return e;
    return arena_printf(p->a, "(float)%s", e);
}

/* e is a primary expression: a name, a call or a parenthesized whole */
static bool is_primary(const char *e)
{
    const char *q = e;
    while (*q == '_' || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') ||
           (*q >= '0' && *q <= '9'))
        q++;
    if (!*q) return q != e;
    if (*q != '(') return false;
    int depth = 0;
    for (; *q; q++) {
        if (*q == '(') depth++;
        if (*q == ')' && --depth == 0) return q[1] == 0;
    }
    return false;
}

const char *cf_half_out(CfPrinter *p, const Type *s, const char *e)
{
    if (!cf_is_half(s)) return e;
    switch (p->d->half) {
    case CF_HALF_NATIVE: return e;
    case CF_HALF_CAST:
        return is_primary(e) ? arena_printf(p->a, "(_Float16)%s", e)
                             : arena_printf(p->a, "(_Float16)(%s)", e);
    case CF_HALF_FLOAT: p->uses_half = true; return arena_printf(p->a, "dck_hround(%s)", e);
    }
    return e;
}

/* ---------------------------------------------------------------- literals */

const char *cf_float_lit(CfPrinter *p, double v, int bits)
{
    const CfDialect *d = p->d;
    if (bits == 16 && d->half == CF_HALF_FLOAT) bits = 32;
    bool dbl = bits == 64, h = bits == 16;
    if (isnan(v) || isinf(v)) {
        const char *s;
        if (d->nan_bits)
            s = isnan(v) ? (dbl ? "__longlong_as_double(0x7ff8000000000000LL)"
                                : "__int_as_float(0x7fc00000)")
                         : (dbl ? "__longlong_as_double(0x7ff0000000000000LL)"
                                : "__int_as_float(0x7f800000)");
        else
            s = arena_printf(p->a, "%s%s",
                             dbl ? "(double)"
                             : h ? d->half_cast
                                 : "",
                             isnan(v) ? "NAN" : "INFINITY");
        return isinf(v) && v < 0 ? arena_printf(p->a, "(-%s)", s) : s;
    }
    char buf[64];
    int maxp = dbl ? 17 : 9;
    for (int k = 1; k <= maxp; k++) {
        snprintf(buf, sizeof buf, "%.*g", k, v);
        if (dbl ? strtod(buf, NULL) == v : (double)strtof(buf, NULL) == (double)(float)v) break;
    }
    if (!strpbrk(buf, ".en")) strcat(buf, ".0");
    const char *pre = h ? d->half_prefix : "", *suf = dbl ? "" : h ? d->half_suffix : "f";
    if (v < 0 || (v == 0 && signbit(v))) return arena_printf(p->a, "(%s%s%s)", pre, buf, suf);
    return arena_printf(p->a, "%s%s%s", pre, buf, suf);
}

const char *cf_int_lit(CfPrinter *p, const Type *ty, uint64_t u)
{
    if (ty->kind == TY_BOOL) return u ? "true" : "false";
    const CfDialect *d = p->d;
    int w = ty->bits;
    const char *cast =
        w < 32 && d->cast_narrow_lits ? arena_printf(p->a, "(%s)", cf_type(p, ty)) : "";
    if (!ty->is_signed) {
        if (w < 32) return arena_printf(p->a, "%s%llu", cast, (unsigned long long)u);
        if (w == 32) return arena_printf(p->a, "%lluu", (unsigned long long)u);
        if (d->stdint_lits) return arena_printf(p->a, "UINT64_C(%llu)", (unsigned long long)u);
        return arena_printf(p->a, "%llu%s%s", (unsigned long long)u, "u", d->i64_suffix);
    }
    int64_t v = w == 64 ? (int64_t)u : (int64_t)(u << (64 - w)) >> (64 - w);
    if (w == 64) {
        if (d->stdint_lits) {
            if (v == INT64_MIN) return "INT64_MIN";
            return v < 0 ? arena_printf(p->a, "(INT64_C(%lld))", (long long)v)
                         : arena_printf(p->a, "INT64_C(%lld)", (long long)v);
        }
        const char *L = d->i64_suffix;
        if (v == INT64_MIN) return arena_printf(p->a, "(-9223372036854775807%s - 1%s)", L, L);
        return v < 0 ? arena_printf(p->a, "(%lld%s)", (long long)v, L)
                     : arena_printf(p->a, "%lld%s", (long long)v, L);
    }
    if (w == 32 && v == INT32_MIN) return d->stdint_lits ? "INT32_MIN" : "(-2147483647 - 1)";
    if (*cast) return arena_printf(p->a, v < 0 ? "%s(%lld)" : "%s%lld", cast, (long long)v);
    return v < 0 ? arena_printf(p->a, "(%lld)", (long long)v)
                 : arena_printf(p->a, "%lld", (long long)v);
}

const char *cf_zero(CfPrinter *p, const Type *ty)
{
    if (ty->kind == TY_BOOL) return "false";
    if (ty->kind == TY_INT) return cf_int_lit(p, ty, 0);
    if (ty->kind == TY_FLOAT) return cf_float_lit(p, 0.0, ty->bits);
    return p->d->zero_agg(p, ty);
}

/* ---------------------------------------------------------------- values */

/* An aggregate undef is a variable, zeroed where it is defined (or by its declaration:
 * zeroed_vars), so that its components are plain `v.x` rather than a member of a dialect's
 * aggregate literal such as OpenCL C's `(int4)(0).x`. */
bool cf_is_inline(const IrInst *i)
{
    switch (i->op) {
    case IR_CONST:
    case IR_PARAM:
    case IR_WORKITEM:
    case IR_BUFLEN: return true;
    case IR_UNDEF: return ty_is_scalar(i->type);
    default: return false;
    }
}

const char *cf_value(CfPrinter *p, const IrInst *v)
{
    ICE_ASSERT(v->id >= 0 && v->id < p->nid);
    const char *s = p->name[v->id];
    if (!s && cf_is_inline(v)) {
        switch (v->op) {
        case IR_CONST:
            s = v->type->kind == TY_FLOAT ? cf_float_lit(p, v->imm.f, v->type->bits)
                                          : cf_int_lit(p, v->type, v->imm.i);
            break;
        case IR_UNDEF: s = cf_zero(p, v->type); break;
        default: s = p->d->inline_value(p, v); break;
        }
        p->name[v->id] = s;
    }
    if (!s) ICE("value %%%d used but not defined in emitted code", v->id);
    return s;
}

const char *cf_comp(CfPrinter *p, const IrInst *v, int k)
{
    if (v->type->kind == TY_VEC) return arena_printf(p->a, "%s.%c", cf_value(p, v), cf_comps[k]);
    return cf_value(p, v);
}

/* ---------------------------------------------------------------- expressions */

static const char *helper_divrem(CfPrinter *p, const Type *s, bool rem)
{
    const char *fn = arena_printf(p->a, "dck_%s_%s", rem ? "rem" : "div", cf_sname(p, s));
    if (!cf_want_helper(p, fn)) return fn;
    const char *T = cf_type(p, s), *Q = p->d->helper_qual;
    if (s->is_signed) {
        if (rem)
            sb_printf(
                &p->helpers,
                "%s %s %s(%s a, %s b) { return (b == 0 || b == -1) ? (%s)0 : (%s)(a %% b); }\n", Q,
                T, fn, T, T, T, T);
        else
            sb_printf(
                &p->helpers,
                "%s %s %s(%s a, %s b) { return b == 0 ? (%s)0 : b == -1 ? (%s)(0 - (%s)a) : (%s)(a / b); }\n",
                Q, T, fn, T, T, T, T, cf_utype(p, s), T);
    } else {
        sb_printf(&p->helpers, "%s %s %s(%s a, %s b) { return b == 0 ? (%s)0 : (%s)(a %c b); }\n",
                  Q, T, fn, T, T, T, T, rem ? '%' : '/');
    }
    return fn;
}

static const char *call(CfPrinter *p, const char *fn, int n, const char *const *x)
{
    return arena_printf(p->a, "%s(%s%s%s%s%s)", fn, x[0], n > 1 ? ", " : "", n > 1 ? x[1] : "",
                        n > 2 ? ", " : "", n > 2 ? x[2] : "");
}

const char *cf_bin_expr(CfPrinter *p, IrOp op, const Type *s, const char *a, const char *b)
{
    static const char opc[] = {[IR_ADD] = '+', [IR_SUB] = '-', [IR_MUL] = '*', [IR_DIV] = '/',
                               [IR_AND] = '&', [IR_OR] = '|',  [IR_XOR] = '^'};
    if (s->kind == TY_BOOL) {
        ICE_ASSERT(op == IR_AND || op == IR_OR || op == IR_XOR);
        return arena_printf(p->a, "(%s %c %s)", a, opc[op], b);
    }
    if (s->kind == TY_FLOAT) {
        const char *x[2] = {cf_half_in(p, s, a), cf_half_in(p, s, b)};
        if (op == IR_REM) return cf_half_out(p, s, call(p, p->d->mathfn(p, BI_FMOD, s), 2, x));
        ICE_ASSERT(op == IR_ADD || op == IR_SUB || op == IR_MUL || op == IR_DIV);
        return cf_half_out(p, s, arena_printf(p->a, "(%s %c %s)", x[0], opc[op], x[1]));
    }
    ICE_ASSERT(s->kind == TY_INT);
    int w = s->bits;
    const char *T = cf_type(p, s), *U = cf_utype(p, s);
    bool plain = !s->is_signed && w >= 32; /* uint32/uint64 arithmetic is already modular */
    switch (op) {
    case IR_ADD:
    case IR_SUB:
    case IR_MUL:
        if (plain) return arena_printf(p->a, "(%s %c %s)", a, opc[op], b);
        return arena_printf(p->a, "(%s)((%s)%s %c (%s)%s)", T, U, a, opc[op], U, b);
    case IR_DIV: return arena_printf(p->a, "%s(%s, %s)", helper_divrem(p, s, false), a, b);
    case IR_REM: return arena_printf(p->a, "%s(%s, %s)", helper_divrem(p, s, true), a, b);
    case IR_AND:
    case IR_OR:
    case IR_XOR:
        /* `2 ^ 7` of two constants (-O0) reads to clang as a misspelled power
           (-Wxor-used-as-pow); a parenthesized literal does not */
        if (op == IR_XOR && isdigit((unsigned char)a[0]) && !strpbrk(a, "()"))
            a = arena_printf(p->a, "(%s)", a);
        if (w >= 32) return arena_printf(p->a, "(%s %c %s)", a, opc[op], b);
        return arena_printf(p->a, "(%s)(%s %c %s)", T, a, opc[op], b);
    case IR_SHL:
        if (plain) return arena_printf(p->a, "(%s << (%s & %du))", a, b, w - 1);
        return arena_printf(p->a, "(%s)((%s)%s << (%s & %d))", T, U, a, b, w - 1);
    case IR_SHR:
        if (plain) return arena_printf(p->a, "(%s >> (%s & %du))", a, b, w - 1);
        return arena_printf(p->a, "(%s)(%s >> (%s & %d))", T, a, b, w - 1);
    default: ICE("binary op %s", ir_op_info[op].name);
    }
}

const char *cf_cmp_expr(CfPrinter *p, IrOp op, const char *a, const char *b)
{
    const char *o = op == IR_EQ   ? "=="
                    : op == IR_NE ? "!="
                    : op == IR_LT ? "<"
                    : op == IR_LE ? "<="
                    : op == IR_GT ? ">"
                                  : ">=";
    return arena_printf(p->a, "(%s %s %s)", a, o, b);
}

/* Is `v` an integer constant at the limit of its type (0 / max for unsigned, min / max signed)?
 * Returns -1 for min, +1 for max, 0 otherwise. */
static int const_limit(const IrInst *v)
{
    if (v->op != IR_CONST || v->type->kind != TY_INT) return 0;
    int w = v->type->bits;
    uint64_t mask = w == 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1);
    uint64_t u = v->imm.i & mask;
    if (!v->type->is_signed) return u == 0 ? -1 : u == mask ? 1 : 0;
    uint64_t minv = (uint64_t)1 << (w - 1);
    return u == minv ? -1 : u == minv - 1 ? 1 : 0;
}

/* Comparisons a compiler would call always true/false (-Wtype-limits): the result or -1. */
static int fold_cmp(IrOp op, const IrInst *x, const IrInst *y)
{
    int lx = const_limit(x), ly = const_limit(y);
    if (ly == -1 && op == IR_LT) return 0; /* x < min */
    if (ly == -1 && op == IR_GE) return 1; /* x >= min */
    if (ly == 1 && op == IR_GT) return 0;  /* x > max */
    if (ly == 1 && op == IR_LE) return 1;  /* x <= max */
    if (lx == -1 && op == IR_GT) return 0; /* min > y */
    if (lx == -1 && op == IR_LE) return 1; /* min <= y */
    if (lx == 1 && op == IR_LT) return 0;  /* max < y */
    if (lx == 1 && op == IR_GE) return 1;  /* max >= y */
    return -1;
}

const char *cf_convert_expr(CfPrinter *p, const Type *to, const Type *from, const char *a)
{
    if (to == from) return a;
    if (to->kind == TY_BOOL) return arena_printf(p->a, "(%s != 0)", a);
    if (to->kind == TY_INT && from->kind == TY_FLOAT)
        return p->d->f2i(p, to, from, cf_half_in(p, from, a));
    if (p->d->half == CF_HALF_FLOAT) {
        if (cf_is_half(to) && cf_is_half(from)) return a;
        if (cf_is_half(to)) { /* to half: round through the bits */
            p->uses_half = true;
            return arena_printf(p->a, "dck_hround((float)%s)", a);
        }
        if (cf_is_half(from) && to->kind == TY_FLOAT && to->bits == 32) return a;
    }
    return arena_printf(p->a, "(%s)%s", cf_type(p, to), a);
}

static const char *helper_abs(CfPrinter *p, const Type *s)
{
    const char *fn = arena_printf(p->a, "dck_abs_%s", cf_sname(p, s));
    if (cf_want_helper(p, fn)) {
        const char *T = cf_type(p, s);
        sb_printf(&p->helpers, "%s %s %s(%s a) { return a < 0 ? (%s)(0 - (%s)a) : a; }\n",
                  p->d->helper_qual, T, fn, T, T, cf_utype(p, s));
    }
    return fn;
}

static const char *helper_minmax(CfPrinter *p, const Type *s, bool max)
{
    const char *fn = arena_printf(p->a, "dck_%s_%s", max ? "max" : "min", cf_sname(p, s));
    if (cf_want_helper(p, fn)) {
        const char *T = cf_type(p, s);
        sb_printf(&p->helpers, "%s %s %s(%s a, %s b) { return %s ? b : a; }\n", p->d->helper_qual,
                  T, fn, T, T, max ? "a < b" : "b < a");
    }
    return fn;
}

/* integer builtins: abs, min, max and clamp are helper functions (a call never draws
 * -Wtype-limits, as `x < 0u` written out would); the others are the dialect's or generic
 * expansions (arguments are names: repeating them is free) */
static const char *int_builtin(CfPrinter *p, BuiltinId bi, const Type *s, const char **a)
{
    const char *T = cf_type(p, s), *U = cf_utype(p, s);
    int w = s->bits;
    switch (bi) {
    case BI_ABS:
        if (!s->is_signed) return a[0];
        return arena_printf(p->a, "%s(%s)", helper_abs(p, s), a[0]);
    case BI_MIN: return arena_printf(p->a, "%s(%s, %s)", helper_minmax(p, s, false), a[0], a[1]);
    case BI_MAX: return arena_printf(p->a, "%s(%s, %s)", helper_minmax(p, s, true), a[0], a[1]);
    case BI_CLAMP:
        return arena_printf(p->a, "%s(%s(%s, %s), %s)", helper_minmax(p, s, false),
                            helper_minmax(p, s, true), a[0], a[1], a[2]);
    default: break;
    }
    const char *r = p->d->intfn(p, bi, s, a[0], a[1]);
    if (r) return r;
    switch (bi) {
    case BI_ROTATE: {
        const char *UN = cf_type(p, ty_scalar(w == 8    ? SC_UCHAR
                                              : w == 16 ? SC_USHORT
                                              : w == 32 ? SC_UINT
                                                        : SC_ULONG));
        const char *ua = s->is_signed || w < 32 ? arena_printf(p->a, "(%s)%s", UN, a[0]) : a[0];
        return arena_printf(
            p->a, "(%s)(((%s)%s << ((%s)%s & %du)) | ((%s)%s >> ((%du - ((%s)%s & %du)) & %du)))",
            T, U, ua, U, a[1], w - 1, U, ua, w, U, a[1], w - 1, w - 1);
    }
    case BI_MUL_HI:
        if (w < 32) return arena_printf(p->a, "(%s)(((int)%s * (int)%s) >> %d)", T, a[0], a[1], w);
        ICE("mul_hi on %s needs a dialect function", s->name);
    default: ICE("builtin %s on %s", builtin_info[bi].name, s->name);
    }
}

/* float builtins on element type s (x: the operands as computed) */
static const char *float_builtin(CfPrinter *p, BuiltinId bi, const Type *s, const char **x)
{
    const char *fn = p->d->mathfn(p, bi, s);
    bool f32 = s->bits != 64;
    const char *one = f32 ? "1.0f" : "1.0", *zero = f32 ? "0.0f" : "0.0";
    if (fn) return call(p, fn, builtin_info[bi].nargs, x);
    switch (bi) {
    case BI_CLAMP:
        return arena_printf(p->a, "%s(%s(%s, %s), %s)", p->d->mathfn(p, BI_MIN, s),
                            p->d->mathfn(p, BI_MAX, s), x[0], x[1], x[2]);
    case BI_MIX: return arena_printf(p->a, "(%s + (%s - %s) * %s)", x[0], x[1], x[0], x[2]);
    case BI_STEP: return arena_printf(p->a, "(%s < %s ? %s : %s)", x[1], x[0], zero, one);
    case BI_SIGN: /* sign(NaN) is 0, sign(-0) is -0 */
        return arena_printf(p->a, "(%s > %s ? %s : %s < %s ? -%s : %s == %s ? %s : %s)", x[0], zero,
                            one, x[0], zero, one, x[0], x[0], x[0], zero);
    case BI_RSQRT:
        return arena_printf(p->a, "(%s / %s(%s))", one, p->d->mathfn(p, BI_SQRT, s), x[0]);
    case BI_FRACT: /* x - floor(x), kept below 1.0 */
        return arena_printf(p->a, "%s(%s - %s(%s), %s)", p->d->mathfn(p, BI_MIN, s), x[0],
                            p->d->mathfn(p, BI_FLOOR, s), x[0],
                            f32 ? "0.99999994f" : "0.99999999999999989");
    case BI_ISNAN: return arena_printf(p->a, "(isnan(%s) != 0)", x[0]);
    case BI_ISINF: return arena_printf(p->a, "(isinf(%s) != 0)", x[0]);
    default: ICE("builtin %s on %s", builtin_info[bi].name, s->name);
    }
}

const char *cf_elem_expr(CfPrinter *p, const IrInst *i, int k)
{
    Type *rt = ty_elem(i->type);
    if (i->op >= IR_EQ && i->op <= IR_GE) { /* the six comparisons (ops.def) */
        int r = i->type->kind == TY_BOOL ? fold_cmp(i->op, i->ops[0], i->ops[1]) : -1;
        /* an integer compared with itself (-Wtautological-compare; `v < v` of vectors, which
           the optimizer leaves): known, but the operand stays used */
        if (i->ops[0] == i->ops[1] && ty_elem(i->ops[0]->type)->kind != TY_FLOAT)
            r = i->op == IR_EQ || i->op == IR_LE || i->op == IR_GE;
        if (r >= 0 && i->ops[0] == i->ops[1])
            return arena_printf(p->a, "((void)%s, %s)", cf_value(p, i->ops[0]),
                                r ? "true" : "false");
        if (r >= 0)
            return arena_printf(p->a, "((void)%s, (void)%s, %s)", cf_value(p, i->ops[0]),
                                cf_value(p, i->ops[1]), r ? "true" : "false");
        return cf_cmp_expr(p, i->op, cf_comp(p, i->ops[0], k), cf_comp(p, i->ops[1], k));
    }
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
        return cf_bin_expr(p, i->op, rt, cf_comp(p, i->ops[0], k), cf_comp(p, i->ops[1], k));
    case IR_NEG: {
        const char *a = cf_comp(p, i->ops[0], k);
        if (rt->kind == TY_FLOAT) return arena_printf(p->a, "-%s", a);
        return arena_printf(p->a, "(%s)(0 - (%s)%s)", cf_type(p, rt), cf_utype(p, rt), a);
    }
    case IR_NOT: {
        const char *a = cf_comp(p, i->ops[0], k);
        if (rt->kind == TY_BOOL) return arena_printf(p->a, "!%s", a);
        return arena_printf(p->a, "(%s)~%s", cf_type(p, rt), a);
    }
    case IR_SELECT:
        return arena_printf(p->a, "(%s ? %s : %s)", cf_comp(p, i->ops[0], k),
                            cf_comp(p, i->ops[1], k), cf_comp(p, i->ops[2], k));
    case IR_CONVERT:
        return cf_convert_expr(p, rt, ty_elem(i->ops[0]->type), cf_comp(p, i->ops[0], k));
    case IR_BUILTIN: {
        const char *a[3] = {0};
        for (int j = 0; j < i->nops && j < 3; j++) a[j] = cf_comp(p, i->ops[j], k);
        if (i->builtin == BI_SELECT) return arena_printf(p->a, "(%s ? %s : %s)", a[2], a[1], a[0]);
        Type *s = ty_elem(i->ops[0]->type);
        if (i->builtin == BI_STEP) s = rt;
        if (s->kind == TY_INT) return int_builtin(p, i->builtin, s, a);
        ICE_ASSERT(s->kind == TY_FLOAT);
        for (int j = 0; j < 3; j++)
            if (a[j]) a[j] = cf_half_in(p, s, a[j]);
        const char *r = float_builtin(p, i->builtin, s, a);
        return rt->kind == TY_FLOAT ? cf_half_out(p, rt, r) : r;
    }
    default: ICE("not element-wise: %s", ir_op_info[i->op].name);
    }
}

/* whole-vector form of an element-wise instruction where the dialect has one, else NULL */
static const char *vector_expr(CfPrinter *p, const IrInst *i)
{
    if (!p->d->vec_ops || i->type->kind != TY_VEC) return NULL;
    Type *e = i->type->elem;
    if (e->kind != TY_FLOAT || (cf_is_half(e) && p->d->half != CF_HALF_NATIVE)) return NULL;
    for (int k = 0; k < i->nops; k++)
        if (i->ops[k]->type != i->type) return NULL;
    const char *x[3] = {0};
    for (int k = 0; k < i->nops && k < 3; k++) x[k] = cf_value(p, i->ops[k]);
    switch (i->op) {
    case IR_ADD: return arena_printf(p->a, "%s + %s", x[0], x[1]);
    case IR_SUB: return arena_printf(p->a, "%s - %s", x[0], x[1]);
    case IR_MUL: return arena_printf(p->a, "%s * %s", x[0], x[1]);
    case IR_DIV: return arena_printf(p->a, "%s / %s", x[0], x[1]);
    case IR_NEG: return arena_printf(p->a, "-%s", x[0]);
    case IR_BUILTIN: {
        BuiltinClass c = builtin_info[i->builtin].cls;
        if (c != BK_F1 && c != BK_F2 && c != BK_F3 && c != BK_N1 && c != BK_N2 && c != BK_N3)
            return NULL;
        if (i->builtin == BI_NORMALIZE) return NULL;
        const char *fn = p->d->mathfn(p, i->builtin, e);
        return fn ? call(p, fn, builtin_info[i->builtin].nargs, x) : NULL;
    }
    default: return NULL;
    }
}

/* ---------------------------------------------------------------- statements */

void cf_emit(CfPrinter *p, const char *fmt, ...)
{
    StrBuf sb = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&sb, fmt, ap);
    va_end(ap);
    p->d->line(p, sb.data ? sb.data : "");
    sb_free(&sb);
}

void cf_line_marker(CfPrinter *p, const IrInst *i)
{
    if (i->loc.line <= 0) return;
    if (i->loc.file == p->cur_file && i->loc.line == p->cur_line) return;
    p->cur_file = i->loc.file;
    p->cur_line = i->loc.line;
    const char *fn = i->loc.file >= 0 && i->loc.file < p->m->nfiles
                         ? cf_base_name(p->m->files[i->loc.file])
                         : "?";
    bool lc = p->d->line_comment;
    StrBuf sb = {0};
    sb_puts(&sb, lc ? "// " : "/* ");
    for (const char *q = fn; *q; q++)
        sb_putc(&sb, (unsigned char)*q < 32 || (!lc && q[0] == '*' && q[1] == '/') ? '_' : *q);
    sb_printf(&sb, ":%d%s", i->loc.line, lc ? "" : " */");
    p->d->line(p, sb.data);
    sb_free(&sb);
}

static void emit_elementwise(CfPrinter *p, const IrInst *i)
{
    const char *d = cf_value(p, i);
    const char *v = vector_expr(p, i);
    if (v) {
        cf_emit(p, "%s = %s;", d, v);
        return;
    }
    int n = ty_width(i->type);
    if (n == 1) {
        cf_emit(p, "%s = %s;", d, cf_elem_expr(p, i, 0));
        return;
    }
    for (int k = 0; k < n; k++) cf_emit(p, "%s.%c = %s;", d, cf_comps[k], cf_elem_expr(p, i, k));
}

/* sum over components of f(a_k, b_k) (half computed in float) */
static const char *reduce_expr(CfPrinter *p, const IrInst *x, const IrInst *y, bool diff)
{
    int n = ty_width(x->type);
    const Type *e = ty_elem(x->type);
    StrBuf sb = {0};
    for (int k = 0; k < n; k++) {
        const char *a = cf_half_in(p, e, cf_comp(p, x, k));
        const char *b = y ? cf_half_in(p, e, cf_comp(p, y, k)) : a;
        if (k) sb_puts(&sb, " + ");
        if (diff)
            sb_printf(&sb, "(%s - %s) * (%s - %s)", a, b, a, b);
        else
            sb_printf(&sb, "%s * %s", a, b);
    }
    const char *s = arena_strdup(p->a, sb.data);
    sb_free(&sb);
    return s;
}

static void emit_builtin(CfPrinter *p, const IrInst *i)
{
    BuiltinId bi = i->builtin;
    ICE_ASSERT(bi > BI_NONE && bi < BI_COUNT);
    const char *d = cf_value(p, i);
    switch (builtin_info[bi].cls) {
    case BK_DOT:
    case BK_LENGTH: {
        Type *et = ty_elem(i->ops[0]->type);
        const char *sum = bi == BI_DOT      ? reduce_expr(p, i->ops[0], i->ops[1], false)
                          : bi == BI_LENGTH ? reduce_expr(p, i->ops[0], NULL, false)
                                            : reduce_expr(p, i->ops[0], i->ops[1], true);
        const char *e = bi == BI_DOT
                            ? arena_printf(p->a, "(%s)", sum)
                            : arena_printf(p->a, "%s(%s)", p->d->mathfn(p, BI_SQRT, et), sum);
        cf_emit(p, "%s = %s;", d, cf_half_out(p, et, e));
        return;
    }
    case BK_CROSS: {
        const IrInst *x = i->ops[0], *y = i->ops[1];
        Type *et = ty_elem(i->type);
        static const int p1[3] = {1, 2, 0}, p2[3] = {2, 0, 1};
        for (int k = 0; k < 3; k++) {
            const char *e = arena_printf(
                p->a, "%s * %s - %s * %s", cf_half_in(p, et, cf_comp(p, x, p1[k])),
                cf_half_in(p, et, cf_comp(p, y, p2[k])), cf_half_in(p, et, cf_comp(p, x, p2[k])),
                cf_half_in(p, et, cf_comp(p, y, p1[k])));
            cf_emit(p, "%s.%c = %s;", d, cf_comps[k], cf_half_out(p, et, e));
        }
        if (i->type->n == 4) cf_emit(p, "%s.w = %s;", d, cf_zero(p, et));
        return;
    }
    case BK_ANYALL: {
        const IrInst *x = i->ops[0];
        int n = ty_width(x->type);
        StrBuf sb = {0};
        for (int k = 0; k < n; k++)
            sb_printf(&sb, "%s%s", k ? (bi == BI_ANY ? " || " : " && ") : "", cf_comp(p, x, k));
        cf_emit(p, "%s = %s;", d, sb.data);
        sb_free(&sb);
        return;
    }
    case BK_SG0:
    case BK_SG1:
    case BK_SGLANE:
        cf_emit(p, "%s = %s;", d,
                p->d->subgroup(p, bi, i->type, i->nops > 0 ? cf_value(p, i->ops[0]) : NULL,
                               i->nops > 1 ? cf_value(p, i->ops[1]) : NULL));
        return;
    default: break;
    }
    if (bi == BI_NORMALIZE) { /* the reciprocal of the length once */
        const IrInst *x = i->ops[0];
        Type *et = ty_elem(x->type);
        cf_emit(p, "{");
        cf_emit(p, "    %s r_ = %s / %s(%s);", et->bits == 64 ? "double" : "float",
                et->bits == 64 ? "1.0" : "1.0f", p->d->mathfn(p, BI_SQRT, et),
                reduce_expr(p, x, NULL, false));
        int n = ty_width(x->type);
        for (int k = 0; k < n; k++) {
            const char *e = cf_half_out(
                p, et, arena_printf(p->a, "%s * r_", cf_half_in(p, et, cf_comp(p, x, k))));
            if (n == 1)
                cf_emit(p, "    %s = %s;", d, e);
            else
                cf_emit(p, "    %s.%c = %s;", d, cf_comps[k], e);
        }
        cf_emit(p, "}");
        return;
    }
    emit_elementwise(p, i);
}

void cf_emit_value(CfPrinter *p, const IrInst *i)
{
    const CfDialect *D = p->d;
    const char *d = cf_value(p, i);
    switch (i->op) {
    case IR_UNDEF:
        if (!D->zeroed_vars) cf_emit(p, "%s = %s;", d, cf_zero(p, i->type));
        return;
    case IR_SELECT:
        if (i->ops[0]->type->kind == TY_BOOL && !ty_is_scalar(i->type)) {
            cf_emit(p, "%s = %s ? %s : %s;", d, cf_value(p, i->ops[0]), cf_value(p, i->ops[1]),
                    cf_value(p, i->ops[2]));
            return;
        }
        emit_elementwise(p, i);
        return;
    case IR_VECTOR:
    case IR_SPLAT: {
        const char *c[4];
        for (int k = 0; k < i->type->n; k++) c[k] = cf_value(p, i->ops[i->op == IR_VECTOR ? k : 0]);
        if (D->vec_make) {
            cf_emit(p, "%s = %s;", d, D->vec_make(p, i->type, c));
            return;
        }
        for (int k = 0; k < i->type->n; k++) cf_emit(p, "%s.%c = %s;", d, cf_comps[k], c[k]);
        return;
    }
    case IR_EXTRACT: {
        const Type *at = i->ops[0]->type;
        const char *x = cf_value(p, i->ops[0]);
        if (at->kind != TY_STRUCT) {
            cf_emit(p, "%s = %s.%c;", d, x, cf_comps[i->idx]);
            return;
        }
        const char *e = arena_printf(p->a, "%s.%s", x, D->field(p, at, i->idx));
        cf_emit(p, "%s = %s;", d, D->to_val ? D->to_val(p, i->type, e) : e);
        return;
    }
    case IR_INSERT: {
        const Type *at = i->type;
        const char *x = cf_value(p, i->ops[1]);
        cf_emit(p, "%s = %s;", d, cf_value(p, i->ops[0]));
        if (at->kind != TY_STRUCT) {
            cf_emit(p, "%s.%c = %s;", d, cf_comps[i->idx], x);
            return;
        }
        const Type *ft = at->fields[i->idx].type;
        cf_emit(p, "%s.%s = %s;", d, D->field(p, at, i->idx), D->to_mem ? D->to_mem(p, ft, x) : x);
        return;
    }
    case IR_SHUFFLE: {
        int n = ty_width(i->type);
        if (n == 1) {
            cf_emit(p, "%s = %s;", d, cf_comp(p, i->ops[0], i->mask[0]));
        } else if (D->vec_ops) {
            char sw[5] = {0};
            for (int k = 0; k < n; k++) sw[k] = cf_comps[i->mask[k]];
            cf_emit(p, "%s = %s.%s;", d, cf_value(p, i->ops[0]), sw);
        } else {
            for (int k = 0; k < n; k++)
                cf_emit(p, "%s.%c = %s;", d, cf_comps[k], cf_comp(p, i->ops[0], i->mask[k]));
        }
        return;
    }
    case IR_BUILTIN: emit_builtin(p, i); return;
    default: emit_elementwise(p, i); return;
    }
}

Type *cf_mem_path(CfPrinter *p, StrBuf *sb, const IrInst *i, Type *ty)
{
    const IrMemRef *mr = &i->mem;
    int next = ir_mem_nbase(mr); /* the index operand of the next array step */
    for (int k = 0; k < mr->npath; k++) {
        int q = mr->path[k];
        if (ty->kind == TY_STRUCT) {
            ICE_ASSERT(q >= 0 && q < ty->nfields);
            sb_printf(sb, ".%s", p->d->field(p, ty, q));
            ty = ty->fields[q].type;
        } else if (ty->kind == TY_ARRAY) {
            ICE_ASSERT(q == IR_PATH_INDEX && next < mr->nidx);
            sb_printf(sb, "[%s]", cf_value(p, i->ops[next++]));
            ty = ty->elem;
        } else {
            ICE_ASSERT(ty->kind == TY_VEC && q >= 0 && q < ty->n);
            sb_printf(sb, ".%c", cf_comps[q]);
            ty = ty->elem;
        }
    }
    return ty;
}

int cf_pred_index(const IrBlock *s, const IrBlock *p, int occ)
{
    for (int k = 0; k < s->npreds; k++)
        if (s->preds[k] == p && occ-- == 0) return k;
    ICE("block b%d is not a predecessor of b%d", p->id, s->id);
}

/* ---------------------------------------------------------------- analysis */

void cf_analyse(CfPrinter *p)
{
    const IrFunc *f = p->f;
    Arena *a = p->fa;
    int n = p->nid = f->next_id + 1;
    p->live = arena_alloc(a, (size_t)n);
    p->reach = arena_alloc(a, (size_t)n);
    p->nuses = arena_alloc(a, sizeof(int) * (size_t)n);
    p->name = arena_alloc(a, sizeof(char *) * (size_t)n);
    int np = f->nparams + 1;
    p->use_param = arena_alloc(a, (size_t)np);
    p->use_len = arena_alloc(a, (size_t)np);
    p->use_buf = arena_alloc(a, (size_t)np);
    p->use_local = arena_alloc(a, (size_t)f->locals.len + 1);
    p->use_shared = arena_alloc(a, (size_t)f->shared.len + 1);

    /* reachable blocks */
    IrBlock **stack = arena_alloc(a, sizeof(IrBlock *) * (size_t)(f->blocks.len + 1));
    int sp = 0;
    if (f->blocks.len) {
        stack[sp++] = f->blocks.data[0];
        p->reach[f->blocks.data[0]->id] = 1;
    }
    while (sp) {
        IrBlock *b = stack[--sp], *succ[2];
        int ns = ir_succs(b, succ);
        for (int k = 0; k < ns; k++)
            if (!p->reach[succ[k]->id]) {
                p->reach[succ[k]->id] = 1;
                stack[sp++] = succ[k];
            }
    }

    /* live instructions: roots are effects, terminators and checked loads, then operands */
    IrInst **work = arena_alloc(a, sizeof(IrInst *) * (size_t)n);
    int nwork = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int bi = 0; bi < f->blocks.len; bi++) {
            IrBlock *b = f->blocks.data[bi];
            if (!p->reach[b->id]) continue;
            for (IrInst *i = b->first; i; i = i->next) {
                if (pass == 1) { /* uses by live instructions */
                    if (!p->live[i->id]) continue;
                    for (int k = 0; k < i->nops; k++)
                        if (i->op != IR_RET && (i->op != IR_PHI || p->reach[b->preds[k]->id]))
                            p->nuses[i->ops[k]->id]++;
                    continue;
                }
                if (i->op == IR_CALL)
                    ICE("call to '%s' left after inlining", i->callee ? i->callee->name : "?");
                int fl = ir_op_info[i->op].flags;
                if (!p->live[i->id] &&
                    ((fl & (OPF_TERM | OPF_SIDE)) ||
                     (i->op == IR_LOAD && p->checked && i->mem.kind == MEM_BUFFER))) {
                    p->live[i->id] = 1;
                    work[nwork++] = i;
                }
            }
            while (pass == 0 && nwork) {
                IrInst *i = work[--nwork];
                if (i->op == IR_PARAM) {
                    ICE_ASSERT(i->param >= 0 && i->param < f->nparams);
                    p->use_param[i->param] = 1;
                }
                if (i->op == IR_BUFLEN) {
                    ICE_ASSERT(i->mem.id >= 0 && i->mem.id < f->nparams);
                    p->use_len[i->mem.id] = 1;
                }
                if (i->op == IR_LOAD || i->op == IR_STORE || i->op == IR_ATOMIC) {
                    if (i->mem.kind == MEM_BUFFER) {
                        p->use_buf[i->mem.id] = 1;
                        if (p->checked) p->use_len[i->mem.id] = 1;
                    } else if (i->mem.kind == MEM_SHARED) {
                        p->use_shared[i->mem.id] = 1;
                    } else {
                        p->use_local[i->mem.id] = 1;
                    }
                }
                if (i->op == IR_RET) continue;
                for (int k = 0; k < i->nops; k++) {
                    IrInst *x = i->ops[k];
                    if ((i->op == IR_PHI && !p->reach[i->block->preds[k]->id]) || p->live[x->id])
                        continue;
                    p->live[x->id] = 1;
                    work[nwork++] = x;
                }
            }
        }
}
