/* ir.c: construction and editing of the IR (see ir.h).
 *
 * Everything is allocated from the module's arena. Value and block ids come from one
 * per-function counter (f->next_id), so arrays indexed by id cover both.
 */
#include "ir.h"

#include <math.h>
#include <string.h>

const IrOpInfo ir_op_info[IR_OP_COUNT] = {
#define OP(ID, name, flags) [IR_##ID] = {name, flags},
#include "ops.def"
#undef OP
};

IrModule *ir_module_new(Arena *a)
{
    IrModule *m = arena_alloc(a, sizeof *m);
    m->arena = a;
    return m;
}

IrFunc *ir_func_new(IrModule *m, const char *name, bool is_kernel, Type *ret, const IrParam *params,
                    int nparams)
{
    IrFunc *f = arena_alloc(m->arena, sizeof *f);
    f->module = m;
    f->name = name;
    f->loc.file = -1;
    f->is_kernel = is_kernel;
    f->ret = ret ? ret : ty_void;
    f->nparams = nparams;
    if (nparams > 0) {
        f->params = arena_alloc(m->arena, sizeof *f->params * (size_t)nparams);
        memcpy(f->params, params, sizeof *f->params * (size_t)nparams);
    }
    f->wg[0] = f->wg[1] = f->wg[2] = 1;
    vec_push(m->arena, &m->funcs, f);
    return f;
}

IrBlock *ir_block_new(IrFunc *f)
{
    IrBlock *b = arena_alloc(f->module->arena, sizeof *b);
    b->id = f->next_id++;
    b->func = f;
    vec_push(f->module->arena, &f->blocks, b);
    return b;
}

IrInst *ir_inst_new(IrFunc *f, IrOp op, Type *type, IrInst *const *ops, int nops)
{
    IrInst *i = arena_alloc(f->module->arena, sizeof *i);
    i->op = op;
    i->type = type ? type : ty_void;
    i->id = f->next_id++;
    i->loc.file = -1;
    ir_set_ops(f, i, ops, nops);
    return i;
}

void ir_set_ops(IrFunc *f, IrInst *i, IrInst *const *ops, int nops)
{
    i->nops = nops;
    i->ops = NULL;
    if (nops > 0) {
        i->ops = arena_alloc(f->module->arena, sizeof *i->ops * (size_t)nops);
        if (ops) memcpy(i->ops, ops, sizeof *i->ops * (size_t)nops);
    }
}

void ir_append(IrBlock *b, IrInst *i)
{
    i->block = b;
    i->next = NULL;
    i->prev = b->last;
    if (b->last)
        b->last->next = i;
    else
        b->first = i;
    b->last = i;
}

void ir_insert_before(IrInst *pos, IrInst *i)
{
    IrBlock *b = pos->block;
    ICE_ASSERT(b != NULL);
    i->block = b;
    i->next = pos;
    i->prev = pos->prev;
    if (pos->prev)
        pos->prev->next = i;
    else
        b->first = i;
    pos->prev = i;
}

void ir_remove(IrInst *i)
{
    IrBlock *b = i->block;
    if (!b) return;
    if (i->prev)
        i->prev->next = i->next;
    else
        b->first = i->next;
    if (i->next)
        i->next->prev = i->prev;
    else
        b->last = i->prev;
    i->prev = i->next = NULL;
    i->block = NULL;
}

void ir_merge_block_into(IrBlock *p, IrBlock *b)
{
    IrInst *next;
    for (IrInst *i = b->first; i; i = next) {
        next = i->next;
        ir_remove(i);
        ir_append(p, i);
    }
    IrBlock *succ[2];
    int ns = ir_succs(p, succ);
    for (int k = 0; k < ns; k++) {
        if (k == 1 && succ[1] == succ[0]) break;
        for (int e = 0; e < succ[k]->npreds; e++)
            if (succ[k]->preds[e] == b) succ[k]->preds[e] = p;
    }
}

static uint64_t width_mask(int bits)
{
    return bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
}

IrInst *ir_const_int(IrFunc *f, Type *t, uint64_t v)
{
    ICE_ASSERT(t->kind == TY_INT || t->kind == TY_BOOL);
    IrInst *i = ir_inst_new(f, IR_CONST, t, NULL, 0);
    i->imm.i = t->kind == TY_BOOL ? (v != 0) : (v & width_mask(t->bits));
    return i;
}

/* Rounds d to the nearest half-precision value (ties to even). */
static double round_to_half(double d)
{
    if (isnan(d) || isinf(d) || d == 0) return d;
    double a = fabs(d);
    if (a >= 65520.0) return copysign(INFINITY, d);
    double q;
    if (a < 6.103515625e-05) {
        q = ldexp(1.0, -24); /* subnormal quantum */
    } else {
        int e;
        frexp(a, &e); /* a = m * 2^e, m in [0.5, 1): 11 significant bits */
        q = ldexp(1.0, e - 11);
    }
    return copysign(nearbyint(a / q) * q, d);
}

double ir_round_float(Type *t, double v)
{
    if (t->bits == 32) return (double)(float)v;
    if (t->bits == 16) return round_to_half((double)(float)v);
    return v;
}

IrInst *ir_const_float(IrFunc *f, Type *t, double v)
{
    ICE_ASSERT(t->kind == TY_FLOAT);
    IrInst *i = ir_inst_new(f, IR_CONST, t, NULL, 0);
    i->imm.f = ir_round_float(t, v);
    return i;
}

IrInst *ir_terminator(const IrBlock *b)
{
    if (b->last && (ir_op_info[b->last->op].flags & OPF_TERM)) return b->last;
    return NULL;
}

int ir_succs(const IrBlock *b, IrBlock *out[2])
{
    IrInst *t = ir_terminator(b);
    if (!t) return 0;
    switch (t->op) {
    case IR_BR: out[0] = t->target[0]; return 1;
    case IR_CBR:
        out[0] = t->target[0];
        out[1] = t->target[1];
        return 2;
    default: return 0;
    }
}

/* Recomputes every block's predecessor list in a canonical order (blocks in function
 * order, successors in terminator order). Phis are kept consistent: when a block's phis
 * matched its old predecessor list, their operands are permuted to the new list (the k-th
 * edge from a block keeps the k-th operand that came from it); operands of vanished edges
 * are dropped. A new edge with no old operand is a bug in the caller. */
void ir_recompute_preds(IrFunc *f)
{
    Arena *a = f->module->arena;
    int nb = f->blocks.len;
    int *count = arena_alloc(a, sizeof *count * (size_t)(f->next_id + 1));
    for (int i = 0; i < nb; i++) {
        IrBlock *succ[2];
        int ns = ir_succs(f->blocks.data[i], succ);
        for (int k = 0; k < ns; k++) count[succ[k]->id]++;
    }
    IrBlock ***newp = arena_alloc(a, sizeof *newp * (size_t)nb);
    int *fill = arena_alloc(a, sizeof *fill * (size_t)nb);
    /* block id -> position in f->blocks */
    int *pos = arena_alloc(a, sizeof *pos * (size_t)(f->next_id + 1));
    int *first = arena_alloc(a, sizeof *first * (size_t)(f->next_id + 1)); /* old edge + 1 */
    for (int i = 0; i < nb; i++) {
        IrBlock *b = f->blocks.data[i];
        pos[b->id] = i;
        newp[i] = count[b->id] ? arena_alloc(a, sizeof **newp * (size_t)count[b->id]) : NULL;
    }
    for (int i = 0; i < nb; i++) {
        IrBlock *b = f->blocks.data[i];
        IrBlock *succ[2];
        int ns = ir_succs(b, succ);
        for (int k = 0; k < ns; k++) {
            int p = pos[succ[k]->id];
            newp[p][fill[p]++] = b;
        }
    }
    for (int i = 0; i < nb; i++) {
        IrBlock *b = f->blocks.data[i];
        int n = fill[i];
        IrBlock **np = newp[i];
        bool same = n == b->npreds;
        for (int k = 0; same && k < n; k++) same = np[k] == b->preds[k];
        if (same) continue;
        bool has_phis = b->first && b->first->op == IR_PHI;
        if (has_phis && b->first->nops == b->npreds) {
            /* map new edge k -> old edge index: the old edges of each source block are
             * chained (first[id], chain[o]) and taken in order */
            int *map = arena_alloc(a, sizeof *map * (size_t)(n ? n : 1));
            int *chain = arena_alloc(a, sizeof *chain * (size_t)(b->npreds ? b->npreds : 1));
            for (int o = b->npreds - 1; o >= 0; o--) {
                int pid = b->preds[o]->id;
                chain[o] = first[pid];
                first[pid] = o + 1;
            }
            for (int k = 0; k < n; k++) {
                int pid = np[k]->id;
                if (first[pid] == 0)
                    ICE("ir_recompute_preds: new edge b%d -> b%d in '%s' has no phi operand",
                        np[k]->id, b->id, f->name);
                map[k] = first[pid] - 1;
                first[pid] = chain[map[k]];
            }
            for (int o = 0; o < b->npreds; o++) first[b->preds[o]->id] = 0;
            for (IrInst *p = b->first; p && p->op == IR_PHI; p = p->next) {
                IrInst **ops = arena_alloc(a, sizeof *ops * (size_t)(n ? n : 1));
                for (int k = 0; k < n; k++) ops[k] = p->ops[map[k]];
                p->ops = ops;
                p->nops = n;
            }
        }
        b->preds = np;
        b->npreds = n;
    }
}

void ir_replace_uses(IrFunc *f, IrInst *from, IrInst *to)
{
    for (int bi = 0; bi < f->blocks.len; bi++)
        for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next)
            for (int k = 0; k < i->nops; k++)
                if (i->ops[k] == from) i->ops[k] = to;
}

void ir_remove_unreachable_blocks(IrFunc *f)
{
    int nb = f->blocks.len;
    if (nb == 0) return;
    Arena *a = f->module->arena;
    bool *seen = arena_alloc(a, sizeof *seen * (size_t)(f->next_id + 1));
    IrBlock **stack = arena_alloc(a, sizeof *stack * (size_t)nb);
    int sp = 0;
    stack[sp++] = f->blocks.data[0];
    seen[f->blocks.data[0]->id] = true;
    int nreach = 1;
    while (sp > 0) {
        IrBlock *b = stack[--sp];
        IrBlock *succ[2];
        int ns = ir_succs(b, succ);
        for (int k = 0; k < ns; k++)
            if (!seen[succ[k]->id]) {
                seen[succ[k]->id] = true;
                stack[sp++] = succ[k];
                nreach++;
            }
    }
    if (nreach == nb) return;
    int j = 0;
    for (int i = 0; i < nb; i++) {
        IrBlock *b = f->blocks.data[i];
        if (seen[b->id])
            f->blocks.data[j++] = b;
        else
            for (IrInst *in = b->first; in; in = in->next) in->block = NULL;
    }
    f->blocks.len = j;
    ir_recompute_preds(f);
}

Type *ir_mem_type(const IrFunc *f, const IrMemRef *m)
{
    Type *t = NULL;
    switch (m->kind) {
    case MEM_BUFFER:
        if (m->id < 0 || m->id >= f->nparams || f->params[m->id].type->kind != TY_BUFFER)
            return NULL;
        t = f->params[m->id].type->elem;
        if (ir_mem_nbase(m) != 1) return NULL;
        break;
    case MEM_SHARED:
        if (m->id < 0 || m->id >= f->shared.len) return NULL;
        t = f->shared.data[m->id].type;
        goto dims;
    case MEM_LOCAL:
        if (m->id < 0 || m->id >= f->locals.len) return NULL;
        t = f->locals.data[m->id].type;
    dims:
        for (int k = 0; k < ir_mem_nbase(m); k++) {
            if (t->kind != TY_ARRAY) return NULL;
            t = t->elem;
        }
        if (t->kind == TY_ARRAY) return NULL; /* not all dimensions indexed */
        break;
    default: return NULL;
    }
    if (m->npath < 0 || m->npath > IR_MAX_PATH) return NULL;
    for (int k = 0; k < m->npath && t; k++) t = ir_path_step(t, m->path[k]);
    return t && t->kind != TY_ARRAY ? t : NULL;
}

Type *ir_path_step(Type *t, int p)
{
    switch (t->kind) {
    case TY_STRUCT: return p >= 0 && p < t->nfields ? t->fields[p].type : NULL;
    case TY_VEC: return p >= 0 && p < t->n ? t->elem : NULL;
    case TY_ARRAY: return p == IR_PATH_INDEX ? t->elem : NULL;
    default: return NULL;
    }
}

bool ir_is_cross_lane(const IrInst *i)
{
    if (i->op != IR_BUILTIN) return false;
    switch (i->builtin) {
    case BI_SUBGROUP_ADD:
    case BI_SUBGROUP_MIN:
    case BI_SUBGROUP_MAX:
    case BI_SUBGROUP_BROADCAST:
    case BI_SUBGROUP_SHUFFLE: return true;
    default: return false;
    }
}
