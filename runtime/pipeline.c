/* pipeline.c: the interpreter of dck_abi_pipeline register programs (dck_abi.h).
 *
 * Backend-independent: temporaries are ordinary buffers from the context's pool and every
 * LAUNCH goes through rt_launch_kernel, so its arguments are checked like a user's; the device
 * events of the first and last launch, when asked for, time the whole run (rt.h). The
 * program is untrusted input: every word read is checked against ncode, every register,
 * constant, slot, parameter and kernel index against its table, so a malformed program is a
 * DCK_ERROR_INVALID_PROGRAM naming the pipeline and the word offset, never an out-of-bounds
 * read. Integer registers hold int64 (unsigned values zero-extended); float registers hold
 * IEEE double bit patterns. LAUNCH's g0..g2 and l0..l2 are register numbers (words for
 * dimensions >= ndims, and l0..l2 when has_local is 0, are ignored).
 */
#include "rt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct Interp {
    dck_queue q;
    dck_kernel pk;
    const dck_abi_pipeline *p;
    void *const *vals;
    uint64_t *regs;
    dck_buffer *slots; /* nparams + ntemps */
    uint32_t nslots;
    uint32_t pc;       /* offset of the instruction being executed */
    RtDevEvent **span; /* NULL, or the device events of the first and last launch */
} Interp;

static dck_status bad(Interp *in, const char *fmt, const char *detail, uint32_t v)
{
    char what[256];
    snprintf(what, sizeof what, fmt, detail, v);
    return rt_error(DCK_ERROR_INVALID_PROGRAM, "malformed program of pipeline '%s' at word %u: %s",
                    in->p->name, in->pc, what);
}

static double as_f(uint64_t r)
{
    double d;
    memcpy(&d, &r, 8);
    return d;
}

static uint64_t from_f(double d)
{
    uint64_t r;
    memcpy(&r, &d, 8);
    return r;
}

static int64_t f2s(double d)
{
    if (d != d) return 0;
    if (d <= -9223372036854775808.0) return INT64_MIN;
    if (d >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)d;
}

static uint64_t f2u(double d)
{
    if (!(d > 0)) return 0;
    if (d >= 18446744073709551616.0) return UINT64_MAX;
    return (uint64_t)d;
}

static bool binop(uint32_t op, uint64_t a, uint64_t b, uint64_t *out, const char **err)
{
    int64_t sa = (int64_t)a, sb = (int64_t)b;
    double fa = as_f(a), fb = as_f(b);
    switch (op) {
    case DCK_POPB_IADD: *out = a + b; break;
    case DCK_POPB_ISUB: *out = a - b; break;
    case DCK_POPB_IMUL: *out = a * b; break;
    case DCK_POPB_SDIV:
    case DCK_POPB_SREM:
        if (!sb) {
            *err = "integer division by zero";
            return false;
        }
        if (sa == INT64_MIN && sb == -1)
            *out = op == DCK_POPB_SDIV ? (uint64_t)INT64_MIN : 0;
        else
            *out = (uint64_t)(op == DCK_POPB_SDIV ? sa / sb : sa % sb);
        break;
    case DCK_POPB_UDIV:
    case DCK_POPB_UREM:
        if (!b) {
            *err = "integer division by zero";
            return false;
        }
        *out = op == DCK_POPB_UDIV ? a / b : a % b;
        break;
    case DCK_POPB_SHL: *out = a << (b & 63); break;
    case DCK_POPB_SSHR: *out = (uint64_t)(sa < 0 ? ~(~sa >> (b & 63)) : sa >> (b & 63)); break;
    case DCK_POPB_USHR: *out = a >> (b & 63); break;
    case DCK_POPB_AND: *out = a & b; break;
    case DCK_POPB_OR: *out = a | b; break;
    case DCK_POPB_XOR: *out = a ^ b; break;
    case DCK_POPB_SMIN: *out = (uint64_t)(sa < sb ? sa : sb); break;
    case DCK_POPB_UMIN: *out = a < b ? a : b; break;
    case DCK_POPB_SMAX: *out = (uint64_t)(sa > sb ? sa : sb); break;
    case DCK_POPB_UMAX: *out = a > b ? a : b; break;
    case DCK_POPB_IEQ: *out = a == b; break;
    case DCK_POPB_INE: *out = a != b; break;
    case DCK_POPB_SLT: *out = sa < sb; break;
    case DCK_POPB_ULT: *out = a < b; break;
    case DCK_POPB_SLE: *out = sa <= sb; break;
    case DCK_POPB_ULE: *out = a <= b; break;
    case DCK_POPB_FADD: *out = from_f(fa + fb); break;
    case DCK_POPB_FSUB: *out = from_f(fa - fb); break;
    case DCK_POPB_FMUL: *out = from_f(fa * fb); break;
    case DCK_POPB_FDIV: *out = from_f(fa / fb); break;
    case DCK_POPB_FMIN: *out = from_f(fmin(fa, fb)); break;
    case DCK_POPB_FMAX: *out = from_f(fmax(fa, fb)); break;
    case DCK_POPB_FEQ: *out = fa == fb; break;
    case DCK_POPB_FNE: *out = fa != fb; break;
    case DCK_POPB_FLT: *out = fa < fb; break;
    case DCK_POPB_FLE: *out = fa <= fb; break;
    default: *err = "unknown binary operator"; return false;
    }
    return true;
}

static bool unop(uint32_t op, uint64_t a, uint64_t *out)
{
    switch (op) {
    case DCK_POPU_INEG: *out = (uint64_t)0 - a; break;
    case DCK_POPU_NOT: *out = ~a; break;
    case DCK_POPU_LNOT: *out = a == 0; break;
    case DCK_POPU_FNEG: *out = from_f(-as_f(a)); break;
    case DCK_POPU_S2F: *out = from_f((double)(int64_t)a); break;
    case DCK_POPU_U2F: *out = from_f((double)a); break;
    case DCK_POPU_F2S: *out = (uint64_t)f2s(as_f(a)); break;
    case DCK_POPU_F2U: *out = f2u(as_f(a)); break;
    case DCK_POPU_TRUNC32S: *out = (uint64_t)(int64_t)(int32_t)(uint32_t)a; break;
    case DCK_POPU_TRUNC32U: *out = (uint32_t)a; break;
    case DCK_POPU_F2F32: *out = from_f((double)(float)as_f(a)); break;
    case DCK_POPU_MOV: *out = a; break;
    default: return false;
    }
    return true;
}

/* A by-value scalar parameter widened to a register. */
static bool param_to_reg(const dck_abi_param *prm, const void *v, uint64_t *out)
{
    if (prm->kind != DCK_ABI_PARAM_VALUE || prm->vec != 1) return false;
    union {
        int8_t i8;
        uint8_t u8;
        int16_t i16;
        uint16_t u16;
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
        float f;
        double d;
    } x;
    memset(&x, 0, sizeof x);
    switch (prm->scalar) {
    case DCK_ABI_BOOL:
        memcpy(&x, v, 1);
        *out = x.u8 != 0;
        break;
    case DCK_ABI_I8:
        memcpy(&x, v, 1);
        *out = (uint64_t)(int64_t)x.i8;
        break;
    case DCK_ABI_U8:
        memcpy(&x, v, 1);
        *out = x.u8;
        break;
    case DCK_ABI_I16:
        memcpy(&x, v, 2);
        *out = (uint64_t)(int64_t)x.i16;
        break;
    case DCK_ABI_U16:
        memcpy(&x, v, 2);
        *out = x.u16;
        break;
    case DCK_ABI_I32:
        memcpy(&x, v, 4);
        *out = (uint64_t)(int64_t)x.i32;
        break;
    case DCK_ABI_U32:
        memcpy(&x, v, 4);
        *out = x.u32;
        break;
    case DCK_ABI_I64:
    case DCK_ABI_U64:
        memcpy(&x, v, 8);
        *out = x.u64;
        break;
    case DCK_ABI_F16:
        memcpy(&x, v, 2);
        *out = from_f((double)rt_f16_to_f32(x.u16));
        break;
    case DCK_ABI_F32:
        memcpy(&x, v, 4);
        *out = from_f((double)x.f);
        break;
    case DCK_ABI_F64:
        memcpy(&x, v, 8);
        *out = x.u64;
        break;
    default: return false;
    }
    return true;
}

/* A register converted to scalar `t` as a typed launch argument. */
static bool reg_to_arg(uint64_t r, uint32_t t, dck_arg *a)
{
    memset(a, 0, sizeof *a);
    a->kind = DCK_ARG_VALUE;
    a->type = (dck_type)t;
    a->vec = 1;
    a->size = rt_type_size((dck_type)t);
    double d = as_f(r);
    switch (t) {
    case DCK_ABI_BOOL: a->v.bytes[0] = r != 0; break;
    case DCK_ABI_I8:
    case DCK_ABI_U8: a->v.bytes[0] = (uint8_t)r; break;
    case DCK_ABI_I16:
    case DCK_ABI_U16: {
        uint16_t v = (uint16_t)r;
        memcpy(a->v.bytes, &v, 2);
        break;
    }
    case DCK_ABI_I32:
    case DCK_ABI_U32: a->v.u32 = (uint32_t)r; break;
    case DCK_ABI_I64:
    case DCK_ABI_U64: a->v.u64 = r; break;
    case DCK_ABI_F16: {
        uint16_t h = rt_f32_to_f16((float)d);
        memcpy(a->v.bytes, &h, 2);
        break;
    }
    case DCK_ABI_F32: a->v.f32 = (float)d; break;
    case DCK_ABI_F64: a->v.f64 = d; break;
    default: return false;
    }
    return true;
}

#define NEED(n)                                                                             \
    do {                                                                                    \
        if ((uint64_t)pc + (n) > ncode) {                                                   \
            return bad(in, "%sinstruction truncated by the end of the code (%u words)", "", \
                       ncode);                                                              \
        }                                                                                   \
    } while (0)
#define REG(r)                                                                      \
    do {                                                                            \
        if ((r) >= p->nregs) return bad(in, "%sregister %u out of range", "", (r)); \
    } while (0)

static dck_status do_launch(Interp *in, uint32_t pc, uint32_t *next_pc)
{
    const dck_abi_pipeline *p = in->p;
    const uint32_t *c = p->code, ncode = p->ncode;
    dck_module m = in->pk->module;
    NEED(11);
    uint32_t kidx = c[pc + 1], ndims = c[pc + 2], has_local = c[pc + 6], nargs = c[pc + 10];
    if (kidx >= m->abi->nkernels) return bad(in, "%skernel index %u out of range", "", kidx);
    if (ndims < 1 || ndims > 3) return bad(in, "%sLAUNCH with %u dimensions", "", ndims);
    if (nargs > ncode) return bad(in, "%sLAUNCH with %u arguments", "", nargs);
    NEED(11 + 3 * (uint64_t)nargs);
    dck_range range;
    memset(&range, 0, sizeof range);
    range.dims = ndims;
    for (uint32_t d = 0; d < ndims; d++) {
        uint32_t g = c[pc + 3 + d], l = c[pc + 7 + d];
        REG(g);
        if (in->regs[g] > UINT32_MAX)
            return rt_error(DCK_ERROR_INVALID_RANGE,
                            "pipeline '%s' (line %u): launch of kernel '%s' over %lld "
                            "work-items in dimension %u (at most 4294967295)",
                            p->name, p->line, m->kernels[kidx].name, (long long)in->regs[g], d);
        range.global[d] = (uint32_t)in->regs[g];
        if (has_local) {
            REG(l);
            if (in->regs[l] == 0 || in->regs[l] > UINT32_MAX)
                return rt_error(DCK_ERROR_INVALID_RANGE,
                                "pipeline '%s' (line %u): launch of kernel '%s' with "
                                "local size %lld in dimension %u",
                                p->name, p->line, m->kernels[kidx].name, (long long)in->regs[l], d);
            range.local[d] = (uint32_t)in->regs[l];
        }
    }
    dck_context ctx = in->q->ctx;
    dck_arg *args = rt_calloc(ctx, (nargs ? nargs : 1) * sizeof *args);
    if (!args)
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory running pipeline '%s'", p->name);
    dck_status st = DCK_SUCCESS;
    for (uint32_t i = 0; i < nargs && !st; i++) {
        uint32_t kind = c[pc + 11 + 3 * i], x = c[pc + 12 + 3 * i], t = c[pc + 13 + 3 * i];
        in->pc = pc;
        if (kind == DCK_POPA_BUF) {
            if (x >= in->nslots)
                st = bad(in, "%sbuffer slot %u out of range", "", x);
            else if (!in->slots[x])
                st = bad(in, "%sbuffer slot %u used before ALLOC or after FREE", "", x);
            else
                args[i] = dck_arg_buffer(in->slots[x]);
        } else if (kind == DCK_POPA_PARAM) {
            if (x >= p->nparams || p->params[x].kind != DCK_ABI_PARAM_VALUE) {
                st =
                    bad(in, "%sLAUNCH argument names %u, which is not a by-value parameter", "", x);
            } else {
                const dck_abi_param *prm = &p->params[x];
                args[i].kind = DCK_ARG_VALUE;
                args[i].vec = prm->vec;
                args[i].size = prm->size;
                args[i].ptr = in->vals[x];
                if (prm->scalar == DCK_ABI_STRUCT) {
                    args[i].type = DCK_TYPE_STRUCT;
                    args[i].type_name = prm->type_name;
                } else {
                    args[i].type = (dck_type)prm->scalar;
                }
            }
        } else if (kind == DCK_POPA_REG) {
            if (x >= p->nregs)
                st = bad(in, "%sregister %u out of range", "", x);
            else if (!reg_to_arg(in->regs[x], t, &args[i]))
                st = bad(in, "%sscalar type code %u", "", t);
        } else {
            st = bad(in, "%sunknown LAUNCH argument kind %u", "", kind);
        }
    }
    if (!st) {
        RtDevEvent *ev = NULL;
        st = rt_launch_kernel(in->q, &m->kernels[kidx], &range, nargs, args, in->span ? &ev : NULL);
        if (st) rt_error_prefix("in pipeline '%s' (line %u)", p->name, p->line);
        if (ev && !in->span[0]) {
            in->span[0] = ev;
        } else if (ev) {
            rt_devev_unref(ctx, in->span[1]);
            in->span[1] = ev;
        }
    }
    rt_free(ctx, args);
    *next_pc = pc + 11 + 3 * nargs;
    return st;
}

static dck_status run(Interp *in)
{
    const dck_abi_pipeline *p = in->p;
    const uint32_t *c = p->code, ncode = p->ncode;
    uint32_t pc = 0;
    for (;;) {
        in->pc = pc;
        NEED(1);
        switch (c[pc]) {
        case DCK_POP_END: return DCK_SUCCESS;
        case DCK_POP_CONST: {
            NEED(3);
            uint32_t dst = c[pc + 1], k = c[pc + 2];
            REG(dst);
            if (k >= p->nconsts) return bad(in, "%sconstant %u out of range", "", k);
            in->regs[dst] = p->consts[k];
            pc += 3;
            break;
        }
        case DCK_POP_PARAM: {
            NEED(3);
            uint32_t dst = c[pc + 1], x = c[pc + 2];
            REG(dst);
            if (x >= p->nparams || !param_to_reg(&p->params[x], in->vals[x], &in->regs[dst]))
                return bad(in, "%sPARAM %u is not a by-value scalar parameter", "", x);
            pc += 3;
            break;
        }
        case DCK_POP_LEN: {
            NEED(3);
            uint32_t dst = c[pc + 1], slot = c[pc + 2];
            REG(dst);
            if (slot >= in->nslots || !in->slots[slot])
                return bad(in, "%sLEN of buffer slot %u, which holds no buffer", "", slot);
            in->regs[dst] = in->slots[slot]->count;
            pc += 3;
            break;
        }
        case DCK_POP_BIN: {
            NEED(5);
            uint32_t op = c[pc + 1], dst = c[pc + 2], a = c[pc + 3], b = c[pc + 4];
            REG(dst);
            REG(a);
            REG(b);
            const char *err = NULL;
            if (!binop(op, in->regs[a], in->regs[b], &in->regs[dst], &err)) {
                if (op <= DCK_POPB_FLE)
                    return rt_error(DCK_ERROR_INVALID_RANGE, "pipeline '%s' (line %u): %s", p->name,
                                    p->line, err);
                return bad(in, "%sunknown binary operator %u", "", op);
            }
            pc += 5;
            break;
        }
        case DCK_POP_UN: {
            NEED(4);
            uint32_t op = c[pc + 1], dst = c[pc + 2], a = c[pc + 3];
            REG(dst);
            REG(a);
            if (!unop(op, in->regs[a], &in->regs[dst]))
                return bad(in, "%sunknown unary operator %u", "", op);
            pc += 4;
            break;
        }
        case DCK_POP_ALLOC: {
            NEED(4);
            uint32_t slot = c[pc + 1], es = c[pc + 2], r = c[pc + 3];
            REG(r);
            if (slot < p->nparams || slot >= in->nslots)
                return bad(in, "%sALLOC of slot %u, which is not a temporary", "", slot);
            if (in->slots[slot])
                return bad(in, "%sALLOC of slot %u, which is already allocated", "", slot);
            if (!es) return bad(in, "%sALLOC with element size %u", "", es);
            int64_t n = (int64_t)in->regs[r];
            if (n < 0)
                return rt_error(DCK_ERROR_INVALID_RANGE,
                                "pipeline '%s' (line %u): temporary %u of negative length "
                                "%lld",
                                p->name, p->line, slot - p->nparams, (long long)n);
            char name[96];
            snprintf(name, sizeof name, "%s.t%u", p->name, slot - p->nparams);
            dck_buffer_desc d = {0};
            d.count = (uint64_t)n;
            d.elem_size = es;
            d.type = DCK_TYPE_UNKNOWN;
            d.name = name;
            dck_status st = rt_buffer_new(in->q->ctx, &d, &in->slots[slot]);
            if (st) {
                rt_error_prefix("pipeline '%s' (line %u)", p->name, p->line);
                return st;
            }
            pc += 4;
            break;
        }
        case DCK_POP_LAUNCH: {
            dck_status st = do_launch(in, pc, &pc);
            if (st) return st;
            break;
        }
        case DCK_POP_FREE: {
            NEED(2);
            uint32_t slot = c[pc + 1];
            if (slot < p->nparams || slot >= in->nslots || !in->slots[slot])
                return bad(in, "%sFREE of slot %u, which is not an allocated temporary", "", slot);
            dck_buffer_destroy(in->slots[slot]);
            in->slots[slot] = NULL;
            pc += 2;
            break;
        }
        case DCK_POP_JMP: {
            NEED(2);
            uint32_t t = c[pc + 1];
            if (t >= ncode) return bad(in, "%sjump target %u outside the code", "", t);
            pc = t;
            break;
        }
        case DCK_POP_JZ: {
            NEED(3);
            uint32_t r = c[pc + 1], t = c[pc + 2];
            REG(r);
            if (t >= ncode) return bad(in, "%sjump target %u outside the code", "", t);
            pc = in->regs[r] == 0 ? t : pc + 3;
            break;
        }
        default: return bad(in, "%sunknown opcode %u", "", c[pc]);
        }
    }
}

dck_status rt_pipeline_run(dck_queue q, dck_kernel pk, void *const *vals, const dck_buffer *bufs,
                           RtDevEvent **span)
{
    dck_context ctx = q->ctx;
    const dck_abi_pipeline *p = pk->p;
    Interp in;
    memset(&in, 0, sizeof in);
    in.q = q;
    in.pk = pk;
    in.p = p;
    in.vals = vals;
    in.span = span;
    if (span) span[0] = span[1] = NULL;
    in.nslots = p->nparams + p->ntemps;
    in.regs = rt_calloc(ctx, (p->nregs ? p->nregs : 1) * sizeof *in.regs);
    in.slots = rt_calloc(ctx, (in.nslots ? in.nslots : 1) * sizeof *in.slots);
    dck_status st;
    if (!in.regs || !in.slots) {
        st = rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory running pipeline '%s'", p->name);
    } else {
        for (uint32_t i = 0; i < p->nparams; i++) in.slots[i] = bufs[i];
        st = run(&in);
    }
    if (in.slots)
        for (uint32_t i = p->nparams; i < in.nslots; i++) dck_buffer_destroy(in.slots[i]);
    rt_free(ctx, in.slots);
    rt_free(ctx, in.regs);
    if (span && span[0] && !span[1]) span[1] = rt_devev_ref(ctx, span[0]); /* one launch */
    return st;
}
