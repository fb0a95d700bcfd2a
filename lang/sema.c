/* sema.c: semantic analysis of a translation unit: names and scopes, types and layout,
 * declarations and statements, functions, kernels and pipelines, the call graph.
 * Expressions are in sema_expr.c, builtins in sema_builtin.c, uniformity in sema_uniform.c.
 *
 * Decisions the language contract leaves open (docs/language.md records them):
 *  - Names: C order, declare before use. Block scopes; an inner block may shadow an outer
 *    name silently; redeclaring a name in the same scope is an error. Parameters and the
 *    top-level block of a body share one scope. A function may be declared by prototypes
 *    before its definition; all declarations must agree exactly (result, parameter types,
 *    kernel-ness). Calling a function that is never defined is an error at the call.
 *    Builtin names cannot be redefined. "did you mean" is offered for an unknown name when
 *    a visible name of the same sort (a value, or a function/builtin for a call) is at edit
 *    distance (with transpositions) <= 2 and <= a third of the name's length.
 *    An undeclared name is reported once per function.
 *  - Struct names live in their own namespace (`P x;` and `struct P x;` are the same).
 *    Struct fields: scalars (not bool), vectors (not boolN), other structs, fixed arrays of
 *    those (C layout); no buffers.
 *  - Typedef names are ordinary names (an inner declaration hides one, as in C); a typedef
 *    may be repeated with the same type (C11). A typedef of a struct not defined yet is
 *    completed by the struct's definition (typedef_type); an unnamed struct takes its first
 *    typedef name. Structs are defined at file scope only. An unknown type name suggests a
 *    close typedef, struct or builtin type name.
 *  - bool (and boolN) is not allowed as a buffer element, a struct field, a kernel or
 *    pipeline parameter, or a shared array element (its memory layout is not portable);
 *    bool locals, function parameters and results are fine.
 *  - Fixed arrays: locals, shared arrays and struct fields (up to 3 dimensions in all, an
 *    array typedef's included, each a positive integer constant expression); not
 *    parameters, not buffer elements, not results, not assignable as a whole.
 *    A brace initializer is allowed only for 1-D arrays (at most n elements; vectors use
 *    constructors).
 *  - Local variables may be `const` (an initializer is required; they cannot be assigned);
 *    a by-value parameter is an assignable local copy unless written `const`.
 *  - File-scope `const` values are scalars with a constant initializer.
 *  - Literals: an unsuffixed literal (also -lit, and operators on unsuffixed literals only)
 *    takes the type its context demands: the other operand (after integer promotion), the
 *    declared/assigned type, the parameter, the return type, the element type of a
 *    constructor or of a generic builtin. With no context: an integer literal is int, else
 *    long, else ulong (C's rule for decimal literals); a floating literal is float. A
 *    context-typed integer expression going to a floating type is computed as an integer
 *    first (so 1/2 is 0, as in C). As an operand, an integer literal that does not fit the
 *    other operand's type keeps its own type (usual conversions apply, with a warning if a
 *    constant changes value); in an initialisation, assignment, argument or return it is an
 *    error ("integer literal 300 does not fit in type 'uchar'"). A floating literal never
 *    converts implicitly to an integer type (error; cast it). Suffixes fix the type:
 *    u -> uint (ulong if larger), l -> long, ul -> ulong, f float, h half, d double.
 *  - Usual arithmetic conversions are C's (bool, char, short promote to int; float types beat
 *    integers; the wider float wins; integers by rank and signedness). Vector operands:
 *    element-wise; a scalar operand is converted to the vector's element type and splatted
 *    (OpenCL rule, even if the scalar's type ranks higher); two vectors need the same width
 *    and meet in the common element type; integer vectors are not promoted (char4 + char4 is
 *    char4); bool vectors in arithmetic act as int vectors.
 *  - Warnings for implicit conversions (errors under -Werror); never for explicit casts or
 *    constructor arguments: double->float, float->half (narrower float); float->int;
 *    integer narrowing (64->32, 32->16...); int->float where the integer type has more bits
 *    than the float's mantissa (int->float, long->double, short->half), but not inside an
 *    operator mixing an integer with a floating operand (1.5 * i is float, silently).
 *    A constant whose value changes in the conversion warns with both values. Signedness
 *    changes of non-constants (int <-> uint) do not warn (as C without -Wsign-conversion).
 *  - Implicit conversions between bool and numeric scalars are allowed (x != 0 / 0 or 1).
 *    Conditions of if/while/for/do/?: and operands of && || ! must be scalars (a bool vector
 *    is an error suggesting any()/all()). ~ needs integers (not bool: use !).
 *  - Swizzles: xyzw or rgba sets (not mixed), 1-4 components; a component beyond the
 *    vector's width is an error; repeats only on the right-hand side. Functional casts
 *    float(x), int(x) are explicit casts. Constructor arguments are converted as by an
 *    explicit cast.
 *  - Compound assignment: the operation type is that of `a op b` (usual conversions); the
 *    result converts back to a's type, warning only for floating->integer or narrower float.
 *  - Buffers: a buffer argument must be a buffer parameter (or, in a pipeline, a parameter
 *    or temporary) with the same element type; a read-only buffer cannot be passed to a
 *    writable buffer parameter. Constant indices of fixed arrays and vectors are range-checked.
 *  - Atomics: the target is an element (or a field/component of an element) of a writable
 *    buffer or of a shared array, of type int, uint, long or ulong (float for atomic_add);
 *    the other operands convert to that type.
 *  - Generic builtins: the arguments meet in one type T as operands do (literals follow the
 *    typed arguments; a scalar argument with a vector one is converted and splatted, so
 *    clamp(v, 0.0, 1.0) and mix(a, b, t) with scalar t work); float builtins reject integer
 *    arguments (cast them) but take integer literals; select's condition is bool or boolN of
 *    T's width (a scalar is splatted).
 *  - Kernels return void, cannot be called, and take scalars, vectors, structs and buffers;
 *    [[workgroup]] arguments are positive integer constant expressions (1 for missing dims),
 *    allowed only on kernels. shared arrays: kernels only, top-level block of the body,
 *    constant dimensions, no initializer. Non-void functions must return on every path
 *    (structural check: return; a block with a returning statement; if/else both returning;
 *    a loop whose condition is absent or constant true and that has no break).
 *  - Recursion: any cycle in the call graph is an error at the first function of the cycle
 *    (in source order of the depth-first walk), naming the cycle.
 *  - Pipelines: parameters as for kernels; statements: scalar locals of int, uint, long,
 *    ulong, float or double with an initializer; temporaries `T t[n];` (one runtime integer
 *    dimension, converted to uint); assignments to pipeline locals; if/else, for, while,
 *    do, break, continue; launches. Expressions: scalar arithmetic, comparisons, logic,
 *    scalar casts, len(), min(), max(). A launch's global and local sizes are an integer
 *    scalar (converted to uint) or a uint2/uint3 constructor of integer scalars; when both
 *    are given they have the same number of dimensions. Launch arguments: buffer
 *    parameters take a pipeline buffer (same element type, const-correct); vector and
 *    struct parameters take a pipeline parameter of the identical type; scalar parameters
 *    take a scalar expression converted to their type. No return in pipelines.
 *  - Uniformity: see sema_uniform.c.
 */
#include <string.h>

#include "sema.h"

/* ------------------------------------------------------------ scopes ---- */

static void scope_push(Sema *s) { vec_push(s->a, &s->marks, s->names.len); }
static void scope_pop(Sema *s) { s->names.len = s->marks.data[--s->marks.len]; }

Symbol *sema_lookup(Sema *s, const char *name)
{
    for (int i = s->names.len - 1; i >= 0; i--)
        if (s->names.data[i].name == name) return s->names.data[i].sym;
    return NULL;
}

Symbol *sema_lookup_struct(Sema *s, const char *name)
{
    for (int i = s->structs.len - 1; i >= 0; i--)
        if (s->structs.data[i].name == name) return s->structs.data[i].sym;
    return NULL;
}

static Type *typedef_type(Sema *s, Symbol *td);

/* A typedef's type for messages: its name, or `struct P` while P is not defined. */
static const char *typedef_type_name(Sema *s, Symbol *td)
{
    Type *t = typedef_type(s, td);
    return t ? t->name : arena_printf(s->a, "struct %s", td->decl->tspec->name);
}

/* Declares sym in the innermost scope; reports a redeclaration in that scope. A typedef may
 * be repeated with the same type (C11). */
static bool declare(Sema *s, Symbol *sym, Loc loc)
{
    int start = s->marks.len ? s->marks.data[s->marks.len - 1] : 0;
    for (int i = s->names.len - 1; i >= start; i--) {
        if (s->names.data[i].name != sym->name) continue;
        Symbol *old = s->names.data[i].sym;
        if (old->kind == SYM_TYPEDEF && sym->kind == SYM_TYPEDEF) {
            Type *tn = typedef_type(s, sym), *to = typedef_type(s, old);
            if (tn && tn == to) return false;
            if (!tn && !to && sym->decl->tspec->name == old->decl->tspec->name &&
                sym->decl->type == old->decl->type)
                return false; /* the same undefined struct, the same dimensions */
            if ((tn && is_err(tn)) || (to && is_err(to))) return false;
            diag_error(s->d, loc, "typedef redefinition with different types ('%s' vs '%s')",
                       typedef_type_name(s, sym), typedef_type_name(s, old));
        } else if (old->kind == SYM_TYPEDEF || sym->kind == SYM_TYPEDEF) {
            diag_error(s->d, loc, "redefinition of '%s' as a different kind of symbol", sym->name);
        } else {
            diag_error(s->d, loc, "redefinition of '%s'", sym->name);
        }
        if (old->decl)
            diag_note(s->d, old->decl->loc, "previous definition of '%s' is here", sym->name);
        return false;
    }
    NameEnt e = {sym->name, sym};
    vec_push(s->a, &s->names, e);
    return true;
}

static Symbol *new_sym(Sema *s, SymKind k, const char *name, Type *t, AstNode *decl)
{
    Symbol *sym = arena_alloc(s->a, sizeof *sym);
    sym->kind = k;
    sym->name = name;
    sym->type = t;
    sym->decl = decl;
    return sym;
}

/* Edit distance with adjacent transpositions (optimal string alignment). */
static int edit_distance(const char *a, const char *b)
{
    enum { MAXN = 64 };
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > MAXN || lb > MAXN) return 1000;
    int d[MAXN + 1][MAXN + 1];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < c)
                c = d[i - 2][j - 2] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

/* A distance counts as close when it is at most 2 and at most a third of the name. */
static void consider(const char *name, const char *cand, int len, const char **best, int *bestd)
{
    int dd = edit_distance(name, cand);
    if (dd > 0 && dd < *bestd && dd * 3 <= len) {
        *bestd = dd;
        *best = cand;
    }
}

const char *sema_suggest(Sema *s, const char *name, bool is_call)
{
    const char *best = NULL;
    int bestd = 3, len = (int)strlen(name);
    for (int i = s->names.len - 1; i >= 0; i--) {
        Symbol *sym = s->names.data[i].sym;
        if (is_call != (sym->kind == SYM_FUNC) || sym->kind == SYM_TYPEDEF) continue;
        consider(name, s->names.data[i].name, len, &best, &bestd);
    }
    if (is_call)
        for (int i = 1; i < BI_COUNT; i++) consider(name, builtin_info[i].name, len, &best, &bestd);
    return best;
}

/* A close type name for an unknown one: a visible typedef, a struct, a builtin spelling. */
static const char *suggest_type(Sema *s, const char *name)
{
    static const char *const builtins[] = {
#define TYPE(ID, nm, cls, bits, sgn) nm, nm "2", nm "3", nm "4",
#define ALIAS(nm, ID)                nm,
#include "base/types.def"
#undef TYPE
#undef ALIAS
    };
    const char *best = NULL;
    int bestd = 3, len = (int)strlen(name);
    for (int i = s->names.len - 1; i >= 0; i--)
        if (s->names.data[i].sym->kind == SYM_TYPEDEF)
            consider(name, s->names.data[i].name, len, &best, &bestd);
    for (int i = s->structs.len - 1; i >= 0; i--)
        consider(name, s->structs.data[i].name, len, &best, &bestd);
    for (int i = 0; i < ARRAY_LEN(builtins); i++) consider(name, builtins[i], len, &best, &bestd);
    return best;
}

/* ------------------------------------------------------------- types ---- */

static bool has_bool(const Type *t)
{
    while (t->kind == TY_ARRAY) t = t->elem;
    return t->kind == TY_BOOL || (t->kind == TY_VEC && t->elem->kind == TY_BOOL);
}

/* The element type under every array dimension of t. */
static Type *array_base(Type *t)
{
    while (t->kind == TY_ARRAY) t = t->elem;
    return t;
}

/* The array shape of `shape` (dimensions over any element) over elem instead. */
static Type *reshape(Type *shape, Type *elem)
{
    return shape && shape->kind == TY_ARRAY ? ty_array(reshape(shape->elem, elem), shape->n) : elem;
}

/* The type a typedef names; NULL while it names a struct not defined yet (`typedef struct P P;`
 * before `struct P {...}`, C's incomplete type): it is completed at its first use after. */
static Type *typedef_type(Sema *s, Symbol *td)
{
    if (td->type) return td->type;
    AstNode *d = td->decl;
    Symbol *st = sema_lookup_struct(s, d->tspec->name);
    if (!st) return NULL;
    td->type = d->type = reshape(d->type, st->type);
    return td->type;
}

static Loc ts_loc(const AstTypeSpec *ts, Loc fallback)
{
    return ts && ts->loc.line > 0 ? ts->loc : fallback;
}

Type *sema_resolve_tspec(Sema *s, AstTypeSpec *ts)
{
    if (!ts) return sema_ty_error;
    if (ts->resolved) return ts->resolved;
    Type *t = ts->builtin;
    if (!t && ts->is_typedef) {
        /* the parser saw a typedef name here, and its scopes are sema's: only a typedef that
           failed to be declared (a redefinition, reported) can be missing */
        Symbol *sym = sema_lookup(s, ts->name);
        if (!sym || sym->kind != SYM_TYPEDEF) {
            if (!diag_has_errors(s->d))
                diag_error(s->d, ts->loc, "unknown type name '%s'", ts->name);
            return ts->resolved = sema_ty_error;
        }
        t = typedef_type(s, sym);
        if (!t) {
            diag_error(s->d, ts->loc, "'%s' names struct '%s', which is not defined", ts->name,
                       sym->decl->tspec->name);
            diag_note(s->d, sym->decl->loc, "typedef '%s' is here", ts->name);
            return ts->resolved = sema_ty_error;
        }
        if (sym->decl->tspec->is_const) ts->is_const = true;
    } else if (!t) {
        Symbol *sym = ts->name ? sema_lookup_struct(s, ts->name) : NULL;
        if (!sym) {
            const char *what = ts->is_tag ? "unknown struct type" : "unknown type name";
            const char *sug = ts->name ? suggest_type(s, ts->name) : NULL;
            if (sug)
                diag_error(s->d, ts->loc, "%s '%s'; did you mean '%s'?", what, ts->name, sug);
            else
                diag_error(s->d, ts->loc, "%s '%s'", what, ts->name ? ts->name : "?");
            return ts->resolved = sema_ty_error;
        }
        t = sym->type;
    }
    if (ts->is_buffer && !is_err(t)) {
        if (t->kind == TY_VOID) {
            diag_error(s->d, ts->loc, "buffer element type cannot be 'void'");
            return ts->resolved = sema_ty_error;
        }
        if (t->kind == TY_ARRAY) {
            diag_error(s->d, ts->loc, "buffer element type cannot be an array ('%s')", t->name);
            return ts->resolved = sema_ty_error;
        }
        if (has_bool(t)) {
            diag_error(s->d, ts->loc, "buffer element type cannot be '%s'; use uchar or int",
                       t->name);
            return ts->resolved = sema_ty_error;
        }
        t = ty_buffer(t, ts->is_const);
    }
    return ts->resolved = t;
}

Type *sema_call_type(Sema *s, AstNode *call)
{
    if (call->tspec) return sema_resolve_tspec(s, call->tspec);
    return ty_lookup_builtin(call->name);
}

AstNode *sema_func_decl(Symbol *fn) { return fn->decl; }

/* ---------------------------------------------------------- file scope ---- */

static Type *check_array_dims(Sema *s, AstNode *n, Type *t);

static void check_struct(Sema *s, AstNode *n)
{
    if (sema_lookup_struct(s, n->name)) {
        Symbol *old = sema_lookup_struct(s, n->name);
        diag_error(s->d, n->loc, "redefinition of struct '%s'", n->name);
        diag_note(s->d, old->decl->loc, "previous definition of '%s' is here", n->name);
        return;
    }
    Field *fields = arena_alloc(s->a, sizeof(Field) * (size_t)(n->nlist ? n->nlist : 1));
    for (int i = 0; i < n->nlist; i++) {
        AstNode *f = n->list[i];
        Type *t = sema_resolve_tspec(s, f->tspec);
        if (!is_err(t)) {
            if (t->kind == TY_BUFFER) {
                diag_error(s->d, f->loc, "struct field '%s' cannot be a buffer", f->name);
                t = sema_ty_error;
            } else if (t->kind == TY_VOID) {
                diag_error(s->d, f->loc, "struct field '%s' cannot have type 'void'", f->name);
                t = sema_ty_error;
            } else if (has_bool(t)) {
                diag_error(s->d, f->loc,
                           "struct field '%s' cannot have type '%s'; use uchar or int", f->name,
                           t->name);
                t = sema_ty_error;
            } else if (f->ndims > 0) { /* a fixed-array field, laid out as in C */
                t = check_array_dims(s, f, t);
            }
        }
        for (int j = 0; j < i; j++)
            if (fields[j].name == f->name) {
                diag_error(s->d, f->loc, "duplicate field '%s' in struct '%s'", f->name, n->name);
                break;
            }
        f->type = t;
        fields[i].name = f->name;
        fields[i].type = t;
    }
    Type *t = ty_struct(n->name, fields, n->nlist);
    Symbol *sym = new_sym(s, SYM_STRUCT, n->name, t, n);
    NameEnt e = {n->name, sym};
    vec_push(s->a, &s->structs, e);
    n->type = t;
    n->sym = sym;
}

static void check_const(Sema *s, AstNode *n)
{
    Type *t = sema_resolve_tspec(s, n->tspec);
    Symbol *sym = new_sym(s, SYM_CONST, n->name, t, n);
    n->sym = sym;
    if (!is_err(t) && !ty_is_scalar(t)) {
        diag_error(s->d, ts_loc(n->tspec, n->loc),
                   "file-scope constant '%s' must have a scalar type, not '%s'", n->name, t->name);
        sym->type = t = sema_ty_error;
    }
    if (!n->a) {
        if (!is_err(t)) diag_error(s->d, n->loc, "constant '%s' needs an initializer", n->name);
        sym->type = sema_ty_error;
    } else if (!is_err(t) && !is_err(sema_expr_to(s, &n->a, t, CV_ASSIGN))) {
        ConstVal v;
        if (!sema_fold(n->a, &v)) {
            diag_error(s->d, n->a->loc, "initializer of constant '%s' is not a constant expression",
                       n->name);
            sym->type = sema_ty_error;
        } else {
            AstNode *lit = ast_new(s->a,
                                   t->kind == TY_FLOAT  ? AST_FLOAT_LIT
                                   : t->kind == TY_BOOL ? AST_BOOL_LIT
                                                        : AST_INT_LIT,
                                   n->a->loc);
            if (t->kind == TY_FLOAT)
                lit->lit.f = v.f;
            else
                lit->lit.i = (uint64_t)v.i;
            lit->op = t->kind == TY_FLOAT ? (t->bits == 16   ? LIT_H
                                             : t->bits == 64 ? LIT_D
                                                             : LIT_F)
                      : t->kind == TY_INT ? (t->is_signed ? 0 : LIT_U) | (t->bits == 64 ? LIT_L : 0)
                                          : 0;
            lit->type = t;
            lit->is_uniform = true;
            sym->value = lit;
        }
    } else {
        if (n->a && is_err(t)) sema_expr(s, &n->a);
        sym->type = sema_ty_error;
    }
    n->type = sym->type;
    declare(s, sym, n->loc);
}

/* typedef T name[dims]; at file scope or in a block. A typedef of a struct not defined yet
 * (`typedef struct P P;` first) waits for the struct's definition (typedef_type). */
static void check_typedef(Sema *s, AstNode *n)
{
    AstTypeSpec *ts = n->tspec;
    bool pending = ts->is_tag && !sema_lookup_struct(s, ts->name);
    Type *t = pending ? NULL : sema_resolve_tspec(s, ts);
    Type *shape = NULL; /* the dimensions of an array typedef, over any element */
    if (n->ndims > 0 && !(t && is_err(t))) {
        if (t && t->kind == TY_VOID) {
            diag_error(s->d, n->loc, "typedef '%s' is an array of 'void'", n->name);
            t = sema_ty_error;
        } else {
            shape = check_array_dims(s, n, t ? t : ty_scalar(SC_INT));
            if (is_err(shape))
                t = sema_ty_error;
            else if (t)
                t = shape;
        }
    }
    Symbol *sym = new_sym(s, SYM_TYPEDEF, n->name, t, n);
    n->type = t ? t : shape;
    n->sym = sym;
    declare(s, sym, n->loc);
}

/* Parameters of a function, kernel or pipeline: resolves and checks their types. */
static void check_params(Sema *s, AstNode *fn, bool entry)
{
    const char *what = fn->kind == AST_PIPELINE ? "pipeline" : "kernel";
    for (int i = 0; i < fn->nlist; i++) {
        AstNode *p = fn->list[i];
        Type *t = sema_resolve_tspec(s, p->tspec);
        if (!is_err(t)) {
            if (t->kind == TY_VOID) {
                diag_error(s->d, p->loc, "parameter '%s' cannot have type 'void'", p->name);
                t = sema_ty_error;
            } else if (p->ndims > 0 || t->kind == TY_ARRAY) {
                diag_error(s->d, p->loc, "parameter '%s' cannot be an array; use a buffer '%s[]'",
                           p->name, array_base(t)->name);
                t = sema_ty_error;
            } else if (entry && has_bool(t)) {
                diag_error(s->d, p->loc,
                           "%s parameter '%s' cannot have type '%s'; use uchar or int", what,
                           p->name, t->name);
                t = sema_ty_error;
            }
        }
        p->type = t;
    }
}

static bool same_signature(AstNode *a, AstNode *b)
{
    if (a->is_kernel != b->is_kernel || a->nlist != b->nlist) return false;
    if (a->type != b->type) return false;
    for (int i = 0; i < a->nlist; i++)
        if (a->list[i]->type != b->list[i]->type) return false;
    return true;
}

static void check_body(Sema *s, AstNode *fn, Symbol *sym);

static void check_func(Sema *s, AstNode *n)
{
    Type *ret = sema_resolve_tspec(s, n->tspec);
    Loc rloc = ts_loc(n->tspec, n->loc);
    if (!is_err(ret)) {
        if (n->is_kernel && ret != ty_void) {
            diag_error(s->d, rloc, "kernel '%s' must return void, not '%s'", n->name, ret->name);
            ret = sema_ty_error;
        } else if (ret->kind == TY_BUFFER || ret->kind == TY_ARRAY) {
            diag_error(s->d, rloc, "function '%s' cannot return %s", n->name,
                       ret->kind == TY_BUFFER ? "a buffer" : "an array");
            ret = sema_ty_error;
        }
    }
    n->type = ret;
    check_params(s, n, n->is_kernel);
    for (int i = 0; i < 3; i++) n->wg[i] = 1;
    if (n->has_wg) {
        if (!n->is_kernel) diag_error(s->d, n->loc, "[[workgroup]] applies only to kernels");
        for (int i = 0; i < n->nwg && i < 3; i++) {
            int64_t v;
            if (!sema_fold_int(s, &n->wg_expr[i], "work-group size", &v)) continue;
            if (v <= 0 || v > 65535) {
                diag_error(s->d, n->wg_expr[i]->loc,
                           "work-group size must be a positive integer constant, not %lld",
                           (long long)v);
                continue;
            }
            n->wg[i] = (uint32_t)v;
        }
        /* 1024 work-items per group is what every target offers (CUDA, Vulkan on the
         * devices DCK runs on, Metal); the z dimension is limited to 64 by CUDA. */
        uint64_t total = (uint64_t)n->wg[0] * n->wg[1] * n->wg[2];
        if (n->wg[2] > 64)
            diag_error(s->d, n->wg_expr[2]->loc,
                       "work-group size in z is %u; at most 64 is supported", n->wg[2]);
        else if (total > 1024)
            diag_error(
                s->d, n->wg_expr[0]->loc,
                "work-group of %ux%ux%u has %llu work-items; at most 1024 are supported on every target",
                n->wg[0], n->wg[1], n->wg[2], (unsigned long long)total);
    }
    /* a function or kernel may take a builtin's name (OpenCL C and CUDA code names kernels
       `step` or `scan`): calls then reach the user's function, the backends rename entry
       points where their target reserves the name */
    Symbol *sym = NULL;
    for (int i = 0; i < s->names.len; i++)
        if (s->names.data[i].name == n->name) sym = s->names.data[i].sym;
    if (sym && sym->kind == SYM_FUNC) {
        AstNode *prev = sym->decl;
        if (!same_signature(prev, n)) {
            if (!is_err(prev->type) && !is_err(n->type)) {
                diag_error(s->d, n->loc, "conflicting types for '%s'", n->name);
                diag_note(s->d, prev->loc, "previous declaration of '%s' is here", n->name);
            }
            n->sym = sym;
            return;
        }
        if (prev->a && n->a) {
            diag_error(s->d, n->loc, "redefinition of '%s'", n->name);
            diag_note(s->d, prev->loc, "previous definition of '%s' is here", n->name);
            return;
        }
        if (n->a) sym->decl = n;
    } else {
        sym = new_sym(s, SYM_FUNC, n->name, ret, n);
        if (!declare(s, sym, n->loc)) return;
    }
    n->sym = sym;
    if (n->a) check_body(s, n, sym);
}

static void check_pipeline(Sema *s, AstNode *n)
{
    n->type = ty_void;
    check_params(s, n, true);
    Symbol *sym = new_sym(s, SYM_PIPELINE, n->name, ty_void, n);
    n->sym = sym;
    if (!declare(s, sym, n->loc)) return;
    if (n->a) check_body(s, n, sym);
}

/* ---------------------------------------------------------- statements ---- */

static void check_stmt(Sema *s, AstNode *n);

/* The array type of declarator n's dimensions over t (t may be an array typedef already:
 * at most 3 dimensions in all). */
static Type *check_array_dims(Sema *s, AstNode *n, Type *t)
{
    int64_t dim[3];
    bool ok = true;
    int inner = 0;
    for (Type *u = t; u->kind == TY_ARRAY; u = u->elem) inner++;
    if (inner + n->ndims > 3) {
        diag_error(s->d, n->loc, "too many array dimensions for '%s' (at most 3, here %d)", n->name,
                   inner + n->ndims);
        return sema_ty_error;
    }
    for (int i = 0; i < n->ndims && i < 3; i++) {
        if (!sema_fold_int(s, &n->dims[i], "array size", &dim[i])) {
            ok = false;
            continue;
        }
        if (dim[i] <= 0 || dim[i] > INT32_MAX) {
            diag_error(s->d, n->dims[i]->loc, "array size must be positive, not %lld",
                       (long long)dim[i]);
            ok = false;
        }
    }
    if (!ok) return sema_ty_error;
    for (int i = n->ndims - 1; i >= 0; i--) t = ty_array(t, (int)dim[i]);
    return t;
}

static void check_brace_init(Sema *s, AstNode *n, Type *t)
{
    if (t->kind == TY_ARRAY && t->elem->kind != TY_ARRAY) {
        if (n->nlist > t->n)
            diag_error(s->d, n->list[t->n]->loc, "too many initializers for '%s'", t->name);
        for (int i = 0; i < n->nlist; i++) {
            if (t->elem->kind == TY_STRUCT) {
                Type *at = sema_expr(s, &n->list[i]);
                if (!is_err(at) && at != t->elem)
                    diag_error(s->d, n->list[i]->loc, "cannot convert '%s' to '%s'", at->name,
                               t->elem->name);
            } else {
                sema_expr_to(s, &n->list[i], t->elem, CV_ASSIGN);
            }
        }
    } else {
        diag_error(s->d, n->loc,
                   "a brace initializer is only allowed for a one-dimensional array, not '%s'%s",
                   t->name, t->kind == TY_VEC ? "; use a constructor" : "");
        for (int i = 0; i < n->nlist; i++) sema_expr(s, &n->list[i]);
    }
}

static void check_pipeline_decl(Sema *s, AstNode *n, Type *t)
{
    SymKind kind = SYM_VAR;
    if (n->is_shared) {
        diag_error(s->d, n->loc, "shared arrays are not allowed in a pipeline");
        t = sema_ty_error;
    } else if (n->ndims == 0) {
        ScalarId ok_ids[] = {SC_INT, SC_UINT, SC_LONG, SC_ULONG, SC_FLOAT, SC_DOUBLE};
        bool ok = false;
        for (int i = 0; i < ARRAY_LEN(ok_ids); i++) ok |= t == ty_scalar(ok_ids[i]);
        if (!is_err(t) && !ok) {
            diag_error(
                s->d, n->loc,
                "variables of type '%s' are not allowed in a pipeline (only int, uint, long, ulong, float, double)",
                t->name);
            t = sema_ty_error;
        }
        if (n->tspec && n->tspec->is_buffer) t = sema_ty_error;
        if (!n->a) {
            if (!is_err(t))
                diag_error(s->d, n->loc, "pipeline variable '%s' needs an initializer", n->name);
        } else if (!is_err(t)) {
            sema_expr_to(s, &n->a, t, CV_ASSIGN);
        }
    } else {
        kind = SYM_TEMP;
        if (n->ndims > 1) {
            diag_error(s->d, n->loc, "a pipeline temporary has exactly one dimension");
            t = sema_ty_error;
        }
        if (!is_err(t) &&
            (t->kind == TY_VOID || has_bool(t) || t->kind == TY_BUFFER || t->kind == TY_ARRAY)) {
            diag_error(s->d, n->loc, "a pipeline temporary cannot hold '%s'", t->name);
            t = sema_ty_error;
        }
        Type *dt = sema_expr(s, &n->dims[0]);
        if (!is_err(dt)) {
            if (dt->kind != TY_INT)
                diag_error(s->d, n->dims[0]->loc,
                           "size of temporary '%s' must be an integer scalar, not '%s'", n->name,
                           dt->name);
            else
                sema_convert(s, &n->dims[0], ty_scalar(SC_UINT), CV_ASSIGN);
        }
        if (n->a || n->list)
            diag_error(s->d, n->loc, "a pipeline temporary cannot have an initializer");
        if (!is_err(t)) t = ty_buffer(t, false);
    }
    Symbol *sym = new_sym(s, kind, n->name, t, n);
    n->type = t;
    n->sym = sym;
    declare(s, sym, n->loc);
}

static void check_decl(Sema *s, AstNode *n)
{
    Type *t = sema_resolve_tspec(s, n->tspec);
    if (!is_err(t) && n->tspec->is_buffer) {
        diag_error(
            s->d, n->loc,
            "variable '%s' cannot be a buffer; buffers are parameters (or pipeline temporaries)",
            n->name);
        t = sema_ty_error;
    }
    if (!is_err(t) && t->kind == TY_VOID) {
        diag_error(s->d, n->loc, "variable '%s' cannot have type 'void'", n->name);
        t = sema_ty_error;
    }
    if (s->in_pipeline) {
        check_pipeline_decl(s, n, t);
        return;
    }
    SymKind kind = SYM_VAR;
    if (n->is_shared) {
        kind = SYM_SHARED;
        if (!s->in_kernel) {
            diag_error(s->d, n->loc, "shared arrays are only allowed in kernels");
            t = sema_ty_error;
        } else if (s->block_depth != 1) {
            diag_error(s->d, n->loc,
                       "shared array '%s' must be declared at the top level of the kernel body",
                       n->name);
            t = sema_ty_error;
        } else if (n->ndims == 0 && !is_err(t) && t->kind != TY_ARRAY) {
            diag_error(s->d, n->loc, "shared variable '%s' must be an array", n->name);
            t = sema_ty_error;
        } else if (!is_err(t) && has_bool(t)) {
            diag_error(s->d, n->loc, "shared array element type cannot be '%s'; use uchar or int",
                       t->name);
            t = sema_ty_error;
        }
        if (n->a || n->list) {
            diag_error(s->d, n->loc, "shared array '%s' cannot have an initializer", n->name);
            n->a = NULL;
            n->list = NULL;
            n->nlist = 0;
        }
    }
    if (n->ndims > 0 && !is_err(t)) t = check_array_dims(s, n, t);
    if (n->a) {
        if (is_err(t)) {
            sema_expr(s, &n->a);
        } else if (t->kind == TY_ARRAY) {
            sema_expr(s, &n->a);
            diag_error(s->d, n->a->loc, "array '%s' must be initialized with a brace list",
                       n->name);
        } else if (t->kind == TY_STRUCT) {
            Type *at = sema_expr(s, &n->a);
            if (!is_err(at) && at != t)
                diag_error(s->d, n->a->loc, "cannot convert '%s' to '%s'", at->name, t->name);
        } else {
            sema_expr_to(s, &n->a, t, CV_ASSIGN);
        }
    } else if (n->list || n->nlist) {
        if (!is_err(t)) check_brace_init(s, n, t);
    } else if (n->tspec && n->tspec->is_const && !is_err(t)) {
        diag_error(s->d, n->loc, "const variable '%s' needs an initializer", n->name);
    }
    Symbol *sym = new_sym(s, kind, n->name, t, n);
    n->type = t;
    n->sym = sym;
    declare(s, sym, n->loc);
}

/* Checks a statement in its own scope (the body of if/for/while without braces). */
static void check_sub(Sema *s, AstNode *n)
{
    if (!n) return;
    scope_push(s);
    s->block_depth++;
    check_stmt(s, n);
    s->block_depth--;
    scope_pop(s);
}

static void check_launch(Sema *s, AstNode *n);

static void check_stmt(Sema *s, AstNode *n)
{
    if (!n) return;
    switch (n->kind) {
    case AST_BLOCK:
        scope_push(s);
        s->block_depth++;
        for (int i = 0; i < n->nlist; i++) check_stmt(s, n->list[i]);
        s->block_depth--;
        scope_pop(s);
        return;
    case AST_DECL: check_decl(s, n); return;
    case AST_TYPEDEF: check_typedef(s, n); return;
    case AST_STRUCT:
        diag_error(s->d, n->loc, "a struct can only be defined at file scope");
        check_struct(s, n); /* so that its uses say nothing more */
        return;
    case AST_EXPR:
        if (n->a && n->a->kind == AST_LAUNCH && s->in_pipeline)
            check_launch(s, n->a);
        else if (n->a)
            sema_expr(s, &n->a);
        return;
    case AST_IF:
        sema_cond(s, &n->a, "condition of 'if'");
        check_sub(s, n->b);
        check_sub(s, n->c);
        return;
    case AST_WHILE:
        sema_cond(s, &n->a, "condition of 'while'");
        s->loop_depth++;
        check_sub(s, n->b);
        s->loop_depth--;
        return;
    case AST_DO:
        s->loop_depth++;
        check_sub(s, n->b);
        s->loop_depth--;
        sema_cond(s, &n->a, "condition of 'do'");
        return;
    case AST_FOR:
        scope_push(s);
        s->block_depth++;
        if (n->a) check_stmt(s, n->a);
        if (n->b) sema_cond(s, &n->b, "condition of 'for'");
        if (n->c) sema_expr(s, &n->c);
        s->loop_depth++;
        check_sub(s, n->d);
        s->loop_depth--;
        s->block_depth--;
        scope_pop(s);
        return;
    case AST_BREAK:
    case AST_CONTINUE:
        if (s->loop_depth == 0)
            diag_error(s->d, n->loc, "'%s' outside of a loop",
                       n->kind == AST_BREAK ? "break" : "continue");
        return;
    case AST_RETURN: {
        AstNode *fn = s->fn;
        if (s->in_pipeline) {
            diag_error(s->d, n->loc, "'return' is not allowed in a pipeline");
            return;
        }
        Type *ret = fn->type;
        if (is_err(ret)) {
            if (n->a) sema_expr(s, &n->a);
            return;
        }
        if (ret == ty_void) {
            if (n->a) {
                sema_expr(s, &n->a);
                diag_error(s->d, n->a->loc, "%s '%s' returns void and cannot return a value",
                           fn->is_kernel ? "kernel" : "function", fn->name);
            }
            return;
        }
        if (!n->a) {
            diag_error(s->d, n->loc, "non-void function '%s' must return a '%s' value", fn->name,
                       ret->name);
            return;
        }
        if (ret->kind == TY_STRUCT) {
            Type *at = sema_expr(s, &n->a);
            if (!is_err(at) && at != ret)
                diag_error(s->d, n->a->loc, "cannot convert '%s' to '%s'", at->name, ret->name);
            return;
        }
        sema_expr_to(s, &n->a, ret, CV_ASSIGN);
        return;
    }
    case AST_EMPTY: return;
    default: ICE("unexpected %s node in a statement position", ast_kind_name(n->kind));
    }
}

/* --------------------------------------------------------- pipelines ---- */

static int launch_dims(Sema *s, AstNode **pn, const char *what)
{
    AstNode *n = *pn;
    n->is_uniform = true;
    Type *vt = n->kind == AST_CALL ? sema_call_type(s, n) : NULL;
    if (vt && vt->kind == TY_VEC) {
        if (vt->elem != ty_scalar(SC_UINT) || vt->n == 4) {
            diag_error(s->d, n->loc, "%s must be an integer scalar, uint2 or uint3, not '%s'", what,
                       vt->name);
            return 0;
        }
        if (n->nlist != vt->n) {
            diag_error(s->d, n->loc,
                       "constructor '%s' of the %s needs %d integer scalars, not %d arguments",
                       vt->name, what, vt->n, n->nlist);
            for (int i = 0; i < n->nlist; i++) sema_expr(s, &n->list[i]);
            return 0;
        }
        bool ok = true;
        for (int i = 0; i < n->nlist; i++) {
            Type *t = sema_expr(s, &n->list[i]);
            if (is_err(t)) {
                ok = false;
            } else if (t->kind != TY_INT) {
                diag_error(s->d, n->list[i]->loc, "%s components must be integers, not '%s'", what,
                           t->name);
                ok = false;
            } else if (!sema_convert(s, &n->list[i], ty_scalar(SC_UINT), CV_ASSIGN)) {
                ok = false;
            }
        }
        if (!ok) return 0;
        n->ctor = vt;
        n->type = vt;
        return vt->n;
    }
    Type *t = sema_expr(s, pn);
    if (is_err(t)) return 0;
    if (t->kind != TY_INT) {
        diag_error(s->d, (*pn)->loc, "%s must be an integer scalar, uint2 or uint3, not '%s'", what,
                   t->name);
        return 0;
    }
    return sema_convert(s, pn, ty_scalar(SC_UINT), CV_ASSIGN) ? 1 : 0;
}

static void check_launch(Sema *s, AstNode *n)
{
    n->type = ty_void;
    n->is_uniform = true;
    int gd = launch_dims(s, &n->a, "global size");
    int ld = n->b ? launch_dims(s, &n->b, "local size") : 0;
    if (gd && ld && gd != ld)
        diag_error(s->d, n->b->loc, "local size has %d dimension%s but the global size has %d", ld,
                   ld == 1 ? "" : "s", gd);
    Symbol *sym = sema_lookup(s, n->name);
    if (!sym) {
        const char *sug = sema_suggest(s, n->name, true);
        if (sug)
            diag_error(s->d, n->loc, "use of undeclared kernel '%s'; did you mean '%s'?", n->name,
                       sug);
        else
            diag_error(s->d, n->loc, "use of undeclared kernel '%s'", n->name);
        return;
    }
    if (sym->kind != SYM_FUNC || !sym->decl->is_kernel) {
        if (is_err(sym->type) && sym->kind != SYM_FUNC) return;
        diag_error(s->d, n->loc, "'%s' is not a kernel; only kernels can be launched", n->name);
        if (sym->decl) diag_note(s->d, sym->decl->loc, "'%s' is declared here", n->name);
        return;
    }
    n->sym = sym;
    AstNode *k = sym->decl;
    if (n->nlist != k->nlist) {
        diag_error(s->d, n->loc, "too %s arguments to kernel '%s' (expected %d, have %d)",
                   n->nlist < k->nlist ? "few" : "many", n->name, k->nlist, n->nlist);
        return;
    }
    for (int i = 0; i < n->nlist; i++) {
        AstNode *p = k->list[i];
        Type *pt = p->type;
        AstNode *arg = n->list[i];
        arg->is_uniform = true;
        if (is_err(pt)) continue;
        if (pt->kind == TY_BUFFER || pt->kind == TY_VEC || pt->kind == TY_STRUCT) {
            Symbol *as = arg->kind == AST_IDENT ? sema_lookup(s, arg->name) : NULL;
            if (arg->kind == AST_IDENT && !as) {
                sema_expr(s, &n->list[i]); /* reports the undeclared name */
                continue;
            }
            if (as && is_err(as->type)) continue;
            if (pt->kind == TY_BUFFER) {
                Type *at = as ? as->type : NULL;
                if (!as || at->kind != TY_BUFFER) {
                    diag_error(
                        s->d, arg->loc,
                        "argument %d of kernel '%s' must be a buffer of type '%s' (a buffer parameter or temporary of the pipeline)",
                        i + 1, n->name, pt->name);
                    continue;
                }
                if (at->elem != pt->elem) {
                    diag_error(
                        s->d, arg->loc,
                        "cannot pass buffer '%s' of type '%s' to parameter '%s' of type '%s'",
                        arg->name, at->name, p->name, pt->name);
                    continue;
                }
                if (at->is_const && !pt->is_const) {
                    diag_error(
                        s->d, arg->loc,
                        "cannot pass read-only buffer '%s' (type '%s') to parameter '%s' of type '%s'",
                        arg->name, at->name, p->name, pt->name);
                    continue;
                }
            } else if (!as || as->kind != SYM_PARAM || as->type != pt) {
                diag_error(s->d, arg->loc,
                           "argument %d of kernel '%s' must be a pipeline parameter of type '%s'",
                           i + 1, n->name, pt->name);
                continue;
            }
            arg->sym = as;
            arg->type = as->type;
            continue;
        }
        sema_expr_to(s, &n->list[i], pt, CV_ASSIGN);
    }
}

/* ------------------------------------------------------------ bodies ---- */

static bool has_break(const AstNode *n)
{
    if (!n) return false;
    switch (n->kind) {
    case AST_BREAK: return true;
    case AST_BLOCK:
        for (int i = 0; i < n->nlist; i++)
            if (has_break(n->list[i])) return true;
        return false;
    case AST_IF: return has_break(n->b) || has_break(n->c);
    default: return false; /* nested loops own their breaks */
    }
}

static bool const_true(const AstNode *c)
{
    if (!c) return true;
    ConstVal v;
    AstNode *x = (AstNode *)c;
    return sema_fold(x, &v) && (v.is_float ? v.f != 0 : v.i != 0);
}

static bool always_returns(const AstNode *n)
{
    if (!n) return false;
    switch (n->kind) {
    case AST_RETURN: return true;
    case AST_BLOCK:
        for (int i = 0; i < n->nlist; i++)
            if (always_returns(n->list[i])) return true;
        return false;
    case AST_IF: return n->c && always_returns(n->b) && always_returns(n->c);
    case AST_WHILE: return const_true(n->a) && !has_break(n->b);
    case AST_FOR: return const_true(n->b) && !has_break(n->d);
    case AST_DO: return always_returns(n->b) || (const_true(n->a) && !has_break(n->b));
    default: return false;
    }
}

static void check_body(Sema *s, AstNode *fn, Symbol *sym)
{
    s->fn = fn;
    s->fn_sym = fn->kind == AST_FUNC ? sym : NULL;
    s->in_kernel = fn->kind == AST_FUNC && fn->is_kernel;
    s->in_pipeline = fn->kind == AST_PIPELINE;
    s->undeclared.len = 0;
    s->loop_depth = 0;
    scope_push(s);
    for (int i = 0; i < fn->nlist; i++) {
        AstNode *p = fn->list[i];
        Symbol *ps = new_sym(s, SYM_PARAM, p->name, p->type, p);
        ps->index = i;
        p->sym = ps;
        declare(s, ps, p->loc);
    }
    AstNode *body = fn->a;
    s->block_depth = 1;
    if (body->kind == AST_BLOCK) {
        for (int i = 0; i < body->nlist; i++) check_stmt(s, body->list[i]);
    } else {
        check_stmt(s, body);
    }
    s->block_depth = 0;
    scope_pop(s);
    if (fn->kind == AST_FUNC && !fn->body_dropped && !is_err(fn->type) && fn->type != ty_void &&
        !always_returns(body))
        diag_error(s->d, fn->loc, "non-void function '%s' does not return a value on every path",
                   fn->name);
    s->fn = NULL;
    s->fn_sym = NULL;
    s->in_kernel = s->in_pipeline = false;
}

/* --------------------------------------------------------- call graph ---- */

typedef struct CgNode {
    Symbol *sym;
    int color; /* 0 white, 1 on the stack, 2 done */
} CgNode;

static int cg_index(CgNode *nodes, int n, Symbol *sym)
{
    for (int i = 0; i < n; i++)
        if (nodes[i].sym == sym) return i;
    return -1;
}

static void cg_visit(Sema *s, CgNode *nodes, int nn, int v, int *stack, int *depth)
{
    nodes[v].color = 1;
    stack[(*depth)++] = v;
    for (int e = 0; e < s->calls.len; e++) {
        CallEdge *ce = &s->calls.data[e];
        if (ce->caller != nodes[v].sym) continue;
        int w = cg_index(nodes, nn, ce->callee);
        if (w < 0) continue;
        if (nodes[w].color == 1) {
            StrBuf sb = {0};
            int start = 0;
            while (stack[start] != w) start++;
            for (int i = start; i < *depth; i++)
                sb_printf(&sb, "%s -> ", nodes[stack[i]].sym->name);
            sb_puts(&sb, nodes[w].sym->name);
            diag_error(s->d, nodes[w].sym->decl->loc, "recursion is not allowed: %s", sb.data);
            diag_note(s->d, ce->call->loc, "the call that closes the cycle is here");
            sb_free(&sb);
        } else if (nodes[w].color == 0) {
            cg_visit(s, nodes, nn, w, stack, depth);
        }
    }
    (*depth)--;
    nodes[v].color = 2;
}

static void check_call_graph(Sema *s)
{
    /* calls to functions that are declared but never defined */
    for (int e = 0; e < s->calls.len; e++) {
        CallEdge *ce = &s->calls.data[e];
        if (!ce->callee->decl->a)
            diag_error(s->d, ce->call->loc, "function '%s' is declared but never defined",
                       ce->callee->name);
    }
    int nn = 0;
    CgNode *nodes = arena_alloc(s->a, sizeof(CgNode) * (size_t)(s->tu->ndecls + 1));
    for (int i = 0; i < s->tu->ndecls; i++) {
        AstNode *d = s->tu->decls[i];
        if (d->kind == AST_FUNC && d->a && d->sym && d->sym->decl == d) nodes[nn++].sym = d->sym;
    }
    int *stack = arena_alloc(s->a, sizeof(int) * (size_t)(nn + 1));
    for (int i = 0; i < nn; i++) {
        int depth = 0;
        if (nodes[i].color == 0) cg_visit(s, nodes, nn, i, stack, &depth);
    }
}

/* ------------------------------------------------------------- entry ---- */

bool sema_check(Arena *a, DiagEngine *d, TranslationUnit *tu)
{
    Sema s = {0};
    s.a = a;
    s.d = d;
    s.tu = tu;
    for (int i = 0; i < tu->ndecls; i++) {
        AstNode *n = tu->decls[i];
        switch (n->kind) {
        case AST_STRUCT: check_struct(&s, n); break;
        case AST_CONST: check_const(&s, n); break;
        case AST_TYPEDEF: check_typedef(&s, n); break;
        case AST_FUNC: check_func(&s, n); break;
        case AST_PIPELINE: check_pipeline(&s, n); break;
        default: ICE("unexpected %s node at file scope", ast_kind_name(n->kind));
        }
    }
    check_call_graph(&s);
    sema_uniformity(&s);
    return !diag_has_errors(d);
}
