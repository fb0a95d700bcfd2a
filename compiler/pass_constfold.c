/* pass_constfold.c: constant folding and algebraic identities.
 *
 * Folds pure scalar operations whose operands are CONSTs: integer arithmetic wraps at the
 * type's width and follows its signedness, shift counts are taken modulo the width,
 * float arithmetic is done in the type's precision (float in float, double in double,
 * half in float then rounded). Division and remainder by zero (and INT_MIN / -1) are never
 * folded. Also: comparisons, CONVERT, SELECT on a constant condition or equal arms,
 * EXTRACT of VECTOR / SPLAT / INSERT, integer identities (x+0, x-0, x*1, x*0, x-x, x|0,
 * x^0, x&0, x<<0, x>>0), and CBR on a constant condition (-> BR; the blocks that become
 * unreachable are removed, phis fixed).
 * Instructions are visited in reverse post-order so operands are folded before their uses;
 * a replaced value forwards through inst->aux until the final rewrite.
 */
#include "passes.h"

#include <math.h>

typedef struct CF {
    IrFunc *f;
    bool changed;
} CF;

static IrInst *fwd(IrInst *v)
{
    while (v->aux) v = v->aux;
    return v;
}

static bool is_c(const IrInst *v) { return v->op == IR_CONST; }

static uint64_t mask_of(int bits)
{
    return bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
}

static int64_t sext(uint64_t v, int bits)
{
    if (bits >= 64) return (int64_t)v;
    uint64_t sign = (uint64_t)1 << (bits - 1);
    v &= mask_of(bits);
    return (int64_t)((v ^ sign) - sign);
}

static bool is_int_c(const IrInst *v, uint64_t x)
{
    return is_c(v) && v->type->kind == TY_INT && v->imm.i == (x & mask_of(v->type->bits));
}

/* A new CONST placed before `pos`. */
static IrInst *mk_int(CF *c, IrInst *pos, Type *t, uint64_t v)
{
    IrInst *k = ir_const_int(c->f, t, v);
    k->loc = pos->loc;
    ir_insert_before(pos, k);
    return k;
}

static IrInst *mk_float(CF *c, IrInst *pos, Type *t, double v)
{
    IrInst *k = ir_const_float(c->f, t, v);
    k->loc = pos->loc;
    ir_insert_before(pos, k);
    return k;
}

static double fop(Type *t, IrOp op, double a, double b)
{
    if (t->bits <= 32) {
        float x = (float)a, y = (float)b, r = 0;
        switch (op) {
        case IR_ADD: r = x + y; break;
        case IR_SUB: r = x - y; break;
        case IR_MUL: r = x * y; break;
        case IR_DIV: r = x / y; break;
        case IR_NEG: r = -x; break;
        default: break;
        }
        return ir_round_float(t, r);
    }
    switch (op) {
    case IR_ADD: return a + b;
    case IR_SUB: return a - b;
    case IR_MUL: return a * b;
    case IR_DIV: return a / b;
    case IR_NEG: return -a;
    default: return 0;
    }
}

static IrInst *fold_binary(CF *c, IrInst *i)
{
    IrInst *x = i->ops[0], *y = i->ops[1];
    Type *t = i->type;
    if (t->kind == TY_INT) {
        int bits = t->bits;
        bool sg = t->is_signed;
        /* identities (any x) */
        switch (i->op) {
        case IR_ADD:
            if (is_int_c(y, 0)) return x;
            if (is_int_c(x, 0)) return y;
            break;
        case IR_SUB:
            if (is_int_c(y, 0)) return x;
            if (x == y) return mk_int(c, i, t, 0);
            break;
        case IR_MUL:
            if (is_int_c(y, 1)) return x;
            if (is_int_c(x, 1)) return y;
            if (is_int_c(y, 0) || is_int_c(x, 0)) return mk_int(c, i, t, 0);
            break;
        case IR_OR:
        case IR_XOR:
            if (is_int_c(y, 0)) return x;
            if (is_int_c(x, 0)) return y;
            if (i->op == IR_XOR && x == y) return mk_int(c, i, t, 0);
            if (i->op == IR_OR && x == y) return x;
            break;
        case IR_AND:
            if (is_int_c(y, 0) || is_int_c(x, 0)) return mk_int(c, i, t, 0);
            if (x == y) return x;
            break;
        case IR_SHL:
        case IR_SHR:
            if (is_c(y) && (y->imm.i % (uint64_t)bits) == 0) return x;
            break;
        default: break;
        }
        if (!is_c(x) || !is_c(y)) return NULL;
        uint64_t a = x->imm.i, b = y->imm.i, r;
        int64_t sa = sext(a, bits), sb = sext(b, bits);
        switch (i->op) {
        case IR_ADD: r = a + b; break;
        case IR_SUB: r = a - b; break;
        case IR_MUL: r = a * b; break;
        case IR_DIV:
        case IR_REM:
            if (b == 0) return NULL;
            if (sg) {
                if (sb == -1 && sa == sext((uint64_t)1 << (bits - 1), bits)) return NULL;
                r = (uint64_t)(i->op == IR_DIV ? sa / sb : sa % sb);
            } else {
                r = i->op == IR_DIV ? a / b : a % b;
            }
            break;
        case IR_AND: r = a & b; break;
        case IR_OR: r = a | b; break;
        case IR_XOR: r = a ^ b; break;
        case IR_SHL: r = a << (b % (uint64_t)bits); break;
        case IR_SHR:
            r = sg ? (uint64_t)(sa >> (b % (uint64_t)bits)) : a >> (b % (uint64_t)bits);
            break;
        default: return NULL;
        }
        return mk_int(c, i, t, r);
    }
    if (t->kind == TY_BOOL) {
        if (!is_c(x) || !is_c(y)) return NULL;
        uint64_t a = x->imm.i, b = y->imm.i;
        switch (i->op) {
        case IR_AND: return mk_int(c, i, t, a & b);
        case IR_OR: return mk_int(c, i, t, a | b);
        case IR_XOR: return mk_int(c, i, t, a ^ b);
        default: return NULL;
        }
    }
    if (t->kind == TY_FLOAT) {
        if (!is_c(x) || !is_c(y)) return NULL;
        if (i->op != IR_ADD && i->op != IR_SUB && i->op != IR_MUL && i->op != IR_DIV) return NULL;
        return mk_float(c, i, t, fop(t, i->op, x->imm.f, y->imm.f));
    }
    return NULL;
}

static IrInst *fold_compare(CF *c, IrInst *i)
{
    IrInst *x = i->ops[0], *y = i->ops[1];
    Type *t = x->type;
    if (!is_c(x) || !is_c(y)) {
        /* x == x for integers and bools */
        if (x == y && (t->kind == TY_INT || t->kind == TY_BOOL))
            return mk_int(c, i, i->type, i->op == IR_EQ || i->op == IR_LE || i->op == IR_GE);
        return NULL;
    }
    int r;
    if (t->kind == TY_FLOAT) {
        double a = x->imm.f, b = y->imm.f;
        switch (i->op) {
        case IR_EQ: r = a == b; break;
        case IR_NE: r = a != b; break;
        case IR_LT: r = a < b; break;
        case IR_LE: r = a <= b; break;
        case IR_GT: r = a > b; break;
        case IR_GE: r = a >= b; break;
        default: return NULL;
        }
    } else {
        bool sg = t->kind == TY_INT && t->is_signed;
        uint64_t a = x->imm.i, b = y->imm.i;
        int64_t sa = sext(a, t->bits), sb = sext(b, t->bits);
        switch (i->op) {
        case IR_EQ: r = a == b; break;
        case IR_NE: r = a != b; break;
        case IR_LT: r = sg ? sa < sb : a < b; break;
        case IR_LE: r = sg ? sa <= sb : a <= b; break;
        case IR_GT: r = sg ? sa > sb : a > b; break;
        case IR_GE: r = sg ? sa >= sb : a >= b; break;
        default: return NULL;
        }
    }
    return mk_int(c, i, i->type, (uint64_t)r);
}

static IrInst *fold_convert(CF *c, IrInst *i)
{
    IrInst *x = i->ops[0];
    Type *from = x->type, *to = i->type;
    if (from == to) return x;
    if (!is_c(x)) return NULL;
    if (to->kind == TY_BOOL) {
        bool nz = from->kind == TY_FLOAT ? x->imm.f != 0 : x->imm.i != 0;
        return mk_int(c, i, to, nz);
    }
    if (to->kind == TY_INT) {
        if (from->kind == TY_FLOAT) {
            double v = trunc(x->imm.f);
            if (isnan(v)) return NULL;
            /* only values representable in the target: the rest is unspecified */
            if (to->is_signed) {
                double lo = -ldexp(1.0, to->bits - 1), hi = ldexp(1.0, to->bits - 1);
                if (!(v >= lo && v < hi)) return NULL;
                return mk_int(c, i, to, (uint64_t)(int64_t)v);
            }
            if (!(v >= 0 && v < ldexp(1.0, to->bits))) return NULL;
            return mk_int(c, i, to, (uint64_t)v);
        }
        uint64_t v = x->imm.i;
        if (from->kind == TY_INT && from->is_signed) v = (uint64_t)sext(v, from->bits);
        return mk_int(c, i, to, v);
    }
    if (to->kind == TY_FLOAT) {
        double v;
        if (from->kind == TY_FLOAT)
            v = x->imm.f;
        else if (from->kind == TY_INT && from->is_signed)
            v = (double)sext(x->imm.i, from->bits);
        else
            v = (double)x->imm.i;
        if (to->bits <= 32 && from->kind == TY_INT) {
            /* int -> float rounds once, as the conversion would */
            float fv = from->is_signed ? (float)sext(x->imm.i, from->bits) : (float)x->imm.i;
            v = fv;
        }
        return mk_float(c, i, to, v);
    }
    return NULL;
}

static IrInst *fold_extract(CF *c, IrInst *i)
{
    IrInst *a = i->ops[0];
    for (;;) {
        if (a->op == IR_VECTOR) return a->ops[i->idx];
        if (a->op == IR_SPLAT) return a->ops[0];
        if (a->op == IR_SHUFFLE) {
            /* extract(shuffle(v, m), k) = extract(v, m[k]) */
            i->idx = a->mask[i->idx];
            i->ops[0] = a->ops[0];
            c->changed = true;
            a = a->ops[0];
            continue;
        }
        if (a->op == IR_INSERT) {
            if (a->idx == i->idx) return a->ops[1];
            /* look through an insert of another component */
            i->ops[0] = a->ops[0];
            c->changed = true;
            a = a->ops[0];
            continue;
        }
        return NULL;
    }
}

/* Returns the value replacing i, or NULL. May rewrite i in place (sets c->changed). */
static IrInst *fold(CF *c, IrInst *i)
{
    switch (i->op) {
    case IR_ADD:
    case IR_SUB:
    case IR_MUL:
    case IR_DIV:
    case IR_REM:
    case IR_AND:
    case IR_OR:
    case IR_XOR:
    case IR_SHL:
    case IR_SHR: return fold_binary(c, i);
    case IR_NEG: {
        IrInst *x = i->ops[0];
        if (x->op == IR_NEG && i->type->kind == TY_INT) return x->ops[0];
        if (!is_c(x)) return NULL;
        if (i->type->kind == TY_INT) return mk_int(c, i, i->type, (uint64_t)0 - x->imm.i);
        if (i->type->kind == TY_FLOAT) return mk_float(c, i, i->type, -x->imm.f);
        return NULL;
    }
    case IR_NOT: {
        IrInst *x = i->ops[0];
        if (x->op == IR_NOT) return x->ops[0];
        if (!is_c(x)) return NULL;
        if (i->type->kind == TY_BOOL) return mk_int(c, i, i->type, !x->imm.i);
        if (i->type->kind == TY_INT) return mk_int(c, i, i->type, ~x->imm.i);
        return NULL;
    }
    case IR_EQ:
    case IR_NE:
    case IR_LT:
    case IR_LE:
    case IR_GT:
    case IR_GE: return fold_compare(c, i);
    case IR_SELECT: {
        IrInst *cond = i->ops[0];
        if (i->ops[1] == i->ops[2]) return i->ops[1];
        if (is_c(cond) && cond->type->kind == TY_BOOL) return cond->imm.i ? i->ops[1] : i->ops[2];
        return NULL;
    }
    case IR_CONVERT: return fold_convert(c, i);
    case IR_EXTRACT: return fold_extract(c, i);
    case IR_SHUFFLE: {
        IrInst *v = i->ops[0];
        if (v->type == i->type) {
            bool ident = true;
            for (int k = 0; k < i->type->n; k++) ident &= i->mask[k] == k;
            if (ident) return v;
        }
        return NULL;
    }
    default: return NULL;
    }
}

static bool fold_func(IrFunc *f, Arena *s)
{
    CF c = {.f = f};
    bool cfg_changed = false;
    for (int bi = 0; bi < f->blocks.len; bi++)
        for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next) i->aux = NULL;
    IrDom *d = ir_dom_compute(s, f);
    for (int r = 0; r < d->n; r++) {
        IrBlock *b = d->rpo[r];
        IrInst *next;
        for (IrInst *i = b->first; i; i = next) {
            next = i->next;
            for (int o = 0; o < i->nops; o++) i->ops[o] = fwd(i->ops[o]);
            if (i->op == IR_CBR && is_c(i->ops[0])) {
                IrBlock *t = i->ops[0]->imm.i ? i->target[0] : i->target[1];
                i->op = IR_BR;
                i->nops = 0;
                i->target[0] = t;
                i->target[1] = NULL;
                cfg_changed = c.changed = true;
                continue;
            }
            if (!(ir_op_info[i->op].flags & OPF_PURE) || ir_is_cross_lane(i)) continue;
            IrInst *v = fold(&c, i);
            if (v && v != i) {
                i->aux = v;
                ir_remove(i);
                c.changed = true;
            }
        }
    }
    if (!c.changed) return false;
    for (int bi = 0; bi < f->blocks.len; bi++)
        for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next)
            for (int o = 0; o < i->nops; o++) i->ops[o] = fwd(i->ops[o]);
    if (cfg_changed) {
        ir_recompute_preds(f);
        ir_remove_unreachable_blocks(f);
    }
    return true;
}

bool pass_constfold(IrModule *m, Arena *scratch) { return pass_each_func(m, scratch, fold_func); }
