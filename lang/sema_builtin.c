/* sema_builtin.c: builtin overload resolution (builtins.def classes) and vector constructors.
 *
 * After a successful check, the arguments of a generic builtin (genF/genN/genI classes,
 * mix, step, dot, cross, length, distance) all have exactly one type T: scalar arguments
 * given with a vector are converted and splatted (clamp(v, 0.0, 1.0)); select's condition
 * is bool/boolN of T's width; an atomic's operands have the target element's type;
 * work-item queries keep their constant argument (uint). node->type is the result type.
 */
#include <string.h>

#include "sema.h"

static Type *T(ScalarId id) { return ty_scalar(id); }

static bool elem_ok(const Type *t, BuiltinClass cls)
{
    Type *e = ty_elem((Type *)t);
    if (t->kind != TY_VEC && !ty_is_scalar(t)) return false;
    switch (cls) {
    case BK_F1:
    case BK_F2:
    case BK_F3:
    case BK_FTEST:
    case BK_MIX:
    case BK_STEP:
    case BK_DOT:
    case BK_CROSS:
    case BK_LENGTH: return e->kind == TY_FLOAT;
    case BK_I1:
    case BK_I2: return e->kind == TY_INT;
    default: return e->kind == TY_INT || e->kind == TY_FLOAT;
    }
}

static const char *class_expect(BuiltinClass cls)
{
    switch (cls) {
    case BK_F1:
    case BK_F2:
    case BK_F3:
    case BK_FTEST:
    case BK_MIX:
    case BK_STEP:
    case BK_DOT:
    case BK_LENGTH: return "a floating-point scalar or vector (half, float, double)";
    case BK_CROSS: return "a 3- or 4-element floating-point vector";
    case BK_I1:
    case BK_I2: return "an integer scalar or vector";
    default: return "a numeric scalar or vector";
    }
}

static bool is_float_class(BuiltinClass cls)
{
    return cls == BK_F1 || cls == BK_F2 || cls == BK_F3 || cls == BK_FTEST || cls == BK_MIX ||
           cls == BK_STEP || cls == BK_DOT || cls == BK_CROSS || cls == BK_LENGTH;
}

/* genF / genN / genI classes and their relatives */
static Type *generic(Sema *s, AstNode *n, const BuiltinInfo *bi)
{
    int na = n->nlist;
    AstNode **ops[3];
    for (int i = 0; i < na; i++) {
        ops[i] = &n->list[i];
        Type *t = n->list[i]->type;
        if (!sema_lit_kind(n->list[i]) && !elem_ok(t, bi->cls)) {
            diag_error(s->d, n->list[i]->loc, "invalid argument type '%s' to '%s': expected %s",
                       t->name, bi->name, class_expect(bi->cls));
            return sema_ty_error;
        }
    }
    Type *t = sema_common_type(ops, na, false);
    if (!t) {
        diag_error(s->d, n->loc, "arguments of '%s' have different vector widths ('%s' and '%s')",
                   bi->name, n->list[0]->type->name, n->list[na - 1]->type->name);
        return sema_ty_error;
    }
    if (is_float_class(bi->cls) && ty_elem(t)->kind == TY_INT) {
        bool all_lit = true;
        for (int i = 0; i < na; i++) all_lit &= sema_lit_kind(n->list[i]) != 0;
        if (all_lit) t = ty_with_elem(t, T(SC_FLOAT));
    }
    if (!elem_ok(t, bi->cls)) {
        diag_error(s->d, n->loc, "invalid argument type '%s' to '%s': expected %s", t->name,
                   bi->name, class_expect(bi->cls));
        return sema_ty_error;
    }
    if (bi->cls == BK_CROSS && !(t->kind == TY_VEC && (t->n == 3 || t->n == 4))) {
        diag_error(s->d, n->loc, "invalid argument type '%s' to 'cross': expected %s", t->name,
                   class_expect(bi->cls));
        return sema_ty_error;
    }
    for (int i = 0; i < na; i++)
        if (!sema_convert(s, &n->list[i], t, CV_BINOP)) return sema_ty_error;
    switch (bi->cls) {
    case BK_FTEST: return ty_vec(T(SC_BOOL), ty_width(t));
    case BK_DOT:
    case BK_LENGTH: return ty_elem(t);
    default: return t;
    }
}

static Type *select_call(Sema *s, AstNode *n)
{
    AstNode **ops[2] = {&n->list[0], &n->list[1]};
    Type *t = sema_common_type(ops, 2, true);
    if (!t) {
        diag_error(s->d, n->loc, "invalid argument types to 'select' ('%s' and '%s')",
                   n->list[0]->type->name, n->list[1]->type->name);
        return sema_ty_error;
    }
    if (!sema_convert(s, &n->list[0], t, CV_BINOP) || !sema_convert(s, &n->list[1], t, CV_BINOP))
        return sema_ty_error;
    Type *ct = n->list[2]->type;
    Type *want = ty_vec(T(SC_BOOL), ty_width(t));
    if (ty_is_scalar(ct)) {
        if (ct->kind != TY_BOOL && !sema_convert(s, &n->list[2], T(SC_BOOL), CV_BINOP))
            return sema_ty_error;
        if (!sema_convert(s, &n->list[2], want, CV_BINOP)) return sema_ty_error;
    } else if (ct != want) {
        diag_error(s->d, n->list[2]->loc, "condition of 'select' must be '%s', not '%s'",
                   want->name, ct->name);
        return sema_ty_error;
    }
    return t;
}

static Type *atomic_call(Sema *s, AstNode *n, BuiltinId id, const BuiltinInfo *bi)
{
    AstNode *target = n->list[0];
    Type *t = target->type;
    if (!sema_check_writable(s, target, true)) return sema_ty_error;
    bool ok = t->kind == TY_INT && t->bits >= 32;
    if (id == BI_ATOMIC_ADD && t->kind == TY_FLOAT && t->bits == 32) ok = true;
    if (!ok) {
        diag_error(s->d, target->loc, "%s does not support type '%s' (%s)", bi->name, t->name,
                   id == BI_ATOMIC_ADD ? "int, uint, long, ulong or float"
                                       : "int, uint, long or ulong");
        return sema_ty_error;
    }
    for (int i = 1; i < n->nlist; i++)
        if (!sema_convert(s, &n->list[i], t, CV_ASSIGN)) return sema_ty_error;
    return t;
}

static Type *subgroup_value(Sema *s, AstNode *n, const BuiltinInfo *bi)
{
    Type *t = n->list[0]->type;
    if (!(t->kind == TY_INT || t->kind == TY_FLOAT)) {
        diag_error(
            s->d, n->list[0]->loc,
            "invalid argument type '%s' to '%s': expected an integer or floating-point scalar",
            t->name, bi->name);
        return sema_ty_error;
    }
    return t;
}

Type *sema_builtin_call(Sema *s, AstNode *n, BuiltinId id)
{
    const BuiltinInfo *bi = &builtin_info[id];
    bool ok = true;
    for (int i = 0; i < n->nlist; i++) ok &= !is_err(sema_expr(s, &n->list[i]));
    if (n->nlist != bi->nargs) {
        diag_error(s->d, n->loc, "too %s arguments to '%s' (expected %d, have %d)",
                   n->nlist < bi->nargs ? "few" : "many", bi->name, bi->nargs, n->nlist);
        return sema_ty_error;
    }
    if (!ok) return sema_ty_error;
    if (s->in_pipeline && !(id == BI_LEN || id == BI_MIN || id == BI_MAX)) {
        diag_error(s->d, n->loc, "'%s' is not allowed in a pipeline", bi->name);
        return sema_ty_error;
    }
    switch (bi->cls) {
    case BK_WORKITEM: {
        ConstVal v;
        AstNode *arg = n->list[0];
        if (arg->type->kind != TY_INT || !sema_fold(arg, &v) || v.big_unsigned || v.i < 0 ||
            v.i > 2) {
            diag_error(s->d, arg->loc, "argument of %s must be a constant 0, 1 or 2", bi->name);
            return sema_ty_error;
        }
        sema_convert(s, &n->list[0], T(SC_UINT), CV_EXPLICIT);
        return T(SC_UINT);
    }
    case BK_BARRIER: return ty_void;
    case BK_LEN: {
        AstNode *arg = n->list[0];
        if (arg->type->kind != TY_BUFFER || arg->kind != AST_IDENT) {
            diag_error(s->d, arg->loc, "len() needs a buffer, not '%s'", arg->type->name);
            return sema_ty_error;
        }
        return T(SC_UINT);
    }
    case BK_SELECT: return select_call(s, n);
    case BK_ANYALL: {
        Type *t = n->list[0]->type;
        if (!ty_is_bool(t)) {
            diag_error(s->d, n->list[0]->loc,
                       "invalid argument type '%s' to '%s': expected 'bool' or a bool vector",
                       t->name, bi->name);
            return sema_ty_error;
        }
        return T(SC_BOOL);
    }
    case BK_ATOMIC:
    case BK_CAS: return atomic_call(s, n, id, bi);
    case BK_SG0: return T(SC_UINT);
    case BK_SG1: return subgroup_value(s, n, bi);
    case BK_SGLANE: {
        Type *t = subgroup_value(s, n, bi);
        if (is_err(t)) return t;
        if (n->list[1]->type->kind != TY_INT) {
            diag_error(s->d, n->list[1]->loc, "lane argument of '%s' must be an integer, not '%s'",
                       bi->name, n->list[1]->type->name);
            return sema_ty_error;
        }
        if (!sema_convert(s, &n->list[1], T(SC_UINT), CV_ASSIGN)) return sema_ty_error;
        return t;
    }
    default: return generic(s, n, bi);
    }
}

Type *sema_ctor_call(Sema *s, AstNode *n, Type *t)
{
    bool ok = true;
    for (int i = 0; i < n->nlist; i++) ok &= !is_err(sema_expr(s, &n->list[i]));
    if (!ok) return sema_ty_error;
    Type *e = t->elem;
    if (n->nlist == 1 && ty_is_scalar(n->list[0]->type)) {
        if (!sema_convert(s, &n->list[0], e, CV_EXPLICIT)) return sema_ty_error;
        n->ctor = t;
        return t;
    }
    int total = 0;
    for (int i = 0; i < n->nlist; i++) {
        Type *at = n->list[i]->type;
        if (!ty_is_scalar(at) && at->kind != TY_VEC) {
            diag_error(s->d, n->list[i]->loc, "invalid argument of type '%s' to constructor '%s'",
                       at->name, t->name);
            return sema_ty_error;
        }
        total += ty_width(at);
    }
    if (total != t->n) {
        diag_error(s->d, n->loc, "constructor '%s' needs %d components, but the arguments give %d",
                   t->name, t->n, total);
        return sema_ty_error;
    }
    for (int i = 0; i < n->nlist; i++) {
        Type *want = ty_vec(e, ty_width(n->list[i]->type));
        if (!sema_convert(s, &n->list[i], want, CV_EXPLICIT)) return sema_ty_error;
    }
    n->ctor = t;
    return t;
}
