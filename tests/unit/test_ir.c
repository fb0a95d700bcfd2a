/* test_ir.c: IR construction, printing, verification and dominance. */
#include <criterion/criterion.h>
#include <string.h>

#include "ir_build.h"

static char *print_mod(IrModule *m)
{
    StrBuf sb = {0};
    ir_print_module(&sb, m);
    return sb_take(&sb);
}

static bool verifies(IrModule *m, char **msg)
{
    StrBuf sb = {0};
    bool ok = ir_verify_module(m, &sb);
    *msg = sb_take(&sb);
    return ok;
}

/* saxpy: if (gid < len(y)) y[gid] = a * x[gid] + y[gid] */
static IrFunc *build_saxpy(IrModule *m, bool reversed_ids)
{
    Type *f32 = T(SC_FLOAT);
    IrParam ps[3] = {
        {"a", f32, {0}}, {"x", ty_buffer(f32, true), {0}}, {"y", ty_buffer(f32, false), {0}}};
    IrFunc *f = ir_func_new(m, "saxpy", true, ty_void, ps, 3);
    f->has_wg = true;
    f->wg[0] = 256;
    if (reversed_ids) f->next_id = 1000; /* ids differ; the text must not */
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b2 = ir_block_new(f);
    IrInst *a = emit(b0, IR_PARAM, f32, NULL, 0);
    a->param = 0;
    IrInst *gid = emit(b0, IR_WORKITEM, T(SC_UINT), NULL, 0);
    gid->builtin = BI_GLOBAL_ID;
    IrInst *n = emit(b0, IR_BUFLEN, T(SC_UINT), NULL, 0);
    n->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 2};
    IrInst *c = emit2(b0, IR_LT, T(SC_BOOL), gid, n);
    cbr(b0, c, b1, b2);
    IrInst *xv = emit(b1, IR_LOAD, f32, &gid, 1);
    xv->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 1, .nidx = 1};
    IrInst *yv = emit(b1, IR_LOAD, f32, &gid, 1);
    yv->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 2, .nidx = 1};
    IrInst *mul = emit2(b1, IR_MUL, f32, a, xv);
    IrInst *add = emit2(b1, IR_ADD, f32, mul, yv);
    IrInst *st = emit2(b1, IR_STORE, ty_void, gid, add);
    st->mem = (IrMemRef){.kind = MEM_BUFFER, .id = 2, .nidx = 1};
    br(b1, b2);
    emit(b2, IR_RET, ty_void, NULL, 0);
    ir_recompute_preds(f);
    return f;
}

static const char *saxpy_text =
    "kernel @saxpy(%a: float, %x: const float[], %y: float[]) workgroup(256,1,1) {\n"
    "b0:\n"
    "  %3 = param %a : float\n"
    "  %4 = workitem.global_id 0 : uint\n"
    "  %5 = buflen %y : uint\n"
    "  %6 = lt %4, %5 : bool\n"
    "  cbr %6, b1, b2\n"
    "b1:  ; preds b0\n"
    "  %7 = load %x[%4] : float\n"
    "  %8 = load %y[%4] : float\n"
    "  %9 = mul %3, %7 : float\n"
    "  %10 = add %9, %8 : float\n"
    "  store %y[%4], %10\n"
    "  br b2\n"
    "b2:  ; preds b0, b1\n"
    "  ret\n"
    "}\n";

/* sum(n) = 0 + 1 + ... + n-1 with phis */
static IrFunc *build_loop(IrModule *m, IrInst **phi_out)
{
    Type *i32 = T(SC_INT);
    IrParam ps[1] = {{"n", i32, {0}}};
    IrFunc *f = ir_func_new(m, "sum", false, i32, ps, 1);
    IrBlock *b0 = ir_block_new(f), *b1 = ir_block_new(f), *b2 = ir_block_new(f),
            *b3 = ir_block_new(f);
    IrInst *n = emit(b0, IR_PARAM, i32, NULL, 0);
    IrInst *zero = cint(b0, i32, 0), *one = cint(b0, i32, 1);
    br(b0, b1);
    IrInst *i = emit(b1, IR_PHI, i32, NULL, 2);
    IrInst *acc = emit(b1, IR_PHI, i32, NULL, 2);
    IrInst *c = emit2(b1, IR_LT, T(SC_BOOL), i, n);
    cbr(b1, c, b2, b3);
    IrInst *acc2 = emit2(b2, IR_ADD, i32, acc, i);
    IrInst *i2 = emit2(b2, IR_ADD, i32, i, one);
    br(b2, b1);
    emit(b3, IR_RET, ty_void, &acc, 1);
    ir_recompute_preds(f);
    /* preds of b1: b0, b2 */
    cr_assert_eq(b1->npreds, 2);
    cr_assert_eq(b1->preds[0], b0);
    i->ops[0] = zero;
    i->ops[1] = i2;
    acc->ops[0] = zero;
    acc->ops[1] = acc2;
    if (phi_out) *phi_out = i;
    return f;
}

/* struct P { float3 pos; float mass; }; float f(P p, float4 v) */
static Type *struct_p(void)
{
    static Type *p;
    if (!p) {
        Field fs[2] = {{"pos", ty_vec(T(SC_FLOAT), 3), 0}, {"mass", T(SC_FLOAT), 0}};
        p = ty_struct("P", fs, 2);
    }
    return p;
}

static IrFunc *build_struct_fn(IrModule *m)
{
    Type *f32 = T(SC_FLOAT), *f4 = ty_vec(f32, 4), *P = struct_p();
    vec_push(m->arena, &m->structs, P);
    IrParam ps[2] = {{"p", P, {0}}, {"v", f4, {0}}};
    IrFunc *f = ir_func_new(m, "weigh", false, f32, ps, 2);
    IrBlock *b = ir_block_new(f);
    IrInst *p = emit(b, IR_PARAM, P, NULL, 0);
    IrInst *v = emit(b, IR_PARAM, f4, NULL, 0);
    v->param = 1;
    IrInst *pos = emit(b, IR_EXTRACT, ty_vec(f32, 3), &p, 1);
    pos->idx = 0;
    IrInst *py = emit(b, IR_EXTRACT, f32, &pos, 1);
    py->idx = 1;
    IrInst *sh = emit(b, IR_SHUFFLE, f4, &v, 1);
    sh->mask[0] = 3, sh->mask[1] = 2, sh->mask[2] = 1, sh->mask[3] = 0;
    IrInst *ins = emit2(b, IR_INSERT, f4, sh, py);
    ins->idx = 2;
    IrInst *w = emit(b, IR_EXTRACT, f32, &ins, 1);
    w->idx = 3;
    IrInst *mass = emit(b, IR_EXTRACT, f32, &p, 1);
    mass->idx = 1;
    IrInst *r = emit2(b, IR_MUL, f32, w, mass);
    IrSlot s = {"tmp", P, {0}};
    vec_push(m->arena, &f->locals, s);
    IrInst *st = emit(b, IR_STORE, ty_void, &r, 1);
    st->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 0, .path = {0, 2}, .npath = 2};
    IrInst *ld = emit(b, IR_LOAD, f32, NULL, 0);
    ld->mem = (IrMemRef){.kind = MEM_LOCAL, .id = 0, .path = {1}, .npath = 1};
    emit(b, IR_RET, ty_void, &ld, 1);
    ir_recompute_preds(f);
    return f;
}

Test(ir, saxpy_verifies_and_prints)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    build_saxpy(m, false);
    char *msg;
    cr_assert(verifies(m, &msg), "%s", msg);
    char *text = print_mod(m);
    cr_assert_str_eq(text, saxpy_text);
    free(text);
    free(msg);
    arena_free(a);
}

Test(ir, print_is_deterministic_across_ids)
{
    Arena *a = arena_new();
    IrModule *m1 = ir_module_new(a), *m2 = ir_module_new(a);
    build_saxpy(m1, false);
    build_saxpy(m2, true);
    char *t1 = print_mod(m1), *t2 = print_mod(m2), *t3 = print_mod(m1);
    cr_assert_str_eq(t1, t2);
    cr_assert_str_eq(t1, t3);
    free(t1);
    free(t2);
    free(t3);
    arena_free(a);
}

Test(ir, loop_with_phis)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    build_loop(m, NULL);
    char *msg;
    cr_assert(verifies(m, &msg), "%s", msg);
    char *text = print_mod(m);
    cr_assert(strstr(text, "  %4 = phi [%2, b0], [%8, b2] : int\n"), "%s", text);
    cr_assert(strstr(text, "func @sum(%n: int) : int {\n"), "%s", text);
    cr_assert(strstr(text, "  ret %5\n"), "%s", text);
    free(text);
    free(msg);
    arena_free(a);
}

Test(ir, struct_vector_function)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    build_struct_fn(m);
    char *msg;
    cr_assert(verifies(m, &msg), "%s", msg);
    char *text = print_mod(m);
    cr_assert(strstr(text, "shuffle %3, <3,2,1,0> : float4"), "%s", text);
    cr_assert(strstr(text, "store @tmp.f0.c2, %"), "%s", text);
    cr_assert(strstr(text, "load @tmp.f1 : float"), "%s", text);
    cr_assert(strstr(text, "struct P { pos: float3; mass: float; }"), "%s", text);
    free(text);
    free(msg);
    arena_free(a);
}

Test(ir, mem_type_walks_dims_and_path)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = build_struct_fn(m);
    IrSlot arr = {"arr", ty_array(ty_array(struct_p(), 4), 8), {0}};
    vec_push(a, &f->locals, arr);
    IrMemRef r = {.kind = MEM_LOCAL, .id = 1, .nidx = 2, .path = {0, 1}, .npath = 2};
    cr_assert_eq(ir_mem_type(f, &r), T(SC_FLOAT));
    r.nidx = 1;
    cr_assert_null(ir_mem_type(f, &r));
    r.nidx = 2;
    r.path[1] = 3; /* float3 has components 0..2 */
    cr_assert_null(ir_mem_type(f, &r));
    arena_free(a);
}

Test(ir, verify_rejects_missing_terminator)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = build_saxpy(m, false);
    ir_remove(f->blocks.data[2]->last);
    emit(f->blocks.data[2], IR_BARRIER, ty_void, NULL, 0);
    char *msg;
    cr_assert_not(verifies(m, &msg));
    cr_assert(strstr(msg, "@saxpy") && strstr(msg, "does not end with a terminator"), "%s", msg);
    free(msg);
    arena_free(a);
}

Test(ir, verify_rejects_type_mismatch)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = build_saxpy(m, false);
    IrBlock *b1 = f->blocks.data[1];
    IrInst *gid = f->blocks.data[0]->first->next;
    /* the add's second operand becomes the uint global id */
    for (IrInst *i = b1->first; i; i = i->next)
        if (i->op == IR_ADD) i->ops[1] = gid;
    char *msg;
    cr_assert_not(verifies(m, &msg));
    cr_assert(strstr(msg, "operand types differ") && strstr(msg, "add"), "%s", msg);
    free(msg);
    arena_free(a);
}

Test(ir, verify_rejects_use_before_def)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = build_saxpy(m, false);
    IrBlock *b1 = f->blocks.data[1];
    IrInst *mul = NULL;
    for (IrInst *i = b1->first; i; i = i->next)
        if (i->op == IR_MUL) mul = i;
    ir_remove(mul);
    ir_insert_before(b1->first, mul); /* now before the load it uses */
    char *msg;
    cr_assert_not(verifies(m, &msg));
    cr_assert(strstr(msg, "used before its definition"), "%s", msg);
    free(msg);

    /* a value of b1 used in b2 (b1 does not dominate b2) */
    IrModule *m2 = ir_module_new(a);
    IrFunc *g = build_saxpy(m2, false);
    IrInst *ld = g->blocks.data[1]->first;
    IrInst *bad = ir_inst_new(g, IR_NEG, T(SC_FLOAT), &ld, 1);
    ir_insert_before(g->blocks.data[2]->first, bad);
    cr_assert_not(verifies(m2, &msg));
    cr_assert(strstr(msg, "does not dominate"), "%s", msg);
    free(msg);
    arena_free(a);
}

Test(ir, verify_rejects_bad_phi_count)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrInst *phi;
    build_loop(m, &phi);
    phi->nops = 1;
    char *msg;
    cr_assert_not(verifies(m, &msg));
    cr_assert(strstr(msg, "phi has 1 operands for 2 predecessors"), "%s", msg);
    free(msg);
    arena_free(a);
}

Test(ir, verify_rejects_stale_preds_and_bad_call)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = build_saxpy(m, false);
    f->blocks.data[2]->npreds = 1; /* drops b1 */
    char *msg;
    cr_assert_not(verifies(m, &msg));
    cr_assert(strstr(msg, "not in the predecessor list"), "%s", msg);
    free(msg);

    IrModule *m2 = ir_module_new(a), *other = ir_module_new(a);
    IrFunc *g = build_saxpy(m2, false);
    IrFunc *h = build_struct_fn(other);
    IrInst *call = ir_inst_new(g, IR_CALL, T(SC_FLOAT), NULL, 0);
    call->callee = h;
    ir_insert_before(g->blocks.data[2]->first, call);
    cr_assert_not(verifies(m2, &msg));
    cr_assert(strstr(msg, "outside the module"), "%s", msg);
    free(msg);
    arena_free(a);
}

Test(ir, verify_checks_memory_and_pipelines)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = build_saxpy(m, false);
    /* store to the const buffer x */
    for (IrInst *i = f->blocks.data[1]->first; i; i = i->next)
        if (i->op == IR_STORE) i->mem.id = 1;
    char *msg;
    cr_assert_not(verifies(m, &msg));
    cr_assert(strstr(msg, "store to a const buffer"), "%s", msg);
    free(msg);

    IrModule *m2 = ir_module_new(a);
    IrFunc *k = build_saxpy(m2, false);
    Type *f32 = T(SC_FLOAT);
    IrPipeline *p = arena_alloc(a, sizeof *p);
    p->name = "pl";
    IrParam pp[2] = {{"s", f32, {0}}, {"x", ty_buffer(f32, true), {0}}};
    p->params = pp;
    p->nparams = 2;
    IrSlot t = {"t", ty_buffer(f32, false), {0}};
    vec_push(a, &p->temps, t);
    p->nregs = 1;
    IrPStep s1 = {.kind = PS_LEN, .dst = 0, .a = 1};
    IrPStep s2 = {.kind = PS_ALLOC, .a = 2, .b = 0, .type = f32};
    IrPArg args[3] = {{PA_PARAM, 0, NULL}, {PA_BUF, 1, NULL}, {PA_BUF, 2, NULL}};
    IrPStep s3 = {.kind = PS_LAUNCH, .kernel = k, .ndims = 1, .args = args, .nargs = 3};
    IrPStep s4 = {.kind = PS_FREE, .a = 2};
    vec_push(a, &p->steps, s1);
    vec_push(a, &p->steps, s2);
    vec_push(a, &p->steps, s3);
    vec_push(a, &p->steps, s4);
    vec_push(a, &m2->pipelines, p);
    cr_assert(verifies(m2, &msg), "%s", msg);
    free(msg);
    char *text = print_mod(m2);
    cr_assert(strstr(text, "pipeline @pl(%s: float, %x: const float[]) regs(1) {\n"
                           "  temp @t: float[]\n"
                           "  r0 = len %x\n"
                           "  alloc @t, r0 : float\n"
                           "  launch @saxpy<<<r0>>>(%s, %x, @t)\n"
                           "  free @t\n"
                           "}\n"),
              "%s", text);
    free(text);
    /* the const buffer x passed where saxpy writes (y) */
    args[2] = (IrPArg){PA_BUF, 1, NULL};
    cr_assert_not(verifies(m2, &msg));
    cr_assert(strstr(msg, "pipeline @pl step 2") && strstr(msg, "does not fit"), "%s", msg);
    free(msg);
    arena_free(a);
}

Test(ir, dominators)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = build_loop(m, NULL);
    IrDom *d = ir_dom_compute(a, f);
    IrBlock **b = f->blocks.data;
    cr_assert_eq(d->n, 4);
    cr_assert(ir_dominates(d, b[0], b[3]));
    cr_assert(ir_dominates(d, b[1], b[2]));
    cr_assert(ir_dominates(d, b[1], b[1]));
    cr_assert_not(ir_dominates(d, b[2], b[3]));
    cr_assert_not(ir_dominates(d, b[2], b[1]));
    IrDomFrontier *df = ir_dom_frontier(a, d);
    int r2 = d->rpo_index[b[2]->id];
    cr_assert_eq(df->ndf[r2], 1);
    cr_assert_eq(d->rpo[df->df[r2][0]], b[1]);
    arena_free(a);
}

Test(ir, remove_unreachable_fixes_phis)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = build_loop(m, NULL);
    /* b2 (the loop body) becomes unreachable: b1 always exits */
    IrBlock *b1 = f->blocks.data[1], *b3 = f->blocks.data[3];
    IrInst *t = b1->last;
    t->op = IR_BR;
    t->nops = 0;
    t->target[0] = b3;
    ir_recompute_preds(f);
    ir_remove_unreachable_blocks(f);
    cr_assert_eq(f->blocks.len, 3);
    cr_assert_eq(b1->npreds, 1);
    cr_assert_eq(b1->first->nops, 1);
    char *msg;
    cr_assert(verifies(m, &msg), "%s", msg);
    free(msg);
    arena_free(a);
}

Test(ir, constants_and_cross_lane)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = build_saxpy(m, false);
    IrInst *k = ir_const_int(f, T(SC_UCHAR), 0x1ff);
    cr_assert_eq(k->imm.i, 0xff);
    cr_assert_null(k->block);
    IrInst *h = ir_const_float(f, T(SC_HALF), 1.0 / 3.0);
    cr_assert_float_eq(h->imm.f, 0.333251953125, 0);
    IrInst *fl = ir_const_float(f, T(SC_FLOAT), 0.1);
    cr_assert(fl->imm.f == (double)0.1f);
    IrInst *sg = ir_inst_new(f, IR_BUILTIN, T(SC_FLOAT), &fl, 1);
    sg->builtin = BI_SUBGROUP_ADD;
    cr_assert(ir_is_cross_lane(sg));
    sg->builtin = BI_SQRT;
    cr_assert_not(ir_is_cross_lane(sg));
    arena_free(a);
}

Test(ir, recompute_preds_permutes_phis)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrInst *phi;
    IrFunc *f = build_loop(m, &phi);
    IrBlock *b1 = f->blocks.data[1];
    /* reverse b1's preds (and the phi operands with them): recompute restores the order */
    IrBlock *t = b1->preds[0];
    b1->preds[0] = b1->preds[1];
    b1->preds[1] = t;
    for (IrInst *p = b1->first; p->op == IR_PHI; p = p->next) {
        IrInst *o = p->ops[0];
        p->ops[0] = p->ops[1];
        p->ops[1] = o;
    }
    IrInst *zero = phi->ops[1];
    ir_recompute_preds(f);
    cr_assert_eq(b1->preds[0], f->blocks.data[0]);
    cr_assert_eq(phi->ops[0], zero);
    char *msg;
    cr_assert(verifies(m, &msg), "%s", msg);
    free(msg);
    arena_free(a);
}
