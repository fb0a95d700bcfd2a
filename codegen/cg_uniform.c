/* cg_uniform.c: uniform/varying analysis and the SIMD block schedule (see cg_uniform.h). */
#include "cg_uniform.h"

#include "compiler/ir_cfg.h"

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

/* the natural loops of ir_cfg, numbered alike (rpo order of their headers) */
static void take_loops(CgUniform *u, const IrCfg *c, Arena *a)
{
    u->nloops = c->nloops;
    u->loops = arena_alloc(a, sizeof(CgLoop) * (size_t)(c->nloops + 1));
    for (int l = 0; l < c->nloops; l++) {
        u->loops[l].header = c->loops[l].header;
        u->loops[l].parent = c->loops[l].parent;
        u->loops[l].depth = c->loops[l].depth;
    }
    for (int i = 0; i < u->nid; i++) u->loop_of[i] = c->loop_of[i];
}

CgUniform *cg_uniform_analyse(const IrFunc *fc, Arena *a)
{
    const IrFunc *f = fc;
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

    IrCfg *cfg = ir_cfg_compute(a, f);
    take_loops(u, cfg, a);
    Sched s = {u, cfg->dom, arena_alloc(a, (size_t)nid)};
    place(&s, -1);

    /* fixpoint: kinds only grow (uniform < linear < varying) */
    uint8_t *r1 = arena_alloc(a, (size_t)nid), *r2 = arena_alloc(a, (size_t)nid);
    IrBlock **stack = arena_alloc(a, sizeof(IrBlock *) * (size_t)(f->blocks.len + 1));
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
            const IrBlock *pd = ir_cfg_ipdom(cfg, b);
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
