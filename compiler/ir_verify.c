/* ir_verify.c: checks the invariants listed at the top of ir.h and the type rules of
 * ops.def. Every message names the function, the block and the instruction, e.g.
 *     verify: @saxpy b3: operand 1 does not dominate its use: %9 = add %7, %12 : float
 * (raw ids, as ir_print_inst shows them). Messages go to err; the result says whether the
 * module is well formed. Stops reporting after a bounded number of messages per function.
 */
#include "ir.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ERRORS_PER_FUNC 20

typedef struct V {
    const IrModule *m;
    const IrFunc *f;
    StrBuf *err;
    Arena *a;
    bool ok;
    int nerr;
    const void **funcs; /* sorted IrFunc pointers of the module */
    int nfuncs;
    /* per function */
    IrInst **by_id; /* by inst id: the instruction found in the function */
    int *pos;       /* by inst id: position within its block */
    bool *blk_in;   /* by block id */
    IrDom *dom;
} V;

static void fail(V *v, const IrBlock *b, const IrInst *i, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(V *v, const IrBlock *b, const IrInst *i, const char *fmt, ...)
{
    v->ok = false;
    if (++v->nerr > MAX_ERRORS_PER_FUNC) return;
    sb_printf(v->err, "verify: @%s", v->f ? v->f->name : "?");
    if (b) sb_printf(v->err, " b%d", b->id);
    sb_puts(v->err, ": ");
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(v->err, fmt, ap);
    va_end(ap);
    if (i) {
        sb_puts(v->err, ": ");
        ir_print_inst(v->err, i);
    }
    sb_putc(v->err, '\n');
}

static int cmp_ptr(const void *x, const void *y)
{
    uintptr_t a = (uintptr_t) * (const void *const *)x, b = (uintptr_t) * (const void *const *)y;
    return a < b ? -1 : a > b;
}

static bool in_module(const V *v, const IrFunc *f)
{
    return f && bsearch(&f, v->funcs, (size_t)v->nfuncs, sizeof *v->funcs, cmp_ptr) != NULL;
}

static Type *bool_like(Type *t) { return ty_vec(ty_scalar(SC_BOOL), ty_width(t)); }

static bool is_value_type(const Type *t)
{
    return t && t->kind != TY_VOID && t->kind != TY_ARRAY && t->kind != TY_BUFFER;
}

/* The memory reference of a LOAD/STORE/ATOMIC/BUFLEN; returns the element type or NULL. */
static Type *check_mem(V *v, const IrBlock *b, const IrInst *i)
{
    const IrFunc *f = v->f;
    const IrMemRef *m = &i->mem;
    Type *t = NULL;
    switch (m->kind) {
    case MEM_BUFFER:
        if (m->id < 0 || m->id >= f->nparams || f->params[m->id].type->kind != TY_BUFFER) {
            fail(v, b, i, "buffer reference %d is not a buffer parameter", m->id);
            return NULL;
        }
        t = f->params[m->id].type->elem;
        if (i->op != IR_BUFLEN && ir_mem_nbase(m) != 1) {
            fail(v, b, i, "buffer access needs exactly 1 index, has %d", ir_mem_nbase(m));
            return NULL;
        }
        if (i->op == IR_BUFLEN) return t;
        break;
    case MEM_SHARED:
    case MEM_LOCAL: {
        bool sh = m->kind == MEM_SHARED;
        int n = sh ? f->shared.len : f->locals.len;
        if (sh && !f->is_kernel) fail(v, b, i, "shared memory in a non-kernel function");
        if (m->id < 0 || m->id >= n) {
            fail(v, b, i, "%s slot %d out of range (%d slots)", sh ? "shared" : "local", m->id, n);
            return NULL;
        }
        t = sh ? f->shared.data[m->id].type : f->locals.data[m->id].type;
        int dims = 0;
        for (Type *u = t; u->kind == TY_ARRAY; u = u->elem) dims++;
        if (ir_mem_nbase(m) != dims) {
            fail(v, b, i, "%d indices for a slot with %d array dimensions", ir_mem_nbase(m), dims);
            return NULL;
        }
        while (t->kind == TY_ARRAY) t = t->elem;
        break;
    }
    default: fail(v, b, i, "bad memory kind %d", (int)m->kind); return NULL;
    }
    if (i->op == IR_BUFLEN) {
        fail(v, b, i, "buflen of a non-buffer");
        return NULL;
    }
    if (m->nidx < 0 || m->nidx > i->nops) {
        fail(v, b, i, "index count %d exceeds the operands", m->nidx);
        return NULL;
    }
    for (int k = 0; k < m->nidx; k++)
        if (i->ops[k] && !(i->ops[k]->type->kind == TY_INT))
            fail(v, b, i, "index %d is not an integer scalar", k);
    if (m->npath < 0 || m->npath > IR_MAX_PATH) {
        fail(v, b, i, "bad path length %d", m->npath);
        return NULL;
    }
    for (int k = 0; k < m->npath; k++) {
        Type *u = ir_path_step(t, m->path[k]);
        if (!u) {
            fail(v, b, i, "path step %d (%d) invalid for type %s", k, m->path[k], t->name);
            return NULL;
        }
        t = u;
    }
    if (t->kind == TY_ARRAY) {
        fail(v, b, i, "access of a whole array %s", t->name);
        return NULL;
    }
    return t;
}

static void check_builtin(V *v, const IrBlock *b, const IrInst *i)
{
    if (i->builtin <= BI_NONE || i->builtin >= BI_COUNT) {
        fail(v, b, i, "bad builtin id %d", (int)i->builtin);
        return;
    }
    const BuiltinInfo *bi = &builtin_info[i->builtin];
    Type *r = i->type;
    if (i->nops != bi->nargs) {
        fail(v, b, i, "builtin %s takes %d arguments, has %d", bi->name, bi->nargs, i->nops);
        return;
    }
    Type *t0 = i->nops > 0 ? i->ops[0]->type : NULL;
    switch (bi->cls) {
    case BK_WORKITEM:
    case BK_BARRIER:
    case BK_LEN:
    case BK_ATOMIC:
    case BK_CAS: fail(v, b, i, "builtin %s has its own instruction", bi->name); return;
    case BK_F1:
    case BK_F2:
    case BK_F3:
    case BK_N1:
    case BK_N2:
    case BK_N3:
    case BK_I1:
    case BK_I2:
    case BK_MIX:
    case BK_STEP: {
        bool want_f = bi->cls == BK_F1 || bi->cls == BK_F2 || bi->cls == BK_F3 ||
                      bi->cls == BK_MIX || bi->cls == BK_STEP;
        bool want_i = bi->cls == BK_I1 || bi->cls == BK_I2;
        if (want_f && !ty_is_float(r)) fail(v, b, i, "%s needs a float type", bi->name);
        if (want_i && !ty_is_int(r)) fail(v, b, i, "%s needs an integer type", bi->name);
        if (!ty_is_numeric(r)) fail(v, b, i, "%s needs a numeric type", bi->name);
        for (int k = 0; k < i->nops; k++) {
            Type *t = i->ops[k]->type;
            if (t != r && t != ty_elem(r))
                fail(v, b, i, "argument %d of %s has type %s, want %s", k, bi->name, t->name,
                     r->name);
        }
        break;
    }
    case BK_FTEST:
        if (!ty_is_float(t0) || r != bool_like(t0)) fail(v, b, i, "%s: bad types", bi->name);
        break;
    case BK_SELECT:
        if (i->ops[0]->type != r || i->ops[1]->type != r || !ty_is_bool(i->ops[2]->type) ||
            (ty_width(i->ops[2]->type) != 1 && ty_width(i->ops[2]->type) != ty_width(r)))
            fail(v, b, i, "select: bad types");
        break;
    case BK_DOT:
    case BK_LENGTH:
        if (!ty_is_float(t0) || r != ty_elem(t0)) fail(v, b, i, "%s: bad types", bi->name);
        for (int k = 1; k < i->nops; k++)
            if (i->ops[k]->type != t0) fail(v, b, i, "%s: argument types differ", bi->name);
        break;
    case BK_CROSS:
        if (r->kind != TY_VEC || !ty_is_float(r) || (r->n != 3 && r->n != 4) ||
            i->ops[0]->type != r || i->ops[1]->type != r)
            fail(v, b, i, "cross: bad types");
        break;
    case BK_ANYALL:
        if (!ty_is_bool(t0) || r != ty_scalar(SC_BOOL)) fail(v, b, i, "%s: bad types", bi->name);
        break;
    case BK_SG0:
        if (r != ty_scalar(SC_UINT)) fail(v, b, i, "%s yields uint", bi->name);
        break;
    case BK_SG1:
        if (!ty_is_scalar(r) || t0 != r) fail(v, b, i, "%s: bad types", bi->name);
        break;
    case BK_SGLANE:
        if (!ty_is_scalar(r) || t0 != r || i->ops[1]->type->kind != TY_INT)
            fail(v, b, i, "%s: bad types", bi->name);
        break;
    }
}

static void check_call(V *v, const IrBlock *b, const IrInst *i)
{
    const IrFunc *c = i->callee;
    if (!in_module(v, c)) {
        fail(v, b, i, "call to a function outside the module");
        return;
    }
    if (c->is_kernel) fail(v, b, i, "call to a kernel");
    if (i->type != c->ret) fail(v, b, i, "call result type differs from @%s's", c->name);
    int nval = 0;
    for (int k = 0; k < c->nparams; k++) {
        Type *pt = c->params[k].type;
        if (pt->kind == TY_BUFFER) {
            if (!i->bufargs) {
                fail(v, b, i, "call without buffer arguments");
                continue;
            }
            int a = i->bufargs[k];
            if (a < 0 || a >= v->f->nparams || v->f->params[a].type->kind != TY_BUFFER) {
                fail(v, b, i, "buffer argument for parameter %d is not a buffer parameter", k);
                continue;
            }
            Type *at = v->f->params[a].type;
            if (at->elem != pt->elem || (at->is_const && !pt->is_const))
                fail(v, b, i, "buffer argument %%%s (%s) does not fit parameter %d (%s)",
                     v->f->params[a].name, at->name, k, pt->name);
        } else {
            if (nval < i->nops && i->ops[nval] && i->ops[nval]->type != pt)
                fail(v, b, i, "argument %d has type %s, want %s", nval, i->ops[nval]->type->name,
                     pt->name);
            nval++;
        }
    }
    if (nval != i->nops)
        fail(v, b, i, "call has %d value arguments, @%s takes %d", i->nops, c->name, nval);
}

static void check_types(V *v, const IrBlock *b, const IrInst *i)
{
    const IrFunc *f = v->f;
    Type *r = i->type;
    int n = i->nops;
    for (int k = 0; k < n; k++)
        if (!i->ops[k] || !is_value_type(i->ops[k]->type)) return; /* reported elsewhere */
#define NOPS(k)                                                                          \
    do {                                                                                 \
        if (n != (k)) {                                                                  \
            fail(v, b, i, "%s takes %d operands, has %d", ir_op_info[i->op].name, k, n); \
            return;                                                                      \
        }                                                                                \
    } while (0)
#define WANT(c, ...)                    \
    do {                                \
        if (!(c)) {                     \
            fail(v, b, i, __VA_ARGS__); \
            return;                     \
        }                               \
    } while (0)
    bool yields = !(ir_op_info[i->op].flags & OPF_TERM) && i->op != IR_STORE &&
                  i->op != IR_BARRIER && i->op != IR_CALL;
    if (yields) WANT(is_value_type(r), "%s must yield a value", ir_op_info[i->op].name);
    if (!yields && i->op != IR_CALL)
        WANT(r == ty_void, "%s yields no value", ir_op_info[i->op].name);

    switch (i->op) {
    case IR_PARAM:
        NOPS(0);
        WANT(i->param >= 0 && i->param < f->nparams, "parameter %d out of range", i->param);
        WANT(f->params[i->param].type == r, "param type differs from the parameter's");
        break;
    case IR_CONST:
        NOPS(0);
        WANT(ty_is_scalar(r), "constants are scalars");
        if (r->kind == TY_BOOL) WANT(i->imm.i <= 1, "bool constant not 0/1");
        if (r->kind == TY_INT && r->bits < 64)
            WANT((i->imm.i >> r->bits) == 0, "int constant not zero-extended from its width");
        break;
    case IR_UNDEF: NOPS(0); break;
    case IR_ADD:
    case IR_SUB:
    case IR_MUL:
    case IR_DIV:
        NOPS(2);
        WANT(ty_is_numeric(r), "arithmetic on a non-numeric type");
        WANT(i->ops[0]->type == r && i->ops[1]->type == r, "operand types differ from the result");
        break;
    case IR_REM:
        NOPS(2);
        WANT(ty_is_int(r), "rem on a non-integer type");
        WANT(i->ops[0]->type == r && i->ops[1]->type == r, "operand types differ from the result");
        break;
    case IR_NEG:
        NOPS(1);
        WANT(ty_is_numeric(r) && i->ops[0]->type == r, "neg: bad types");
        break;
    case IR_AND:
    case IR_OR:
    case IR_XOR:
        NOPS(2);
        WANT(ty_is_int(r) || ty_is_bool(r), "bitwise op on a non-integer type");
        WANT(i->ops[0]->type == r && i->ops[1]->type == r, "operand types differ from the result");
        break;
    case IR_NOT:
        NOPS(1);
        WANT((ty_is_int(r) || ty_is_bool(r)) && i->ops[0]->type == r, "not: bad types");
        break;
    case IR_SHL:
    case IR_SHR:
        NOPS(2);
        WANT(ty_is_int(r) && i->ops[0]->type == r, "shift of a non-integer type");
        WANT(ty_is_int(i->ops[1]->type) && ty_width(i->ops[1]->type) == ty_width(r),
             "shift count must be an integer of the same width");
        break;
    case IR_EQ:
    case IR_NE:
    case IR_LT:
    case IR_LE:
    case IR_GT:
    case IR_GE: {
        NOPS(2);
        Type *t = i->ops[0]->type;
        WANT(i->ops[1]->type == t, "comparison operands differ in type");
        WANT(ty_is_numeric(t) || ((i->op == IR_EQ || i->op == IR_NE) && ty_is_bool(t)),
             "comparison of a non-numeric type");
        WANT(r == bool_like(t), "comparison must yield %s", bool_like(t)->name);
        break;
    }
    case IR_SELECT: {
        NOPS(3);
        Type *c = i->ops[0]->type;
        WANT(ty_is_bool(c), "select condition is not bool");
        WANT(ty_width(c) == 1 || (r->kind == TY_VEC && ty_width(c) == r->n),
             "select condition width does not match");
        WANT(i->ops[1]->type == r && i->ops[2]->type == r, "select arms differ from the result");
        break;
    }
    case IR_CONVERT: {
        NOPS(1);
        Type *t = i->ops[0]->type;
        WANT((ty_is_numeric(t) || ty_is_bool(t)) && (ty_is_numeric(r) || ty_is_bool(r)),
             "convert of a non-numeric type");
        WANT(ty_width(t) == ty_width(r), "convert changes the vector width");
        break;
    }
    case IR_VECTOR:
        WANT(r->kind == TY_VEC, "vector must yield a vector");
        NOPS(r->n);
        for (int k = 0; k < n; k++)
            WANT(i->ops[k]->type == r->elem, "vector element %d has the wrong type", k);
        break;
    case IR_SPLAT:
        NOPS(1);
        WANT(r->kind == TY_VEC && i->ops[0]->type == r->elem, "splat: bad types");
        break;
    case IR_EXTRACT: {
        NOPS(1);
        Type *t = i->ops[0]->type;
        if (t->kind == TY_VEC) {
            WANT(i->idx >= 0 && i->idx < t->n, "component %d out of range", i->idx);
            WANT(r == t->elem, "extract yields the component type");
        } else if (t->kind == TY_STRUCT) {
            WANT(i->idx >= 0 && i->idx < t->nfields, "field %d out of range", i->idx);
            WANT(r == t->fields[i->idx].type, "extract yields the field type");
        } else {
            WANT(false, "extract from a non-aggregate");
        }
        break;
    }
    case IR_INSERT: {
        NOPS(2);
        WANT(i->ops[0]->type == r, "insert yields its aggregate's type");
        Type *e = NULL;
        if (r->kind == TY_VEC) {
            WANT(i->idx >= 0 && i->idx < r->n, "component %d out of range", i->idx);
            e = r->elem;
        } else if (r->kind == TY_STRUCT) {
            WANT(i->idx >= 0 && i->idx < r->nfields, "field %d out of range", i->idx);
            e = r->fields[i->idx].type;
        } else {
            WANT(false, "insert into a non-aggregate");
        }
        WANT(i->ops[1]->type == e, "inserted value has the wrong type");
        break;
    }
    case IR_SHUFFLE: {
        NOPS(1);
        Type *t = i->ops[0]->type;
        WANT(t->kind == TY_VEC && ty_elem(r) == t->elem, "shuffle: bad types");
        for (int k = 0; k < ty_width(r); k++)
            WANT(i->mask[k] >= 0 && i->mask[k] < t->n, "shuffle mask %d out of range", k);
        break;
    }
    case IR_LOAD: {
        Type *t = check_mem(v, b, i);
        if (!t) return;
        NOPS(i->mem.nidx);
        WANT(r == t, "load yields %s, memory holds %s", r->name, t->name);
        break;
    }
    case IR_STORE: {
        Type *t = check_mem(v, b, i);
        if (!t) return;
        NOPS(i->mem.nidx + 1);
        WANT(i->ops[n - 1]->type == t, "stored value is %s, memory holds %s",
             i->ops[n - 1]->type->name, t->name);
        if (i->mem.kind == MEM_BUFFER)
            WANT(!f->params[i->mem.id].type->is_const, "store to a const buffer");
        break;
    }
    case IR_ATOMIC: {
        Type *t = check_mem(v, b, i);
        if (!t) return;
        WANT(i->mem.kind != MEM_LOCAL, "atomic on private memory");
        WANT(i->builtin >= BI_ATOMIC_ADD && i->builtin <= BI_ATOMIC_CAS,
             "atomic with a non-atomic builtin");
        NOPS(i->mem.nidx + (i->builtin == BI_ATOMIC_CAS ? 2 : 1));
        WANT(r == t, "atomic yields the memory's type");
        for (int k = i->mem.nidx; k < n; k++)
            WANT(i->ops[k]->type == t, "atomic operand %d has the wrong type", k);
        WANT(t->kind == TY_INT ||
                 (t->kind == TY_FLOAT && i->builtin == BI_ATOMIC_ADD && t->bits == 32),
             "atomic on type %s", t->name);
        if (i->mem.kind == MEM_BUFFER)
            WANT(!f->params[i->mem.id].type->is_const, "atomic on a const buffer");
        break;
    }
    case IR_BUFLEN:
        NOPS(0);
        WANT(i->mem.kind == MEM_BUFFER, "buflen of a non-buffer");
        if (!check_mem(v, b, i)) return;
        WANT(r == ty_scalar(SC_UINT), "buflen yields uint");
        break;
    case IR_WORKITEM:
        NOPS(0);
        WANT(i->builtin >= BI_GLOBAL_ID && i->builtin <= BI_GLOBAL_SIZE,
             "workitem with a bad query");
        WANT(i->dim >= 0 && i->dim <= 2, "workitem dimension %d", i->dim);
        WANT(r == ty_scalar(SC_UINT), "workitem yields uint");
        break;
    case IR_BARRIER: NOPS(0); break;
    case IR_BUILTIN: check_builtin(v, b, i); break;
    case IR_CALL: check_call(v, b, i); break;
    case IR_PHI:
        WANT(n == b->npreds, "phi has %d operands for %d predecessors", n, b->npreds);
        for (int k = 0; k < n; k++)
            WANT(i->ops[k]->type == r, "phi operand %d has the wrong type", k);
        break;
    case IR_BR: NOPS(0); break;
    case IR_CBR:
        NOPS(1);
        WANT(i->ops[0]->type == ty_scalar(SC_BOOL), "cbr condition is not bool");
        break;
    case IR_RET:
        if (f->ret == ty_void) {
            NOPS(0);
        } else {
            NOPS(1);
            WANT(i->ops[0]->type == f->ret, "returns %s from a function of %s",
                 i->ops[0]->type->name, f->ret->name);
        }
        break;
    case IR_UNREACHABLE: NOPS(0); break;
    default: WANT(false, "unknown op %d", (int)i->op);
    }
#undef NOPS
#undef WANT
}

static void verify_func(V *v, const IrFunc *f)
{
    v->f = f;
    v->nerr = 0;
    if (f->module != v->m) fail(v, NULL, NULL, "function belongs to another module");
    if (f->blocks.len == 0) {
        fail(v, NULL, NULL, "function has no blocks");
        return;
    }
    if (f->is_kernel && f->ret != ty_void) fail(v, NULL, NULL, "kernel returns a value");
    if (!f->is_kernel && f->shared.len > 0)
        fail(v, NULL, NULL, "shared memory in a non-kernel function");
    int nid = f->next_id + 1;
    v->by_id = arena_alloc(v->a, sizeof *v->by_id * (size_t)nid);
    v->pos = arena_alloc(v->a, sizeof *v->pos * (size_t)nid);
    v->blk_in = arena_alloc(v->a, sizeof *v->blk_in * (size_t)nid);
    IrBlock **blk_by_id = arena_alloc(v->a, sizeof *blk_by_id * (size_t)nid);
    bool structure_ok = true;

    /* blocks, instruction lists, ids */
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        if (!b || b->id < 0 || b->id >= f->next_id || b->func != f || v->blk_in[b->id] ||
            blk_by_id[b->id]) {
            fail(v, NULL, NULL, "block %d: bad id, owner or duplicate", bi);
            structure_ok = false;
            continue;
        }
        v->blk_in[b->id] = true;
        blk_by_id[b->id] = b;
    }
    if (!structure_ok) return;
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        int p = 0;
        IrInst *prev = NULL;
        bool past_phis = false;
        for (IrInst *i = b->first; i; prev = i, i = i->next, p++) {
            if (i->block != b || i->prev != prev) {
                fail(v, b, i, "broken instruction list");
                structure_ok = false;
                break;
            }
            if (i->id < 0 || i->id >= f->next_id || v->by_id[i->id] || blk_by_id[i->id]) {
                fail(v, b, i, "bad or duplicate value id");
                structure_ok = false;
                continue;
            }
            v->by_id[i->id] = i;
            v->pos[i->id] = p;
            if (i->op == IR_PHI) {
                if (past_phis) fail(v, b, i, "phi after a non-phi instruction");
            } else {
                past_phis = true;
            }
            bool term = i->op >= 0 && i->op < IR_OP_COUNT && (ir_op_info[i->op].flags & OPF_TERM);
            if (term && i->next) fail(v, b, i, "terminator in the middle of the block");
            if (!i->next && !term) fail(v, b, i, "block does not end with a terminator");
            if (i->op == IR_BR || i->op == IR_CBR) {
                for (int k = 0; k < (i->op == IR_BR ? 1 : 2); k++) {
                    IrBlock *t = i->target[k];
                    if (!t || t->id < 0 || t->id >= nid || blk_by_id[t->id] != t) {
                        fail(v, b, i, "branch target %d is not a block of the function", k);
                        structure_ok = false;
                    }
                }
            }
        }
        if (b->last != prev) {
            fail(v, b, NULL, "block's last pointer is stale");
            structure_ok = false;
        }
        if (!b->first) {
            fail(v, b, NULL, "empty block (no terminator)");
            structure_ok = false;
        }
    }
    if (!structure_ok) return;

    /* predecessor lists are exact (as multisets) */
    bool preds_ok = true;
    int *cnt = arena_alloc(v->a, sizeof *cnt * (size_t)nid);
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        for (int k = 0; k < b->npreds; k++) {
            IrBlock *p = b->preds[k];
            if (!p || p->id < 0 || p->id >= nid || blk_by_id[p->id] != p) {
                fail(v, b, NULL, "predecessor %d is not a block of the function", k);
                preds_ok = false;
                continue;
            }
            cnt[p->id]++;
        }
        if (!preds_ok) break;
        for (int k = 0; k < b->npreds; k++) {
            IrBlock *p = b->preds[k];
            if (cnt[p->id] == 0) continue; /* already checked this pred */
            IrBlock *s[2];
            int ns = ir_succs(p, s), edges = 0;
            for (int j = 0; j < ns; j++) edges += s[j] == b;
            if (edges != cnt[p->id]) {
                fail(v, b, NULL, "predecessor list has b%d %d times, it branches here %d times",
                     p->id, cnt[p->id], edges);
                preds_ok = false;
            }
            cnt[p->id] = 0;
        }
    }
    for (int bi = 0; preds_ok && bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        IrBlock *s[2];
        int ns = ir_succs(b, s);
        for (int j = 0; j < ns; j++) {
            bool found = false;
            for (int k = 0; k < s[j]->npreds && !found; k++) found = s[j]->preds[k] == b;
            if (!found) {
                fail(v, s[j], NULL, "b%d branches here but is not in the predecessor list", b->id);
                preds_ok = false;
            }
        }
    }
    if (f->blocks.data[0]->first && f->blocks.data[0]->first->op == IR_PHI &&
        f->blocks.data[0]->npreds == 0)
        fail(v, f->blocks.data[0], f->blocks.data[0]->first, "phi in the entry block");

    v->dom = preds_ok ? ir_dom_compute(v->a, f) : NULL;

    /* operands: defined in this function, dominating their uses; then types */
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        bool reach = v->dom && v->dom->rpo_index[b->id] >= 0;
        for (IrInst *i = b->first; i; i = i->next) {
            bool ops_ok = true;
            for (int k = 0; k < i->nops; k++) {
                IrInst *o = i->ops[k];
                if (!o) {
                    fail(v, b, i, "operand %d is null", k);
                    ops_ok = false;
                    continue;
                }
                if (o->id < 0 || o->id >= nid || v->by_id[o->id] != o) {
                    fail(v, b, i, "operand %d (%%%d) is not an instruction of the function", k,
                         o->id);
                    ops_ok = false;
                    continue;
                }
                if (!is_value_type(o->type)) {
                    fail(v, b, i, "operand %d (%%%d) yields no value", k, o->id);
                    ops_ok = false;
                    continue;
                }
                if (!reach) continue;
                IrBlock *ub = b;
                if (i->op == IR_PHI) {
                    if (k >= b->npreds) continue;
                    ub = b->preds[k];
                    if (v->dom->rpo_index[ub->id] < 0) continue;
                    if (o->block == ub) continue;
                } else if (o->block == b) {
                    if (v->pos[o->id] >= v->pos[i->id])
                        fail(v, b, i, "operand %d (%%%d) is used before its definition", k, o->id);
                    continue;
                }
                if (!ir_dominates(v->dom, o->block, ub))
                    fail(v, b, i, "operand %d (%%%d, in b%d) does not dominate its use", k, o->id,
                         o->block->id);
            }
            if (ops_ok) check_types(v, b, i);
        }
    }
}

static bool slot_is_buffer(const IrPipeline *p, int s, Type **t)
{
    Type *ty = NULL;
    if (s >= 0 && s < p->nparams)
        ty = p->params[s].type;
    else if (s >= p->nparams && s < p->nparams + p->temps.len)
        ty = p->temps.data[s - p->nparams].type;
    if (!ty || ty->kind != TY_BUFFER) return false;
    if (t) *t = ty;
    return true;
}

static int cmp_int(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return a < b ? -1 : a > b;
}

static void pfail(V *v, const IrPipeline *p, int k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void pfail(V *v, const IrPipeline *p, int k, const char *fmt, ...)
{
    v->ok = false;
    if (++v->nerr > MAX_ERRORS_PER_FUNC) return;
    sb_printf(v->err, "verify: pipeline @%s step %d: ", p->name, k);
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(v->err, fmt, ap);
    va_end(ap);
    sb_putc(v->err, '\n');
}

static void verify_pipeline(V *v, const IrPipeline *p)
{
    v->nerr = 0;
    int nl = 0;
    int *labels = arena_alloc(v->a, sizeof *labels * (size_t)(p->steps.len + 1));
    for (int k = 0; k < p->steps.len; k++)
        if (p->steps.data[k].kind == PS_LABEL) labels[nl++] = p->steps.data[k].a;
    qsort(labels, (size_t)nl, sizeof *labels, cmp_int);
    for (int k = 1; k < nl; k++)
        if (labels[k] == labels[k - 1]) pfail(v, p, -1, "label L%d defined twice", labels[k]);
    for (int t = 0; t < p->temps.len; t++)
        if (!p->temps.data[t].type || p->temps.data[t].type->kind != TY_BUFFER)
            pfail(v, p, -1, "temporary %d is not a buffer", t);
#define REG(r) ((r) >= 0 && (r) < p->nregs)
    for (int k = 0; k < p->steps.len; k++) {
        const IrPStep *s = &p->steps.data[k];
        Type *bt;
        switch (s->kind) {
        case PS_CONST:
            if (!REG(s->dst)) pfail(v, p, k, "register r%d out of range", s->dst);
            if (!s->type || !ty_is_scalar(s->type))
                pfail(v, p, k, "constant without a scalar type");
            break;
        case PS_PARAM:
            if (!REG(s->dst)) pfail(v, p, k, "register r%d out of range", s->dst);
            if (s->a < 0 || s->a >= p->nparams || !ty_is_scalar(p->params[s->a].type))
                pfail(v, p, k, "param %d is not a scalar parameter", s->a);
            break;
        case PS_LEN:
            if (!REG(s->dst)) pfail(v, p, k, "register r%d out of range", s->dst);
            if (!slot_is_buffer(p, s->a, NULL))
                pfail(v, p, k, "len of slot %d, not a buffer", s->a);
            break;
        case PS_BIN:
            if (!REG(s->dst) || !REG(s->a) || !REG(s->b)) pfail(v, p, k, "register out of range");
            if (s->op < 0 || s->op > DCK_POPB_FLE) pfail(v, p, k, "bad binary op %d", s->op);
            break;
        case PS_UN:
            if (!REG(s->dst) || !REG(s->a)) pfail(v, p, k, "register out of range");
            if (s->op < 0 || s->op > DCK_POPU_MOV) pfail(v, p, k, "bad unary op %d", s->op);
            break;
        case PS_ALLOC:
            if (s->a < p->nparams || !slot_is_buffer(p, s->a, &bt))
                pfail(v, p, k, "alloc of slot %d, not a temporary", s->a);
            else if (s->type != bt->elem)
                pfail(v, p, k, "alloc element type differs from the temporary's");
            if (!REG(s->b)) pfail(v, p, k, "register r%d out of range", s->b);
            break;
        case PS_FREE:
            if (s->a < p->nparams || !slot_is_buffer(p, s->a, NULL))
                pfail(v, p, k, "free of slot %d, not a temporary", s->a);
            break;
        case PS_LAUNCH: {
            const IrFunc *kf = s->kernel;
            if (!in_module(v, kf) || !kf->is_kernel) {
                pfail(v, p, k, "launch of something that is not a kernel of the module");
                break;
            }
            if (s->ndims < 1 || s->ndims > 3) pfail(v, p, k, "launch with %d dimensions", s->ndims);
            for (int d = 0; d < s->ndims && d < 3; d++) {
                if (!REG(s->global[d])) pfail(v, p, k, "global size register out of range");
                if (s->has_local && !REG(s->local[d]))
                    pfail(v, p, k, "local size register out of range");
            }
            if (s->nargs != kf->nparams) {
                pfail(v, p, k, "@%s takes %d arguments, launch passes %d", kf->name, kf->nparams,
                      s->nargs);
                break;
            }
            for (int a = 0; a < s->nargs; a++) {
                const IrPArg *g = &s->args[a];
                Type *pt = kf->params[a].type;
                if (pt->kind == TY_BUFFER) {
                    if (g->kind != PA_BUF || !slot_is_buffer(p, g->x, &bt))
                        pfail(v, p, k, "argument %d of @%s must be a buffer slot", a, kf->name);
                    else if (bt->elem != pt->elem || (bt->is_const && !pt->is_const))
                        pfail(v, p, k, "argument %d (%s) does not fit %s", a, bt->name, pt->name);
                } else if (g->kind == PA_PARAM) {
                    if (g->x < 0 || g->x >= p->nparams || p->params[g->x].type != pt)
                        pfail(v, p, k, "argument %d of @%s: pipeline parameter of the wrong type",
                              a, kf->name);
                } else if (g->kind == PA_REG) {
                    if (!REG(g->x)) pfail(v, p, k, "argument %d: register out of range", a);
                    if (g->type != pt || !ty_is_scalar(pt))
                        pfail(v, p, k, "argument %d of @%s: register converted to the wrong type",
                              a, kf->name);
                } else {
                    pfail(v, p, k, "argument %d of @%s must be a value", a, kf->name);
                }
            }
            break;
        }
        case PS_LABEL: break;
        case PS_JZ:
            if (!REG(s->b)) pfail(v, p, k, "register r%d out of range", s->b);
            /* fallthrough */
        case PS_JMP:
            if (!bsearch(&s->a, labels, (size_t)nl, sizeof *labels, cmp_int))
                pfail(v, p, k, "jump to undefined label L%d", s->a);
            break;
        default: pfail(v, p, k, "bad step kind %d", (int)s->kind);
        }
    }
#undef REG
}

bool ir_verify_module(const IrModule *m, StrBuf *err)
{
    V v = {.m = m, .err = err, .ok = true};
    v.a = arena_new();
    v.nfuncs = m->funcs.len;
    v.funcs = arena_alloc(v.a, sizeof *v.funcs * (size_t)(v.nfuncs + 1));
    for (int k = 0; k < v.nfuncs; k++) v.funcs[k] = m->funcs.data[k];
    qsort(v.funcs, (size_t)v.nfuncs, sizeof *v.funcs, cmp_ptr);
    for (int k = 0; k < m->funcs.len; k++) verify_func(&v, m->funcs.data[k]);
    v.f = NULL;
    for (int k = 0; k < m->pipelines.len; k++) verify_pipeline(&v, m->pipelines.data[k]);
    arena_free(v.a);
    return v.ok;
}
