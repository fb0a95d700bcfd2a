/* sema_uniform.c: work-item uniformity and the barrier() rule.
 *
 * A value is varying (differs between the work-items of a group) when it comes from
 * global_id, local_id, subgroup_local_id, a load from a buffer or a shared array, an
 * atomic, a subgroup operation, a varying variable, or a call with a varying argument or
 * whose callee returns a varying value. Literals, constants, kernel parameters,
 * group_id, local_size, num_groups, global_size, subgroup_size and len() are uniform.
 * Variables are tracked per function, flow-insensitively: a variable that is ever
 * assigned a varying value, or assigned under varying control, is varying everywhere in
 * its function (a fixed point over the whole body, so loops are handled).
 * Control is varying inside an if/loop/?:/&&/|| whose condition is varying, for the rest
 * of a loop after a varying break/continue (the whole loop, as later iterations diverge),
 * and for the rest of the function after a varying return.
 * barrier(), and calls to functions that reach barrier() (transitively), must be in
 * uniform control. Functions are analysed callers first; a parameter is varying when
 * some call passes a varying argument for it (per parameter, over all call sites).
 * Pipelines are uniform by definition. Sets AstNode.is_uniform on every expression.
 * A violation's notes follow the chain back to the source: the condition or jump that
 * made control varying, then, for the variable of that condition made varying first, the
 * assignment that did it (and, when it was assigned under varying control, that control
 * in turn), at most MAX_NOTES notes.
 */
#include <string.h>

#include "sema.h"

enum { DIV_LOOP = 1, DIV_FUNC = 2 };
enum { WHY_COND, WHY_RETURN, WHY_BREAK, WHY_CONTINUE };
enum { MAX_NOTES = 8 }; /* per violation: the chain is cut there */

typedef struct UCtl {
    AstNode *origin; /* the varying source control depends on; NULL = uniform */
    AstNode *at;     /* the condition or the jump that made control varying */
    AstNode *cond;   /* the varying condition itself (the one the jump at `at` is under) */
    int why;
} UCtl;

typedef struct UVar {
    Symbol *sym;
    AstNode *origin;
    AstNode *at; /* the declaration, assignment or ++/-- that made it varying; NULL: a parameter */
    AstNode *value; /* the expression whose value made it varying, or NULL when ctl did */
    UCtl ctl;       /* the varying control it was assigned under (value == NULL) */
} UVar;

typedef struct UNote {
    Loc loc;
    const char *msg;
} UNote;

typedef struct UFunc {
    AstNode *decl;
    Symbol *sym;
    bool direct_barrier, has_barrier;
    AstNode *ret_origin;    /* varying result source (with uniform arguments) */
    AstNode **param_origin; /* per parameter: varying source passed by some call */
} UFunc;

typedef struct Violation {
    AstNode *node;  /* the barrier() or the call */
    Symbol *callee; /* the function reaching barrier(), or NULL */
    UCtl ctl;
    VEC(UNote) notes;        /* why the control is varying, in order */
    Symbol *told[MAX_NOTES]; /* the variables the notes explain */
    int ntold;
} Violation;

typedef struct U {
    Sema *s;
    VEC(UVar) vars;
    bool changed;
    bool final;
    UCtl loop_div, func_div;
    UFunc *funcs;
    int nfuncs;
    UFunc *cur;
    VEC(Violation) viol;
} U;

static UFunc *ufunc(U *u, Symbol *sym)
{
    for (int i = 0; i < u->nfuncs; i++)
        if (u->funcs[i].sym == sym) return &u->funcs[i];
    return NULL;
}

static UVar *uvar(U *u, Symbol *sym)
{
    for (int i = 0; i < u->vars.len; i++)
        if (u->vars.data[i].sym == sym) return &u->vars.data[i];
    return NULL;
}

static AstNode *var_origin(U *u, Symbol *sym)
{
    UVar *v = uvar(u, sym);
    return v ? v->origin : NULL;
}

/* sym becomes varying at `at`: by `value` when that is varying, else by the control ctl */
static void mark_var(U *u, Symbol *sym, AstNode *at, AstNode *value, AstNode *value_origin,
                     UCtl ctl)
{
    AstNode *origin = value_origin ? value_origin : ctl.origin;
    if (!sym || !origin || var_origin(u, sym)) return;
    if (sym->kind != SYM_VAR && sym->kind != SYM_PARAM) return;
    UVar v = {sym, origin, at, value_origin ? value : NULL, {0}};
    if (!value_origin) v.ctl = ctl;
    vec_push(u->s->a, &u->vars, v);
    u->changed = true;
}

static Symbol *root_sym(AstNode *n)
{
    while (n &&
           (n->kind == AST_INDEX || n->kind == AST_MEMBER || (n->kind == AST_CAST && n->implicit)))
        n = n->a;
    return n && n->kind == AST_IDENT ? n->sym : NULL;
}

static UCtl under(UCtl ctl, AstNode *origin, AstNode *at)
{
    if (ctl.origin || !origin) return ctl;
    UCtl c = {origin, at, at, WHY_COND};
    return c;
}

static void add_note(U *u, Violation *v, Loc loc, const char *msg)
{
    UNote n = {loc, msg};
    vec_push(u->s->a, &v->notes, n);
}

static void explain_ctl(U *u, Violation *v, UCtl ctl);

/* Of the variables of expression e that depend on origin and are not explained yet, the one
 * made varying first (NULL if none). Variables are marked in the order the analysis finds
 * them varying, after what made them so: the first is a cause, never an effect, of the
 * others (the counter of a loop whose bound is varying is an effect), and following the
 * first ones back cannot cycle. */
static UVar *varying_var(U *u, Violation *v, AstNode *e, AstNode *origin, UVar *best)
{
    if (!e) return best;
    if (e->kind == AST_IDENT && e->sym) {
        UVar *x = uvar(u, e->sym);
        if (!x || x->origin != origin || (best && best <= x)) return best; /* earlier in vars */
        for (int i = 0; i < v->ntold; i++)
            if (v->told[i] == x->sym) return best;
        return x;
    }
    AstNode *kids[4] = {e->a, e->b, e->c, e->d};
    for (int i = 0; i < 4; i++) best = varying_var(u, v, kids[i], origin, best);
    for (int i = 0; i < e->nlist; i++) best = varying_var(u, v, e->list[i], origin, best);
    return best;
}

/* the note on where the first varying variable of e that carries origin became varying,
 * then why, back to the source */
static void explain_vars(U *u, Violation *v, AstNode *e, AstNode *origin)
{
    UVar *x = varying_var(u, v, e, origin, NULL);
    if (!x || v->notes.len >= MAX_NOTES || v->ntold >= MAX_NOTES) return;
    v->told[v->ntold++] = x->sym;
    const char *src = sema_expr_str(u->s, origin);
    if (!x->at) {
        if (x->sym->decl)
            add_note(u, v, x->sym->decl->loc,
                     arena_printf(u->s->a,
                                  "parameter '%s' depends on '%s': some call passes such a value",
                                  x->sym->name, src));
    } else if (x->value) {
        add_note(u, v, x->at->loc,
                 arena_printf(u->s->a, "'%s' is assigned a value that depends on '%s' here",
                              x->sym->name, src));
        explain_vars(u, v, x->value, origin);
    } else {
        add_note(u, v, x->at->loc,
                 arena_printf(u->s->a,
                              "'%s' is assigned here under control flow that depends on '%s'",
                              x->sym->name, src));
        explain_ctl(u, v, x->ctl);
    }
}

/* the note on the condition or jump that made ctl varying, then its variables */
static void explain_ctl(U *u, Violation *v, UCtl ctl)
{
    if (v->notes.len >= MAX_NOTES) return;
    const char *src = sema_expr_str(u->s, ctl.origin);
    const char *msg;
    switch (ctl.why) {
    case WHY_COND: msg = arena_printf(u->s->a, "this condition depends on '%s'", src); break;
    case WHY_RETURN:
        msg = arena_printf(u->s->a, "some work-items return here, depending on '%s'", src);
        break;
    case WHY_BREAK:
        msg = arena_printf(u->s->a, "some work-items leave the loop here, depending on '%s'", src);
        break;
    default:
        msg = arena_printf(
            u->s->a, "some work-items skip to the next iteration here, depending on '%s'", src);
        break;
    }
    add_note(u, v, ctl.at->loc, msg);
    explain_vars(u, v, ctl.cond, ctl.origin);
}

static void record(U *u, AstNode *node, Symbol *callee, UCtl ctl)
{
    if (!u->final || !ctl.origin) return;
    for (int i = 0; i < u->viol.len; i++)
        if (u->viol.data[i].node == node) return;
    Violation v = {.node = node, .callee = callee, .ctl = ctl};
    explain_ctl(u, &v, ctl); /* now, while this function's variables are known */
    vec_push(u->s->a, &u->viol, v);
}

static AstNode *first(AstNode *a, AstNode *b) { return a ? a : b; }

static AstNode *uexpr(U *u, AstNode *n, UCtl ctl)
{
    if (!n) return NULL;
    AstNode *o = NULL;
    switch (n->kind) {
    case AST_INT_LIT:
    case AST_FLOAT_LIT:
    case AST_BOOL_LIT: break;
    case AST_IDENT:
        if (n->sym) o = var_origin(u, n->sym);
        break;
    case AST_UNARY:
    case AST_CAST: o = uexpr(u, n->a, ctl); break;
    case AST_MEMBER: o = uexpr(u, n->a, ctl); break;
    case AST_INDEX: {
        AstNode *oa = uexpr(u, n->a, ctl), *ob = uexpr(u, n->b, ctl);
        o = first(oa, ob);
        Type *bt = n->a->type;
        Symbol *rs = root_sym(n->a);
        if (bt && bt->kind == TY_BUFFER)
            o = n;
        else if (rs && rs->kind == SYM_SHARED && n->type && n->type->kind != TY_ARRAY)
            o = n;
        break;
    }
    case AST_BINARY: {
        AstNode *oa = uexpr(u, n->a, ctl);
        UCtl c2 = (n->op == OP_ANDAND || n->op == OP_OROR) ? under(ctl, oa, n->a) : ctl;
        AstNode *ob = uexpr(u, n->b, c2);
        o = first(oa, ob);
        break;
    }
    case AST_COND: {
        AstNode *oa = uexpr(u, n->a, ctl);
        UCtl c2 = under(ctl, oa, n->a);
        AstNode *ob = uexpr(u, n->b, c2), *oc = uexpr(u, n->c, c2);
        o = first(oa, first(ob, oc));
        break;
    }
    case AST_ASSIGN: {
        AstNode *ob = uexpr(u, n->b, ctl);
        AstNode *oa = uexpr(u, n->a, ctl);
        Symbol *rs = root_sym(n->a);
        AstNode *val = n->op == '=' ? ob : first(ob, oa);
        if (rs) mark_var(u, rs, n->a, n->op == '=' ? n->b : n, val, ctl);
        o = first(val, rs ? var_origin(u, rs) : NULL);
        break;
    }
    case AST_INCDEC: {
        AstNode *oa = uexpr(u, n->a, ctl);
        Symbol *rs = root_sym(n->a);
        if (rs) mark_var(u, rs, n->a, NULL, NULL, ctl);
        o = first(oa, rs ? var_origin(u, rs) : NULL);
        break;
    }
    case AST_CALL: {
        AstNode *oargs = NULL;
        AstNode **argo = arena_alloc(u->s->a, sizeof(AstNode *) * (size_t)(n->nlist + 1));
        for (int i = 0; i < n->nlist; i++) {
            argo[i] = uexpr(u, n->list[i], ctl);
            oargs = first(oargs, argo[i]);
        }
        o = oargs;
        if (n->builtin != BI_NONE) {
            switch (n->builtin) {
            case BI_GLOBAL_ID:
            case BI_LOCAL_ID:
            case BI_SUBGROUP_LOCAL_ID:
            case BI_SUBGROUP_ADD:
            case BI_SUBGROUP_MIN:
            case BI_SUBGROUP_MAX:
            case BI_SUBGROUP_BROADCAST:
            case BI_SUBGROUP_SHUFFLE: o = n; break;
            case BI_GROUP_ID:
            case BI_LOCAL_SIZE:
            case BI_NUM_GROUPS:
            case BI_GLOBAL_SIZE:
            case BI_SUBGROUP_SIZE:
            case BI_LEN: o = NULL; break;
            case BI_BARRIER: record(u, n, NULL, ctl); break;
            default:
                if (builtin_info[n->builtin].cls == BK_ATOMIC ||
                    builtin_info[n->builtin].cls == BK_CAS)
                    o = n;
                break;
            }
        } else if (n->sym && n->sym->kind == SYM_FUNC) {
            UFunc *cf = ufunc(u, n->sym);
            if (cf) {
                if (cf->has_barrier) record(u, n, n->sym, ctl);
                if (u->final)
                    for (int i = 0; i < n->nlist && i < cf->decl->nlist; i++)
                        if (argo[i] && !cf->param_origin[i]) cf->param_origin[i] = argo[i];
                o = first(o, cf->ret_origin);
            }
        }
        break;
    }
    default: break;
    }
    n->is_uniform = o == NULL;
    return o;
}

static int ustmt(U *u, AstNode *n, UCtl ctl);

static int uloop(U *u, AstNode *init, AstNode *cond, AstNode *step, AstNode *body, bool cond_first,
                 UCtl ctl)
{
    if (init) ustmt(u, init, ctl);
    UCtl inner = ctl;
    int r = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (cond_first && cond) inner = under(inner, uexpr(u, cond, inner), cond);
        r = ustmt(u, body, inner);
        if (step) uexpr(u, step, inner);
        if (!cond_first && cond) inner = under(inner, uexpr(u, cond, inner), cond);
        if (!(r & DIV_LOOP) || inner.origin) break;
        inner = u->loop_div; /* a varying break/continue: later iterations diverge */
    }
    if (!cond_first && cond) {
        /* do-while: the body runs again under the (maybe varying) condition */
        ustmt(u, body, inner);
    }
    return r & ~DIV_LOOP;
}

static int ustmt(U *u, AstNode *n, UCtl ctl)
{
    if (!n) return 0;
    switch (n->kind) {
    case AST_BLOCK: {
        int bits = 0;
        for (int i = 0; i < n->nlist; i++) {
            int r = ustmt(u, n->list[i], ctl);
            bits |= r;
            if ((r & DIV_FUNC) && !ctl.origin) ctl = u->func_div;
            if ((r & DIV_LOOP) && !ctl.origin) ctl = u->loop_div;
        }
        return bits;
    }
    case AST_DECL: {
        AstNode *o = NULL;
        if (n->a) o = uexpr(u, n->a, ctl);
        for (int i = 0; i < n->nlist; i++) o = first(o, uexpr(u, n->list[i], ctl));
        if (n->sym && (n->a || n->nlist)) mark_var(u, n->sym, n, n, o, ctl);
        return 0;
    }
    case AST_EXPR: uexpr(u, n->a, ctl); return 0;
    case AST_IF: {
        UCtl inner = under(ctl, uexpr(u, n->a, ctl), n->a);
        return ustmt(u, n->b, inner) | ustmt(u, n->c, inner);
    }
    case AST_WHILE: return uloop(u, NULL, n->a, NULL, n->b, true, ctl);
    case AST_FOR: return uloop(u, n->a, n->b, n->c, n->d, true, ctl);
    case AST_DO: return uloop(u, NULL, n->a, NULL, n->b, false, ctl);
    case AST_BREAK:
    case AST_CONTINUE:
        if (!ctl.origin) return 0;
        u->loop_div = ctl;
        u->loop_div.at = n;
        u->loop_div.why = n->kind == AST_BREAK ? WHY_BREAK : WHY_CONTINUE;
        return DIV_LOOP;
    case AST_RETURN: {
        AstNode *o = uexpr(u, n->a, ctl);
        if (u->cur && !u->cur->ret_origin && (o || ctl.origin))
            u->cur->ret_origin = first(o, ctl.origin);
        if (!ctl.origin) return 0;
        u->func_div = ctl;
        u->func_div.at = n;
        u->func_div.why = WHY_RETURN;
        return DIV_FUNC;
    }
    default: return 0;
    }
}

static void analyse(U *u, UFunc *f, bool final)
{
    u->cur = f;
    u->vars.len = 0;
    for (int i = 0; i < f->decl->nlist; i++)
        if (f->param_origin[i]) {
            UCtl none = {0};
            mark_var(u, f->decl->list[i]->sym, NULL, NULL, f->param_origin[i], none);
        }
    UCtl none = {0};
    u->final = false;
    int guard = 0;
    do {
        u->changed = false;
        ustmt(u, f->decl->a, none);
    } while (u->changed && ++guard < 1000);
    if (final) {
        u->final = true;
        ustmt(u, f->decl->a, none);
        u->final = false;
    }
    u->cur = NULL;
}

static bool direct_barrier(const AstNode *n)
{
    if (!n) return false;
    if (n->kind == AST_CALL && n->builtin == BI_BARRIER) return true;
    if (direct_barrier(n->a) || direct_barrier(n->b) || direct_barrier(n->c) ||
        direct_barrier(n->d))
        return true;
    for (int i = 0; i < n->nlist; i++)
        if (direct_barrier(n->list[i])) return true;
    return false;
}

static void postorder(U *u, int v, bool *seen, int *order, int *no)
{
    seen[v] = true;
    Sema *s = u->s;
    for (int e = 0; e < s->calls.len; e++) {
        if (s->calls.data[e].caller != u->funcs[v].sym) continue;
        UFunc *w = ufunc(u, s->calls.data[e].callee);
        if (w && !seen[w - u->funcs]) postorder(u, (int)(w - u->funcs), seen, order, no);
    }
    order[(*no)++] = v;
}

const char *sema_expr_str(Sema *s, const AstNode *n)
{
    StrBuf sb = {0};
    sema_render_expr(&sb, n);
    const char *r = arena_strdup(s->a, sb.data ? sb.data : "");
    sb_free(&sb);
    return r;
}

static void report(U *u, const Violation *v)
{
    Sema *s = u->s;
    const char *src = sema_expr_str(s, v->ctl.origin);
    if (v->callee)
        diag_error(
            s->d, v->node->loc,
            "call to '%s', which reaches barrier(), must be reached by every work-item of the group, "
            "but this one is under control flow that depends on '%s'",
            v->callee->name, src);
    else
        diag_error(
            s->d, v->node->loc,
            "barrier() must be reached by every work-item of the group, but this one is under control flow "
            "that depends on '%s'",
            src);
    for (int i = 0; i < v->notes.len; i++)
        diag_note(s->d, v->notes.data[i].loc, "%s", v->notes.data[i].msg);
}

void sema_uniformity(Sema *s)
{
    U u = {0};
    u.s = s;
    TranslationUnit *tu = s->tu;
    u.funcs = arena_alloc(s->a, sizeof(UFunc) * (size_t)(tu->ndecls + 1));
    for (int i = 0; i < tu->ndecls; i++) {
        AstNode *d = tu->decls[i];
        if (d->kind != AST_FUNC || !d->a || !d->sym || d->sym->decl != d) continue;
        UFunc *f = &u.funcs[u.nfuncs++];
        f->decl = d;
        f->sym = d->sym;
        f->direct_barrier = f->has_barrier = direct_barrier(d->a);
        f->param_origin = arena_alloc(s->a, sizeof(AstNode *) * (size_t)(d->nlist + 1));
    }
    /* transitive barrier reach */
    for (bool again = true; again;) {
        again = false;
        for (int e = 0; e < s->calls.len; e++) {
            UFunc *a = ufunc(&u, s->calls.data[e].caller), *b = ufunc(&u, s->calls.data[e].callee);
            if (a && b && b->has_barrier && !a->has_barrier) a->has_barrier = again = true;
        }
    }
    bool *seen = arena_alloc(s->a, sizeof(bool) * (size_t)(u.nfuncs + 1));
    int *order = arena_alloc(s->a, sizeof(int) * (size_t)(u.nfuncs + 1));
    int no = 0;
    for (int i = 0; i < u.nfuncs; i++)
        if (!seen[i]) postorder(&u, i, seen, order, &no);
    /* phase A, callees first: what a function returns with uniform arguments */
    for (int i = 0; i < no; i++) analyse(&u, &u.funcs[order[i]], false);
    /* phase B, callers first: parameters as the calls pass them; final flags and errors */
    for (int i = no - 1; i >= 0; i--) analyse(&u, &u.funcs[order[i]], true);
    for (int i = 0; i < u.viol.len; i++) report(&u, &u.viol.data[i]);
}

/* ------------------------------------------------------------ rendering ---- */

static void render(StrBuf *sb, const AstNode *n, int depth)
{
    if (!n) return;
    if (depth > 6) {
        sb_puts(sb, "...");
        return;
    }
    switch (n->kind) {
    case AST_INT_LIT: sb_printf(sb, "%llu", (unsigned long long)n->lit.i); break;
    case AST_FLOAT_LIT: sb_printf(sb, "%g", n->lit.f); break;
    case AST_BOOL_LIT: sb_puts(sb, n->lit.i ? "true" : "false"); break;
    case AST_IDENT: sb_puts(sb, n->name); break;
    case AST_CALL:
        sb_printf(sb, "%s(", n->name);
        for (int i = 0; i < n->nlist; i++) {
            if (i) sb_puts(sb, ", ");
            render(sb, n->list[i], depth + 1);
        }
        sb_putc(sb, ')');
        break;
    case AST_INDEX:
        render(sb, n->a, depth + 1);
        sb_putc(sb, '[');
        render(sb, n->b, depth + 1);
        sb_putc(sb, ']');
        break;
    case AST_MEMBER:
        render(sb, n->a, depth + 1);
        sb_printf(sb, ".%s", n->name);
        break;
    case AST_UNARY:
        sb_putc(sb, (char)n->op);
        render(sb, n->a, depth + 1);
        break;
    case AST_CAST:
        if (!n->implicit && n->type) sb_printf(sb, "(%s)", n->type->name);
        render(sb, n->a, depth + 1);
        break;
    case AST_BINARY: {
        render(sb, n->a, depth + 1);
        sb_printf(sb, " %s ", ast_op_name(n->op));
        render(sb, n->b, depth + 1);
        break;
    }
    default: sb_puts(sb, "..."); break;
    }
}

void sema_render_expr(StrBuf *sb, const AstNode *n)
{
    render(sb, n, 0);
    if (!sb->data) sb_puts(sb, "");
}
