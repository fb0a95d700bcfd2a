/* cg_spirv_cfg.c: structured control flow for the SPIR-V backend.
 *
 * SPIR-V wants every loop and every two-way branch to declare its merge (and loops their
 * continue target), with constructs properly nested. The IR's CFG is reducible and comes
 * from if/loops/break/continue/return (docs/design.md), so the structure can be recovered:
 *
 *  1. Loops: a block with a back edge (from a block it dominates) is a loop header. A single
 *     back edge from a plain latch (a for step, a do-while condition) makes the latch the
 *     continue target, so that `continue`, which jumps there, is a structured exit; else all
 *     back edges are redirected into a new continue node C (phis merged there). The header
 *     is split into a node holding only its phis (which gets OpLoopMerge) and the rest of the
 *     block. Inner loops first, each loop gets a fresh merge node M: the exit X is the exit
 *     whose construct (blocks the header dominates that cannot be reached from X) leaves
 *     least often elsewhere; blocks that end in a return inside the loop (dead-end tails)
 *     thereby stay inside the construct (OpReturn is allowed anywhere). Every edge from the
 *     construct into X goes into M, which branches to X. Edges leaving for other places (a
 *     return from nested loops of an inlined function) meet in M too, which records in a
 *     selector phi where each was going; dispatch nodes after M branch on.
 *  2. Selections: for each remaining two-way branch S, inner first, the merge is the
 *     immediate post-dominator of S in its region (the innermost loop's construct with the
 *     continue target as the exit and breaks removed, or the whole function with the returns
 *     as the exit), ignoring dead ends, when S dominates it; otherwise (a continue, a break
 *     or another path joins there) it is the one block S's construct falls through to. The
 *     edges into it from blocks S dominates are redirected into a fresh merge node; when all
 *     paths from S continue, break or return the merge is a fresh node that stays
 *     unreachable (OpUnreachable).
 *
 * Fresh merge and continue nodes make every merge block unique and never a continue target
 * or a loop header, which keeps the rules of the SPIR-V spec (2.11) simple to meet. Phis move
 * with the edges: a redirected set of edges into Y gets a phi in the new node when the values
 * differ, and Y's phi takes one value from the new node instead.
 */
#include "cg_spirv.h"

#include <string.h>

typedef struct Dom {
    int n;    /* nodes */
    int *rpo; /* reachable nodes in reverse post-order */
    int nrpo;
    int *rpo_index; /* by node; -1 unreachable */
    int *idom;      /* by node; -1 unreachable, entry: itself */
} Dom;

static SNode *N_(SCfg *g, int i) { return g->nodes.data[i]; }

/* the IR block id of node i for messages (-1 for a node the structurizer made) */
static int S_IRID(SCfg *g, int i) { return g->nodes.data[i]->ir ? g->nodes.data[i]->ir->id : -1; }

static SNode *new_node(SCfg *g, SNodeKind k)
{
    SNode *n = arena_alloc(g->a, sizeof *n);
    n->index = g->nodes.len;
    n->kind = k;
    n->succ[0] = n->succ[1] = -1;
    n->merge = n->cont = -1;
    n->loop = -1;
    vec_push(g->a, &g->nodes, n);
    return n;
}

static void phi_push(SCfg *g, SPhi *p, int len, SVal v)
{
    if (len + 1 > p->cap) {
        int nc = p->cap ? p->cap * 2 : 4;
        while (nc < len + 1) nc *= 2;
        p->vals =
            arena_realloc(g->a, p->vals, sizeof(SVal) * (size_t)p->cap, sizeof(SVal) * (size_t)nc);
        p->cap = nc;
    }
    p->vals[len] = v;
}

/* Appends pred p to n; vals[k] is the value for n's k-th phi (NULL when n has none). */
static void add_pred(SCfg *g, SNode *n, int p, const SVal *vals)
{
    int len = n->preds.len;
    for (int k = 0; k < n->phis.len; k++) phi_push(g, n->phis.data[k], len, vals[k]);
    vec_push(g->a, &n->preds, p);
}

static void replace_succ(SNode *u, int old, int nw)
{
    for (int k = 0; k < u->nsucc; k++)
        if (u->succ[k] == old) {
            u->succ[k] = nw;
            return;
        }
    ICE("structurizer: node %d has no edge to %d", u->index, old);
}

static bool val_eq(SVal a, SVal b)
{
    return a.inst == b.inst && a.phi == b.phi && a.lit == b.lit && a.undef == b.undef;
}

static SNode *X_(SCfg *g, int i) { return g->nodes.data[i]; }

/* Removes the preds of y at positions pos[0..np-1] (and their phi values). */
static void drop_preds(SCfg *g, SNode *y, const int *pos, int np)
{
    bool *drop = arena_alloc(g->a, (size_t)y->preds.len + 1);
    for (int j = 0; j < np; j++) drop[pos[j]] = true;
    int w = 0;
    for (int k = 0; k < y->preds.len; k++) {
        if (drop[k]) continue;
        y->preds.data[w] = y->preds.data[k];
        for (int h = 0; h < y->phis.len; h++) y->phis.data[h]->vals[w] = y->phis.data[h]->vals[k];
        w++;
    }
    y->preds.len = w;
}

/* Redirects the edges into y from its preds at positions pos[0..np-1] into the new node m,
 * which then branches to y. */
static void redirect(SCfg *g, SNode *y, const int *pos, int np, SNode *m)
{
    ICE_ASSERT(np > 0 && m->preds.len == 0 && m->phis.len == 0);
    int nphi = y->phis.len;
    SVal *mv = arena_alloc(g->a, sizeof(SVal) * (size_t)(nphi + 1));
    /* phis of m: one per phi of y whose values on the redirected edges differ */
    int *qidx = arena_alloc(g->a, sizeof(int) * (size_t)(nphi + 1));
    for (int k = 0; k < nphi; k++) {
        SPhi *p = y->phis.data[k];
        bool same = true;
        for (int j = 1; j < np; j++) same &= val_eq(p->vals[pos[j]], p->vals[pos[0]]);
        qidx[k] = -1;
        if (same) {
            mv[k] = p->vals[pos[0]];
        } else {
            SPhi *q = arena_alloc(g->a, sizeof *q);
            q->type = p->type;
            qidx[k] = m->phis.len;
            vec_push(g->a, &m->phis, q);
            mv[k].phi = q;
            mv[k].inst = NULL;
        }
    }
    for (int j = 0; j < np; j++) {
        int u = y->preds.data[pos[j]];
        SVal *vals = arena_alloc(g->a, sizeof(SVal) * (size_t)(m->phis.len + 1));
        for (int k = 0; k < nphi; k++)
            if (qidx[k] >= 0) vals[qidx[k]] = y->phis.data[k]->vals[pos[j]];
        add_pred(g, m, u, vals);
        replace_succ(N_(g, u), y->index, m->index);
    }
    drop_preds(g, y, pos, np);
    add_pred(g, y, m->index, mv);
    m->succ[0] = y->index;
    m->nsucc = 1;
}

/* Edges into several targets (targets[t]: its preds at positions tpos[t][0..tnp[t]-1]) all
 * meet in the fresh node M instead, whose phi `sel` says which target each edge was going to
 * (and one phi per phi of every target carries its values); a chain of dispatch nodes after
 * M then branches on to a forwarding node of each target. */
static void route_exits(SCfg *g, SNode *M, const int *targets, int nt, int **tpos, const int *tnp)
{
    Arena *a = g->a;
    SPhi *sel = arena_alloc(a, sizeof *sel);
    sel->type = ty_scalar(SC_UINT);
    vec_push(a, &M->phis, sel);
    int *first =
        arena_alloc(a, sizeof(int) * (size_t)(nt + 1)); /* M phi index of target t's first */
    for (int t = 0; t < nt; t++) {
        SNode *T = N_(g, targets[t]);
        first[t] = M->phis.len;
        for (int j = 0; j < T->phis.len; j++) {
            SPhi *ph = arena_alloc(a, sizeof *ph);
            ph->type = T->phis.data[j]->type;
            vec_push(a, &M->phis, ph);
        }
    }
    int nmp = M->phis.len;
    for (int t = 0; t < nt; t++) {
        SNode *T = N_(g, targets[t]);
        for (int e = 0; e < tnp[t]; e++) {
            int k = tpos[t][e];
            int u = T->preds.data[k];
            SVal *vals = arena_alloc(a, sizeof(SVal) * (size_t)(nmp + 1));
            for (int q = 1; q < nmp; q++) vals[q].undef = true;
            vals[0].lit = t + 1;
            for (int j = 0; j < T->phis.len; j++) vals[first[t] + j] = T->phis.data[j]->vals[k];
            bool dup = false;
            for (int q = 0; q < M->preds.len; q++) dup |= M->preds.data[q] == u;
            if (dup) {
                /* u's other edge already goes to M: this one passes a forwarding node, so
                 * that M's phis see each edge as its own predecessor */
                SNode *fw = new_node(g, SN_MERGE);
                fw->loop = N_(g, u)->loop;
                fw->reachable = true;
                add_pred(g, fw, u, NULL);
                replace_succ(N_(g, u), T->index, fw->index);
                fw->succ[0] = M->index;
                fw->nsucc = 1;
                add_pred(g, M, fw->index, vals);
            } else {
                add_pred(g, M, u, vals);
                replace_succ(N_(g, u), T->index, M->index);
            }
        }
    }
    SNode *prev = M;
    for (int t = 0; t < nt; t++) {
        SNode *T = N_(g, targets[t]);
        drop_preds(g, T, tpos[t], tnp[t]);
        SNode *fwn = new_node(g, SN_MERGE);
        SVal *vals = arena_alloc(a, sizeof(SVal) * (size_t)(T->phis.len + 1));
        for (int j = 0; j < T->phis.len; j++) vals[j].phi = M->phis.data[first[t] + j];
        add_pred(g, T, fwn->index, vals);
        fwn->succ[0] = T->index;
        fwn->nsucc = 1;
        if (t < nt - 1) {
            SNode *D = new_node(g, SN_DISPATCH);
            D->sel = sel;
            D->k = t;
            D->succ[0] = fwn->index;
            D->nsucc = 2;
            add_pred(g, fwn, D->index, NULL);
            if (prev == M) {
                M->succ[0] = D->index;
                M->nsucc = 1;
            } else {
                prev->succ[1] = D->index;
            }
            add_pred(g, D, prev->index, NULL);
            prev = D;
        } else {
            prev->succ[1] = fwn->index;
            add_pred(g, fwn, prev->index, NULL);
        }
    }
}

/* ---------------------------------------------------------------- dominators */

static void compute_dom(SCfg *g, Dom *d)
{
    int n = g->nodes.len;
    Arena *a = g->a;
    d->n = n;
    d->rpo = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    d->rpo_index = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    d->idom = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    int *post = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    int *stack = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    int *next = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    char *seen = arena_alloc(a, (size_t)n + 1);
    int np = 0, sp = 0;
    for (int i = 0; i < n; i++) d->rpo_index[i] = d->idom[i] = -1;
    stack[sp++] = g->entry;
    seen[g->entry] = 1;
    while (sp) {
        int v = stack[sp - 1];
        SNode *nv = N_(g, v);
        /* successors in reverse so that succ[0] ends up first in RPO */
        int k = next[v]++;
        if (k < nv->nsucc) {
            int s = nv->succ[nv->nsucc - 1 - k];
            if (!seen[s]) {
                seen[s] = 1;
                stack[sp++] = s;
            }
        } else {
            post[np++] = v;
            sp--;
        }
    }
    d->nrpo = np;
    for (int i = 0; i < np; i++) {
        d->rpo[i] = post[np - 1 - i];
        d->rpo_index[d->rpo[i]] = i;
    }
    for (int i = 0; i < n; i++) N_(g, i)->reachable = d->rpo_index[i] >= 0;
    d->idom[g->entry] = g->entry;
    bool changed = true;
    while (changed) {
        changed = false;
        for (int i = 1; i < np; i++) {
            SNode *b = N_(g, d->rpo[i]);
            int nd = -1;
            for (int k = 0; k < b->preds.len; k++) {
                int p = b->preds.data[k];
                if (d->idom[p] < 0) continue;
                if (nd < 0) {
                    nd = p;
                    continue;
                }
                int x = p, y = nd;
                while (x != y) {
                    while (d->rpo_index[x] > d->rpo_index[y]) x = d->idom[x];
                    while (d->rpo_index[y] > d->rpo_index[x]) y = d->idom[y];
                }
                nd = x;
            }
            if (nd >= 0 && d->idom[b->index] != nd) {
                d->idom[b->index] = nd;
                changed = true;
            }
        }
    }
}

static bool dominates(const Dom *d, int a, int b)
{
    if (a < 0 || b < 0 || a >= d->n || b >= d->n) return false;
    if (d->rpo_index[a] < 0 || d->rpo_index[b] < 0) return false;
    for (;;) {
        if (a == b) return true;
        if (d->rpo_index[b] <= d->rpo_index[a]) return false;
        b = d->idom[b];
    }
}

static bool is_back_edge(SCfg *g, int u, int v)
{
    SNode *nv = N_(g, v);
    return nv->is_loop && nv->cont == u;
}

/* ---------------------------------------------------------------- loops */

/* Forward reachability from x, not following back edges; marks r[]. */
static void reach_from(SCfg *g, int x, char *r, int *stack)
{
    int sp = 0;
    r[x] = 1;
    stack[sp++] = x;
    while (sp) {
        SNode *u = N_(g, stack[--sp]);
        for (int k = 0; k < u->nsucc; k++) {
            int s = u->succ[k];
            if (r[s] || is_back_edge(g, u->index, s)) continue;
            r[s] = 1;
            stack[sp++] = s;
        }
    }
}

static void make_loop(SCfg *g, int h, int *outer)
{
    Dom d;
    compute_dom(g, &d);
    SNode *H = N_(g, h);
    int n = g->nodes.len;
    Arena *a = g->a;
    int *stack = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    char *body = arena_alloc(a, (size_t)n + 1);
    /* natural loop: H and everything that reaches C without passing H */
    int sp = 0;
    body[h] = 1;
    if (!body[H->cont]) {
        body[H->cont] = 1;
        stack[sp++] = H->cont;
    }
    while (sp) {
        SNode *u = N_(g, stack[--sp]);
        for (int k = 0; k < u->preds.len; k++) {
            int p = u->preds.data[k];
            if (!body[p] && N_(g, p)->reachable) {
                body[p] = 1;
                stack[sp++] = p;
            }
        }
    }
    /* exit targets, in RPO */
    char *isexit = arena_alloc(a, (size_t)n + 1);
    for (int i = 0; i < n; i++) {
        if (!body[i]) continue;
        SNode *u = N_(g, i);
        for (int k = 0; k < u->nsucc; k++)
            if (!body[u->succ[k]]) isexit[u->succ[k]] = 1;
    }
    /* the exit X whose construct leaves least often elsewhere (ideally never); a candidate
     * that would turn an enclosing loop's back edge into an exit is not one */
    char *cons = arena_alloc(a, (size_t)n + 1);
    char *best = arena_alloc(a, (size_t)n + 1);
    char *r = arena_alloc(a, (size_t)n + 1);
    int x = -1, bestscore = 0, bestsize = 0;
    /* candidates: the natural loop's exits and every other successor of a block the header
     * dominates (a return path may leave the natural loop before it joins the real exit) */
    char *iscand = arena_alloc(a, (size_t)n + 1);
    for (int i = 0; i < n; i++) {
        if (!dominates(&d, h, i)) continue;
        SNode *u = N_(g, i);
        for (int k = 0; k < u->nsucc; k++)
            if (!body[u->succ[k]] && !is_back_edge(g, i, u->succ[k])) iscand[u->succ[k]] = 1;
    }
    /* a latch that is the continue target leaves the loop only towards the merge: its exit
     * is the exit */
    SNode *Cn = N_(g, H->cont);
    if (Cn->is_cont && Cn->nsucc == 2) {
        int t = Cn->succ[0] == h ? Cn->succ[1] : Cn->succ[0];
        if (t < n && iscand[t]) {
            memset(iscand, 0, (size_t)n);
            iscand[t] = 1;
        }
    }
    for (int ri = 0; ri < d.nrpo; ri++) {
        int cand = d.rpo[ri];
        if (!iscand[cand]) continue;
        memset(r, 0, (size_t)n);
        reach_from(g, cand, r, stack);
        for (int i = 0; i < n; i++) cons[i] = dominates(&d, h, i) && !r[i];
        int score = dominates(&d, h, cand) ? 0 : 1000;
        for (int i = 0; i < n && score < 1000000; i++) {
            if (!cons[i]) continue;
            if (!body[i] && N_(g, i)->is_loop)
                score += 10000; /* swallows a later loop: last resort */
            SNode *u = N_(g, i);
            /* a block after the loop that two paths reach (the normal exit that a break also
             * takes) would be a join inside the construct that is no merge */
            if (!body[i] && u->preds.len > 1) score += 100;
            for (int k = 0; k < u->nsucc; k++) {
                int s2 = u->succ[k];
                if (cons[s2] || s2 == cand) continue;
                score += is_back_edge(g, i, s2) ? 1000000 : 1;
            }
        }
        /* on a tie the larger construct: the exits left are the far ones (returns) */
        int size = 0;
        for (int i = 0; i < n; i++) size += cons[i];
        if (score < 1000000 &&
            (x < 0 || score < bestscore || (score == bestscore && size > bestsize))) {
            x = cand;
            bestscore = score;
            bestsize = size;
            memcpy(best, cons, (size_t)n);
        }
    }
    bool any_exit = false;
    for (int i = 0; i < n; i++) any_exit |= isexit[i] != 0;
    if (any_exit && x < 0)
        ICE("SPIR-V structurizer: cannot find the exit of the loop at block b%d",
            H->ir ? H->ir->id : -1);
    if (any_exit)
        memcpy(cons, best, (size_t)n);
    else
        for (int i = 0; i < n; i++) cons[i] = dominates(&d, h, i);
    SNode *M = new_node(g, SN_MERGE);
    if (x >= 0) {
        /* every exit edge of the construct, grouped by target (x first) */
        int *targets = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
        int nt = 0;
        targets[nt++] = x;
        for (int i = 0; i < n; i++) {
            if (!cons[i]) continue;
            SNode *u = N_(g, i);
            for (int k = 0; k < u->nsucc; k++) {
                int s2 = u->succ[k];
                if (cons[s2]) continue;
                bool seen = false;
                for (int t = 0; t < nt; t++) seen |= targets[t] == s2;
                if (!seen) targets[nt++] = s2;
            }
        }
        /* positions of the construct's edges in each target's preds */
        int **tpos = arena_alloc(a, sizeof(int *) * (size_t)(nt + 1));
        int *tnp = arena_alloc(a, sizeof(int) * (size_t)(nt + 1));
        for (int t = 0; t < nt; t++) {
            SNode *T = N_(g, targets[t]);
            tpos[t] = arena_alloc(a, sizeof(int) * (size_t)(T->preds.len + 1));
            for (int k = 0; k < T->preds.len; k++) {
                int p = T->preds.data[k];
                if (p < n && cons[p] && !is_back_edge(g, p, targets[t])) tpos[t][tnp[t]++] = k;
            }
        }
        if (nt == 1)
            redirect(g, X_(g, x), tpos[0], tnp[0], M);
        else
            route_exits(g, M, targets, nt, tpos, tnp);
    }
    H->merge = M->index;
    for (int i = 0; i < n; i++) {
        if (!cons[i]) continue;
        SNode *u = N_(g, i);
        if (u->loop < 0)
            u->loop = h;
        else if (u->loop != h && N_(g, u->loop)->is_loop && u->index == u->loop &&
                 outer[u->index] < 0)
            outer[u->index] = h;
    }
}

/* ---------------------------------------------------------------- selections */

static bool in_region(SCfg *g, const int *outer, int n, int L)
{
    if (L < 0) return true;
    for (int l = N_(g, n)->loop; l >= 0; l = outer[l])
        if (l == L) return true;
    return false;
}

/* Immediate post-dominator of s within its region (see the file comment): a node index,
 * -2 for the region's virtual exit, -1 when no path from s reaches the exit. */
static int region_ipdom(SCfg *g, const int *outer, int s)
{
    SNode *S = N_(g, s);
    int L = S->loop;
    int n = g->nodes.len;
    Arena *a = g->a;
    int V = n; /* virtual exit (top level) */
    int exitn = L >= 0 ? N_(g, L)->cont : V;
    int mergeL = L >= 0 ? N_(g, L)->merge : -1;
    char *inr = arena_alloc(a, (size_t)n + 2);
    for (int i = 0; i < n; i++) inr[i] = N_(g, i)->reachable && in_region(g, outer, i, L);
    inr[V] = L < 0;
/* region successors of u (virtual exit after a return at top level) */
#define FOR_RSUCC(u, s, ...)                      \
    do {                                          \
        if ((u) == V) break;                      \
        SNode *u_ = N_(g, (u));                   \
        if (L >= 0 && (u) == exitn) break;        \
        if (L < 0 && u_->ret && !u_->unreach) {   \
            int s = V;                            \
            __VA_ARGS__;                          \
        }                                         \
        for (int k_ = 0; k_ < u_->nsucc; k_++) {  \
            int s = u_->succ[k_];                 \
            if (s == mergeL || !inr[s]) continue; \
            __VA_ARGS__;                          \
        }                                         \
    } while (0)
    /* live nodes: reverse reachability from the exit. Build the reverse adjacency. */
    int *rcount = arena_alloc(a, sizeof(int) * (size_t)(n + 2));
    for (int u = 0; u <= n; u++) {
        if (!inr[u]) continue;
        FOR_RSUCC(u, s, rcount[s]++);
    }
    int *rstart = arena_alloc(a, sizeof(int) * (size_t)(n + 3));
    for (int i = 0; i <= n; i++) rstart[i + 1] = rstart[i] + rcount[i];
    int *radj = arena_alloc(a, sizeof(int) * (size_t)(rstart[n + 1] + 1));
    int *fill = arena_alloc(a, sizeof(int) * (size_t)(n + 2));
    for (int u = 0; u <= n; u++) {
        if (!inr[u]) continue;
        FOR_RSUCC(u, s, radj[rstart[s] + fill[s]++] = u);
    }
    /* DFS over the reverse graph from the exit: post-order numbers */
    int *po = arena_alloc(a, sizeof(int) * (size_t)(n + 2));
    int *order = arena_alloc(a, sizeof(int) * (size_t)(n + 2));
    int *stack = arena_alloc(a, sizeof(int) * (size_t)(n + 2));
    int *next = arena_alloc(a, sizeof(int) * (size_t)(n + 2));
    for (int i = 0; i <= n; i++) po[i] = -1;
    char *seen = arena_alloc(a, (size_t)n + 2);
    int sp = 0, np = 0;
    stack[sp++] = exitn;
    seen[exitn] = 1;
    while (sp) {
        int v = stack[sp - 1];
        int k = next[v]++;
        if (rstart[v] + k < rstart[v + 1]) {
            int p = radj[rstart[v] + k];
            if (!seen[p]) {
                seen[p] = 1;
                stack[sp++] = p;
            }
        } else {
            po[v] = np;
            order[np++] = v;
            sp--;
        }
    }
    if (po[s] < 0) return -1;
    /* Cooper-Harvey-Kennedy on the reverse graph: "preds" are forward successors */
    int *ip = arena_alloc(a, sizeof(int) * (size_t)(n + 2));
    for (int i = 0; i <= n; i++) ip[i] = -1;
    ip[exitn] = exitn;
    bool changed = true;
    while (changed) {
        changed = false;
        for (int i = np - 2; i >= 0; i--) {
            int b = order[i];
            int nd = -1;
            FOR_RSUCC(b, q, {
                if (po[q] >= 0 && ip[q] >= 0) {
                    if (nd < 0) {
                        nd = q;
                    } else {
                        int x = q, y = nd;
                        while (x != y) {
                            while (po[x] < po[y]) x = ip[x];
                            while (po[y] < po[x]) y = ip[y];
                        }
                        nd = x;
                    }
                }
            });
            if (nd >= 0 && ip[b] != nd) {
                ip[b] = nd;
                changed = true;
            }
        }
    }
#undef FOR_RSUCC
    int y = ip[s];
    if (y == V) return -2;
    return y;
}

/* The construct of the branch at s leaves for several blocks targets[0..nt-1] (none of them
 * the loop's continue or merge): typically a `return` from nested ifs of an inlined function
 * jumps to the function's exit while the other paths fall through to code that is also
 * reached another way. Let H be the lowest of the targets' immediate dominators. Every
 * edge into a target from a block H dominates that no target reaches (without back edges)
 * is redirected into one fresh flow node F with a selector phi, and dispatch nodes after F
 * branch on to the targets (route_exits). F is then the one block the construct falls
 * through to, and the dispatch nodes, which dominate every target, guard the code after
 * it (the code a `return` skips runs only when the selector says so). The dispatch nodes
 * are pushed on *work: they are selections too, handled before the enclosing ones. */
static void make_flow(SCfg *g, const Dom *d, int s, int *targets, int nt, int **work, int *nwork,
                      int *wcap)
{
    Arena *a = g->a;
    int n = g->nodes.len;
    SNode *S = N_(g, s);
    /* every target's immediate dominator dominates S (else S would dominate the target), so
     * they lie on one chain: H is the lowest of them. Edges into the targets from blocks H
     * dominates then reach them through F, which H dominates: every target keeps its
     * immediate dominator, and so every value stays defined where it is used. */
    int h = d->idom[targets[0]];
    for (int t = 1; t < nt; t++)
        if (d->rpo_index[d->idom[targets[t]]] > d->rpo_index[h]) h = d->idom[targets[t]];
    int *stack = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    char *r = arena_alloc(a, (size_t)n + 1);
    for (int t = 0; t < nt; t++)
        if (!r[targets[t]]) reach_from(g, targets[t], r, stack);
    int **tpos = arena_alloc(a, sizeof(int *) * (size_t)(nt + 1));
    int *tnp = arena_alloc(a, sizeof(int) * (size_t)(nt + 1));
    int w = 0;
    for (int t = 0; t < nt; t++) {
        SNode *T = N_(g, targets[t]);
        tpos[w] = arena_alloc(a, sizeof(int) * (size_t)(T->preds.len + 1));
        tnp[w] = 0;
        for (int k = 0; k < T->preds.len; k++) {
            int u = T->preds.data[k];
            if (u < n && !r[u] && dominates(d, h, u) && !is_back_edge(g, u, targets[t]))
                tpos[w][tnp[w]++] = k;
        }
        if (tnp[w]) targets[w++] = targets[t];
    }
    if (w < 2)
        ICE("SPIR-V structurizer: the branch at block b%d has no single merge",
            S->ir ? S->ir->id : -1);
    SNode *F = new_node(g, SN_MERGE);
    route_exits(g, F, targets, w, tpos, tnp);
    for (int i = n; i < g->nodes.len; i++) {
        SNode *u = N_(g, i);
        u->loop = S->loop;
        u->reachable = true;
        if (u->kind != SN_DISPATCH) continue;
        if (*nwork == *wcap) {
            int nc = *wcap * 2 + 16;
            *work = arena_realloc(a, *work, sizeof(int) * (size_t)*wcap, sizeof(int) * (size_t)nc);
            *wcap = nc;
        }
        (*work)[(*nwork)++] = i;
    }
}

static void make_selection(SCfg *g, int *outer, int s, int **work, int *nwork, int *wcap)
{
    Dom d;
    compute_dom(g, &d);
    SNode *S = N_(g, s);
    int y = region_ipdom(g, outer, s);
    int n = g->nodes.len;
    /* The construct's exits other than its merge, the loop's continue and merge: when the
     * post-dominator y (in S's region) is dominated by S it is the merge, and the construct
     * is what S dominates short of y; else (a continue, a break or another path joins at y)
     * the construct is all that S dominates and what it falls through to becomes the merge.
     * Several such targets, or any beside a dominated y, are joined first (make_flow). */
    for (int round = 0;; round++) {
        int cont = S->loop >= 0 ? N_(g, S->loop)->cont : -1,
            brk = S->loop >= 0 ? N_(g, S->loop)->merge : -1;
        bool ymerge = y >= 0 && dominates(&d, s, y) && y != cont;
        int *targets = arena_alloc(g->a, sizeof(int) * (size_t)(n + 2));
        int nt = 0;
        for (int i = 0; i < n; i++) {
            if (!dominates(&d, s, i) || !in_region(g, outer, i, S->loop)) continue;
            if (ymerge && dominates(&d, y, i)) continue;
            SNode *u = N_(g, i);
            for (int k = 0; k < u->nsucc; k++) {
                int v = u->succ[k];
                if (v == cont || v == brk || is_back_edge(g, i, v)) continue;
                if (ymerge ? v == y || (dominates(&d, s, v) && !dominates(&d, y, v))
                           : dominates(&d, s, v))
                    continue;
                bool seen = false;
                for (int t = 0; t < nt; t++) seen |= targets[t] == v;
                if (!seen) targets[nt++] = v;
            }
        }
        if (ymerge && nt) targets[nt++] = y;
        if (nt < 2) break;
        if (round > 0)
            ICE("SPIR-V structurizer: the branch at block b%d has no single merge",
                S->ir ? S->ir->id : -1);
        make_flow(g, &d, s, targets, nt, work, nwork, wcap);
        compute_dom(g, &d);
        y = region_ipdom(g, outer, s);
        n = g->nodes.len;
    }
    SNode *M = new_node(g, SN_MERGE);
    M->loop = S->loop;
    S->merge = M->index;
    int lcont = S->loop >= 0 ? N_(g, S->loop)->cont : -1;
    if (y >= 0 && (!dominates(&d, s, y) || y == lcont)) {
        /* the post-dominator is reached from outside the construct too (a continue or a
         * break joins there): the merge is where the construct falls through to, the one
         * target of its edges other than the loop's continue and merge blocks */
        int cont = S->loop >= 0 ? N_(g, S->loop)->cont : -1,
            brk = S->loop >= 0 ? N_(g, S->loop)->merge : -1;
        int t = -1;
        for (int i = 0; i < n && t != -2; i++) {
            if (!dominates(&d, s, i) || !in_region(g, outer, i, S->loop)) continue;
            SNode *u = N_(g, i);
            for (int k = 0; k < u->nsucc; k++) {
                int v = u->succ[k];
                if (dominates(&d, s, v) || v == cont || v == brk || is_back_edge(g, i, v)) continue;
                if (t < 0)
                    t = v;
                else if (t != v)
                    t = -2;
            }
        }
        if (t == -2)
            ICE("SPIR-V structurizer: the branch at block b%d has no single merge",
                S->ir ? S->ir->id : -1);
        y = t; /* -1: every path continues, breaks or returns: an unreachable merge */
    }
    if (y < 0) return; /* unreachable merge */
    SNode *Y = N_(g, y);
    int *pos = arena_alloc(g->a, sizeof(int) * (size_t)(Y->preds.len + 1));
    int np = 0;
    for (int k = 0; k < Y->preds.len; k++) {
        int p = Y->preds.data[k];
        if (dominates(&d, s, p) && !is_back_edge(g, p, y)) pos[np++] = k;
    }
    if (np) redirect(g, Y, pos, np, M);
}

/* ---------------------------------------------------------------- driver */

SCfg *spv_structurize(Arena *a, const IrFunc *f)
{
    SCfg *g = arena_alloc(a, sizeof *g);
    g->a = a;
    int nb = f->next_id + 1;
    int *node_of = arena_alloc(a, sizeof(int) * (size_t)nb);
    for (int i = 0; i < nb; i++) node_of[i] = -1;
    /* reachable IR blocks */
    char *reach = arena_alloc(a, (size_t)nb);
    IrBlock **stack = arena_alloc(a, sizeof(IrBlock *) * (size_t)(f->blocks.len + 1));
    int sp = 0;
    ICE_ASSERT(f->blocks.len > 0);
    stack[sp++] = f->blocks.data[0];
    reach[f->blocks.data[0]->id] = 1;
    while (sp) {
        IrBlock *b = stack[--sp], *succ[2];
        int ns = ir_succs(b, succ);
        for (int k = 0; k < ns; k++)
            if (!reach[succ[k]->id]) {
                reach[succ[k]->id] = 1;
                stack[sp++] = succ[k];
            }
    }
    SNode *start = new_node(g, SN_MERGE);
    g->entry = start->index;
    for (int i = 0; i < f->blocks.len; i++) {
        IrBlock *b = f->blocks.data[i];
        if (!reach[b->id]) continue;
        SNode *n = new_node(g, SN_IR);
        n->ir = b;
        node_of[b->id] = n->index;
        for (IrInst *p = b->first; p && p->op == IR_PHI; p = p->next) {
            SPhi *ph = arena_alloc(a, sizeof *ph);
            ph->ir = p;
            ph->type = p->type;
            vec_push(a, &n->phis, ph);
        }
    }
    start->succ[0] = node_of[f->blocks.data[0]->id];
    start->nsucc = 1;
    if (N_(g, start->succ[0])->phis.len) ICE("SPIR-V: the entry block has phis");
    add_pred(g, N_(g, start->succ[0]), start->index, NULL);
    int nir = g->nodes.len;
    for (int i = 1; i < nir; i++) {
        SNode *n = N_(g, i);
        IrInst *t = ir_terminator(n->ir);
        if (!t) ICE("block b%d has no terminator", n->ir->id);
        if (t->op == IR_BR) {
            n->succ[0] = node_of[t->target[0]->id];
            n->nsucc = 1;
        } else if (t->op == IR_CBR) {
            n->succ[0] = node_of[t->target[0]->id];
            n->succ[1] = node_of[t->target[1]->id];
            n->nsucc = t->target[0] == t->target[1] ? 1 : 2;
        } else {
            n->ret = true;
            n->unreach = t->op == IR_UNREACHABLE;
        }
    }
    for (int i = 1; i < nir; i++) {
        SNode *n = N_(g, i);
        for (int k = 0; k < n->nsucc; k++) {
            SNode *s = N_(g, n->succ[k]);
            SVal *vals = arena_alloc(a, sizeof(SVal) * (size_t)(s->phis.len + 1));
            int pi = -1;
            for (int q = 0; q < s->ir->npreds; q++)
                if (s->ir->preds[q] == n->ir) {
                    pi = q;
                    break;
                }
            ICE_ASSERT(pi >= 0 || s->phis.len == 0);
            for (int q = 0; q < s->phis.len; q++) vals[q].inst = s->phis.data[q]->ir->ops[pi];
            add_pred(g, s, n->index, vals);
        }
    }

    /* 1. loops: continue nodes and header splits */
    Dom d;
    compute_dom(g, &d);
    int *headers = arena_alloc(a, sizeof(int) * (size_t)(d.nrpo + 1));
    char *is_header = arena_alloc(a, (size_t)g->nodes.len + 1);
    int nh = 0;
    for (int ri = 0; ri < d.nrpo; ri++) {
        SNode *h = N_(g, d.rpo[ri]);
        for (int k = 0; k < h->preds.len; k++)
            if (dominates(&d, h->index, h->preds.data[k])) {
                headers[nh++] = h->index;
                is_header[h->index] = 1;
                break;
            }
    }
    for (int i = 0; i < nh; i++) {
        SNode *h = N_(g, headers[i]);
        int *pos = arena_alloc(a, sizeof(int) * (size_t)(h->preds.len + 1));
        int np = 0;
        for (int k = 0; k < h->preds.len; k++)
            if (dominates(&d, h->index, h->preds.data[k])) pos[np++] = k;
        /* one back edge from a plain latch (a do-while condition, a for step): the latch is
         * the continue target, so that `continue` statements, which jump there, are
         * structured; otherwise a new continue node takes every back edge */
        int latch = np == 1 ? h->preds.data[pos[0]] : -1;
        if (latch == h->index || (latch >= 0 && (is_header[latch] || N_(g, latch)->kind != SN_IR)))
            latch = -1;
        if (latch >= 0 && N_(g, latch)->nsucc == 2) {
            /* the latch's other edge must leave the loop */
            SNode *L = N_(g, latch);
            int other = L->succ[0] == h->index ? L->succ[1] : L->succ[0];
            char *body = arena_alloc(a, (size_t)g->nodes.len + 1);
            int *st = arena_alloc(a, sizeof(int) * (size_t)(g->nodes.len + 1));
            int sp2 = 0;
            body[h->index] = body[latch] = 1;
            st[sp2++] = latch;
            while (sp2) {
                SNode *u = N_(g, st[--sp2]);
                for (int k = 0; k < u->preds.len; k++)
                    if (!body[u->preds.data[k]]) {
                        body[u->preds.data[k]] = 1;
                        st[sp2++] = u->preds.data[k];
                    }
            }
            if (body[other]) latch = -1;
            /* and be the only place the loop leaves for: else (a break to a block of its
             * own) the latch's exit may not be the merge, and a fresh continue node is used */
            for (int i = 0; i < g->nodes.len && latch >= 0; i++) {
                if (!body[i]) continue;
                SNode *u = N_(g, i);
                for (int k = 0; k < u->nsucc; k++)
                    if (!body[u->succ[k]] && u->succ[k] != other) latch = -1;
            }
        }
        if (latch >= 0) {
            N_(g, latch)->is_cont = true;
            h->cont = latch;
        } else {
            SNode *c = new_node(g, SN_CONT);
            redirect(g, h, pos, np, c);
            h->cont = c->index;
        }
        h->is_loop = true;
        ICE_ASSERT(h->kind == SN_IR);
        SNode *e = new_node(g, SN_IR);
        e->ir = h->ir;
        e->skip_phis = true;
        e->nsucc = h->nsucc;
        e->succ[0] = h->succ[0];
        e->succ[1] = h->succ[1];
        e->ret = h->ret;
        e->unreach = h->unreach;
        for (int k = 0; k < h->nsucc; k++) {
            SNode *s = N_(g, h->succ[k]);
            for (int q = 0; q < s->preds.len; q++)
                if (s->preds.data[q] == h->index) {
                    s->preds.data[q] = e->index;
                    break;
                }
        }
        h->kind = SN_LHEAD;
        h->succ[0] = e->index;
        h->succ[1] = -1;
        h->nsucc = 1;
        h->ret = h->unreach = false;
        add_pred(g, e, h->index, NULL);
    }
    int *outer = arena_alloc(a, sizeof(int) * (size_t)(g->nodes.len * 3 + nh * 2 + 64));
    int outer_cap = g->nodes.len * 3 + nh * 2 + 64;
    for (int i = 0; i < outer_cap; i++) outer[i] = -1;
    for (int i = nh - 1; i >= 0; i--) make_loop(g, headers[i], outer);

    /* 2. selections, inner first */
    compute_dom(g, &d);
    int *sels = arena_alloc(a, sizeof(int) * (size_t)(d.nrpo + 1));
    int ns = 0;
    for (int ri = 0; ri < d.nrpo; ri++)
        if (N_(g, d.rpo[ri])->nsucc == 2 && !N_(g, d.rpo[ri])->is_cont) sels[ns++] = d.rpo[ri];
    ICE_ASSERT(g->nodes.len + ns < outer_cap);
    int *work = NULL, nwork = 0, wcap = 0;
    int budget = 4 * g->nodes.len + 64; /* dispatch nodes the flow nodes may add */
    for (int i = ns - 1; i >= 0; i--) {
        make_selection(g, outer, sels[i], &work, &nwork, &wcap);
        while (nwork) {
            int w = work[--nwork];
            if (--budget < 0)
                ICE("SPIR-V structurizer: the branch at block b%d has no single merge",
                    S_IRID(g, sels[i]));
            make_selection(g, outer, w, &work, &nwork, &wcap);
        }
    }

    /* emission order: reachable nodes in RPO, then the unreachable ones */
    compute_dom(g, &d);
    g->order = arena_alloc(a, sizeof(int) * (size_t)(g->nodes.len + 1));
    for (int i = 0; i < d.nrpo; i++) g->order[g->norder++] = d.rpo[i];
    for (int i = 0; i < g->nodes.len; i++)
        if (d.rpo_index[i] < 0) g->order[g->norder++] = i;
    return g;
}
