/* test_uniform.c: the uniform/varying analysis and block schedule of the SIMD backend
 * (codegen/cg_uniform.c) on hand-built IR. */
#include <criterion/criterion.h>

#include "codegen/cg_uniform.h"
#include "ir_build.h"

static IrInst *workitem(IrBlock *b, BuiltinId bi, int dim)
{
    IrInst *i = emit(b, IR_WORKITEM, T(SC_UINT), NULL, 0);
    i->builtin = bi;
    i->dim = dim;
    return i;
}

static IrInst *param(IrBlock *b, int k, Type *t)
{
    IrInst *i = emit(b, IR_PARAM, t, NULL, 0);
    i->param = k;
    return i;
}

static IrInst *load_buf(IrBlock *b, int buf, Type *t, IrInst *idx)
{
    IrInst *i = emit(b, IR_LOAD, t, &idx, 1);
    i->mem.kind = MEM_BUFFER;
    i->mem.id = buf;
    i->mem.nidx = 1;
    return i;
}

/* a phi at the head of b (after ir_recompute_preds) with one value per predecessor, given in
 * the order of `from` */
static IrInst *add_phi(IrBlock *b, Type *t, IrBlock **from, IrInst **vals, int n)
{
    IrInst *ops[8];
    cr_assert_eq(b->npreds, n);
    for (int k = 0; k < n; k++)
        for (int j = 0; j < n; j++)
            if (b->preds[k] == from[j]) ops[k] = vals[j];
    IrInst *phi = ir_inst_new(b->func, IR_PHI, t, ops, n);
    ir_insert_before(b->first, phi);
    return phi;
}

static void verify(IrModule *m)
{
    StrBuf err = {0};
    bool ok = ir_verify_module(m, &err);
    cr_assert(ok, "verifier: %s", err.data ? err.data : "");
    sb_free(&err);
}

/* kernel k(uint p, float[] x) */
static IrFunc *kernel(IrModule *m)
{
    IrParam ps[2] = {{"p", T(SC_UINT), {0}}, {"x", ty_buffer(T(SC_FLOAT), false), {0}}};
    return ir_func_new(m, "k", true, ty_void, ps, 2);
}

Test(uniform, straight_line)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = kernel(m);
    IrBlock *b = ir_block_new(f);
    IrInst *g0 = workitem(b, BI_GLOBAL_ID, 0), *l0 = workitem(b, BI_LOCAL_ID, 0);
    IrInst *g1 = workitem(b, BI_GLOBAL_ID, 1), *grp = workitem(b, BI_GROUP_ID, 0);
    IrInst *p = param(b, 0, T(SC_UINT));
    IrInst *lin = emit2(b, IR_ADD, T(SC_UINT), p, g0);
    IrInst *lin2 = emit2(b, IR_SUB, T(SC_UINT), lin, p);
    IrInst *var = emit2(b, IR_MUL, T(SC_UINT), g0, p);
    IrInst *var2 = emit2(b, IR_ADD, T(SC_UINT), g0, l0); /* linear + linear: stride 2 */
    IrInst *uni = emit2(b, IR_MUL, T(SC_UINT), g1, p);
    IrInst *lv = load_buf(b, 1, T(SC_FLOAT), lin);
    IrInst *lu = load_buf(b, 1, T(SC_FLOAT), uni);
    IrInst *sum = emit2(b, IR_ADD, T(SC_FLOAT), lu, lu);
    store_buf(b, 1, var, lv);
    store_buf(b, 1, var2, sum);
    store_buf(b, 1, lin2, sum);
    emit(b, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    verify(m);

    CgUniform *u = cg_uniform_analyse(f, a);
    cr_assert_eq(u->kind[g0->id], CGU_LINEAR);
    cr_assert_eq(u->kind[l0->id], CGU_LINEAR);
    cr_assert_eq(u->kind[g1->id], CGU_UNIFORM);
    cr_assert_eq(u->kind[grp->id], CGU_UNIFORM);
    cr_assert_eq(u->kind[lin->id], CGU_LINEAR);
    cr_assert_eq(u->kind[lin2->id], CGU_LINEAR);
    cr_assert_eq(u->kind[var->id], CGU_VARYING);
    cr_assert_eq(u->kind[var2->id], CGU_VARYING);
    cr_assert_eq(u->kind[uni->id], CGU_UNIFORM);
    cr_assert_eq(u->kind[lv->id], CGU_VARYING, "a load at a linear index differs per lane");
    cr_assert_eq(u->kind[lu->id], CGU_UNIFORM,
                 "a load at a uniform index is the same for all lanes");
    cr_assert_eq(u->kind[sum->id], CGU_UNIFORM);
    cr_assert(!u->any_varying_branch);
    cr_assert_eq(u->norder, 1);
    cr_assert_eq(u->nloops, 0);
    cr_assert_str_eq(cg_uniform_name(CGU_LINEAR), "linear");
    arena_free(a);
}

/* if (cond) v = 1 else v = 2; x[...] = v: a join of a varying branch merges lanes that came
 * different ways; the same shape on a uniform condition stays uniform */
static void diamond(bool varying_cond)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = kernel(m);
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b2 = ir_block_new(f),
            *b3 = ir_block_new(f);
    IrInst *g0 = workitem(b0, BI_GLOBAL_ID, 0);
    IrInst *p = param(b0, 0, T(SC_UINT));
    IrInst *c = emit2(b0, IR_LT, T(SC_BOOL), varying_cond ? g0 : p, cint(b0, T(SC_UINT), 5));
    cbr(b0, c, b1, b2);
    IrInst *one = ir_const_float(f, T(SC_FLOAT), 1.0);
    ir_append(b1, one);
    br(b1, b3);
    IrInst *two = ir_const_float(f, T(SC_FLOAT), 2.0);
    ir_append(b2, two);
    br(b2, b3);
    IrInst *st = store_buf(b3, 1, g0, g0);
    emit(b3, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    IrBlock *from[2] = {b1, b2};
    IrInst *vals[2] = {one, two};
    IrInst *phi = add_phi(b3, T(SC_FLOAT), from, vals, 2);
    IrInst *sops[2] = {g0, phi};
    ir_set_ops(f, st, sops, 2);
    verify(m);

    CgUniform *u = cg_uniform_analyse(f, a);
    cr_assert_eq(u->varying_br[b0->id], varying_cond);
    cr_assert_eq(u->any_varying_branch, varying_cond);
    cr_assert_eq(u->join[b3->id], varying_cond);
    cr_assert_eq(u->join[b1->id], 0);
    cr_assert_eq(u->kind[phi->id], varying_cond ? CGU_VARYING : CGU_UNIFORM);
    /* schedule: reverse post-order, the join last */
    cr_assert_eq(u->norder, 4);
    cr_assert_eq(u->order[0], b0);
    cr_assert_eq(u->order[3], b3);
    arena_free(a);
}

Test(uniform, divergent_join) { diamond(true); }
Test(uniform, uniform_join) { diamond(false); }

/* for (n = 0; n < p; n++) { if (g0 < n) break; } x[g0] = n;
 * The counter is uniform inside the loop (the lanes iterate in lockstep) but lanes leave at
 * different iterations: its use after the loop reads a per-lane capture. */
Test(uniform, divergent_loop_exit)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = kernel(m);
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b3 = ir_block_new(f),
            *b2 = ir_block_new(f), *b4 = ir_block_new(f);
    IrInst *g0 = workitem(b0, BI_GLOBAL_ID, 0);
    IrInst *p = param(b0, 0, T(SC_UINT));
    IrInst *zero = cint(b0, T(SC_UINT), 0);
    br(b0, b1);
    IrInst *c = emit2(b1, IR_LT, T(SC_BOOL), zero, p);
    cbr(b1, c, b2, b3);
    IrInst *v = emit2(b2, IR_LT, T(SC_BOOL), g0, zero);
    cbr(b2, v, b3, b4);
    IrInst *n1 = emit2(b4, IR_ADD, T(SC_UINT), zero, cint(b4, T(SC_UINT), 1));
    br(b4, b1);
    IrInst *cv = emit(b3, IR_CONVERT, T(SC_FLOAT), &zero, 1);
    store_buf(b3, 1, g0, cv);
    emit(b3, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    IrBlock *from[2] = {b0, b4};
    IrInst *vals[2] = {zero, n1};
    IrInst *n = add_phi(b1, T(SC_UINT), from, vals, 2);
    /* now let the counter's uses read the phi */
    IrInst *o1[2] = {n, p}, *o2[2] = {g0, n}, *o3[2] = {n, n1->ops[1]};
    ir_set_ops(f, c, o1, 2);
    ir_set_ops(f, v, o2, 2);
    ir_set_ops(f, n1, o3, 2);
    ir_set_ops(f, cv, &n, 1);
    verify(m);

    CgUniform *u = cg_uniform_analyse(f, a);
    cr_assert_eq(u->kind[n->id], CGU_UNIFORM, "the loop counter is uniform inside the loop");
    cr_assert_eq(u->kind[c->id], CGU_UNIFORM);
    cr_assert_eq(u->varying_br[b1->id], 0);
    cr_assert_eq(u->varying_br[b2->id], 1);
    cr_assert_eq(u->join[b3->id], 1, "the loop exit merges lanes leaving at different iterations");
    cr_assert_eq(u->join[b1->id], 0,
                 "the header is not a join: the lanes of a loop run in lockstep");
    cr_assert_eq(u->nloops, 1);
    cr_assert_eq(u->loops[0].header, b1);
    cr_assert_eq(u->loop_of[b2->id], 0);
    cr_assert_eq(u->loop_of[b4->id], 0);
    cr_assert_eq(u->loop_of[b3->id], -1);
    /* the loop's blocks are contiguous in the schedule and its exit comes after them */
    cr_assert_eq(u->loops[0].first, 1);
    cr_assert_eq(u->loops[0].last, 3);
    cr_assert_eq(u->pos[b1->id], 1);
    cr_assert_eq(u->pos[b3->id], 4);
    /* the use after the loop reads the capture */
    cr_assert_eq(cg_uniform_capture_loop(u, n, b3), 0);
    cr_assert_eq(cg_uniform_capture_loop(u, n, b2), -1);
    cr_assert_eq(cg_uniform_at(u, n, b3), CGU_VARYING);
    cr_assert_eq(cg_uniform_at(u, n, b4), CGU_UNIFORM);
    cr_assert_eq(cg_uniform_capture_loop(u, p, b3), -1, "parameters are never captured");
    cr_assert_eq(u->kind[cv->id], CGU_VARYING);
    arena_free(a);
}
