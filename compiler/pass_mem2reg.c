/* pass_mem2reg.c: promotes private local slots to SSA values (Cytron et al.: phis at the
 * iterated dominance frontier of the stores, only where the slot is live on entry: pruned
 * SSA; then renaming along the dominator tree).
 *
 * A slot is promoted when its type is a scalar, vector or struct (not an array) and every
 * access is a LOAD or STORE (no ATOMIC). Accesses with a constant path become EXTRACT
 * (loads) and EXTRACT/INSERT chains (stores) on the slot's current value. A load before
 * any store reads UNDEF. Promoted slots and slots never accessed are removed from
 * f->locals (the others are renumbered), so backends declare only memory that is used.
 * Requires: exact preds. Unreachable blocks are removed first.
 */
#include "passes.h"

#include <string.h>

typedef struct M2R {
    IrFunc *f;
    Arena *s;
    IrDom *dom;
    int nslots;
    int *promo; /* by local slot: index among promoted slots, or -1 */
    int npromo;
    int *slot_of;  /* promoted index -> local slot */
    IrInst **repl; /* by inst id (< nid0): value replacing a removed LOAD */
    int nid0;
    int *phi_slot; /* by phi id - phi_base: promoted index */
    int phi_base, nphis;
    IrInst **undef; /* by promoted index: lazily made UNDEF in the entry */
} M2R;

static IrInst *resolve(M2R *c, IrInst *v)
{
    while (v->id < c->nid0 && c->repl[v->id]) v = c->repl[v->id];
    return v;
}

static IrInst *undef_of(M2R *c, int p)
{
    if (!c->undef[p]) {
        IrBlock *e = c->f->blocks.data[0];
        IrInst *u = ir_inst_new(c->f, IR_UNDEF, c->f->locals.data[c->slot_of[p]].type, NULL, 0);
        IrInst *pos = e->first;
        while (pos && pos->op == IR_PHI) pos = pos->next;
        ir_insert_before(pos, u);
        c->undef[p] = u;
    }
    return c->undef[p];
}

static Type *component_type(Type *t, int k)
{
    return t->kind == TY_STRUCT ? t->fields[k].type : t->elem;
}

/* new instruction before `pos` */
static IrInst *emit_before(M2R *c, IrInst *pos, IrOp op, Type *t, IrInst *const *ops, int n,
                           int idx)
{
    IrInst *i = ir_inst_new(c->f, op, t, ops, n);
    i->idx = idx;
    i->loc = pos->loc;
    ir_insert_before(pos, i);
    return i;
}

bool pass_mem2reg(IrModule *m, Arena *scratch)
{
    bool changed = false;
    for (int fi = 0; fi < m->funcs.len; fi++) {
        IrFunc *f = m->funcs.data[fi];
        if (f->locals.len == 0 || f->blocks.len == 0) continue;
        ice_context(f->name);
        M2R c = {.f = f, .s = scratch, .nslots = f->locals.len};
        c.promo = arena_alloc(scratch, sizeof *c.promo * (size_t)c.nslots);
        bool *bad = arena_alloc(scratch, sizeof *bad * (size_t)c.nslots);
        bool *used = arena_alloc(scratch, sizeof *used * (size_t)c.nslots);
        for (int s = 0; s < c.nslots; s++) {
            Type *t = f->locals.data[s].type;
            bad[s] = !(ty_is_scalar(t) || t->kind == TY_VEC || t->kind == TY_STRUCT);
        }
        ir_remove_unreachable_blocks(f);
        for (int bi = 0; bi < f->blocks.len; bi++)
            for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next) {
                if (i->op != IR_LOAD && i->op != IR_STORE && i->op != IR_ATOMIC) continue;
                if (i->mem.kind != MEM_LOCAL) continue;
                used[i->mem.id] = true;
                if (i->op == IR_ATOMIC || i->mem.nidx != 0) bad[i->mem.id] = true;
            }
        c.slot_of = arena_alloc(scratch, sizeof *c.slot_of * (size_t)c.nslots);
        for (int s = 0; s < c.nslots; s++) {
            c.promo[s] = -1;
            if (used[s] && !bad[s]) {
                c.promo[s] = c.npromo;
                c.slot_of[c.npromo++] = s;
            }
        }
        bool any_unused = false;
        for (int s = 0; s < c.nslots; s++) any_unused |= !used[s];
        if (c.npromo == 0 && !any_unused) continue;
        changed = true;

        IrDom *d = ir_dom_compute(scratch, f);
        c.dom = d;
        IrDomFrontier *df = ir_dom_frontier(scratch, d);
        c.nid0 = f->next_id;
        c.repl = arena_alloc(scratch, sizeof *c.repl * (size_t)(c.nid0 + 1));
        c.undef = arena_alloc(scratch, sizeof *c.undef * (size_t)c.npromo);

        /* per slot: the blocks that store it (defs) and the blocks that read it before
         * storing it themselves (upward-exposed uses), as CSR lists indexed by slot */
        int n = d->n;
        int *ndef = arena_alloc(scratch, sizeof *ndef * (size_t)(c.npromo + 1));
        int *nue = arena_alloc(scratch, sizeof *nue * (size_t)(c.npromo + 1));
        int *defs = NULL, *ue = NULL;
        int *stored_in = arena_alloc(scratch, sizeof *stored_in * (size_t)c.npromo); /* rpo + 1 */
        int *read_in = arena_alloc(scratch, sizeof *read_in * (size_t)c.npromo);     /* rpo + 1 */
        int *dfill = arena_alloc(scratch, sizeof *dfill * (size_t)c.npromo);
        int *ufill = arena_alloc(scratch, sizeof *ufill * (size_t)c.npromo);
        for (int round = 0; round < 2; round++) { /* 0: count, 1: fill */
            for (int p = 0; p < c.npromo; p++) stored_in[p] = read_in[p] = 0;
            for (int r = 0; r < n; r++)
                for (IrInst *i = d->rpo[r]->first; i; i = i->next) {
                    if ((i->op != IR_STORE && i->op != IR_LOAD) || i->mem.kind != MEM_LOCAL ||
                        c.promo[i->mem.id] < 0)
                        continue;
                    int p = c.promo[i->mem.id];
                    bool reads =
                        i->op == IR_LOAD || i->mem.npath > 0; /* partial store reads the rest */
                    if (reads && stored_in[p] != r + 1 && read_in[p] != r + 1) {
                        read_in[p] = r + 1;
                        if (round == 0)
                            nue[p + 1]++;
                        else
                            ue[nue[p] + ufill[p]++] = r;
                    }
                    if (i->op == IR_STORE && stored_in[p] != r + 1) {
                        stored_in[p] = r + 1;
                        if (round == 0)
                            ndef[p + 1]++;
                        else
                            defs[ndef[p] + dfill[p]++] = r;
                    }
                }
            if (round == 0) {
                for (int p = 0; p < c.npromo; p++) {
                    ndef[p + 1] += ndef[p];
                    nue[p + 1] += nue[p];
                }
                defs = arena_alloc(scratch, sizeof *defs * (size_t)(ndef[c.npromo] + 1));
                ue = arena_alloc(scratch, sizeof *ue * (size_t)(nue[c.npromo] + 1));
            }
        }

        /* phi placement (pruned SSA): per slot, the iterated frontier of its stores,
         * restricted to blocks where the slot is live on entry */
        int *live = arena_alloc(scratch, sizeof *live * (size_t)n);     /* slot + 1: live-in */
        int *is_def = arena_alloc(scratch, sizeof *is_def * (size_t)n); /* slot + 1 */
        int *has_phi = arena_alloc(scratch, sizeof *has_phi * (size_t)n);
        int *in_work = arena_alloc(scratch, sizeof *in_work * (size_t)n);
        int *work = arena_alloc(scratch, sizeof *work * (size_t)n);
        c.phi_base = f->next_id;
        VEC(int) phi_slots = {0};
        for (int p = 0; p < c.npromo; p++) {
            int stamp = p + 1, nw = 0;
            for (int k = ndef[p]; k < ndef[p + 1]; k++) is_def[defs[k]] = stamp;
            /* live-in: backwards from the upward-exposed uses, stopping at stores */
            for (int k = nue[p]; k < nue[p + 1]; k++) {
                live[ue[k]] = stamp;
                work[nw++] = ue[k];
            }
            while (nw > 0) {
                IrBlock *b = d->rpo[work[--nw]];
                for (int e = 0; e < b->npreds; e++) {
                    int q = d->rpo_index[b->preds[e]->id];
                    if (q < 0 || live[q] == stamp || is_def[q] == stamp) continue;
                    live[q] = stamp;
                    work[nw++] = q;
                }
            }
            for (int k = ndef[p]; k < ndef[p + 1]; k++) {
                in_work[defs[k]] = stamp;
                work[nw++] = defs[k];
            }
            while (nw > 0) {
                int r = work[--nw];
                for (int k = 0; k < df->ndf[r]; k++) {
                    int y = df->df[r][k];
                    if (has_phi[y] == stamp || live[y] != stamp) continue;
                    has_phi[y] = stamp;
                    IrBlock *yb = d->rpo[y];
                    IrInst *phi =
                        ir_inst_new(f, IR_PHI, f->locals.data[c.slot_of[p]].type, NULL, yb->npreds);
                    phi->loc = f->locals.data[c.slot_of[p]].loc;
                    if (yb->first)
                        ir_insert_before(yb->first, phi);
                    else
                        ir_append(yb, phi);
                    while (phi_slots.len < phi->id - c.phi_base) vec_push(scratch, &phi_slots, -1);
                    vec_push(scratch, &phi_slots, p);
                    if (in_work[y] != stamp) {
                        in_work[y] = stamp;
                        work[nw++] = y;
                    }
                }
            }
        }
        c.phi_slot = phi_slots.data;
        c.nphis = phi_slots.len;

        /* renaming: iterative preorder walk of the dominator tree; cur[] saved per level */
        IrInst **cur = arena_alloc(scratch, sizeof *cur * (size_t)c.npromo);
        typedef struct Undo {
            int p;
            IrInst *old;
        } Undo;
        VEC(Undo) undo = {0};
        int *stack = arena_alloc(scratch, sizeof *stack * (size_t)(n + 1));
        int *next_kid = arena_alloc(scratch, sizeof *next_kid * (size_t)(n + 1));
        int *undo_mark = arena_alloc(scratch, sizeof *undo_mark * (size_t)(n + 1));
        int sp = 0;
        stack[sp] = 0;
        next_kid[sp] = -1;
        sp++;
        while (sp > 0) {
            int r = stack[sp - 1];
            if (next_kid[sp - 1] < 0) {
                /* enter block r */
                next_kid[sp - 1] = d->kid_start[r];
                undo_mark[sp - 1] = undo.len;
                IrBlock *b = d->rpo[r];
                IrInst *nexti;
                for (IrInst *i = b->first; i; i = nexti) {
                    nexti = i->next;
                    if (i->op == IR_PHI) {
                        int k = i->id - c.phi_base;
                        if (k >= 0 && k < c.nphis && c.phi_slot[k] >= 0) {
                            int p = c.phi_slot[k];
                            vec_push(scratch, &undo, ((Undo){p, cur[p]}));
                            cur[p] = i;
                            continue;
                        }
                    }
                    for (int o = 0; o < i->nops; o++) i->ops[o] = resolve(&c, i->ops[o]);
                    if ((i->op != IR_LOAD && i->op != IR_STORE) || i->mem.kind != MEM_LOCAL ||
                        c.promo[i->mem.id] < 0)
                        continue;
                    int p = c.promo[i->mem.id];
                    const IrMemRef *mr = &i->mem;
                    bool whole_store = i->op == IR_STORE && mr->npath == 0;
                    IrInst *v = cur[p] || whole_store ? cur[p] : undef_of(&c, p);
                    if (i->op == IR_LOAD) {
                        for (int k = 0; k < mr->npath; k++) {
                            Type *t = component_type(v->type, mr->path[k]);
                            v = emit_before(&c, i, IR_EXTRACT, t, &v, 1, mr->path[k]);
                        }
                        c.repl[i->id] = v;
                    } else {
                        IrInst *val = i->ops[i->nops - 1];
                        IrInst *agg[IR_MAX_PATH + 1];
                        agg[0] = v;
                        for (int k = 0; k + 1 < mr->npath; k++)
                            agg[k + 1] = emit_before(&c, i, IR_EXTRACT,
                                                     component_type(agg[k]->type, mr->path[k]),
                                                     &agg[k], 1, mr->path[k]);
                        for (int k = mr->npath - 1; k >= 0; k--) {
                            IrInst *ops[2] = {agg[k], val};
                            val = emit_before(&c, i, IR_INSERT, agg[k]->type, ops, 2, mr->path[k]);
                        }
                        vec_push(scratch, &undo, ((Undo){p, cur[p]}));
                        cur[p] = val;
                    }
                    ir_remove(i);
                }
                /* fill the phis of the successors for the edges from b */
                IrBlock *succ[2];
                int ns = ir_succs(b, succ);
                for (int s = 0; s < ns; s++) {
                    if (s == 1 && succ[1] == succ[0]) break;
                    IrBlock *sb = succ[s];
                    for (IrInst *phi = sb->first; phi && phi->op == IR_PHI; phi = phi->next) {
                        int k = phi->id - c.phi_base;
                        if (k < 0 || k >= c.nphis || c.phi_slot[k] < 0) continue;
                        int p = c.phi_slot[k];
                        IrInst *v = cur[p] ? cur[p] : undef_of(&c, p);
                        for (int e = 0; e < sb->npreds; e++)
                            if (sb->preds[e] == b) phi->ops[e] = v;
                    }
                }
            }
            if (next_kid[sp - 1] < d->kid_start[r + 1]) {
                int kid = d->kids[next_kid[sp - 1]++];
                stack[sp] = kid;
                next_kid[sp] = -1;
                sp++;
            } else {
                /* leave block r: restore the values current at its entry */
                while (undo.len > undo_mark[sp - 1]) {
                    Undo u = undo.data[--undo.len];
                    cur[u.p] = u.old;
                }
                sp--;
            }
        }
        /* phi operands from unreachable predecessors cannot exist (removed above); resolve
         * every remaining use of a removed load */
        for (int bi = 0; bi < f->blocks.len; bi++)
            for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next)
                for (int o = 0; o < i->nops; o++) i->ops[o] = resolve(&c, i->ops[o]);

        /* drop the promoted and the never-accessed slots, renumbering the others */
        int *newid = arena_alloc(scratch, sizeof *newid * (size_t)c.nslots);
        int kept = 0;
        for (int s = 0; s < c.nslots; s++) {
            newid[s] = used[s] && c.promo[s] < 0 ? kept : -1;
            if (newid[s] >= 0) f->locals.data[kept++] = f->locals.data[s];
        }
        f->locals.len = kept;
        for (int bi = 0; bi < f->blocks.len; bi++)
            for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next)
                if ((i->op == IR_LOAD || i->op == IR_STORE || i->op == IR_ATOMIC) &&
                    i->mem.kind == MEM_LOCAL) {
                    ICE_ASSERT(newid[i->mem.id] >= 0);
                    i->mem.id = newid[i->mem.id];
                }
    }
    ice_context(NULL);
    return changed;
}
