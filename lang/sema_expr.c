/* sema_expr.c: expressions: types, usual arithmetic conversions, context-typed literals,
 * implicit conversions, lvalues and constant folding.
 *
 * Invariant after a successful check: every operand of an operator has exactly the
 * operation's type (implicit AST_CAST nodes are inserted where needed), and a scalar ->
 * vector cast never also converts the element type (an element conversion is a separate
 * implicit cast under it), so lowering sees either a conversion or a splat.
 */
#include <stdlib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sema.h"

static Type error_type = {.kind = TY_VOID, .name = "<error>"};
Type *const sema_ty_error = &error_type;

static Type *T(ScalarId id) { return ty_scalar(id); }

static bool is_compare(int op)
{
    return op == OP_EQ || op == OP_NE || op == '<' || op == '>' || op == OP_LE || op == OP_GE;
}

/* ---------------------------------------------------------------- constants ---- */

static int64_t wrap_int(uint64_t v, const Type *t)
{
    if (t->bits >= 64) return (int64_t)v;
    uint64_t mask = (UINT64_C(1) << t->bits) - 1;
    v &= mask;
    if (t->is_signed && (v >> (t->bits - 1)) & 1) v |= ~mask;
    return (int64_t)v;
}

static void cv_to_type(ConstVal *v, const Type *t)
{
    if (t->kind == TY_FLOAT) {
        if (!v->is_float) v->f = v->big_unsigned ? (double)(uint64_t)v->i : (double)v->i;
        if (t->bits == 32) v->f = (float)v->f;
        v->is_float = true;
        v->big_unsigned = false;
    } else if (t->kind == TY_BOOL) {
        bool b = v->is_float ? v->f != 0 : v->i != 0;
        v->is_float = false;
        v->big_unsigned = false;
        v->i = b;
    } else if (t->kind == TY_INT) {
        if (v->is_float) {
            double f = v->f;
            if (isnan(f)) f = 0;
            if (f >= 18446744073709551616.0)
                v->i = -1;
            else if (f >= 9223372036854775808.0)
                v->i = (int64_t)(uint64_t)f;
            else if (f < -9223372036854775808.0)
                v->i = INT64_MIN;
            else
                v->i = (int64_t)f;
            v->is_float = false;
        }
        v->i = wrap_int((uint64_t)v->i, t);
        v->big_unsigned = !t->is_signed && t->bits == 64 && v->i < 0;
    }
}

bool sema_fits(const ConstVal *v, const Type *t)
{
    if (t->kind != TY_INT) return true;
    if (v->is_float) return false;
    if (v->big_unsigned) return t->bits == 64 && !t->is_signed;
    int64_t x = v->i;
    if (t->is_signed) {
        if (t->bits >= 64) return true;
        int64_t lim = INT64_C(1) << (t->bits - 1);
        return x >= -lim && x < lim;
    }
    if (x < 0) return false;
    if (t->bits >= 64) return true;
    return (uint64_t)x < (UINT64_C(1) << t->bits);
}

static bool cv_true(const ConstVal *v) { return v->is_float ? v->f != 0 : v->i != 0; }

bool sema_fold(const AstNode *n, ConstVal *v)
{
    if (!n || is_err(n->type) || !ty_is_scalar(n->type)) return false;
    memset(v, 0, sizeof *v);
    Type *t = n->type;
    switch (n->kind) {
    case AST_INT_LIT:
        v->i = (int64_t)n->lit.i;
        v->big_unsigned = n->lit.i > (uint64_t)INT64_MAX;
        cv_to_type(v, t);
        return true;
    case AST_FLOAT_LIT:
        v->is_float = true;
        v->f = n->lit.f;
        cv_to_type(v, t);
        return true;
    case AST_BOOL_LIT: v->i = n->lit.i != 0; return true;
    case AST_IDENT:
        if (n->sym && n->sym->kind == SYM_CONST && n->sym->value)
            return sema_fold(n->sym->value, v);
        return false;
    case AST_CAST: {
        if (!sema_fold(n->a, v)) return false;
        cv_to_type(v, t);
        return true;
    }
    case AST_UNARY: {
        if (!sema_fold(n->a, v)) return false;
        switch (n->op) {
        case '+': break;
        case '-':
            if (v->is_float)
                v->f = -v->f;
            else
                v->i = (int64_t)(0 - (uint64_t)v->i);
            break;
        case '~': v->i = (int64_t) ~(uint64_t)v->i; break;
        case '!':
            v->i = !cv_true(v);
            v->is_float = false;
            break;
        default: return false;
        }
        cv_to_type(v, t);
        return true;
    }
    case AST_COND: {
        ConstVal c;
        if (!sema_fold(n->a, &c)) return false;
        return sema_fold(cv_true(&c) ? n->b : n->c, v);
    }
    case AST_BINARY: {
        ConstVal x, y;
        if (!sema_fold(n->a, &x) || !sema_fold(n->b, &y)) return false;
        if (n->op == OP_ANDAND || n->op == OP_OROR) {
            bool r = n->op == OP_ANDAND ? cv_true(&x) && cv_true(&y) : cv_true(&x) || cv_true(&y);
            v->i = r;
            return true;
        }
        Type *ot = n->a->type;
        if (is_compare(n->op)) {
            bool r;
            if (x.is_float) {
                double a = x.f, b = y.f;
                r = n->op == OP_EQ   ? a == b
                    : n->op == OP_NE ? a != b
                    : n->op == '<'   ? a < b
                    : n->op == '>'   ? a > b
                    : n->op == OP_LE ? a <= b
                                     : a >= b;
            } else if (!ot->is_signed) {
                uint64_t a = (uint64_t)x.i, b = (uint64_t)y.i;
                r = n->op == OP_EQ   ? a == b
                    : n->op == OP_NE ? a != b
                    : n->op == '<'   ? a < b
                    : n->op == '>'   ? a > b
                    : n->op == OP_LE ? a <= b
                                     : a >= b;
            } else {
                int64_t a = x.i, b = y.i;
                r = n->op == OP_EQ   ? a == b
                    : n->op == OP_NE ? a != b
                    : n->op == '<'   ? a < b
                    : n->op == '>'   ? a > b
                    : n->op == OP_LE ? a <= b
                                     : a >= b;
            }
            v->i = r;
            return true;
        }
        if (x.is_float) {
            double a = x.f, b = y.f, r;
            switch (n->op) {
            case '+': r = a + b; break;
            case '-': r = a - b; break;
            case '*': r = a * b; break;
            case '/': r = a / b; break;
            default: return false;
            }
            v->is_float = true;
            v->f = r;
            cv_to_type(v, t);
            return true;
        }
        uint64_t a = (uint64_t)x.i, b = (uint64_t)y.i, r;
        bool sg = t->is_signed && t->kind == TY_INT;
        switch (n->op) {
        case '+': r = a + b; break;
        case '-': r = a - b; break;
        case '*': r = a * b; break;
        case '/':
        case '%':
            if (b == 0) return false;
            if (sg) {
                if ((int64_t)b == -1)
                    r = n->op == '/' ? 0 - a : 0;
                else
                    r = (uint64_t)(n->op == '/' ? (int64_t)a / (int64_t)b
                                                : (int64_t)a % (int64_t)b);
            } else {
                r = n->op == '/' ? a / b : a % b;
            }
            break;
        case '&': r = a & b; break;
        case '|': r = a | b; break;
        case '^': r = a ^ b; break;
        case OP_SHL: r = a << (b % (uint64_t)(t->bits ? t->bits : 64)); break;
        case OP_SHR: {
            unsigned sh = (unsigned)(b % (uint64_t)(t->bits ? t->bits : 64));
            r = sg ? (uint64_t)((int64_t)a >> sh) : a >> sh;
            break;
        }
        default: return false;
        }
        v->i = (int64_t)r;
        cv_to_type(v, t);
        return true;
    }
    default: return false;
    }
}

static const char *cv_str(Sema *s, const ConstVal *v)
{
    if (v->is_float) { /* the shortest spelling that reads back as the same double */
        for (int prec = 6; prec < 17; prec++) {
            const char *t = arena_printf(s->a, "%.*g", prec, v->f);
            if (strtod(t, NULL) == v->f) return t;
        }
        return arena_printf(s->a, "%.17g", v->f);
    }
    if (v->big_unsigned) return arena_printf(s->a, "%llu", (unsigned long long)(uint64_t)v->i);
    return arena_printf(s->a, "%lld", (long long)v->i);
}

bool sema_fold_int(Sema *s, AstNode **pn, const char *what, int64_t *out)
{
    Type *t = sema_expr(s, pn);
    if (is_err(t)) return false;
    ConstVal v;
    if (t->kind != TY_INT || !sema_fold(*pn, &v)) {
        diag_error(s->d, (*pn)->loc, "%s must be an integer constant", what);
        return false;
    }
    *out = v.big_unsigned ? INT64_MAX : v.i;
    return true;
}

/* ------------------------------------------------------ literal typing ---- */

static int lit_kind_uncached(const AstNode *n)
{
    switch (n->kind) {
    case AST_INT_LIT: return n->op == 0 ? LK_INT : LK_NONE;
    case AST_FLOAT_LIT: return n->op == 0 ? LK_FLOAT : LK_NONE;
    case AST_UNARY:
        if (n->op == '-' || n->op == '+') return sema_lit_kind(n->a);
        if (n->op == '~') return sema_lit_kind(n->a) == LK_INT ? LK_INT : LK_NONE;
        return LK_NONE;
    case AST_BINARY: {
        int op = n->op;
        if (!(op == '+' || op == '-' || op == '*' || op == '/' || op == '%' || op == '&' ||
              op == '|' || op == '^' || op == OP_SHL || op == OP_SHR))
            return LK_NONE;
        int ka = sema_lit_kind(n->a), kb = sema_lit_kind(n->b);
        if (!ka || !kb) return LK_NONE;
        if (op == OP_SHL || op == OP_SHR) return ka;
        return (ka == LK_FLOAT || kb == LK_FLOAT) ? LK_FLOAT : LK_INT;
    }
    case AST_COND: {
        int kb = sema_lit_kind(n->b), kc = sema_lit_kind(n->c);
        if (!kb || !kc) return LK_NONE;
        return (kb == LK_FLOAT || kc == LK_FLOAT) ? LK_FLOAT : LK_INT;
    }
    case AST_CAST:
        /* an integer literal expression computed as int, then made floating (see retype) */
        if (n->implicit && n->a->kind == AST_BINARY && n->type->kind == TY_FLOAT &&
            sema_lit_kind(n->a) == LK_INT)
            return LK_FLOAT;
        return LK_NONE;
    default: return LK_NONE;
    }
}

/* Whether n is a context-typed literal expression. Cached in the node: the answer depends
 * on the whole subtree, and asking it at every level of a long `1 + 1 + ...` chain was
 * cubic. retype() clears the cache of the nodes it rewrites. */
int sema_lit_kind(const AstNode *n)
{
    if (!n || is_err(n->type)) return LK_NONE;
    if (!n->lit_kind) ((AstNode *)n)->lit_kind = (int8_t)(lit_kind_uncached(n) + 1);
    return n->lit_kind - 1;
}

AstNode *sema_make_cast(Sema *s, AstNode *n, Type *to)
{
    AstNode *c = ast_new(s->a, AST_CAST, n->loc);
    c->a = n;
    c->type = to;
    c->implicit = true;
    c->is_uniform = n->is_uniform;
    c->field = -1;
    return c;
}

/* Gives a context-typed literal expression the scalar numeric type te (fit already checked).
 * An integer literal expression with operators going to a floating type is computed as an
 * integer (C semantics: 1/2 == 0) and then converted. */
static void retype(Sema *s, AstNode **pn, Type *te)
{
    AstNode *n = *pn;
    n->lit_kind = 0; /* its kind or children change below */
    switch (n->kind) {
    case AST_INT_LIT:
        if (te->kind == TY_FLOAT) {
            n->kind = AST_FLOAT_LIT;
            n->lit.f =
                n->lit.i > (uint64_t)INT64_MAX ? (double)n->lit.i : (double)(int64_t)n->lit.i;
            n->op = 0;
        }
        n->type = te;
        return;
    case AST_FLOAT_LIT: n->type = te; return;
    case AST_UNARY:
        retype(s, &n->a, te);
        n->type = te;
        return;
    case AST_COND:
        retype(s, &n->b, te);
        retype(s, &n->c, te);
        n->type = te;
        return;
    case AST_BINARY:
        if (te->kind == TY_FLOAT && sema_lit_kind(n) == LK_INT) {
            *pn = sema_make_cast(s, n, te);
            return;
        }
        retype(s, &n->a, te);
        retype(s, &n->b, te);
        n->type = te;
        return;
    case AST_CAST:
        if (te->kind == TY_FLOAT) {
            n->type = te;
        } else {
            *pn = n->a;
            retype(s, pn, te);
        }
        return;
    default: ICE("retype of a non-literal expression");
    }
}

static bool is_plain_literal(const AstNode *n)
{
    if (n->kind == AST_UNARY && (n->op == '-' || n->op == '+')) return is_plain_literal(n->a);
    return n->kind == AST_INT_LIT || n->kind == AST_FLOAT_LIT;
}

static const char *lit_spelling(Sema *s, const AstNode *n)
{
    if (n->kind == AST_UNARY) return arena_printf(s->a, "%c%s", n->op, lit_spelling(s, n->a));
    if (n->kind == AST_INT_LIT) return arena_printf(s->a, "%llu", (unsigned long long)n->lit.i);
    return arena_printf(s->a, "%g", n->lit.f);
}

/* ------------------------------------------------------ conversions ---- */

static int mantissa_bits(const Type *t) { return t->bits == 16 ? 11 : t->bits == 32 ? 24 : 53; }

static void warn_lossy(Sema *s, AstNode *n, Type *from, Type *to, ConvKind k)
{
    Type *fe = ty_elem(from), *te = ty_elem(to);
    if (k == CV_EXPLICIT || fe == te) return;
    if (te->kind == TY_BOOL || fe->kind == TY_BOOL) return;
    ConstVal v;
    if (ty_is_scalar(from) && sema_fold(n, &v)) {
        ConstVal w = v;
        cv_to_type(&w, te);
        bool same;
        if (te->kind == TY_FLOAT)
            same = v.is_float
                       ? (w.f == v.f || isnan(v.f))
                       : (double)w.f == (v.big_unsigned ? (double)(uint64_t)v.i : (double)v.i) &&
                             fabs(w.f) < 9.2e18;
        else
            same = v.is_float ? (double)w.i == v.f : sema_fits(&v, te);
        if (!same)
            diag_warning(s->d, n->loc,
                         "implicit conversion from '%s' to '%s' changes the value from %s to %s",
                         fe->name, te->name, cv_str(s, &v), cv_str(s, &w));
        return;
    }
    bool lossy = false;
    const char *how = "may lose precision";
    if (fe->kind == TY_FLOAT && te->kind == TY_FLOAT)
        lossy = te->bits < fe->bits;
    else if (fe->kind == TY_FLOAT && te->kind == TY_INT)
        lossy = true;
    else if (fe->kind == TY_INT && te->kind == TY_FLOAT)
        lossy = k != CV_BINOP && fe->bits - (fe->is_signed ? 1 : 0) > mantissa_bits(te);
    else if (fe->kind == TY_INT && te->kind == TY_INT) {
        lossy = te->bits < fe->bits;
        how = "may change the value";
    }
    if (lossy)
        diag_warning(s->d, n->loc, "implicit conversion from '%s' to '%s' %s", fe->name, te->name,
                     how);
}

bool sema_convert(Sema *s, AstNode **pn, Type *to, ConvKind k)
{
    AstNode *n = *pn;
    Type *from = n->type;
    if (is_err(from) || is_err(to)) return false;
    /* already of that type: nothing to check or retype (and checking again at every level
     * of a long literal chain would be quadratic) */
    if (from == to) return true;
    int lk = sema_lit_kind(n);
    Type *te = ty_elem(to);
    if (lk && (to->kind == TY_VEC || ty_is_scalar(to)) && te->kind != TY_BOOL) {
        bool ok = true;
        if (lk == LK_FLOAT && te->kind == TY_INT) {
            if (k != CV_EXPLICIT) {
                diag_error(
                    s->d, n->loc,
                    "floating-point literal %s cannot be implicitly converted to '%s'; use an explicit cast",
                    is_plain_literal(n) ? lit_spelling(s, n) : "expression", te->name);
                n->type = sema_ty_error;
                return false;
            }
            ok = false;
        } else if (lk == LK_INT && te->kind == TY_INT) {
            ConstVal v;
            if (sema_fold(n, &v) && !sema_fits(&v, te)) {
                if (k == CV_ASSIGN) {
                    if (is_plain_literal(n))
                        diag_error(s->d, n->loc, "integer literal %s does not fit in type '%s'",
                                   cv_str(s, &v), te->name);
                    else
                        diag_error(s->d, n->loc, "integer constant %s does not fit in type '%s'",
                                   cv_str(s, &v), te->name);
                    n->type = sema_ty_error;
                    return false;
                }
                ok = false; /* operands and casts: keep the literal's own type, C conversion */
            }
        }
        if (ok) {
            retype(s, pn, te);
            n = *pn;
            from = te;
        }
    }
    if (from == to) return true;
    bool fs = ty_is_scalar(from), ts = ty_is_scalar(to);
    bool ok = (fs && ts) || (fs && to->kind == TY_VEC) ||
              (from->kind == TY_VEC && to->kind == TY_VEC && from->n == to->n);
    if (!ok) {
        diag_error(s->d, n->loc, "cannot convert '%s' to '%s'", from->name, to->name);
        return false;
    }
    warn_lossy(s, n, from, to, k);
    if (fs && to->kind == TY_VEC) {
        if (from != te) n = sema_make_cast(s, n, te);
        *pn = sema_make_cast(s, n, to);
    } else {
        *pn = sema_make_cast(s, n, to);
    }
    return true;
}

Type *sema_expr_to(Sema *s, AstNode **pn, Type *to, ConvKind k)
{
    Type *t = sema_expr(s, pn);
    if (is_err(t) || is_err(to)) return sema_ty_error;
    return sema_convert(s, pn, to, k) ? to : sema_ty_error;
}

/* Converts an already-typed expression to a bool condition. */
static bool to_cond(Sema *s, AstNode **pn, const char *what)
{
    Type *t = (*pn)->type;
    if (is_err(t)) return false;
    if (t->kind == TY_VEC && t->elem->kind == TY_BOOL) {
        diag_error(s->d, (*pn)->loc, "%s must be a scalar, not '%s'; use any() or all()", what,
                   t->name);
        return false;
    }
    if (!ty_is_scalar(t)) {
        diag_error(s->d, (*pn)->loc, "%s must be a scalar, not '%s'", what, t->name);
        return false;
    }
    if (t->kind != TY_BOOL) *pn = sema_make_cast(s, *pn, T(SC_BOOL));
    return true;
}

bool sema_cond(Sema *s, AstNode **pn, const char *what)
{
    if (is_err(sema_expr(s, pn))) return false;
    return to_cond(s, pn, what);
}

/* ------------------------------------------------ usual conversions ---- */

Type *sema_promote(Type *t)
{
    if (t->kind == TY_BOOL) return T(SC_INT);
    if (t->kind == TY_INT && t->bits < 32) return T(SC_INT);
    if (t->kind == TY_VEC && t->elem->kind == TY_BOOL) return ty_vec(T(SC_INT), t->n);
    return t;
}

static int int_rank(const Type *t) { return t->bits; }

static Type *usual_scalar(Type *a, Type *b)
{
    a = sema_promote(a);
    b = sema_promote(b);
    if (a == b) return a;
    if (a->kind == TY_FLOAT || b->kind == TY_FLOAT) {
        if (a->kind != TY_FLOAT) return b;
        if (b->kind != TY_FLOAT) return a;
        return a->bits >= b->bits ? a : b;
    }
    if (a->is_signed == b->is_signed) return int_rank(a) >= int_rank(b) ? a : b;
    Type *u = a->is_signed ? b : a, *sg = a->is_signed ? a : b;
    if (int_rank(u) >= int_rank(sg)) return u;
    if (sg->bits > u->bits) return sg;
    return sg->bits == 64 ? T(SC_ULONG) : T(SC_UINT);
}

/* NULL when no common type (widths differ or not numeric). */
Type *sema_usual(Type *a, Type *b)
{
    bool av = a->kind == TY_VEC, bv = b->kind == TY_VEC;
    if ((!av && !ty_is_scalar(a)) || (!bv && !ty_is_scalar(b))) return NULL;
    if (av && bv) {
        if (a->n != b->n) return NULL;
        Type *ea = a->elem->kind == TY_BOOL ? T(SC_INT) : a->elem;
        Type *eb = b->elem->kind == TY_BOOL ? T(SC_INT) : b->elem;
        if (ea == eb) return ty_vec(ea, a->n);
        return ty_vec(usual_scalar(ea, eb), a->n);
    }
    if (av) return a->elem->kind == TY_BOOL ? ty_vec(T(SC_INT), a->n) : a;
    if (bv) return b->elem->kind == TY_BOOL ? ty_vec(T(SC_INT), b->n) : b;
    return usual_scalar(a, b);
}

/* The type the operands ops[0..n-1] meet in, with context-typed literals taking the type of
 * the typed operands. keep_bool: operands that are all bool stay bool. NULL when the widths
 * differ or an operand is not a scalar or vector. */
Type *sema_common_type(AstNode **ops[], int n, bool keep_bool)
{
    Type *t = NULL;
    bool all_bool = true;
    for (int i = 0; i < n; i++) {
        Type *ti = (*ops[i])->type;
        if (ti->kind != TY_VEC && !ty_is_scalar(ti)) return NULL;
        if (ty_elem(ti)->kind != TY_BOOL) all_bool = false;
    }
    if (all_bool && keep_bool) {
        for (int i = 0; i < n; i++) {
            Type *ti = (*ops[i])->type;
            if (!t || ti->kind == TY_VEC) {
                if (t && t->kind == TY_VEC && t != ti) return NULL;
                t = ti;
            }
        }
        return t;
    }
    /* typed operands first */
    for (int i = 0; i < n; i++) {
        AstNode *o = *ops[i];
        if (sema_lit_kind(o)) continue;
        t = t ? sema_usual(t, o->type) : sema_promote(o->type);
        if (!t) return NULL;
    }
    if (!t) { /* only literals */
        bool any_float = false;
        for (int i = 0; i < n; i++) any_float |= sema_lit_kind(*ops[i]) == LK_FLOAT;
        if (any_float) return T(SC_FLOAT);
        for (int i = 0; i < n; i++)
            t = t ? sema_usual(t, (*ops[i])->type) : sema_promote((*ops[i])->type);
        return t;
    }
    for (int i = 0; i < n; i++) {
        AstNode *o = *ops[i];
        int lk = sema_lit_kind(o);
        if (!lk) continue;
        Type *e = ty_elem(t);
        if (lk == LK_INT && e->kind == TY_INT) {
            ConstVal v;
            if (sema_fold(o, &v) && !sema_fits(&v, e) && t->kind != TY_VEC)
                t = sema_usual(t, o->type);
        } else if (lk == LK_FLOAT && e->kind == TY_INT && t->kind != TY_VEC) {
            t = sema_usual(t, T(SC_FLOAT));
        }
    }
    return t;
}

/* ------------------------------------------------------ lvalues ---- */

static const char *sym_what(Symbol *sym)
{
    switch (sym->kind) {
    case SYM_PARAM: return "parameter";
    case SYM_SHARED: return "shared array";
    case SYM_TEMP: return "temporary";
    case SYM_CONST: return "constant";
    default: return "local variable";
    }
}

bool sema_check_writable(Sema *s, AstNode *n, bool atomic)
{
    if (s->in_pipeline && !atomic && !(n->kind == AST_IDENT && n->sym && n->sym->kind == SYM_VAR)) {
        if (n->kind == AST_IDENT && n->sym && is_err(n->sym->type)) return false;
        diag_error(s->d, n->loc, "a pipeline can assign only to its own scalar variables");
        return false;
    }
    const char *act = atomic ? "atomic operation on" : "cannot assign to";
    AstNode *cur = n;
    bool through_index = false;
    for (;;) {
        switch (cur->kind) {
        case AST_IDENT: {
            Symbol *sym = cur->sym;
            if (!sym) return false;
            if (is_err(sym->type)) return false;
            if (sym->kind == SYM_CONST) {
                diag_error(s->d, n->loc, "cannot assign to constant '%s'", sym->name);
                return false;
            }
            if (sym->type->kind == TY_BUFFER) {
                diag_error(s->d, n->loc, "%s buffer '%s' itself; index it: %s[i]",
                           atomic ? "atomic operation on" : "cannot assign to", sym->name,
                           sym->name);
                return false;
            }
            if (atomic && !(sym->kind == SYM_SHARED && through_index)) {
                diag_error(
                    s->d, n->loc,
                    "atomic operation needs an element of a buffer or of a shared array, not %s '%s'",
                    sym_what(sym), sym->name);
                return false;
            }
            if (!through_index && sym->type->kind == TY_ARRAY) {
                diag_error(s->d, n->loc, "array '%s' cannot be assigned as a whole", sym->name);
                return false;
            }
            if (sym->decl && sym->decl->tspec && sym->decl->tspec->is_const &&
                sym->type->kind != TY_BUFFER) {
                diag_error(s->d, n->loc, "%s const %s '%s'", act, sym_what(sym), sym->name);
                return false;
            }
            if (sym->kind != SYM_VAR && sym->kind != SYM_PARAM && sym->kind != SYM_SHARED) {
                diag_error(s->d, n->loc, "expression is not assignable");
                return false;
            }
            return true;
        }
        case AST_INDEX: {
            Type *bt = cur->a->type;
            if (is_err(bt)) return false;
            if (bt->kind == TY_BUFFER) {
                AstNode *root = cur->a;
                const char *bn = root->kind == AST_IDENT ? root->name : "buffer";
                if (bt->is_const) {
                    diag_error(s->d, n->loc, "%s read-only buffer '%s' (type '%s')",
                               atomic ? "atomic operation on" : "cannot write to", bn, bt->name);
                    return false;
                }
                return true;
            }
            through_index = true;
            cur = cur->a;
            continue;
        }
        case AST_MEMBER:
            if (cur->field < 0) {
                for (int i = 0; i < cur->nswz; i++)
                    for (int j = 0; j < i; j++)
                        if (cur->swz[i] == cur->swz[j]) {
                            diag_error(
                                s->d, cur->loc,
                                "swizzle '%s' has repeated components and cannot be assigned",
                                cur->name);
                            return false;
                        }
            }
            cur = cur->a;
            continue;
        default: diag_error(s->d, n->loc, "expression is not assignable"); return false;
        }
    }
}

/* ------------------------------------------------------ expressions ---- */

static Type *set(AstNode *n, Type *t)
{
    n->type = t;
    return t;
}

static Type *fail(AstNode *n) { return set(n, sema_ty_error); }

static Type *check_ident(Sema *s, AstNode *n)
{
    Symbol *sym = sema_lookup(s, n->name);
    if (!sym) {
        for (int i = 0; i < s->undeclared.len; i++)
            if (s->undeclared.data[i] == n->name) return fail(n);
        vec_push(s->a, &s->undeclared, n->name);
        const char *sug = sema_suggest(s, n->name, false);
        if (sug)
            diag_error(s->d, n->loc, "use of undeclared identifier '%s'; did you mean '%s'?",
                       n->name, sug);
        else
            diag_error(s->d, n->loc, "use of undeclared identifier '%s'", n->name);
        return fail(n);
    }
    n->sym = sym;
    switch (sym->kind) {
    case SYM_FUNC:
    case SYM_PIPELINE:
        diag_error(s->d, n->loc, "'%s' is a %s, not a value", sym->name,
                   sym->kind == SYM_FUNC ? "function" : "pipeline");
        return fail(n);
    case SYM_STRUCT:
    case SYM_TYPEDEF:
        diag_error(s->d, n->loc, "'%s' is a type, not a value", sym->name);
        return fail(n);
    default: break;
    }
    n->is_lvalue = sym->kind != SYM_CONST;
    return set(n, sym->type);
}

static Type *check_unary(Sema *s, AstNode *n)
{
    Type *t = sema_expr(s, &n->a);
    if (is_err(t)) return fail(n);
    switch (n->op) {
    case '-':
    case '+':
        if (!ty_is_numeric(t)) {
            diag_error(s->d, n->loc, "invalid operand to unary '%c' ('%s')", n->op, t->name);
            return fail(n);
        }
        if (sema_lit_kind(n->a)) return set(n, t);
        t = sema_promote(t);
        sema_convert(s, &n->a, t, CV_BINOP);
        return set(n, t);
    case '!': /* n->a is typed already: convert it, do not analyse it twice */
        if (!to_cond(s, &n->a, "operand of '!'")) return fail(n);
        return set(n, T(SC_BOOL));
    case '~':
        if (!ty_is_int(t)) {
            diag_error(s->d, n->loc, "invalid operand to unary '~' ('%s')%s", t->name,
                       ty_is_bool(t) ? "; use '!' for bool" : "");
            return fail(n);
        }
        if (sema_lit_kind(n->a)) return set(n, t);
        t = sema_promote(t);
        sema_convert(s, &n->a, t, CV_BINOP);
        return set(n, t);
    default: ICE("unknown unary operator %d", n->op);
    }
}

static Type *bad_operands(Sema *s, AstNode *n, int op, Type *a, Type *b, const char *hint)
{
    diag_error(s->d, n->loc, "invalid operands to binary '%s' ('%s' and '%s')%s", ast_op_name(op),
               a->name, b->name, hint);
    return sema_ty_error;
}

/* Types the operation `*pa op *pb` (op an arithmetic, bitwise, shift or comparison
 * operator), converting both operands to the operation type. Returns the operation type
 * (for comparisons: the operands' type), or the error type after one diagnostic. */
static Type *binop_types(Sema *s, AstNode *n, int op, AstNode **pa, AstNode **pb)
{
    Type *ta = (*pa)->type, *tb = (*pb)->type;
    if (op == OP_SHL || op == OP_SHR) {
        if (!ty_is_int(ta) && !ty_is_bool(ta)) return bad_operands(s, n, op, ta, tb, "");
        if (!ty_is_int(tb) && !ty_is_bool(tb)) return bad_operands(s, n, op, ta, tb, "");
        if (ta->kind != TY_VEC && tb->kind == TY_VEC) return bad_operands(s, n, op, ta, tb, "");
        if (ta->kind == TY_VEC && tb->kind == TY_VEC && ta->n != tb->n)
            return bad_operands(s, n, op, ta, tb, ": vector widths differ");
        Type *t = sema_promote(ta);
        if (sema_lit_kind(*pa) && sema_lit_kind(*pb)) t = ta;
        if (!sema_convert(s, pa, t, CV_BINOP)) return sema_ty_error;
        if (!sema_convert(s, pb, t, CV_BINOP)) return sema_ty_error;
        return t;
    }
    bool bitwise = op == '&' || op == '|' || op == '^';
    if ((ta->kind != TY_VEC && !ty_is_scalar(ta)) || (tb->kind != TY_VEC && !ty_is_scalar(tb)))
        return bad_operands(s, n, op, ta, tb, "");
    AstNode **ops[2] = {pa, pb};
    Type *t = sema_common_type(ops, 2, bitwise);
    if (!t) return bad_operands(s, n, op, ta, tb, ": vector widths differ");
    if (op == '%' && ty_is_float(t))
        return bad_operands(s, n, op, ta, tb, "; use fmod() for a floating-point remainder");
    if (bitwise && ty_is_float(t)) return bad_operands(s, n, op, ta, tb, "");
    if (!sema_convert(s, pa, t, CV_BINOP)) return sema_ty_error;
    if (!sema_convert(s, pb, t, CV_BINOP)) return sema_ty_error;
    return t;
}

static Type *check_binary(Sema *s, AstNode *n)
{
    int op = n->op;
    if (op == OP_ANDAND || op == OP_OROR) {
        const char *what = op == OP_ANDAND ? "operand of '&&'" : "operand of '||'";
        bool ok = sema_cond(s, &n->a, what);
        ok &= sema_cond(s, &n->b, what);
        return ok ? set(n, T(SC_BOOL)) : fail(n);
    }
    Type *ta = sema_expr(s, &n->a);
    Type *tb = sema_expr(s, &n->b);
    if (is_err(ta) || is_err(tb)) return fail(n);
    Type *t = binop_types(s, n, op, &n->a, &n->b);
    if (is_err(t)) return fail(n);
    if (is_compare(op)) return set(n, ty_vec(T(SC_BOOL), ty_width(t)));
    return set(n, t);
}

static Type *check_assign(Sema *s, AstNode *n)
{
    Type *ta = sema_expr(s, &n->a);
    Type *tb = sema_expr(s, &n->b);
    if (is_err(ta) || is_err(tb)) return fail(n);
    if (!sema_check_writable(s, n->a, false)) return fail(n);
    if (n->op == '=') {
        if (ta->kind == TY_STRUCT || tb->kind == TY_STRUCT) {
            if (ta != tb) {
                diag_error(s->d, n->b->loc, "cannot convert '%s' to '%s'", tb->name, ta->name);
                return fail(n);
            }
            return set(n, ta);
        }
        if (ta->kind == TY_ARRAY) {
            diag_error(s->d, n->loc, "array type '%s' is not assignable", ta->name);
            return fail(n);
        }
        if (!sema_convert(s, &n->b, ta, CV_ASSIGN)) return fail(n);
        return set(n, ta);
    }
    if (ta->kind != TY_VEC && !ty_is_scalar(ta)) {
        diag_error(s->d, n->loc, "invalid operands to '%s=' ('%s' and '%s')", ast_op_name(n->op),
                   ta->name, tb->name);
        return fail(n);
    }
    AstNode *acopy = n->a; /* a stays an lvalue: its conversion is lowering's job (optype) */
    Type *opt = binop_types(s, n, n->op, &acopy, &n->b);
    if (is_err(opt)) return fail(n);
    if (opt->kind == TY_VEC && ta->kind != TY_VEC) {
        diag_error(s->d, n->b->loc, "cannot convert '%s' to '%s'", opt->name, ta->name);
        return fail(n);
    }
    Type *oe = ty_elem(opt), *ae = ty_elem(ta);
    if (oe != ae && oe->kind == TY_FLOAT && (ae->kind == TY_INT || ae->bits < oe->bits))
        diag_warning(s->d, n->loc, "implicit conversion from '%s' to '%s' may lose precision",
                     oe->name, ae->name);
    n->optype = opt;
    return set(n, ta);
}

static Type *check_cond(Sema *s, AstNode *n)
{
    bool ok = sema_cond(s, &n->a, "condition of '?:'");
    Type *tb = sema_expr(s, &n->b);
    Type *tc = sema_expr(s, &n->c);
    if (!ok || is_err(tb) || is_err(tc)) return fail(n);
    if (tb->kind == TY_STRUCT || tc->kind == TY_STRUCT) {
        if (tb != tc) {
            diag_error(s->d, n->loc, "incompatible operand types in '?:' ('%s' and '%s')", tb->name,
                       tc->name);
            return fail(n);
        }
        return set(n, tb);
    }
    AstNode **ops[2] = {&n->b, &n->c};
    Type *t = sema_common_type(ops, 2, true);
    if (!t) {
        diag_error(s->d, n->loc, "incompatible operand types in '?:' ('%s' and '%s')", tb->name,
                   tc->name);
        return fail(n);
    }
    if (!sema_convert(s, &n->b, t, CV_BINOP) || !sema_convert(s, &n->c, t, CV_BINOP))
        return fail(n);
    return set(n, t);
}

static Type *check_index(Sema *s, AstNode *n)
{
    Type *ta = sema_expr(s, &n->a);
    Type *tb = sema_expr(s, &n->b);
    if (is_err(ta) || is_err(tb)) return fail(n);
    if (s->in_pipeline) {
        diag_error(s->d, n->loc, "indexing is not allowed in a pipeline");
        return fail(n);
    }
    if (ta->kind != TY_BUFFER && ta->kind != TY_ARRAY && ta->kind != TY_VEC) {
        diag_error(s->d, n->loc, "subscripted value of type '%s' is not a buffer, array or vector",
                   ta->name);
        return fail(n);
    }
    if (tb->kind != TY_INT) {
        diag_error(s->d, n->b->loc, "index must be an integer scalar, not '%s'", tb->name);
        return fail(n);
    }
    ConstVal v;
    if (ta->kind != TY_BUFFER && sema_fold(n->b, &v) &&
        (v.big_unsigned || v.i < 0 || v.i >= ta->n)) {
        diag_error(s->d, n->b->loc, "index %s is out of range for '%s'", cv_str(s, &v), ta->name);
        return fail(n);
    }
    n->is_lvalue = ta->kind == TY_BUFFER || n->a->is_lvalue;
    return set(n, ta->elem);
}

static int swz_index(char c, int *set_id)
{
    const char *xyzw = "xyzw", *rgba = "rgba";
    for (int i = 0; i < 4; i++) {
        if (c == xyzw[i]) {
            *set_id = 1;
            return i;
        }
        if (c == rgba[i]) {
            *set_id = 2;
            return i;
        }
    }
    return -1;
}

static Type *check_member(Sema *s, AstNode *n)
{
    Type *t = sema_expr(s, &n->a);
    n->field = -1;
    if (is_err(t)) return fail(n);
    if (s->in_pipeline) {
        diag_error(s->d, n->loc, "member access is not allowed in a pipeline");
        return fail(n);
    }
    if (t->kind == TY_STRUCT) {
        for (int i = 0; i < t->nfields; i++)
            if (t->fields[i].name == n->name || strcmp(t->fields[i].name, n->name) == 0) {
                n->field = i;
                n->is_lvalue = n->a->is_lvalue;
                return set(n, t->fields[i].type);
            }
        diag_error(s->d, n->loc, "no field '%s' in struct '%s'", n->name, t->name);
        return fail(n);
    }
    if (t->kind != TY_VEC) {
        diag_error(
            s->d, n->loc,
            "member reference '.%s' on a value of type '%s', which is not a struct or vector",
            n->name, t->name);
        return fail(n);
    }
    size_t len = strlen(n->name);
    int first_set = 0;
    if (len < 1 || len > 4) {
        diag_error(s->d, n->loc, "invalid swizzle '%s' on '%s'", n->name, t->name);
        return fail(n);
    }
    for (size_t i = 0; i < len; i++) {
        int set_id = 0;
        int c = swz_index(n->name[i], &set_id);
        if (c < 0) {
            diag_error(s->d, n->loc, "invalid swizzle '%s' on '%s'", n->name, t->name);
            return fail(n);
        }
        if (first_set && set_id != first_set) {
            diag_error(s->d, n->loc, "swizzle '%s' mixes 'xyzw' and 'rgba' components", n->name);
            return fail(n);
        }
        first_set = set_id;
        if (c >= t->n) {
            diag_error(s->d, n->loc, "swizzle component '%c' is out of range for '%s'", n->name[i],
                       t->name);
            return fail(n);
        }
        n->swz[i] = c;
    }
    n->nswz = (int)len;
    n->is_lvalue = n->a->is_lvalue;
    return set(n, ty_vec(t->elem, (int)len));
}

static Type *check_cast(Sema *s, AstNode *n)
{
    Type *to = sema_resolve_tspec(s, n->tspec);
    Type *from = sema_expr(s, &n->a);
    if (is_err(to) || is_err(from)) return fail(n);
    n->implicit = false;
    if (to->kind == TY_STRUCT && from == to) return set(n, to);
    if (!(ty_is_scalar(to) || to->kind == TY_VEC)) {
        diag_error(s->d, n->loc, "cannot cast to '%s'", to->name);
        return fail(n);
    }
    if (s->in_pipeline && to->kind == TY_VEC) {
        diag_error(s->d, n->loc, "'%s' values are not allowed in a pipeline", to->name);
        return fail(n);
    }
    bool ok = (ty_is_scalar(from) && (ty_is_scalar(to) || to->kind == TY_VEC)) ||
              (from->kind == TY_VEC && to->kind == TY_VEC && from->n == to->n);
    if (!ok) {
        diag_error(s->d, n->loc, "cannot cast '%s' to '%s'", from->name, to->name);
        return fail(n);
    }
    int lk = sema_lit_kind(n->a);
    Type *te = ty_elem(to);
    if (lk && te->kind != TY_BOOL) {
        ConstVal v;
        if ((lk == LK_FLOAT && te->kind == TY_FLOAT) ||
            (lk == LK_INT && (te->kind == TY_FLOAT || (sema_fold(n->a, &v) && sema_fits(&v, te)))))
            sema_convert(s, &n->a, te, CV_EXPLICIT);
    }
    if (to->kind == TY_VEC && ty_is_scalar(n->a->type) && n->a->type != te) {
        AstNode *c = sema_make_cast(s, n->a, te);
        n->a = c;
    }
    return set(n, to);
}

static Type *check_call(Sema *s, AstNode *n)
{
    BuiltinId bi = builtin_lookup(n->name);
    Symbol *own = bi != BI_NONE ? sema_lookup(s, n->name) : NULL;
    if (own && own->kind == SYM_FUNC && !sema_func_decl(own)->is_kernel)
        bi = BI_NONE; /* the user's function of that name */
    if (bi != BI_NONE) {
        n->builtin = bi;
        return set(n, sema_builtin_call(s, n, bi));
    }
    Type *ty = sema_call_type(s, n);
    if (ty) {
        if (is_err(ty)) {
            for (int i = 0; i < n->nlist; i++) sema_expr(s, &n->list[i]);
            return fail(n);
        }
        if (ty->kind == TY_VEC) return set(n, sema_ctor_call(s, n, ty));
        if (!ty_is_scalar(ty) || n->nlist != 1) {
            if (ty_is_scalar(ty) || ty->kind == TY_VOID)
                diag_error(s->d, n->loc, "'%s(...)' needs exactly one argument to convert",
                           n->name);
            else
                diag_error(
                    s->d, n->loc,
                    "'%s' names the type '%s', which has no constructor (only vectors and scalars do)",
                    n->name, ty->name);
            for (int i = 0; i < n->nlist; i++) sema_expr(s, &n->list[i]);
            return fail(n);
        }
        /* float(x): a functional-notation cast, rewritten to an explicit AST_CAST */
        AstTypeSpec *ts = arena_alloc(s->a, sizeof *ts);
        ts->loc = n->loc;
        ts->builtin = ty;
        ts->resolved = ty;
        n->kind = AST_CAST;
        n->tspec = ts;
        n->a = n->list[0];
        n->list = NULL;
        n->nlist = 0;
        return check_cast(s, n);
    }
    Symbol *sym = sema_lookup(s, n->name);
    if (!sym) {
        for (int i = 0; i < n->nlist; i++) sema_expr(s, &n->list[i]);
        for (int i = 0; i < s->undeclared.len; i++)
            if (s->undeclared.data[i] == n->name) return fail(n);
        vec_push(s->a, &s->undeclared, n->name);
        const char *sug = sema_suggest(s, n->name, true);
        if (sug)
            diag_error(s->d, n->loc, "call to undeclared function '%s'; did you mean '%s'?",
                       n->name, sug);
        else
            diag_error(s->d, n->loc, "call to undeclared function '%s'", n->name);
        return fail(n);
    }
    if (sym->kind != SYM_FUNC) {
        for (int i = 0; i < n->nlist; i++) sema_expr(s, &n->list[i]);
        if (is_err(sym->type)) return fail(n);
        if (sym->kind == SYM_PIPELINE)
            diag_error(s->d, n->loc, "pipeline '%s' cannot be called; it is launched from the host",
                       sym->name);
        else
            diag_error(s->d, n->loc, "called object '%s' is not a function", sym->name);
        return fail(n);
    }
    AstNode *fd = sema_func_decl(sym);
    n->sym = sym;
    if (fd->is_kernel) {
        for (int i = 0; i < n->nlist; i++) sema_expr(s, &n->list[i]);
        diag_error(s->d, n->loc,
                   "kernel '%s' cannot be called; kernels are launched from pipelines", sym->name);
        return fail(n);
    }
    if (s->in_pipeline) {
        for (int i = 0; i < n->nlist; i++) sema_expr(s, &n->list[i]);
        diag_error(s->d, n->loc, "calling function '%s' is not allowed in a pipeline", sym->name);
        return fail(n);
    }
    bool ok = !is_err(sym->type);
    if (n->nlist != fd->nlist) {
        for (int i = 0; i < n->nlist; i++) sema_expr(s, &n->list[i]);
        diag_error(s->d, n->loc, "too %s arguments to function '%s' (expected %d, have %d)",
                   n->nlist < fd->nlist ? "few" : "many", sym->name, fd->nlist, n->nlist);
        return fail(n);
    }
    for (int i = 0; i < n->nlist; i++) {
        AstNode *p = fd->list[i];
        Type *pt = p->type;
        Type *at = sema_expr(s, &n->list[i]);
        if (is_err(at) || is_err(pt)) {
            ok = false;
            continue;
        }
        if (pt->kind == TY_BUFFER) {
            AstNode *arg = n->list[i];
            if (at->kind != TY_BUFFER || arg->kind != AST_IDENT) {
                diag_error(s->d, arg->loc,
                           "argument %d of '%s' must be a buffer of type '%s', not '%s'", i + 1,
                           sym->name, pt->name, at->name);
                ok = false;
            } else if (at->elem != pt->elem) {
                diag_error(s->d, arg->loc,
                           "cannot pass buffer '%s' of type '%s' to parameter '%s' of type '%s'",
                           arg->name, at->name, p->name, pt->name);
                ok = false;
            } else if (at->is_const && !pt->is_const) {
                diag_error(
                    s->d, arg->loc,
                    "cannot pass read-only buffer '%s' (type '%s') to parameter '%s' of type '%s'",
                    arg->name, at->name, p->name, pt->name);
                ok = false;
            }
            continue;
        }
        if (pt->kind == TY_STRUCT || at->kind == TY_STRUCT) {
            if (pt != at) {
                diag_error(s->d, n->list[i]->loc, "cannot convert '%s' to '%s'", at->name,
                           pt->name);
                ok = false;
            }
            continue;
        }
        if (!sema_convert(s, &n->list[i], pt, CV_ASSIGN)) ok = false;
    }
    if (s->fn_sym) {
        CallEdge e = {s->fn_sym, sym, n};
        vec_push(s->a, &s->calls, e);
    }
    return ok ? set(n, sym->type) : fail(n);
}

Type *sema_expr(Sema *s, AstNode **pn)
{
    AstNode *n = *pn;
    n->is_uniform = true;
    Type *t;
    switch (n->kind) {
    case AST_INT_LIT: {
        uint64_t v = n->lit.i;
        Type *ty;
        if ((n->op & LIT_U) && (n->op & LIT_L))
            ty = T(SC_ULONG);
        else if (n->op & LIT_U)
            ty = v <= UINT32_MAX ? T(SC_UINT) : T(SC_ULONG);
        else if (n->op & LIT_L)
            ty = v <= (uint64_t)INT64_MAX ? T(SC_LONG) : T(SC_ULONG);
        else
            ty = v <= INT32_MAX ? T(SC_INT) : v <= (uint64_t)INT64_MAX ? T(SC_LONG) : T(SC_ULONG);
        t = set(n, ty);
        break;
    }
    case AST_FLOAT_LIT:
        t = set(n, (n->op & LIT_H) ? T(SC_HALF) : (n->op & LIT_D) ? T(SC_DOUBLE) : T(SC_FLOAT));
        break;
    case AST_BOOL_LIT: t = set(n, T(SC_BOOL)); break;
    case AST_IDENT: t = check_ident(s, n); break;
    case AST_UNARY: t = check_unary(s, n); break;
    case AST_INCDEC: {
        t = sema_expr(s, &n->a);
        if (is_err(t)) {
            t = fail(n);
            break;
        }
        if (!ty_is_numeric(t)) {
            diag_error(s->d, n->loc, "invalid operand to '%s' ('%s')", ast_op_name(n->op), t->name);
            t = fail(n);
            break;
        }
        if (!sema_check_writable(s, n->a, false)) {
            t = fail(n);
            break;
        }
        t = set(n, t);
        break;
    }
    case AST_BINARY: t = check_binary(s, n); break;
    case AST_ASSIGN: t = check_assign(s, n); break;
    case AST_COND: t = check_cond(s, n); break;
    case AST_CALL: t = check_call(s, n); break;
    case AST_INDEX: t = check_index(s, n); break;
    case AST_MEMBER: t = check_member(s, n); break;
    case AST_CAST: t = check_cast(s, n); break;
    case AST_LAUNCH:
        if (s->in_pipeline)
            diag_error(s->d, n->loc, "a launch must be a statement of its own");
        else
            diag_error(s->d, n->loc, "kernel launches are only allowed in pipelines");
        t = fail(n);
        break;
    default: ICE("sema_expr on a %s node", ast_kind_name(n->kind));
    }
    n = *pn;
    if (s->in_pipeline && !is_err(t) &&
        (t->kind == TY_VEC || t->kind == TY_STRUCT || t->kind == TY_ARRAY)) {
        diag_error(s->d, n->loc, "'%s' values are not allowed in a pipeline expression", t->name);
        t = fail(n);
    }
    return t;
}
