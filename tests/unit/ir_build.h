/* ir_build.h: small helpers for unit tests that build IR by hand (test_ir, test_passes).
 * Each appends a new instruction to the end of block b and returns it. */
#ifndef DCK_TEST_IR_BUILD_H
#define DCK_TEST_IR_BUILD_H

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

#endif
