/* cg_uniform.c: uniform/varying analysis and the SIMD block schedule (see cg_uniform.h). */
#include "cg_uniform.h"

#include <string.h>

const char *cg_uniform_name(CgUni k)
{
    return k == CGU_UNIFORM ? "uniform" : k == CGU_LINEAR ? "linear" : "varying";
}

/* values that are the same at every point of a gang's execution (never captured) */
static bool invariant(const IrInst *v)
{
    switch (v->op) {
    case IR_CONST:
    case IR_PARAM:
    case IR_UNDEF:
    case IR_BUFLEN:
    case IR_WORKITEM: return true;
    default: return false;
    }
}

bool cg_uniform_in_loop(const CgUniform *u, int l, const IrBlock *b)
{
    int x = b->id < u->nid ? u->loop_of[b->id] : -1;
    while (x >= 0 && u->loops[x].depth > u->loops[l].depth) x = u->loops[x].parent;
    return x == l;
}

int cg_uniform_capture_loop(const CgUniform *u, const IrInst *v, const IrBlock *use_block)
{
    if (!u->any_varying_branch || invariant(v) || !v->block || v->op == IR_UNDEF) return -1;
    int l = u->loop_of[v->block->id];
    if (l < 0 || cg_uniform_in_loop(u, l, use_block)) return -1;
    return l;
}

CgUni cg_uniform_at(const CgUniform *u, const IrInst *v, const IrBlock *use_block)
{
    if (cg_uniform_capture_loop(u, v, use_block) >= 0) return CGU_VARYING;
    return (CgUni)u->kind[v->id];
}

static bool int32plus(const Type *t) { return t->kind == TY_INT && t->bits >= 32; }

/* Is operand v of phi p, coming from block pred, p plus or minus a uniform integer (the
 * step of an induction variable: `i += global_size(0)`)? */
static bool phi_step(const CgUniform *u, const IrInst *p, const IrInst *v, const IrBlock *pred)
{
    if ((v->op != IR_ADD && v->op != IR_SUB) || v->type != p->type || v->nops != 2) return false;
    if (cg_uniform_at(u, v, pred) == CGU_VARYING)
        return false; /* captured: lanes left at different times */
    const IrInst *x;
    if (v->ops[0] == p)
        x = v->ops[1];
    else if (v->op == IR_ADD && v->ops[1] == p)
        x = v->ops[0];
    else
        return false;
    return cg_uniform_at(u, x, v->block) == CGU_UNIFORM;
}

/* A phi that is not a join is linear when every operand is linear or its own step by a
 * uniform amount (grid-stride loops `for (i = global_id(0); i < n; i += global_size(0))`:
 * every lane adds the same step, so lane k stays base + k). */
static bool linear_phi(const CgUniform *u, const IrInst *i)
{
    if (!int32plus(i->type)) return false;
    const IrBlock *b = i->block;
    for (int j = 0; j < i->nops; j++) {
        const IrBlock *pred = b->preds[j];
        if (u->pos[pred->id] < 0) continue;
        const IrInst *v = i->ops[j];
        if (phi_step(u, i, v, pred)) continue;
        if (cg_uniform_at(u, v, pred) != CGU_LINEAR) return false;
    }
    return true;
}

/* the kind of instruction i given the current state */
static CgUni rule(const CgUniform *u, const IrInst *i)
{
    const IrBlock *b = i->block;
    CgUni k[4] = {CGU_UNIFORM, CGU_UNIFORM, CGU_UNIFORM, CGU_UNIFORM};
    CgUni worst = CGU_UNIFORM;
    for (int j = 0; j < i->nops; j++) {
        const IrBlock *ub = i->op == IR_PHI ? b->preds[j] : b;
        if (i->op == IR_PHI && u->pos[ub->id] < 0) continue; /* unreachable predecessor */
        CgUni x = cg_uniform_at(u, i->ops[j], ub);
        if (j < 4) k[j] = x;
        if (x > worst) worst = x;
    }
    switch (i->op) {
    case IR_CONST:
    case IR_PARAM:
    case IR_UNDEF:
    case IR_BUFLEN: return CGU_UNIFORM;
    case IR_WORKITEM:
        return i->dim == 0 && (i->builtin == BI_GLOBAL_ID || i->builtin == BI_LOCAL_ID)
                   ? CGU_LINEAR
                   : CGU_UNIFORM;
    case IR_ADD:
        if (int32plus(i->type) && ((k[0] == CGU_LINEAR && k[1] == CGU_UNIFORM) ||
                                   (k[0] == CGU_UNIFORM && k[1] == CGU_LINEAR)))
            return CGU_LINEAR;
        break;
    case IR_SUB:
        if (int32plus(i->type) && k[0] == CGU_LINEAR && k[1] == CGU_UNIFORM) return CGU_LINEAR;
        break;
    case IR_CONVERT:
        if (k[0] == CGU_LINEAR && int32plus(i->type) && i->ops[0]->type->kind == TY_INT &&
            i->ops[0]->type->bits == i->type->bits)
            return CGU_LINEAR;
        break;
    case IR_PHI:
        if (u->join[b->id]) return CGU_VARYING;
        if (worst == CGU_LINEAR && linear_phi(u, i)) return CGU_LINEAR;
        break;
    case IR_LOAD:
        if (i->mem.kind == MEM_LOCAL) return CGU_VARYING; /* private memory is per lane */
        break;
    case IR_ATOMIC: return CGU_VARYING; /* every lane gets its own old value */
    default: break;
    }
    return worst == CGU_UNIFORM ? CGU_UNIFORM : CGU_VARYING;
}

/* marks in `out` the blocks reachable from s (including s), not going past block `stop` */
static void reach_from(const CgUniform *u, IrBlock *s, const IrBlock *stop, uint8_t *out,
                       IrBlock **stack)
{
    int sp = 0;
    if (out[s->id]) return;
    out[s->id] = 1;
    if (s == stop) return;
    stack[sp++] = s;
    while (sp) {
        IrBlock *b = stack[--sp], *succ[2];
        int ns = ir_succs(b, succ);
        for (int k = 0; k < ns; k++)
            if (!out[succ[k]->id] && u->pos[succ[k]->id] >= 0) {
                out[succ[k]->id] = 1;
                if (succ[k] == stop) continue;
                stack[sp++] = succ[k];
            }
    }
}

/* Immediate post-dominators (Cooper-Harvey-Kennedy on the reversed CFG with one virtual exit
 * after every block that returns), by schedule position; NULL where a block reaches no exit. */
static IrBlock **post_dominators(const CgUniform *u, Arena *a)
{
    int n = u->norder, X = n;                                 /* node X is the virtual exit */
    int *ord = arena_alloc(a, sizeof(int) * (size_t)(n + 1)); /* reverse-graph postorder */
    int *num =
        arena_alloc(a, sizeof(int) * (size_t)(n + 1)); /* node -> postorder number, -1 unseen */
    int *stack = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    int *next = arena_alloc(a, sizeof(int) * (size_t)(n + 1));
    for (int i = 0; i <= n; i++) num[i] = -2;
    /* DFS over reversed edges from the exit: the reversed successors of node x are x's CFG
       predecessors (the exit's: every returning block) */
    int sp = 0, no = 0;
    stack[sp++] = X;
    num[X] = -1;
    while (sp) {
        int x = stack[sp - 1], y = -1;
        if (x == X) {
            while (next[x] < n) {
                IrBlock *b = u->order[next[x]++];
                IrInst *t = ir_terminator(b);
                if (t && (t->op == IR_RET || t->op == IR_UNREACHABLE) && num[u->pos[b->id]] == -2) {
                    y = u->pos[b->id];
                    break;
                }
            }
        } else {
            IrBlock *b = u->order[x];
            while (next[x] < b->npreds) {
                IrBlock *p = b->preds[next[x]++];
                if (u->pos[p->id] >= 0 && num[u->pos[p->id]] == -2) {
                    y = u->pos[p->id];
                    break;
                }
            }
        }
        if (y >= 0) {
            num[y] = -1;
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
        for (int k = no - 1; k >= 0; k--) { /* reverse postorder */
            int x = ord[k];
            if (x == X) continue;
            /* reversed predecessors of x: its CFG successors, and the exit if it returns */
            IrBlock *b = u->order[x], *succ[2];
            int ns = ir_succs(b, succ), nd = -1;
            IrInst *t = ir_terminator(b);
            int cand[3], nc = 0;
            for (int j = 0; j < ns; j++)
                if (u->pos[succ[j]->id] >= 0) cand[nc++] = num[u->pos[succ[j]->id]];
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
    IrBlock **ipdom = arena_alloc(a, sizeof(IrBlock *) * (size_t)(n + 1));
    for (int x = 0; x < n; x++) {
        if (num[x] < 0 || idom[num[x]] < 0) continue;
        int d = ord[idom[num[x]]];
        ipdom[x] = d == X ? NULL : u->order[d];
    }
    return ipdom;
}

/* ---- loops and the schedule ---- */

typedef struct Sched {
    CgUniform *u;
    IrDom *dom;
    uint8_t *placed;
} Sched;

/* is block b inside loop l (or l == -1)? */
static bool in_region(const CgUniform *u, int l, const IrBlock *b)
{
    return l < 0 || cg_uniform_in_loop(u, l, b);
}

static void place(Sched *s, int region)
{
    CgUniform *u = s->u;
    for (int i = 0; i < s->dom->n; i++) {
        IrBlock *b = s->dom->rpo[i];
        if (s->placed[b->id] || !in_region(u, region, b)) continue;
        int l = u->loop_of[b->id];
        while (l >= 0 && u->loops[l].parent != region) l = u->loops[l].parent;
        if (l >= 0 && l != region) {
            u->loops[l].first = u->norder;
            place(s, l);
            u->loops[l].last = u->norder - 1;
        } else {
            s->placed[b->id] = 1;
            u->pos[b->id] = u->norder;
            u->order[u->norder++] = b;
        }
    }
}

static void find_loops(CgUniform *u, IrFunc *f, IrDom *dom, Arena *a)
{
    int nid = u->nid, n = dom->n;
    /* headers: targets of back edges, in rpo order */
    int *hdr_loop = arena_alloc(a, sizeof(int) * (size_t)nid);
    for (int i = 0; i < nid; i++) hdr_loop[i] = -1;
    int nl = 0;
    for (int i = 0; i < n; i++) {
        IrBlock *b = dom->rpo[i];
        for (int k = 0; k < b->npreds; k++) {
            IrBlock *p = b->preds[k];
            if (dom->rpo_index[p->id] >= 0 && ir_dominates(dom, b, p) && hdr_loop[b->id] < 0)
                hdr_loop[b->id] = nl++;
        }
    }
    u->nloops = nl;
    u->loops = arena_alloc(a, sizeof(CgLoop) * (size_t)(nl + 1));
    /* bodies: per loop, a member mark; membership size decides nesting */
    uint8_t **member = arena_alloc(a, sizeof(uint8_t *) * (size_t)(nl + 1));
    int *size = arena_alloc(a, sizeof(int) * (size_t)(nl + 1));
    IrBlock **stack = arena_alloc(a, sizeof(IrBlock *) * (size_t)(f->blocks.len + 1));
    for (int i = 0; i < n; i++) {
        IrBlock *h = dom->rpo[i];
        int l = hdr_loop[h->id];
        if (l < 0) continue;
        u->loops[l].header = h;
        uint8_t *mem = member[l] = arena_alloc(a, (size_t)nid);
        mem[h->id] = 1;
        size[l] = 1;
        int sp = 0;
        for (int k = 0; k < h->npreds; k++) {
            IrBlock *p = h->preds[k];
            if (dom->rpo_index[p->id] >= 0 && ir_dominates(dom, h, p) && !mem[p->id]) {
                mem[p->id] = 1;
                size[l]++;
                stack[sp++] = p;
            }
        }
        while (sp) {
            IrBlock *b = stack[--sp];
            for (int k = 0; k < b->npreds; k++) {
                IrBlock *p = b->preds[k];
                if (dom->rpo_index[p->id] < 0 || mem[p->id]) continue;
                mem[p->id] = 1;
                size[l]++;
                stack[sp++] = p;
            }
        }
    }
    /* innermost loop of each block: the smallest loop containing it; parents likewise */
    for (int i = 0; i < nid; i++) u->loop_of[i] = -1;
    for (int i = 0; i < n; i++) {
        IrBlock *b = dom->rpo[i];
        int best = -1;
        for (int l = 0; l < nl; l++)
            if (member[l][b->id] && (best < 0 || size[l] < size[best])) best = l;
        u->loop_of[b->id] = best;
    }
    for (int l = 0; l < nl; l++) {
        int best = -1;
        for (int o = 0; o < nl; o++)
            if (o != l && member[o][u->loops[l].header->id] && (best < 0 || size[o] < size[best]))
                best = o;
        u->loops[l].parent = best;
    }
    /* loops are numbered in rpo order of their headers: an outer loop's header comes first */
    for (int l = 0; l < nl; l++) {
        int d = 1;
        for (int p = u->loops[l].parent; p >= 0; p = u->loops[p].parent) d++;
        u->loops[l].depth = d;
    }
}

CgUniform *cg_uniform_analyse(const IrFunc *fc, Arena *a)
{
    IrFunc *f = (IrFunc *)fc; /* ir_dom_compute takes a non-const function; nothing is changed */
    CgUniform *u = arena_alloc(a, sizeof *u);
    u->f = f;
    int nid = u->nid = f->next_id + 1;
    u->kind = arena_alloc(a, (size_t)nid);
    u->varying_br = arena_alloc(a, (size_t)nid);
    u->join = arena_alloc(a, (size_t)nid);
    u->loop_of = arena_alloc(a, sizeof(int) * (size_t)nid);
    u->pos = arena_alloc(a, sizeof(int) * (size_t)nid);
    u->order = arena_alloc(a, sizeof(IrBlock *) * (size_t)(f->blocks.len + 1));
    for (int i = 0; i < nid; i++) u->pos[i] = -1;
    if (f->blocks.len == 0) return u;

    IrDom *dom = ir_dom_compute(a, f);
    find_loops(u, f, dom, a);
    Sched s = {u, dom, arena_alloc(a, (size_t)nid)};
    place(&s, -1);

    /* fixpoint: kinds only grow (uniform < linear < varying) */
    uint8_t *r1 = arena_alloc(a, (size_t)nid), *r2 = arena_alloc(a, (size_t)nid);
    IrBlock **stack = arena_alloc(a, sizeof(IrBlock *) * (size_t)(f->blocks.len + 1));
    IrBlock **ipdom = post_dominators(u, a);
    bool changed = true;
    while (changed) {
        changed = false;
        /* joins of the current varying branches: blocks that both successors reach before
           the branch's immediate post-dominator (where the lanes reconverge), and that one */
        memset(u->join, 0, (size_t)nid);
        for (int p = 0; p < u->norder; p++) {
            IrBlock *b = u->order[p];
            if (!u->varying_br[b->id]) continue;
            IrInst *t = ir_terminator(b);
            for (int q = 0; q < u->norder; q++) r1[u->order[q]->id] = r2[u->order[q]->id] = 0;
            IrBlock *pd = ipdom[p];
            reach_from(u, t->target[0], pd, r1, stack);
            reach_from(u, t->target[1], pd, r2, stack);
            for (int q = 0; q < u->norder; q++) {
                int id = u->order[q]->id;
                if (r1[id] && r2[id]) u->join[id] = 1;
            }
        }
        for (int p = 0; p < u->norder; p++) {
            IrBlock *b = u->order[p];
            for (IrInst *i = b->first; i; i = i->next) {
                if (i->type == ty_void && i->op != IR_CBR) continue;
                if (i->op == IR_CBR) {
                    if (!u->varying_br[b->id] && cg_uniform_at(u, i->ops[0], b) != CGU_UNIFORM) {
                        u->varying_br[b->id] = 1;
                        u->any_varying_branch = true;
                        changed = true;
                    }
                    continue;
                }
                CgUni k = rule(u, i);
                if (k > u->kind[i->id]) {
                    u->kind[i->id] = (uint8_t)k;
                    changed = true;
                }
            }
        }
    }
    return u;
}
