/* pass_inline.c: replaces every CALL by a copy of the callee's body. Mandatory at every
 * -O level: backends never see calls.
 *
 * Functions are processed callees first (post-order of the call graph, which is acyclic:
 * sema rejects recursion), so a body being copied is already call-free and each function
 * is rewritten once. At a call in block B:
 *   B = [... call ...]   becomes   B = [...; br entry'] , copies of the callee's blocks,
 *                                  C = [phi of the returned values; rest of B]
 * The callee's PARAMs become the call's value arguments, its MEM_BUFFER references are
 * rewritten through call->bufargs to the caller's buffer parameters, its local slots are
 * appended to the caller's locals (named callee.slot), and each RET becomes `br C`.
 */
#include "passes.h"

#include <stdlib.h>
#include <string.h>

typedef struct FuncIx {
    const IrFunc *f;
    int ix;
} FuncIx;

static int cmp_fix(const void *x, const void *y)
{
    uintptr_t a = (uintptr_t)((const FuncIx *)x)->f, b = (uintptr_t)((const FuncIx *)y)->f;
    return a < b ? -1 : a > b;
}

static int func_index(const FuncIx *tab, int n, const IrFunc *f)
{
    FuncIx key = {f, 0};
    const FuncIx *r = bsearch(&key, tab, (size_t)n, sizeof *tab, cmp_fix);
    if (!r) ICE("call to a function outside the module: @%s", f ? f->name : "?");
    return r->ix;
}

/* Replaces b's predecessor `from` by `to` (in place, so phis stay aligned). */
static void replace_pred(IrBlock *b, IrBlock *from, IrBlock *to)
{
    for (int k = 0; k < b->npreds; k++)
        if (b->preds[k] == from) b->preds[k] = to;
}

typedef struct Inliner {
    IrModule *m;
    Arena *s;           /* scratch */
    IrFunc *f;          /* caller */
    VEC(IrBlock *) out; /* the caller's new block list */
    bool changed;
} Inliner;

static IrInst *resolve(IrInst *v)
{
    while (v->aux) v = v->aux; /* aux: forwarding of a replaced call result */
    return v;
}

/* Inlines `call` (in block b); returns the continuation block holding the rest of b. */
static IrBlock *inline_call(Inliner *in, IrBlock *b, IrInst *call)
{
    IrFunc *f = in->f, *c = call->callee;
    Arena *a = in->m->arena;
    if (c->blocks.len == 0) ICE("inlining @%s, which has no body", c->name);

    /* continuation block: everything after the call */
    IrBlock *cont = arena_alloc(a, sizeof *cont);
    cont->id = f->next_id++;
    cont->func = f;
    IrInst *rest = call->next;
    if (rest) {
        cont->first = rest;
        cont->last = b->last;
        rest->prev = NULL;
        for (IrInst *i = rest; i; i = i->next) i->block = cont;
        call->next = NULL;
        b->last = call;
    }
    IrBlock *succ[2];
    int ns = ir_succs(cont, succ);
    for (int k = 0; k < ns; k++) replace_pred(succ[k], b, cont);
    ir_remove(call);

    /* copies of the callee's blocks and slots */
    int cn = c->next_id + 1;
    IrBlock **bmap = arena_alloc(in->s, sizeof *bmap * (size_t)cn);
    IrInst **vmap = arena_alloc(in->s, sizeof *vmap * (size_t)cn);
    IrBlock **copies = arena_alloc(in->s, sizeof *copies * (size_t)c->blocks.len);
    for (int k = 0; k < c->blocks.len; k++) {
        IrBlock *nb = arena_alloc(a, sizeof *nb);
        nb->id = f->next_id++;
        nb->func = f;
        bmap[c->blocks.data[k]->id] = nb;
        copies[k] = nb;
    }
    int local_base = f->locals.len;
    for (int k = 0; k < c->locals.len; k++) {
        IrSlot sl = c->locals.data[k];
        sl.name = arena_printf(a, "%s.%s", c->name, sl.name ? sl.name : "tmp");
        vec_push(a, &f->locals, sl);
    }
    /* by-value parameter index -> argument */
    IrInst **args = arena_alloc(in->s, sizeof *args * (size_t)(c->nparams + 1));
    for (int k = 0, nv = 0; k < c->nparams; k++)
        if (c->params[k].type->kind != TY_BUFFER) args[k] = resolve(call->ops[nv++]);

    VEC(IrInst *) rets = {0};
    VEC(IrBlock *) ret_blocks = {0};
    for (int k = 0; k < c->blocks.len; k++) {
        IrBlock *ob = c->blocks.data[k], *nb = copies[k];
        for (IrInst *i = ob->first; i; i = i->next) {
            if (i->op == IR_PARAM) {
                vmap[i->id] = args[i->param];
                continue;
            }
            if (i->op == IR_RET) {
                if (i->nops == 1) vec_push(in->s, &rets, i->ops[0]);
                vec_push(in->s, &ret_blocks, nb);
                IrInst *br = ir_inst_new(f, IR_BR, ty_void, NULL, 0);
                br->loc = i->loc;
                br->target[0] = cont;
                ir_append(nb, br);
                continue;
            }
            IrInst *n = arena_alloc(a, sizeof *n);
            *n = *i;
            n->id = f->next_id++;
            n->prev = n->next = NULL;
            n->block = NULL;
            n->aux = NULL;
            n->ops = NULL;
            if (i->nops) {
                n->ops = arena_alloc(a, sizeof *n->ops * (size_t)i->nops);
                memcpy(n->ops, i->ops, sizeof *n->ops * (size_t)i->nops);
            }
            if (i->op == IR_LOAD || i->op == IR_STORE || i->op == IR_ATOMIC || i->op == IR_BUFLEN) {
                if (n->mem.kind == MEM_BUFFER) {
                    if (!call->bufargs || call->bufargs[n->mem.id] < 0)
                        ICE("inlining @%s: no buffer argument for parameter %d", c->name,
                            n->mem.id);
                    n->mem.id = call->bufargs[n->mem.id];
                } else if (n->mem.kind == MEM_LOCAL) {
                    n->mem.id += local_base;
                } else {
                    ICE("inlining @%s: shared memory in a function", c->name);
                }
            }
            if (i->op == IR_CALL && i->bufargs) {
                int *ba = arena_alloc(a, sizeof *ba * (size_t)(i->callee->nparams + 1));
                for (int p = 0; p < i->callee->nparams; p++)
                    ba[p] = i->bufargs[p] < 0 ? -1 : call->bufargs[i->bufargs[p]];
                n->bufargs = ba;
            }
            if (i->op == IR_BR || i->op == IR_CBR) {
                n->target[0] = bmap[i->target[0]->id];
                if (i->op == IR_CBR) n->target[1] = bmap[i->target[1]->id];
            }
            vmap[i->id] = n;
            ir_append(nb, n);
        }
        nb->npreds = ob->npreds;
        if (ob->npreds) {
            nb->preds = arena_alloc(a, sizeof *nb->preds * (size_t)ob->npreds);
            for (int p = 0; p < ob->npreds; p++) nb->preds[p] = bmap[ob->preds[p]->id];
        }
    }
    /* operands refer to the copies (after all copies exist: phis may refer forward) */
    for (int k = 0; k < c->blocks.len; k++)
        for (IrInst *i = copies[k]->first; i; i = i->next)
            if (!(i->op == IR_BR && i->target[0] == cont))
                for (int o = 0; o < i->nops; o++) {
                    IrInst *v = vmap[i->ops[o]->id];
                    if (!v) ICE("inlining @%s: operand %%%d has no copy", c->name, i->ops[o]->id);
                    i->ops[o] = v;
                }

    /* b jumps to the copied entry */
    IrBlock *entry = copies[0];
    IrInst *br = ir_inst_new(f, IR_BR, ty_void, NULL, 0);
    br->loc = call->loc;
    br->target[0] = entry;
    ir_append(b, br);
    {
        IrBlock **np = arena_alloc(a, sizeof *np * (size_t)(entry->npreds + 1));
        if (entry->npreds) memcpy(np, entry->preds, sizeof *np * (size_t)entry->npreds);
        np[entry->npreds] = b;
        if (entry->first && entry->first->op == IR_PHI) {
            /* the callee's entry is a loop header: the value on entry is unspecified */
            for (IrInst *p = entry->first; p && p->op == IR_PHI; p = p->next) {
                IrInst *u = ir_inst_new(f, IR_UNDEF, p->type, NULL, 0);
                ir_insert_before(br, u);
                IrInst **ops = arena_alloc(a, sizeof *ops * (size_t)(p->nops + 1));
                memcpy(ops, p->ops, sizeof *ops * (size_t)p->nops);
                ops[p->nops] = u;
                p->ops = ops;
                p->nops++;
            }
        }
        entry->preds = np;
        entry->npreds++;
    }

    /* the continuation's predecessors are the returning blocks; the result is their phi */
    cont->npreds = ret_blocks.len;
    cont->preds = ret_blocks.data;
    if (ret_blocks.len) {
        cont->preds = arena_alloc(a, sizeof *cont->preds * (size_t)ret_blocks.len);
        memcpy(cont->preds, ret_blocks.data, sizeof *cont->preds * (size_t)ret_blocks.len);
    }
    if (c->ret != ty_void) {
        IrInst *result;
        if (rets.len == 0) {
            result = ir_inst_new(f, IR_UNDEF, c->ret, NULL, 0); /* never returns */
            result->loc = call->loc;
            if (cont->first)
                ir_insert_before(cont->first, result);
            else
                ir_append(cont, result);
        } else if (rets.len == 1) {
            result = vmap[rets.data[0]->id];
        } else {
            IrInst **ops = arena_alloc(in->s, sizeof *ops * (size_t)rets.len);
            for (int k = 0; k < rets.len; k++) ops[k] = vmap[rets.data[k]->id];
            result = ir_inst_new(f, IR_PHI, c->ret, ops, rets.len);
            result->loc = call->loc;
            if (cont->first)
                ir_insert_before(cont->first, result);
            else
                ir_append(cont, result);
        }
        call->aux = result;
    }
    if (!cont->first) { /* the call ended the block: impossible for valid IR */
        ICE("inlining @%s: call at the end of a block", c->name);
    }

    vec_push(in->s, &in->out, b);
    for (int k = 0; k < c->blocks.len; k++) vec_push(in->s, &in->out, copies[k]);
    in->changed = true;
    return cont;
}

static void inline_func(Inliner *in, IrFunc *f)
{
    in->f = f;
    in->out.len = 0;
    in->out.data = NULL;
    in->out.cap = 0;
    bool any = false;
    for (int bi = 0; bi < f->blocks.len && !any; bi++)
        for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next)
            if (i->op == IR_CALL) {
                any = true;
                break;
            }
    if (!any) return;
    for (int bi = 0; bi < f->blocks.len; bi++)
        for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next) i->aux = NULL;

    int nb = f->blocks.len;
    for (int bi = 0; bi < nb; bi++) {
        IrBlock *b = f->blocks.data[bi];
        for (;;) {
            IrInst *call = NULL;
            for (IrInst *i = b->first; i; i = i->next) {
                for (int k = 0; k < i->nops; k++)
                    if (i->ops[k]->aux) i->ops[k] = resolve(i->ops[k]);
                if (i->op == IR_CALL) {
                    call = i;
                    break;
                }
            }
            if (!call) break;
            b = inline_call(in, b, call);
        }
        vec_push(in->s, &in->out, b);
    }
    /* uses of call results in blocks processed before the call's (phis across back edges) */
    f->blocks.len = 0;
    for (int k = 0; k < in->out.len; k++) {
        IrBlock *b = in->out.data[k];
        vec_push(f->module->arena, &f->blocks, b);
        for (IrInst *i = b->first; i; i = i->next)
            for (int o = 0; o < i->nops; o++)
                if (i->ops[o]->aux) i->ops[o] = resolve(i->ops[o]);
    }
    ir_recompute_preds(f);
}

bool pass_inline(IrModule *m, Arena *scratch)
{
    int n = m->funcs.len;
    if (n == 0) return false;
    FuncIx *tab = arena_alloc(scratch, sizeof *tab * (size_t)n);
    for (int k = 0; k < n; k++) tab[k] = (FuncIx){m->funcs.data[k], k};
    qsort(tab, (size_t)n, sizeof *tab, cmp_fix);

    /* post-order of the call graph by an iterative DFS over call sites */
    int *state = arena_alloc(scratch, sizeof *state * (size_t)n); /* 0 new, 1 open, 2 done */
    int *order = arena_alloc(scratch, sizeof *order * (size_t)n);
    int norder = 0;
    typedef struct Frame {
        int fi, bi;
        IrInst *i;
    } Frame;
    Frame *stack = arena_alloc(scratch, sizeof *stack * (size_t)n);
    for (int root = 0; root < n; root++) {
        if (state[root]) continue;
        int sp = 0;
        stack[sp++] = (Frame){root, 0, NULL};
        state[root] = 1;
        while (sp > 0) {
            Frame *fr = &stack[sp - 1];
            IrFunc *f = m->funcs.data[fr->fi];
            IrFunc *callee = NULL;
            while (!callee && fr->bi < f->blocks.len) {
                fr->i = fr->i ? fr->i->next : f->blocks.data[fr->bi]->first;
                if (!fr->i) {
                    fr->bi++;
                    continue;
                }
                if (fr->i->op == IR_CALL) callee = fr->i->callee;
            }
            if (!callee) {
                state[fr->fi] = 2;
                order[norder++] = fr->fi;
                sp--;
                continue;
            }
            int ci = func_index(tab, n, callee);
            if (state[ci] == 1) ICE("recursive call to @%s reached the inliner", callee->name);
            if (state[ci] == 0) {
                state[ci] = 1;
                stack[sp++] = (Frame){ci, 0, NULL};
            }
        }
    }

    Inliner in = {.m = m, .s = scratch};
    for (int k = 0; k < norder; k++) {
        IrFunc *f = m->funcs.data[order[k]];
        ice_context(f->name);
        inline_func(&in, f);
    }
    ice_context(NULL);
    return in.changed;
}
