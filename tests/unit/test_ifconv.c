/* test_ifconv.c: pass_ifconv on hand-built IR (what it converts and what it refuses); the
 * source-level cases are the IR golden tests/ir/ifconv.dck and the exec test ifconv.dck. */
#include <criterion/criterion.h>
#include <string.h>

#include "compiler/passes.h"
#include "ir_build.h"

static bool run_ifconv(IrModule *m)
{
    Arena *s = arena_new();
    bool r = pass_ifconv(m, s);
    arena_free(s);
    verify_ok(m);
    return r;
}

/* kernel k(T[] out, int n) */
static IrFunc *kernel2(IrModule *m, Type *elem)
{
    IrParam ps[2] = {{"out", ty_buffer(elem, false), {0}}, {"n", T(SC_INT), {0}}};
    return ir_func_new(m, "k", true, ty_void, ps, 2);
}

Test(ifconv, diamond_vector_phi_with_empty_arm)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    Type *i4 = ty_vec(T(SC_INT), 4);
    IrFunc *f = kernel2(m, i4);
    /* b0: cbr c, b1, b2   b1: x = splat n * splat n; br b3   b2: br b3 (empty)
     * b3: phi int4 [x, b1], [v0, b2]; store; ret */
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b2 = ir_block_new(f),
            *b3 = ir_block_new(f);
    IrInst *n = param_at(b0, 1);
    IrInst *i0 = cint(b0, T(SC_UINT), 0);
    IrInst *v0 = emit(b0, IR_SPLAT, i4, &n, 1);
    IrInst *c = emit2(b0, IR_LT, T(SC_BOOL), n, cint(b0, T(SC_INT), 3));
    cbr(b0, c, b1, b2);
    IrInst *sp = emit(b1, IR_SPLAT, i4, &n, 1);
    IrInst *x = emit2(b1, IR_MUL, i4, sp, sp);
    br(b1, b3);
    br(b2, b3);
    IrInst *phi = emit(b3, IR_PHI, i4, NULL, 2);
    IrInst *st = store_buf(b3, 0, i0, phi);
    emit(b3, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    phi->ops[0] = x;
    phi->ops[1] = v0;
    verify_ok(m);
    cr_assert(run_ifconv(m));
    cr_assert_eq(f->blocks.len, 1, "arms deleted and the join merged");
    cr_assert_eq(count_ops(f, IR_PHI), 0);
    cr_assert_eq(count_ops(f, IR_CBR), 0);
    IrInst *sel = st->ops[1];
    cr_assert_eq(sel->op, IR_SELECT);
    cr_assert_eq(sel->type, i4);
    cr_assert_eq(sel->ops[0], c, "scalar condition for a vector select");
    cr_assert_eq(sel->ops[1], x);
    cr_assert_eq(sel->ops[2], v0);
    cr_assert_eq(x->block, b0, "the arm's instructions moved");
    cr_assert_not(run_ifconv(m));
    arena_free(a);
}

/* A: cbr c, J, T (the arm on the false side); J: phi [n, A], [y, T] */
Test(ifconv, triangle_false_side)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = kernel2(m, T(SC_INT));
    IrBlock *b0 = ir_block_new(f), *t = ir_block_new(f), *j = ir_block_new(f);
    IrInst *n = param_at(b0, 1);
    IrInst *i0 = cint(b0, T(SC_UINT), 0);
    IrInst *c = emit2(b0, IR_LT, T(SC_BOOL), n, cint(b0, T(SC_INT), 3));
    cbr(b0, c, j, t);
    IrInst *y = emit2(t, IR_DIV, T(SC_INT), cint(t, T(SC_INT), 100), n); /* never traps */
    br(t, j);
    IrInst *phi = emit(j, IR_PHI, T(SC_INT), NULL, 2);
    IrInst *st = store_buf(j, 0, i0, phi);
    emit(j, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    cr_assert_eq(j->preds[0], b0);
    phi->ops[0] = n;
    phi->ops[1] = y;
    verify_ok(m);
    cr_assert(run_ifconv(m));
    cr_assert_eq(f->blocks.len, 1);
    IrInst *sel = st->ops[1];
    cr_assert_eq(sel->op, IR_SELECT);
    cr_assert_eq(sel->ops[0], c);
    cr_assert_eq(sel->ops[1], n, "true side: the edge from A");
    cr_assert_eq(sel->ops[2], y);
    arena_free(a);
}

/* `c || d` (cbr c, J, T; J: phi [c, A], [d, T]) and `c && d` (cbr c, T, J; phi [d, T], [c, A]) */
static void bool_case(bool is_or)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = kernel2(m, T(SC_BOOL));
    IrBlock *b0 = ir_block_new(f), *t = ir_block_new(f), *j = ir_block_new(f);
    IrInst *n = param_at(b0, 1);
    IrInst *i0 = cint(b0, T(SC_UINT), 0);
    IrInst *c = emit2(b0, IR_LT, T(SC_BOOL), n, cint(b0, T(SC_INT), 3));
    if (is_or)
        cbr(b0, c, j, t);
    else
        cbr(b0, c, t, j);
    IrInst *d = emit2(t, IR_GT, T(SC_BOOL), n, cint(t, T(SC_INT), -3));
    br(t, j);
    IrInst *phi = emit(j, IR_PHI, T(SC_BOOL), NULL, 2);
    IrInst *st = store_buf(j, 0, i0, phi);
    emit(j, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    for (int k = 0; k < 2; k++) phi->ops[k] = j->preds[k] == b0 ? c : d;
    verify_ok(m);
    cr_assert(run_ifconv(m));
    IrInst *r = st->ops[1];
    cr_assert_eq(r->op, is_or ? IR_OR : IR_AND);
    cr_assert_eq(r->ops[0], c);
    cr_assert_eq(r->ops[1], d);
    cr_assert_eq(count_ops(f, IR_SELECT), 0);
    arena_free(a);
}

Test(ifconv, or_and_become_bool_ops)
{
    bool_case(true);
    bool_case(false);
}

typedef enum Arm {
    ARM_LOAD,
    ARM_BARRIER,
    ARM_CROSS_LANE,
    ARM_SQRT,
    ARM_BIG,
    ARM_STRUCT,
    ARM_THIRD_PRED
} Arm;

/* A: cbr c, T, J  T: <arm>; br J  J: phi [v, T], [n, A]; store; ret */
static void refused(Arm arm)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    Field fl[1] = {{.name = "x", .type = T(SC_INT)}};
    Type *st_t = arm == ARM_STRUCT ? ty_struct("S", fl, 1) : NULL;
    Type *vt = arm == ARM_SQRT ? T(SC_FLOAT) : T(SC_INT);
    IrFunc *f = kernel2(m, T(SC_INT));
    IrBlock *b0 = ir_block_new(f), *t = ir_block_new(f), *j = ir_block_new(f), *other = NULL;
    IrInst *n = param_at(b0, 1);
    IrInst *i0 = cint(b0, T(SC_UINT), 0);
    IrInst *base = arm == ARM_SQRT ? emit(b0, IR_CONVERT, vt, &n, 1) : n;
    IrInst *c = emit2(b0, IR_LT, T(SC_BOOL), n, cint(b0, T(SC_INT), 3));
    if (arm == ARM_THIRD_PRED) {
        other = ir_block_new(f);
        IrBlock *mid = ir_block_new(f);
        cbr(b0, c, mid, other);
        IrInst *c2 = emit2(mid, IR_GT, T(SC_BOOL), n, cint(mid, T(SC_INT), -3));
        cbr(mid, c2, t, j);
        br(other, j);
        b0 = mid;
    } else {
        cbr(b0, c, t, j);
    }
    IrInst *v = NULL;
    switch (arm) {
    case ARM_LOAD:
        v = emit(t, IR_LOAD, T(SC_INT), &i0, 1);
        v->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 0, .nidx = 1};
        break;
    case ARM_BARRIER:
        emit(t, IR_BARRIER, ty_void, NULL, 0);
        v = emit2(t, IR_ADD, vt, n, n);
        break;
    case ARM_CROSS_LANE:
        v = emit(t, IR_BUILTIN, vt, &n, 1);
        v->builtin = BI_SUBGROUP_ADD;
        break;
    case ARM_SQRT:
        v = emit(t, IR_BUILTIN, vt, &base, 1);
        v->builtin = BI_SQRT;
        break;
    case ARM_BIG:
        v = n;
        for (int k = 0; k < 5; k++) v = emit2(t, IR_MUL, vt, v, n);
        break;
    case ARM_STRUCT:
    case ARM_THIRD_PRED: v = emit2(t, IR_ADD, vt, n, n); break;
    }
    if (arm == ARM_STRUCT) { /* a struct-typed merge */
        IrInst *u = ir_inst_new(f, IR_UNDEF, st_t, NULL, 0);
        ir_insert_before(b0->first, u);
        IrInst *ops[2] = {u, v};
        v = emit(t, IR_INSERT, st_t, ops, 2);
        v->idx = 0;
        base = u;
    }
    br(t, j);
    IrInst *phi =
        emit(j, IR_PHI, arm == ARM_STRUCT ? st_t : vt, NULL, arm == ARM_THIRD_PRED ? 3 : 2);
    IrInst *res = phi;
    if (arm == ARM_STRUCT) {
        res = emit(j, IR_EXTRACT, T(SC_INT), &phi, 1);
        res->idx = 0;
    } else if (arm == ARM_SQRT) {
        res = emit(j, IR_CONVERT, T(SC_INT), &phi, 1);
    }
    store_buf(j, 0, i0, res);
    emit(j, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    for (int k = 0; k < phi->nops; k++) phi->ops[k] = j->preds[k] == t ? v : base;
    verify_ok(m);
    int nb = f->blocks.len;
    cr_assert_not(run_ifconv(m), "arm kind %d converted", (int)arm);
    cr_assert_eq(f->blocks.len, nb);
    cr_assert_eq(count_ops(f, IR_SELECT), 0);
    arena_free(a);
}

Test(ifconv, refuses_unsafe_or_costly_arms)
{
    refused(ARM_LOAD);
    refused(ARM_BARRIER);
    refused(ARM_CROSS_LANE);
    refused(ARM_SQRT);
    refused(ARM_BIG);
}

Test(ifconv, refuses_struct_merge_and_extra_predecessor)
{
    refused(ARM_STRUCT);
    refused(ARM_THIRD_PRED);
}

/* a loop: header h: phi; cbr c, body, exit; body: add; br h (back edge): untouched */
Test(ifconv, leaves_loops_alone)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = kernel2(m, T(SC_INT));
    IrBlock *b0 = ir_block_new(f), *h = ir_block_new(f), *body = ir_block_new(f),
            *exit = ir_block_new(f);
    IrInst *n = param_at(b0, 1);
    IrInst *i0 = cint(b0, T(SC_UINT), 0);
    IrInst *one = cint(b0, T(SC_INT), 1);
    br(b0, h);
    IrInst *phi = emit(h, IR_PHI, T(SC_INT), NULL, 2);
    IrInst *c = emit2(h, IR_LT, T(SC_BOOL), phi, n);
    cbr(h, c, body, exit);
    IrInst *inc = emit2(body, IR_ADD, T(SC_INT), phi, one);
    br(body, h);
    store_buf(exit, 0, i0, phi);
    emit(exit, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    for (int k = 0; k < 2; k++) phi->ops[k] = h->preds[k] == b0 ? n : inc;
    verify_ok(m);
    cr_assert_not(run_ifconv(m));
    cr_assert_eq(f->blocks.len, 4);
    cr_assert_eq(count_ops(f, IR_PHI), 1);
    arena_free(a);
}
