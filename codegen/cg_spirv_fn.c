/* cg_spirv_fn.c: one kernel of the SPIR-V backend: its interface (the DCK GPU kernel ABI of
 * the team brief, docs/backends.md) and its function body, printed from the region tree of
 * compiler/ir_cfg.h (phis, and with the selector every value used outside its block, live in
 * Function variables; see plan_vars).
 *
 * Vulkan: buffers are StorageBuffer blocks at set 0, bindings 0..nbuf-1 in .dck order, the
 * out-of-bounds record (checked mode) is binding nbuf, and every scalar (by-value parameters,
 * then each buffer's uint length, then the global size x, y, z) lives in one block laid out
 * with the C rules: a push-constant block of 32-bit words when it is at most 128 bytes, else
 * a uniform buffer (uvec4 words) at the next binding. Values are reassembled from the words,
 * so no 8/16-bit push-constant capability is ever needed. The work-group size comes from
 * [[workgroup]] (LocalSize) or from specialization constants 0, 1, 2 (default 1) that form
 * the WorkgroupSize builtin; the runtime sets them to the local size of every launch.
 * OpenCL: the kernel's parameters are the ABI's list (pointer + uint length per buffer, the
 * global size, then the oob pointer), structs by value through a ByVal pointer.
 *
 * A work-item outside the global size returns at entry (kernels without barrier()).
 * Checked buffer accesses become a selection: in bounds, the access; else the first
 * violation is recorded (compare-exchange of oob[0] from 0 to 1) and a load yields zero.
 */
#include "cg_spirv.h"

#include "compiler/ir_cfg.h"

#include <spirv/unified1/GLSL.std.450.h>
#include <spirv/unified1/OpenCL.std.h>
#include <math.h>
#include <string.h>

typedef struct Undo {
    int id;
    uint32_t old;
} Undo;

typedef struct LoopLabels {
    uint32_t merge, cont;
    bool broken;
} LoopLabels;

typedef struct Fn {
    SpvCtx *c;
    const IrFunc *f;
    const IrCfg *cfg;
    const IrRegionTree *rt;
    SpvWords *w;
    Arena *a;
    uint32_t *vid;    /* by IR value id */
    uint32_t cur;     /* current block label */
    uint32_t *buf;    /* by param: Vulkan StorageBuffer variable / OpenCL pointer parameter */
    uint32_t *len;    /* by param: length value */
    uint32_t *pval;   /* by param: by-value parameter value */
    uint32_t *pparam; /* OpenCL: by param, the OpFunctionParameter */
    uint32_t gsize[3];
    uint32_t oob;      /* Vulkan: variable; OpenCL: parameter */
    uint32_t *local;   /* by local slot: Function variable */
    uint32_t *shared;  /* by shared slot: Workgroup variable */
    uint32_t *alias;   /* Vulkan, by param: uint view of the buffer (float atomic add) */
    uint8_t *shared_u; /* Vulkan, by shared slot: float array kept as uint bits (float atomics) */
    uint32_t lsize[3];
    uint32_t wi[8][3]; /* cached work-item values */
    uint32_t scal_var; /* Vulkan scalar block variable */
    bool scal_ubo;
    uint32_t *scal_off; /* by param: byte offset in the scalar block (by-value params, lengths) */
    uint32_t *len_off;
    uint32_t gs_off;
    uint32_t *words; /* Vulkan: loaded scalar-block words, by index (entry block only) */
    uint32_t nwords;
    uint32_t bvec[64]; /* loaded builtin vectors, by builtin (entry block only) */
    /* structured control flow */
    uint32_t *var;   /* by value id: its Function variable (phis; values loaded elsewhere) */
    uint32_t selvar; /* the selector's variable */
    bool live;       /* the current block is reachable and open */
    VEC(Undo) undo;  /* value ids replaced by loads, restored when their list ends */
    VEC(LoopLabels) loops;
} Fn;

#define C_ (F->c)

static uint32_t emitr(Fn *F, uint32_t op, uint32_t type, uint32_t id, const uint32_t *ops, int n);

/* OpCompositeConstruct, or a constant when every part is one (llvm-spirv 15 crashes on a
 * construct of constants) */
static uint32_t construct(Fn *F, uint32_t type, uint32_t rid, const uint32_t *parts, int n)
{
    bool all = n <= 16;
    for (int k = 0; k < n && all; k++) all = spv_is_const(F->c, parts[k]);
    if (!all && !F->c->vk) {
        /* llvm-spirv 15 crashes on OpCompositeConstruct of non-constant parts: insert chain */
        uint32_t v = spv_undef(F->c, type);
        for (int k = 0; k < n; k++) {
            uint32_t ops[3] = {parts[k], v, (uint32_t)k};
            v = emitr(F, SpvOpCompositeInsert, type, k == n - 1 && rid ? rid : spv_id(F->c), ops,
                      3);
        }
        return v;
    }
    if (!all) return emitr(F, SpvOpCompositeConstruct, type, rid ? rid : spv_id(F->c), parts, n);
    uint32_t k = spv_c_composite(F->c, type, parts, n);
    if (!rid) return k;
    return emitr(F, SpvOpCopyObject, type, rid, &k, 1);
}

/* ---------------------------------------------------------------- emission helpers */

static uint32_t emitr(Fn *F, uint32_t op, uint32_t type, uint32_t id, const uint32_t *ops, int n)
{
    uint32_t buf[40];
    ICE_ASSERT(n + 2 <= 40);
    buf[0] = type;
    buf[1] = id;
    if (n) memcpy(buf + 2, ops, sizeof(uint32_t) * (size_t)n);
    spv_inst(F->w, op, buf, n + 2);
    /* DCK never contracts a*b+c into a fused multiply-add (docs/language.md): Vulkan drivers
     * (NVIDIA's) fuse unless every float arithmetic result is NoContraction. The OpenCL
     * environment (no Shader capability) says it once per kernel: ContractionOff. */
    if (F->c->vk && (op == SpvOpFAdd || op == SpvOpFSub || op == SpvOpFMul || op == SpvOpFNegate ||
                     op == SpvOpVectorTimesScalar || op == SpvOpDot))
        spv_decorate(F->c, id, SpvDecorationNoContraction, NULL, 0);
    return id;
}

#define OPR(F, op, type, ...)                                                 \
    emitr((F), (op), (type), spv_id((F)->c), (const uint32_t[]){__VA_ARGS__}, \
          (int)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)))
#define OPRI(F, op, type, id, ...)                                  \
    emitr((F), (op), (type), (id), (const uint32_t[]){__VA_ARGS__}, \
          (int)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)))

static void label(Fn *F, uint32_t l)
{
    SPV(F->w, SpvOpLabel, l);
    F->cur = l;
}

static uint32_t ext(Fn *F, uint32_t type, uint32_t inst, const uint32_t *args, int n)
{
    uint32_t ops[8] = {C_->ext_inst, inst};
    memcpy(ops + 2, args, sizeof(uint32_t) * (size_t)n);
    return emitr(F, SpvOpExtInst, type, spv_id(C_), ops, n + 2);
}
#define EXT(F, type, inst, ...)                               \
    ext((F), (type), (inst), (const uint32_t[]){__VA_ARGS__}, \
        (int)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)))

static uint32_t u32(Fn *F) { return spv_t_int(C_, 32); }
static uint32_t cu(Fn *F, uint32_t v) { return spv_c_uint(C_, v); }
static uint32_t tbool(Fn *F) { return spv_t_bool(C_); }

/* Constant of DCK type t (scalar, or splat for a vector): integer/bool bits or a float. */
static uint32_t cst(Fn *F, const Type *t, int64_t iv, double fv)
{
    return spv_c_of(C_, t, (uint64_t)iv, ty_elem((Type *)t)->kind == TY_FLOAT ? fv : (double)iv);
}

/* Type with the shape of t and a bool element. */
static const Type *bool_like(const Type *t) { return ty_vec(ty_scalar(SC_BOOL), ty_width(t)); }

static uint32_t vt(Fn *F, const Type *t) { return spv_vtype(C_, t); }

/* zero of a value type (OpConstantNull only for aggregates: llvm-spirv rejects scalar ones) */
static uint32_t zero_of(Fn *F, const Type *t)
{
    if (t->kind == TY_STRUCT || t->kind == TY_ARRAY) return spv_c_null(C_, vt(F, t));
    return cst(F, t, 0, 0.0);
}

/* ---------------------------------------------------------------- values */

static uint32_t V(Fn *F, IrInst *i)
{
    if (F->vid[i->id]) return F->vid[i->id];
    uint32_t id;
    switch (i->op) {
    case IR_CONST: id = spv_c_of(C_, i->type, i->imm.i, i->imm.f); break;
    case IR_UNDEF: id = spv_undef(C_, vt(F, i->type)); break;
    default: id = spv_id(C_); break;
    }
    return F->vid[i->id] = id;
}

/* the scalar s repeated into vector type t */
static uint32_t splat(Fn *F, const Type *t, uint32_t s)
{
    uint32_t ops[4] = {s, s, s, s};
    return construct(F, vt(F, t), 0, ops, t->n);
}

static uint32_t wid(Fn *F, IrInst *x, const Type *t)
{
    if (t->kind == TY_VEC && x->type->kind != TY_VEC) return splat(F, t, V(F, x));
    return V(F, x);
}

/* ---------------------------------------------------------------- physical <-> logical */

static uint32_t phys2log(Fn *F, const Type *t, uint32_t v)
{
    if (!spv_has_bool(t)) return v;
    switch (t->kind) {
    case TY_BOOL:
    case TY_VEC:
        return OPR(F, SpvOpINotEqual, vt(F, t), v,
                   cst(F, ty_vec(ty_scalar(SC_UCHAR), ty_width(t)), 0, 0));
    case TY_STRUCT:
    case TY_ARRAY: {
        int n = t->kind == TY_STRUCT ? t->nfields : t->n;
        uint32_t *parts = arena_alloc(F->a, sizeof(uint32_t) * (size_t)(n + 1));
        for (int k = 0; k < n; k++) {
            const Type *ft = t->kind == TY_STRUCT ? t->fields[k].type : t->elem;
            uint32_t e = OPR(F, SpvOpCompositeExtract, spv_ptype(C_, ft), v, (uint32_t)k);
            parts[k] = phys2log(F, ft, e);
        }
        return construct(F, vt(F, t), 0, parts, n);
    }
    default: return v;
    }
}

static uint32_t log2phys(Fn *F, const Type *t, uint32_t v)
{
    if (!spv_has_bool(t)) return v;
    switch (t->kind) {
    case TY_BOOL:
    case TY_VEC: {
        const Type *pt =
            t->kind == TY_VEC ? ty_vec(ty_scalar(SC_UCHAR), t->n) : ty_scalar(SC_UCHAR);
        return OPR(F, SpvOpSelect, spv_ptype(C_, t), v, cst(F, pt, 1, 0), cst(F, pt, 0, 0));
    }
    case TY_STRUCT:
    case TY_ARRAY: {
        int n = t->kind == TY_STRUCT ? t->nfields : t->n;
        uint32_t *parts = arena_alloc(F->a, sizeof(uint32_t) * (size_t)(n + 1));
        for (int k = 0; k < n; k++) {
            const Type *ft = t->kind == TY_STRUCT ? t->fields[k].type : t->elem;
            uint32_t e = OPR(F, SpvOpCompositeExtract, vt(F, ft), v, (uint32_t)k);
            parts[k] = log2phys(F, ft, e);
        }
        return construct(F, spv_ptype(C_, t), 0, parts, n);
    }
    default: return v;
    }
}

/* ---------------------------------------------------------------- the scalar block (Vulkan) */

static uint32_t word(Fn *F, uint32_t w)
{
    ICE_ASSERT(w < F->nwords);
    if (F->words[w]) return F->words[w];
    uint32_t u = u32(F);
    uint32_t ptr;
    if (F->scal_ubo)
        ptr = OPR(F, SpvOpAccessChain, spv_t_ptr(C_, SpvStorageClassUniform, u), F->scal_var,
                  cu(F, 0), cu(F, w / 4), cu(F, w % 4));
    else
        ptr = OPR(F, SpvOpAccessChain, spv_t_ptr(C_, SpvStorageClassPushConstant, u), F->scal_var,
                  cu(F, 0), cu(F, w));
    return F->words[w] = OPR(F, SpvOpLoad, u, ptr);
}

/* The value of type t stored at byte offset off of the scalar block. */
static uint32_t compose(Fn *F, const Type *t, uint32_t off)
{
    switch (t->kind) {
    case TY_BOOL:
    case TY_INT: {
        int bits = t->kind == TY_BOOL ? 8 : t->bits;
        uint32_t w = word(F, off / 4);
        if (bits == 64) {
            uint32_t hi = word(F, off / 4 + 1);
            uint32_t t64 = spv_t_int(C_, 64);
            uint32_t l = OPR(F, SpvOpUConvert, t64, w), h = OPR(F, SpvOpUConvert, t64, hi);
            h = OPR(F, SpvOpShiftLeftLogical, t64, h, spv_c_int(C_, 64, 32));
            return OPR(F, SpvOpBitwiseOr, t64, l, h);
        }
        if (bits == 32) return w;
        uint32_t sh = (off % 4) * 8;
        if (sh) w = OPR(F, SpvOpShiftRightLogical, u32(F), w, cu(F, sh));
        if (t->kind == TY_BOOL) {
            w = OPR(F, SpvOpBitwiseAnd, u32(F), w, cu(F, 0xff));
            return OPR(F, SpvOpINotEqual, tbool(F), w, cu(F, 0));
        }
        return OPR(F, SpvOpUConvert, spv_t_int(C_, bits), w);
    }
    case TY_FLOAT: {
        uint32_t w = word(F, off / 4);
        if (t->bits == 32) return OPR(F, SpvOpBitcast, vt(F, t), w);
        if (t->bits == 16) {
            uint32_t h2 = OPR(F, SpvOpBitcast, spv_t_vec(C_, vt(F, t), 2), w);
            return OPR(F, SpvOpCompositeExtract, vt(F, t), h2, (off % 4) / 2);
        }
        uint32_t hi = word(F, off / 4 + 1);
        uint32_t v2 = OPR(F, SpvOpCompositeConstruct, spv_t_vec(C_, u32(F), 2), w, hi);
        return OPR(F, SpvOpBitcast, vt(F, t), v2);
    }
    case TY_VEC:
    case TY_STRUCT:
    case TY_ARRAY: {
        int n = t->kind == TY_STRUCT ? t->nfields : t->n;
        uint32_t *parts = arena_alloc(F->a, sizeof(uint32_t) * (size_t)(n + 1));
        for (int k = 0; k < n; k++) {
            const Type *ft = t->kind == TY_STRUCT ? t->fields[k].type : t->elem;
            uint32_t fo = t->kind == TY_STRUCT ? t->fields[k].offset : (uint32_t)k * ft->size;
            parts[k] = compose(F, ft, off + fo);
        }
        return construct(F, vt(F, t), 0, parts, n);
    }
    default: break;
    }
    ICE("parameter of type %s in the scalar block", t->name);
}

/* ---------------------------------------------------------------- interface */

static bool has_small(const Type *t, int bits)
{
    switch (t->kind) {
    case TY_BOOL: return bits == 8;
    case TY_INT:
    case TY_FLOAT: return t->bits == bits;
    case TY_VEC:
    case TY_ARRAY: return has_small(t->elem, bits);
    case TY_STRUCT:
        for (int i = 0; i < t->nfields; i++)
            if (has_small(t->fields[i].type, bits)) return true;
        return false;
    default: return false;
    }
}

/* module-level objects of a Vulkan kernel */
static void vk_interface(Fn *F)
{
    SpvCtx *c = C_;
    const IrFunc *f = F->f;
    uint32_t binding = 0;
    for (int p = 0; p < f->nparams; p++) {
        const Type *t = f->params[p].type;
        if (t->kind != TY_BUFFER) continue;
        if (has_small(t->elem, 8)) {
            spv_ext(c, "SPV_KHR_8bit_storage");
            spv_cap(c, SpvCapabilityStorageBuffer8BitAccess);
        }
        if (has_small(t->elem, 16)) spv_cap(c, SpvCapabilityStorageBuffer16BitAccess);
        uint32_t arr = spv_rtarray(c, t->elem);
        uint32_t blk = spv_id(c);
        SPV(&c->types, SpvOpTypeStruct, blk, arr);
        spv_decorate(c, blk, SpvDecorationBlock, NULL, 0);
        SPV(&c->annot, SpvOpMemberDecorate, blk, 0, SpvDecorationOffset, 0);
        if (t->is_const) SPV(&c->annot, SpvOpMemberDecorate, blk, 0, SpvDecorationNonWritable);
        spv_name(c, blk, arena_printf(c->a, "%s_%s_buf", f->name, f->params[p].name));
        uint32_t var = spv_id(c);
        SPV(&c->types, SpvOpVariable, spv_t_ptr(c, SpvStorageClassStorageBuffer, blk), var,
            SpvStorageClassStorageBuffer);
        spv_decorate(c, var, SpvDecorationDescriptorSet, (const uint32_t[]){0}, 1);
        spv_decorate(c, var, SpvDecorationBinding, &binding, 1);
        spv_decorate(c, var, F->alias[p] ? SpvDecorationAliased : SpvDecorationRestrict, NULL, 0);
        spv_name(c, var, f->params[p].name);
        F->buf[p] = var;
        if (F->alias[p]) { /* the same binding seen as uint words, for the compare-exchange loop */
            uint32_t ablk = spv_id(c);
            SPV(&c->types, SpvOpTypeStruct, ablk, spv_rtarray(c, ty_scalar(SC_UINT)));
            spv_decorate(c, ablk, SpvDecorationBlock, NULL, 0);
            SPV(&c->annot, SpvOpMemberDecorate, ablk, 0, SpvDecorationOffset, 0);
            spv_name(c, ablk, arena_printf(c->a, "%s_%s_words", f->name, f->params[p].name));
            uint32_t av = spv_id(c);
            SPV(&c->types, SpvOpVariable, spv_t_ptr(c, SpvStorageClassStorageBuffer, ablk), av,
                SpvStorageClassStorageBuffer);
            spv_decorate(c, av, SpvDecorationDescriptorSet, (const uint32_t[]){0}, 1);
            spv_decorate(c, av, SpvDecorationBinding, &binding, 1);
            spv_decorate(c, av, SpvDecorationAliased, NULL, 0);
            spv_name(c, av, arena_printf(c->a, "%s_words", f->params[p].name));
            F->alias[p] = av;
        }
        binding++;
    }
    if (c->checked) {
        uint32_t arr = spv_t_array(c, u32(F), 8, 4);
        uint32_t blk = spv_id(c);
        SPV(&c->types, SpvOpTypeStruct, blk, arr);
        spv_decorate(c, blk, SpvDecorationBlock, NULL, 0);
        SPV(&c->annot, SpvOpMemberDecorate, blk, 0, SpvDecorationOffset, 0);
        spv_name(c, blk, arena_printf(c->a, "%s_oob_record", f->name));
        F->oob = spv_id(c);
        SPV(&c->types, SpvOpVariable, spv_t_ptr(c, SpvStorageClassStorageBuffer, blk), F->oob,
            SpvStorageClassStorageBuffer);
        spv_decorate(c, F->oob, SpvDecorationDescriptorSet, (const uint32_t[]){0}, 1);
        spv_decorate(c, F->oob, SpvDecorationBinding, &binding, 1);
        spv_name(c, F->oob, "dck_oob");
        binding++;
    }
    /* the scalar block: C layout (abi/abi.h) */
    AbiBlock blk_layout = cg_scalar_block(F->a, f, &F->scal_off, &F->len_off);
    uint32_t off = blk_layout.end;
    F->gs_off = blk_layout.gsize_off;
    F->scal_ubo = abi_block_in_uniform(&blk_layout);
    F->nwords = F->scal_ubo ? (off + 15) / 16 * 4 : (off + 3) / 4;
    F->words = arena_alloc(F->a, sizeof(uint32_t) * F->nwords);
    uint32_t blk = spv_id(c);
    if (F->scal_ubo) {
        uint32_t arr = spv_t_array(c, spv_t_vec(c, u32(F), 4), (off + 15) / 16, 16);
        SPV(&c->types, SpvOpTypeStruct, blk, arr);
    } else {
        uint32_t arr = spv_t_array(c, u32(F), (off + 3) / 4, 4);
        SPV(&c->types, SpvOpTypeStruct, blk, arr);
    }
    spv_decorate(c, blk, SpvDecorationBlock, NULL, 0);
    SPV(&c->annot, SpvOpMemberDecorate, blk, 0, SpvDecorationOffset, 0);
    spv_name(c, blk, arena_printf(c->a, "%s_args", f->name));
    F->scal_var = spv_id(c);
    SpvStorageClass sc = F->scal_ubo ? SpvStorageClassUniform : SpvStorageClassPushConstant;
    SPV(&c->types, SpvOpVariable, spv_t_ptr(c, sc, blk), F->scal_var, sc);
    if (F->scal_ubo) {
        spv_decorate(c, F->scal_var, SpvDecorationDescriptorSet, (const uint32_t[]){0}, 1);
        spv_decorate(c, F->scal_var, SpvDecorationBinding, &binding, 1);
    }
    spv_name(c, F->scal_var, "dck_args");
}

/* the specialization constants 0, 1, 2 forming WorkgroupSize (one set per module) */
static uint32_t vk_wg_spec(Fn *F)
{
    SpvCtx *c = C_;
    static const int slot = 63; /* builtin_var[63] is unused by real builtins */
    if (c->builtin_var[slot]) return c->builtin_var[slot];
    uint32_t ids[3];
    for (uint32_t d = 0; d < 3; d++) {
        ids[d] = spv_id(c);
        SPV(&c->types, SpvOpSpecConstant, u32(F), ids[d], 1);
        spv_decorate(c, ids[d], SpvDecorationSpecId, &d, 1);
    }
    uint32_t v = spv_id(c);
    SPV(&c->types, SpvOpSpecConstantComposite, spv_t_vec(c, u32(F), 3), v, ids[0], ids[1], ids[2]);
    spv_decorate(c, v, SpvDecorationBuiltIn, (const uint32_t[]){SpvBuiltInWorkgroupSize}, 1);
    spv_name(c, v, "dck_local_size");
    return c->builtin_var[slot] = v;
}

/* ---------------------------------------------------------------- work-items */

static uint32_t load_builtin(Fn *F, SpvBuiltIn b, int d)
{
    uint32_t t;
    uint32_t var = spv_builtin_var(C_, b, &t);
    uint32_t v = F->bvec[b] ? F->bvec[b] : (F->bvec[b] = OPR(F, SpvOpLoad, t, var));
    if (d < 0) return v;
    if (C_->vk) return OPR(F, SpvOpCompositeExtract, u32(F), v, (uint32_t)d);
    uint32_t x = OPR(F, SpvOpCompositeExtract, spv_t_int(C_, 64), v, (uint32_t)d);
    return OPR(F, SpvOpUConvert, u32(F), x);
}

static uint32_t workitem(Fn *F, BuiltinId b, int d)
{
    int k = b - BI_GLOBAL_ID;
    ICE_ASSERT(k >= 0 && k < 8 && d >= 0 && d < 3);
    if (F->wi[k][d]) return F->wi[k][d];
    uint32_t v = 0;
    switch (b) {
    case BI_GLOBAL_ID: v = load_builtin(F, SpvBuiltInGlobalInvocationId, d); break;
    case BI_LOCAL_ID: v = load_builtin(F, SpvBuiltInLocalInvocationId, d); break;
    case BI_GROUP_ID: v = load_builtin(F, SpvBuiltInWorkgroupId, d); break;
    case BI_NUM_GROUPS: v = load_builtin(F, SpvBuiltInNumWorkgroups, d); break;
    case BI_LOCAL_SIZE:
        if (F->lsize[d])
            v = F->lsize[d];
        else if (C_->vk)
            v = OPR(F, SpvOpCompositeExtract, u32(F), vk_wg_spec(F), (uint32_t)d);
        else
            v = load_builtin(F, SpvBuiltInWorkgroupSize, d);
        break;
    case BI_GLOBAL_SIZE: v = F->gsize[d]; break;
    default: ICE("work-item query %d", (int)b);
    }
    return F->wi[k][d] = v;
}

/* ---------------------------------------------------------------- memory */

/* 32-bit unsigned version of an index (any integer width). */
static uint32_t idx32(Fn *F, IrInst *x)
{
    const Type *t = x->type;
    if (t->bits == 32) return V(F, x);
    return OPR(F, t->is_signed && t->bits < 32 ? SpvOpSConvert : SpvOpUConvert, u32(F), V(F, x));
}

static uint32_t idx64(Fn *F, IrInst *x)
{
    const Type *t = x->type;
    if (t->bits == 64) return V(F, x);
    return OPR(F, t->is_signed ? SpvOpSConvert : SpvOpUConvert, spv_t_int(C_, 64), V(F, x));
}

typedef struct Ptr {
    uint32_t id;
    const Type *elem; /* DCK type of the element */
    bool phys;        /* element in the physical layout */
    SpvStorageClass sc;
    bool shared;
    bool asuint;   /* shared float kept as uint bits */
    uint32_t word; /* Vulkan buffer with an alias: the element's uint word index */
} Ptr;

static Ptr access_ptr(Fn *F, IrInst *i)
{
    const IrMemRef *mr = &i->mem;
    const IrFunc *f = F->f;
    Ptr P = {0};
    uint32_t ops[IR_MAX_PATH + 8];
    int n = 0;
    const Type *t;
    uint32_t base;
    uint32_t op = SpvOpAccessChain;
    switch (mr->kind) {
    case MEM_BUFFER:
        ICE_ASSERT(mr->id >= 0 && mr->id < f->nparams &&
                   f->params[mr->id].type->kind == TY_BUFFER && ir_mem_nbase(mr) == 1);
        t = f->params[mr->id].type->elem;
        P.phys = true;
        P.sc = C_->vk ? SpvStorageClassStorageBuffer : SpvStorageClassCrossWorkgroup;
        base = F->buf[mr->id];
        if (C_->vk) {
            ops[n++] = cu(F, 0);
            ops[n++] = idx32(F, i->ops[0]);
            if (F->alias[mr->id] && i->op == IR_ATOMIC) {
                uint32_t off = 0, nstep = 0;
                const Type *pt = t;
                const Type *step[IR_MAX_PATH]; /* the arrays indexed by operand, in path order */
                for (int k = 0; k < mr->npath; k++) {
                    if (pt->kind == TY_STRUCT) {
                        off += pt->fields[mr->path[k]].offset;
                        pt = pt->fields[mr->path[k]].type;
                    } else if (pt->kind == TY_ARRAY) {
                        step[nstep++] = pt;
                        pt = pt->elem;
                    } else {
                        off += (uint32_t)mr->path[k] * pt->elem->size;
                        pt = pt->elem;
                    }
                }
                uint32_t wi = OPR(F, SpvOpIMul, u32(F), ops[n - 1], cu(F, t->size / 4));
                for (uint32_t k = 0; k < nstep; k++) {
                    uint32_t x = idx32(F, i->ops[1 + k]);
                    x = OPR(F, SpvOpIMul, u32(F), x, cu(F, step[k]->elem->size / 4));
                    wi = OPR(F, SpvOpIAdd, u32(F), wi, x);
                }
                P.word = OPR(F, SpvOpIAdd, u32(F), wi, cu(F, off / 4));
            }
        } else {
            op = SpvOpInBoundsPtrAccessChain;
            ops[n++] = idx64(F, i->ops[0]);
        }
        break;
    case MEM_SHARED:
    case MEM_LOCAL: {
        bool sh = mr->kind == MEM_SHARED;
        const IrSlot *s = sh ? &f->shared.data[mr->id] : &f->locals.data[mr->id];
        t = s->type;
        P.sc = sh ? SpvStorageClassWorkgroup : SpvStorageClassFunction;
        P.shared = sh;
        P.asuint = sh && F->shared_u[mr->id];
        base = sh ? F->shared[mr->id] : F->local[mr->id];
        for (int k = 0; k < ir_mem_nbase(mr); k++) {
            ICE_ASSERT(t->kind == TY_ARRAY);
            ops[n++] = idx32(F, i->ops[k]);
            t = t->elem;
        }
        break;
    }
    default: ICE("memory kind %d", (int)mr->kind);
    }
    int next = ir_mem_nbase(mr); /* the index operand of the next array step */
    for (int k = 0; k < mr->npath; k++) {
        int p = mr->path[k];
        if (t->kind == TY_STRUCT) {
            ICE_ASSERT(p >= 0 && p < t->nfields);
            t = t->fields[p].type;
            ops[n++] = cu(F, (uint32_t)p);
        } else if (t->kind == TY_ARRAY) { /* an array field */
            ICE_ASSERT(p == IR_PATH_INDEX && next < mr->nidx);
            t = t->elem;
            ops[n++] = idx32(F, i->ops[next++]);
        } else {
            ICE_ASSERT(t->kind == TY_VEC && p >= 0 && p < t->n);
            t = t->elem;
            ops[n++] = cu(F, (uint32_t)p);
        }
    }
    P.elem = t;
    uint32_t et = P.asuint ? u32(F) : P.phys ? spv_ptype(C_, t) : vt(F, t);
    if (n == 0) {
        P.id = base;
        return P;
    }
    uint32_t all[IR_MAX_PATH + 10];
    all[0] = base;
    memcpy(all + 1, ops, sizeof(uint32_t) * (size_t)n);
    P.id = emitr(F, op, spv_t_ptr(C_, P.sc, et), spv_id(C_), all, n + 1);
    return P;
}

/* checked mode: the bounds condition and the values recorded for index i of buffer p */
typedef struct Bounds {
    uint32_t cond, lo, hi;
} Bounds;

static Bounds bounds(Fn *F, IrInst *x, int p)
{
    Bounds b;
    const Type *t = x->type;
    uint32_t len = F->len[p];
    uint32_t bt = tbool(F);
    if (t->bits == 64) {
        uint32_t t64 = spv_t_int(C_, 64);
        uint32_t l64 = OPR(F, SpvOpUConvert, t64, len);
        b.cond = OPR(F, SpvOpULessThan, bt, V(F, x), l64);
        b.lo = OPR(F, SpvOpUConvert, u32(F), V(F, x));
        uint32_t h = OPR(F, SpvOpShiftRightLogical, t64, V(F, x), spv_c_int(C_, 64, 32));
        b.hi = OPR(F, SpvOpUConvert, u32(F), h);
        return b;
    }
    uint32_t v = idx32(F, x);
    b.lo = v;
    b.cond = OPR(F, SpvOpULessThan, bt, v, len);
    if (t->is_signed) {
        uint32_t neg = OPR(F, SpvOpSLessThan, bt, v, cu(F, 0));
        uint32_t pos = OPR(F, SpvOpLogicalNot, bt, neg);
        b.cond = OPR(F, SpvOpLogicalAnd, bt, pos, b.cond);
        b.hi = OPR(F, SpvOpSelect, u32(F), neg, cu(F, 0xffffffffu), cu(F, 0));
    } else {
        b.hi = cu(F, 0);
    }
    return b;
}

static uint32_t oob_slot(Fn *F, uint32_t k)
{
    SpvStorageClass sc = C_->vk ? SpvStorageClassStorageBuffer : SpvStorageClassCrossWorkgroup;
    uint32_t pt = spv_t_ptr(C_, sc, u32(F));
    if (C_->vk) return OPR(F, SpvOpAccessChain, pt, F->oob, cu(F, 0), cu(F, k));
    return OPR(F, SpvOpInBoundsPtrAccessChain, pt, F->oob, spv_c_int(C_, 64, k));
}

/* the out-of-bounds branch: first violation wins */
static void record_oob(Fn *F, IrInst *i, Bounds b, bool is_write)
{
    uint32_t scope = SpvScopeDevice;
    uint32_t p0 = oob_slot(F, 0);
    uint32_t old = OPR(F, SpvOpAtomicCompareExchange, u32(F), p0, cu(F, scope), cu(F, 0), cu(F, 0),
                       cu(F, 1), cu(F, 0));
    uint32_t won = OPR(F, SpvOpIEqual, tbool(F), old, cu(F, 0));
    uint32_t lw = spv_id(C_), lm = spv_id(C_);
    SPV(F->w, SpvOpSelectionMerge, lm, SpvSelectionControlMaskNone);
    SPV(F->w, SpvOpBranchConditional, won, lw, lm);
    label(F, lw);
    uint32_t vals[7] = {cu(F, (uint32_t)i->mem.id),
                        cu(F, i->loc.line > 0 ? (uint32_t)i->loc.line : 0),
                        cu(F, is_write ? 1 : 0),
                        b.lo,
                        b.hi,
                        F->len[i->mem.id],
                        cu(F, 0)};
    for (uint32_t k = 1; k < 8; k++) SPV(F->w, SpvOpStore, oob_slot(F, k), vals[k - 1]);
    SPV(F->w, SpvOpBranch, lm);
    label(F, lm);
}

static uint32_t scope_of(const Ptr *P) { return P->shared ? SpvScopeWorkgroup : SpvScopeDevice; }

/* the atomic itself (no bounds check); returns the old value */
static uint32_t atomic_op(Fn *F, IrInst *i, Ptr P, uint32_t rid)
{
    const Type *t = P.elem;
    int ni = i->mem.nidx;
    uint32_t T = vt(F, t);
    uint32_t sc = cu(F, scope_of(&P)), sem = cu(F, 0);
    if (t->kind == TY_INT && t->bits == 64) spv_cap(C_, SpvCapabilityInt64Atomics);
    uint32_t val = V(F, i->ops[ni]);
    if (t->kind == TY_FLOAT) {
        if (i->builtin != BI_ATOMIC_ADD)
            ICE("atomic %s on %s", builtin_info[i->builtin].name, t->name);
        uint32_t ut = spv_t_int(C_, t->bits);
        uint32_t ip;
        if (!C_->vk) {
            ip = OPR(F, SpvOpBitcast, spv_t_ptr(C_, P.sc, ut), P.id);
        } else if (P.asuint) {
            ip = P.id;
        } else if (P.word) {
            ip = OPR(F, SpvOpAccessChain, spv_t_ptr(C_, P.sc, ut), F->alias[i->mem.id], cu(F, 0),
                     P.word);
        } else { /* a float inside a shared struct or vector: the device needs the extension */
            spv_ext(C_, "SPV_EXT_shader_atomic_float_add");
            spv_cap(C_, t->bits == 64 ? SpvCapabilityAtomicFloat64AddEXT
                                      : SpvCapabilityAtomicFloat32AddEXT);
            return OPRI(F, SpvOpAtomicFAddEXT, T, rid, P.id, sc, sem, val);
        }
        /* compare-exchange loop on the bits */
        uint32_t init = OPR(F, SpvOpAtomicLoad, ut, ip, sc, sem);
        uint32_t pre = F->cur;
        uint32_t lh = spv_id(C_), lb = spv_id(C_), lc = spv_id(C_), lm = spv_id(C_);
        uint32_t cur = spv_id(C_), seen = spv_id(C_);
        SPV(F->w, SpvOpBranch, lh);
        label(F, lh);
        OPRI(F, SpvOpPhi, ut, cur, init, pre, seen, lc);
        SPV(F->w, SpvOpLoopMerge, lm, lc, SpvLoopControlMaskNone);
        SPV(F->w, SpvOpBranch, lb);
        label(F, lb);
        uint32_t fv = OPR(F, SpvOpBitcast, T, cur);
        uint32_t s = OPR(F, SpvOpFAdd, T, fv, val);
        uint32_t sb = OPR(F, SpvOpBitcast, ut, s);
        OPRI(F, SpvOpAtomicCompareExchange, ut, seen, ip, sc, sem, sem, sb, cur);
        uint32_t ok = OPR(F, SpvOpIEqual, tbool(F), seen, cur);
        SPV(F->w, SpvOpBranchConditional, ok, lm, lc);
        label(F, lc);
        SPV(F->w, SpvOpBranch, lh);
        label(F, lm);
        return OPRI(F, SpvOpBitcast, T, rid, cur);
    }
    ICE_ASSERT(t->kind == TY_INT);
    uint32_t op;
    switch (i->builtin) {
    case BI_ATOMIC_ADD: op = SpvOpAtomicIAdd; break;
    case BI_ATOMIC_SUB: op = SpvOpAtomicISub; break;
    case BI_ATOMIC_MIN: op = t->is_signed ? SpvOpAtomicSMin : SpvOpAtomicUMin; break;
    case BI_ATOMIC_MAX: op = t->is_signed ? SpvOpAtomicSMax : SpvOpAtomicUMax; break;
    case BI_ATOMIC_AND: op = SpvOpAtomicAnd; break;
    case BI_ATOMIC_OR: op = SpvOpAtomicOr; break;
    case BI_ATOMIC_XOR: op = SpvOpAtomicXor; break;
    case BI_ATOMIC_XCHG: op = SpvOpAtomicExchange; break;
    case BI_ATOMIC_CAS:
        return OPRI(F, SpvOpAtomicCompareExchange, T, rid, P.id, sc, sem, sem, V(F, i->ops[ni + 1]),
                    val);
    default: ICE("atomic builtin %d", (int)i->builtin);
    }
    return OPRI(F, op, T, rid, P.id, sc, sem, val);
}

static void emit_access(Fn *F, IrInst *i)
{
    bool check = C_->checked && i->mem.kind == MEM_BUFFER;
    bool has_val = i->op != IR_STORE;
    Bounds b = {0};
    uint32_t lt = 0, le = 0, lm = 0;
    if (check) {
        b = bounds(F, i->ops[0], i->mem.id);
        lt = spv_id(C_);
        le = spv_id(C_);
        lm = spv_id(C_);
        SPV(F->w, SpvOpSelectionMerge, lm, SpvSelectionControlMaskNone);
        SPV(F->w, SpvOpBranchConditional, b.cond, lt, le);
        label(F, lt);
    }
    uint32_t rid = has_val ? (check ? spv_id(C_) : V(F, i)) : 0;
    Ptr P = access_ptr(F, i);
    if (i->op == IR_LOAD) {
        uint32_t et = P.phys ? spv_ptype(C_, P.elem) : vt(F, P.elem);
        if (P.asuint) {
            ICE_ASSERT(P.elem->kind == TY_FLOAT);
            uint32_t raw = OPR(F, SpvOpLoad, u32(F), P.id);
            OPRI(F, SpvOpBitcast, vt(F, P.elem), rid, raw);
        } else if (P.phys && spv_has_bool(P.elem)) {
            uint32_t raw = OPR(F, SpvOpLoad, et, P.id);
            uint32_t v = phys2log(F, P.elem, raw);
            rid = OPRI(F, SpvOpCopyObject, vt(F, P.elem), rid, v);
        } else {
            OPRI(F, SpvOpLoad, et, rid, P.id);
        }
    } else if (i->op == IR_STORE) {
        uint32_t v = V(F, i->ops[i->mem.nidx]);
        if (P.phys) v = log2phys(F, P.elem, v);
        if (P.asuint) {
            ICE_ASSERT(P.elem->kind == TY_FLOAT);
            v = OPR(F, SpvOpBitcast, u32(F), v);
        }
        SPV(F->w, SpvOpStore, P.id, v);
    } else {
        atomic_op(F, i, P, rid);
    }
    if (!check) return;
    uint32_t tend = F->cur;
    SPV(F->w, SpvOpBranch, lm);
    label(F, le);
    record_oob(F, i, b, i->op != IR_LOAD);
    uint32_t eend = F->cur;
    SPV(F->w, SpvOpBranch, lm);
    label(F, lm);
    if (has_val) OPRI(F, SpvOpPhi, vt(F, i->type), V(F, i), rid, tend, zero_of(F, i->type), eend);
}

/* ---------------------------------------------------------------- arithmetic */

static bool sgn(const Type *t) { return ty_elem((Type *)t)->is_signed; }

/* integer division/remainder without undefined cases: x / 0 = 0, x % 0 = 0, MIN / -1 = -MIN */
static uint32_t safe_divrem(Fn *F, IrInst *i, bool rem)
{
    const Type *t = i->type;
    uint32_t T = vt(F, t), B = vt(F, bool_like(t));
    uint32_t a = V(F, i->ops[0]), b = V(F, i->ops[1]);
    uint32_t zero = cst(F, t, 0, 0), one = cst(F, t, 1, 0);
    uint32_t isz = OPR(F, SpvOpIEqual, B, b, zero);
    if (!sgn(t)) {
        uint32_t d = OPR(F, SpvOpSelect, T, isz, one, b);
        uint32_t q = OPR(F, rem ? SpvOpUMod : SpvOpUDiv, T, a, d);
        return OPRI(F, SpvOpSelect, T, V(F, i), isz, zero, q);
    }
    uint32_t ism1 = OPR(F, SpvOpIEqual, B, b, cst(F, t, -1, 0));
    uint32_t bad = OPR(F, SpvOpLogicalOr, B, isz, ism1);
    uint32_t d = OPR(F, SpvOpSelect, T, bad, one, b);
    /* Vulkan leaves OpSRem undefined for a negative operand (NVIDIA's differs from C): the
     * remainder is a - (a / d) * d there, OpSDiv truncating as C does */
    uint32_t q = OPR(F, rem && !C_->vk ? SpvOpSRem : SpvOpSDiv, T, a, d);
    if (rem && C_->vk) q = OPR(F, SpvOpISub, T, a, OPR(F, SpvOpIMul, T, q, d));
    if (rem) return OPRI(F, SpvOpSelect, T, V(F, i), bad, zero, q);
    uint32_t neg = OPR(F, SpvOpSNegate, T, a);
    uint32_t r1 = OPR(F, SpvOpSelect, T, ism1, neg, q);
    return OPRI(F, SpvOpSelect, T, V(F, i), isz, zero, r1);
}

static uint32_t cmp_op(IrOp op, const Type *ot)
{
    const Type *e = ty_elem((Type *)ot);
    if (e->kind == TY_FLOAT) {
        switch (op) {
        case IR_EQ: return SpvOpFOrdEqual;
        case IR_NE: return SpvOpFUnordNotEqual;
        case IR_LT: return SpvOpFOrdLessThan;
        case IR_LE: return SpvOpFOrdLessThanEqual;
        case IR_GT: return SpvOpFOrdGreaterThan;
        default: return SpvOpFOrdGreaterThanEqual;
        }
    }
    if (e->kind == TY_BOOL) {
        if (op == IR_EQ) return SpvOpLogicalEqual;
        if (op == IR_NE) return SpvOpLogicalNotEqual;
        ICE("ordered comparison of bools");
    }
    bool s = e->is_signed;
    switch (op) {
    case IR_EQ: return SpvOpIEqual;
    case IR_NE: return SpvOpINotEqual;
    case IR_LT: return s ? SpvOpSLessThan : SpvOpULessThan;
    case IR_LE: return s ? SpvOpSLessThanEqual : SpvOpULessThanEqual;
    case IR_GT: return s ? SpvOpSGreaterThan : SpvOpUGreaterThan;
    default: return s ? SpvOpSGreaterThanEqual : SpvOpUGreaterThanEqual;
    }
}

/* select of any value type, with a scalar or per-element condition */
static uint32_t select_any(Fn *F, const Type *t, uint32_t cond, const Type *ct, uint32_t a,
                           uint32_t b, uint32_t rid)
{
    if (!rid) rid = spv_id(C_);
    if (t->kind == TY_STRUCT || t->kind == TY_ARRAY) {
        int n = t->kind == TY_STRUCT ? t->nfields : t->n;
        uint32_t *parts = arena_alloc(F->a, sizeof(uint32_t) * (size_t)(n + 1));
        for (int k = 0; k < n; k++) {
            const Type *ft = t->kind == TY_STRUCT ? t->fields[k].type : t->elem;
            uint32_t x = OPR(F, SpvOpCompositeExtract, vt(F, ft), a, (uint32_t)k);
            uint32_t y = OPR(F, SpvOpCompositeExtract, vt(F, ft), b, (uint32_t)k);
            parts[k] = select_any(F, ft, cond, ct, x, y, 0);
        }
        return construct(F, vt(F, t), rid, parts, n);
    }
    if (t->kind == TY_VEC && ct->kind != TY_VEC) cond = splat(F, bool_like(t), cond);
    return OPRI(F, SpvOpSelect, vt(F, t), rid, cond, a, b);
}

/* float -> int, saturating, NaN -> 0 (as the C backend) */
static uint32_t f2i(Fn *F, const Type *to, const Type *from, uint32_t x, uint32_t rid)
{
    const Type *fe = ty_elem((Type *)from), *te = ty_elem((Type *)to);
    int w = te->bits;
    if (fe->bits == 16) { /* through float: the limits are not representable in half */
        const Type *ft = ty_with_elem((Type *)from, ty_scalar(SC_FLOAT));
        x = OPR(F, SpvOpFConvert, vt(F, ft), x);
        from = ft;
        fe = ty_elem((Type *)ft);
    }
    uint32_t B = vt(F, bool_like(to)), T = vt(F, to), FT = vt(F, from);
    double lo = te->is_signed ? -ldexp(1.0, w - 1) : -1.0,
           hi = te->is_signed ? ldexp(1.0, w - 1) : ldexp(1.0, w);
    uint32_t isnan = OPR(F, SpvOpIsNan, B, x);
    uint32_t le = OPR(F, SpvOpFOrdLessThanEqual, B, x, cst(F, from, 0, lo));
    uint32_t ge = OPR(F, SpvOpFOrdGreaterThanEqual, B, x, cst(F, from, 0, hi));
    uint32_t bad = OPR(F, SpvOpLogicalOr, B, OPR(F, SpvOpLogicalOr, B, isnan, le), ge);
    uint32_t safe = OPR(F, SpvOpSelect, FT, bad, cst(F, from, 0, 0.0), x);
    uint32_t conv = OPR(F, te->is_signed ? SpvOpConvertFToS : SpvOpConvertFToU, T, safe);
    int64_t minv = te->is_signed ? (int64_t)((uint64_t)1 << (w - 1)) : 0;
    uint64_t maxv = te->is_signed ? ((uint64_t)1 << (w - 1)) - 1
                                  : (w == 64 ? ~(uint64_t)0 : ((uint64_t)1 << w) - 1);
    uint32_t r = OPR(F, SpvOpSelect, T, ge, cst(F, to, (int64_t)maxv, 0), conv);
    r = OPR(F, SpvOpSelect, T, le, cst(F, to, minv, 0), r);
    return OPRI(F, SpvOpSelect, T, rid, isnan, cst(F, to, 0, 0), r);
}

static uint32_t convert(Fn *F, const Type *to, const Type *from, uint32_t x, uint32_t rid)
{
    const Type *te = ty_elem((Type *)to), *fe = ty_elem((Type *)from);
    uint32_t T = vt(F, to);
    if (!rid) rid = spv_id(C_);
    if (te == fe) return OPRI(F, SpvOpCopyObject, T, rid, x);
    if (te->kind == TY_BOOL) {
        if (fe->kind == TY_FLOAT)
            return OPRI(F, SpvOpFUnordNotEqual, T, rid, x, cst(F, from, 0, 0.0));
        return OPRI(F, SpvOpINotEqual, T, rid, x, cst(F, from, 0, 0));
    }
    if (fe->kind == TY_BOOL)
        return OPRI(F, SpvOpSelect, T, rid, x, cst(F, to, 1, 1.0), cst(F, to, 0, 0.0));
    if (te->kind == TY_FLOAT) {
        if (fe->kind == TY_FLOAT) return OPRI(F, SpvOpFConvert, T, rid, x);
        return OPRI(F, fe->is_signed ? SpvOpConvertSToF : SpvOpConvertUToF, T, rid, x);
    }
    if (fe->kind == TY_FLOAT) return f2i(F, to, from, x, rid);
    if (te->bits == fe->bits) return OPRI(F, SpvOpCopyObject, T, rid, x);
    if (C_->vk && fe->is_signed && te->bits == 64 && fe->bits < 64) {
        /* sign extension as (zext(x) ^ m) - m, m the sign bit: lavapipe (Mesa 22.3) gets
         * OpSConvert 32 -> 64 followed by a comparison with a constant wrong */
        uint32_t z = OPR(F, SpvOpUConvert, T, x);
        uint32_t m = cst(F, to, (int64_t)((uint64_t)1 << (fe->bits - 1)), 0);
        return OPRI(F, SpvOpISub, T, rid, OPR(F, SpvOpBitwiseXor, T, z, m), m);
    }
    return OPRI(F, fe->is_signed ? SpvOpSConvert : SpvOpUConvert, T, rid, x);
}

/* ---------------------------------------------------------------- builtins */

static bool vk(Fn *F) { return C_->vk; }

/* ---------------------------------------------------------------- accurate float math (Vulkan)
 * GLSL.std.450 promises little (Vulkan allows 4096 ulp for atan, and asin/acos/sinh/cosh/
 * tanh/log lose all relative accuracy near their zeros on real drivers, lavapipe included),
 * while DCK promises the OpenCL full-profile bounds (docs/language.md). These functions are
 * therefore computed here from IEEE +, -, *, /, sqrt and ldexp, element-wise on vectors:
 * a range reduction (Cody-Waite for exp, exponent/mantissa split for log, the usual
 * argument identities for atan and asin) and then a polynomial on the reduced interval whose
 * coefficients DCK derives itself. scripts/fit_coeffs.py fits each polynomial (weighted
 * least squares on Chebyshev nodes minimizing the relative error of the whole function,
 * refined towards minimax by Lawson's iteration) and derives the reduction constants; the
 * block between the markers below is its output, pasted verbatim
 * (`python3 scripts/fit_coeffs.py`). */

/* ---- begin output of scripts/fit_coeffs.py ---- */
/* polynomial coefficients, highest power first (Horner order) */
/* EXP (m_exp): 6 coefficients on [-0.34657359, 0.34657359]; max relative error
 * 5.176e-11 (float64 coefficients), 1.077e-09 (rounded to float32) */
static const double MF_EXP_P[] = {1.979035733e-04, 1.394464984e-03, 8.333496749e-03,
                                  4.166629538e-02, 1.666666567e-01, 5.000000000e-01};
/* LOG (m_log): 9 coefficients on [-0.292893219, 0.414213562]; max relative error
 * 7.496e-10 (float64 coefficients), 3.189e-09 (rounded to float32) */
static const double MF_LOG_P[] = {6.746680290e-02,  -1.167568490e-01, 1.188816279e-01,
                                  -1.240558326e-01, 1.421955079e-01,  -1.666799635e-01,
                                  2.000211924e-01,  -2.500000894e-01, 3.333331347e-01};
/* ATAN (atan_pos): 4 coefficients on [0, 0.171572875]; max relative error
 * 2.054e-08 (float64 coefficients), 2.174e-08 (rounded to float32) */
static const double MF_ATAN_P[] = {8.053711802e-02, -1.387767494e-01, 1.997770965e-01,
                                   -3.333294988e-01};
/* ASIN (asin_pos): 5 coefficients on [0, 0.25]; max relative error
 * 4.847e-09 (float64 coefficients), 5.836e-09 (rounded to float32) */
static const double MF_ASIN_P[] = {4.216628522e-02, 2.417952567e-02, 4.547037557e-02,
                                   7.495297492e-02, 1.666675210e-01};
/* SINH (m_sinh_cosh_tanh): 4 coefficients on [0, 1]; max relative error
 * 5.192e-11 (float64 coefficients), 5.222e-09 (rounded to float32) */
static const double MF_SINH_P[] = {2.816951337e-06, 1.983615948e-04, 8.333349600e-03,
                                   1.666666716e-01};
/* TANH (m_sinh_cosh_tanh): 5 coefficients on [0, 0.390625]; max relative error
 * 4.385e-09 (float64 coefficients), 8.679e-09 (rounded to float32) */
static const double MF_TANH_P[] = {-5.704978481e-03, 2.063907869e-02, -5.373971164e-02,
                                   1.333144158e-01, -3.333328068e-01};
/* Cody-Waite split of ln 2 (9 fraction bits in the high part) */
#define MF_LN2_HI    0.693359375
#define MF_LN2_LO    -0.00021219444005469057
#define MF_LOG2E     1.4426950408889634  /* 1/ln 2 */
#define MF_LOG2E_M1  0.44269504088896339 /* 1/ln 2 - 1 */
#define MF_SQRT_HALF 0.70710678118654757
#define MF_TAN_PI_8  0.41421356237309503 /* sqrt 2 - 1 */
#define MF_TAN_3PI_8 2.4142135623730949  /* sqrt 2 + 1 */
#define MF_PI        3.1415926535897931
#define MF_PI_2      1.5707963267948966
#define MF_PI_4      0.78539816339744828
#define MF_TANH_ONE  9.01091385 /* above: tanh rounds to 1 in float (2 e^-2x < 2^-25) */
#define MF_EXP_LO    -104       /* below: exp underflows to 0 in float (ln 2^-150 rounded down) */
#define MF_EXP_HI    89         /* above: exp overflows float (ln FLT_MAX rounded up) */
/* ---- end output of scripts/fit_coeffs.py ---- */

static uint32_t fk(Fn *F, const Type *t, double v) { return cst(F, t, 0, v); }
#define MF_T         vt(F, t)
#define MF_B         vt(F, bool_like(t))
#define FA(a, b)     OPR(F, SpvOpFAdd, MF_T, (a), (b))
#define FS(a, b)     OPR(F, SpvOpFSub, MF_T, (a), (b))
#define FM(a, b)     OPR(F, SpvOpFMul, MF_T, (a), (b))
#define FD(a, b)     OPR(F, SpvOpFDiv, MF_T, (a), (b))
#define SEL(c, a, b) OPR(F, SpvOpSelect, MF_T, (c), (a), (b))
#define FLT(a, b)    OPR(F, SpvOpFOrdLessThan, MF_B, (a), (b))
#define FGT(a, b)    OPR(F, SpvOpFOrdGreaterThan, MF_B, (a), (b))

/* ((c[0] z + c[1]) z + ...) + c[n-1] */
static uint32_t horner(Fn *F, const Type *t, uint32_t z, const double *c, int n)
{
    uint32_t r = fk(F, t, c[0]);
    for (int k = 1; k < n; k++) r = FA(FM(r, z), fk(F, t, c[k]));
    return r;
}

static uint32_t fabs_(Fn *F, const Type *t, uint32_t x) { return EXT(F, MF_T, GLSLstd450FAbs, x); }

/* x with the sign of s (s's sign bit; both float) */
static uint32_t copysign_(Fn *F, const Type *t, uint32_t mag, uint32_t s)
{
    const Type *ut = ty_with_elem((Type *)t, ty_scalar(SC_UINT));
    uint32_t U = vt(F, ut);
    uint32_t mb = OPR(F, SpvOpBitcast, U, mag), sb = OPR(F, SpvOpBitcast, U, s);
    mb = OPR(F, SpvOpBitwiseAnd, U, mb, cst(F, ut, 0x7fffffff, 0));
    sb = OPR(F, SpvOpBitwiseAnd, U, sb, cst(F, ut, 0x80000000u, 0));
    return OPR(F, SpvOpBitcast, MF_T, OPR(F, SpvOpBitwiseOr, U, mb, sb));
}

static uint32_t m_exp(Fn *F, const Type *t, uint32_t x)
{
    const Type *it = ty_with_elem((Type *)t, ty_scalar(SC_INT));
    uint32_t xc = EXT(F, MF_T, GLSLstd450NClamp, x, fk(F, t, MF_EXP_LO), fk(F, t, MF_EXP_HI));
    uint32_t n = EXT(F, MF_T, GLSLstd450Floor, FA(FM(xc, fk(F, t, MF_LOG2E)), fk(F, t, 0.5)));
    uint32_t r = FS(xc, FM(n, fk(F, t, MF_LN2_HI)));
    r = FS(r, FM(n, fk(F, t, MF_LN2_LO)));
    uint32_t z = FM(r, r);
    uint32_t p = FA(FA(FM(z, horner(F, t, r, MF_EXP_P, 6)), r), fk(F, t, 1.0));
    uint32_t ni = OPR(F, SpvOpConvertFToS, vt(F, it), n);
    uint32_t res = EXT(F, MF_T, GLSLstd450Ldexp, p, ni);
    /* NaN stays NaN, +inf gives inf, -inf gives 0 */
    uint32_t nan = OPR(F, SpvOpIsNan, MF_B, x);
    return SEL(nan, x, res);
}

/* log (natural) or log2 of x */
static uint32_t m_log(Fn *F, const Type *t, uint32_t x, bool two)
{
    const Type *ut = ty_with_elem((Type *)t, ty_scalar(SC_UINT));
    const Type *it = ty_with_elem((Type *)t, ty_scalar(SC_INT));
    uint32_t U = vt(F, ut);
    /* subnormals: scale into the normal range first */
    uint32_t tiny = FLT(x, fk(F, t, 1.17549435e-38));
    uint32_t xs = SEL(tiny, FM(x, fk(F, t, 16777216.0)), x);
    uint32_t eb = SEL(tiny, fk(F, t, -24.0), fk(F, t, 0.0));
    /* frexp: x = m * 2^e, m in [0.5, 1) */
    uint32_t bits = OPR(F, SpvOpBitcast, U, xs);
    uint32_t ebits = OPR(F, SpvOpShiftRightLogical, U, bits, cst(F, ut, 23, 0));
    ebits = OPR(F, SpvOpBitwiseAnd, U, ebits, cst(F, ut, 0xff, 0));
    uint32_t e =
        OPR(F, SpvOpConvertSToF, MF_T, OPR(F, SpvOpISub, vt(F, it), ebits, cst(F, it, 126, 0)));
    e = FA(e, eb);
    uint32_t mb =
        OPR(F, SpvOpBitwiseOr, U, OPR(F, SpvOpBitwiseAnd, U, bits, cst(F, ut, 0x807fffffu, 0)),
            cst(F, ut, 0x3f000000u, 0));
    uint32_t m = OPR(F, SpvOpBitcast, MF_T, mb);
    uint32_t small = FLT(m, fk(F, t, MF_SQRT_HALF));
    e = SEL(small, FS(e, fk(F, t, 1.0)), e);
    uint32_t xm = SEL(small, FS(FA(m, m), fk(F, t, 1.0)), FS(m, fk(F, t, 1.0)));
    uint32_t z = FM(xm, xm);
    uint32_t y = FM(FM(xm, z), horner(F, t, xm, MF_LOG_P, 9));
    uint32_t r;
    if (!two) {
        y = FA(y, FM(e, fk(F, t, MF_LN2_LO)));
        y = FA(y, FM(z, fk(F, t, -0.5)));
        r = FA(FA(xm, y), FM(e, fk(F, t, MF_LN2_HI)));
    } else {
        y = FA(y, FM(z, fk(F, t, -0.5)));
        uint32_t L = fk(F, t, MF_LOG2E_M1);
        r = FM(y, L);
        r = FA(r, FM(xm, L));
        r = FA(r, y);
        r = FA(r, xm);
        r = FA(r, e);
    }
    /* x = 0: -inf; x < 0 or NaN: NaN; x = inf: inf */
    uint32_t zero = OPR(F, SpvOpFOrdEqual, MF_B, x, fk(F, t, 0.0));
    uint32_t inf = OPR(F, SpvOpIsInf, MF_B, x);
    uint32_t bad =
        OPR(F, SpvOpLogicalNot, MF_B, OPR(F, SpvOpFOrdGreaterThanEqual, MF_B, x, fk(F, t, 0.0)));
    r = SEL(inf, x, r);
    r = SEL(zero, fk(F, t, -INFINITY), r);
    return SEL(bad, fk(F, t, NAN), r);
}

/* atan of x in [0, inf) */
static uint32_t atan_pos(Fn *F, const Type *t, uint32_t a)
{
    uint32_t big = FGT(a, fk(F, t, MF_TAN_3PI_8));
    uint32_t mid = FGT(a, fk(F, t, MF_TAN_PI_8));
    uint32_t xr = SEL(big, FD(fk(F, t, -1.0), a),
                      SEL(mid, FD(FS(a, fk(F, t, 1.0)), FA(a, fk(F, t, 1.0))), a));
    uint32_t y0 = SEL(big, fk(F, t, MF_PI_2), SEL(mid, fk(F, t, MF_PI_4), fk(F, t, 0.0)));
    uint32_t z = FM(xr, xr);
    uint32_t r = FA(FM(FM(horner(F, t, z, MF_ATAN_P, 4), z), xr), xr);
    return FA(y0, r);
}

static uint32_t m_atan(Fn *F, const Type *t, uint32_t x)
{
    uint32_t r = atan_pos(F, t, fabs_(F, t, x));
    return copysign_(F, t, r, x);
}

static uint32_t m_atan2(Fn *F, const Type *t, uint32_t y, uint32_t x)
{
    /* atan(|y/x|) in the right quadrant; x = 0 gives +-pi/2, y = 0 gives 0 or +-pi */
    uint32_t q = fabs_(F, t, FD(y, x));
    uint32_t a = atan_pos(F, t, q);
    uint32_t xneg =
        OPR(F, SpvOpLogicalOr, MF_B, FLT(x, fk(F, t, 0.0)),
            OPR(F, SpvOpLogicalAnd, MF_B, OPR(F, SpvOpFOrdEqual, MF_B, x, fk(F, t, 0.0)),
                OPR(F, SpvOpSLessThan, vt(F, bool_like(t)),
                    OPR(F, SpvOpBitcast, vt(F, ty_with_elem((Type *)t, ty_scalar(SC_INT))), x),
                    cst(F, ty_with_elem((Type *)t, ty_scalar(SC_INT)), 0, 0))));
    uint32_t r = SEL(xneg, FS(fk(F, t, MF_PI), a), a);
    uint32_t x0 = OPR(F, SpvOpFOrdEqual, MF_B, x, fk(F, t, 0.0));
    uint32_t y0 = OPR(F, SpvOpFOrdEqual, MF_B, y, fk(F, t, 0.0));
    r = SEL(x0, fk(F, t, MF_PI_2), r);
    r = SEL(y0, SEL(xneg, fk(F, t, MF_PI), fk(F, t, 0.0)), r);
    r = copysign_(F, t, r, y);
    uint32_t nan =
        OPR(F, SpvOpLogicalOr, MF_B, OPR(F, SpvOpIsNan, MF_B, x), OPR(F, SpvOpIsNan, MF_B, y));
    return SEL(nan, FA(x, y), r);
}

/* asin of a = |x| <= 1 */
static uint32_t asin_pos(Fn *F, const Type *t, uint32_t a)
{
    uint32_t hi = FGT(a, fk(F, t, 0.5));
    uint32_t zh = FM(fk(F, t, 0.5), FS(fk(F, t, 1.0), a));
    uint32_t z = SEL(hi, zh, FM(a, a));
    uint32_t s = SEL(hi, EXT(F, MF_T, GLSLstd450Sqrt, zh), a);
    uint32_t r = FA(FM(FM(horner(F, t, z, MF_ASIN_P, 5), z), s), s);
    return SEL(hi, FS(fk(F, t, MF_PI_2), FA(r, r)), r);
}

static uint32_t m_asin(Fn *F, const Type *t, uint32_t x)
{
    uint32_t a = fabs_(F, t, x);
    uint32_t r = copysign_(F, t, asin_pos(F, t, a), x);
    return SEL(FGT(a, fk(F, t, 1.0)), fk(F, t, NAN), r);
}

static uint32_t m_acos(Fn *F, const Type *t, uint32_t x)
{
    uint32_t lo = FLT(x, fk(F, t, -0.5)), hi = FGT(x, fk(F, t, 0.5));
    uint32_t wl = EXT(F, MF_T, GLSLstd450Sqrt, FM(fk(F, t, 0.5), FA(fk(F, t, 1.0), x)));
    uint32_t wh = EXT(F, MF_T, GLSLstd450Sqrt, FM(fk(F, t, 0.5), FS(fk(F, t, 1.0), x)));
    uint32_t arg = SEL(lo, wl, SEL(hi, wh, fabs_(F, t, x)));
    uint32_t as = asin_pos(F, t, arg);
    uint32_t rl = FS(fk(F, t, MF_PI), FA(as, as));
    uint32_t rh = FA(as, as);
    uint32_t rm = FS(fk(F, t, MF_PI_2), copysign_(F, t, as, x));
    uint32_t r = SEL(lo, rl, SEL(hi, rh, rm));
    return SEL(FGT(fabs_(F, t, x), fk(F, t, 1.0)), fk(F, t, NAN), r);
}

static uint32_t m_sinh_cosh_tanh(Fn *F, const Type *t, uint32_t x, BuiltinId bi)
{
    uint32_t a = fabs_(F, t, x);
    if (bi == BI_COSH) {
        uint32_t e = m_exp(F, t, a);
        return FA(FM(fk(F, t, 0.5), e), FD(fk(F, t, 0.5), e));
    }
    if (bi == BI_SINH) {
        uint32_t e = m_exp(F, t, a);
        uint32_t big = copysign_(F, t, FS(FM(fk(F, t, 0.5), e), FD(fk(F, t, 0.5), e)), x);
        uint32_t z = FM(x, x);
        uint32_t small = FA(FM(FM(horner(F, t, z, MF_SINH_P, 4), z), x), x);
        return SEL(FGT(a, fk(F, t, 1.0)), big, small);
    }
    uint32_t s = m_exp(F, t, FA(a, a));
    uint32_t big = FS(fk(F, t, 1.0), FD(fk(F, t, 2.0), FA(s, fk(F, t, 1.0))));
    big = copysign_(F, t, SEL(FGT(a, fk(F, t, MF_TANH_ONE)), fk(F, t, 1.0), big), x);
    uint32_t z = FM(x, x);
    uint32_t small = FA(FM(FM(horner(F, t, z, MF_TANH_P, 5), z), x), x);
    return SEL(FGT(a, fk(F, t, 0.625)), big, small);
}

/* ---- sin, cos, tan, exp2 and pow (DCK's own derivations, no library's coefficients).
 * sin/cos/tan: x = n pi/2 + r by Cody-Waite with pi/2 split into three 12-bit pieces and a
 * 24-bit rest (every n*Ck exact for |n| < 2^12, i.e. |x| < 6400; beyond that the reduction
 * loses accuracy gradually), then the Taylor series of sin r to r^9 and cos r to r^10 on
 * [-pi/4, pi/4] (truncation below 3e-9 relative) and the quadrant n mod 4. No Fma: Vulkan
 * only promises that Fma is as accurate as a multiply and an add, so exact products are
 * Dekker's (Veltkamp split), which relies on the NoContraction every float operation carries. */

static uint32_t fround_(Fn *F, const Type *t, uint32_t x)
{
    return EXT(F, MF_T, GLSLstd450Floor, FA(x, fk(F, t, 0.5)));
}

/* p + e = a * b exactly (Dekker; |a|, |b| < 2^115) */
static void two_prod(Fn *F, const Type *t, uint32_t a, uint32_t b, uint32_t *p, uint32_t *e)
{
    uint32_t ca = FM(fk(F, t, 4097.0), a), cb = FM(fk(F, t, 4097.0), b);
    uint32_t ah = FS(ca, FS(ca, a)), bh = FS(cb, FS(cb, b));
    uint32_t al = FS(a, ah), bl = FS(b, bh);
    *p = FM(a, b);
    uint32_t err = FA(FA(FS(FM(ah, bh), *p), FM(ah, bl)), FM(al, bh));
    *e = FA(err, FM(al, bl));
}

/* s + e = a + b exactly (Knuth) */
static void two_sum(Fn *F, const Type *t, uint32_t a, uint32_t b, uint32_t *s, uint32_t *e)
{
    *s = FA(a, b);
    uint32_t bb = FS(*s, a);
    *e = FA(FS(a, FS(*s, bb)), FS(b, bb));
}

/* sin(r + rl), rl a small correction of r */
static uint32_t sin_poly(Fn *F, const Type *t, uint32_t r, uint32_t rl)
{
    static const double P[] = {1.0 / 362880.0, -1.0 / 5040.0, 1.0 / 120.0, -1.0 / 6.0};
    uint32_t z = FM(r, r);
    return FA(r, FA(rl, FM(FM(r, z), horner(F, t, z, P, 4))));
}

static uint32_t cos_poly(Fn *F, const Type *t, uint32_t r)
{
    static const double P[] = {-1.0 / 3628800.0, 1.0 / 40320.0, -1.0 / 720.0, 1.0 / 24.0};
    uint32_t z = FM(r, r);
    return FA(FS(fk(F, t, 1.0), FM(fk(F, t, 0.5), z)), FM(FM(z, z), horner(F, t, z, P, 4)));
}

static uint32_t m_trig(Fn *F, const Type *t, uint32_t x, BuiltinId bi)
{
    uint32_t n = fround_(F, t, FM(x, fk(F, t, 0.63661977236758134)));
    /* r = rh + rl: x - n C1 is exact, the rest is summed in two parts */
    uint32_t r1 = FS(x, FM(n, fk(F, t, 0x1.922p+0))), a, ae, rh, rl;
    two_sum(F, t, r1, FM(n, fk(F, t, 0x1.2aep-18)), &a, &ae);
    uint32_t tail = FS(FS(ae, FM(n, fk(F, t, -0x1.deap-31))), FM(n, fk(F, t, 0x1.184698p-44)));
    two_sum(F, t, a, tail, &rh, &rl);
    uint32_t q = FS(n, FM(fk(F, t, 4.0), EXT(F, MF_T, GLSLstd450Floor, FM(n, fk(F, t, 0.25)))));
    uint32_t odd = OPR(F, SpvOpLogicalOr, MF_B, OPR(F, SpvOpFOrdEqual, MF_B, q, fk(F, t, 1.0)),
                       OPR(F, SpvOpFOrdEqual, MF_B, q, fk(F, t, 3.0)));
    uint32_t hi = OPR(F, SpvOpFOrdGreaterThanEqual, MF_B, q, fk(F, t, 2.0));
    /* sin(rh + rl) = sin rh + rl cos rh, cos(rh + rl) = cos rh - rl sin rh, to first order */
    uint32_t s = sin_poly(F, t, rh, rl), c = FS(cos_poly(F, t, rh), FM(rl, rh)), res;
    if (bi == BI_TAN) {
        /* s/c or -c/s, the quotient corrected by its exact residual: Vulkan allows OpFDiv
         * 2.5 ulp, which would add to the 1 ulp of s and of c */
        uint32_t num = SEL(odd, c, s), den = SEL(odd, s, c), p, pe;
        uint32_t qt = FD(num, den);
        two_prod(F, t, qt, den, &p, &pe);
        qt = FA(qt, FD(FS(FS(num, p), pe), den));
        res = SEL(odd, OPR(F, SpvOpFNegate, MF_T, qt), qt);
    } else {
        uint32_t v = bi == BI_SIN ? SEL(odd, c, s) : SEL(odd, s, c);
        uint32_t neg = bi == BI_SIN ? hi : OPR(F, SpvOpLogicalNotEqual, MF_B, odd, hi);
        res = SEL(neg, OPR(F, SpvOpFNegate, MF_T, v), v);
    }
    if (bi != BI_COS)
        res = SEL(OPR(F, SpvOpFOrdEqual, MF_B, x, fk(F, t, 0.0)), x, res); /* keeps -0 */
    return SEL(OPR(F, SpvOpIsInf, MF_B, x), fk(F, t, NAN), res);
}

/* 2^k for integral k in [-126, 127] given as a float, built from its bits */
static uint32_t pow2i(Fn *F, const Type *t, uint32_t k)
{
    const Type *it = ty_with_elem((Type *)t, ty_scalar(SC_INT));
    uint32_t I = vt(F, it);
    uint32_t ki = OPR(F, SpvOpConvertFToS, I, k);
    uint32_t b = OPR(F, SpvOpShiftLeftLogical, I, OPR(F, SpvOpIAdd, I, ki, cst(F, it, 127, 0)),
                     cst(F, it, 23, 0));
    return OPR(F, SpvOpBitcast, MF_T, b);
}

/* 2^(th + tl), |tl| tiny against 1 (tl ignored where th is out of range): th = n + f, 2^f by
 * its Taylor series to f^8 on [-1/2, 1/2] (truncation below 1e-9), scaled by 2^n in two
 * exact steps so overflow gives inf and underflow 0 (or a subnormal) */
static uint32_t exp2_hl(Fn *F, const Type *t, uint32_t th, uint32_t tl)
{
    static const double P[] = {1.3215486790144305e-6, 1.5252733804059838e-5, 1.5403530393381606e-4,
                               1.3333558146428441e-3, 9.6181291076284770e-3, 5.5504108664821576e-2,
                               2.4022650695910071e-1, 6.9314718055994531e-1};
    uint32_t thc = EXT(F, MF_T, GLSLstd450NClamp, th, fk(F, t, -160.0), fk(F, t, 130.0));
    uint32_t out = OPR(F, SpvOpFOrdNotEqual, MF_B, thc, th);
    uint32_t n = fround_(F, t, thc);
    uint32_t f = FA(FS(thc, n), SEL(out, fk(F, t, 0.0), tl));
    uint32_t p = FA(fk(F, t, 1.0), FM(f, horner(F, t, f, P, 8)));
    uint32_t n1 = EXT(F, MF_T, GLSLstd450Floor, FM(n, fk(F, t, 0.5)));
    uint32_t res = FM(FM(p, pow2i(F, t, n1)), pow2i(F, t, FS(n, n1)));
    return SEL(OPR(F, SpvOpIsNan, MF_B, th), th, res);
}

/* log2 of a finite a > 0 as hi + *lo (about 2^-40 relative): a = 2^e m, m in [0.707, 1.414],
 * log2 m = (2/ln 2) atanh(s), s = (m-1)/(m+1) carried as sh + sl, atanh by its series */
static uint32_t log2_hl(Fn *F, const Type *t, uint32_t a, uint32_t *lo)
{
    static const double P[] = {1.0 / 11.0, 1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0};
    const double K = 2.8853900817779268, Kh = (float)K, Kl = K - Kh;
    const Type *ut = ty_with_elem((Type *)t, ty_scalar(SC_UINT));
    const Type *it = ty_with_elem((Type *)t, ty_scalar(SC_INT));
    uint32_t U = vt(F, ut);
    uint32_t tiny = FLT(a, fk(F, t, 1.17549435e-38));
    uint32_t as = SEL(tiny, FM(a, fk(F, t, 16777216.0)), a);
    uint32_t bits = OPR(F, SpvOpBitcast, U, as);
    uint32_t eb =
        OPR(F, SpvOpBitwiseAnd, U, OPR(F, SpvOpShiftRightLogical, U, bits, cst(F, ut, 23, 0)),
            cst(F, ut, 0xff, 0));
    uint32_t e =
        OPR(F, SpvOpConvertSToF, MF_T, OPR(F, SpvOpISub, vt(F, it), eb, cst(F, it, 127, 0)));
    e = FA(e, SEL(tiny, fk(F, t, -24.0), fk(F, t, 0.0)));
    uint32_t mb =
        OPR(F, SpvOpBitwiseOr, U, OPR(F, SpvOpBitwiseAnd, U, bits, cst(F, ut, 0x7fffff, 0)),
            cst(F, ut, 0x3f800000u, 0));
    uint32_t m = OPR(F, SpvOpBitcast, MF_T, mb);
    uint32_t big = FGT(m, fk(F, t, 1.41421356237309505));
    m = SEL(big, FM(m, fk(F, t, 0.5)), m);
    e = SEL(big, FA(e, fk(F, t, 1.0)), e);
    uint32_t num = FS(m, fk(F, t, 1.0)), den, denl, p, pe;
    two_sum(F, t, m, fk(F, t, 1.0), &den, &denl);
    uint32_t sh = FD(num, den);
    two_prod(F, t, sh, den, &p, &pe);
    uint32_t sl = FD(FS(FS(FS(num, p), pe), FM(sh, denl)), den);
    uint32_t z = FM(sh, sh);
    uint32_t tail = FM(FM(sh, z), horner(F, t, z, P, 5));
    uint32_t ph, pl, hi, err;
    two_prod(F, t, fk(F, t, Kh), sh, &ph, &pl);
    uint32_t low = FA(FA(pl, FM(fk(F, t, Kh), FA(sl, tail))), FM(fk(F, t, Kl), sh));
    two_sum(F, t, e, ph, &hi, &err);
    low = FA(err, low);
    uint32_t H = FA(hi, low);
    *lo = FS(low, FS(H, hi));
    return H;
}

static uint32_t m_exp2(Fn *F, const Type *t, uint32_t x) { return exp2_hl(F, t, x, fk(F, t, 0.0)); }

/* pow as 2^(y log2|x|) in extra precision, with C99's special cases (F.9.4.4) */
static uint32_t m_pow(Fn *F, const Type *t, uint32_t x, uint32_t y)
{
    uint32_t B = MF_B;
    uint32_t ax = fabs_(F, t, x), Ll, th, te;
    uint32_t L = log2_hl(F, t, ax, &Ll);
    two_prod(F, t, y, L, &th, &te);
    uint32_t r = exp2_hl(F, t, th, FA(te, FM(y, Ll)));
    uint32_t inf = fk(F, t, INFINITY), zero = fk(F, t, 0.0), one = fk(F, t, 1.0);
    uint32_t yint = OPR(F, SpvOpFOrdEqual, B, EXT(F, MF_T, GLSLstd450Floor, y), y);
    uint32_t yh = FM(y, fk(F, t, 0.5));
    uint32_t yodd = OPR(F, SpvOpLogicalAnd, B, yint,
                        OPR(F, SpvOpFOrdNotEqual, B, EXT(F, MF_T, GLSLstd450Floor, yh), yh));
    uint32_t yneg = FLT(y, zero), yinf = OPR(F, SpvOpIsInf, B, y);
    r = SEL(OPR(F, SpvOpFOrdEqual, B, ax, zero), SEL(yneg, inf, zero), r);
    r = SEL(OPR(F, SpvOpIsInf, B, ax), SEL(yneg, zero, inf), r);
    uint32_t toinf = OPR(F, SpvOpLogicalEqual, B, FLT(ax, one), yneg);
    r = SEL(yinf, SEL(OPR(F, SpvOpFOrdEqual, B, ax, one), one, SEL(toinf, inf, zero)), r);
    const Type *it = ty_with_elem((Type *)t, ty_scalar(SC_INT));
    uint32_t xneg = OPR(F, SpvOpSLessThan, B, OPR(F, SpvOpBitcast, vt(F, it), x), cst(F, it, 0, 0));
    r = SEL(OPR(F, SpvOpLogicalAnd, B, xneg, yodd), OPR(F, SpvOpFNegate, MF_T, r), r);
    uint32_t xfin = OPR(F, SpvOpLogicalNot, B, OPR(F, SpvOpIsInf, B, x));
    uint32_t ynonint = OPR(F, SpvOpLogicalAnd, B, OPR(F, SpvOpLogicalNot, B, yint),
                           OPR(F, SpvOpLogicalNot, B, yinf));
    uint32_t bad =
        OPR(F, SpvOpLogicalAnd, B, OPR(F, SpvOpLogicalAnd, B, FLT(x, zero), xfin), ynonint);
    r = SEL(bad, fk(F, t, NAN), r);
    uint32_t nan = OPR(F, SpvOpLogicalOr, B, OPR(F, SpvOpIsNan, B, x), OPR(F, SpvOpIsNan, B, y));
    r = SEL(nan, FA(x, y), r);
    uint32_t unit = OPR(F, SpvOpLogicalOr, B, OPR(F, SpvOpFOrdEqual, B, y, zero),
                        OPR(F, SpvOpFOrdEqual, B, x, one));
    return SEL(unit, one, r);
}

/* the accurate Vulkan form of builtin bi on float x (y for atan2), or 0 if GLSL's is kept */
static uint32_t vk_math(Fn *F, const Type *t, BuiltinId bi, uint32_t x, uint32_t y)
{
    switch (bi) {
    case BI_EXP: return m_exp(F, t, x);
    case BI_EXP2: return m_exp2(F, t, x);
    case BI_POW: return m_pow(F, t, x, y);
    case BI_SIN:
    case BI_COS:
    case BI_TAN: return m_trig(F, t, x, bi);
    case BI_LOG: return m_log(F, t, x, false);
    case BI_LOG2: return m_log(F, t, x, true);
    case BI_ATAN: return m_atan(F, t, x);
    case BI_ATAN2: return m_atan2(F, t, x, y);
    case BI_ASIN: return m_asin(F, t, x);
    case BI_ACOS: return m_acos(F, t, x);
    case BI_SINH:
    case BI_COSH:
    case BI_TANH: return m_sinh_cosh_tanh(F, t, x, bi);
    default: return 0;
    }
}

#undef MF_T
#undef MF_B
#undef FA
#undef FS
#undef FM
#undef FD
#undef SEL
#undef FLT
#undef FGT

/* builtin bi through vk_math in float (half and double convert around it) */
static uint32_t vk_accurate(Fn *F, const Type *t, BuiltinId bi, uint32_t x, uint32_t y)
{
    const Type *e = ty_elem((Type *)t);
    if (e->bits == 32) return vk_math(F, t, bi, x, y);
    const Type *ft = ty_with_elem((Type *)t, ty_scalar(SC_FLOAT));
    uint32_t a = OPR(F, SpvOpFConvert, vt(F, ft), x);
    uint32_t b = y ? OPR(F, SpvOpFConvert, vt(F, ft), y) : 0;
    uint32_t r = vk_math(F, ft, bi, a, b);
    return OPR(F, SpvOpFConvert, vt(F, t), r);
}

/* one-argument float math through the extended set (GLSL.std.450 or OpenCL.std) */
static uint32_t fmath1(Fn *F, const Type *t, uint32_t glsl, uint32_t ocl, uint32_t x)
{
    return EXT(F, vt(F, t), vk(F) ? glsl : ocl, x);
}

static uint32_t fmin_(Fn *F, const Type *t, uint32_t a, uint32_t b)
{
    return vk(F) ? EXT(F, vt(F, t), GLSLstd450NMin, a, b) : EXT(F, vt(F, t), OpenCLstd_Fmin, a, b);
}

static uint32_t fmax_(Fn *F, const Type *t, uint32_t a, uint32_t b)
{
    return vk(F) ? EXT(F, vt(F, t), GLSLstd450NMax, a, b) : EXT(F, vt(F, t), OpenCLstd_Fmax, a, b);
}

static uint32_t imin_(Fn *F, const Type *t, uint32_t a, uint32_t b)
{
    bool s = sgn(t);
    if (vk(F)) return EXT(F, vt(F, t), s ? GLSLstd450SMin : GLSLstd450UMin, a, b);
    return EXT(F, vt(F, t), s ? OpenCLstd_SMin : OpenCLstd_UMin, a, b);
}

static uint32_t imax_(Fn *F, const Type *t, uint32_t a, uint32_t b)
{
    bool s = sgn(t);
    if (vk(F)) return EXT(F, vt(F, t), s ? GLSLstd450SMax : GLSLstd450UMax, a, b);
    return EXT(F, vt(F, t), s ? OpenCLstd_SMax : OpenCLstd_UMax, a, b);
}

/* Vulkan bit counting on 32-bit values: clz (0 -> 32), ctz (0 -> 32), popcount */
static uint32_t clz32(Fn *F, const Type *t32, uint32_t x)
{
    uint32_t T = vt(F, t32), B = vt(F, bool_like(t32));
    uint32_t msb = EXT(F, T, GLSLstd450FindUMsb, x);
    uint32_t r = OPR(F, SpvOpISub, T, cst(F, t32, 31, 0), msb);
    uint32_t z = OPR(F, SpvOpIEqual, B, x, cst(F, t32, 0, 0));
    return OPR(F, SpvOpSelect, T, z, cst(F, t32, 32, 0), r);
}

static uint32_t ctz32(Fn *F, const Type *t32, uint32_t x)
{
    uint32_t T = vt(F, t32), B = vt(F, bool_like(t32));
    uint32_t l = EXT(F, T, GLSLstd450FindILsb, x);
    uint32_t z = OPR(F, SpvOpIEqual, B, x, cst(F, t32, 0, 0));
    return OPR(F, SpvOpSelect, T, z, cst(F, t32, 32, 0), l);
}

static uint32_t bitcount_vk(Fn *F, IrInst *i, BuiltinId bi)
{
    const Type *t = i->type;
    int w = ty_elem((Type *)t)->bits;
    const Type *t32 = ty_with_elem((Type *)t, ty_scalar(SC_UINT));
    uint32_t T32 = vt(F, t32), T = vt(F, t), x = V(F, i->ops[0]);
    uint32_t r;
    if (w == 64) {
        uint32_t lo = OPR(F, SpvOpUConvert, T32, x);
        uint32_t hi =
            OPR(F, SpvOpUConvert, T32, OPR(F, SpvOpShiftRightLogical, T, x, cst(F, t, 32, 0)));
        const Type *b32 = bool_like(t32);
        if (bi == BI_POPCOUNT) {
            r = OPR(F, SpvOpIAdd, T32, OPR(F, SpvOpBitCount, T32, lo),
                    OPR(F, SpvOpBitCount, T32, hi));
        } else if (bi == BI_CLZ) {
            uint32_t hz = OPR(F, SpvOpIEqual, vt(F, b32), hi, cst(F, t32, 0, 0));
            uint32_t a = clz32(F, t32, hi),
                     b = OPR(F, SpvOpIAdd, T32, clz32(F, t32, lo), cst(F, t32, 32, 0));
            r = OPR(F, SpvOpSelect, T32, hz, b, a);
        } else {
            uint32_t lz = OPR(F, SpvOpIEqual, vt(F, b32), lo, cst(F, t32, 0, 0));
            uint32_t a = ctz32(F, t32, lo),
                     b = OPR(F, SpvOpIAdd, T32, ctz32(F, t32, hi), cst(F, t32, 32, 0));
            r = OPR(F, SpvOpSelect, T32, lz, b, a);
        }
        return OPRI(F, SpvOpUConvert, T, V(F, i), r);
    }
    uint32_t x32 = w == 32 ? x : OPR(F, SpvOpUConvert, T32, x);
    if (bi == BI_POPCOUNT)
        r = OPR(F, SpvOpBitCount, T32, x32);
    else if (bi == BI_CLZ)
        r = OPR(F, SpvOpISub, T32, clz32(F, t32, x32), cst(F, t32, 32 - w, 0));
    else {
        r = ctz32(F, t32, x32);
        if (w < 32) r = EXT(F, T32, GLSLstd450UMin, r, cst(F, t32, w, 0));
    }
    if (w == 32) return OPRI(F, SpvOpCopyObject, T, V(F, i), r);
    return OPRI(F, SpvOpUConvert, T, V(F, i), r);
}

static uint32_t mulhi_vk(Fn *F, IrInst *i)
{
    const Type *t = i->type;
    int w = ty_elem((Type *)t)->bits;
    bool s = sgn(t);
    uint32_t T = vt(F, t), a = V(F, i->ops[0]), b = V(F, i->ops[1]);
    if (w >= 32) {
        uint32_t st = spv_id(C_);
        SPV(&C_->types, SpvOpTypeStruct, st, T, T);
        uint32_t m = OPR(F, s ? SpvOpSMulExtended : SpvOpUMulExtended, st, a, b);
        return OPRI(F, SpvOpCompositeExtract, T, V(F, i), m, 1);
    }
    const Type *t32 = ty_with_elem((Type *)t, ty_scalar(s ? SC_INT : SC_UINT));
    uint32_t T32 = vt(F, t32), cv = s ? SpvOpSConvert : SpvOpUConvert;
    uint32_t p = OPR(F, SpvOpIMul, T32, OPR(F, cv, T32, a), OPR(F, cv, T32, b));
    p = OPR(F, s ? SpvOpShiftRightArithmetic : SpvOpShiftRightLogical, T32, p, cst(F, t32, w, 0));
    return OPRI(F, SpvOpUConvert, T, V(F, i), p);
}

static uint32_t rotate_(Fn *F, IrInst *i)
{
    const Type *t = i->type;
    int w = ty_elem((Type *)t)->bits;
    uint32_t T = vt(F, t), a = V(F, i->ops[0]), b = V(F, i->ops[1]);
    if (!vk(F)) return EXT(F, T, OpenCLstd_Rotate, a, b);
    uint32_t m = cst(F, t, w - 1, 0);
    uint32_t n = OPR(F, SpvOpBitwiseAnd, T, b, m);
    uint32_t rn = OPR(F, SpvOpBitwiseAnd, T, OPR(F, SpvOpSNegate, T, b), m);
    uint32_t l = OPR(F, SpvOpShiftLeftLogical, T, a, n),
             r = OPR(F, SpvOpShiftRightLogical, T, a, rn);
    return OPR(F, SpvOpBitwiseOr, T, l, r);
}

static uint32_t subgroup(Fn *F, IrInst *i)
{
    BuiltinId bi = i->builtin;
    const Type *t = i->type;
    uint32_t T = vt(F, t);
    uint32_t sc = cu(F, SpvScopeSubgroup);
    if (!vk(F)) { /* OpenCL 1.2 level: subgroups of one work-item (as the OpenCL C backend) */
        uint32_t v = bi == BI_SUBGROUP_SIZE       ? cu(F, 1)
                     : bi == BI_SUBGROUP_LOCAL_ID ? cu(F, 0)
                                                  : V(F, i->ops[0]);
        return OPRI(F, SpvOpCopyObject, T, V(F, i), v);
    }
    spv_cap(C_, SpvCapabilityGroupNonUniform);
    if (bi == BI_SUBGROUP_SIZE || bi == BI_SUBGROUP_LOCAL_ID) {
        uint32_t tt;
        uint32_t var = spv_builtin_var(C_,
                                       bi == BI_SUBGROUP_SIZE ? SpvBuiltInSubgroupSize
                                                              : SpvBuiltInSubgroupLocalInvocationId,
                                       &tt);
        return OPRI(F, SpvOpLoad, T, V(F, i), var);
    }
    const Type *e = ty_elem((Type *)t);
    uint32_t x = V(F, i->ops[0]);
    if (bi == BI_SUBGROUP_ADD || bi == BI_SUBGROUP_MIN || bi == BI_SUBGROUP_MAX) {
        bool fl = e->kind == TY_FLOAT, s = e->is_signed;
        spv_cap(C_, SpvCapabilityGroupNonUniformArithmetic);
        uint32_t op = bi == BI_SUBGROUP_ADD
                          ? (fl ? SpvOpGroupNonUniformFAdd : SpvOpGroupNonUniformIAdd)
                      : bi == BI_SUBGROUP_MIN ? (fl  ? SpvOpGroupNonUniformFMin
                                                 : s ? SpvOpGroupNonUniformSMin
                                                     : SpvOpGroupNonUniformUMin)
                                              : (fl  ? SpvOpGroupNonUniformFMax
                                                 : s ? SpvOpGroupNonUniformSMax
                                                     : SpvOpGroupNonUniformUMax);
        return OPRI(F, op, T, V(F, i), sc, SpvGroupOperationReduce, x);
    }
    uint32_t lane = V(F, i->ops[1]);
    if (bi == BI_SUBGROUP_BROADCAST && i->ops[1]->op == IR_CONST) {
        spv_cap(C_, SpvCapabilityGroupNonUniformBallot);
        return OPRI(F, SpvOpGroupNonUniformBroadcast, T, V(F, i), sc, x, lane);
    }
    spv_cap(C_, SpvCapabilityGroupNonUniformShuffle);
    return OPRI(F, SpvOpGroupNonUniformShuffle, T, V(F, i), sc, x, lane);
}

/* the OpenCL.std instruction of each transcendental builtin (those vk_accurate computes on
 * Vulkan) */
static const uint32_t opencl_math[BI_COUNT] = {
    [BI_EXP] = OpenCLstd_Exp,   [BI_EXP2] = OpenCLstd_Exp2, [BI_LOG] = OpenCLstd_Log,
    [BI_LOG2] = OpenCLstd_Log2, [BI_POW] = OpenCLstd_Pow,   [BI_SIN] = OpenCLstd_Sin,
    [BI_COS] = OpenCLstd_Cos,   [BI_TAN] = OpenCLstd_Tan,   [BI_ASIN] = OpenCLstd_Asin,
    [BI_ACOS] = OpenCLstd_Acos, [BI_ATAN] = OpenCLstd_Atan, [BI_ATAN2] = OpenCLstd_Atan2,
    [BI_SINH] = OpenCLstd_Sinh, [BI_COSH] = OpenCLstd_Cosh, [BI_TANH] = OpenCLstd_Tanh,
};

static void emit_builtin(Fn *F, IrInst *i)
{
    BuiltinId bi = i->builtin;
    const BuiltinInfo *info = &builtin_info[bi];
    const Type *t = i->type;
    uint32_t T = vt(F, t), r = V(F, i);
    uint32_t last = 0;
    if (info->cls == BK_SG0 || info->cls == BK_SG1 || info->cls == BK_SGLANE) {
        subgroup(F, i);
        return;
    }
    const Type *at = i->nops ? i->ops[0]->type : t;
    const Type *ae = ty_elem((Type *)at);
    bool fl = ae->kind == TY_FLOAT;
    uint32_t x = i->nops > 0 ? V(F, i->ops[0]) : 0;
    uint32_t y = i->nops > 1 ? V(F, i->ops[1]) : 0;
    switch (bi) {
    case BI_ABS:
        if (fl)
            last = vk(F) ? EXT(F, T, GLSLstd450FAbs, x) : EXT(F, T, OpenCLstd_Fabs, x);
        else if (!ae->is_signed)
            last = x;
        else
            last = vk(F) ? EXT(F, T, GLSLstd450SAbs, x) : EXT(F, T, OpenCLstd_SAbs, x);
        break;
    case BI_MIN: last = fl ? fmin_(F, t, x, y) : imin_(F, t, x, y); break;
    case BI_MAX: last = fl ? fmax_(F, t, x, y) : imax_(F, t, x, y); break;
    case BI_CLAMP: {
        uint32_t lo = wid(F, i->ops[1], t), hi = wid(F, i->ops[2], t);
        last = fl ? fmin_(F, t, fmax_(F, t, x, lo), hi) : imin_(F, t, imax_(F, t, x, lo), hi);
        break;
    }
    case BI_MIX: {
        uint32_t a = wid(F, i->ops[2], t);
        uint32_t d = OPR(F, SpvOpFSub, T, y, x);
        last = OPR(F, SpvOpFAdd, T, x, OPR(F, SpvOpFMul, T, d, a));
        break;
    }
    case BI_STEP: {
        uint32_t edge = wid(F, i->ops[0], t);
        uint32_t lt = OPR(F, SpvOpFOrdLessThan, vt(F, bool_like(t)), y, edge);
        last = OPR(F, SpvOpSelect, T, lt, cst(F, t, 0, 0.0), cst(F, t, 1, 1.0));
        break;
    }
    case BI_SIGN: {
        uint32_t B = vt(F, bool_like(t));
        uint32_t z = cst(F, t, 0, 0.0);
        uint32_t nan = OPR(F, SpvOpIsNan, B, x);
        uint32_t r0 = OPR(F, SpvOpSelect, T, nan, z, x);
        uint32_t lt = OPR(F, SpvOpFOrdLessThan, B, x, z);
        uint32_t r1 = OPR(F, SpvOpSelect, T, lt, cst(F, t, 0, -1.0), r0);
        uint32_t gt = OPR(F, SpvOpFOrdGreaterThan, B, x, z);
        last = OPR(F, SpvOpSelect, T, gt, cst(F, t, 0, 1.0), r1);
        break;
    }
    case BI_SQRT: last = fmath1(F, t, GLSLstd450Sqrt, OpenCLstd_Sqrt, x); break;
    case BI_RSQRT: last = fmath1(F, t, GLSLstd450InverseSqrt, OpenCLstd_Rsqrt, x); break;
    case BI_EXP:
    case BI_EXP2:
    case BI_LOG:
    case BI_LOG2:
    case BI_POW:
    case BI_SIN:
    case BI_COS:
    case BI_TAN:
    case BI_ASIN:
    case BI_ACOS:
    case BI_ATAN:
    case BI_ATAN2:
    case BI_SINH:
    case BI_COSH:
    case BI_TANH:
        /* Vulkan: our own accurate code (GLSL.std.450's is not accurate enough); OpenCL: OpenCL.std */
        if (vk(F))
            last = vk_accurate(F, t, bi, x, y);
        else if (info->nargs == 2)
            last = EXT(F, T, opencl_math[bi], x, y);
        else
            last = EXT(F, T, opencl_math[bi], x);
        break;
    case BI_FLOOR: last = fmath1(F, t, GLSLstd450Floor, OpenCLstd_Floor, x); break;
    case BI_CEIL: last = fmath1(F, t, GLSLstd450Ceil, OpenCLstd_Ceil, x); break;
    case BI_TRUNC: last = fmath1(F, t, GLSLstd450Trunc, OpenCLstd_Trunc, x); break;
    case BI_ROUND:
        if (!vk(F)) {
            last = EXT(F, T, OpenCLstd_Round, x);
        } else { /* halfway cases away from zero, as C round() */
            uint32_t tr = EXT(F, T, GLSLstd450Trunc, x);
            uint32_t d = EXT(F, T, GLSLstd450FAbs, OPR(F, SpvOpFSub, T, x, tr));
            uint32_t ge =
                OPR(F, SpvOpFOrdGreaterThanEqual, vt(F, bool_like(t)), d, cst(F, t, 0, 0.5));
            uint32_t up = OPR(F, SpvOpFAdd, T, tr, EXT(F, T, GLSLstd450FSign, x));
            last = OPR(F, SpvOpSelect, T, ge, up, tr);
        }
        break;
    case BI_FRACT: {
        uint32_t fl_ = fmath1(F, t, GLSLstd450Floor, OpenCLstd_Floor, x);
        uint32_t d = OPR(F, SpvOpFSub, T, x, fl_);
        double below1 = ae->bits == 64   ? 0x1.fffffffffffffp-1
                        : ae->bits == 32 ? 0x1.fffffep-1
                                         : 0x1.ffcp-1;
        last = fmin_(F, t, d, cst(F, t, 0, below1));
        break;
    }
    case BI_FMOD:
        last = vk(F) ? OPR(F, SpvOpFRem, T, x, y) : EXT(F, T, OpenCLstd_Fmod, x, y);
        break;
    case BI_FMA: {
        uint32_t z = V(F, i->ops[2]);
        last = vk(F) ? EXT(F, T, GLSLstd450Fma, x, y, z) : EXT(F, T, OpenCLstd_Fma, x, y, z);
        break;
    }
    case BI_ISNAN: last = OPR(F, SpvOpIsNan, T, x); break;
    case BI_ISINF: last = OPR(F, SpvOpIsInf, T, x); break;
    case BI_SELECT: {
        const Type *ct = i->ops[2]->type;
        select_any(F, t, V(F, i->ops[2]), ct, y, x, r);
        return;
    }
    case BI_DOT:
        if (at->kind == TY_VEC)
            last = OPR(F, SpvOpDot, T, x, y);
        else
            last = OPR(F, SpvOpFMul, T, x, y);
        break;
    case BI_CROSS: {
        const Type *v3 = ty_vec((Type *)ae, 3);
        uint32_t V3 = vt(F, v3);
        uint32_t a = x, b = y;
        if (at->n == 4) {
            a = OPR(F, SpvOpVectorShuffle, V3, x, x, 0, 1, 2);
            b = OPR(F, SpvOpVectorShuffle, V3, y, y, 0, 1, 2);
        }
        uint32_t cr = vk(F) ? EXT(F, V3, GLSLstd450Cross, a, b) : EXT(F, V3, OpenCLstd_Cross, a, b);
        if (at->n == 4) {
            uint32_t z = cst(F, v3, 0, 0.0);
            last = OPR(F, SpvOpVectorShuffle, T, cr, z, 0, 1, 2, 3);
        } else {
            last = cr;
        }
        break;
    }
    case BI_LENGTH:
        last = vk(F) ? EXT(F, T, GLSLstd450Length, x) : EXT(F, T, OpenCLstd_Length, x);
        break;
    case BI_DISTANCE:
        last = vk(F) ? EXT(F, T, GLSLstd450Distance, x, y) : EXT(F, T, OpenCLstd_Distance, x, y);
        break;
    case BI_NORMALIZE:
        last = vk(F) ? EXT(F, T, GLSLstd450Normalize, x) : EXT(F, T, OpenCLstd_Normalize, x);
        break;
    case BI_POPCOUNT:
    case BI_CLZ:
    case BI_CTZ:
        if (vk(F)) {
            bitcount_vk(F, i, bi);
            return;
        }
        last = EXT(F, T,
                   bi == BI_POPCOUNT ? OpenCLstd_Popcount
                   : bi == BI_CLZ    ? OpenCLstd_Clz
                                     : OpenCLstd_Ctz,
                   x);
        break;
    case BI_MUL_HI:
        if (vk(F)) {
            mulhi_vk(F, i);
            return;
        }
        last = EXT(F, T, sgn(t) ? OpenCLstd_SMul_hi : OpenCLstd_UMul_hi, x, y);
        break;
    case BI_ROTATE: last = rotate_(F, i); break;
    case BI_ANY:
    case BI_ALL:
        if (at->kind != TY_VEC)
            last = x;
        else
            last = OPR(F, bi == BI_ANY ? SpvOpAny : SpvOpAll, T, x);
        break;
    default: ICE("builtin %s", info->name);
    }
    OPRI(F, SpvOpCopyObject, T, r, last);
}

/* ---------------------------------------------------------------- instructions */

static void emit_inst(Fn *F, IrInst *i)
{
    const Type *t = i->type;
    switch (i->op) {
    case IR_PARAM:
    case IR_CONST:
    case IR_UNDEF:
    case IR_WORKITEM:
    case IR_BUFLEN:
    case IR_PHI: return; /* prelude, constants, node heads */
    case IR_LOAD:
    case IR_STORE:
    case IR_ATOMIC: emit_access(F, i); return;
    case IR_BARRIER:
        if (vk(F))
            SPV(F->w, SpvOpControlBarrier, cu(F, SpvScopeWorkgroup), cu(F, SpvScopeWorkgroup),
                cu(F, SpvMemorySemanticsAcquireReleaseMask | SpvMemorySemanticsWorkgroupMemoryMask |
                          SpvMemorySemanticsUniformMemoryMask));
        else
            SPV(F->w, SpvOpControlBarrier, cu(F, SpvScopeWorkgroup), cu(F, SpvScopeWorkgroup),
                cu(F, SpvMemorySemanticsSequentiallyConsistentMask |
                          SpvMemorySemanticsWorkgroupMemoryMask |
                          SpvMemorySemanticsCrossWorkgroupMemoryMask));
        return;
    case IR_CALL: ICE("call to '%s' left after inlining", i->callee ? i->callee->name : "?");
    case IR_BUILTIN: emit_builtin(F, i); return;
    default: break;
    }
    if (ir_op_info[i->op].flags & OPF_TERM) return;
    uint32_t T = vt(F, t), r = V(F, i);
    const Type *e = ty_elem((Type *)t);
    switch (i->op) {
    case IR_ADD:
    case IR_SUB:
    case IR_MUL: {
        bool fl = e->kind == TY_FLOAT;
        uint32_t op = i->op == IR_ADD   ? (fl ? SpvOpFAdd : SpvOpIAdd)
                      : i->op == IR_SUB ? (fl ? SpvOpFSub : SpvOpISub)
                                        : (fl ? SpvOpFMul : SpvOpIMul);
        OPRI(F, op, T, r, V(F, i->ops[0]), V(F, i->ops[1]));
        return;
    }
    case IR_DIV:
        if (e->kind == TY_FLOAT)
            OPRI(F, SpvOpFDiv, T, r, V(F, i->ops[0]), V(F, i->ops[1]));
        else
            safe_divrem(F, i, false);
        return;
    case IR_REM:
        if (e->kind == TY_FLOAT)
            OPRI(F, SpvOpFRem, T, r, V(F, i->ops[0]), V(F, i->ops[1]));
        else
            safe_divrem(F, i, true);
        return;
    case IR_NEG:
        OPRI(F, e->kind == TY_FLOAT ? SpvOpFNegate : SpvOpSNegate, T, r, V(F, i->ops[0]));
        return;
    case IR_AND:
    case IR_OR:
    case IR_XOR: {
        bool b = e->kind == TY_BOOL;
        uint32_t op = i->op == IR_AND  ? (b ? SpvOpLogicalAnd : SpvOpBitwiseAnd)
                      : i->op == IR_OR ? (b ? SpvOpLogicalOr : SpvOpBitwiseOr)
                                       : (b ? SpvOpLogicalNotEqual : SpvOpBitwiseXor);
        OPRI(F, op, T, r, V(F, i->ops[0]), V(F, i->ops[1]));
        return;
    }
    case IR_NOT:
        OPRI(F, e->kind == TY_BOOL ? SpvOpLogicalNot : SpvOpNot, T, r, V(F, i->ops[0]));
        return;
    case IR_SHL:
    case IR_SHR: {
        uint32_t n = OPR(F, SpvOpBitwiseAnd, T, V(F, i->ops[1]), cst(F, t, e->bits - 1, 0));
        uint32_t op = i->op == IR_SHL ? SpvOpShiftLeftLogical
                      : e->is_signed  ? SpvOpShiftRightArithmetic
                                      : SpvOpShiftRightLogical;
        OPRI(F, op, T, r, V(F, i->ops[0]), n);
        return;
    }
    case IR_EQ:
    case IR_NE:
    case IR_LT:
    case IR_LE:
    case IR_GT:
    case IR_GE:
        OPRI(F, cmp_op(i->op, i->ops[0]->type), T, r, V(F, i->ops[0]), V(F, i->ops[1]));
        return;
    case IR_SELECT:
        select_any(F, t, V(F, i->ops[0]), i->ops[0]->type, V(F, i->ops[1]), V(F, i->ops[2]), r);
        return;
    case IR_CONVERT: convert(F, t, i->ops[0]->type, V(F, i->ops[0]), r); return;
    case IR_VECTOR: {
        uint32_t ops[4];
        for (int k = 0; k < i->nops && k < 4; k++) ops[k] = V(F, i->ops[k]);
        construct(F, T, r, ops, i->nops);
        return;
    }
    case IR_SPLAT: {
        uint32_t s = V(F, i->ops[0]);
        uint32_t ops[4] = {s, s, s, s};
        construct(F, T, r, ops, t->n);
        return;
    }
    case IR_EXTRACT:
        OPRI(F, SpvOpCompositeExtract, T, r, V(F, i->ops[0]), (uint32_t)i->idx);
        return;
    case IR_INSERT:
        OPRI(F, SpvOpCompositeInsert, T, r, V(F, i->ops[1]), V(F, i->ops[0]), (uint32_t)i->idx);
        return;
    case IR_SHUFFLE: {
        uint32_t v = V(F, i->ops[0]);
        if (t->kind != TY_VEC) {
            OPRI(F, SpvOpCompositeExtract, T, r, v, (uint32_t)i->mask[0]);
            return;
        }
        uint32_t ops[6] = {v, v};
        for (int k = 0; k < t->n; k++) ops[2 + k] = (uint32_t)i->mask[k];
        emitr(F, SpvOpVectorShuffle, T, r, ops, 2 + t->n);
        return;
    }
    default: ICE("IR op %s", ir_op_info[i->op].name);
    }
}

/* ---------------------------------------------------------------- prelude */

static void prelude(Fn *F)
{
    const IrFunc *f = F->f;
    for (int bi = 0; bi < f->blocks.len; bi++) {
        for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next) {
            if (i->op == IR_PARAM) {
                int p = i->param;
                ICE_ASSERT(p >= 0 && p < f->nparams);
                if (!F->pval[p]) {
                    const Type *t = f->params[p].type;
                    if (vk(F))
                        F->pval[p] = compose(F, t, F->scal_off[p]);
                    else if (t->kind == TY_STRUCT) {
                        uint32_t raw = OPR(F, SpvOpLoad, spv_ptype(C_, t), F->pparam[p]);
                        F->pval[p] = phys2log(F, t, raw);
                    } else {
                        F->pval[p] = phys2log(F, t, F->pparam[p]);
                    }
                }
                if (F->vid[i->id])
                    OPRI(F, SpvOpCopyObject, vt(F, i->type), F->vid[i->id], F->pval[p]);
                else
                    F->vid[i->id] = F->pval[p];
            } else if (i->op == IR_WORKITEM || i->op == IR_BUFLEN) {
                uint32_t v =
                    i->op == IR_BUFLEN ? F->len[i->mem.id] : workitem(F, i->builtin, i->dim);
                if (F->vid[i->id])
                    OPRI(F, SpvOpCopyObject, u32(F), F->vid[i->id], v);
                else
                    F->vid[i->id] = v;
            }
        }
    }
}

/* ---------------------------------------------------------------- kernel */

/* a float array type with uint elements (shared arrays updated by float atomics) */
static uint32_t uint_shape(Fn *F, const Type *t)
{
    if (t->kind == TY_ARRAY)
        return spv_t_array(C_, uint_shape(F, t->elem), (uint32_t)t->n, t->elem->size);
    return u32(F);
}

/* ---------------------------------------------------------------- structured control flow */

/* values every block can use: defined in the prelude or constants */
static bool everywhere(const IrInst *v)
{
    return v->op == IR_PARAM || v->op == IR_CONST || v->op == IR_UNDEF || v->op == IR_WORKITEM ||
           v->op == IR_BUFLEN;
}

/* Values in Function variables: every phi (stored on the edges into its block, loaded at its
 * start) and, when the region tree uses the selector, every value used outside its block (a
 * guard may join paths the IR kept apart: stored after its definition, loaded at the start
 * of every other block that uses it). Drivers promote them back to SSA. */
static void plan_vars(Fn *F)
{
    const IrFunc *f = F->f;
    for (int bi = 0; bi < f->blocks.len; bi++) {
        const IrBlock *b = f->blocks.data[bi];
        if (!ir_cfg_reachable(F->cfg, b)) continue;
        for (IrInst *i = b->first; i; i = i->next) {
            if (i->op == IR_PHI) F->var[i->id] = 1;
            for (int k = 0; k < i->nops && F->rt->uses_selector; k++) {
                const IrInst *o = i->ops[k];
                const IrBlock *ub = i->op == IR_PHI ? b->preds[k] : b;
                if (!everywhere(o) && o->block != ub) F->var[o->id] = 1;
            }
        }
    }
    for (int bi = 0; bi < f->blocks.len; bi++) {
        const IrBlock *b = f->blocks.data[bi];
        if (!ir_cfg_reachable(F->cfg, b)) continue;
        for (IrInst *i = b->first; i; i = i->next)
            if (F->var[i->id]) {
                F->var[i->id] = spv_id(C_);
                SPV(F->w, SpvOpVariable, spv_t_ptr(C_, SpvStorageClassFunction, vt(F, i->type)),
                    F->var[i->id], SpvStorageClassFunction);
            }
    }
    if (F->rt->uses_selector) {
        F->selvar = spv_id(C_);
        if (vk(F))
            SPV(F->w, SpvOpVariable, spv_t_ptr(C_, SpvStorageClassFunction, u32(F)), F->selvar,
                SpvStorageClassFunction, cu(F, 0));
        else /* zeroed by a store (emit_body): see there */
            SPV(F->w, SpvOpVariable, spv_t_ptr(C_, SpvStorageClassFunction, u32(F)), F->selvar,
                SpvStorageClassFunction);
    }
}

/* loads v from its variable for the current block (until the enclosing list ends) */
static void load_var(Fn *F, const IrInst *v)
{
    Undo u = {v->id, F->vid[v->id]};
    vec_push(F->a, &F->undo, u);
    F->vid[v->id] = OPR(F, SpvOpLoad, vt(F, v->type), F->var[v->id]);
}

static int pred_pos(const IrBlock *s, const IrBlock *b, int occ)
{
    for (int k = 0; k < s->npreds; k++)
        if (s->preds[k] == b && occ-- == 0) return k;
    ICE("b%d is not a predecessor of b%d", b->id, s->id);
}

/* block b: its phis and the values it uses from other blocks come from their variables */
static void emit_code(Fn *F, const IrBlock *b)
{
    for (IrInst *i = b->first; i && i->op == IR_PHI; i = i->next)
        OPRI(F, SpvOpLoad, vt(F, i->type), V(F, i), F->var[i->id]);
    if (F->rt->uses_selector) {
        int mark = F->undo.len;
        for (IrInst *i = b->first; i; i = i->next) {
            if (i->op == IR_PHI) continue;
            for (int k = 0; k < i->nops; k++) {
                const IrInst *o = i->ops[k];
                if (o->block == b || everywhere(o)) continue;
                bool seen = false;
                for (int u = mark; u < F->undo.len && !seen; u++)
                    seen = F->undo.data[u].id == o->id;
                if (!seen) load_var(F, o);
            }
        }
        IrBlock *succ[2];
        int ns = ir_succs(b, succ);
        for (int j = 0; j < ns; j++) {
            int k = pred_pos(succ[j], b, j == 1 && succ[0] == succ[1] ? 1 : 0);
            for (IrInst *p = succ[j]->first; p && p->op == IR_PHI; p = p->next) {
                const IrInst *o = p->ops[k];
                if (o->block == b || everywhere(o)) continue;
                bool seen = false;
                for (int u = mark; u < F->undo.len && !seen; u++)
                    seen = F->undo.data[u].id == o->id;
                if (!seen) load_var(F, o);
            }
        }
    }
    for (IrInst *i = b->first; i; i = i->next) {
        if (ir_op_info[i->op].flags & OPF_TERM) break;
        emit_inst(F, i);
        if (i->op != IR_PHI && F->var[i->id]) SPV(F->w, SpvOpStore, F->var[i->id], V(F, i));
    }
}

static void emit_edge(Fn *F, const IrBlock *b, const IrBlock *s, int occ)
{
    int k = pred_pos(s, b, occ);
    for (IrInst *p = s->first; p && p->op == IR_PHI; p = p->next)
        SPV(F->w, SpvOpStore, F->var[p->id], V(F, p->ops[k]));
}

static bool rg_empty(const IrRegion *r)
{
    if (r->kind != IR_RG_SEQ) return false;
    for (int k = 0; k < r->nkids; k++)
        if (!rg_empty(r->kids[k])) return false;
    return true;
}

static void open_label(Fn *F, uint32_t l, bool live)
{
    label(F, l);
    F->live = live;
    if (!live) SPV0(F->w, SpvOpUnreachable);
}

static void emit_rg(Fn *F, const IrRegion *r);

static void emit_list(Fn *F, const IrRegion *r)
{
    int mark = F->undo.len;
    emit_rg(F, r);
    while (F->undo.len > mark) {
        Undo u = F->undo.data[--F->undo.len];
        F->vid[u.id] = u.old;
    }
}

static void emit_if(Fn *F, const IrRegion *r)
{
    const IrRegion *th = r->kids[0], *el = r->kids[1];
    bool te = rg_empty(th), ee = rg_empty(el);
    if (te && ee) return;
    uint32_t c;
    if (r->cond) {
        c = V(F, (IrInst *)r->cond);
    } else {
        uint32_t s = OPR(F, SpvOpLoad, u32(F), F->selvar);
        c = OPR(F, SpvOpIEqual, tbool(F), s, cu(F, (uint32_t)r->sel));
    }
    uint32_t lm = spv_id(C_), lt = te ? lm : spv_id(C_), le = ee ? lm : spv_id(C_);
    SPV(F->w, SpvOpSelectionMerge, lm, SpvSelectionControlMaskNone);
    if (r->neg)
        SPV(F->w, SpvOpBranchConditional, c, le, lt);
    else
        SPV(F->w, SpvOpBranchConditional, c, lt, le);
    bool live = false;
    for (int arm = 0; arm < 2; arm++) {
        if (arm ? ee : te) {
            live = true;
            continue;
        }
        open_label(F, arm ? le : lt, true);
        emit_list(F, arm ? el : th);
        if (F->live) SPV(F->w, SpvOpBranch, lm);
        live |= F->live;
    }
    open_label(F, lm, live);
}

static void emit_rg(Fn *F, const IrRegion *r)
{
    if (!F->live) return;
    switch (r->kind) {
    case IR_RG_SEQ:
        for (int k = 0; k < r->nkids && F->live; k++) emit_rg(F, r->kids[k]);
        return;
    case IR_RG_CODE: emit_code(F, r->b); return;
    case IR_RG_EDGE: emit_edge(F, r->b, r->to, r->occ); return;
    case IR_RG_IF: emit_if(F, r); return;
    case IR_RG_LOOP: {
        uint32_t lh = spv_id(C_), lb = spv_id(C_), lc = spv_id(C_), lm = spv_id(C_);
        SPV(F->w, SpvOpBranch, lh);
        label(F, lh);
        SPV(F->w, SpvOpLoopMerge, lm, lc, SpvLoopControlMaskNone);
        SPV(F->w, SpvOpBranch, lb);
        open_label(F, lb, true);
        LoopLabels L = {lm, lc, false};
        vec_push(F->a, &F->loops, L);
        emit_list(F, r->kids[0]);
        if (F->live) SPV(F->w, SpvOpBranch, lc);
        bool broken = F->loops.data[--F->loops.len].broken;
        label(F, lc);
        SPV(F->w, SpvOpBranch, lh);
        open_label(F, lm, broken);
        return;
    }
    case IR_RG_BREAK:
        ICE_ASSERT(F->loops.len > 0);
        F->loops.data[F->loops.len - 1].broken = true;
        SPV(F->w, SpvOpBranch, F->loops.data[F->loops.len - 1].merge);
        F->live = false;
        return;
    case IR_RG_CONTINUE:
        ICE_ASSERT(F->loops.len > 0);
        SPV(F->w, SpvOpBranch, F->loops.data[F->loops.len - 1].cont);
        F->live = false;
        return;
    case IR_RG_RETURN:
        SPV0(F->w, ir_terminator(r->b)->op == IR_UNREACHABLE ? SpvOpUnreachable : SpvOpReturn);
        F->live = false;
        return;
    case IR_RG_SETSEL: SPV(F->w, SpvOpStore, F->selvar, cu(F, (uint32_t)r->sel)); return;
    }
}

/* the entry block: function variables, the prelude, the global-size check; then the tree */
static void emit_body(Fn *F)
{
    const IrFunc *f = F->f;
    label(F, spv_id(C_));
    for (int s = 0; s < f->locals.len; s++) {
        uint32_t t = vt(F, f->locals.data[s].type);
        F->local[s] = spv_id(C_);
        if (vk(F))
            SPV(F->w, SpvOpVariable, spv_t_ptr(C_, SpvStorageClassFunction, t), F->local[s],
                SpvStorageClassFunction, zero_of(F, f->locals.data[s].type));
        else
            SPV(F->w, SpvOpVariable, spv_t_ptr(C_, SpvStorageClassFunction, t), F->local[s],
                SpvStorageClassFunction);
    }
    plan_vars(F);
    if (!vk(F)) {
        /* OpenCL: zeroed by stores after the variables, not by initializers: llvm-spirv 15 turns
           a Function variable with an initializer into a module-scope global, which every
           work-item then shares (a local array raced between work-groups on PoCL: wrong
           results that came and went with the machine's load) */
        for (int s = 0; s < f->locals.len; s++)
            SPV(F->w, SpvOpStore, F->local[s], zero_of(F, f->locals.data[s].type));
        if (F->rt->uses_selector) SPV(F->w, SpvOpStore, F->selvar, cu(F, 0));
    }
    if (vk(F)) {
        for (int p = 0; p < f->nparams; p++)
            if (f->params[p].type->kind == TY_BUFFER) F->len[p] = word(F, F->len_off[p] / 4);
        for (int d = 0; d < 3; d++) F->gsize[d] = word(F, F->gs_off / 4 + (uint32_t)d);
    }
    prelude(F);
    if (!(cg_kernel_flags(f, false) & DCK_ABI_KERNEL_BARRIER)) {
        uint32_t in = 0;
        for (int d = 0; d < 3; d++) {
            uint32_t lt =
                OPR(F, SpvOpULessThan, tbool(F), workitem(F, BI_GLOBAL_ID, d), F->gsize[d]);
            in = in ? OPR(F, SpvOpLogicalAnd, tbool(F), in, lt) : lt;
        }
        uint32_t lret = spv_id(C_), lgo = spv_id(C_);
        SPV(F->w, SpvOpSelectionMerge, lgo, SpvSelectionControlMaskNone);
        SPV(F->w, SpvOpBranchConditional, in, lgo, lret);
        label(F, lret);
        SPV0(F->w, SpvOpReturn);
        label(F, lgo);
    }
    F->live = true;
    emit_list(F, F->rt->root);
    if (F->live) SPV0(F->w, SpvOpReturn);
}

void spv_emit_kernel(SpvCtx *c, const IrFunc *f)
{
    Arena *fa = c->a; /* the module arena: freed by the caller, also after an internal error */
    Fn FF = {0}, *F = &FF;
    F->c = c;
    F->f = f;
    F->a = fa;
    F->w = &c->funcs;
    int np = f->nparams + 1;
    F->vid = arena_alloc(fa, sizeof(uint32_t) * (size_t)(f->next_id + 2));
    F->buf = arena_alloc(fa, sizeof(uint32_t) * (size_t)np);
    F->len = arena_alloc(fa, sizeof(uint32_t) * (size_t)np);
    F->pval = arena_alloc(fa, sizeof(uint32_t) * (size_t)np);
    F->pparam = arena_alloc(fa, sizeof(uint32_t) * (size_t)np);
    F->local = arena_alloc(fa, sizeof(uint32_t) * (size_t)(f->locals.len + 1));
    F->shared = arena_alloc(fa, sizeof(uint32_t) * (size_t)(f->shared.len + 1));
    F->alias = arena_alloc(fa, sizeof(uint32_t) * (size_t)np);
    F->shared_u = arena_alloc(fa, (size_t)f->shared.len + 1);
    if (c->vk) /* float atomic add: a uint view of the buffer, or float shared arrays as uint bits */
        for (int b = 0; b < f->blocks.len; b++)
            for (IrInst *i = f->blocks.data[b]->first; i; i = i->next) {
                if (i->op != IR_ATOMIC || i->type->kind != TY_FLOAT) continue;
                if (i->mem.kind == MEM_BUFFER) {
                    F->alias[i->mem.id] = 1;
                } else if (i->mem.kind == MEM_SHARED) {
                    const Type *st = f->shared.data[i->mem.id].type;
                    while (st->kind == TY_ARRAY) st = st->elem;
                    if (st->kind == TY_FLOAT && st->bits == 32) F->shared_u[i->mem.id] = 1;
                }
            }
    F->cfg = ir_cfg_compute(fa, f);
    F->rt = ir_cfg_regions(fa, F->cfg);
    F->var = arena_alloc(fa, sizeof(uint32_t) * (size_t)(f->next_id + 2));

    uint32_t fn = spv_id(c);
    if (f->has_wg)
        for (int d = 0; d < 3; d++) F->lsize[d] = cu(F, f->wg[d]);
    for (int s = 0; s < f->shared.len; s++) {
        uint32_t t =
            F->shared_u[s] ? uint_shape(F, f->shared.data[s].type) : vt(F, f->shared.data[s].type);
        F->shared[s] = spv_id(c);
        SPV(&c->types, SpvOpVariable, spv_t_ptr(c, SpvStorageClassWorkgroup, t), F->shared[s],
            SpvStorageClassWorkgroup);
        spv_name(c, F->shared[s], arena_printf(c->a, "%s_%s", f->name, f->shared.data[s].name));
    }
    uint32_t void_t = spv_t_void(c);
    if (c->vk) {
        vk_interface(F);
        uint32_t fty = spv_t_func(c, void_t, NULL, 0);
        SPV(F->w, SpvOpFunction, void_t, fn, SpvFunctionControlMaskNone, fty);
    } else {
        /* the ABI parameter list */
        uint32_t pts[64];
        int n = 0;
        uint32_t *pids = arena_alloc(fa, sizeof(uint32_t) * 64);
        for (int p = 0; p < f->nparams; p++) {
            const Type *t = f->params[p].type;
            if (t->kind == TY_BUFFER) {
                pts[n++] = spv_t_ptr(c, SpvStorageClassCrossWorkgroup, spv_ptype(c, t->elem));
                pts[n++] = u32(F);
            } else if (t->kind == TY_STRUCT) {
                pts[n++] = spv_t_ptr(c, SpvStorageClassFunction, spv_ptype(c, t));
            } else {
                pts[n++] = spv_ptype(c, t);
            }
            ICE_ASSERT(n < 56);
        }
        for (int d = 0; d < 3; d++) pts[n++] = u32(F);
        if (c->checked) pts[n++] = spv_t_ptr(c, SpvStorageClassCrossWorkgroup, u32(F));
        uint32_t fty = spv_t_func(c, void_t, pts, n);
        SPV(F->w, SpvOpFunction, void_t, fn, SpvFunctionControlMaskNone, fty);
        for (int k = 0; k < n; k++) {
            pids[k] = spv_id(c);
            SPV(F->w, SpvOpFunctionParameter, pts[k], pids[k]);
        }
        int k = 0;
        for (int p = 0; p < f->nparams; p++) {
            const Type *t = f->params[p].type;
            const char *nm = f->params[p].name;
            if (t->kind == TY_BUFFER) {
                F->buf[p] = pids[k];
                spv_name(c, pids[k], nm);
                spv_decorate(c, pids[k], SpvDecorationFuncParamAttr,
                             (const uint32_t[]){SpvFunctionParameterAttributeNoAlias}, 1);
                k++;
                F->len[p] = pids[k];
                spv_name(c, pids[k], arena_printf(c->a, "%s_len", nm));
                k++;
            } else {
                F->pparam[p] = pids[k];
                spv_name(c, pids[k], nm);
                if (t->kind == TY_STRUCT)
                    spv_decorate(c, pids[k], SpvDecorationFuncParamAttr,
                                 (const uint32_t[]){SpvFunctionParameterAttributeByVal}, 1);
                k++;
            }
        }
        static const char *const gs[3] = {"dck_global_size_x", "dck_global_size_y",
                                          "dck_global_size_z"};
        for (int d = 0; d < 3; d++) {
            F->gsize[d] = pids[k];
            spv_name(c, pids[k], gs[d]);
            k++;
        }
        if (c->checked) {
            F->oob = pids[k];
            spv_name(c, pids[k], "dck_oob");
        }
    }
    spv_name(c, fn, f->name);

    emit_body(F);
    SPV0(F->w, SpvOpFunctionEnd);

    /* entry point and modes */
    uint32_t model = c->vk ? SpvExecutionModelGLCompute : SpvExecutionModelKernel;
    uint32_t pre[2] = {model, fn};
    spv_string_inst(&c->entries, SpvOpEntryPoint, pre, 2, f->name, c->iface.data, c->iface.len);
    if (f->has_wg)
        SPV(&c->modes, SpvOpExecutionMode, fn, SpvExecutionModeLocalSize, f->wg[0], f->wg[1],
            f->wg[2]);
    else if (c->vk)
        vk_wg_spec(F);
    if (!c->vk) SPV(&c->modes, SpvOpExecutionMode, fn, SpvExecutionModeContractionOff);
}
