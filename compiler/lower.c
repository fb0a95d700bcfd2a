/* lower.c: AST (after sema) -> IR.
 *
 * Sema has resolved every name, inserted every implicit conversion and typed every
 * expression, so lowering is a direct walk:
 *  - local variables and by-value parameters become MEM_LOCAL slots (read with LOAD,
 *    written with STORE); pass_mem2reg turns the scalar ones into SSA values. So lowering
 *    itself never builds phis: `&&`, `||` and `?:` also go through a temporary slot.
 *  - buffer parameters are MEM_BUFFER references (id = parameter index), shared arrays
 *    MEM_SHARED; an lvalue becomes an Access (memory object + indices + constant path +
 *    an optional swizzle on top) that is loaded or stored in one instruction, so
 *    `p[i].pos.y = v` writes only that float.
 *  - pipelines become IrPipeline register programs (scalar locals are registers).
 * Unexpected AST shapes are internal errors: user errors were all reported by sema.
 */
#include "lower.h"

#include <string.h>

typedef struct LVar {
    IrMemKind kind; /* MEM_LOCAL / MEM_SHARED / MEM_BUFFER */
    int id;
    int reg; /* pipelines: register of a scalar local, or buffer slot */
} LVar;

typedef struct Lower {
    Arena *a;
    IrModule *m;
    DiagEngine *d;
    IrFunc *f;
    IrBlock *cur;
    Loc loc;
    VEC(IrBlock *) brk; /* innermost loop last: where break / continue go */
    VEC(IrBlock *) cont;
    /* pipelines */
    IrPipeline *p;
    int plabels;
    VEC(int) pbrk; /* pipelines: labels of the enclosing loops */
    VEC(int) pcont;
} Lower;

/* An lvalue: a memory element, maybe viewed through a swizzle or a dynamic vector index. */
typedef struct Access {
    IrMemRef mem;
    IrInst *idx[3 + IR_MAX_PATH]; /* the object's indices, then those of its path */
    Type *type;                   /* type of the element at mem+path */
    int swz[4];                   /* nswz > 0: components of `type` (a vector) */
    int nswz;
    IrInst *dyn; /* dynamic component index into the vector `type` */
} Access;

static IrInst *lower_expr(Lower *L, AstNode *n);
static void lower_stmt(Lower *L, AstNode *n);

/* ---- instruction helpers ---- */

static IrInst *emit(Lower *L, IrOp op, Type *t, IrInst *const *ops, int nops)
{
    IrInst *i = ir_inst_new(L->f, op, t, ops, nops);
    i->loc = L->loc;
    ir_append(L->cur, i);
    return i;
}

static IrInst *emit1(Lower *L, IrOp op, Type *t, IrInst *x) { return emit(L, op, t, &x, 1); }

static IrInst *emit2(Lower *L, IrOp op, Type *t, IrInst *x, IrInst *y)
{
    IrInst *ops[2] = {x, y};
    return emit(L, op, t, ops, 2);
}

static IrInst *cint(Lower *L, Type *t, uint64_t v)
{
    IrInst *i = ir_const_int(L->f, t, v);
    i->loc = L->loc;
    ir_append(L->cur, i);
    return i;
}

static IrInst *cfloat(Lower *L, Type *t, double v)
{
    IrInst *i = ir_const_float(L->f, t, v);
    i->loc = L->loc;
    ir_append(L->cur, i);
    return i;
}

/* A scalar constant of type t (scalar or vector: splatted) with value v. */
static IrInst *cnum(Lower *L, Type *t, double fv, uint64_t iv)
{
    Type *e = ty_elem(t);
    IrInst *c = e->kind == TY_FLOAT ? cfloat(L, e, fv) : cint(L, e, iv);
    return t->kind == TY_VEC ? emit1(L, IR_SPLAT, t, c) : c;
}

static bool terminated(Lower *L) { return ir_terminator(L->cur) != NULL; }

static void br(Lower *L, IrBlock *to)
{
    if (terminated(L)) return;
    IrInst *i = emit(L, IR_BR, ty_void, NULL, 0);
    i->target[0] = to;
}

static void cbr(Lower *L, IrInst *c, IrBlock *t, IrBlock *f)
{
    IrInst *i = emit1(L, IR_CBR, ty_void, c);
    i->target[0] = t;
    i->target[1] = f;
}

/* After return/break/continue: following code goes to a block nothing jumps to. */
static void dead_block(Lower *L) { L->cur = ir_block_new(L->f); }

static int new_local(Lower *L, const char *name, Type *t, Loc loc)
{
    IrSlot s = {name, t, loc};
    vec_push(L->a, &L->f->locals, s);
    return L->f->locals.len - 1;
}

static IrInst *load_slot(Lower *L, int slot)
{
    IrInst *i = emit(L, IR_LOAD, L->f->locals.data[slot].type, NULL, 0);
    i->mem.kind = MEM_LOCAL;
    i->mem.id = slot;
    return i;
}

static void store_slot(Lower *L, int slot, IrInst *v)
{
    IrInst *i = emit1(L, IR_STORE, ty_void, v);
    i->mem.kind = MEM_LOCAL;
    i->mem.id = slot;
}

/* ---- constants in the AST ---- */

static bool const_int(AstNode *n, int64_t *out)
{
    switch (n->kind) {
    case AST_INT_LIT:
    case AST_BOOL_LIT: *out = (int64_t)n->lit.i; return true;
    case AST_CAST: return ty_is_int(n->type) && const_int(n->a, out);
    case AST_UNARY:
        if (n->op == '-' && const_int(n->a, out)) {
            *out = -*out;
            return true;
        }
        return false;
    case AST_IDENT:
        if (n->sym && n->sym->kind == SYM_CONST && n->sym->value)
            return const_int(n->sym->value, out);
        return false;
    default: return false;
    }
}

/* ---- conversions ---- */

static IrInst *convert(Lower *L, IrInst *v, Type *to)
{
    Type *from = v->type;
    if (from == to) return v;
    if (to->kind == TY_VEC && from->kind != TY_VEC) /* scalar -> vector: convert, then splat */
        return emit1(L, IR_SPLAT, to, convert(L, v, to->elem));
    if (ty_elem(to)->kind == TY_BOOL && ty_elem(from)->kind != TY_BOOL) /* x != 0 */
        return emit2(L, IR_NE, to, v, cnum(L, from, 0.0, 0));
    if (!ty_is_scalar(ty_elem(from)) || !ty_is_scalar(ty_elem(to)) ||
        ty_width(from) != ty_width(to))
        ICE("cannot convert '%s' to '%s'", from->name, to->name);
    return emit1(L, IR_CONVERT, to, v);
}

/* ---- lvalues ---- */

static LVar *lvar(Symbol *s)
{
    if (!s || !s->lower) ICE("symbol '%s' has no storage", s ? s->name : "?");
    return s->lower;
}

static Type *access_type(const Access *acc)
{
    if (acc->dyn) return acc->type->elem;
    if (acc->nswz == 1) return acc->type->elem;
    if (acc->nswz > 1) return ty_vec(acc->type->elem, acc->nswz);
    return acc->type;
}

static void lower_lvalue(Lower *L, AstNode *n, Access *acc)
{
    switch (n->kind) {
    case AST_IDENT: {
        memset(acc, 0, sizeof *acc);
        LVar *v = lvar(n->sym);
        acc->mem.kind = v->kind;
        acc->mem.id = v->id;
        if (v->kind == MEM_BUFFER)
            acc->type = n->sym->type;
        else if (v->kind == MEM_SHARED)
            acc->type = L->f->shared.data[v->id].type;
        else
            acc->type = L->f->locals.data[v->id].type;
        return;
    }
    case AST_INDEX: {
        lower_lvalue(L, n->a, acc);
        if (acc->nswz || acc->dyn) ICE("indexing a swizzle");
        Type *t = acc->type;
        if (t->kind == TY_BUFFER || t->kind == TY_ARRAY) {
            if (acc->mem.npath) { /* an array field: a path step with an index operand */
                if (acc->mem.npath >= IR_MAX_PATH) ICE("access path too deep");
                acc->mem.path[acc->mem.npath++] = IR_PATH_INDEX;
            }
            acc->idx[acc->mem.nidx++] = lower_expr(L, n->b);
            acc->type = t->elem;
        } else if (t->kind == TY_VEC) {
            int64_t k;
            if (const_int(n->b, &k) && k >= 0 && k < t->n) {
                acc->swz[0] = (int)k;
                acc->nswz = 1;
            } else {
                acc->dyn = lower_expr(L, n->b);
            }
        } else {
            ICE("index into '%s'", t->name);
        }
        return;
    }
    case AST_MEMBER: {
        lower_lvalue(L, n->a, acc);
        if (n->field >= 0) {
            if (acc->type->kind != TY_STRUCT || acc->nswz || acc->dyn) ICE("bad field access");
            if (acc->mem.npath >= IR_MAX_PATH) ICE("access path too deep");
            acc->mem.path[acc->mem.npath++] = n->field;
            acc->type = acc->type->fields[n->field].type;
        } else if (acc->nswz) { /* swizzle of a swizzle: compose */
            int comp[4];
            for (int k = 0; k < n->nswz; k++) comp[k] = acc->swz[n->swz[k]];
            memcpy(acc->swz, comp, sizeof comp);
            acc->nswz = n->nswz;
        } else {
            memcpy(acc->swz, n->swz, sizeof acc->swz);
            acc->nswz = n->nswz;
        }
        return;
    }
    case AST_CAST:
        if (n->implicit && n->type == n->a->type) {
            lower_lvalue(L, n->a, acc);
            return;
        }
        break;
    default: break;
    }
    if (n->type && n->type->kind == TY_STRUCT) {
        /* a struct value (a call's result, a ?:) whose array field is indexed: through a
           temporary, since arrays are never SSA values */
        memset(acc, 0, sizeof *acc);
        acc->mem.kind = MEM_LOCAL;
        acc->mem.id = new_local(L, "struct.tmp", n->type, n->loc);
        acc->type = n->type;
        store_slot(L, acc->mem.id, lower_expr(L, n));
        return;
    }
    ICE("'%s' is not an lvalue", ast_kind_name(n->kind));
}

static IrInst *mem_inst(Lower *L, IrOp op, Type *t, const Access *acc, IrInst *const *extra,
                        int nextra)
{
    IrInst *ops[ARRAY_LEN(acc->idx) + 2];
    int n = 0;
    for (int k = 0; k < acc->mem.nidx; k++) ops[n++] = acc->idx[k];
    for (int k = 0; k < nextra; k++) ops[n++] = extra[k];
    IrInst *i = emit(L, op, t, ops, n);
    i->mem = acc->mem;
    return i;
}

/* v[i] for a vector value and a dynamic i: a chain of selects. */
static IrInst *dyn_extract(Lower *L, IrInst *vec, IrInst *idx)
{
    Type *e = vec->type->elem;
    IrInst *r = emit1(L, IR_EXTRACT, e, vec);
    r->idx = 0;
    for (int k = 1; k < vec->type->n; k++) {
        IrInst *x = emit1(L, IR_EXTRACT, e, vec);
        x->idx = k;
        IrInst *is = emit2(L, IR_EQ, ty_scalar(SC_BOOL), idx, cint(L, idx->type, (uint64_t)k));
        IrInst *ops[3] = {is, x, r};
        r = emit(L, IR_SELECT, e, ops, 3);
    }
    return r;
}

static IrInst *swizzle_value(Lower *L, IrInst *v, const int *swz, int nswz)
{
    if (nswz == 1) {
        IrInst *x = emit1(L, IR_EXTRACT, v->type->elem, v);
        x->idx = swz[0];
        return x;
    }
    IrInst *s = emit1(L, IR_SHUFFLE, ty_vec(v->type->elem, nswz), v);
    memcpy(s->mask, swz, sizeof(int) * (size_t)nswz);
    return s;
}

static IrInst *load_access(Lower *L, const Access *acc)
{
    if (acc->nswz == 1 && acc->mem.npath < IR_MAX_PATH) { /* one component: load just it */
        Access a1 = *acc;
        a1.mem.path[a1.mem.npath++] = acc->swz[0];
        a1.nswz = 0;
        a1.type = acc->type->elem;
        return mem_inst(L, IR_LOAD, a1.type, &a1, NULL, 0);
    }
    IrInst *v = mem_inst(L, IR_LOAD, acc->type, acc, NULL, 0);
    if (acc->dyn) return dyn_extract(L, v, acc->dyn);
    if (acc->nswz) return swizzle_value(L, v, acc->swz, acc->nswz);
    return v;
}

static void store_access(Lower *L, const Access *acc, IrInst *v)
{
    if (acc->nswz) { /* one scalar store per written component */
        for (int k = 0; k < acc->nswz; k++) {
            Access a1 = *acc;
            if (a1.mem.npath >= IR_MAX_PATH) ICE("access path too deep");
            a1.mem.path[a1.mem.npath++] = acc->swz[k];
            a1.nswz = 0;
            IrInst *c = v;
            if (acc->nswz > 1) {
                c = emit1(L, IR_EXTRACT, acc->type->elem, v);
                c->idx = k;
            }
            mem_inst(L, IR_STORE, ty_void, &a1, &c, 1);
        }
        return;
    }
    if (acc->dyn) { /* read-modify-write the vector with a select per component */
        Access whole = *acc;
        whole.dyn = NULL;
        IrInst *old = mem_inst(L, IR_LOAD, acc->type, &whole, NULL, 0);
        IrInst *r = old;
        for (int k = 0; k < acc->type->n; k++) {
            IrInst *ins = emit2(L, IR_INSERT, acc->type, r, v);
            ins->idx = k;
            IrInst *is =
                emit2(L, IR_EQ, ty_scalar(SC_BOOL), acc->dyn, cint(L, acc->dyn->type, (uint64_t)k));
            IrInst *ops[3] = {is, ins, r};
            r = emit(L, IR_SELECT, acc->type, ops, 3);
        }
        mem_inst(L, IR_STORE, ty_void, &whole, &r, 1);
        return;
    }
    mem_inst(L, IR_STORE, ty_void, acc, &v, 1);
}

/* ---- expressions ---- */

static IrOp binop(int op)
{
    switch (op) {
    case '+': return IR_ADD;
    case '-': return IR_SUB;
    case '*': return IR_MUL;
    case '/': return IR_DIV;
    case '%': return IR_REM;
    case '&': return IR_AND;
    case '|': return IR_OR;
    case '^': return IR_XOR;
    case OP_SHL: return IR_SHL;
    case OP_SHR: return IR_SHR;
    case OP_EQ: return IR_EQ;
    case OP_NE: return IR_NE;
    case '<': return IR_LT;
    case OP_LE: return IR_LE;
    case '>': return IR_GT;
    case OP_GE: return IR_GE;
    default: ICE("unknown binary operator %d", op);
    }
}

/* a && b, a || b and c ? x : y through a temporary slot (mem2reg makes the phi). */
static IrInst *lower_logical(Lower *L, AstNode *n)
{
    Type *bt = n->type;
    int slot = new_local(L, "logic.tmp", bt, n->loc);
    IrInst *a = lower_expr(L, n->a);
    store_slot(L, slot, a);
    IrBlock *rhs = ir_block_new(L->f), *join = ir_block_new(L->f);
    if (n->op == OP_ANDAND)
        cbr(L, a, rhs, join);
    else
        cbr(L, a, join, rhs);
    L->cur = rhs;
    store_slot(L, slot, lower_expr(L, n->b));
    br(L, join);
    L->cur = join;
    return load_slot(L, slot);
}

static IrInst *lower_cond(Lower *L, AstNode *n)
{
    int slot = new_local(L, "cond.tmp", n->type, n->loc);
    IrInst *c = lower_expr(L, n->a);
    IrBlock *bt = ir_block_new(L->f), *bf = ir_block_new(L->f), *join = ir_block_new(L->f);
    cbr(L, c, bt, bf);
    L->cur = bt;
    store_slot(L, slot, lower_expr(L, n->b));
    br(L, join);
    L->cur = bf;
    store_slot(L, slot, lower_expr(L, n->c));
    br(L, join);
    L->cur = join;
    return load_slot(L, slot);
}

static IrInst *arith(Lower *L, int op, Type *t, IrInst *x, IrInst *y)
{
    return emit2(L, binop(op), t, x, y);
}

static IrInst *lower_assign(Lower *L, AstNode *n)
{
    Access acc;
    if (n->op == '=') {
        IrInst *v = lower_expr(L, n->b);
        lower_lvalue(L, n->a, &acc);
        store_access(L, &acc, v);
        return v;
    }
    lower_lvalue(L, n->a, &acc);
    Type *lt = access_type(&acc);
    Type *ot = n->optype ? n->optype : lt;
    IrInst *old = load_access(L, &acc);
    IrInst *rhs = lower_expr(L, n->b);
    IrInst *r = arith(L, n->op, ot, convert(L, old, ot), convert(L, rhs, ot));
    r = convert(L, r, lt);
    store_access(L, &acc, r);
    return r;
}

static IrInst *lower_incdec(Lower *L, AstNode *n)
{
    Access acc;
    lower_lvalue(L, n->a, &acc);
    Type *t = access_type(&acc);
    IrInst *old = load_access(L, &acc);
    IrInst *one = cnum(L, t, 1.0, 1);
    IrInst *nv = emit2(L, n->op == OP_INC ? IR_ADD : IR_SUB, t, old, one);
    store_access(L, &acc, nv);
    return n->is_postfix ? old : nv;
}

static int buffer_param_of(Lower *L, AstNode *arg)
{
    while (arg->kind == AST_CAST && arg->implicit) arg = arg->a;
    if (arg->kind != AST_IDENT) ICE("buffer argument is not a name");
    LVar *v = lvar(arg->sym);
    if (v->kind != MEM_BUFFER) ICE("'%s' is not a buffer", arg->name);
    return v->id;
}

static IrInst *lower_builtin(Lower *L, AstNode *n)
{
    const BuiltinInfo *bi = &builtin_info[n->builtin];
    switch (bi->cls) {
    case BK_WORKITEM: {
        int64_t d = 0;
        if (!const_int(n->list[0], &d) || d < 0 || d > 2) ICE("work-item dimension is not 0..2");
        IrInst *i = emit(L, IR_WORKITEM, ty_scalar(SC_UINT), NULL, 0);
        i->builtin = n->builtin;
        i->dim = (int)d;
        return i;
    }
    case BK_BARRIER: return emit(L, IR_BARRIER, ty_void, NULL, 0);
    case BK_LEN: {
        IrInst *i = emit(L, IR_BUFLEN, ty_scalar(SC_UINT), NULL, 0);
        i->mem.kind = MEM_BUFFER;
        i->mem.id = buffer_param_of(L, n->list[0]);
        return i;
    }
    case BK_ATOMIC:
    case BK_CAS: {
        Access acc;
        lower_lvalue(L, n->list[0], &acc);
        if (acc.nswz || acc.dyn || acc.mem.kind == MEM_LOCAL) ICE("atomic on a non-memory lvalue");
        IrInst *vals[2];
        int nv = 0;
        for (int k = 1; k < n->nlist; k++) vals[nv++] = lower_expr(L, n->list[k]);
        IrInst *i = mem_inst(L, IR_ATOMIC, n->type, &acc, vals, nv);
        i->builtin = n->builtin;
        return i;
    }
    default: {
        IrInst *ops[3];
        for (int k = 0; k < n->nlist; k++) ops[k] = lower_expr(L, n->list[k]);
        IrInst *i = emit(L, IR_BUILTIN, n->type, ops, n->nlist);
        i->builtin = n->builtin;
        return i;
    }
    }
}

static IrInst *lower_ctor(Lower *L, AstNode *n)
{
    Type *t = n->ctor;
    IrInst *vals[16];
    int nv = 0;
    for (int k = 0; k < n->nlist; k++) {
        IrInst *v = lower_expr(L, n->list[k]);
        if (v->type->kind == TY_VEC) {
            for (int c = 0; c < v->type->n && nv < 16; c++) {
                IrInst *x = emit1(L, IR_EXTRACT, v->type->elem, v);
                x->idx = c;
                vals[nv++] = convert(L, x, t->elem);
            }
        } else if (nv < 16) {
            vals[nv++] = convert(L, v, t->elem);
        }
    }
    if (nv == 1) return emit1(L, IR_SPLAT, t, vals[0]);
    if (nv != t->n) ICE("constructor %s with %d components", t->name, nv);
    return emit(L, IR_VECTOR, t, vals, nv);
}

static IrInst *lower_call(Lower *L, AstNode *n)
{
    if (n->builtin != BI_NONE) return lower_builtin(L, n);
    if (n->ctor) return lower_ctor(L, n);
    if (!n->sym || n->sym->kind != SYM_FUNC) ICE("call of '%s' is unresolved", n->name);
    IrFunc *callee = n->sym->lower;
    if (!callee) ICE("call of undefined function '%s'", n->name);
    IrInst **vals = arena_alloc(L->a, sizeof(IrInst *) * (size_t)(n->nlist + 1));
    int *bufargs = arena_alloc(L->a, sizeof(int) * (size_t)(callee->nparams + 1));
    int nv = 0;
    for (int k = 0; k < callee->nparams; k++) {
        if (callee->params[k].type->kind == TY_BUFFER) {
            bufargs[k] = buffer_param_of(L, n->list[k]);
        } else {
            bufargs[k] = -1;
            vals[nv++] = lower_expr(L, n->list[k]);
        }
    }
    IrInst *i = emit(L, IR_CALL, callee->ret, vals, nv);
    i->callee = callee;
    i->bufargs = bufargs;
    return i;
}

static IrInst *lower_expr(Lower *L, AstNode *n)
{
    Loc saved = L->loc;
    L->loc = n->loc;
    IrInst *r = NULL;
    switch (n->kind) {
    case AST_INT_LIT:
    case AST_BOOL_LIT: { /* (sema retypes literals in float context as float literals) */
        bool uns = (n->op & LIT_U) || !ty_elem(n->type)->is_signed;
        r = cnum(L, n->type, uns ? (double)n->lit.i : (double)(int64_t)n->lit.i, n->lit.i);
        break;
    }
    case AST_FLOAT_LIT:
        if (ty_elem(n->type)->kind != TY_FLOAT) ICE("float literal of type '%s'", n->type->name);
        r = cnum(L, n->type, n->lit.f, 0);
        break;
    case AST_IDENT: {
        Symbol *s = n->sym;
        if (!s) ICE("unresolved identifier '%s'", n->name);
        if (s->kind == SYM_CONST) {
            r = lower_expr(L, s->value ? s->value : s->decl->a);
            r = convert(L, r, n->type);
            break;
        }
        LVar *v = lvar(s);
        if (v->kind != MEM_LOCAL) ICE("'%s' used as a value", n->name);
        r = load_slot(L, v->id);
        break;
    }
    case AST_UNARY: {
        IrInst *x = lower_expr(L, n->a);
        switch (n->op) {
        case '+': r = x; break;
        case '-': r = emit1(L, IR_NEG, n->type, x); break;
        case '!':
        case '~': r = emit1(L, IR_NOT, n->type, x); break;
        default: ICE("unary operator %d", n->op);
        }
        break;
    }
    case AST_INCDEC: r = lower_incdec(L, n); break;
    case AST_BINARY:
        if (n->op == OP_ANDAND || n->op == OP_OROR) {
            r = lower_logical(L, n);
        } else {
            IrInst *x = lower_expr(L, n->a);
            IrInst *y = lower_expr(L, n->b);
            r = arith(L, n->op, n->type, x, y);
        }
        break;
    case AST_ASSIGN: r = lower_assign(L, n); break;
    case AST_COND: r = lower_cond(L, n); break;
    case AST_CALL: r = lower_call(L, n); break;
    case AST_INDEX:
    case AST_MEMBER:
        if (n->a->is_lvalue || n->a->kind == AST_IDENT ||
            (n->kind == AST_INDEX && n->a->type->kind == TY_ARRAY)) {
            Access acc;
            lower_lvalue(L, n, &acc);
            r = load_access(L, &acc);
        } else { /* element of a value */
            IrInst *base = lower_expr(L, n->a);
            if (n->kind == AST_MEMBER && n->field >= 0) {
                r = emit1(L, IR_EXTRACT, n->type, base);
                r->idx = n->field;
            } else if (n->kind == AST_MEMBER) {
                r = swizzle_value(L, base, n->swz, n->nswz);
            } else {
                int64_t k;
                if (const_int(n->b, &k) && k >= 0 && k < ty_width(base->type)) {
                    r = emit1(L, IR_EXTRACT, n->type, base);
                    r->idx = (int)k;
                } else {
                    r = dyn_extract(L, base, lower_expr(L, n->b));
                }
            }
        }
        break;
    case AST_CAST: r = convert(L, lower_expr(L, n->a), n->type); break;
    default: ICE("unexpected %s in an expression", ast_kind_name(n->kind));
    }
    L->loc = saved;
    return r;
}

/* ---- statements ---- */

static void lower_decl(Lower *L, AstNode *n)
{
    Symbol *s = n->sym;
    LVar *v = arena_alloc(L->a, sizeof *v);
    s->lower = v;
    Type *t = n->type ? n->type : s->type;
    if (n->is_shared) {
        IrSlot slot = {n->name, t, n->loc};
        vec_push(L->a, &L->f->shared, slot);
        v->kind = MEM_SHARED;
        v->id = L->f->shared.len - 1;
        return;
    }
    v->kind = MEM_LOCAL;
    v->id = new_local(L, n->name, t, n->loc);
    if (n->a) {
        store_slot(L, v->id, lower_expr(L, n->a));
    } else if (n->nlist) { /* brace initializer of an array: element by element */
        for (int k = 0; k < n->nlist; k++) {
            IrInst *val = lower_expr(L, n->list[k]);
            IrInst *idx = cint(L, ty_scalar(SC_UINT), (uint64_t)k);
            IrInst *ops[2] = {idx, val};
            IrInst *st = emit(L, IR_STORE, ty_void, ops, 2);
            st->mem.kind = MEM_LOCAL;
            st->mem.id = v->id;
            st->mem.nidx = 1;
        }
    }
}

static void push_loop(Lower *L, IrBlock *brk, IrBlock *cont)
{
    vec_push(L->a, &L->brk, brk);
    vec_push(L->a, &L->cont, cont);
}

static void lower_stmt(Lower *L, AstNode *n)
{
    if (!n) return;
    L->loc = n->loc;
    switch (n->kind) {
    case AST_BLOCK:
        for (int k = 0; k < n->nlist; k++) lower_stmt(L, n->list[k]);
        break;
    case AST_DECL: lower_decl(L, n); break;
    case AST_EXPR: lower_expr(L, n->a); break;
    case AST_EMPTY:
    case AST_TYPEDEF: break;
    case AST_IF: {
        IrInst *c = lower_expr(L, n->a);
        IrBlock *bt = ir_block_new(L->f), *join = ir_block_new(L->f);
        IrBlock *bf = n->c ? ir_block_new(L->f) : join;
        cbr(L, c, bt, bf);
        L->cur = bt;
        lower_stmt(L, n->b);
        br(L, join);
        if (n->c) {
            L->cur = bf;
            lower_stmt(L, n->c);
            br(L, join);
        }
        L->cur = join;
        break;
    }
    case AST_WHILE:
    case AST_FOR: {
        AstNode *init = n->kind == AST_FOR ? n->a : NULL;
        AstNode *cond = n->kind == AST_FOR ? n->b : n->a;
        AstNode *step = n->kind == AST_FOR ? n->c : NULL;
        AstNode *body = n->kind == AST_FOR ? n->d : n->b;
        if (init) lower_stmt(L, init);
        IrBlock *head = ir_block_new(L->f), *bbody = ir_block_new(L->f);
        IrBlock *bstep = ir_block_new(L->f), *exit = ir_block_new(L->f);
        br(L, head);
        L->cur = head;
        if (cond)
            cbr(L, lower_expr(L, cond), bbody, exit);
        else
            br(L, bbody);
        L->cur = bbody;
        push_loop(L, exit, bstep);
        lower_stmt(L, body);
        L->brk.len--, L->cont.len--;
        br(L, bstep);
        L->cur = bstep;
        if (step) lower_expr(L, step);
        br(L, head);
        L->cur = exit;
        break;
    }
    case AST_DO: {
        IrBlock *bbody = ir_block_new(L->f), *bcond = ir_block_new(L->f),
                *exit = ir_block_new(L->f);
        br(L, bbody);
        L->cur = bbody;
        push_loop(L, exit, bcond);
        lower_stmt(L, n->b);
        L->brk.len--, L->cont.len--;
        br(L, bcond);
        L->cur = bcond;
        cbr(L, lower_expr(L, n->a), bbody, exit);
        L->cur = exit;
        break;
    }
    case AST_BREAK:
    case AST_CONTINUE:
        if (L->brk.len == 0) ICE("break/continue outside a loop");
        br(L, n->kind == AST_BREAK ? L->brk.data[L->brk.len - 1] : L->cont.data[L->cont.len - 1]);
        dead_block(L);
        break;
    case AST_RETURN: {
        IrInst *v = n->a ? lower_expr(L, n->a) : NULL;
        emit(L, IR_RET, ty_void, v ? &v : NULL, v ? 1 : 0);
        dead_block(L);
        break;
    }
    default: ICE("unexpected %s in a function body", ast_kind_name(n->kind));
    }
}

/* ---- functions ---- */

static IrFunc *declare_func(Lower *L, AstNode *fn)
{
    IrParam *ps = arena_alloc(L->a, sizeof(IrParam) * (size_t)(fn->nlist + 1));
    for (int k = 0; k < fn->nlist; k++) {
        AstNode *p = fn->list[k];
        ps[k].name = p->name;
        ps[k].type = p->sym ? p->sym->type : p->type;
        ps[k].loc = p->loc;
    }
    Type *ret = fn->tspec && fn->tspec->resolved ? fn->tspec->resolved : ty_void;
    IrFunc *f = ir_func_new(L->m, fn->name, fn->is_kernel, ret, ps, fn->nlist);
    f->loc = fn->loc;
    if (fn->is_kernel && fn->has_wg) {
        f->has_wg = true;
        for (int d = 0; d < 3; d++) f->wg[d] = fn->wg[d] ? fn->wg[d] : 1;
    }
    return f;
}

static void lower_func(Lower *L, AstNode *fn, IrFunc *f)
{
    ice_context(fn->name);
    L->f = f;
    L->brk.len = L->cont.len = 0;
    L->loc = fn->loc;
    L->cur = ir_block_new(f);
    for (int k = 0; k < fn->nlist; k++) {
        Symbol *s = fn->list[k]->sym;
        LVar *v = arena_alloc(L->a, sizeof *v);
        s->lower = v;
        if (f->params[k].type->kind == TY_BUFFER) {
            v->kind = MEM_BUFFER;
            v->id = k;
        } else { /* by-value parameters are assignable: copy into a slot */
            v->kind = MEM_LOCAL;
            v->id = new_local(L, f->params[k].name, f->params[k].type, f->params[k].loc);
            IrInst *pv = emit(L, IR_PARAM, f->params[k].type, NULL, 0);
            pv->param = k;
            store_slot(L, v->id, pv);
        }
    }
    lower_stmt(L, fn->a);
    if (!terminated(L)) {
        if (f->ret == ty_void) {
            emit(L, IR_RET, ty_void, NULL, 0);
        } else { /* sema proved every path returns: the end is unreachable */
            emit(L, IR_UNREACHABLE, ty_void, NULL, 0);
        }
    }
    ir_recompute_preds(f);
    ir_remove_unreachable_blocks(f);
    ice_context(NULL);
}

/* ---- pipelines ---- */

static bool reg_is_float(Type *t) { return ty_elem(t)->kind == TY_FLOAT; }

static int new_reg(Lower *L) { return L->p->nregs++; }

static IrPStep *pstep(Lower *L, IrPStepKind kind)
{
    IrPStep s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.loc = L->loc;
    vec_push(L->a, &L->p->steps, s);
    return &L->p->steps.data[L->p->steps.len - 1];
}

static int pconst(Lower *L, Type *t, uint64_t bits)
{
    int r = new_reg(L);
    IrPStep *s = pstep(L, PS_CONST);
    s->dst = r;
    s->imm = bits;
    s->type = t;
    return r;
}

static int pbin(Lower *L, int op, int a, int b)
{
    int r = new_reg(L);
    IrPStep *s = pstep(L, PS_BIN);
    s->op = op;
    s->dst = r;
    s->a = a;
    s->b = b;
    return r;
}

static int pun(Lower *L, int op, int a)
{
    int r = new_reg(L);
    IrPStep *s = pstep(L, PS_UN);
    s->op = op;
    s->dst = r;
    s->a = a;
    return r;
}

/* Keeps an integer register within the range of a 32-bit (or narrower) type, a float
 * register within float precision: registers are 64-bit, the language's types are not. */
static int pwrap(Lower *L, Type *t, int r)
{
    t = ty_elem(t);
    if (t->kind == TY_INT && t->bits <= 32)
        return pun(L, t->is_signed ? DCK_POPU_TRUNC32S : DCK_POPU_TRUNC32U, r);
    if (t->kind == TY_BOOL) return r;
    if (t->kind == TY_FLOAT && t->bits <= 32) return pun(L, DCK_POPU_F2F32, r);
    return r;
}

static int plabel(Lower *L) { return L->plabels++; }

static void pmark(Lower *L, int label) { pstep(L, PS_LABEL)->a = label; }

static void pjmp(Lower *L, int label) { pstep(L, PS_JMP)->a = label; }

static void pjz(Lower *L, int reg, int label)
{
    IrPStep *s = pstep(L, PS_JZ);
    s->a = label;
    s->b = reg;
}

static int pexpr(Lower *L, AstNode *n);

/* Copies register src into dst (registers of pipeline locals are mutable). */
static void pmove(Lower *L, int dst, int src)
{
    if (dst == src) return;
    IrPStep *s = pstep(L, PS_UN);
    s->op = DCK_POPU_MOV;
    s->dst = dst;
    s->a = src;
}

static int pbinop(Lower *L, AstNode *n, int op, Type *t, int a, int b)
{
    bool f = reg_is_float(t);
    bool s = ty_elem(t)->is_signed;
    int code;
    switch (op) {
    case '+': code = f ? DCK_POPB_FADD : DCK_POPB_IADD; break;
    case '-': code = f ? DCK_POPB_FSUB : DCK_POPB_ISUB; break;
    case '*': code = f ? DCK_POPB_FMUL : DCK_POPB_IMUL; break;
    case '/': code = f ? DCK_POPB_FDIV : s ? DCK_POPB_SDIV : DCK_POPB_UDIV; break;
    case '%': code = s ? DCK_POPB_SREM : DCK_POPB_UREM; break;
    case '&':
    case OP_ANDAND: code = DCK_POPB_AND; break;
    case '|':
    case OP_OROR: code = DCK_POPB_OR; break;
    case '^': code = DCK_POPB_XOR; break;
    case OP_SHL: code = DCK_POPB_SHL; break;
    case OP_SHR: code = s ? DCK_POPB_SSHR : DCK_POPB_USHR; break;
    case OP_EQ: return pbin(L, f ? DCK_POPB_FEQ : DCK_POPB_IEQ, a, b);
    case OP_NE: return pbin(L, f ? DCK_POPB_FNE : DCK_POPB_INE, a, b);
    case '<': return pbin(L, f ? DCK_POPB_FLT : s ? DCK_POPB_SLT : DCK_POPB_ULT, a, b);
    case OP_LE: return pbin(L, f ? DCK_POPB_FLE : s ? DCK_POPB_SLE : DCK_POPB_ULE, a, b);
    case '>': return pbin(L, f ? DCK_POPB_FLT : s ? DCK_POPB_SLT : DCK_POPB_ULT, b, a);
    case OP_GE: return pbin(L, f ? DCK_POPB_FLE : s ? DCK_POPB_SLE : DCK_POPB_ULE, b, a);
    default: diag_error(L->d, n->loc, "this operator is not supported in a pipeline"); return a;
    }
    return pwrap(L, t, pbin(L, code, a, b));
}

static int pconvert(Lower *L, int r, Type *from, Type *to)
{
    from = ty_elem(from);
    to = ty_elem(to);
    if (from == to) return r;
    bool ff = from->kind == TY_FLOAT, tf = to->kind == TY_FLOAT;
    if (to->kind == TY_BOOL) {
        int z = ff ? pconst(L, from, 0) : pconst(L, from, 0);
        return pbin(L, ff ? DCK_POPB_FNE : DCK_POPB_INE, r, z);
    }
    if (ff && tf) return pwrap(L, to, r);
    if (!ff && tf)
        return pwrap(
            L, to,
            pun(L, from->is_signed || from->kind == TY_BOOL ? DCK_POPU_S2F : DCK_POPU_U2F, r));
    if (ff && !tf) return pwrap(L, to, pun(L, to->is_signed ? DCK_POPU_F2S : DCK_POPU_F2U, r));
    return pwrap(L, to, r);
}

static int pexpr(Lower *L, AstNode *n)
{
    L->loc = n->loc;
    switch (n->kind) {
    case AST_INT_LIT:
    case AST_BOOL_LIT:
        if (reg_is_float(n->type)) {
            double v = (double)(int64_t)n->lit.i;
            uint64_t bits;
            memcpy(&bits, &v, 8);
            return pconst(L, n->type, bits);
        }
        return pconst(L, n->type, n->lit.i);
    case AST_FLOAT_LIT: {
        double v = n->lit.f;
        if (ty_elem(n->type)->bits <= 32) v = (double)(float)v;
        uint64_t bits;
        memcpy(&bits, &v, 8);
        return pconst(L, n->type, bits);
    }
    case AST_IDENT: {
        Symbol *s = n->sym;
        if (s->kind == SYM_CONST) return pexpr(L, s->value ? s->value : s->decl->a);
        if (s->kind == SYM_PARAM) {
            int r = new_reg(L);
            IrPStep *st = pstep(L, PS_PARAM);
            st->dst = r;
            st->a = s->index;
            st->type = s->type;
            return r;
        }
        LVar *v = lvar(s);
        return v->reg;
    }
    case AST_CAST: return pconvert(L, pexpr(L, n->a), n->a->type, n->type);
    case AST_UNARY: {
        int a = pexpr(L, n->a);
        switch (n->op) {
        case '+': return a;
        case '-':
            return pwrap(L, n->type,
                         pun(L, reg_is_float(n->type) ? DCK_POPU_FNEG : DCK_POPU_INEG, a));
        case '!': return pun(L, DCK_POPU_LNOT, a);
        case '~': return pwrap(L, n->type, pun(L, DCK_POPU_NOT, a));
        }
        break;
    }
    case AST_BINARY: {
        int a = pexpr(L, n->a), b = pexpr(L, n->b);
        return pbinop(L, n, n->op, n->a->type, a, b);
    }
    case AST_COND: {
        int r = new_reg(L), lf = plabel(L), lend = plabel(L);
        int c = pexpr(L, n->a);
        pjz(L, c, lf);
        pmove(L, r, pexpr(L, n->b));
        pjmp(L, lend);
        pmark(L, lf);
        pmove(L, r, pexpr(L, n->c));
        pmark(L, lend);
        return r;
    }
    case AST_CALL:
        if (n->builtin == BI_LEN) {
            AstNode *b = n->list[0];
            while (b->kind == AST_CAST) b = b->a;
            int r = new_reg(L);
            IrPStep *st = pstep(L, PS_LEN);
            st->dst = r;
            st->a = lvar(b->sym)->reg;
            return r;
        }
        if ((n->builtin == BI_MIN || n->builtin == BI_MAX) && n->nlist == 2 &&
            ty_is_scalar(n->type)) {
            int a = pexpr(L, n->list[0]), b = pexpr(L, n->list[1]);
            bool f = reg_is_float(n->type), s = n->type->is_signed;
            int op = n->builtin == BI_MIN ? (f   ? DCK_POPB_FMIN
                                             : s ? DCK_POPB_SMIN
                                                 : DCK_POPB_UMIN)
                                          : (f   ? DCK_POPB_FMAX
                                             : s ? DCK_POPB_SMAX
                                                 : DCK_POPB_UMAX);
            return pbin(L, op, a, b);
        }
        break;
    default: break;
    }
    diag_error(
        L->d, n->loc,
        "this expression is not supported in a pipeline (only scalar arithmetic, len(), min() and max())");
    return pconst(L, n->type ? n->type : ty_scalar(SC_INT), 0);
}

static void plaunch(Lower *L, AstNode *n)
{
    Symbol *ks = n->sym;
    IrFunc *k = ks ? ks->lower : NULL;
    if (!k || !k->is_kernel) ICE("launch of '%s' is unresolved", n->name);
    int g[3] = {0, 0, 0}, lc[3] = {0, 0, 0}, nd = 1;
    AstNode *dims[2] = {n->a, n->b};
    for (int w = 0; w < 2; w++) {
        AstNode *e = dims[w];
        if (!e) continue;
        while (e->kind == AST_CAST && e->implicit && ty_width(e->type) == ty_width(e->a->type))
            e = e->a;
        int *out = w == 0 ? g : lc;
        if (e->kind == AST_CALL && e->ctor) {
            if (e->nlist != e->ctor->n)
                ICE("launch size constructor needs one value per dimension");
            for (int d = 0; d < e->nlist; d++)
                out[d] = pconvert(L, pexpr(L, e->list[d]), e->list[d]->type, ty_scalar(SC_UINT));
            if (w == 0) nd = e->nlist;
        } else {
            out[0] = pconvert(L, pexpr(L, e), e->type, ty_scalar(SC_UINT));
        }
    }
    IrPArg *args = arena_alloc(L->a, sizeof(IrPArg) * (size_t)(k->nparams + 1));
    for (int i = 0; i < k->nparams; i++) {
        AstNode *arg = n->list[i];
        Type *pt = k->params[i].type;
        AstNode *base = arg;
        while (base->kind == AST_CAST && base->implicit && base->type == base->a->type)
            base = base->a;
        if (pt->kind == TY_BUFFER) {
            while (base->kind == AST_CAST) base = base->a;
            args[i].kind = PA_BUF;
            args[i].x = lvar(base->sym)->reg;
            args[i].type = pt;
        } else if (base->kind == AST_IDENT && base->sym->kind == SYM_PARAM &&
                   base->sym->type == pt) {
            args[i].kind = PA_PARAM;
            args[i].x = base->sym->index;
            args[i].type = pt;
        } else if (ty_is_scalar(pt)) {
            args[i].kind = PA_REG;
            args[i].x = pconvert(L, pexpr(L, arg), arg->type, pt);
            args[i].type = pt;
        } else {
            diag_error(L->d, arg->loc,
                       "a pipeline can pass '%s' to a kernel only as one of its own parameters",
                       pt->name);
        }
    }
    L->loc = n->loc;
    IrPStep *s = pstep(L, PS_LAUNCH);
    s->kernel = k;
    s->ndims = nd;
    memcpy(s->global, g, sizeof g);
    memcpy(s->local, lc, sizeof lc);
    s->has_local = n->b != NULL;
    s->args = args;
    s->nargs = k->nparams;
}

static void pstmt(Lower *L, AstNode *n);

static void pblock(Lower *L, AstNode *n)
{
    int first_temp = L->p->temps.len;
    for (int k = 0; k < n->nlist; k++) pstmt(L, n->list[k]);
    /* temporaries declared in this block die at its end (the runtime also frees all at exit) */
    for (int t = L->p->temps.len - 1; t >= first_temp; t--)
        pstep(L, PS_FREE)->a = L->p->nparams + t;
}

static void passign(Lower *L, AstNode *n)
{
    AstNode *lhs = n->a;
    if (lhs->kind != AST_IDENT || !lhs->sym || lhs->sym->kind != SYM_VAR) {
        diag_error(L->d, lhs->loc, "a pipeline can assign only to its scalar local variables");
        return;
    }
    int dst = lvar(lhs->sym)->reg;
    Type *t = lhs->type;
    int v;
    if (n->kind == AST_INCDEC) {
        int one = reg_is_float(t) ? pconst(L, t, 0x3ff0000000000000ull) : pconst(L, t, 1);
        v = pbinop(L, n, n->op == OP_INC ? '+' : '-', t, dst, one);
    } else if (n->op == '=') {
        v = pexpr(L, n->b);
    } else {
        Type *ot = n->optype ? n->optype : t;
        int a = pconvert(L, dst, t, ot);
        int b = pconvert(L, pexpr(L, n->b), n->b->type, ot);
        v = pconvert(L, pbinop(L, n, n->op, ot, a, b), ot, t);
    }
    pmove(L, dst, v);
}

static void pstmt(Lower *L, AstNode *n)
{
    if (!n) return;
    L->loc = n->loc;
    switch (n->kind) {
    case AST_BLOCK: pblock(L, n); break;
    case AST_EMPTY:
    case AST_TYPEDEF: break;
    case AST_DECL: {
        Symbol *s = n->sym;
        LVar *v = arena_alloc(L->a, sizeof *v);
        s->lower = v;
        if (s->kind == SYM_TEMP || (n->type && n->type->kind == TY_BUFFER)) {
            Type *bt = n->type && n->type->kind == TY_BUFFER ? n->type : s->type;
            IrSlot slot = {n->name, bt, n->loc};
            vec_push(L->a, &L->p->temps, slot);
            v->reg = L->p->nparams + L->p->temps.len - 1;
            int count = pconvert(L, pexpr(L, n->dims[0]), n->dims[0]->type, ty_scalar(SC_ULONG));
            IrPStep *st = pstep(L, PS_ALLOC);
            st->a = v->reg;
            st->b = count;
            st->type = bt->elem;
        } else {
            v->reg = new_reg(L);
            if (n->a)
                pmove(L, v->reg, pexpr(L, n->a));
            else
                pmove(L, v->reg, pconst(L, n->type, 0));
        }
        break;
    }
    case AST_EXPR:
        if (n->a->kind == AST_LAUNCH)
            plaunch(L, n->a);
        else if (n->a->kind == AST_ASSIGN || n->a->kind == AST_INCDEC)
            passign(L, n->a);
        else
            pexpr(L, n->a);
        break;
    case AST_IF: {
        int lelse = plabel(L), lend = plabel(L);
        pjz(L, pexpr(L, n->a), lelse);
        pstmt(L, n->b);
        pjmp(L, lend);
        pmark(L, lelse);
        pstmt(L, n->c);
        pmark(L, lend);
        break;
    }
    case AST_FOR:
    case AST_WHILE: {
        AstNode *cond = n->kind == AST_FOR ? n->b : n->a;
        AstNode *body = n->kind == AST_FOR ? n->d : n->b;
        if (n->kind == AST_FOR && n->a) pstmt(L, n->a);
        int lhead = plabel(L), lstep = plabel(L), lend = plabel(L);
        pmark(L, lhead);
        if (cond) pjz(L, pexpr(L, cond), lend);
        vec_push(L->a, &L->pbrk, lend);
        vec_push(L->a, &L->pcont, lstep);
        pstmt(L, body);
        L->pbrk.len--, L->pcont.len--;
        pmark(L, lstep);
        if (n->kind == AST_FOR && n->c) {
            if (n->c->kind == AST_ASSIGN || n->c->kind == AST_INCDEC)
                passign(L, n->c);
            else
                pexpr(L, n->c);
        }
        pjmp(L, lhead);
        pmark(L, lend);
        break;
    }
    case AST_BREAK:
    case AST_CONTINUE:
        if (!L->pbrk.len) ICE("break outside a loop");
        pjmp(L, n->kind == AST_BREAK ? L->pbrk.data[L->pbrk.len - 1]
                                     : L->pcont.data[L->pcont.len - 1]);
        break;
    case AST_RETURN:
        pjmp(L, 0); /* label 0 is the end of the pipeline */
        break;
    default: diag_error(L->d, n->loc, "this statement is not allowed in a pipeline"); break;
    }
}

static void lower_pipeline(Lower *L, AstNode *pn)
{
    ice_context(pn->name);
    IrPipeline *p = arena_alloc(L->a, sizeof *p);
    p->name = pn->name;
    p->loc = pn->loc;
    p->nparams = pn->nlist;
    p->params = arena_alloc(L->a, sizeof(IrParam) * (size_t)(pn->nlist + 1));
    for (int k = 0; k < pn->nlist; k++) {
        AstNode *pa = pn->list[k];
        p->params[k].name = pa->name;
        p->params[k].type = pa->sym->type;
        p->params[k].loc = pa->loc;
        LVar *v = arena_alloc(L->a, sizeof *v);
        v->kind = MEM_BUFFER;
        v->reg = k; /* buffer slot k */
        pa->sym->lower = v;
    }
    L->p = p;
    L->plabels = 1; /* label 0: end */
    L->pbrk.len = L->pcont.len = 0;
    pstmt(L, pn->a);
    pmark(L, 0);
    vec_push(L->a, &L->m->pipelines, p);
    L->p = NULL;
    ice_context(NULL);
}

IrModule *lower_module(Arena *a, DiagEngine *d, TranslationUnit *tu)
{
    Lower L;
    memset(&L, 0, sizeof L);
    L.a = a;
    L.d = d;
    L.m = ir_module_new(a);
    L.m->files = arena_alloc(a, sizeof(char *) * (size_t)(d->files.len + 1));
    for (int k = 0; k < d->files.len; k++) L.m->files[k] = d->files.data[k].path;
    L.m->nfiles = d->files.len;
    if (d->files.len) L.m->source_name = d->files.data[0].path;
    /* declare every defined function first (calls may precede definitions via prototypes) */
    for (int k = 0; k < tu->ndecls; k++) {
        AstNode *n = tu->decls[k];
        if (n->kind == AST_STRUCT && n->type) vec_push(a, &L.m->structs, n->type);
        if (n->kind == AST_FUNC && n->a && n->sym) n->sym->lower = declare_func(&L, n);
    }
    for (int k = 0; k < tu->ndecls; k++) {
        AstNode *n = tu->decls[k];
        if (n->kind == AST_FUNC && n->a && n->sym) lower_func(&L, n, n->sym->lower);
    }
    for (int k = 0; k < tu->ndecls; k++)
        if (tu->decls[k]->kind == AST_PIPELINE) lower_pipeline(&L, tu->decls[k]);
    return L.m;
}
