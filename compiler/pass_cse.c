/* pass_cse.c: common subexpression elimination by dominator-scoped value numbering.
 *
 * Walks the dominator tree in preorder with a scoped hash table of OPF_PURE instructions
 * (never PHI or the cross-lane subgroup builtins) and of loads from `const` buffers (nothing
 * writes those during a launch, and buffers do not alias: docs/language.md): an instruction equal
 * to one available in a dominating position (same op, type, attributes and operands; operands
 * in either order for commutative ops) is replaced by it. Other loads (writable buffers,
 * shared and private memory) are merged within a block only, as long as no store, atomic,
 * barrier or call that may change the object comes between the two (`x[i] * x[i]`). Values without operands that do
 * not depend on their position (CONST, PARAM, UNDEF, WORKITEM, BUFLEN) are hoisted to the
 * entry block, so equal ones merge across the whole function.
 * Requires: exact preds (for the dominator tree). Unreachable blocks are left alone.
 */
#include "passes.h"

#include <string.h>

typedef struct Entry {
    IrInst *i;
    struct Entry *next;
    uint64_t bucket;
} Entry;

typedef struct CSE {
    Arena *s;
    Entry **tab;
    uint64_t mask;
    VEC(Entry *)
    undo; /* each scoped insertion, removed when its dominator subtree is done.
                             Position-free values are inserted unscoped at any time, so an
                             undo must unlink its own entry, not the head of the bucket. */
} CSE;

static bool commutative(IrOp op)
{
    return op == IR_ADD || op == IR_MUL || op == IR_AND || op == IR_OR || op == IR_XOR ||
           op == IR_EQ || op == IR_NE;
}

static bool position_free(const IrInst *i)
{
    return i->op == IR_CONST || i->op == IR_PARAM || i->op == IR_UNDEF || i->op == IR_WORKITEM ||
           i->op == IR_BUFLEN;
}

static bool const_load(const IrInst *i)
{
    return i->op == IR_LOAD && i->mem.kind == MEM_BUFFER &&
           i->block->func->params[i->mem.id].type->is_const;
}

static bool candidate(const IrInst *i)
{
    return ((ir_op_info[i->op].flags & OPF_PURE) && i->op != IR_PHI && !ir_is_cross_lane(i)) ||
           const_load(i);
}

static bool same_mem(const IrMemRef *a, const IrMemRef *b)
{
    if (a->kind != b->kind || a->id != b->id || a->nidx != b->nidx || a->npath != b->npath)
        return false;
    for (int k = 0; k < a->npath; k++)
        if (a->path[k] != b->path[k]) return false;
    return true;
}

static uint64_t mix(uint64_t h, uint64_t v) { return hash_fnv1a(&v, sizeof v, h); }

static uint64_t attr_hash(const IrInst *i)
{
    uint64_t h = mix(1469598103934665603ull, (uint64_t)i->op);
    h = mix(h, (uint64_t)(uintptr_t)i->type);
    switch (i->op) {
    case IR_CONST: h = mix(h, i->imm.i); break;
    case IR_PARAM: h = mix(h, (uint64_t)i->param); break;
    case IR_WORKITEM: h = mix(mix(h, (uint64_t)i->builtin), (uint64_t)i->dim); break;
    case IR_BUILTIN: h = mix(h, (uint64_t)i->builtin); break;
    case IR_EXTRACT:
    case IR_INSERT: h = mix(h, (uint64_t)i->idx); break;
    case IR_SHUFFLE:
        for (int k = 0; k < 4; k++) h = mix(h, (uint64_t)i->mask[k]);
        break;
    case IR_BUFLEN: h = mix(h, (uint64_t)i->mem.id); break;
    case IR_LOAD:
        h = mix(mix(mix(h, (uint64_t)i->mem.kind), (uint64_t)i->mem.id), (uint64_t)i->mem.npath);
        for (int k = 0; k < i->mem.npath; k++) h = mix(h, (uint64_t)i->mem.path[k]);
        break;
    default: break;
    }
    return h;
}

static uint64_t hash_inst(const IrInst *i)
{
    uint64_t h = attr_hash(i);
    if (commutative(i->op) && i->nops == 2) {
        uint64_t a = (uint64_t)i->ops[0]->id, b = (uint64_t)i->ops[1]->id;
        h = mix(mix(h, a < b ? a : b), a < b ? b : a);
    } else {
        for (int k = 0; k < i->nops; k++) h = mix(h, (uint64_t)i->ops[k]->id);
    }
    return h;
}

static bool same_attrs(const IrInst *a, const IrInst *b)
{
    if (a->op != b->op || a->type != b->type || a->nops != b->nops) return false;
    switch (a->op) {
    case IR_CONST: return a->imm.i == b->imm.i;
    case IR_PARAM: return a->param == b->param;
    case IR_WORKITEM: return a->builtin == b->builtin && a->dim == b->dim;
    case IR_BUILTIN: return a->builtin == b->builtin;
    case IR_EXTRACT:
    case IR_INSERT: return a->idx == b->idx;
    case IR_SHUFFLE: return memcmp(a->mask, b->mask, sizeof a->mask) == 0;
    case IR_BUFLEN: return a->mem.kind == b->mem.kind && a->mem.id == b->mem.id;
    case IR_LOAD: return same_mem(&a->mem, &b->mem);
    case IR_UNDEF: return true;
    default: return true;
    }
}

static bool equal(const IrInst *a, const IrInst *b)
{
    if (!same_attrs(a, b)) return false;
    bool same = true;
    for (int k = 0; k < a->nops && same; k++) same = a->ops[k] == b->ops[k];
    if (same) return true;
    return commutative(a->op) && a->nops == 2 && a->ops[0] == b->ops[1] && a->ops[1] == b->ops[0];
}

static IrInst *lookup(CSE *c, IrInst *i, uint64_t h)
{
    for (Entry *e = c->tab[h & c->mask]; e; e = e->next)
        if (equal(e->i, i)) return e->i;
    return NULL;
}

static void insert(CSE *c, IrInst *i, uint64_t h, bool scoped)
{
    Entry *e = arena_alloc(c->s, sizeof *e);
    e->i = i;
    e->bucket = h & c->mask;
    e->next = c->tab[e->bucket];
    c->tab[e->bucket] = e;
    if (scoped) vec_push(c->s, &c->undo, e);
}

static void unlink_entry(CSE *c, Entry *e)
{
    Entry **p = &c->tab[e->bucket];
    while (*p != e) p = &(*p)->next;
    *p = e->next;
}

static IrInst *fwd(IrInst *v)
{
    while (v->aux) v = v->aux;
    return v;
}

static bool cse_func(IrFunc *f, Arena *s)
{
    if (f->blocks.len == 0) return false;
    int ninst = 0;
    for (int bi = 0; bi < f->blocks.len; bi++)
        for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next) {
            i->aux = NULL;
            ninst++;
        }
    CSE c = {.s = s};
    uint64_t cap = 16;
    while (cap < (uint64_t)ninst * 2) cap *= 2;
    c.tab = arena_alloc(s, sizeof *c.tab * cap);
    c.mask = cap - 1;
    IrDom *d = ir_dom_compute(s, f);
    IrBlock *entry = d->rpo[0];
    IrInst *anchor = entry->first;
    while (anchor && anchor->op == IR_PHI) anchor = anchor->next;
    bool changed = false;

    enum { MAX_LOADS = 32 };
    IrInst *loads[MAX_LOADS];
    int n = d->n;
    int *stack = arena_alloc(s, sizeof *stack * (size_t)(n + 1));
    int *next_kid = arena_alloc(s, sizeof *next_kid * (size_t)(n + 1));
    int *mark = arena_alloc(s, sizeof *mark * (size_t)(n + 1));
    int sp = 0;
    stack[sp] = 0;
    next_kid[sp++] = -1;
    while (sp > 0) {
        int r = stack[sp - 1];
        if (next_kid[sp - 1] < 0) {
            next_kid[sp - 1] = d->kid_start[r];
            mark[sp - 1] = c.undo.len;
            IrInst *next;
            int nloads = 0; /* the block's available loads of memory that may be written */
            for (IrInst *i = d->rpo[r]->first; i; i = next) {
                next = i->next;
                for (int k = 0; k < i->nops; k++) i->ops[k] = fwd(i->ops[k]);
                if (i->op == IR_LOAD && !const_load(i)) {
                    IrInst *e = NULL;
                    for (int k = 0; k < nloads && !e; k++)
                        if (equal(loads[k], i)) e = loads[k];
                    if (e) {
                        i->aux = e;
                        ir_remove(i);
                        changed = true;
                    } else if (nloads < MAX_LOADS) {
                        loads[nloads++] = i;
                    }
                    continue;
                }
                if (i->op == IR_STORE || i->op == IR_ATOMIC) { /* forget loads of that object */
                    int kept = 0;
                    for (int k = 0; k < nloads; k++)
                        if (loads[k]->mem.kind != i->mem.kind || loads[k]->mem.id != i->mem.id)
                            loads[kept++] = loads[k];
                    nloads = kept;
                } else if (i->op == IR_BARRIER || i->op == IR_CALL) {
                    nloads = 0;
                }
                if (!candidate(i)) continue;
                uint64_t h = hash_inst(i);
                IrInst *e = lookup(&c, i, h);
                if (e) {
                    i->aux = e;
                    ir_remove(i);
                    changed = true;
                } else if (position_free(i) && i->nops == 0) {
                    if (i->block != entry) {
                        ir_remove(i);
                        ir_insert_before(anchor, i);
                        changed = true;
                    }
                    insert(&c, i, h, false);
                } else {
                    insert(&c, i, h, true);
                }
            }
        }
        if (next_kid[sp - 1] < d->kid_start[r + 1]) {
            int kid = d->kids[next_kid[sp - 1]++];
            stack[sp] = kid;
            next_kid[sp++] = -1;
        } else {
            while (c.undo.len > mark[sp - 1]) unlink_entry(&c, c.undo.data[--c.undo.len]);
            sp--;
        }
    }
    if (changed)
        for (int bi = 0; bi < f->blocks.len; bi++)
            for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next)
                for (int k = 0; k < i->nops; k++) i->ops[k] = fwd(i->ops[k]);
    return changed;
}

bool pass_cse(IrModule *m, Arena *scratch) { return pass_each_func(m, scratch, cse_func); }
