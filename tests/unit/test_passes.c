/* test_passes.c: each optimisation pass on hand-built IR, and the pipeline. */
#include <criterion/criterion.h>
#include <string.h>

#include "compiler/passes.h"
#include "ir_build.h"

static char *text(IrModule *m)
{
    StrBuf sb = {0};
    ir_print_module(&sb, m);
    return sb_take(&sb);
}

/* Runs one pass with its own scratch arena, then checks the verifier accepts the result. */
static bool run_pass(bool (*pass)(IrModule *, Arena *), IrModule *m)
{
    Arena *s = arena_new();
    bool r = pass(m, s);
    arena_free(s);
    verify_ok(m);
    return r;
}
#define RUN(pass, m) run_pass(pass, m)

/* kernel k(int[] out): out[0] = <expr built by the caller> */
static IrFunc *kernel_out(IrModule *m, Type *elem, IrBlock **body)
{
    IrParam ps[1] = {{"out", ty_buffer(elem, false), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 1);
    *body = ir_block_new(f);
    return f;
}

Test(passes, constfold_add)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrBlock *b;
    IrFunc *f = kernel_out(m, T(SC_INT), &b);
    IrInst *two = cint(b, T(SC_INT), 2), *three = cint(b, T(SC_INT), 3);
    IrInst *sum = emit2(b, IR_ADD, T(SC_INT), two, three);
    IrInst *zero = cint(b, T(SC_UINT), 0);
    IrInst *st = store_buf(b, 0, zero, sum);
    emit(b, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    verify_ok(m);
    cr_assert(RUN(pass_constfold, m));
    IrInst *v = st->ops[1];
    cr_assert_eq(v->op, IR_CONST);
    cr_assert_eq(v->imm.i, 5);
    cr_assert_eq(count_ops(f, IR_ADD), 0);
    arena_free(a);
}

Test(passes, constfold_int_semantics)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrBlock *b;
    IrFunc *f = kernel_out(m, T(SC_UCHAR), &b);
    IrInst *idx = cint(b, T(SC_UINT), 0);
    /* 200 + 100 wraps to 44 in uchar */
    IrInst *s1 = store_buf(
        b, 0, idx,
        emit2(b, IR_ADD, T(SC_UCHAR), cint(b, T(SC_UCHAR), 200), cint(b, T(SC_UCHAR), 100)));
    /* 1 << 9 == 1 << 1 (count modulo 8) */
    IrInst *s2 = store_buf(
        b, 0, idx, emit2(b, IR_SHL, T(SC_UCHAR), cint(b, T(SC_UCHAR), 1), cint(b, T(SC_UCHAR), 9)));
    /* division by zero stays */
    IrInst *s3 = store_buf(
        b, 0, idx, emit2(b, IR_DIV, T(SC_UCHAR), cint(b, T(SC_UCHAR), 7), cint(b, T(SC_UCHAR), 0)));
    /* (char)-8 >> 1 == -4 (arithmetic), converted to uchar 252 */
    IrInst *sh =
        emit2(b, IR_SHR, T(SC_CHAR), cint(b, T(SC_CHAR), (uint64_t)-8), cint(b, T(SC_CHAR), 1));
    IrInst *s4 = store_buf(b, 0, idx, emit(b, IR_CONVERT, T(SC_UCHAR), &sh, 1));
    /* -7 / 2 == -3 (truncating), then < 0 as signed: select picks 9 */
    IrInst *dv =
        emit2(b, IR_DIV, T(SC_INT), cint(b, T(SC_INT), (uint64_t)-7), cint(b, T(SC_INT), 2));
    IrInst *neg = emit2(b, IR_LT, T(SC_BOOL), dv, cint(b, T(SC_INT), 0));
    IrInst *sel_ops[3] = {neg, cint(b, T(SC_UCHAR), 9), cint(b, T(SC_UCHAR), 1)};
    IrInst *s5 = store_buf(b, 0, idx, emit(b, IR_SELECT, T(SC_UCHAR), sel_ops, 3));
    emit(b, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    verify_ok(m);
    RUN(pass_constfold, m);
    cr_assert_eq(s1->ops[1]->op, IR_CONST);
    cr_assert_eq(s1->ops[1]->imm.i, 44);
    cr_assert_eq(s2->ops[1]->imm.i, 2);
    cr_assert_eq(s3->ops[1]->op, IR_DIV);
    cr_assert_eq(s4->ops[1]->imm.i, 252);
    cr_assert_eq(s5->ops[1]->imm.i, 9);
    arena_free(a);
}

Test(passes, constfold_float_precision_and_identities)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrBlock *b;
    IrParam ps[2] = {{"out", ty_buffer(T(SC_FLOAT), false), {0}}, {"n", T(SC_INT), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 2);
    b = ir_block_new(f);
    IrInst *idx = cint(b, T(SC_UINT), 0);
    IrInst *x = ir_const_float(f, T(SC_FLOAT), 0.1), *y = ir_const_float(f, T(SC_FLOAT), 0.2);
    ir_append(b, x);
    ir_append(b, y);
    IrInst *s1 = store_buf(b, 0, idx, emit2(b, IR_ADD, T(SC_FLOAT), x, y));
    IrInst *n = param_at(b, 1);
    IrInst *z = emit2(b, IR_MUL, T(SC_INT), n, cint(b, T(SC_INT), 0));
    IrInst *d = emit2(b, IR_SUB, T(SC_INT), n, n);
    IrInst *one = emit2(b, IR_MUL, T(SC_INT), n, cint(b, T(SC_INT), 1));
    IrInst *sum = emit2(b, IR_ADD, T(SC_INT), emit2(b, IR_ADD, T(SC_INT), z, d), one);
    IrInst *s2 = store_buf(b, 0, idx, emit(b, IR_CONVERT, T(SC_FLOAT), &sum, 1));
    emit(b, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    verify_ok(m);
    RUN(pass_constfold, m);
    cr_assert_eq(s1->ops[1]->op, IR_CONST);
    cr_assert(s1->ops[1]->imm.f == (double)(0.1f + 0.2f));
    /* n*0 + (n-n) + n*1 == n */
    IrInst *cv = s2->ops[1];
    cr_assert_eq(cv->op, IR_CONVERT);
    cr_assert_eq(cv->ops[0], n);
    arena_free(a);
}

Test(passes, constfold_branch_and_extract)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrBlock *b0;
    IrFunc *f = kernel_out(m, T(SC_FLOAT), &b0);
    IrBlock *b1 = ir_block_new(f), *b2 = ir_block_new(f), *b3 = ir_block_new(f);
    IrInst *idx = cint(b0, T(SC_UINT), 0);
    IrInst *c = emit2(b0, IR_LT, T(SC_BOOL), cint(b0, T(SC_INT), 3), cint(b0, T(SC_INT), 2));
    cbr(b0, c, b1, b2);
    IrInst *one = ir_const_float(f, T(SC_FLOAT), 1.0);
    ir_append(b1, one);
    store_buf(b1, 0, idx, one);
    br(b1, b3);
    IrInst *two = ir_const_float(f, T(SC_FLOAT), 2.0);
    ir_append(b2, two);
    IrInst *v4 = emit(b2, IR_SPLAT, ty_vec(T(SC_FLOAT), 4), &two, 1);
    IrInst *ins = emit2(b2, IR_INSERT, ty_vec(T(SC_FLOAT), 4), v4, two);
    ins->idx = 1;
    IrInst *e = emit(b2, IR_EXTRACT, T(SC_FLOAT), &ins, 1);
    e->idx = 3;
    IrInst *st = store_buf(b2, 0, idx, e);
    br(b2, b3);
    emit(b3, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    verify_ok(m);
    RUN(pass_constfold, m);
    cr_assert_eq(f->blocks.len, 3, "the true arm is unreachable");
    cr_assert_eq(b0->last->op, IR_BR);
    cr_assert_eq(b0->last->target[0], b2);
    cr_assert_eq(st->ops[1], two, "extract(insert(splat 2, _, 1), 3) = 2");
    arena_free(a);
}

Test(passes, dce_removes_dead)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrBlock *b;
    IrParam ps[2] = {{"out", ty_buffer(T(SC_INT), false), {0}}, {"n", T(SC_INT), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 2);
    b = ir_block_new(f);
    IrInst *n = param_at(b, 1);
    IrInst *idx = cint(b, T(SC_UINT), 0);
    emit2(b, IR_MUL, T(SC_INT), n, n);                 /* dead */
    IrInst *ld = emit(b, IR_LOAD, T(SC_INT), &idx, 1); /* dead load */
    ld->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 0, .nidx = 1};
    IrInst *live = emit2(b, IR_ADD, T(SC_INT), n, n);
    IrInst *at_ops[2] = {idx, live};
    IrInst *at = emit(b, IR_ATOMIC, T(SC_INT), at_ops, 2); /* result unused: kept */
    at->builtin = BI_ATOMIC_ADD;
    at->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 0, .nidx = 1};
    emit(b, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    verify_ok(m);
    cr_assert(RUN(pass_dce, m));
    cr_assert_eq(count_ops(f, IR_MUL), 0);
    cr_assert_eq(count_ops(f, IR_LOAD), 0);
    cr_assert_eq(count_ops(f, IR_ADD), 1);
    cr_assert_eq(count_ops(f, IR_ATOMIC), 1);
    cr_assert_not(RUN(pass_dce, m));
    arena_free(a);
}

Test(passes, dce_removes_dead_phi_cycle)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrParam ps[1] = {{"n", T(SC_INT), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 1);
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b2 = ir_block_new(f);
    IrInst *n = param_at(b0, 0);
    IrInst *z = cint(b0, T(SC_INT), 0);
    br(b0, b1);
    IrInst *phi = emit(b1, IR_PHI, T(SC_INT), NULL, 2);
    IrInst *inc = emit2(b1, IR_ADD, T(SC_INT), phi, n);
    IrInst *c = emit2(b1, IR_LT, T(SC_BOOL), n, z);
    cbr(b1, c, b1, b2);
    emit(b2, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    phi->ops[0] = z;
    phi->ops[1] = inc;
    verify_ok(m);
    RUN(pass_dce, m);
    cr_assert_eq(count_ops(f, IR_PHI), 0);
    cr_assert_eq(count_ops(f, IR_ADD), 0);
    cr_assert_eq(count_ops(f, IR_LT), 1);
    arena_free(a);
}

Test(passes, cse_merges)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrParam ps[2] = {{"out", ty_buffer(T(SC_INT), false), {0}}, {"n", T(SC_INT), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 2);
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b2 = ir_block_new(f),
            *b3 = ir_block_new(f);
    IrInst *n = param_at(b0, 1);
    IrInst *g1 = emit(b0, IR_WORKITEM, T(SC_UINT), NULL, 0);
    g1->builtin = BI_GLOBAL_ID;
    IrInst *x1 = emit2(b0, IR_ADD, T(SC_INT), n, cint(b0, T(SC_INT), 4));
    IrInst *c = emit2(b0, IR_LT, T(SC_BOOL), x1, cint(b0, T(SC_INT), 9));
    cbr(b0, c, b1, b2);
    /* b1: same add with operands swapped (commutative), same workitem query */
    IrInst *n2 = param_at(b1, 1);
    IrInst *x2 = emit2(b1, IR_ADD, T(SC_INT), cint(b1, T(SC_INT), 4), n2);
    IrInst *g2 = emit(b1, IR_WORKITEM, T(SC_UINT), NULL, 0);
    g2->builtin = BI_GLOBAL_ID;
    IrInst *s1 = store_buf(b1, 0, g2, x2);
    br(b1, b3);
    /* b2: a sub that b1 also computes must not merge across siblings */
    IrInst *y1 = emit2(b2, IR_SUB, T(SC_INT), n, n);
    IrInst *s2 = store_buf(b2, 0, g1, y1);
    br(b2, b3);
    IrInst *y2 = emit2(b3, IR_SUB, T(SC_INT), n, n);
    IrInst *s3 = store_buf(b3, 0, g1, y2);
    emit(b3, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    verify_ok(m);
    cr_assert(RUN(pass_cse, m));
    cr_assert_eq(s1->ops[1], x1);
    cr_assert_eq(s1->ops[0], g1);
    cr_assert_eq(s2->ops[1], y1);
    cr_assert_eq(s3->ops[1], y2, "b2 does not dominate b3");
    cr_assert_eq(count_ops(f, IR_PARAM), 1);
    cr_assert_eq(count_ops(f, IR_WORKITEM), 1);
    /* constants merged function-wide (hoisted to the entry) */
    int fours = 0;
    for (IrInst *i = b0->first; i; i = i->next) fours += i->op == IR_CONST && i->imm.i == 4;
    cr_assert_eq(fours, 1);
    cr_assert_eq(count_ops(f, IR_CONST), 2);
    arena_free(a);
}

Test(passes, cse_keeps_loads_and_cross_lane)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrParam ps[1] = {{"out", ty_buffer(T(SC_INT), false), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 1);
    IrBlock *b = ir_block_new(f);
    IrInst *i0 = cint(b, T(SC_UINT), 0);
    IrInst *l1 = emit(b, IR_LOAD, T(SC_INT), &i0, 1);
    l1->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 0, .nidx = 1};
    store_buf(b, 0, cint(b, T(SC_UINT), 1), l1); /* may change out[0]: the next load stays */
    IrInst *l2 = emit(b, IR_LOAD, T(SC_INT), &i0, 1);
    l2->mem = l1->mem;
    IrInst *s1 = emit(b, IR_BUILTIN, T(SC_INT), &l1, 1);
    s1->builtin = BI_SUBGROUP_ADD;
    IrInst *s2 = emit(b, IR_BUILTIN, T(SC_INT), &l1, 1);
    s2->builtin = BI_SUBGROUP_ADD;
    IrInst *sum = emit2(b, IR_ADD, T(SC_INT), emit2(b, IR_ADD, T(SC_INT), s1, s2), l2);
    store_buf(b, 0, i0, sum);
    emit(b, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    RUN(pass_cse, m);
    cr_assert_eq(count_ops(f, IR_LOAD), 2);
    cr_assert_eq(count_ops(f, IR_BUILTIN), 2);
    arena_free(a);
}

/* loads merge: the same writable element twice in a block (a store to another buffer between
 * them does not matter: buffers do not alias), and a const buffer's element in a dominated block */
Test(passes, cse_merges_loads)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrParam ps[3] = {{"x", ty_buffer(T(SC_INT), true), {0}},
                     {"y", ty_buffer(T(SC_INT), false), {0}},
                     {"z", ty_buffer(T(SC_INT), false), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 3);
    IrBlock *b = ir_block_new(f), *b2 = ir_block_new(f);
    IrInst *i0 = cint(b, T(SC_UINT), 0);
    IrInst *x1 = emit(b, IR_LOAD, T(SC_INT), &i0, 1);
    x1->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 0, .nidx = 1};
    IrInst *y1 = emit(b, IR_LOAD, T(SC_INT), &i0, 1);
    y1->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 1, .nidx = 1};
    store_buf(b, 2, i0, x1);
    IrInst *y2 = emit(b, IR_LOAD, T(SC_INT), &i0, 1);
    y2->mem = y1->mem;
    store_buf(b, 2, i0, emit2(b, IR_MUL, T(SC_INT), y1, y2));
    IrInst *br = emit(b, IR_BR, ty_void, NULL, 0);
    br->target[0] = b2;
    IrInst *x2 = emit(b2, IR_LOAD, T(SC_INT), &i0, 1);
    x2->mem = x1->mem;
    store_buf(b2, 1, i0, x2);
    emit(b2, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    RUN(pass_cse, m);
    cr_assert_eq(count_ops(f, IR_LOAD), 2); /* x[0] once, y[0] once */
    arena_free(a);
}

/* float scale(float v, const float[] src, uint i) { float t = src[i]; return v * t; }
 * kernel k(const float[] x, float[] y) { y[gid] = scale(2.0, x, gid); } */
static IrFunc *build_call(IrModule *m, IrFunc **callee_out)
{
    Type *f32 = T(SC_FLOAT), *u32 = T(SC_UINT);
    IrParam cp[3] = {{"v", f32, {0}}, {"src", ty_buffer(f32, true), {0}}, {"i", u32, {0}}};
    IrFunc *g = ir_func_new(m, "scale", false, f32, cp, 3);
    IrSlot t = {"t", f32, {0}};
    vec_push(m->arena, &g->locals, t);
    IrBlock *gb = ir_block_new(g), *gt = ir_block_new(g), *ge = ir_block_new(g);
    IrInst *v = param_at(gb, 0), *i = param_at(gb, 2);
    IrInst *ld = emit(gb, IR_LOAD, f32, &i, 1);
    ld->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 1, .nidx = 1};
    IrInst *st = emit(gb, IR_STORE, ty_void, &ld, 1);
    st->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 0};
    IrInst *c = emit2(gb, IR_LT, T(SC_BOOL), v, ld);
    cbr(gb, c, gt, ge);
    IrInst *tv = emit(gt, IR_LOAD, f32, NULL, 0);
    tv->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 0};
    IrInst *r = emit2(gt, IR_MUL, f32, v, tv);
    emit(gt, IR_RET, ty_void, &r, 1);
    emit(ge, IR_RET, ty_void, &v, 1);
    ir_recompute_preds(g);

    IrParam kp[2] = {{"x", ty_buffer(f32, true), {0}}, {"y", ty_buffer(f32, false), {0}}};
    IrFunc *k = ir_func_new(m, "k", true, ty_void, kp, 2);
    IrSlot kt = {"t", f32, {0}};
    vec_push(m->arena, &k->locals, kt);
    IrBlock *b = ir_block_new(k);
    IrInst *gid = emit(b, IR_WORKITEM, u32, NULL, 0);
    gid->builtin = BI_GLOBAL_ID;
    IrInst *two = ir_const_float(k, f32, 2.0);
    ir_append(b, two);
    IrInst *args[2] = {two, gid};
    IrInst *call = emit(b, IR_CALL, f32, args, 2);
    call->callee = g;
    call->bufargs = arena_alloc(m->arena, sizeof(int) * 3);
    call->bufargs[0] = -1;
    call->bufargs[1] = 0; /* src = x */
    call->bufargs[2] = -1;
    IrInst *sq = emit2(b, IR_MUL, f32, call, call);
    store_buf(b, 1, gid, sq);
    emit(b, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(k);
    if (callee_out) *callee_out = g;
    return k;
}

Test(passes, inline_removes_calls)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *g;
    IrFunc *k = build_call(m, &g);
    verify_ok(m);
    cr_assert(RUN(pass_inline, m));
    cr_assert_eq(count_ops(k, IR_CALL), 0);
    cr_assert_eq(count_ops(k, IR_PARAM), 0, "callee params became the arguments");
    cr_assert_eq(k->locals.len, 2);
    cr_assert_str_eq(k->locals.data[1].name, "scale.t");
    /* the load from src now reads the kernel's x (parameter 0); the local is slot 1 */
    int loads_x = 0, local1 = 0;
    for (int bi = 0; bi < k->blocks.len; bi++)
        for (IrInst *i = k->blocks.data[bi]->first; i; i = i->next) {
            if (i->op == IR_LOAD && i->mem.kind == MEM_BUFFER) loads_x += i->mem.id == 0;
            if ((i->op == IR_LOAD || i->op == IR_STORE) && i->mem.kind == MEM_LOCAL)
                local1 += i->mem.id == 1;
        }
    cr_assert_eq(loads_x, 1);
    cr_assert_eq(local1, 2);
    /* two returns join in a phi that feeds the square */
    cr_assert_eq(count_ops(k, IR_PHI), 1);
    IrInst *mul = NULL;
    for (int bi = 0; bi < k->blocks.len; bi++)
        for (IrInst *i = k->blocks.data[bi]->first; i; i = i->next)
            if (i->op == IR_MUL && i->ops[0] == i->ops[1]) mul = i;
    cr_assert_not_null(mul);
    cr_assert_eq(mul->ops[0]->op, IR_PHI);
    cr_assert_eq(count_ops(g, IR_RET), 2, "the callee itself is untouched");
    arena_free(a);
}

Test(passes, inline_nested_calls)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    Type *i32 = T(SC_INT);
    IrParam p1[1] = {{"a", i32, {0}}};
    /* inner(a) = a + 1; outer(a) = inner(a) * inner(a); defined outer first */
    IrFunc *inner = ir_func_new(m, "inner", false, i32, p1, 1);
    IrFunc *outer = ir_func_new(m, "outer", false, i32, p1, 1);
    IrBlock *ib = ir_block_new(inner);
    IrInst *ia = param_at(ib, 0);
    IrInst *r = emit2(ib, IR_ADD, i32, ia, cint(ib, i32, 1));
    emit(ib, IR_RET, ty_void, &r, 1);
    ir_recompute_preds(inner);
    IrBlock *ob = ir_block_new(outer);
    IrInst *oa = param_at(ob, 0);
    IrInst *c1 = emit(ob, IR_CALL, i32, &oa, 1);
    c1->callee = inner;
    IrInst *c2 = emit(ob, IR_CALL, i32, &c1, 1);
    c2->callee = inner;
    IrInst *mul = emit2(ob, IR_MUL, i32, c1, c2);
    emit(ob, IR_RET, ty_void, &mul, 1);
    ir_recompute_preds(outer);
    IrParam kp[1] = {{"out", ty_buffer(i32, false), {0}}};
    IrFunc *k = ir_func_new(m, "k", true, ty_void, kp, 1);
    IrBlock *kb = ir_block_new(k);
    IrInst *seven = cint(kb, i32, 7);
    IrInst *c3 = emit(kb, IR_CALL, i32, &seven, 1);
    c3->callee = outer;
    store_buf(kb, 0, cint(kb, T(SC_UINT), 0), c3);
    emit(kb, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(k);
    verify_ok(m);
    RUN(pass_inline, m);
    cr_assert_eq(count_ops(k, IR_CALL), 0);
    cr_assert_eq(count_ops(outer, IR_CALL), 0);
    cr_assert_eq(count_ops(k, IR_ADD), 2);
    /* the whole thing folds to (7+1) * (8+1) = 72 */
    Arena *s = arena_new();
    StrBuf err = {0};
    cr_assert(ir_run_passes(m, 2, true, &err), "%s", err.data);
    arena_free(s);
    cr_assert_eq(k->blocks.len, 1);
    IrInst *st = NULL;
    for (IrInst *i = k->blocks.data[0]->first; i; i = i->next)
        if (i->op == IR_STORE) st = i;
    cr_assert_eq(st->ops[1]->op, IR_CONST);
    cr_assert_eq(st->ops[1]->imm.i, 72);
    arena_free(a);
}

Test(passes, mem2reg_diamond_makes_phi)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    Type *i32 = T(SC_INT);
    IrParam ps[2] = {{"out", ty_buffer(i32, false), {0}}, {"n", i32, {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 2);
    IrSlot x = {"x", i32, {0}};
    vec_push(a, &f->locals, x);
    IrSlot arr = {"arr", ty_array(i32, 4), {0}};
    vec_push(a, &f->locals, arr);
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b2 = ir_block_new(f),
            *b3 = ir_block_new(f);
    IrInst *n = param_at(b0, 1);
    IrInst *s0 = emit(b0, IR_STORE, ty_void, &n, 1);
    s0->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 0};
    IrInst *c = emit2(b0, IR_LT, T(SC_BOOL), n, cint(b0, i32, 0));
    cbr(b0, c, b1, b2);
    IrInst *neg = emit(b1, IR_NEG, i32, &n, 1);
    IrInst *s1 = emit(b1, IR_STORE, ty_void, &neg, 1);
    s1->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 0};
    br(b1, b3);
    br(b2, b3);
    IrInst *v = emit(b3, IR_LOAD, i32, NULL, 0);
    v->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 0};
    IrInst *i0 = cint(b3, T(SC_UINT), 0);
    IrInst *sa_ops[2] = {i0, v};
    IrInst *sa = emit(b3, IR_STORE, ty_void, sa_ops, 2); /* arrays stay in memory */
    sa->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 1, .nidx = 1};
    IrInst *st = store_buf(b3, 0, i0, v);
    emit(b3, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    verify_ok(m);
    cr_assert(RUN(pass_mem2reg, m));
    /* x is gone from memory and from the slot list; the array stays, renumbered */
    cr_assert_eq(count_ops(f, IR_LOAD), 0);
    cr_assert_eq(f->locals.len, 1);
    cr_assert_str_eq(f->locals.data[0].name, "arr");
    cr_assert_eq(sa->mem.id, 0);
    IrInst *phi = st->ops[1];
    cr_assert_eq(phi->op, IR_PHI);
    cr_assert_eq(phi->block, b3);
    cr_assert_eq(phi->nops, 2);
    /* preds of b3 are b1, b2 in that order */
    cr_assert_eq(phi->ops[0], neg);
    cr_assert_eq(phi->ops[1], n);
    cr_assert_eq(sa->ops[1], phi);
    cr_assert_eq(count_ops(f, IR_STORE), 2);
    arena_free(a);
}

Test(passes, mem2reg_loop_paths_and_undef)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    Type *f32 = T(SC_FLOAT), *f4 = ty_vec(f32, 4);
    IrParam ps[1] = {{"out", ty_buffer(f32, false), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 1);
    IrSlot v = {"v", f4, {0}};
    vec_push(a, &f->locals, v);
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b2 = ir_block_new(f);
    IrInst *one = ir_const_float(f, f32, 1.0);
    ir_append(b0, one);
    IrInst *w0 = emit(b0, IR_STORE, ty_void, &one, 1); /* v.y = 1 before any whole store */
    w0->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 0, .path = {1}, .npath = 1};
    br(b0, b1);
    IrInst *y = emit(b1, IR_LOAD, f32, NULL, 0);
    y->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 0, .path = {1}, .npath = 1};
    IrInst *y2 = emit2(b1, IR_ADD, f32, y, one);
    IrInst *w1 = emit(b1, IR_STORE, ty_void, &y2, 1);
    w1->mem = y->mem;
    IrInst *c = emit2(b1, IR_LT, T(SC_BOOL), y2, one);
    cbr(b1, c, b1, b2);
    IrInst *whole = emit(b2, IR_LOAD, f4, NULL, 0);
    whole->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 0};
    IrInst *x = emit(b2, IR_EXTRACT, f32, &whole, 1);
    IrInst *i0 = cint(b2, T(SC_UINT), 0);
    store_buf(b2, 0, i0, x);
    emit(b2, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    verify_ok(m);
    RUN(pass_mem2reg, m);
    cr_assert_eq(count_ops(f, IR_LOAD), 0);
    cr_assert_eq(count_ops(f, IR_STORE), 1);
    cr_assert_eq(count_ops(f, IR_UNDEF), 1);
    cr_assert_eq(count_ops(f, IR_PHI), 1);
    cr_assert_eq(count_ops(f, IR_INSERT), 2);
    /* b2 reads the value b1 inserted into the loop-carried phi */
    cr_assert_eq(x->ops[0]->op, IR_INSERT);
    cr_assert_eq(x->ops[0]->ops[0]->op, IR_PHI);
    cr_assert_eq(x->ops[0]->ops[0]->block, b1);
    arena_free(a);
}

Test(passes, simplifycfg_merges_chains)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrBlock *b0;
    IrFunc *f = kernel_out(m, T(SC_INT), &b0);
    IrBlock *b1 = ir_block_new(f), *b2 = ir_block_new(f), *b3 = ir_block_new(f),
            *dead = ir_block_new(f);
    IrInst *i0 = cint(b0, T(SC_UINT), 0);
    br(b0, b1);
    IrInst *k = cint(b1, T(SC_INT), 5);
    br(b1, b2);
    IrInst *phi = emit(b2, IR_PHI, T(SC_INT), NULL, 1);
    br(b2, b3);
    store_buf(b3, 0, i0, phi);
    emit(b3, IR_RET, ty_void, NULL, 0);
    br(dead, b3);
    ir_recompute_preds(f);
    phi->ops[0] = k;
    cr_assert_eq(b3->npreds, 2);
    verify_ok(m);
    cr_assert(RUN(pass_simplifycfg, m));
    cr_assert_eq(f->blocks.len, 1);
    cr_assert_eq(count_ops(f, IR_PHI), 0);
    cr_assert_eq(b0->last->op, IR_RET);
    cr_assert_not(RUN(pass_simplifycfg, m));
    arena_free(a);
}

Test(passes, simplifycfg_forwarders_and_trivial_phis)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrParam ps[2] = {{"out", ty_buffer(T(SC_INT), false), {0}}, {"n", T(SC_INT), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 2);
    /* b0: cbr c, b1, b2; b1: br b3 (empty); b2: store; br b3; b3: phi [n, b1], [n, b2] */
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b2 = ir_block_new(f),
            *b3 = ir_block_new(f);
    IrInst *n = param_at(b0, 1);
    IrInst *i0 = cint(b0, T(SC_UINT), 0);
    IrInst *c = emit2(b0, IR_LT, T(SC_BOOL), n, cint(b0, T(SC_INT), 3));
    cbr(b0, c, b1, b2);
    br(b1, b3);
    store_buf(b2, 0, i0, n);
    br(b2, b3);
    IrInst *phi = emit(b3, IR_PHI, T(SC_INT), NULL, 2);
    IrInst *st = store_buf(b3, 0, i0, phi);
    emit(b3, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    phi->ops[0] = n;
    phi->ops[1] = n;
    verify_ok(m);
    RUN(pass_simplifycfg, m);
    cr_assert_eq(st->ops[1], n, "trivial phi replaced");
    cr_assert_eq(f->blocks.len, 3, "the empty forwarder b1 is gone");
    cr_assert_eq(b0->last->target[0], b3);
    arena_free(a);
}

Test(passes, pipeline_end_to_end_is_deterministic)
{
    char *out[2];
    for (int round = 0; round < 2; round++) {
        Arena *a = arena_new();
        IrModule *m = ir_module_new(a);
        build_call(m, NULL);
        StrBuf err = {0};
        cr_assert(ir_run_passes(m, 2, true, &err), "%s", err.data);
        out[round] = text(m);
        IrFunc *k = m->funcs.data[1];
        cr_assert_eq(count_ops(k, IR_CALL), 0);
        cr_assert_eq(count_ops(k, IR_LOAD), 1, "%s", out[round]);
        arena_free(a);
    }
    cr_assert_str_eq(out[0], out[1]);
    free(out[0]);
    free(out[1]);
}

Test(passes, pipeline_O0_inlines)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *k = build_call(m, NULL);
    StrBuf err = {0};
    cr_assert(ir_run_passes(m, 0, true, &err), "%s", err.data);
    cr_assert_eq(count_ops(k, IR_CALL), 0);
    arena_free(a);
}

Test(passes, pipeline_reports_broken_input)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *k = build_call(m, NULL);
    /* a type error that the passes keep: a store of an int into the float buffer */
    IrBlock *b = k->blocks.data[0];
    IrInst *bad = ir_const_int(k, T(SC_INT), 1);
    ir_insert_before(b->last, bad);
    IrInst *ops[2] = {bad, bad};
    IrInst *st = ir_inst_new(k, IR_STORE, ty_void, ops, 2);
    st->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 1, .nidx = 1};
    ir_insert_before(b->last, st);
    StrBuf err = {0};
    cr_assert_not(ir_run_passes(m, 2, true, &err));
    cr_assert(strstr(err.data, "produced by inline"), "%s", err.data);
    sb_free(&err);
    arena_free(a);
}

/* 100 kernels, each a chain of 60 diamonds over 8 scalar variables and a helper call:
 * the whole pipeline with verification must stay fast (no quadratic pass). */
Test(passes, scales_to_many_kernels, .timeout = 20)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    Type *i32 = T(SC_INT);
    IrParam hp[1] = {{"v", i32, {0}}};
    IrFunc *h = ir_func_new(m, "h", false, i32, hp, 1);
    IrBlock *hb = ir_block_new(h);
    IrInst *hv = param_at(hb, 0);
    IrInst *hr = emit2(hb, IR_MUL, i32, hv, hv);
    emit(hb, IR_RET, ty_void, &hr, 1);
    ir_recompute_preds(h);
    enum { NK = 100, ND = 60, NV = 8 };
    for (int k = 0; k < NK; k++) {
        IrParam ps[2] = {{"out", ty_buffer(i32, false), {0}}, {"n", i32, {0}}};
        IrFunc *f = ir_func_new(m, arena_printf(a, "k%d", k), true, ty_void, ps, 2);
        for (int v = 0; v < NV; v++) {
            IrSlot s = {arena_printf(a, "v%d", v), i32, {0}};
            vec_push(a, &f->locals, s);
        }
        IrBlock *cur = ir_block_new(f);
        IrInst *n = param_at(cur, 1);
        for (int v = 0; v < NV; v++) {
            IrInst *st = emit(cur, IR_STORE, ty_void, &n, 1);
            st->mem = (IrMemRef){.kind = MEM_LOCAL, .id = v};
        }
        for (int d = 0; d < ND; d++) {
            IrBlock *t = ir_block_new(f), *e = ir_block_new(f), *j = ir_block_new(f);
            IrInst *ld = emit(cur, IR_LOAD, i32, NULL, 0);
            ld->mem = (IrMemRef){.kind = MEM_LOCAL, .id = d % NV};
            IrInst *c = emit2(cur, IR_LT, T(SC_BOOL), ld, cint(cur, i32, (uint64_t)d));
            cbr(cur, c, t, e);
            IrInst *x = emit2(t, IR_ADD, i32, ld, cint(t, i32, 1));
            IrInst *st = emit(t, IR_STORE, ty_void, &x, 1);
            st->mem = (IrMemRef){.kind = MEM_LOCAL, .id = (d + 1) % NV};
            br(t, j);
            IrInst *call = emit(e, IR_CALL, i32, &ld, 1);
            call->callee = h;
            st = emit(e, IR_STORE, ty_void, &call, 1);
            st->mem = (IrMemRef){.kind = MEM_LOCAL, .id = (d + 1) % NV};
            br(e, j);
            cur = j;
        }
        IrInst *ld = emit(cur, IR_LOAD, i32, NULL, 0);
        ld->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 3};
        store_buf(cur, 0, cint(cur, T(SC_UINT), 0), ld);
        emit(cur, IR_RET, ty_void, NULL, 0);
        ir_recompute_preds(f);
    }
    StrBuf err = {0};
    cr_assert(ir_run_passes(m, 3, true, &err), "%s", err.data);
    for (int k = 1; k <= NK; k++) {
        cr_assert_eq(count_ops(m->funcs.data[k], IR_CALL), 0);
        cr_assert_eq(count_ops(m->funcs.data[k], IR_LOAD), 0);
    }
    arena_free(a);
}

/* Regression: constants hoisted to the entry are inserted into CSE's table without scope,
 * in the middle of a block's scoped insertions. Closing the scope must remove the scoped
 * entries themselves, not whatever heads their hash bucket: otherwise an `add` of one
 * branch stays visible to its sibling and replaces an equal `add` there, which it does not
 * dominate. Many constants interleaved with adds make bucket sharing certain. */
static void cse_scope_case(uint64_t base)
{
    enum { K = 400 };
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrParam ps[2] = {{"out", ty_buffer(T(SC_INT), false), {0}}, {"n", T(SC_INT), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 2);
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b2 = ir_block_new(f),
            *b3 = ir_block_new(f);
    IrInst *n = param_at(b0, 1);
    IrInst *zero = cint(b0, T(SC_UINT), 0);
    cbr(b0, emit2(b0, IR_LT, T(SC_BOOL), n, cint(b0, T(SC_INT), 0)), b1, b2);
    IrBlock *arms[2] = {b1, b2};
    for (int arm = 0; arm < 2; arm++) {
        for (int k = 0; k < K; k++) {
            IrInst *c = cint(arms[arm], T(SC_INT), base + (uint64_t)k);
            store_buf(arms[arm], 0, zero, emit2(arms[arm], IR_ADD, T(SC_INT), n, c));
        }
        br(arms[arm], b3);
    }
    emit(b3, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    verify_ok(m);
    RUN(pass_cse, m); /* verify_ok() inside: every use is dominated by its definition */
    for (int arm = 0; arm < 2; arm++)
        for (IrInst *i = arms[arm]->first; i; i = i->next)
            if (i->op == IR_STORE)
                cr_assert_eq(i->ops[1]->block, arms[arm], "an add was replaced by its sibling's");
    arena_free(a);
}

/* Regression: constants hoisted to the entry are inserted into CSE's table without scope,
 * in the middle of a block's scoped insertions. Closing the scope must remove the scoped
 * entries themselves, not whatever heads their hash bucket: otherwise an `add` of one
 * branch stays visible to its sibling and replaces an equal `add` there, which it does not
 * dominate. Buckets depend on addresses, so several constant sets make a shared bucket
 * all but certain (the old code failed about 60% of single cases). */
Test(passes, cse_scopes_survive_hoisted_constants)
{
    for (uint64_t base = 1000; base < 9000; base += 1000) cse_scope_case(base);
}
