/* cg_common.c: target-neutral helpers shared by the backends and the package writer.
 *
 * The target table, kernel numbering (kernels in module->funcs order), parameter
 * reflection, the shared-memory layout of a kernel (arrays in declaration order, each at
 * its natural alignment) and the encoding of pipelines into the dck_pop register program
 * of abi/dck_abi.h.
 */
#include "cg.h"

#include <string.h>

static const CgTarget *const targets[] = {
    &cg_target_c,   &cg_target_opencl, &cg_target_cuda,
    &cg_target_msl, &cg_target_ptx,    &cg_target_spirv,
};

const CgTarget *cg_find_target(const char *name)
{
    if (!name) return NULL;
    for (int i = 0; i < ARRAY_LEN(targets); i++)
        if (strcmp(targets[i]->name, name) == 0) return targets[i];
    return NULL;
}

int cg_kernel_index(const IrModule *m, const IrFunc *f)
{
    int k = 0;
    for (int i = 0; i < m->funcs.len; i++) {
        const IrFunc *g = m->funcs.data[i];
        if (!g->is_kernel) continue;
        if (g == f) return k;
        k++;
    }
    return -1;
}

CgParamInfo cg_param_info(const IrParam *p)
{
    CgParamInfo info = {0};
    Type *t = p->type;
    if (t->kind == TY_BUFFER) {
        info.kind = DCK_ABI_PARAM_BUFFER;
        info.is_const = t->is_const ? 1u : 0u;
        t = t->elem;
    } else {
        info.kind = DCK_ABI_PARAM_VALUE;
    }
    if (t->kind == TY_STRUCT) {
        info.scalar = DCK_ABI_STRUCT;
        info.vec = 1;
    } else {
        /* types.def and enum dck_abi_scalar list the scalars in the same order */
        info.scalar = (uint32_t)ty_elem(t)->scalar;
        info.vec = (uint32_t)ty_width(t);
    }
    info.size = t->size;
    info.align = t->align;
    info.type_name = t->name;
    return info;
}

static uint32_t align_up(uint32_t x, uint32_t a)
{
    if (a <= 1) return x;
    return (x + a - 1) / a * a;
}

uint32_t cg_shared_offset(const IrFunc *f, int idx)
{
    uint32_t off = 0;
    for (int i = 0; i < f->shared.len; i++) {
        const Type *t = f->shared.data[i].type;
        off = align_up(off, t->align);
        if (i == idx) return off;
        off += t->size;
    }
    return off;
}

uint32_t cg_shared_bytes(const IrFunc *f) { return cg_shared_offset(f, f->shared.len); }

static bool is_subgroup_builtin(BuiltinId b)
{
    return builtin_info[b].cls == BK_SG0 || builtin_info[b].cls == BK_SG1 ||
           builtin_info[b].cls == BK_SGLANE;
}

uint32_t cg_kernel_flags(const IrFunc *f, bool checked)
{
    uint32_t flags = checked ? DCK_ABI_KERNEL_CHECKED : 0u;
    for (int b = 0; b < f->blocks.len; b++) {
        for (const IrInst *i = f->blocks.data[b]->first; i; i = i->next) {
            if (i->op == IR_BARRIER) flags |= DCK_ABI_KERNEL_BARRIER;
            if (i->op == IR_ATOMIC) flags |= DCK_ABI_KERNEL_ATOMICS;
            if (i->op == IR_WORKITEM && i->dim == 1) flags |= DCK_ABI_KERNEL_DIM_Y;
            if (i->op == IR_WORKITEM && i->dim == 2) flags |= DCK_ABI_KERNEL_DIM_Z;
            if (i->op == IR_BUILTIN && i->builtin > BI_NONE && i->builtin < BI_COUNT &&
                is_subgroup_builtin(i->builtin))
                flags |= DCK_ABI_KERNEL_SUBGROUP;
        }
    }
    return flags;
}

/* Words each step occupies in the encoded program (labels take none). */
static uint32_t step_words(const IrPStep *s)
{
    switch (s->kind) {
    case PS_CONST: return 3;
    case PS_PARAM: return 3;
    case PS_LEN: return 3;
    case PS_BIN: return 5;
    case PS_UN: return 4;
    case PS_ALLOC: return 4;
    case PS_LAUNCH: return 11 + 3 * (uint32_t)s->nargs;
    case PS_FREE: return 2;
    case PS_LABEL: return 0;
    case PS_JMP: return 2;
    case PS_JZ: return 3;
    }
    ICE("unknown pipeline step kind %d", (int)s->kind);
}

static uint32_t scalar_code(const Type *t)
{
    if (!t) return 0;
    if (t->kind == TY_STRUCT) return DCK_ABI_STRUCT;
    return (uint32_t)ty_elem((Type *)t)->scalar;
}

#define PUSH(w) vec_push(a, code, (uint32_t)(w))

void cg_encode_pipeline(const IrModule *m, const IrPipeline *p, CgWords *code, CgConsts *consts,
                        Arena *a)
{
    /* pass 1: word offset of every label */
    int nlabels = 0;
    for (int i = 0; i < p->steps.len; i++) {
        const IrPStep *s = &p->steps.data[i];
        if (s->kind == PS_LABEL || s->kind == PS_JMP || s->kind == PS_JZ) {
            ICE_ASSERT(s->a >= 0);
            if (s->a + 1 > nlabels) nlabels = s->a + 1;
        }
    }
    uint32_t *label_at = arena_alloc(a, sizeof *label_at * (size_t)(nlabels + 1));
    bool *label_seen = arena_alloc(a, sizeof *label_seen * (size_t)(nlabels + 1));
    uint32_t pos = (uint32_t)code->len;
    for (int i = 0; i < p->steps.len; i++) {
        const IrPStep *s = &p->steps.data[i];
        if (s->kind == PS_LABEL) {
            label_at[s->a] = pos;
            label_seen[s->a] = true;
        }
        pos += step_words(s);
    }

    /* pass 2: the words */
    for (int i = 0; i < p->steps.len; i++) {
        const IrPStep *s = &p->steps.data[i];
        switch (s->kind) {
        case PS_CONST: {
            int k = -1;
            for (int c = 0; c < consts->len; c++)
                if (consts->data[c] == s->imm) {
                    k = c;
                    break;
                }
            if (k < 0) {
                k = consts->len;
                vec_push(a, consts, s->imm);
            }
            PUSH(DCK_POP_CONST);
            PUSH(s->dst);
            PUSH(k);
            break;
        }
        case PS_PARAM:
            PUSH(DCK_POP_PARAM);
            PUSH(s->dst);
            PUSH(s->a);
            break;
        case PS_LEN:
            PUSH(DCK_POP_LEN);
            PUSH(s->dst);
            PUSH(s->a);
            break;
        case PS_BIN:
            PUSH(DCK_POP_BIN);
            PUSH(s->op);
            PUSH(s->dst);
            PUSH(s->a);
            PUSH(s->b);
            break;
        case PS_UN:
            PUSH(DCK_POP_UN);
            PUSH(s->op);
            PUSH(s->dst);
            PUSH(s->a);
            break;
        case PS_ALLOC:
            ICE_ASSERT(s->type != NULL);
            PUSH(DCK_POP_ALLOC);
            PUSH(s->a);
            PUSH(s->type->size);
            PUSH(s->b);
            break;
        case PS_LAUNCH: {
            int k = cg_kernel_index(m, s->kernel);
            ICE_ASSERT(k >= 0 && s->ndims >= 1 && s->ndims <= 3);
            PUSH(DCK_POP_LAUNCH);
            PUSH(k);
            PUSH(s->ndims);
            for (int d = 0; d < 3; d++) PUSH(d < s->ndims ? s->global[d] : 0);
            PUSH(s->has_local ? 1 : 0);
            for (int d = 0; d < 3; d++) PUSH(s->has_local && d < s->ndims ? s->local[d] : 0);
            PUSH(s->nargs);
            for (int j = 0; j < s->nargs; j++) {
                const IrPArg *g = &s->args[j];
                uint32_t kind = g->kind == PA_BUF     ? DCK_POPA_BUF
                                : g->kind == PA_PARAM ? DCK_POPA_PARAM
                                                      : DCK_POPA_REG;
                PUSH(kind);
                PUSH(g->x);
                PUSH(scalar_code(g->type));
            }
            break;
        }
        case PS_FREE:
            PUSH(DCK_POP_FREE);
            PUSH(s->a);
            break;
        case PS_LABEL: break;
        case PS_JMP:
            ICE_ASSERT(label_seen[s->a]);
            PUSH(DCK_POP_JMP);
            PUSH(label_at[s->a]);
            break;
        case PS_JZ:
            ICE_ASSERT(label_seen[s->a]);
            PUSH(DCK_POP_JZ);
            PUSH(s->b);
            PUSH(label_at[s->a]);
            break;
        }
    }
    PUSH(DCK_POP_END);
}

#undef PUSH

AbiBlock cg_scalar_block(Arena *a, const IrFunc *f, uint32_t **value_off, uint32_t **len_off)
{
    size_t n = f->nparams ? (size_t)f->nparams : 1;
    dck_abi_param *ps = arena_alloc(a, sizeof *ps * n);
    for (int p = 0; p < f->nparams; p++) {
        const Type *t = f->params[p].type;
        ps[p].kind = t->kind == TY_BUFFER ? DCK_ABI_PARAM_BUFFER : DCK_ABI_PARAM_VALUE;
        ps[p].size = t->size;
        ps[p].align = t->align;
    }
    uint32_t *vo = value_off ? arena_alloc(a, sizeof *vo * n) : NULL;
    uint32_t *lo = len_off ? arena_alloc(a, sizeof *lo * n) : NULL;
    if (value_off) *value_off = vo;
    if (len_off) *len_off = lo;
    return abi_scalar_block(ps, (uint32_t)f->nparams, vo, lo);
}
