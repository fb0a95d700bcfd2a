/* ir_build.h: small helpers for unit tests that build IR by hand (test_ir, test_passes,
 * test_ifconv, test_uniform). Each builder appends a new instruction to the end of block b
 * and returns it; verify_ok and count_ops check a result (Criterion assertions). */
#ifndef DCK_TEST_IR_BUILD_H
#define DCK_TEST_IR_BUILD_H

#include <criterion/criterion.h>

#include "compiler/ir.h"

static inline Type *T(ScalarId s) { return ty_scalar(s); }

static inline IrInst *emit(IrBlock *b, IrOp op, Type *t, IrInst **ops, int n)
{
    IrInst *i = ir_inst_new(b->func, op, t, ops, n);
    ir_append(b, i);
    return i;
}

static inline IrInst *emit2(IrBlock *b, IrOp op, Type *t, IrInst *x, IrInst *y)
{
    IrInst *ops[2] = {x, y};
    return emit(b, op, t, ops, 2);
}

static inline IrInst *br(IrBlock *b, IrBlock *to)
{
    IrInst *i = emit(b, IR_BR, ty_void, NULL, 0);
    i->target[0] = to;
    return i;
}

static inline IrInst *cbr(IrBlock *b, IrInst *c, IrBlock *t, IrBlock *f)
{
    IrInst *i = emit(b, IR_CBR, ty_void, &c, 1);
    i->target[0] = t;
    i->target[1] = f;
    return i;
}

static inline IrInst *cint(IrBlock *b, Type *t, uint64_t v)
{
    IrInst *i = ir_const_int(b->func, t, v);
    ir_append(b, i);
    return i;
}

/* the value of parameter k of b's function */
static inline IrInst *param_at(IrBlock *b, int k)
{
    IrInst *i = emit(b, IR_PARAM, b->func->params[k].type, NULL, 0);
    i->param = k;
    return i;
}

/* buffer parameter buf [idx] = v */
static inline IrInst *store_buf(IrBlock *b, int buf, IrInst *idx, IrInst *v)
{
    IrInst *s = emit2(b, IR_STORE, ty_void, idx, v);
    s->mem = (IrMemRef){.kind = MEM_BUFFER, .id = buf, .nidx = 1};
    return s;
}

/* the verifier accepts m (else the failure shows its messages and the module) */
static inline void verify_ok(IrModule *m)
{
    StrBuf sb = {0};
    bool ok = ir_verify_module(m, &sb);
    StrBuf txt = {0};
    if (!ok) ir_print_module(&txt, m);
    cr_assert(ok, "%s\n%s", sb.data ? sb.data : "", txt.data ? txt.data : "");
    sb_free(&sb);
    sb_free(&txt);
}

static inline int count_ops(const IrFunc *f, IrOp op)
{
    int n = 0;
    for (int b = 0; b < f->blocks.len; b++)
        for (IrInst *i = f->blocks.data[b]->first; i; i = i->next) n += i->op == op;
    return n;
}

#endif
