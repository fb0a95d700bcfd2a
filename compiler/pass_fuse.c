/* pass_fuse.c: pipeline fusion (docs/fusion.md).
 *
 * Merges consecutive launches of a pipeline into one new kernel (a real IrFunc, so every
 * backend runs it) where that cannot change the result, and removes the temporaries that
 * then no longer escape. A group of launches L1..Ln is fused when, for each Lk joining the
 * group formed by L1..Lk-1:
 *  - they are in one straight-line stretch of the pipeline (no label or jump between) with
 *    no other launch between them;
 *  - the launch shapes are equal: same dimension count, global sizes and local sizes that
 *    are the same expression of the pipeline's parameters (symbolic evaluation of the
 *    register program), same [[workgroup]] attribute;
 *  - no kernel of the group uses barrier(), shared memory, atomics or subgroup operations;
 *  - for every buffer that one of them writes and another accesses, every access to it in
 *    the group is at one and the same index, and that index is the work-item's own: an
 *    injective function of the global id (global_id(0) in 1-D, global_id(1) * W +
 *    global_id(0) with W the launch's global width in 2-D, each plus a uniform offset).
 *    Then each work-item reads exactly what it wrote itself, so running the bodies one
 *    after the other per work-item is the same as running the launches one after the other;
 *  - the registers an earlier launch of the group reads (sizes, scalar arguments) are not
 *    written before the last launch, and no buffer of the group is allocated or freed
 *    between the launches.
 * The fused kernel runs the bodies in launch order (each kernel's `ret` jumps to the next
 * body); it is launched where the last launch was. A temporary that only the group uses,
 * always at the work-item's own index, and whose length the pipeline does not read,
 * becomes a private variable of the fused kernel: its ALLOC and FREE vanish (its length,
 * where a kernel reads len(t), becomes a uint parameter fed by the allocation's size).
 *
 * Fusion runs at -O1 and above and not in checked mode (which runs kernels as written, so
 * a violation is reported against the user's kernel and buffer). With m->fusion_report
 * set, each pipeline gets a report: what was fused into what, and for every pair of
 * consecutive launches that was not, the first reason found. Deterministic: everything is
 * in step and instruction order; hash tables are only looked up, never iterated.
 */
#include "passes.h"

#include <string.h>

/* ---- canonical expressions: kernel index expressions and pipeline registers in one
 * hash-consed table, so "same value" is "same node id" ---- */

enum {
    CN_UNIQUE, /* an unknown value equal only to itself (imm = serial) */
    CN_CONST,  /* type, imm */
    CN_PPARAM, /* pipeline parameter imm */
    CN_LEN,    /* length of slot k[0], allocation number imm */
    CN_WI,     /* work-item builtin op, dimension imm */
    CN_KOP,    /* kernel instruction op of type, attribute imm, kids */
    CN_PBIN,   /* pipeline binary op, kids */
    CN_PUN,    /* pipeline unary op, kid */
    CN_CONV,   /* register converted to scalar type, kid */
};

enum { CN_MAXK = 4 };

typedef struct CNode {
    int kind, op, nk;
    uint64_t imm;
    const Type *type;
    int k[CN_MAXK];
} CNode;

typedef struct Cx {
    Arena *a;
    VEC(CNode) nodes;
    int *tab; /* open addressing: node id + 1, 0 = empty */
    int cap;
    int serial;
} Cx;

static bool cn_eq(const CNode *x, const CNode *y)
{
    if (x->kind != y->kind || x->op != y->op || x->nk != y->nk || x->imm != y->imm ||
        x->type != y->type)
        return false;
    for (int k = 0; k < x->nk; k++)
        if (x->k[k] != y->k[k]) return false;
    return true;
}

static uint64_t cn_hash(const CNode *n)
{
    uint64_t h = hash_fnv1a(&n->kind, sizeof n->kind, 1469598103934665603ull);
    h = hash_fnv1a(&n->op, sizeof n->op, h);
    h = hash_fnv1a(&n->imm, sizeof n->imm, h);
    h = hash_fnv1a(&n->type, sizeof n->type,
                   h); /* only picks a bucket: results do not depend on it */
    h = hash_fnv1a(n->k, sizeof(int) * (size_t)n->nk, h);
    return h;
}

static void cx_grow(Cx *c)
{
    int ncap = c->cap ? c->cap * 2 : 256;
    int *nt = arena_alloc(c->a, sizeof *nt * (size_t)ncap);
    for (int i = 0; i < c->nodes.len; i++) {
        if (c->nodes.data[i].kind == CN_UNIQUE) continue;
        uint64_t h = cn_hash(&c->nodes.data[i]) & (uint64_t)(ncap - 1);
        while (nt[h]) h = (h + 1) & (uint64_t)(ncap - 1);
        nt[h] = i + 1;
    }
    c->tab = nt;
    c->cap = ncap;
}

static int cx_get(Cx *c, CNode n)
{
    for (int k = n.nk; k < CN_MAXK; k++) n.k[k] = 0;
    if (n.kind == CN_UNIQUE) {
        n.imm = (uint64_t)c->serial++;
        vec_push(c->a, &c->nodes, n);
        return c->nodes.len - 1;
    }
    if ((c->nodes.len + 1) * 2 >= c->cap) cx_grow(c);
    uint64_t h = cn_hash(&n) & (uint64_t)(c->cap - 1);
    while (c->tab[h]) {
        if (cn_eq(&c->nodes.data[c->tab[h] - 1], &n)) return c->tab[h] - 1;
        h = (h + 1) & (uint64_t)(c->cap - 1);
    }
    vec_push(c->a, &c->nodes, n);
    c->tab[h] = c->nodes.len;
    return c->nodes.len - 1;
}

static int cx_unique(Cx *c) { return cx_get(c, (CNode){.kind = CN_UNIQUE}); }

static const CNode *cx_node(const Cx *c, int id) { return &c->nodes.data[id]; }

/* ---- per kernel facts ---- */

typedef struct Access {
    IrInst *inst;
    bool write;
} Access;

typedef struct KInfo {
    const IrInst *barrier, *atomic, *subgroup; /* first of each, or NULL */
    bool shared;
    VEC(Access) * acc; /* by parameter index: loads and stores of that buffer */
    bool *uses_len;    /* by parameter index: BUFLEN of that buffer */
} KInfo;

/* ---- one launch, with the symbolic values of its registers ---- */

typedef struct Launch {
    int step;   /* index in p->steps */
    int region; /* straight-line stretch */
    IrPStep *s;
    KInfo *ki;
    int gsym[3], lsym[3];
    int *argsym; /* by argument: canonical value of a scalar argument */
    int *ver;    /* allocation number of every slot at the launch */
    int *lensym; /* by slot: canonical length of a temporary (its allocation size), -1 unknown */
    int *memo;   /* canonical node of kernel values (by inst id), -1 = not yet */
} Launch;

typedef struct Fuser {
    IrModule *m;
    IrPipeline *p;
    Arena *s;
    Cx cx;
    int nslots;
    VEC(Launch) launches;
    VEC(KInfo *) kinfos; /* by function index in m->funcs */
    int nfused;          /* kernels made for this pipeline */
} Fuser;

/* the step writes register dst */
static bool writes_reg(const IrPStep *s)
{
    return s->kind == PS_CONST || s->kind == PS_PARAM || s->kind == PS_LEN || s->kind == PS_BIN ||
           s->kind == PS_UN;
}

static const char *slot_name(const Fuser *F, int slot)
{
    if (slot < F->p->nparams) return F->p->params[slot].name;
    return F->p->temps.data[slot - F->p->nparams].name;
}

/* "line N", or "file:N" for a line of an included file */
static const char *where(const Fuser *F, Loc l)
{
    if (l.file > 0 && l.file < F->m->nfiles && F->m->files[l.file]) {
        const char *b = strrchr(F->m->files[l.file], '/');
        return arena_printf(F->s, "%s:%d", b ? b + 1 : F->m->files[l.file], l.line);
    }
    return arena_printf(F->s, "line %d", l.line);
}

static KInfo *kinfo(Fuser *F, IrFunc *k)
{
    int fi = -1;
    for (int i = 0; i < F->m->funcs.len; i++)
        if (F->m->funcs.data[i] == k) fi = i;
    ICE_ASSERT(fi >= 0);
    while (F->kinfos.len <= fi) vec_push(F->s, &F->kinfos, NULL);
    if (F->kinfos.data[fi]) return F->kinfos.data[fi];
    KInfo *ki = arena_alloc(F->s, sizeof *ki);
    ki->acc = arena_alloc(F->s, sizeof *ki->acc * (size_t)(k->nparams + 1));
    ki->uses_len = arena_alloc(F->s, sizeof *ki->uses_len * (size_t)(k->nparams + 1));
    ki->shared = k->shared.len > 0;
    for (int b = 0; b < k->blocks.len; b++)
        for (IrInst *i = k->blocks.data[b]->first; i; i = i->next) {
            if (i->op == IR_BARRIER && !ki->barrier) ki->barrier = i;
            if (i->op == IR_ATOMIC && !ki->atomic) ki->atomic = i;
            if (ir_is_cross_lane(i) && !ki->subgroup) ki->subgroup = i;
            if ((i->op == IR_WORKITEM || i->op == IR_BUILTIN) &&
                (i->builtin == BI_SUBGROUP_SIZE || i->builtin == BI_SUBGROUP_LOCAL_ID) &&
                !ki->subgroup)
                ki->subgroup = i;
            if ((i->op == IR_LOAD || i->op == IR_STORE || i->op == IR_ATOMIC) &&
                i->mem.kind == MEM_SHARED)
                ki->shared = true;
            if ((i->op == IR_LOAD || i->op == IR_STORE) && i->mem.kind == MEM_BUFFER) {
                Access a = {i, i->op == IR_STORE};
                vec_push(F->s, &ki->acc[i->mem.id], a);
            }
            if (i->op == IR_BUFLEN && i->mem.kind == MEM_BUFFER) ki->uses_len[i->mem.id] = true;
        }
    F->kinfos.data[fi] = ki;
    return ki;
}

/* ---- canonical form of a kernel value at a launch ---- */

static bool is_int(const Type *t) { return t && (t->kind == TY_INT || t->kind == TY_BOOL); }

static int canon(Fuser *F, Launch *L, IrInst *i)
{
    if (L->memo[i->id] >= 0) return L->memo[i->id];
    CNode n = {0};
    int r;
    switch (i->op) {
    case IR_CONST:
        n.kind = CN_CONST;
        n.type = i->type;
        if (i->type->kind == TY_FLOAT)
            memcpy(&n.imm, &i->imm.f, sizeof n.imm);
        else
            n.imm = i->imm.i;
        r = cx_get(&F->cx, n);
        break;
    case IR_PARAM: r = L->argsym[i->param]; break;
    case IR_BUFLEN:
        if (i->mem.kind != MEM_BUFFER) {
            r = cx_unique(&F->cx);
            break;
        }
        n.kind = CN_LEN;
        n.nk = 1;
        n.k[0] = L->s->args[i->mem.id].x;
        n.imm = (uint64_t)L->ver[n.k[0]];
        r = L->lensym[n.k[0]] >= 0 ? L->lensym[n.k[0]] : cx_get(&F->cx, n);
        break;
    case IR_WORKITEM:
        n.kind = CN_WI;
        n.op = (int)i->builtin;
        n.imm = (uint64_t)i->dim;
        r = cx_get(&F->cx, n);
        break;
    default:
        if (!(ir_op_info[i->op].flags & OPF_PURE) || i->op == IR_PHI || i->op == IR_UNDEF ||
            ir_is_cross_lane(i) || i->nops > CN_MAXK || i->op == IR_SHUFFLE) {
            r = cx_unique(&F->cx);
            break;
        }
        n.kind = CN_KOP;
        n.op = (int)i->op;
        n.type = i->type;
        n.imm = i->op == IR_BUILTIN ? (uint64_t)i->builtin : (uint64_t)i->idx;
        n.nk = i->nops;
        L->memo[i->id] =
            cx_unique(&F->cx); /* cycles through phis cannot happen (phis are unique) */
        for (int k = 0; k < i->nops; k++) n.k[k] = canon(F, L, i->ops[k]);
        r = cx_get(&F->cx, n);
        break;
    }
    L->memo[i->id] = r;
    return r;
}

/* the element index of an access (its buffer index operand) */
static int access_index(Fuser *F, Launch *L, const Access *a)
{
    if (ir_mem_nbase(&a->inst->mem) != 1) return cx_unique(&F->cx);
    return canon(F, L, a->inst->ops[0]);
}

static bool uniform(const Fuser *F, int id)
{
    const CNode *n = cx_node(&F->cx, id);
    switch (n->kind) {
    case CN_UNIQUE: return false;
    case CN_WI: return n->op == BI_GLOBAL_SIZE || n->op == BI_LOCAL_SIZE || n->op == BI_NUM_GROUPS;
    case CN_LEN: return true; /* k[0] is a slot, not a node: a buffer's length is uniform */
    default:
        for (int k = 0; k < n->nk; k++)
            if (!uniform(F, n->k[k])) return false;
        return true;
    }
}

/* strips integer widenings and uniform offsets: what is left decides injectivity */
static int core(const Fuser *F, int id)
{
    for (;;) {
        const CNode *n = cx_node(&F->cx, id);
        if (n->kind != CN_KOP) return id;
        if (n->op == IR_CONVERT && is_int(n->type)) {
            const CNode *c = cx_node(&F->cx, n->k[0]);
            const Type *from = c->kind == CN_KOP || c->kind == CN_CONST ? c->type : NULL;
            if (c->kind == CN_WI) from = ty_scalar(SC_UINT);
            if (!from || !is_int(from) || from->bits > n->type->bits) return id;
            id = n->k[0];
        } else if (n->op == IR_ADD && uniform(F, n->k[1])) {
            id = n->k[0];
        } else if (n->op == IR_ADD && uniform(F, n->k[0])) {
            id = n->k[1];
        } else if (n->op == IR_SUB && uniform(F, n->k[1])) {
            id = n->k[0];
        } else {
            return id;
        }
    }
}

static bool is_gid(const Fuser *F, int id, int dim)
{
    const CNode *n = cx_node(&F->cx, id);
    return n->kind == CN_WI && n->op == BI_GLOBAL_ID && n->imm == (uint64_t)dim;
}

/* W is the launch's global size in dimension d */
static bool is_gsize(const Fuser *F, const Launch *L, int id, int d)
{
    const CNode *n = cx_node(&F->cx, id);
    if (n->kind == CN_WI && n->op == BI_GLOBAL_SIZE && n->imm == (uint64_t)d) return true;
    const CNode *g = cx_node(&F->cx, L->gsym[d]);
    if (n->kind == CN_CONST && g->kind == CN_CONST && is_int(n->type) && is_int(g->type))
        return n->imm == g->imm;
    return id == L->gsym[d];
}

/* The index is a one-to-one function of the work-item's global id. */
static bool own_index(const Fuser *F, const Launch *L, int id)
{
    int c = core(F, id);
    if (L->s->ndims == 1) return is_gid(F, c, 0);
    if (L->s->ndims != 2) return false;
    const CNode *n = cx_node(&F->cx, c);
    if (n->kind != CN_KOP || n->op != IR_ADD) return false;
    for (int s = 0; s < 2; s++) {
        int lo = core(F, n->k[s]), hi = core(F, n->k[1 - s]);
        const CNode *m = cx_node(&F->cx, hi);
        if (m->kind != CN_KOP || m->op != IR_MUL) continue;
        for (int d = 0; d < 2; d++) {
            if (!is_gid(F, lo, d)) continue;
            for (int t = 0; t < 2; t++)
                if (is_gid(F, core(F, m->k[t]), 1 - d) && is_gsize(F, L, m->k[1 - t], d))
                    return true;
        }
    }
    return false;
}

/* ---- pipeline registers, symbolically ---- */

static int rsym(Fuser *F, int *sym, int r)
{
    if (sym[r] < 0) sym[r] = cx_unique(&F->cx);
    return sym[r];
}

/* the canonical value of register r converted to scalar type t (a PA_REG argument) */
static int conv_sym(Fuser *F, int rs, Type *t)
{
    const CNode *n = cx_node(&F->cx, rs);
    if (n->kind == CN_LEN && is_int(t) && t->bits >= 32) return rs; /* lengths fit in uint */
    CNode c = {.kind = CN_CONV, .type = t, .nk = 1, .k = {rs}};
    return cx_get(&F->cx, c);
}

/* Walks the steps once: launches with the symbolic values of their sizes and arguments. */
static void scan(Fuser *F)
{
    IrPipeline *p = F->p;
    int *sym = arena_alloc(F->s, sizeof *sym * (size_t)(p->nregs + 1));
    int *ver = arena_alloc(F->s, sizeof *ver * (size_t)(F->nslots + 1));
    /* a temporary's length is its allocation's size: an expression of the parameters that
     * stays valid after labels (it does not name registers) */
    int *lensym = arena_alloc(F->s, sizeof *lensym * (size_t)(F->nslots + 1));
    for (int r = 0; r < p->nregs; r++) sym[r] = -1;
    for (int k = 0; k < F->nslots; k++) lensym[k] = -1;
    int region = 0;
    for (int k = 0; k < p->steps.len; k++) {
        IrPStep *s = &p->steps.data[k];
        CNode n = {0};
        switch (s->kind) {
        case PS_CONST:
            n.kind = CN_CONST;
            n.type = s->type && ty_elem(s->type)->kind == TY_FLOAT ? ty_scalar(SC_DOUBLE)
                                                                   : ty_scalar(SC_LONG);
            n.imm = s->imm;
            sym[s->dst] = cx_get(&F->cx, n);
            break;
        case PS_PARAM:
            n.kind = CN_PPARAM;
            n.imm = (uint64_t)s->a;
            sym[s->dst] = cx_get(&F->cx, n);
            break;
        case PS_LEN:
            n.kind = CN_LEN;
            n.nk = 1;
            n.k[0] = s->a;
            n.imm = (uint64_t)ver[s->a];
            sym[s->dst] = lensym[s->a] >= 0 ? lensym[s->a] : cx_get(&F->cx, n);
            break;
        case PS_BIN:
            n.kind = CN_PBIN;
            n.op = s->op;
            n.nk = 2;
            n.k[0] = rsym(F, sym, s->a);
            n.k[1] = rsym(F, sym, s->b);
            sym[s->dst] = cx_get(&F->cx, n);
            break;
        case PS_UN: {
            int a = rsym(F, sym, s->a);
            const CNode *an = cx_node(&F->cx, a);
            if (s->op == DCK_POPU_MOV || (s->op == DCK_POPU_TRUNC32U && an->kind == CN_LEN)) {
                sym[s->dst] = a;
                break;
            }
            n.kind = CN_PUN;
            n.op = s->op;
            n.nk = 1;
            n.k[0] = a;
            sym[s->dst] = cx_get(&F->cx, n);
            break;
        }
        case PS_ALLOC:
            ver[s->a]++;
            lensym[s->a] = rsym(F, sym, s->b);
            break;
        case PS_LAUNCH: {
            Launch L = {0};
            L.step = k;
            L.region = region;
            L.s = s;
            L.ki = kinfo(F, s->kernel);
            for (int d = 0; d < s->ndims; d++) {
                L.gsym[d] = rsym(F, sym, s->global[d]);
                L.lsym[d] = s->has_local ? rsym(F, sym, s->local[d]) : -1;
            }
            L.argsym = arena_alloc(F->s, sizeof *L.argsym * (size_t)(s->nargs + 1));
            for (int a = 0; a < s->nargs; a++) {
                const IrPArg *g = &s->args[a];
                if (g->kind == PA_PARAM) {
                    n.kind = CN_PPARAM;
                    n.imm = (uint64_t)g->x;
                    L.argsym[a] = cx_get(&F->cx, n);
                } else if (g->kind == PA_REG) {
                    L.argsym[a] = conv_sym(F, rsym(F, sym, g->x), g->type);
                } else {
                    L.argsym[a] = -1;
                }
            }
            L.ver = arena_alloc(F->s, sizeof *L.ver * (size_t)(F->nslots + 1));
            memcpy(L.ver, ver, sizeof *ver * (size_t)F->nslots);
            L.lensym = arena_alloc(F->s, sizeof *L.lensym * (size_t)(F->nslots + 1));
            memcpy(L.lensym, lensym, sizeof *lensym * (size_t)F->nslots);
            L.memo = arena_alloc(F->s, sizeof *L.memo * (size_t)(s->kernel->next_id + 1));
            for (int i = 0; i <= s->kernel->next_id; i++) L.memo[i] = -1;
            vec_push(F->s, &F->launches, L);
            break;
        }
        case PS_LABEL:
            for (int r = 0; r < p->nregs; r++) sym[r] = -1;
            region++;
            break;
        case PS_JMP:
        case PS_JZ: region++; break;
        case PS_FREE: break;
        }
    }
}

/* ---- printing symbolic values for the report ---- */

static const char *pbin_sym(int op)
{
    switch (op) {
    case DCK_POPB_IADD:
    case DCK_POPB_FADD: return "+";
    case DCK_POPB_ISUB:
    case DCK_POPB_FSUB: return "-";
    case DCK_POPB_IMUL:
    case DCK_POPB_FMUL: return "*";
    case DCK_POPB_SDIV:
    case DCK_POPB_UDIV:
    case DCK_POPB_FDIV: return "/";
    case DCK_POPB_SREM:
    case DCK_POPB_UREM: return "%";
    case DCK_POPB_SHL: return "<<";
    case DCK_POPB_SSHR:
    case DCK_POPB_USHR: return ">>";
    case DCK_POPB_AND: return "&";
    case DCK_POPB_OR: return "|";
    case DCK_POPB_XOR: return "^";
    default: return NULL;
    }
}

static void print_sym(const Fuser *F, StrBuf *o, int id, int depth)
{
    const CNode *n = cx_node(&F->cx, id);
    if (depth > 8) {
        sb_puts(o, "...");
        return;
    }
    switch (n->kind) {
    case CN_CONST:
        if (n->type && n->type->kind == TY_FLOAT) {
            double d;
            memcpy(&d, &n->imm, sizeof d);
            sb_printf(o, "%g", d);
        } else {
            sb_printf(o, "%lld", (long long)n->imm);
        }
        return;
    case CN_PPARAM: sb_puts(o, F->p->params[n->imm].name); return;
    case CN_LEN: sb_printf(o, "len(%s)", slot_name(F, n->k[0])); return;
    case CN_CONV: print_sym(F, o, n->k[0], depth + 1); return;
    case CN_PUN:
        if (n->op == DCK_POPU_INEG || n->op == DCK_POPU_FNEG)
            sb_putc(o, '-');
        else if (n->op == DCK_POPU_NOT)
            sb_putc(o, '~');
        else if (n->op == DCK_POPU_LNOT)
            sb_putc(o, '!');
        print_sym(F, o, n->k[0], depth + 1);
        return;
    case CN_PBIN: {
        const char *op = pbin_sym(n->op);
        if (op) {
            sb_putc(o, '(');
            print_sym(F, o, n->k[0], depth + 1);
            sb_printf(o, " %s ", op);
            print_sym(F, o, n->k[1], depth + 1);
            sb_putc(o, ')');
        } else {
            sb_puts(o, n->op == DCK_POPB_SMIN || n->op == DCK_POPB_UMIN || n->op == DCK_POPB_FMIN
                           ? "min("
                       : n->op == DCK_POPB_SMAX || n->op == DCK_POPB_UMAX || n->op == DCK_POPB_FMAX
                           ? "max("
                           : "cmp(");
            print_sym(F, o, n->k[0], depth + 1);
            sb_puts(o, ", ");
            print_sym(F, o, n->k[1], depth + 1);
            sb_putc(o, ')');
        }
        return;
    }
    default: sb_puts(o, "a value computed under control flow"); return;
    }
}

static const char *sym_text(const Fuser *F, int id)
{
    StrBuf o = {0};
    print_sym(F, &o, id, 0);
    char *s = arena_strdup(F->s, o.data ? o.data : "");
    sb_free(&o);
    return s;
}

/* ---- legality ---- */

typedef struct Group {
    int first, n; /* launches first .. first+n-1 */
} Group;

static const char *kname(const Launch *L) { return L->s->kernel->name; }

/* Why kernel k cannot take part in fusion, or NULL. */
static const char *kernel_blocker(Fuser *F, const Launch *L)
{
    const KInfo *ki = L->ki;
    if (ki->barrier)
        return arena_printf(F->s, "%s uses barrier() (%s)", kname(L), where(F, ki->barrier->loc));
    if (ki->shared) return arena_printf(F->s, "%s uses shared memory", kname(L));
    if (ki->atomic)
        return arena_printf(F->s, "%s uses atomics (%s)", kname(L), where(F, ki->atomic->loc));
    if (ki->subgroup)
        return arena_printf(F->s, "%s uses subgroup operations (%s)", kname(L),
                            where(F, ki->subgroup->loc));
    return NULL;
}

/* the accesses of launch L to buffer slot s, appended to out (with the launch index) */
typedef struct SAccess {
    int li;
    Access a;
    int idx;
} SAccess;
typedef VEC(SAccess) SAccessVec;

static void slot_accesses(Fuser *F, int li, int slot, SAccessVec *out)
{
    Launch *L = &F->launches.data[li];
    for (int a = 0; a < L->s->nargs; a++) {
        if (L->s->args[a].kind != PA_BUF || L->s->args[a].x != slot) continue;
        for (int k = 0; k < L->ki->acc[a].len; k++) {
            SAccess x = {li, L->ki->acc[a].data[k], 0};
            x.idx = access_index(F, L, &x.a);
            vec_push(F->s, out, x);
        }
    }
}

static bool launch_uses_slot(const Launch *L, int slot)
{
    for (int a = 0; a < L->s->nargs; a++)
        if (L->s->args[a].kind == PA_BUF && L->s->args[a].x == slot) return true;
    return false;
}

static bool launch_reads_reg(const Launch *L, int r)
{
    for (int d = 0; d < L->s->ndims; d++)
        if (L->s->global[d] == r || (L->s->has_local && L->s->local[d] == r)) return true;
    for (int a = 0; a < L->s->nargs; a++)
        if (L->s->args[a].kind == PA_REG && L->s->args[a].x == r) return true;
    return false;
}

/* The accesses of every launch of g plus launch d to one slot: NULL if they are all at
 * one own index (or there is no write), else why not. */
static const char *slot_conflict(Fuser *F, Group g, int d, int slot)
{
    SAccessVec acc = {0};
    for (int li = g.first; li < g.first + g.n; li++) slot_accesses(F, li, slot, &acc);
    int ng = acc.len;
    if (ng == 0) return NULL;
    slot_accesses(F, d, slot, &acc);
    if (acc.len == ng) return NULL;
    int w = -1;
    for (int k = 0; k < acc.len && w < 0; k++)
        if (acc.data[k].a.write) w = k;
    if (w < 0) return NULL;
    Launch *D = &F->launches.data[d];
    const char *sn = slot_name(F, slot);
    SAccess *W = &acc.data[w];
    Launch *WL = &F->launches.data[W->li];
    if (!own_index(F, D, W->idx))
        return arena_printf(F->s, "%s writes %s at an index that is not its work-item's own (%s)",
                            kname(WL), sn, where(F, W->a.inst->loc));
    for (int k = 0; k < acc.len; k++) {
        SAccess *x = &acc.data[k];
        if (x->idx == W->idx) continue;
        Launch *XL = &F->launches.data[x->li];
        bool neighbour = core(F, x->idx) == core(F, W->idx);
        const char *how = neighbour
                              ? "at a neighbour index"
                              : arena_printf(F->s, "at another index than %s writes it", kname(WL));
        if (x->li == d || W->li == d) {
            /* the new launch against the group */
            if (x->li == d)
                return arena_printf(F->s, "%s %s %s %s (%s)", kname(D),
                                    x->a.write ? "writes" : "reads", sn, how,
                                    where(F, x->a.inst->loc));
            return arena_printf(F->s, "%s writes %s, which %s %s %s (%s)", kname(D), sn, kname(XL),
                                x->a.write ? "writes" : "reads", how, where(F, x->a.inst->loc));
        }
        return arena_printf(F->s, "%s %s %s %s (%s), and %s %s it", kname(XL),
                            x->a.write ? "writes" : "reads", sn, how, where(F, x->a.inst->loc),
                            kname(D), W->li == d ? "writes" : "accesses");
    }
    return NULL;
}

/* Can launch d join group g (whose last launch is d - 1)? NULL if so, else why not. */
static const char *join_blocker(Fuser *F, Group g, int d)
{
    Launch *P = &F->launches.data[g.first + g.n - 1], *D = &F->launches.data[d];
    IrPipeline *p = F->p;
    if (P->region != D->region)
        return arena_printf(F->s, "control flow (if, loop or return) separates %s and %s", kname(P),
                            kname(D));
    const char *why = kernel_blocker(F, D);
    if (why) return why;
    if (D->s->ndims != P->s->ndims)
        return arena_printf(F->s, "launch shapes differ: %d-D vs %d-D", P->s->ndims, D->s->ndims);
    for (int k = 0; k < D->s->ndims; k++)
        if (D->gsym[k] != P->gsym[k])
            return arena_printf(F->s, "launch shapes differ: %s vs %s", sym_text(F, P->gsym[k]),
                                sym_text(F, D->gsym[k]));
    if (D->s->has_local != P->s->has_local)
        return arena_printf(F->s, "only one of the launches gives a local size");
    for (int k = 0; D->s->has_local && k < D->s->ndims; k++)
        if (D->lsym[k] != P->lsym[k])
            return arena_printf(F->s, "local sizes differ: %s vs %s", sym_text(F, P->lsym[k]),
                                sym_text(F, D->lsym[k]));
    IrFunc *pk = P->s->kernel, *dk = D->s->kernel;
    if (pk->has_wg != dk->has_wg || memcmp(pk->wg, dk->wg, sizeof pk->wg) != 0)
        return arena_printf(F->s, "work-group sizes differ ([[workgroup]] of %s and %s)", pk->name,
                            dk->name);
    /* what happens between the group's last launch and d (the steps before the last launch
       were checked against the launches before them when the launch after them joined: only
       the new steps are looked at, so that a pipeline of n launches fuses in O(n^2), not n^3) */
    for (int k = P->step + 1; k < D->step; k++) {
        const IrPStep *s = &p->steps.data[k];
        bool writes = writes_reg(s);
        for (int li = g.first; li < g.first + g.n; li++) {
            Launch *L = &F->launches.data[li];
            if (L->step >= k) continue;
            if (writes && launch_reads_reg(L, s->dst))
                return arena_printf(F->s,
                                    "a size or argument of %s changes before %s is launched (%s)",
                                    kname(L), kname(D), where(F, s->loc));
            if ((s->kind == PS_ALLOC || s->kind == PS_FREE) && launch_uses_slot(L, s->a))
                return arena_printf(F->s, "%s is %s between the launches (%s)", slot_name(F, s->a),
                                    s->kind == PS_ALLOC ? "allocated" : "freed", where(F, s->loc));
        }
    }
    /* buffers shared with a write */
    for (int a = 0; a < D->s->nargs; a++) {
        if (D->s->args[a].kind != PA_BUF) continue;
        int slot = D->s->args[a].x;
        bool seen = false;
        for (int b = 0; b < a; b++) seen |= D->s->args[b].kind == PA_BUF && D->s->args[b].x == slot;
        if (seen) continue;
        why = slot_conflict(F, g, d, slot);
        if (why) return why;
    }
    return NULL;
}

/* ---- building the fused kernel ---- */

typedef struct Fused {
    Group g;
    IrFunc *f;
    int *slot_param; /* by slot: buffer parameter of f, -1 none */
    int *slot_local; /* by slot: local of f replacing a removed temporary, -1 none */
    int *slot_len;   /* by slot: uint parameter of f holding a removed temporary's length */
    bool *removed;   /* by slot */
    VEC(IrParam) params;
    VEC(IrPArg) args;
} Fused;

static const char *unique_param_name(Fuser *F, Fused *fu, const char *base)
{
    const char *name = base;
    for (int n = 2;; n++) {
        bool clash = false;
        for (int k = 0; k < fu->params.len && !clash; k++)
            clash = strcmp(fu->params.data[k].name, name) == 0;
        if (!clash) return name;
        name = arena_printf(F->s, "%s_%d", base, n);
    }
}

static const char *unique_kernel_name(Fuser *F, const char *base)
{
    const char *name = base;
    for (int n = 2;; n++) {
        bool clash = false;
        for (int k = 0; k < F->m->funcs.len && !clash; k++)
            clash = strcmp(F->m->funcs.data[k]->name, name) == 0;
        for (int k = 0; k < F->m->pipelines.len && !clash; k++)
            clash = strcmp(F->m->pipelines.data[k]->name, name) == 0;
        if (!clash) return intern(name);
        name = arena_printf(F->s, "%s_%d", base, n);
    }
}

static void add_param(Fuser *F, Fused *fu, const char *name, Type *t, IrPArg arg)
{
    IrParam pr = {unique_param_name(F, fu, name), t, {.file = -1}};
    pr.name = arena_strdup(F->m->arena, pr.name);
    vec_push(F->s, &fu->params, pr);
    vec_push(F->m->arena, &fu->args, arg);
}

/* Whether temporary `slot` can become a private variable of the group's kernel; why not
 * in *why (for the report) when it cannot. */
static bool removable(Fuser *F, Group g, int slot, const char **why)
{
    IrPipeline *p = F->p;
    Launch *first = &F->launches.data[g.first];
    *why = NULL;
    int alloc = -1;
    bool needs_len = false;
    for (int k = 0; k < p->steps.len; k++) {
        const IrPStep *s = &p->steps.data[k];
        if (s->kind == PS_LEN && s->a == slot) {
            *why = arena_printf(F->s, "the pipeline reads len(%s) (%s)", slot_name(F, slot),
                                where(F, s->loc));
            return false;
        }
        if (s->kind == PS_ALLOC && s->a == slot) {
            if (alloc >= 0) {
                *why = "it is allocated twice";
                return false;
            }
            alloc = k;
        }
        if (s->kind == PS_LAUNCH && launch_uses_slot(&(Launch){.s = (IrPStep *)s}, slot)) {
            bool in_group = false;
            for (int li = g.first; li < g.first + g.n; li++)
                in_group |= F->launches.data[li].step == k;
            if (!in_group) {
                *why =
                    arena_printf(F->s, "%s also uses it (%s)", s->kernel->name, where(F, s->loc));
                return false;
            }
        }
    }
    if (alloc < 0 || alloc > first->step) {
        *why = "it is not allocated before the launches";
        return false;
    }
    SAccessVec acc = {0};
    for (int li = g.first; li < g.first + g.n; li++) {
        Launch *L = &F->launches.data[li];
        slot_accesses(F, li, slot, &acc);
        for (int a = 0; a < L->s->nargs; a++)
            if (L->s->args[a].kind == PA_BUF && L->s->args[a].x == slot && L->ki->uses_len[a])
                needs_len = true;
    }
    for (int k = 0; k < acc.len; k++)
        if (acc.data[k].idx != acc.data[0].idx ||
            !own_index(F, &F->launches.data[acc.data[k].li], acc.data[k].idx)) {
            *why = arena_printf(
                F->s, "%s accesses it at an index that is not its work-item's own (%s)",
                kname(&F->launches.data[acc.data[k].li]), where(F, acc.data[k].a.inst->loc));
            return false;
        }
    if (needs_len) {
        /* len(t) becomes the allocation's size register: it must still hold that value */
        int r = p->steps.data[alloc].b, defs = 0, def = -1;
        for (int k = 0; k < p->steps.len; k++) {
            const IrPStep *s = &p->steps.data[k];
            if (writes_reg(s) && s->dst == r) defs++, def = k;
        }
        bool straight = defs == 1 && def < alloc;
        for (int k = def + 1; straight && k < alloc; k++) {
            IrPStepKind kk = p->steps.data[k].kind;
            straight = kk != PS_LABEL && kk != PS_JMP && kk != PS_JZ;
        }
        if (!straight) {
            *why = arena_printf(
                F->s, "its length is read by a kernel and is not a fixed value at the launch");
            return false;
        }
    }
    return true;
}

typedef VEC(IrBlock *) BlockVec;

/* Copies kernel k of launch L into fu->f; returns its copied entry block. Every RET
 * becomes `br next` (next == NULL: RET stays). */
static IrBlock *clone_kernel(Fuser *F, Fused *fu, Launch *L, IrBlock *next, int *param_of_arg,
                             BlockVec *rets)
{
    IrFunc *f = fu->f, *k = L->s->kernel;
    Arena *a = F->m->arena;
    int n = k->next_id + 1;
    IrBlock **bmap = arena_alloc(F->s, sizeof *bmap * (size_t)n);
    IrInst **vmap = arena_alloc(F->s, sizeof *vmap * (size_t)n);
    int local_base = f->locals.len;
    for (int i = 0; i < k->locals.len; i++) {
        IrSlot sl = k->locals.data[i];
        sl.name = arena_printf(a, "%s.%s", k->name, sl.name ? sl.name : "tmp");
        vec_push(a, &f->locals, sl);
    }
    for (int b = 0; b < k->blocks.len; b++) bmap[k->blocks.data[b]->id] = ir_block_new(f);
    for (int b = 0; b < k->blocks.len; b++) {
        IrBlock *ob = k->blocks.data[b], *nb = bmap[ob->id];
        for (IrInst *i = ob->first; i; i = i->next) {
            if (i->op == IR_RET && next) {
                IrInst *br = ir_inst_new(f, IR_BR, ty_void, NULL, 0);
                br->loc = i->loc;
                br->target[0] = next;
                ir_append(nb, br);
                vec_push(F->s, rets, nb);
                continue;
            }
            IrInst *c = arena_alloc(a, sizeof *c);
            *c = *i;
            c->id = f->next_id++;
            c->prev = c->next = NULL;
            c->block = NULL;
            c->aux = NULL;
            c->ops = NULL;
            int skip = 0;
            if (i->op == IR_PARAM) {
                c->param = param_of_arg[i->param];
            } else if ((i->op == IR_LOAD || i->op == IR_STORE || i->op == IR_BUFLEN) &&
                       i->mem.kind == MEM_BUFFER) {
                int slot = L->s->args[i->mem.id].x;
                if (fu->removed[slot]) {
                    if (i->op == IR_BUFLEN) {
                        c->op = IR_PARAM;
                        c->param = fu->slot_len[slot];
                        memset(&c->mem, 0, sizeof c->mem);
                    } else {
                        skip = 1; /* the element index; those of the path stay */
                        c->mem.kind = MEM_LOCAL;
                        c->mem.id = fu->slot_local[slot];
                        c->mem.nidx -= 1;
                    }
                } else {
                    c->mem.id = fu->slot_param[slot];
                }
            } else if ((i->op == IR_LOAD || i->op == IR_STORE) && i->mem.kind == MEM_LOCAL) {
                c->mem.id += local_base;
            } else if (i->op == IR_LOAD || i->op == IR_STORE || i->op == IR_ATOMIC) {
                ICE("fusing @%s: unexpected memory access", k->name);
            }
            c->nops = i->nops - skip;
            if (c->op == IR_PARAM) c->nops = 0;
            if (c->nops > 0) {
                c->ops = arena_alloc(a, sizeof *c->ops * (size_t)c->nops);
                memcpy(c->ops, i->ops + skip, sizeof *c->ops * (size_t)c->nops);
            }
            if (i->op == IR_BR || i->op == IR_CBR) {
                c->target[0] = bmap[i->target[0]->id];
                if (i->op == IR_CBR) c->target[1] = bmap[i->target[1]->id];
            }
            vmap[i->id] = c;
            ir_append(nb, c);
        }
        nb->npreds = ob->npreds;
        nb->preds = arena_alloc(a, sizeof *nb->preds * (size_t)(ob->npreds + 1));
        for (int q = 0; q < ob->npreds; q++) nb->preds[q] = bmap[ob->preds[q]->id];
    }
    for (int b = 0; b < k->blocks.len; b++)
        for (IrInst *i = bmap[k->blocks.data[b]->id]->first; i; i = i->next) {
            if (i->op == IR_BR && i->target[0] == next) continue;
            for (int o = 0; o < i->nops; o++) {
                IrInst *v = vmap[i->ops[o]->id];
                if (!v) ICE("fusing @%s: operand %%%d has no copy", k->name, i->ops[o]->id);
                i->ops[o] = v;
            }
        }
    return bmap[k->blocks.data[0]->id];
}

/* Block `to` gets `from` as one more predecessor (its phis an undef operand). */
static void add_pred(IrFunc *f, IrBlock *to, IrBlock *from)
{
    Arena *a = f->module->arena;
    IrBlock **np = arena_alloc(a, sizeof *np * (size_t)(to->npreds + 1));
    if (to->npreds) memcpy(np, to->preds, sizeof *np * (size_t)to->npreds);
    np[to->npreds] = from;
    for (IrInst *p = to->first; p && p->op == IR_PHI; p = p->next) {
        IrInst *u = ir_inst_new(f, IR_UNDEF, p->type, NULL, 0);
        ir_insert_before(from->last, u);
        IrInst **ops = arena_alloc(a, sizeof *ops * (size_t)(p->nops + 1));
        if (p->nops) memcpy(ops, p->ops, sizeof *ops * (size_t)p->nops);
        ops[p->nops] = u;
        p->ops = ops;
        p->nops++;
    }
    to->preds = np;
    to->npreds++;
}

static void set_preds(IrFunc *f, IrBlock *b, IrBlock *const *preds, int n)
{
    b->npreds = n;
    b->preds = arena_alloc(f->module->arena, sizeof *b->preds * (size_t)(n + 1));
    if (n) memcpy(b->preds, preds, sizeof *preds * (size_t)n);
}

/* Makes the kernel of group g and the arguments of its launch. */
static Fused *build(Fuser *F, Group g, StrBuf *removed_names)
{
    IrPipeline *p = F->p;
    Arena *a = F->m->arena;
    Fused *fu = arena_alloc(F->s, sizeof *fu);
    fu->g = g;
    fu->slot_param = arena_alloc(F->s, sizeof(int) * (size_t)(F->nslots + 1));
    fu->slot_local = arena_alloc(F->s, sizeof(int) * (size_t)(F->nslots + 1));
    fu->slot_len = arena_alloc(F->s, sizeof(int) * (size_t)(F->nslots + 1));
    fu->removed = arena_alloc(F->s, sizeof(bool) * (size_t)(F->nslots + 1));
    for (int s = 0; s < F->nslots; s++)
        fu->slot_param[s] = fu->slot_local[s] = fu->slot_len[s] = -1;

    /* buffers, in order of first use */
    bool *needs_len = arena_alloc(F->s, sizeof(bool) * (size_t)(F->nslots + 1));
    for (int li = g.first; li < g.first + g.n; li++) {
        Launch *L = &F->launches.data[li];
        for (int q = 0; q < L->s->nargs; q++) {
            if (L->s->args[q].kind != PA_BUF) continue;
            int slot = L->s->args[q].x;
            if (L->ki->uses_len[q]) needs_len[slot] = true;
            if (fu->slot_param[slot] >= 0 || fu->removed[slot]) continue;
            const char *why = NULL;
            if (slot >= p->nparams && removable(F, g, slot, &why)) {
                fu->removed[slot] = true;
                sb_printf(removed_names, "%s%s", removed_names->len ? ", " : "",
                          slot_name(F, slot));
                continue;
            }
            bool all_const = true;
            for (int lj = g.first; lj < g.first + g.n; lj++) {
                Launch *M = &F->launches.data[lj];
                for (int r = 0; r < M->s->nargs; r++)
                    if (M->s->args[r].kind == PA_BUF && M->s->args[r].x == slot)
                        all_const &= M->s->kernel->params[r].type->is_const;
            }
            Type *bt = L->s->kernel->params[q].type;
            fu->slot_param[slot] = fu->params.len;
            add_param(F, fu, slot_name(F, slot), ty_buffer(bt->elem, all_const),
                      (IrPArg){PA_BUF, slot, ty_buffer(bt->elem, all_const)});
        }
    }
    /* scalar arguments, shared where they are the same argument */
    int **param_of_arg = arena_alloc(F->s, sizeof(int *) * (size_t)g.n);
    for (int li = g.first; li < g.first + g.n; li++) {
        Launch *L = &F->launches.data[li];
        int *pa = arena_alloc(F->s, sizeof(int) * (size_t)(L->s->nargs + 1));
        param_of_arg[li - g.first] = pa;
        for (int q = 0; q < L->s->nargs; q++) {
            const IrPArg *ag = &L->s->args[q];
            pa[q] = -1;
            if (ag->kind == PA_BUF) continue;
            for (int k = 0; k < fu->args.len && pa[q] < 0; k++) {
                const IrPArg *e = &fu->args.data[k];
                if (e->kind == ag->kind && e->x == ag->x &&
                    fu->params.data[k].type == L->s->kernel->params[q].type)
                    pa[q] = k;
            }
            if (pa[q] >= 0) continue;
            pa[q] = fu->params.len;
            add_param(F, fu, L->s->kernel->params[q].name, L->s->kernel->params[q].type, *ag);
        }
    }
    /* lengths of removed temporaries that a kernel reads */
    for (int slot = 0; slot < F->nslots; slot++) {
        if (!fu->removed[slot] || !needs_len[slot]) continue;
        int r = -1;
        for (int k = 0; k < p->steps.len; k++)
            if (p->steps.data[k].kind == PS_ALLOC && p->steps.data[k].a == slot)
                r = p->steps.data[k].b;
        ICE_ASSERT(r >= 0);
        fu->slot_len[slot] = fu->params.len;
        add_param(F, fu, arena_printf(F->s, "len_%s", slot_name(F, slot)), ty_scalar(SC_UINT),
                  (IrPArg){PA_REG, r, ty_scalar(SC_UINT)});
    }

    Launch *L0 = &F->launches.data[g.first];
    const char *name =
        unique_kernel_name(F, arena_printf(F->s, "%s_fused%d", p->name, F->nfused++));
    IrFunc *f = ir_func_new(F->m, name, true, ty_void, fu->params.data, fu->params.len);
    fu->f = f;
    f->fused = true;
    f->loc = L0->s->kernel->loc;
    f->has_wg = L0->s->kernel->has_wg;
    memcpy(f->wg, L0->s->kernel->wg, sizeof f->wg);
    for (int slot = 0; slot < F->nslots; slot++) {
        if (!fu->removed[slot]) continue;
        IrSlot sl = {arena_printf(a, "%s", slot_name(F, slot)),
                     p->temps.data[slot - p->nparams].type->elem,
                     p->temps.data[slot - p->nparams].loc};
        fu->slot_local[slot] = f->locals.len;
        vec_push(a, &f->locals, sl);
    }

    /* entry -> body 0 -> join 1 -> body 1 -> ... -> body n-1 (its ret stays) */
    IrBlock *from = ir_block_new(f);
    for (int li = g.first; li < g.first + g.n; li++) {
        IrBlock *join = NULL;
        if (li < g.first + g.n - 1) { /* where this body's rets go; placed after the body */
            join = arena_alloc(a, sizeof *join);
            join->id = f->next_id++;
            join->func = f;
        }
        BlockVec rets = {0};
        IrBlock *body =
            clone_kernel(F, fu, &F->launches.data[li], join, param_of_arg[li - g.first], &rets);
        IrInst *br = ir_inst_new(f, IR_BR, ty_void, NULL, 0);
        br->target[0] = body;
        ir_append(from, br);
        add_pred(f, body, from);
        if (join) {
            vec_push(a, &f->blocks, join);
            set_preds(f, join, rets.data, rets.len);
            from = join;
        }
    }
    ir_remove_unreachable_blocks(f);
    return fu;
}

/* ---- the pipeline rewrite ---- */

static void rewrite(Fuser *F, Fused **fused, int nfused)
{
    IrPipeline *p = F->p;
    Arena *a = F->m->arena;
    bool *removed = arena_alloc(F->s, sizeof(bool) * (size_t)(F->nslots + 1));
    /* launch step -> group (by the step of its last launch) */
    int *role =
        arena_alloc(F->s, sizeof(int) * (size_t)(p->steps.len + 1)); /* 0 keep, 1 drop, 2 fused */
    Fused **at = arena_alloc(F->s, sizeof(Fused *) * (size_t)(p->steps.len + 1));
    for (int k = 0; k < nfused; k++) {
        Fused *fu = fused[k];
        for (int s = 0; s < F->nslots; s++) removed[s] |= fu->removed[s];
        for (int li = fu->g.first; li < fu->g.first + fu->g.n; li++)
            role[F->launches.data[li].step] = 1;
        int last = F->launches.data[fu->g.first + fu->g.n - 1].step;
        role[last] = 2;
        at[last] = fu;
    }
    int *newslot = arena_alloc(F->s, sizeof(int) * (size_t)(F->nslots + 1));
    int ns = 0;
    for (int s = 0; s < F->nslots; s++) newslot[s] = removed[s] ? -1 : ns++;
    VEC(IrPStep) steps = {0};
    for (int k = 0; k < p->steps.len; k++) {
        IrPStep s = p->steps.data[k];
        if (role[k] == 1) continue;
        if ((s.kind == PS_ALLOC || s.kind == PS_FREE) && removed[s.a]) continue;
        if (role[k] == 2) {
            Fused *fu = at[k];
            s.kernel = fu->f;
            s.nargs = fu->args.len;
            s.args = arena_alloc(a, sizeof *s.args * (size_t)(s.nargs + 1));
            if (s.nargs) memcpy(s.args, fu->args.data, sizeof *s.args * (size_t)s.nargs);
            s.loc = F->launches.data[fu->g.first].s->loc;
        }
        if (s.kind == PS_LEN || s.kind == PS_ALLOC || s.kind == PS_FREE) s.a = newslot[s.a];
        if (s.kind == PS_LAUNCH) {
            IrPArg *args = arena_alloc(a, sizeof *args * (size_t)(s.nargs + 1));
            for (int q = 0; q < s.nargs; q++) {
                args[q] = s.args[q];
                if (args[q].kind == PA_BUF) args[q].x = newslot[args[q].x];
            }
            s.args = args;
        }
        vec_push(a, &steps, s);
    }
    p->steps.data = steps.data;
    p->steps.len = steps.len;
    p->steps.cap = steps.cap;
    int nt = 0;
    for (int t = 0; t < p->temps.len; t++)
        if (!removed[p->nparams + t]) p->temps.data[nt++] = p->temps.data[t];
    p->temps.len = nt;
}

/* Removes the register steps whose result nothing reads any more (the sizes and arguments
 * of the launches that fusion removed), to a fixed point. */
static void drop_dead_registers(IrPipeline *p, Arena *scratch)
{
    bool *read = arena_alloc(scratch, sizeof *read * (size_t)(p->nregs + 1));
    for (bool again = true; again;) {
        again = false;
        memset(read, 0, sizeof *read * (size_t)(p->nregs + 1));
        for (int k = 0; k < p->steps.len; k++) {
            const IrPStep *s = &p->steps.data[k];
            switch (s->kind) {
            case PS_BIN: read[s->a] = read[s->b] = true; break;
            case PS_UN: read[s->a] = true; break;
            case PS_ALLOC:
            case PS_JZ: read[s->b] = true; break;
            case PS_LAUNCH:
                for (int d = 0; d < s->ndims; d++) {
                    read[s->global[d]] = true;
                    if (s->has_local) read[s->local[d]] = true;
                }
                for (int a = 0; a < s->nargs; a++)
                    if (s->args[a].kind == PA_REG) read[s->args[a].x] = true;
                break;
            default: break;
            }
        }
        int n = 0;
        for (int k = 0; k < p->steps.len; k++) {
            const IrPStep *s = &p->steps.data[k];
            if (writes_reg(s) && !read[s->dst]) {
                again = true;
                continue;
            }
            p->steps.data[n++] = *s;
        }
        p->steps.len = n;
    }
}

static bool fuse_pipeline(IrModule *m, IrPipeline *p, Arena *scratch, StrBuf *rep)
{
    Fuser F = {.m = m, .p = p, .s = scratch};
    F.cx.a = scratch;
    F.nslots = p->nparams + p->temps.len;
    scan(&F);
    int n = F.launches.len;
    if (rep) {
        sb_printf(rep, "pipeline %s (line %d): %d launch%s", p->name, p->loc.line, n,
                  n == 1 ? "" : "es");
        if (n < 2) sb_puts(rep, ", nothing to fuse\n");
    }
    if (n < 2) return false;

    VEC(Group) groups = {0};
    VEC(const char *) why = {0}; /* why launch k+1 did not join launch k's group (NULL: it did) */
    Group g = {0, 1};
    for (int d = 1; d < n; d++) {
        /* the group's later members were checked as they joined; its first one here */
        const char *w = kernel_blocker(&F, &F.launches.data[g.first]);
        if (!w) w = join_blocker(&F, g, d);
        vec_push(scratch, &why, w);
        if (!w) {
            g.n++;
        } else {
            vec_push(scratch, &groups, g);
            g = (Group){d, 1};
        }
    }
    vec_push(scratch, &groups, g);

    VEC(Fused *) fused = {0};
    if (rep) sb_printf(rep, " -> %d\n", groups.len);
    for (int k = 0; k < groups.len; k++) {
        Group gr = groups.data[k];
        if (gr.n < 2) continue;
        StrBuf names = {0};
        Fused *fu = build(&F, gr, &names);
        vec_push(scratch, &fused, fu);
        if (rep) {
            sb_puts(rep, "  fused ");
            for (int li = gr.first; li < gr.first + gr.n; li++)
                sb_printf(rep, "%s%s (%s)", li > gr.first ? " + " : "", kname(&F.launches.data[li]),
                          where(&F, F.launches.data[li].s->loc));
            sb_printf(rep, " into kernel %s", fu->f->name);
            if (names.len) sb_printf(rep, "; temporaries removed: %s", names.data);
            sb_putc(rep, '\n');
            /* temporaries the group uses but keeps, and why */
            for (int slot = p->nparams; slot < F.nslots; slot++) {
                if (fu->removed[slot] || fu->slot_param[slot] < 0) continue;
                const char *w = NULL;
                removable(&F, gr, slot, &w);
                if (w) sb_printf(rep, "    temporary %s kept: %s\n", slot_name(&F, slot), w);
            }
        }
        sb_free(&names);
    }
    if (rep)
        for (int d = 1; d < n; d++)
            if (why.data[d - 1])
                sb_printf(rep, "  not fused: %s (%s) -> %s (%s): %s\n",
                          kname(&F.launches.data[d - 1]), where(&F, F.launches.data[d - 1].s->loc),
                          kname(&F.launches.data[d]), where(&F, F.launches.data[d].s->loc),
                          why.data[d - 1]);
    if (!fused.len) return false;
    rewrite(&F, fused.data, fused.len);
    drop_dead_registers(p, scratch);
    return true;
}

void fuse_report_off(IrModule *m, const char *why)
{
    if (!m->fusion_report) return;
    for (int k = 0; k < m->pipelines.len; k++) {
        const IrPipeline *p = m->pipelines.data[k];
        sb_printf(m->fusion_report, "pipeline %s (line %d): not fused: %s\n", p->name, p->loc.line,
                  why);
    }
}

bool pass_fuse(IrModule *m, Arena *scratch)
{
    if (m->checked) {
        fuse_report_off(m, "fusion is off in checked mode (kernels run as written)");
        return false;
    }
    bool changed = false;
    int np = m->pipelines.len; /* fused kernels are appended to m->funcs, pipelines stay */
    for (int k = 0; k < np; k++)
        changed |= fuse_pipeline(m, m->pipelines.data[k], scratch, m->fusion_report);
    return changed;
}

void fuse_report_render(const StrBuf *report, bool json, StrBuf *out)
{
    if (!report->len) return;
    if (!json) {
        sb_putn(out, report->data, report->len);
        return;
    }
    const char *s = report->data, *end = report->data + report->len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) nl = end;
        sb_puts(out, "{\"file\":null,\"line\":0,\"col\":0,\"severity\":\"remark\",\"message\":\"");
        for (const char *c = s; c < nl; c++) {
            if (*c == '"' || *c == '\\')
                sb_printf(out, "\\%c", *c);
            else if ((unsigned char)*c < 0x20)
                sb_printf(out, "\\u%04x", *c);
            else
                sb_putc(out, *c);
        }
        sb_puts(out, "\"}\n");
        s = nl + 1;
    }
}
