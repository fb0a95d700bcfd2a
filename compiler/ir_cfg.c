/* ir_cfg.c: post-dominators, natural loops and the region tree (see ir_cfg.h). */
#include "ir_cfg.h"

#include <string.h>

/* ---------------------------------------------------------------- facts */

/* Immediate post-dominators (Cooper, Harvey & Kennedy on the reverse CFG): node n is the
 * exit, the successor of every block ending in ret/unreachable. */
static int *post_dominators(Arena *a, const IrDom *d)
{
    int n = d->n, X = n;
    int *num = arena_alloc(a, sizeof(int) * (size_t)(n + 1)); /* postorder number, -1 unseen */
    int *ord = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    int *stack = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    int *next = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    for (int i = 0; i <= n; i++) num[i] = -1;
    /* DFS from the exit over reversed edges (to CFG predecessors) */
    int sp = 0, no = 0;
    uint8_t *seen = arena_alloc(a, (size_t)n + 1);
    stack[sp++] = X;
    seen[X] = 1;
    while (sp) {
        int x = stack[sp - 1], y = -1;
        if (x == X) {
            while (next[x] < n) {
                IrInst *t = ir_terminator(d->rpo[next[x]]);
                int c = next[x]++;
                if (t && (t->op == IR_RET || t->op == IR_UNREACHABLE) && !seen[c]) {
                    y = c;
                    break;
                }
            }
        } else {
            IrBlock *b = d->rpo[x];
            while (next[x] < b->npreds) {
                int p = d->rpo_index[b->preds[next[x]++]->id];
                if (p >= 0 && !seen[p]) {
                    y = p;
                    break;
                }
            }
        }
        if (y >= 0) {
            seen[y] = 1;
            stack[sp++] = y;
        } else {
            num[x] = no;
            ord[no++] = x;
            sp--;
        }
    }
    int *idom = arena_alloc(a, sizeof(int) * (size_t)(n + 1)); /* by postorder number */
    for (int i = 0; i < no; i++) idom[i] = -1;
    int root = num[X];
    idom[root] = root;
    bool changed = true;
    while (changed) {
        changed = false;
        for (int k = no - 1; k >= 0; k--) {
            int x = ord[k];
            if (x == X) continue;
            IrBlock *b = d->rpo[x], *succ[2];
            int ns = ir_succs(b, succ), nd = -1, cand[3], nc = 0;
            IrInst *t = ir_terminator(b);
            for (int j = 0; j < ns; j++)
                if (d->rpo_index[succ[j]->id] >= 0) cand[nc++] = num[d->rpo_index[succ[j]->id]];
            if (t && (t->op == IR_RET || t->op == IR_UNREACHABLE)) cand[nc++] = root;
            for (int j = 0; j < nc; j++) {
                int p = cand[j];
                if (p < 0 || idom[p] < 0) continue;
                if (nd < 0) {
                    nd = p;
                    continue;
                }
                int f1 = p, f2 = nd;
                while (f1 != f2) {
                    while (f1 < f2) f1 = idom[f1];
                    while (f2 < f1) f2 = idom[f2];
                }
                nd = f1;
            }
            if (nd >= 0 && idom[num[x]] != nd) {
                idom[num[x]] = nd;
                changed = true;
            }
        }
    }
    int *ipdom = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    for (int x = 0; x < n; x++) {
        if (num[x] < 0 || idom[num[x]] < 0) {
            ipdom[x] = -2;
            continue;
        }
        int p = ord[idom[num[x]]];
        ipdom[x] = p == X ? -1 : p;
    }
    return ipdom;
}

/* Natural loops in time and memory linear in the total size of their bodies (a block counts
 * once per loop holding it): one membership stamp for all loops, each body a block list, exits
 * from the body's successors. (One byte per block id per loop, and an exit array of every
 * block per loop, made 128 inlined copies of a helper with 8 loops take 260 MB.) */
static void find_loops(Arena *a, IrCfg *c)
{
    const IrFunc *f = c->f;
    IrDom *d = c->dom;
    int n = d->n, nid = f->next_id + 1;
    int *hdr = arena_alloc(a, sizeof(int) * (size_t)nid);
    for (int i = 0; i < nid; i++) hdr[i] = -1;
    int nl = 0;
    for (int i = 0; i < n; i++) {
        IrBlock *b = d->rpo[i];
        for (int k = 0; k < b->npreds; k++) {
            IrBlock *p = b->preds[k];
            if (d->rpo_index[p->id] < 0) continue;
            if (ir_dominates(d, b, p)) {
                if (hdr[b->id] < 0) hdr[b->id] = nl++;
            } else {
                c->fwd_preds[b->id]++;
                if (d->rpo_index[p->id] >= i) c->reducible = false;
            }
        }
    }
    c->nloops = nl;
    c->loops = arena_alloc(a, sizeof(IrLoop) * (size_t)(nl + 1));
    /* stamp[id] == l + 1: block id is in the body of loop l (the loop being built); exit[id]:
       the same for the exits found so far */
    int *stamp = arena_alloc(a, sizeof(int) * (size_t)nid);
    int *exit_stamp = arena_alloc(a, sizeof(int) * (size_t)nid);
    IrBlock **stack = arena_alloc(a, sizeof(IrBlock *) * (size_t)(f->blocks.len + 1));
    IrBlock **tmp = arena_alloc(a, sizeof(IrBlock *) * (size_t)(f->blocks.len + 1));
    for (int i = 0; i < n; i++) {
        IrBlock *h = d->rpo[i];
        int l = hdr[h->id];
        if (l < 0) continue;
        IrLoop *L = &c->loops[l];
        L->header = h;
        int nb = 0, sp = 0;
        stamp[h->id] = l + 1;
        tmp[nb++] = h;
        L->latches = arena_alloc(a, sizeof(IrBlock *) * (size_t)(h->npreds + 1));
        for (int k = 0; k < h->npreds; k++) {
            IrBlock *p = h->preds[k];
            if (d->rpo_index[p->id] < 0 || !ir_dominates(d, h, p)) continue;
            bool dup = false;
            for (int j = 0; j < L->nlatches; j++) dup |= L->latches[j] == p;
            if (!dup) L->latches[L->nlatches++] = p;
            if (stamp[p->id] != l + 1) {
                stamp[p->id] = l + 1;
                tmp[nb++] = stack[sp++] = p;
            }
        }
        while (sp) {
            IrBlock *b = stack[--sp];
            for (int k = 0; k < b->npreds; k++) {
                IrBlock *p = b->preds[k];
                if (d->rpo_index[p->id] < 0 || stamp[p->id] == l + 1) continue;
                stamp[p->id] = l + 1;
                tmp[nb++] = stack[sp++] = p;
            }
        }
        L->nblocks = nb;
        L->blocks = arena_alloc(a, sizeof(IrBlock *) * (size_t)nb);
        memcpy(L->blocks, tmp, sizeof(IrBlock *) * (size_t)nb);
        /* exits: successors outside the body, in rpo order */
        int ne = 0;
        for (int j = 0; j < nb; j++) {
            IrBlock *succ[2];
            int ns = ir_succs(L->blocks[j], succ);
            for (int k = 0; k < ns; k++) {
                IrBlock *s2 = succ[k];
                if (d->rpo_index[s2->id] < 0 || stamp[s2->id] == l + 1 ||
                    exit_stamp[s2->id] == l + 1)
                    continue;
                exit_stamp[s2->id] = l + 1;
                tmp[ne++] = s2;
            }
        }
        for (int j = 1; j < ne; j++) /* insertion sort by rpo index: exits are few */
            for (int k = j; k > 0 && d->rpo_index[tmp[k - 1]->id] > d->rpo_index[tmp[k]->id]; k--) {
                IrBlock *t = tmp[k];
                tmp[k] = tmp[k - 1];
                tmp[k - 1] = t;
            }
        L->nexits = ne;
        L->exits = arena_alloc(a, sizeof(IrBlock *) * (size_t)(ne + 1));
        memcpy(L->exits, tmp, sizeof(IrBlock *) * (size_t)ne);
    }
    /* the innermost loop of each block and the parent of each loop: the smallest loop holding
       it (a header's own loop aside) */
    for (int i = 0; i < nid; i++) c->loop_of[i] = -1;
    for (int l = 0; l < nl; l++) c->loops[l].parent = -1;
    for (int l = 0; l < nl; l++) {
        const IrLoop *L = &c->loops[l];
        for (int j = 0; j < L->nblocks; j++) {
            const IrBlock *b = L->blocks[j];
            int *best = &c->loop_of[b->id];
            if (*best < 0 || L->nblocks < c->loops[*best].nblocks) *best = l;
            int h = hdr[b->id];
            if (h >= 0 && h != l) {
                int *pb = &c->loops[h].parent;
                if (*pb < 0 || L->nblocks < c->loops[*pb].nblocks) *pb = l;
            }
        }
    }
    for (int l = 0; l < nl; l++) {
        int dp = 1;
        for (int p = c->loops[l].parent; p >= 0; p = c->loops[p].parent) dp++;
        c->loops[l].depth = dp;
    }
}

IrCfg *ir_cfg_compute(Arena *a, const IrFunc *f)
{
    IrCfg *c = arena_alloc(a, sizeof *c);
    int nid = f->next_id + 1;
    c->f = f;
    c->reducible = true;
    c->dom = ir_dom_compute(a, f);
    c->loop_of = arena_alloc(a, sizeof(int) * (size_t)nid);
    c->fwd_preds = arena_alloc(a, sizeof(int) * (size_t)nid);
    c->ipdom = post_dominators(a, c->dom);
    find_loops(a, c);
    return c;
}

bool ir_cfg_reachable(const IrCfg *c, const IrBlock *b) { return c->dom->rpo_index[b->id] >= 0; }

const IrBlock *ir_cfg_ipdom(const IrCfg *c, const IrBlock *b)
{
    int r = c->dom->rpo_index[b->id];
    if (r < 0 || c->ipdom[r] < 0) return NULL;
    return c->dom->rpo[c->ipdom[r]];
}

bool ir_cfg_postdominates(const IrCfg *c, const IrBlock *a, const IrBlock *b)
{
    int x = c->dom->rpo_index[a->id], y = c->dom->rpo_index[b->id];
    if (x < 0 || y < 0) return false;
    for (int steps = 0; y >= 0 && steps <= c->dom->n; steps++) {
        if (y == x) return true;
        y = c->ipdom[y];
    }
    return false;
}

bool ir_cfg_is_back_edge(const IrCfg *c, const IrBlock *from, const IrBlock *to)
{
    return ir_cfg_reachable(c, from) && ir_dominates(c->dom, to, from);
}

bool ir_cfg_in_loop(const IrCfg *c, int l, const IrBlock *b)
{
    if (l < 0 || l >= c->nloops || b->id < 0 || b->id > c->f->next_id) return false;
    for (int x = c->loop_of[b->id]; x >= 0; x = c->loops[x].parent) /* the loops holding b */
        if (x == l) return true;
    return false;
}

/* ---------------------------------------------------------------- the region tree */

static IrRegion *rg(Arena *a, IrRegionKind k)
{
    IrRegion *r = arena_alloc(a, sizeof *r);
    r->kind = k;
    return r;
}

static void rg_add(Arena *a, IrRegion *p, IrRegion *k)
{
    if (p->nkids == p->cap) {
        int nc = p->cap ? 2 * p->cap : 4;
        p->kids = arena_realloc(a, p->kids, sizeof(IrRegion *) * (size_t)p->cap,
                                sizeof(IrRegion *) * (size_t)nc);
        p->cap = nc;
    }
    p->kids[p->nkids++] = k;
}

static IrRegion *rg_if(Arena *a, const IrInst *cond, int sel, IrRegion *t, IrRegion *e)
{
    IrRegion *r = rg(a, IR_RG_IF);
    r->cond = cond;
    r->sel = sel;
    rg_add(a, r, t ? t : rg(a, IR_RG_SEQ));
    rg_add(a, r, e ? e : rg(a, IR_RG_SEQ));
    return r;
}

static IrRegion *rg_setsel(Arena *a, int k)
{
    IrRegion *r = rg(a, IR_RG_SETSEL);
    r->sel = k;
    return r;
}

/* Phase 1 builds the tree of Ramsey's translation: labelled blocks (a jump to the label goes
 * to the code after the block), loops (a jump to the label is the next iteration) and jumps
 * to labels. Phase 2 lowers the labelled jumps to fall-through, break, continue or the
 * selector. Labels are codes: 2 * rpo + 1 continues the loop of the header at rpo, 2 * rpo
 * + 2 goes to the code of the join at rpo (the selector values, so 0 means none). */
enum {
    W_SEQ,   /* items in order */
    W_CODE,  /* block b's instructions */
    W_EDGE,  /* the phi copies of the edge b -> to */
    W_IF,    /* if (cond) k0 else k1 */
    W_LOOP,  /* loop `label` { k0 }: jumps to label go back to the top */
    W_BLOCK, /* block `label` { k0 }: jumps to label go to the code after it */
    W_BR,    /* jump to `label` */
    W_RET,   /* block b's ret or unreachable */
};

typedef struct W W;
struct W {
    int kind;
    const IrBlock *b, *to;
    int occ;
    int label; /* W_LOOP, W_BLOCK, W_BR */
    const IrInst *cond;
    W *k0, *k1;
    W **items; /* W_SEQ */
    int n, cap;
};

typedef struct Build {
    Arena *a;
    const IrCfg *c;
    const IrDom *d;
    bool *header;   /* by rpo index */
    bool *follower; /* by rpo index: placed after the loop it leaves (see do_tree) */
    bool uses_sel;
    /* phase 2: the enclosing labelled constructs */
    struct Frame {
        int kind; /* W_LOOP or W_BLOCK */
        int label;
        int fall;    /* W_LOOP: where falling out of the loop statement goes */
        bool broken; /* W_LOOP: a break leaves it */
    } * fr;
    int nfr;
} Build;

static W *w_new(Build *B, int kind)
{
    W *w = arena_alloc(B->a, sizeof *w);
    w->kind = kind;
    return w;
}

static void w_add(Build *B, W *s, W *x)
{
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 4;
        s->items =
            arena_realloc(B->a, s->items, sizeof(W *) * (size_t)s->cap, sizeof(W *) * (size_t)nc);
        s->cap = nc;
    }
    s->items[s->n++] = x;
}

static int rpo_of(Build *B, const IrBlock *b) { return B->d->rpo_index[b->id]; }

static W *do_tree(Build *B, int x);

static bool has_phis(const IrBlock *b) { return b->first && b->first->op == IR_PHI; }

static W *branch(Build *B, int x, const IrBlock *s, int occ)
{
    W *seq = w_new(B, W_SEQ);
    const IrBlock *xb = B->d->rpo[x];
    if (has_phis(s)) {
        W *e = w_new(B, W_EDGE);
        e->b = xb;
        e->to = s;
        e->occ = occ;
        w_add(B, seq, e);
    }
    int r = rpo_of(B, s);
    if (r <= x) {
        W *j = w_new(B, W_BR);
        j->label = 2 * r + 1;
        w_add(B, seq, j);
    } else if (B->c->fwd_preds[s->id] >= 2 || B->follower[r]) {
        W *j = w_new(B, W_BR);
        j->label = 2 * r + 2;
        w_add(B, seq, j);
    } else {
        w_add(B, seq, do_tree(B, r));
    }
    return seq;
}

static W *node_within(Build *B, int x, const int *ys, int n)
{
    W *seq = w_new(B, W_SEQ);
    if (n > 0) {
        W *blk = w_new(B, W_BLOCK);
        blk->label = 2 * ys[n - 1] + 2;
        blk->k0 = node_within(B, x, ys, n - 1);
        w_add(B, seq, blk);
        w_add(B, seq, do_tree(B, ys[n - 1]));
        return seq;
    }
    const IrBlock *b = B->d->rpo[x];
    W *code = w_new(B, W_CODE);
    code->b = b;
    w_add(B, seq, code);
    IrInst *t = ir_terminator(b);
    if (!t) ICE("block b%d has no terminator", b->id);
    switch (t->op) {
    case IR_RET:
    case IR_UNREACHABLE: {
        W *r = w_new(B, W_RET);
        r->b = b;
        w_add(B, seq, r);
        break;
    }
    case IR_BR: w_add(B, seq, branch(B, x, t->target[0], 0)); break;
    case IR_CBR: {
        W *w = w_new(B, W_IF);
        w->cond = t->ops[0];
        w->k0 = branch(B, x, t->target[0], 0);
        w->k1 = branch(B, x, t->target[1], t->target[0] == t->target[1] ? 1 : 0);
        w_add(B, seq, w);
        break;
    }
    default: ICE("terminator %s", ir_op_info[t->op].name);
    }
    return seq;
}

/* The code of x and of the blocks it dominates. A loop header's children outside the loop (its
 * exits) follow the loop, each in a labelled block around it (as joins are), so that leaving
 * the loop for the first of them is a break. */
static W *do_tree(Build *B, int x)
{
    const IrDom *d = B->d;
    int nk = d->kid_start[x + 1] - d->kid_start[x];
    int *ys = arena_alloc(B->a, sizeof(int) * (size_t)(nk + 1)), ny = 0;
    int *outs = arena_alloc(B->a, sizeof(int) * (size_t)(nk + 1)), no = 0;
    const IrLoop *L = B->header[x] ? &B->c->loops[B->c->loop_of[d->rpo[x]->id]] : NULL;
    for (int k = d->kid_start[x]; k < d->kid_start[x + 1]; k++) {
        int y = d->kids[k]; /* ascending */
        if (L && !ir_cfg_in_loop(B->c, B->c->loop_of[d->rpo[x]->id], d->rpo[y])) {
            B->follower[y] = true;
            outs[no++] = y;
        } else if (B->c->fwd_preds[d->rpo[y]->id] >= 2) {
            ys[ny++] = y;
        }
    }
    W *w = node_within(B, x, ys, ny);
    if (!L) return w;
    W *l = w_new(B, W_LOOP);
    l->label = 2 * x + 1;
    l->k0 = w;
    w = l;
    for (int k = 0; k < no; k++) {
        W *seq = w_new(B, W_SEQ), *blk = w_new(B, W_BLOCK);
        blk->label = 2 * outs[k] + 2;
        blk->k0 = w;
        w_add(B, seq, blk);
        w_add(B, seq, do_tree(B, outs[k]));
        w = seq;
    }
    return w;
}

/* ---- phase 2 ---- */

typedef struct Labels {
    int *v;
    int n, cap;
} Labels;

static void lab_add(Build *B, Labels *s, int x)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i] == x) return;
    if (s->n == s->cap) {
        int nc = s->cap ? 2 * s->cap : 4;
        s->v = arena_realloc(B->a, s->v, sizeof(int) * (size_t)s->cap, sizeof(int) * (size_t)nc);
        s->cap = nc;
    }
    s->v[s->n++] = x;
}

static void lab_union(Build *B, Labels *s, const Labels *o)
{
    for (int i = 0; i < o->n; i++) lab_add(B, s, o->v[i]);
}

static bool lab_del(Labels *s, int x)
{
    for (int i = 0; i < s->n; i++)
        if (s->v[i] == x) {
            s->v[i] = s->v[--s->n];
            return true;
        }
    return false;
}

/* The lowering of one statement: `next` are the labels whose jumps may still be pending (in
 * the selector) when it completes normally; `loop` those pending when it leaves the innermost
 * enclosing loop by break; falls: it can complete normally. */
typedef struct Low {
    IrRegion *r;
    Labels next, loop;
    bool falls;
} Low;

static void flatten(Build *B, W *seq, W *into)
{
    for (int i = 0; i < seq->n; i++) {
        if (seq->items[i]->kind == W_SEQ)
            flatten(B, seq->items[i], into);
        else
            w_add(B, into, seq->items[i]);
    }
}

static Low lower_seq(Build *B, W **items, int n, int fall, int loop_label);

static Low lower_list(Build *B, W *w, int fall, int loop_label)
{
    W *flat = w_new(B, W_SEQ);
    if (w->kind == W_SEQ)
        flatten(B, w, flat);
    else
        w_add(B, flat, w);
    return lower_seq(B, flat->items, flat->n, fall, loop_label);
}

static int frame_of(Build *B, int label)
{
    for (int i = B->nfr - 1; i >= 0; i--)
        if (B->fr[i].label == label) return i;
    ICE("region tree: jump to label %d outside its construct", label);
}

static int innermost_loop(Build *B)
{
    for (int i = B->nfr - 1; i >= 0; i--)
        if (B->fr[i].kind == W_LOOP) return i;
    return -1;
}

static Low lower_stmt(Build *B, W *w, int fall)
{
    Arena *a = B->a;
    Low L = {0};
    L.falls = true;
    switch (w->kind) {
    case W_SEQ: return lower_list(B, w, fall, 0);
    case W_CODE:
        L.r = rg(a, IR_RG_CODE);
        L.r->b = w->b;
        return L;
    case W_EDGE:
        L.r = rg(a, IR_RG_EDGE);
        L.r->b = w->b;
        L.r->to = w->to;
        L.r->occ = w->occ;
        return L;
    case W_RET:
        L.r = rg(a, IR_RG_RETURN);
        L.r->b = w->b;
        L.falls = false;
        return L;
    case W_IF: {
        Low t = lower_list(B, w->k0, fall, 0), e = lower_list(B, w->k1, fall, 0);
        L.r = rg_if(a, w->cond, 0, t.r, e.r);
        lab_union(B, &L.next, &t.next);
        lab_union(B, &L.next, &e.next);
        lab_union(B, &L.loop, &t.loop);
        lab_union(B, &L.loop, &e.loop);
        L.falls = t.falls || e.falls;
        return L;
    }
    case W_LOOP: {
        if (B->nfr % 16 == 0)
            B->fr = arena_realloc(a, B->fr, sizeof(*B->fr) * (size_t)B->nfr,
                                  sizeof(*B->fr) * (size_t)(B->nfr + 16));
        B->fr[B->nfr++] = (struct Frame){W_LOOP, w->label, fall, false};
        Low body = lower_list(B, w->k0, w->label, w->label);
        bool broken = B->fr[--B->nfr].broken;
        L.r = rg(a, IR_RG_LOOP);
        rg_add(a, L.r, body.r);
        L.next = body.loop;
        L.falls = broken;
        return L;
    }
    case W_BLOCK: {
        if (B->nfr % 16 == 0)
            B->fr = arena_realloc(a, B->fr, sizeof(*B->fr) * (size_t)B->nfr,
                                  sizeof(*B->fr) * (size_t)(B->nfr + 16));
        B->fr[B->nfr++] = (struct Frame){W_BLOCK, w->label, 0, false};
        Low body = lower_list(B, w->k0, w->label, 0);
        B->nfr--;
        /* lower_seq resets the selector after the block when a jump came through it */
        for (int i = 0; i < body.next.n; i++) body.falls |= body.next.v[i] == w->label;
        return body;
    }
    case W_BR: {
        int lab = w->label;
        if (lab == fall) {
            L.r = rg(a, IR_RG_SEQ);
            return L;
        }
        int fi = frame_of(B, lab), li = innermost_loop(B);
        L.falls = false;
        if (li == fi && B->fr[fi].kind == W_LOOP) {
            L.r = rg(a, IR_RG_CONTINUE);
            return L;
        }
        if (li > fi && B->fr[li].fall == lab) {
            /* out of the innermost loop, which then falls to the label */
            B->fr[li].broken = true;
            L.r = rg(a, IR_RG_BREAK);
            return L;
        }
        B->uses_sel = true;
        L.r = rg(a, IR_RG_SEQ);
        rg_add(a, L.r, rg_setsel(a, lab));
        if (li > fi) {
            B->fr[li].broken = true;
            rg_add(a, L.r, rg(a, IR_RG_BREAK));
            lab_add(B, &L.loop, lab);
        } else {
            lab_add(B, &L.next, lab);
            L.falls = true;
        }
        return L;
    }
    default: ICE("region tree: W kind %d", w->kind);
    }
}

/* Lowers items[0..n-1], a statement list whose end goes to `fall` (0: nowhere); loop_label
 * is the loop's label when the list is the body of that loop. Pending jumps after a
 * statement are resolved where their label is (the end of a labelled block, the body of the
 * loop they continue) and otherwise skip the rest: a guard in a plain list, a break at the
 * top of a loop body. */
static Low lower_seq(Build *B, W **items, int n, int fall, int loop_label)
{
    Arena *a = B->a;
    Low L = {0};
    L.r = rg(a, IR_RG_SEQ);
    L.falls = true;
    for (int i = 0; i < n; i++) {
        bool last = i == n - 1;
        Low s = lower_stmt(B, items[i], last ? fall : 0);
        rg_add(a, L.r, s.r);
        lab_union(B, &L.loop, &s.loop);
        L.falls = s.falls;
        if (items[i]->kind == W_BLOCK && lab_del(&s.next, items[i]->label)) {
            /* some jumps to the code after the block came through the selector */
            if (s.next.n == 0) {
                rg_add(a, L.r, rg_setsel(a, 0));
            } else {
                IrRegion *t = rg(a, IR_RG_SEQ);
                rg_add(a, t, rg_setsel(a, 0));
                rg_add(a, L.r, rg_if(a, NULL, items[i]->label, t, NULL));
            }
        }
        if (s.next.n == 0) continue;
        if (loop_label) {
            if (lab_del(&s.next, loop_label)) {
                IrRegion *t = rg(a, IR_RG_SEQ);
                rg_add(a, t, rg_setsel(a, 0));
                if (!last) rg_add(a, t, rg(a, IR_RG_CONTINUE));
                rg_add(a, L.r, rg_if(a, NULL, loop_label, t, NULL));
            }
            if (s.next.n) {
                IrRegion *e = rg(a, IR_RG_SEQ);
                rg_add(a, e, rg(a, IR_RG_BREAK));
                rg_add(a, L.r, rg_if(a, NULL, 0, NULL, e));
                B->fr[B->nfr - 1].broken = true;
                lab_union(B, &L.loop, &s.next);
            }
            continue;
        }
        if (last) {
            lab_union(B, &L.next, &s.next);
            break;
        }
        Low rest = lower_seq(B, items + i + 1, n - i - 1, fall, 0);
        rg_add(a, L.r, rg_if(a, NULL, 0, rest.r, NULL));
        lab_union(B, &L.next, &s.next);
        lab_union(B, &L.next, &rest.next);
        lab_union(B, &L.loop, &rest.loop);
        L.falls = true;
        break;
    }
    return L;
}

/* the irreducible fallback: for (;;) { if (sel == code(b)) { b; sel = code(succ); continue; } } */
static IrRegion *dispatch(Build *B)
{
    Arena *a = B->a;
    const IrDom *d = B->d;
    IrRegion *root = rg(a, IR_RG_SEQ), *body = rg(a, IR_RG_SEQ), *loop = rg(a, IR_RG_LOOP);
    rg_add(a, root, rg_setsel(a, 1));
    rg_add(a, loop, body);
    rg_add(a, root, loop);
    for (int x = 0; x < d->n; x++) {
        const IrBlock *b = d->rpo[x];
        IrRegion *c = rg(a, IR_RG_SEQ);
        IrRegion *code = rg(a, IR_RG_CODE);
        code->b = b;
        rg_add(a, c, code);
        IrInst *t = ir_terminator(b);
        IrRegion *arms[2] = {NULL, NULL};
        int ns = t->op == IR_BR ? 1 : t->op == IR_CBR ? 2 : 0;
        for (int k = 0; k < ns; k++) {
            const IrBlock *s = t->target[k];
            IrRegion *arm = arms[k] = rg(a, IR_RG_SEQ);
            if (has_phis(s)) {
                IrRegion *e = rg(a, IR_RG_EDGE);
                e->b = b;
                e->to = s;
                e->occ = k == 1 && t->target[0] == s ? 1 : 0;
                rg_add(a, arm, e);
            }
            rg_add(a, arm, rg_setsel(a, rpo_of(B, s) + 1));
            rg_add(a, arm, rg(a, IR_RG_CONTINUE));
        }
        if (ns == 0) {
            IrRegion *r = rg(a, IR_RG_RETURN);
            r->b = b;
            rg_add(a, c, r);
        } else if (ns == 1) {
            rg_add(a, c, arms[0]);
        } else {
            rg_add(a, c, rg_if(a, t->ops[0], 0, arms[0], arms[1]));
        }
        rg_add(a, body, rg_if(a, NULL, x + 1, c, NULL));
    }
    rg_add(a, body, rg(a, IR_RG_RETURN)); /* never reached */
    return root;
}

static bool breaks_out(const IrRegion *r)
{
    if (r->kind == IR_RG_BREAK) return true;
    if (r->kind == IR_RG_LOOP) return false;
    for (int k = 0; k < r->nkids; k++)
        if (breaks_out(r->kids[k])) return true;
    return false;
}

bool ir_region_falls(const IrRegion *r)
{
    switch (r->kind) {
    case IR_RG_SEQ:
        for (int k = 0; k < r->nkids; k++)
            if (!ir_region_falls(r->kids[k])) return false;
        return true;
    case IR_RG_IF: return ir_region_falls(r->kids[0]) || ir_region_falls(r->kids[1]);
    case IR_RG_LOOP: return breaks_out(r->kids[0]);
    case IR_RG_BREAK:
    case IR_RG_CONTINUE:
    case IR_RG_RETURN: return false;
    default: return true;
    }
}

static bool rg_empty(const IrRegion *r)
{
    if (r->kind != IR_RG_SEQ) return false;
    for (int k = 0; k < r->nkids; k++)
        if (!rg_empty(r->kids[k])) return false;
    return true;
}

/* Closer to the source: an if whose one arm ends in a jump keeps only that arm (negated when
 * it is the else) and the other arm follows it, as `if (c) break;` is written; an empty then
 * arm turns the condition around. Nested lists are flattened. Top down, each region visited
 * once: an arm that follows its if is flattened straight into the list that holds the if (a
 * chain of K such ifs, an inlined function's returns, used to be copied list into list, K^2/2
 * pointers: 2 GB for 4096 inlined calls). Emptiness and falling through do not change with
 * tidying, so they are asked before it. */
static void tidy_into(Arena *a, IrRegion *out, IrRegion *x);

static void turn_empty_then(IrRegion *r)
{
    if (r->kind == IR_RG_IF && rg_empty(r->kids[0]) && !rg_empty(r->kids[1])) {
        IrRegion *t = r->kids[0];
        r->kids[0] = r->kids[1];
        r->kids[1] = t;
        r->neg = !r->neg;
    }
}

static void tidy(Arena *a, IrRegion *r)
{
    if (r->kind == IR_RG_SEQ) {
        IrRegion **old = r->kids;
        int n = r->nkids;
        r->kids = NULL;
        r->nkids = r->cap = 0;
        for (int k = 0; k < n; k++) tidy_into(a, r, old[k]);
        return;
    }
    turn_empty_then(r);
    for (int k = 0; k < r->nkids; k++) tidy(a, r->kids[k]);
}

/* appends x, tidied, to the list out */
static void tidy_into(Arena *a, IrRegion *out, IrRegion *x)
{
    if (x->kind == IR_RG_SEQ) {
        for (int j = 0; j < x->nkids; j++) tidy_into(a, out, x->kids[j]);
        return;
    }
    turn_empty_then(x);
    if (x->kind == IR_RG_IF && !rg_empty(x->kids[1])) {
        int arm = !ir_region_falls(x->kids[0]) ? 1 : !ir_region_falls(x->kids[1]) ? 0 : -1;
        if (arm >= 0) {
            IrRegion *rest = x->kids[arm];
            if (arm == 0) {
                x->kids[0] = x->kids[1];
                x->neg = !x->neg;
            }
            x->kids[1] = rg(a, IR_RG_SEQ);
            tidy(a, x->kids[0]);
            rg_add(a, out, x);
            tidy_into(a, out, rest);
            return;
        }
    }
    tidy(a, x);
    rg_add(a, out, x);
}

IrRegionTree *ir_cfg_regions(Arena *a, const IrCfg *c)
{
    IrRegionTree *t = arena_alloc(a, sizeof *t);
    Build B = {a, c, c->dom, NULL, NULL, false, NULL, 0};
    int n = c->dom->n;
    if (n == 0) {
        t->root = rg(a, IR_RG_SEQ);
        return t;
    }
    if (!c->reducible) {
        t->root = dispatch(&B);
        t->uses_selector = t->dispatch = true;
        return t;
    }
    B.header = arena_alloc(a, sizeof(bool) * (size_t)n);
    B.follower = arena_alloc(a, sizeof(bool) * (size_t)n);
    for (int l = 0; l < c->nloops; l++) B.header[c->dom->rpo_index[c->loops[l].header->id]] = true;
    W *w = do_tree(&B, 0);
    Low L = lower_list(&B, w, 0, 0);
    if (L.next.n || L.loop.n) ICE("region tree: %d jumps left pending", L.next.n + L.loop.n);
    tidy(a, L.r);
    t->root = L.r;
    t->uses_selector = B.uses_sel;
    return t;
}

void ir_region_print(StrBuf *o, const IrRegion *r, int depth)
{
    for (int i = 0; i < depth; i++) sb_puts(o, "  ");
    switch (r->kind) {
    case IR_RG_SEQ:
        sb_puts(o, "seq\n");
        for (int k = 0; k < r->nkids; k++) ir_region_print(o, r->kids[k], depth + 1);
        return;
    case IR_RG_CODE: sb_printf(o, "b%d\n", r->b->id); return;
    case IR_RG_EDGE: sb_printf(o, "edge b%d -> b%d\n", r->b->id, r->to->id); return;
    case IR_RG_IF:
        if (r->cond)
            sb_printf(o, "if %s%%%d\n", r->neg ? "!" : "", r->cond->id);
        else
            sb_printf(o, "if sel %s %d\n", r->neg ? "!=" : "==", r->sel);
        ir_region_print(o, r->kids[0], depth + 1);
        if (r->kids[1]->nkids) {
            for (int i = 0; i < depth; i++) sb_puts(o, "  ");
            sb_puts(o, "else\n");
            ir_region_print(o, r->kids[1], depth + 1);
        }
        return;
    case IR_RG_LOOP:
        sb_puts(o, "loop\n");
        ir_region_print(o, r->kids[0], depth + 1);
        return;
    case IR_RG_BREAK: sb_puts(o, "break\n"); return;
    case IR_RG_CONTINUE: sb_puts(o, "continue\n"); return;
    case IR_RG_RETURN: sb_puts(o, "return\n"); return;
    case IR_RG_SETSEL: sb_printf(o, "sel = %d\n", r->sel); return;
    }
}
