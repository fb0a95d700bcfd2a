/* pass_simplifycfg.c: control-flow cleanup.
 *
 *  1. removes unreachable blocks (fixing phis and preds);
 *  2. removes trivial phis (every operand the same value or the phi itself);
 *  3. turns `cbr c, B, B` into `br B`;
 *  4. merges a block into its single predecessor when that predecessor's only successor
 *     is the block (chains collapse in one sweep);
 *  5. folds empty forwarding blocks (`B: br S`) by sending their predecessors straight to
 *     S, unless S's phis would then need two different values from one predecessor.
 * Requires and keeps: exact preds, phis matching them.
 */
#include "passes.h"

#include <string.h>

static IrInst *fwd(IrInst *v)
{
    while (v->aux) v = v->aux;
    return v;
}

static void resolve_all(IrFunc *f)
{
    for (int bi = 0; bi < f->blocks.len; bi++)
        for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next)
            for (int k = 0; k < i->nops; k++) i->ops[k] = fwd(i->ops[k]);
}

/* Removes trivial phis until none is left; returns whether any was removed. */
static bool trivial_phis(IrFunc *f)
{
    bool any = false, again = true;
    while (again) {
        again = false;
        for (int bi = 0; bi < f->blocks.len; bi++) {
            IrInst *next;
            for (IrInst *p = f->blocks.data[bi]->first; p && p->op == IR_PHI; p = next) {
                next = p->next;
                IrInst *same = NULL;
                bool trivial = true;
                for (int k = 0; k < p->nops && trivial; k++) {
                    IrInst *o = fwd(p->ops[k]);
                    if (o == p || o == same) continue;
                    if (same) trivial = false;
                    same = o;
                }
                if (!trivial) continue;
                if (!same) { /* only self references: the block is unreachable from outside */
                    same = ir_inst_new(f, IR_UNDEF, p->type, NULL, 0);
                    same->loc = p->loc;
                    IrBlock *e = f->blocks.data[0];
                    IrInst *pos = e->first;
                    while (pos && pos->op == IR_PHI) pos = pos->next;
                    ir_insert_before(pos, same);
                }
                p->aux = same;
                ir_remove(p);
                any = again = true;
            }
        }
    }
    if (any) resolve_all(f);
    return any;
}

static void set_preds(Arena *a, IrBlock *b, IrBlock **preds, int n)
{
    b->preds = n ? arena_alloc(a, sizeof *preds * (size_t)n) : NULL;
    if (n) memcpy(b->preds, preds, sizeof *preds * (size_t)n);
    b->npreds = n;
}

static bool simplify_func(IrFunc *f, Arena *scratch)
{
    Arena *a = f->module->arena;
    bool changed = false;
    int nb0 = f->blocks.len;
    ir_remove_unreachable_blocks(f);
    changed |= f->blocks.len != nb0;
    for (int bi = 0; bi < f->blocks.len; bi++)
        for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next) i->aux = NULL;
    changed |= trivial_phis(f);

    /* 3. cbr with equal targets */
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        IrInst *t = ir_terminator(b);
        if (!t || t->op != IR_CBR || t->target[0] != t->target[1]) continue;
        IrBlock *s = t->target[0];
        /* both edges carry the same phi values (one source block): drop the second */
        int first = -1, second = -1;
        for (int k = 0; k < s->npreds; k++)
            if (s->preds[k] == b) {
                if (first < 0)
                    first = k;
                else if (second < 0)
                    second = k;
            }
        if (first < 0 || second < 0) continue;
        bool ok = true;
        for (IrInst *p = s->first; p && p->op == IR_PHI; p = p->next)
            ok &= p->ops[first] == p->ops[second];
        if (!ok) continue;
        for (IrInst *p = s->first; p && p->op == IR_PHI; p = p->next) {
            memmove(p->ops + second, p->ops + second + 1,
                    sizeof *p->ops * (size_t)(p->nops - second - 1));
            p->nops--;
        }
        memmove(s->preds + second, s->preds + second + 1,
                sizeof *s->preds * (size_t)(s->npreds - second - 1));
        s->npreds--;
        t->op = IR_BR;
        t->nops = 0;
        t->target[1] = NULL;
        changed = true;
    }

    /* 4. merge chains: P ends in `br B`, B's only predecessor is P */
    bool *dead = arena_alloc(scratch, sizeof *dead * (size_t)(f->next_id + 1));
    bool merged = false;
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrBlock *p = f->blocks.data[bi];
        if (dead[p->id]) continue;
        for (;;) {
            IrInst *t = ir_terminator(p);
            if (!t || t->op != IR_BR) break;
            IrBlock *b = t->target[0];
            if (b == p || b == f->blocks.data[0] || b->npreds != 1 || b->preds[0] != p) break;
            /* b's phis have one operand */
            IrInst *next;
            for (IrInst *i = b->first; i && i->op == IR_PHI; i = next) {
                next = i->next;
                i->aux = i->ops[0];
                ir_remove(i);
            }
            ir_remove(t);
            ir_merge_block_into(p, b);
            dead[b->id] = true;
            merged = changed = true;
        }
    }
    if (merged) {
        int j = 0;
        for (int bi = 0; bi < f->blocks.len; bi++)
            if (!dead[f->blocks.data[bi]->id]) f->blocks.data[j++] = f->blocks.data[bi];
        f->blocks.len = j;
        resolve_all(f);
    }

    /* 5. empty forwarding blocks */
    bool forwarded = false;
    for (int bi = 1; bi < f->blocks.len; bi++) {
        IrBlock *b = f->blocks.data[bi];
        IrInst *t = b->first;
        if (!t || t != b->last || t->op != IR_BR || b->npreds == 0) continue;
        IrBlock *s = t->target[0];
        if (s == b) continue;
        int e = -1; /* the edge b -> s in s's preds */
        for (int k = 0; k < s->npreds; k++)
            if (s->preds[k] == b) e = k;
        if (e < 0) continue;
        bool has_phis = s->first && s->first->op == IR_PHI;
        if (has_phis) {
            bool clash = false;
            for (int k = 0; k < b->npreds && !clash; k++)
                for (int j = 0; j < s->npreds && !clash; j++) clash = s->preds[j] == b->preds[k];
            /* b's predecessors may reach b twice (cbr b, b): fine, one value per block */
            if (clash) continue;
        }
        /* s's edge e is replaced by one edge per predecessor of b */
        int nn = s->npreds - 1 + b->npreds;
        IrBlock **np = arena_alloc(a, sizeof *np * (size_t)nn);
        int w = 0;
        for (int k = 0; k < s->npreds; k++) {
            if (k == e) {
                for (int q = 0; q < b->npreds; q++) np[w++] = b->preds[q];
            } else {
                np[w++] = s->preds[k];
            }
        }
        for (IrInst *p = s->first; p && p->op == IR_PHI; p = p->next) {
            IrInst **ops = arena_alloc(a, sizeof *ops * (size_t)nn);
            int o = 0;
            for (int k = 0; k < p->nops; k++) {
                if (k == e) {
                    for (int q = 0; q < b->npreds; q++) ops[o++] = p->ops[e];
                } else {
                    ops[o++] = p->ops[k];
                }
            }
            p->ops = ops;
            p->nops = nn;
        }
        set_preds(a, s, np, nn);
        for (int q = 0; q < b->npreds; q++) {
            IrInst *pt = ir_terminator(b->preds[q]);
            for (int k = 0; k < 2; k++)
                if (pt->target[k] == b) pt->target[k] = s;
        }
        b->npreds = 0; /* now unreachable */
        b->preds = NULL;
        forwarded = changed = true;
    }
    if (forwarded) {
        ir_remove_unreachable_blocks(f);
        ir_recompute_preds(f);
    }
    return changed;
}

bool pass_simplifycfg(IrModule *m, Arena *scratch)
{
    return pass_each_func(m, scratch, simplify_func);
}
