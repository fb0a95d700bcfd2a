/* ir_dom.c: reverse post-order, immediate dominators (Cooper, Harvey & Kennedy, "A Simple,
 * Fast Dominance Algorithm"), the dominator tree with DFS numbers, and dominance frontiers.
 *
 * Only blocks reachable from the entry get an rpo index; the others have rpo_index -1.
 * All arrays live in the caller's arena.
 */
#include "ir.h"

IrDom *ir_dom_compute(Arena *a, const IrFunc *f)
{
    IrDom *d = arena_alloc(a, sizeof *d);
    int nb = f->blocks.len;
    int nid = f->next_id + 1;
    d->rpo_index = arena_alloc(a, sizeof *d->rpo_index * (size_t)nid);
    for (int i = 0; i < nid; i++) d->rpo_index[i] = -1;
    d->rpo = arena_alloc(a, sizeof *d->rpo * (size_t)(nb + 1));
    if (nb == 0) return d;

    /* iterative DFS computing post-order */
    IrBlock **post = arena_alloc(a, sizeof *post * (size_t)nb);
    IrBlock **stack = arena_alloc(a, sizeof *stack * (size_t)nb);
    int *next_succ = arena_alloc(a, sizeof *next_succ * (size_t)nb);
    bool *seen = arena_alloc(a, sizeof *seen * (size_t)nid);
    int sp = 0, np = 0;
    stack[sp++] = f->blocks.data[0];
    seen[f->blocks.data[0]->id] = true;
    while (sp > 0) {
        IrBlock *b = stack[sp - 1];
        IrBlock *succ[2];
        int ns = ir_succs(b, succ);
        if (next_succ[sp - 1] < ns) {
            IrBlock *s = succ[next_succ[sp - 1]++];
            if (!seen[s->id]) {
                seen[s->id] = true;
                next_succ[sp] = 0;
                stack[sp++] = s;
            }
        } else {
            post[np++] = b;
            sp--;
        }
    }
    d->n = np;
    for (int i = 0; i < np; i++) {
        d->rpo[i] = post[np - 1 - i];
        d->rpo_index[d->rpo[i]->id] = i;
    }

    /* Cooper-Harvey-Kennedy: iterate idom over rpo until stable */
    int *idom = arena_alloc(a, sizeof *idom * (size_t)np);
    for (int i = 0; i < np; i++) idom[i] = -1;
    idom[0] = 0;
    bool changed = true;
    while (changed) {
        changed = false;
        for (int i = 1; i < np; i++) {
            IrBlock *b = d->rpo[i];
            int nd = -1;
            for (int k = 0; k < b->npreds; k++) {
                int p = d->rpo_index[b->preds[k]->id];
                if (p < 0 || idom[p] < 0) continue;
                if (nd < 0) {
                    nd = p;
                    continue;
                }
                int x = p, y = nd; /* intersect */
                while (x != y) {
                    while (x > y) x = idom[x];
                    while (y > x) y = idom[y];
                }
                nd = x;
            }
            if (nd >= 0 && idom[i] != nd) {
                idom[i] = nd;
                changed = true;
            }
        }
    }
    d->idom = idom;

    /* dominator tree children (CSR), in ascending rpo order */
    d->kid_start = arena_alloc(a, sizeof *d->kid_start * (size_t)(np + 1));
    d->kids = arena_alloc(a, sizeof *d->kids * (size_t)(np ? np : 1));
    for (int i = 1; i < np; i++) d->kid_start[idom[i] + 1]++;
    for (int i = 0; i < np; i++) d->kid_start[i + 1] += d->kid_start[i];
    int *fill = arena_alloc(a, sizeof *fill * (size_t)np);
    for (int i = 1; i < np; i++) {
        int p = idom[i];
        d->kids[d->kid_start[p] + fill[p]++] = i;
    }

    /* pre/post numbers of an iterative DFS over the tree */
    d->pre = arena_alloc(a, sizeof *d->pre * (size_t)np);
    d->post = arena_alloc(a, sizeof *d->post * (size_t)np);
    int *tstack = arena_alloc(a, sizeof *tstack * (size_t)np);
    int *tnext = arena_alloc(a, sizeof *tnext * (size_t)np);
    int clock = 0;
    sp = 0;
    tstack[sp] = 0;
    tnext[sp++] = d->kid_start[0];
    d->pre[0] = clock++;
    while (sp > 0) {
        int v = tstack[sp - 1];
        if (tnext[sp - 1] < d->kid_start[v + 1]) {
            int c = d->kids[tnext[sp - 1]++];
            d->pre[c] = clock++;
            tstack[sp] = c;
            tnext[sp++] = d->kid_start[c];
        } else {
            d->post[v] = clock++;
            sp--;
        }
    }
    return d;
}

bool ir_dominates(const IrDom *d, const IrBlock *a, const IrBlock *b)
{
    int x = d->rpo_index[a->id], y = d->rpo_index[b->id];
    if (x < 0 || y < 0) return false;
    return d->pre[x] <= d->pre[y] && d->post[y] <= d->post[x];
}

/* Frontiers by the runner walk of Cooper et al.: for each join point b, walk up from each
 * predecessor to idom(b), adding b to the frontier of every block passed. */
IrDomFrontier *ir_dom_frontier(Arena *a, const IrDom *d)
{
    int n = d->n;
    IrDomFrontier *fr = arena_alloc(a, sizeof *fr);
    fr->ndf = arena_alloc(a, sizeof *fr->ndf * (size_t)(n ? n : 1));
    fr->df = arena_alloc(a, sizeof *fr->df * (size_t)(n ? n : 1));
    int *cap = arena_alloc(a, sizeof *cap * (size_t)(n ? n : 1));
    int *last = arena_alloc(a, sizeof *last * (size_t)(n ? n : 1)); /* last b added to df[x] */
    for (int i = 0; i < n; i++) last[i] = -1;
    for (int b = 0; b < n; b++) {
        IrBlock *blk = d->rpo[b];
        if (blk->npreds < 2) continue;
        for (int k = 0; k < blk->npreds; k++) {
            int r = d->rpo_index[blk->preds[k]->id];
            if (r < 0) continue;
            while (r != d->idom[b]) {
                if (last[r] == b) break; /* already walked from here for b */
                last[r] = b;
                if (fr->ndf[r] == cap[r]) {
                    int nc = cap[r] ? cap[r] * 2 : 4;
                    fr->df[r] = arena_realloc(a, fr->df[r], sizeof(int) * (size_t)cap[r],
                                              sizeof(int) * (size_t)nc);
                    cap[r] = nc;
                }
                fr->df[r][fr->ndf[r]++] = b;
                if (r == 0) break;
                r = d->idom[r];
            }
        }
    }
    return fr;
}
