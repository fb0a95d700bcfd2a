/* pass_ifconv.c: if-conversion of small branches into selects (-O1 and above).
 *
 * The frontend lowers `c ? a : b`, `&&` and `||` to branches; on SIMD targets every such
 * branch becomes mask bookkeeping, and GPUs prefer a select for tiny arms. This pass turns
 *   triangle  A: cbr c, T, J (or cbr c, J, T)   T: ... br J     J: phis over {A, T}
 *   diamond   A: cbr c, T, F   T: ... br J   F: ... br J        J: phis over {T, F}
 * (an arm may be empty) into straight-line code: the arms' instructions move to the end of
 * A in order (keeping their locations), each phi of J becomes `select(c, from-true-side,
 * from-false-side)` in A (at the branch's location), A branches to J, T and F are deleted,
 * and J (now with the single predecessor A and no phis) is merged into A so that chains
 * (`a || b || c`, nested ternaries) convert in one run.
 * Refused: T, F with another predecessor or a phi; J with another predecessor, J the entry;
 * unreachable blocks (removed first); an arm instruction that is not speculatable (only
 * OPF_PURE ops other than PHI: no LOAD, STORE, ATOMIC, BARRIER, CALL; no cross-lane and no
 * expensive builtin: only abs/min/max/clamp/select/step/sign/floor/ceil/trunc); an arm
 * with more than MAX_ARM counted instructions (CONST, PARAM, WORKITEM, BUFLEN and UNDEF
 * are free); a phi of J that is not a scalar or vector (a struct or array). Back edges are
 * never touched: T and F have the single predecessor A, so neither is a loop header, and J
 * has exactly the two forward edges as predecessors.
 * Afterwards selects on bools simplify (`||` and `&&` pass the condition itself on):
 * select(c, true, x) and select(c, c, x) -> or c, x; select(c, x, false) and
 * select(c, x, c) -> and c, x; and select(c, x, x) -> x on any type.
 * Requires and keeps: exact preds, phis matching them, SSA dominance.
 */
#include "passes.h"

#include <string.h>

enum { MAX_ARM = 4 };

static bool cheap_builtin(BuiltinId b)
{
    switch (b) {
    case BI_ABS:
    case BI_MIN:
    case BI_MAX:
    case BI_CLAMP:
    case BI_SELECT:
    case BI_STEP:
    case BI_SIGN:
    case BI_FLOOR:
    case BI_CEIL:
    case BI_TRUNC: return true;
    default: return false;
    }
}

static bool is_free(const IrInst *i)
{
    return i->op == IR_CONST || i->op == IR_PARAM || i->op == IR_WORKITEM || i->op == IR_BUFLEN ||
           i->op == IR_UNDEF;
}

/* Whether arm block t (NULL: no arm) can be executed unconditionally in its predecessor. */
static bool arm_ok(const IrBlock *t)
{
    if (!t) return true;
    int cost = 0;
    for (const IrInst *i = t->first; i; i = i->next) {
        if (i == t->last) return i->op == IR_BR;
        if (i->op == IR_PHI || !(ir_op_info[i->op].flags & OPF_PURE)) return false;
        if (i->op == IR_BUILTIN && (ir_is_cross_lane(i) || !cheap_builtin(i->builtin)))
            return false;
        if (!is_free(i) && ++cost > MAX_ARM) return false;
    }
    return false; /* no terminator */
}

/* t is an arm of a: its only predecessor is a and it ends in `br j` */
static bool is_arm(const IrBlock *t, const IrBlock *a, IrBlock **j)
{
    if (t->npreds != 1 || t->preds[0] != a || t == a || t == t->func->blocks.data[0]) return false;
    IrInst *term = ir_terminator(t);
    if (!term || term->op != IR_BR) return false;
    *j = term->target[0];
    return true;
}

static bool phi_type_ok(const Type *t) { return ty_is_scalar(t) || t->kind == TY_VEC; }

static void move_arm(IrBlock *arm, IrInst *pos)
{
    if (!arm) return;
    IrInst *next;
    for (IrInst *i = arm->first; i && i != arm->last; i = next) {
        next = i->next;
        ir_remove(i);
        ir_insert_before(pos, i);
    }
}

/* Tries to convert the branch that ends a; marks deleted blocks in dead. */
static bool convert(IrFunc *f, IrBlock *a, bool *dead)
{
    IrInst *term = ir_terminator(a);
    if (!term || term->op != IR_CBR) return false;
    IrBlock *s0 = term->target[0], *s1 = term->target[1];
    if (s0 == s1) return false;
    IrBlock *tarm = NULL, *farm = NULL, *j = NULL, *j0 = NULL, *j1 = NULL;
    bool arm0 = is_arm(s0, a, &j0), arm1 = is_arm(s1, a, &j1);
    if (arm0 && arm1 && j0 == j1) { /* diamond */
        tarm = s0;
        farm = s1;
        j = j0;
    } else if (arm0 && j0 == s1) { /* triangle, true side is the arm */
        tarm = s0;
        j = s1;
    } else if (arm1 && j1 == s0) { /* triangle, false side is the arm */
        farm = s1;
        j = s0;
    } else {
        return false;
    }
    if (j == a || j == f->blocks.data[0] || j->npreds != 2) return false;
    /* the edges into j: true side and false side */
    IrBlock *tsrc = tarm ? tarm : a, *fsrc = farm ? farm : a;
    int te = -1, fe = -1;
    for (int k = 0; k < 2; k++) {
        if (j->preds[k] == tsrc) te = k;
        if (j->preds[k] == fsrc) fe = k;
    }
    if (te < 0 || fe < 0 || te == fe) return false;
    if (!arm_ok(tarm) || !arm_ok(farm)) return false;
    for (IrInst *p = j->first; p && p->op == IR_PHI; p = p->next) {
        if (!phi_type_ok(p->type)) return false;
        for (int k = 0; k < p->nops; k++)
            if (p->ops[k]->op == IR_PHI && p->ops[k]->block == j) return false;
    }

    IrInst *cond = term->ops[0];
    move_arm(tarm, term);
    move_arm(farm, term);
    IrInst *next;
    for (IrInst *p = j->first; p && p->op == IR_PHI; p = next) {
        next = p->next;
        IrInst *v;
        if (p->ops[te] == p->ops[fe]) {
            v = p->ops[te];
        } else {
            IrInst *ops[3] = {cond, p->ops[te], p->ops[fe]};
            v = ir_inst_new(f, IR_SELECT, p->type, ops, 3);
            v->loc = term->loc; /* the select stands for the branch */
            ir_insert_before(term, v);
        }
        ir_remove(p);
        ir_replace_uses(f, p, v);
    }
    /* a now falls into j; merge j into a */
    ir_remove(term);
    ir_merge_block_into(a, j);
    dead[j->id] = true;
    if (tarm) dead[tarm->id] = true;
    if (farm) dead[farm->id] = true;
    return true;
}

static bool is_bool_const(const IrInst *v, bool val)
{
    return v->op == IR_CONST && v->type->kind == TY_BOOL && (v->imm.i != 0) == val;
}

/* On bools: select(c, true, x) and select(c, c, x) -> or c, x; select(c, x, false) and
 * select(c, x, c) -> and c, x. Any type: select(c, x, x) -> x. */
static bool simplify_selects(IrFunc *f)
{
    bool changed = false;
    for (int bi = 0; bi < f->blocks.len; bi++) {
        IrInst *next;
        for (IrInst *i = f->blocks.data[bi]->first; i; i = next) {
            next = i->next;
            if (i->op != IR_SELECT) continue;
            IrInst *c = i->ops[0], *x = i->ops[1], *y = i->ops[2];
            if (x == y) {
                ir_remove(i);
                ir_replace_uses(f, i, x);
                changed = true;
                continue;
            }
            if (i->type->kind != TY_BOOL || c->type != i->type) continue;
            IrInst *ops[2] = {c, NULL};
            if (x == c || is_bool_const(x, true)) {
                i->op = IR_OR;
                ops[1] = y;
            } else if (y == c || is_bool_const(y, false)) {
                i->op = IR_AND;
                ops[1] = x;
            } else {
                continue;
            }
            ir_set_ops(f, i, ops, 2);
            changed = true;
        }
    }
    return changed;
}

static bool ifconv_func(IrFunc *f, Arena *scratch)
{
    int nb0 = f->blocks.len;
    ir_remove_unreachable_blocks(f);
    bool changed = f->blocks.len != nb0;
    bool *dead = arena_alloc(scratch, sizeof *dead * (size_t)(f->next_id + 1));
    bool again = true;
    while (again) {
        again = false;
        /* inner branches first: later blocks are visited first, and a conversion that made
         * a bigger block is retried on the next sweep */
        for (int bi = f->blocks.len - 1; bi >= 0; bi--) {
            IrBlock *a = f->blocks.data[bi];
            if (dead[a->id]) continue;
            if (convert(f, a, dead)) again = changed = true;
        }
        int w = 0;
        for (int bi = 0; bi < f->blocks.len; bi++)
            if (!dead[f->blocks.data[bi]->id]) f->blocks.data[w++] = f->blocks.data[bi];
        f->blocks.len = w;
    }
    changed |= simplify_selects(f);
    return changed;
}

bool pass_ifconv(IrModule *m, Arena *scratch) { return pass_each_func(m, scratch, ifconv_func); }
