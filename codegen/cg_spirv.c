/* cg_spirv.c: the SPIR-V backend (--target=spirv): module assembly, types and constants,
 * validation, the CgTarget. Kernels are emitted by cg_spirv_fn.c from the region tree of
 * compiler/ir_cfg.h; see cg_spirv.h for the layout of a module and docs/backends.md for
 * the interface each environment gives the runtime.
 *
 * --spirv-env=vulkan (default): SPIR-V 1.3, Shader, Logical GLSL450, GLCompute entry points,
 * validated as SPV_ENV_VULKAN_1_1. --spirv-env=opencl: SPIR-V 1.0, Kernel + Addresses,
 * Physical64 OpenCL, validated as SPV_ENV_OPENCL_1_2 (modules computing in half, which
 * needs cl_khr_fp16, or using 64-bit atomics, which need cl_khr_int64_base_atomics, against
 * the SPIR-V 1.0 core rules); subgroups of one work-item there.
 * Every module goes through SPIRV-Tools' validator before it is returned; a module it
 * rejects is an internal error naming the kernel and the validator's message.
 */
#include "cg_spirv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <spirv-tools/libspirv.h>

/* ---------------------------------------------------------------- words */

uint32_t spv_id(SpvCtx *c) { return c->next_id++; }

void spv_inst(SpvWords *w, uint32_t op, const uint32_t *ops, int n)
{
    vec_push(spv_words_arena, w, ((uint32_t)(n + 1) << 16) | op);
    for (int i = 0; i < n; i++) vec_push(spv_words_arena, w, ops[i]);
}

Arena *spv_words_arena;

static int string_words(const char *s) { return (int)(strlen(s) / 4 + 1); }

static void put_string(SpvWords *w, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i <= n; i += 4) {
        uint32_t word = 0;
        for (size_t k = 0; k < 4 && i + k < n; k++)
            word |= (uint32_t)(unsigned char)s[i + k] << (8 * k);
        vec_push(spv_words_arena, w, word);
    }
}

void spv_string_inst(SpvWords *w, uint32_t op, const uint32_t *pre, int npre, const char *s,
                     const uint32_t *post, int npost)
{
    int n = npre + string_words(s) + npost;
    vec_push(spv_words_arena, w, ((uint32_t)(n + 1) << 16) | op);
    for (int i = 0; i < npre; i++) vec_push(spv_words_arena, w, pre[i]);
    put_string(w, s);
    for (int i = 0; i < npost; i++) vec_push(spv_words_arena, w, post[i]);
}

void spv_cap(SpvCtx *c, SpvCapability cap)
{
    for (int i = 0; i < c->cap_list.len; i++)
        if (c->cap_list.data[i] == (uint32_t)cap) return;
    vec_push(c->a, &c->cap_list, (uint32_t)cap);
}

void spv_ext(SpvCtx *c, const char *name)
{
    for (int i = 0; i < c->ext_list.len; i++)
        if (strcmp(c->ext_list.data[i], name) == 0) return;
    vec_push(c->a, &c->ext_list, name);
}

void spv_name(SpvCtx *c, uint32_t id, const char *name)
{
    spv_string_inst(&c->debug, SpvOpName, &id, 1, name, NULL, 0);
}

void spv_decorate(SpvCtx *c, uint32_t id, SpvDecoration d, const uint32_t *args, int n)
{
    uint32_t ops[8] = {id, (uint32_t)d};
    ICE_ASSERT(n <= 6);
    for (int i = 0; i < n; i++) ops[2 + i] = args[i];
    spv_inst(&c->annot, SpvOpDecorate, ops, n + 2);
}

/* ---------------------------------------------------------------- the type/constant cache */

typedef struct CacheEnt {
    uint64_t hash;
    uint32_t off, len, id;
} CacheEnt;

struct SpvTypeCache {
    CacheEnt *ents;
    uint32_t cap, count;
    SpvWords keys;
};

static uint64_t hash_words(const uint32_t *w, int n)
{
    return hash_fnv1a(w, sizeof(uint32_t) * (size_t)n, 0x5350ull);
}

static void cache_grow(SpvCtx *c)
{
    SpvTypeCache *t = c->cache;
    uint32_t nc = t->cap ? t->cap * 2 : 256;
    CacheEnt *ne = arena_alloc(c->a, sizeof(CacheEnt) * nc);
    for (uint32_t i = 0; i < t->cap; i++) {
        CacheEnt *e = &t->ents[i];
        if (!e->id) continue;
        uint32_t h = (uint32_t)e->hash & (nc - 1);
        while (ne[h].id) h = (h + 1) & (nc - 1);
        ne[h] = *e;
    }
    t->ents = ne;
    t->cap = nc;
}

/* The id of the instruction `op` with operands `ops` (without the result id, which goes at
 * position idpos), emitting it into sect the first time. *fresh says whether it was new. */
static uint32_t cached(SpvCtx *c, SpvWords *sect, uint32_t op, const uint32_t *ops, int n,
                       int idpos, bool *fresh)
{
    SpvTypeCache *t = c->cache;
    if ((t->count + 1) * 2 > t->cap) cache_grow(c);
    uint32_t key[40];
    ICE_ASSERT(n + 1 <= 40);
    key[0] = op;
    if (n) memcpy(key + 1, ops, sizeof(uint32_t) * (size_t)n);
    uint64_t h = hash_words(key, n + 1);
    uint32_t i = (uint32_t)h & (t->cap - 1);
    for (; t->ents[i].id; i = (i + 1) & (t->cap - 1)) {
        CacheEnt *e = &t->ents[i];
        if (e->hash == h && e->len == (uint32_t)(n + 1) &&
            memcmp(t->keys.data + e->off, key, sizeof(uint32_t) * (size_t)(n + 1)) == 0) {
            if (fresh) *fresh = false;
            return e->id;
        }
    }
    uint32_t id = spv_id(c);
    CacheEnt *e = &t->ents[i];
    e->hash = h;
    e->off = (uint32_t)t->keys.len;
    e->len = (uint32_t)(n + 1);
    e->id = id;
    for (int k = 0; k <= n; k++) vec_push(c->a, &t->keys, key[k]);
    t->count++;
    uint32_t full[41];
    int m = 0;
    for (int k = 0; k <= n; k++) {
        if (k == idpos) full[m++] = id;
        if (k < n) full[m++] = ops[k];
    }
    spv_inst(sect, op, full, n + 1);
    if (fresh) *fresh = true;
    if (op == SpvOpConstant || op == SpvOpConstantTrue || op == SpvOpConstantFalse ||
        op == SpvOpConstantNull || op == SpvOpConstantComposite) {
        while ((uint32_t)c->is_const.len <= id) vec_push(c->a, &c->is_const, 0);
        c->is_const.data[id] = 1;
    }
    return id;
}

/* ---------------------------------------------------------------- types */

uint32_t spv_t_void(SpvCtx *c) { return cached(c, &c->types, SpvOpTypeVoid, NULL, 0, 0, NULL); }
uint32_t spv_t_bool(SpvCtx *c) { return cached(c, &c->types, SpvOpTypeBool, NULL, 0, 0, NULL); }

uint32_t spv_t_int(SpvCtx *c, int bits)
{
    if (bits == 8) spv_cap(c, SpvCapabilityInt8);
    if (bits == 16) spv_cap(c, SpvCapabilityInt16);
    if (bits == 64) spv_cap(c, SpvCapabilityInt64);
    return cached(c, &c->types, SpvOpTypeInt, (const uint32_t[]){(uint32_t)bits, 0}, 2, 0, NULL);
}

uint32_t spv_t_float(SpvCtx *c, int bits)
{
    if (bits == 16) spv_cap(c, SpvCapabilityFloat16);
    if (bits == 64) spv_cap(c, SpvCapabilityFloat64);
    return cached(c, &c->types, SpvOpTypeFloat, (const uint32_t[]){(uint32_t)bits}, 1, 0, NULL);
}

uint32_t spv_t_vec(SpvCtx *c, uint32_t elem, int n)
{
    if (n == 1) return elem;
    return cached(c, &c->types, SpvOpTypeVector, (const uint32_t[]){elem, (uint32_t)n}, 2, 0, NULL);
}

uint32_t spv_t_ptr(SpvCtx *c, SpvStorageClass sc, uint32_t pointee)
{
    return cached(c, &c->types, SpvOpTypePointer, (const uint32_t[]){(uint32_t)sc, pointee}, 2, 0,
                  NULL);
}

static void stride(SpvCtx *c, uint32_t arr, uint32_t s)
{
    if (!c->vk || !s) return;
    for (int i = 0; i < c->strided.len; i++)
        if (c->strided.data[i] == arr) return;
    vec_push(c->a, &c->strided, arr);
    spv_decorate(c, arr, SpvDecorationArrayStride, &s, 1);
}

uint32_t spv_t_array(SpvCtx *c, uint32_t elem, uint32_t n, uint32_t s)
{
    uint32_t len = spv_c_uint(c, n);
    uint32_t id = cached(c, &c->types, SpvOpTypeArray, (const uint32_t[]){elem, len}, 2, 0, NULL);
    stride(c, id, s);
    return id;
}

static uint32_t t_rtarray(SpvCtx *c, uint32_t elem, uint32_t s)
{
    uint32_t id = cached(c, &c->types, SpvOpTypeRuntimeArray, &elem, 1, 0, NULL);
    stride(c, id, s);
    return id;
}

uint32_t spv_t_func(SpvCtx *c, uint32_t ret, const uint32_t *params, int n)
{
    uint32_t ops[32];
    ICE_ASSERT(n < 31);
    ops[0] = ret;
    if (n) memcpy(ops + 1, params, sizeof(uint32_t) * (size_t)n);
    return cached(c, &c->types, SpvOpTypeFunction, ops, n + 1, 0, NULL);
}

bool spv_has_bool(const Type *t)
{
    switch (t->kind) {
    case TY_BOOL: return true;
    case TY_VEC:
    case TY_ARRAY: return spv_has_bool(t->elem);
    case TY_STRUCT:
        for (int i = 0; i < t->nfields; i++)
            if (spv_has_bool(t->fields[i].type)) return true;
        return false;
    default: return false;
    }
}

static SpvStructTypes *struct_types(SpvCtx *c, const Type *t)
{
    for (int i = 0; i < c->structs.len; i++)
        if (c->structs.data[i].t == t) return &c->structs.data[i];
    uint32_t mem[64];
    ICE_ASSERT(t->nfields <= 64);
    for (int i = 0; i < t->nfields; i++) mem[i] = spv_ptype(c, t->fields[i].type);
    SpvStructTypes st = {t, 0, 0};
    st.phys = spv_id(c);
    uint32_t ops[65];
    ops[0] = st.phys;
    if (t->nfields) memcpy(ops + 1, mem, sizeof(uint32_t) * (size_t)t->nfields);
    spv_inst(&c->types, SpvOpTypeStruct, ops, t->nfields + 1);
    spv_name(c, st.phys, t->name);
    for (int i = 0; i < t->nfields; i++) {
        uint32_t pre[2] = {st.phys, (uint32_t)i};
        spv_string_inst(&c->debug, SpvOpMemberName, pre, 2, t->fields[i].name, NULL, 0);
        if (c->vk)
            SPV(&c->annot, SpvOpMemberDecorate, st.phys, (uint32_t)i, SpvDecorationOffset,
                t->fields[i].offset);
    }
    if (spv_has_bool(t)) {
        for (int i = 0; i < t->nfields; i++) mem[i] = spv_vtype(c, t->fields[i].type);
        st.logical = spv_id(c);
        ops[0] = st.logical;
        if (t->nfields) memcpy(ops + 1, mem, sizeof(uint32_t) * (size_t)t->nfields);
        spv_inst(&c->types, SpvOpTypeStruct, ops, t->nfields + 1);
        spv_name(c, st.logical, arena_printf(c->a, "%s_value", t->name));
    } else {
        st.logical = st.phys;
    }
    vec_push(c->a, &c->structs, st);
    return &c->structs.data[c->structs.len - 1];
}

uint32_t spv_vtype(SpvCtx *c, const Type *t)
{
    switch (t->kind) {
    case TY_VOID: return spv_t_void(c);
    case TY_BOOL: return spv_t_bool(c);
    case TY_INT: return spv_t_int(c, t->bits);
    case TY_FLOAT: return spv_t_float(c, t->bits);
    case TY_VEC: return spv_t_vec(c, spv_vtype(c, t->elem), t->n);
    case TY_STRUCT: return struct_types(c, t)->logical;
    case TY_ARRAY:
        return spv_t_array(c, spv_vtype(c, t->elem), (uint32_t)t->n,
                           spv_has_bool(t) ? 0 : t->elem->size);
    case TY_BUFFER: break;
    }
    ICE("no SPIR-V value type for %s", t->name);
}

uint32_t spv_ptype(SpvCtx *c, const Type *t)
{
    switch (t->kind) {
    case TY_BOOL: return spv_t_int(c, 8);
    case TY_VEC: return spv_t_vec(c, spv_ptype(c, t->elem), t->n);
    case TY_STRUCT: return struct_types(c, t)->phys;
    case TY_ARRAY: return spv_t_array(c, spv_ptype(c, t->elem), (uint32_t)t->n, t->elem->size);
    default: return spv_vtype(c, t);
    }
}

uint32_t spv_rtarray(SpvCtx *c, const Type *elem)
{
    return t_rtarray(c, spv_ptype(c, elem), elem->size);
}

/* ---------------------------------------------------------------- constants */

uint32_t spv_c_int(SpvCtx *c, int bits, uint64_t v)
{
    uint32_t t = spv_t_int(c, bits);
    if (bits < 64) {
        uint64_t mask = ((uint64_t)1 << bits) - 1;
        return cached(c, &c->types, SpvOpConstant, (const uint32_t[]){t, (uint32_t)(v & mask)}, 2,
                      1, NULL);
    }
    return cached(c, &c->types, SpvOpConstant,
                  (const uint32_t[]){t, (uint32_t)v, (uint32_t)(v >> 32)}, 3, 1, NULL);
}

uint32_t spv_c_uint(SpvCtx *c, uint32_t v) { return spv_c_int(c, 32, v); }

/* IEEE half bits of a double (round to nearest even). */
static uint32_t half_bits(double d)
{
    float f = (float)d;
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu, man = x & 0x7fffffu;
    if (exp == 0xff) return sign | 0x7c00u | (man ? 0x200u : 0);
    int e = (int)exp - 127 + 15;
    if (e >= 31) return sign | 0x7c00u;
    if (e <= 0) {
        if (e < -10) return sign;
        man |= 0x800000u;
        int shift = 14 - e;
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), halfw = 1u << (shift - 1);
        if (rem > halfw || (rem == halfw && (h & 1))) h++;
        return sign | h;
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;
    return sign | h;
}

uint32_t spv_c_float(SpvCtx *c, int bits, double v)
{
    uint32_t t = spv_t_float(c, bits);
    if (bits == 16)
        return cached(c, &c->types, SpvOpConstant, (const uint32_t[]){t, half_bits(v)}, 2, 1, NULL);
    if (bits == 32) {
        float f = (float)v;
        uint32_t w;
        memcpy(&w, &f, 4);
        return cached(c, &c->types, SpvOpConstant, (const uint32_t[]){t, w}, 2, 1, NULL);
    }
    uint64_t w;
    memcpy(&w, &v, 8);
    return cached(c, &c->types, SpvOpConstant,
                  (const uint32_t[]){t, (uint32_t)w, (uint32_t)(w >> 32)}, 3, 1, NULL);
}

uint32_t spv_c_bool(SpvCtx *c, bool v)
{
    uint32_t t = spv_t_bool(c);
    return cached(c, &c->types, v ? SpvOpConstantTrue : SpvOpConstantFalse, &t, 1, 1, NULL);
}

uint32_t spv_c_null(SpvCtx *c, uint32_t type)
{
    return cached(c, &c->types, SpvOpConstantNull, &type, 1, 1, NULL);
}

uint32_t spv_c_composite(SpvCtx *c, uint32_t type, const uint32_t *parts, int n)
{
    uint32_t ops[17];
    ICE_ASSERT(n <= 16);
    ops[0] = type;
    memcpy(ops + 1, parts, sizeof(uint32_t) * (size_t)n);
    return cached(c, &c->types, SpvOpConstantComposite, ops, n + 1, 1, NULL);
}

uint32_t spv_c_of(SpvCtx *c, const Type *t, uint64_t ibits, double f)
{
    const Type *e = ty_elem((Type *)t);
    uint32_t s;
    if (e->kind == TY_BOOL)
        s = spv_c_bool(c, ibits != 0);
    else if (e->kind == TY_INT)
        s = spv_c_int(c, e->bits, ibits);
    else
        s = spv_c_float(c, e->bits, f);
    if (t->kind != TY_VEC) return s;
    uint32_t parts[4] = {s, s, s, s};
    return spv_c_composite(c, spv_vtype(c, t), parts, t->n);
}

bool spv_is_const(const SpvCtx *c, uint32_t id)
{
    return id < (uint32_t)c->is_const.len && c->is_const.data[id];
}

uint32_t spv_undef(SpvCtx *c, uint32_t type)
{
    return cached(c, &c->types, SpvOpUndef, &type, 1, 1, NULL);
}

/* ---------------------------------------------------------------- builtins */

uint32_t spv_builtin_var(SpvCtx *c, SpvBuiltIn b, uint32_t *type_out)
{
    ICE_ASSERT((int)b >= 0 && (int)b < 64);
    bool scalar = b == SpvBuiltInSubgroupSize || b == SpvBuiltInSubgroupLocalInvocationId;
    uint32_t t = scalar ? spv_t_int(c, 32) : spv_t_vec(c, spv_t_int(c, c->vk ? 32 : 64), 3);
    if (type_out) *type_out = t;
    uint32_t v = c->builtin_var[b];
    if (!v) {
        v = c->builtin_var[b] = spv_id(c);
        SPV(&c->types, SpvOpVariable, spv_t_ptr(c, SpvStorageClassInput, t), v,
            SpvStorageClassInput);
        uint32_t bb = (uint32_t)b;
        spv_decorate(c, v, SpvDecorationBuiltIn, &bb, 1);
        if (!c->vk) spv_decorate(c, v, SpvDecorationConstant, NULL, 0);
        vec_push(c->a, &c->iface_all, v);
    }
    for (int i = 0; i < c->iface.len; i++)
        if (c->iface.data[i] == v) return v;
    vec_push(c->a, &c->iface, v);
    return v;
}

/* ---------------------------------------------------------------- module */

static void cat(StrBuf *out, const SpvWords *w)
{
    for (int i = 0; i < w->len; i++) {
        unsigned char b[4] = {(unsigned char)w->data[i], (unsigned char)(w->data[i] >> 8),
                              (unsigned char)(w->data[i] >> 16), (unsigned char)(w->data[i] >> 24)};
        sb_putn(out, b, 4);
    }
}

static void words_cat(SpvWords *dst, const SpvWords *src, Arena *a)
{
    for (int i = 0; i < src->len; i++) vec_push(a, dst, src->data[i]);
}

static int count_kernels(const IrModule *m)
{
    int n = 0;
    for (int i = 0; i < m->funcs.len; i++) n += m->funcs.data[i]->is_kernel;
    return n;
}

/* Builds the module of every kernel (only < 0) or of kernel number `only` into words;
 * *core_only tells whether it declares a capability that an OpenCL device offers only
 * through an extension the validator's OpenCL profiles do not know (see validation_env). */
/* The most blocks (OpLabel) one function may have: the validator's structured-control-flow
 * checks take time that grows with the square of them (measured here: 18 000 blocks 2.7 s,
 * 36 000 blocks 14 s, 78 000 blocks 87 s), and every module is validated. */
enum { SPV_MAX_FUNCTION_BLOCKS = 16384 };

static int count_labels(const SpvWords *w, int from)
{
    int n = 0;
    for (int i = from; i < w->len;) {
        uint32_t op = w->data[i] & 0xffffu, len = w->data[i] >> 16;
        n += op == SpvOpLabel;
        i += len ? (int)len : 1;
    }
    return n;
}

static void build_module(const IrModule *m, bool vk, bool checked, int only, SpvWords *out,
                         Arena *a, bool *core_only, const char **big, int *big_blocks)
{
    SpvCtx c = {0};
    c.m = m;
    c.vk = vk;
    c.checked = checked;
    c.a = a;
    c.next_id = 1;
    c.cache = arena_alloc(a, sizeof *c.cache);
    c.ext_inst = spv_id(&c);
    if (vk) {
        spv_cap(&c, SpvCapabilityShader);
    } else {
        spv_cap(&c, SpvCapabilityAddresses);
        spv_cap(&c, SpvCapabilityKernel);
        spv_cap(&c, SpvCapabilityInt64);
        /* a module without a kernel has no entry point: valid only as a library (Linkage), which
           the OpenCL environment allows (the Vulkan one does not: spirv_emit refuses) */
        if (count_kernels(m) == 0) spv_cap(&c, SpvCapabilityLinkage);
    }
    int k = 0;
    for (int i = 0; i < m->funcs.len; i++) {
        const IrFunc *f = m->funcs.data[i];
        if (!f->is_kernel) continue;
        if (only < 0 || only == k) {
            ice_context(f->name);
            c.iface.len = 0;
            int from = c.funcs.len;
            spv_emit_kernel(&c, f);
            int nb = count_labels(&c.funcs, from);
            if (big && nb > SPV_MAX_FUNCTION_BLOCKS && nb > *big_blocks) {
                *big = f->name;
                *big_blocks = nb;
            }
        }
        k++;
    }
    ice_context(NULL);
    *core_only = false;
    for (int i = 0; i < c.cap_list.len; i++)
        *core_only |= c.cap_list.data[i] == SpvCapabilityFloat16 ||
                      c.cap_list.data[i] == SpvCapabilityInt64Atomics;

    SpvWords w = {0};
    vec_push(a, &w, (uint32_t)SpvMagicNumber);
    vec_push(a, &w, vk ? 0x00010300u : 0x00010000u);
    vec_push(a, &w, 0u); /* generator: not registered */
    vec_push(a, &w, c.next_id);
    vec_push(a, &w, 0u);
    SpvWords head = {0};
    for (int i = 0; i < c.cap_list.len; i++) SPV(&head, SpvOpCapability, c.cap_list.data[i]);
    for (int i = 0; i < c.ext_list.len; i++)
        spv_string_inst(&head, SpvOpExtension, NULL, 0, c.ext_list.data[i], NULL, 0);
    spv_string_inst(&head, SpvOpExtInstImport, &c.ext_inst, 1, vk ? "GLSL.std.450" : "OpenCL.std",
                    NULL, 0);
    if (vk)
        SPV(&head, SpvOpMemoryModel, SpvAddressingModelLogical, SpvMemoryModelGLSL450);
    else
        SPV(&head, SpvOpMemoryModel, SpvAddressingModelPhysical64, SpvMemoryModelOpenCL);
    words_cat(&w, &head, a);
    words_cat(&w, &c.entries, a);
    words_cat(&w, &c.modes, a);
    words_cat(&w, &c.debug, a);
    words_cat(&w, &c.annot, a);
    words_cat(&w, &c.types, a);
    words_cat(&w, &c.funcs, a);
    *out = w;
}

/* OpenCL: half arithmetic needs cl_khr_fp16 and 64-bit atomics cl_khr_int64_base_atomics /
 * cl_khr_int64_extended_atomics, which the OpenCL profiles of the validator do not know
 * (they reject the Float16 and Int64Atomics capabilities); such modules are validated
 * against the SPIR-V 1.0 core rules instead. */
static spv_target_env validation_env(const IrModule *m, bool vk, bool core_only)
{
    if (vk) return SPV_ENV_VULKAN_1_1;
    (void)m;
    return core_only ? SPV_ENV_UNIVERSAL_1_0 : SPV_ENV_OPENCL_1_2;
}

/* NULL if valid, else the validator's message (in a). */
static const char *validate(const IrModule *m, bool vk, bool core_only, const SpvWords *w, Arena *a)
{
    spv_context ctx = spvContextCreate(validation_env(m, vk, core_only));
    if (!ctx) return "SPIRV-Tools: cannot create a validation context";
    spv_const_binary_t bin = {w->data, (size_t)w->len};
    spv_diagnostic diag = NULL;
    spv_validator_options opts = spvValidatorOptionsCreate();
    spv_result_t r = spvValidateWithOptions(ctx, opts, &bin, &diag);
    const char *msg = NULL;
    if (r != SPV_SUCCESS)
        msg = arena_strdup(a, diag && diag->error ? diag->error : "rejected (no message)");
    spvDiagnosticDestroy(diag);
    spvValidatorOptionsDestroy(opts);
    spvContextDestroy(ctx);
    return msg;
}

/* the environment named by s: 1 vulkan (also for none), 0 opencl, -1 unknown */
static int parse_env(const char *s)
{
    if (!s || !*s) return 1;
    size_t n = strcspn(s, ",");
    if (n == 6 && strncmp(s, "vulkan", 6) == 0) return 1;
    if (n == 6 && strncmp(s, "opencl", 6) == 0) return 0;
    return -1;
}

static bool spirv_emit(const IrModule *m, const CgOptions *o, StrBuf *out, StrBuf *err)
{
    const int env = parse_env(o ? o->spirv_env : NULL);
    if (env < 0) {
        sb_printf(err, "unknown SPIR-V environment '%s' (expected vulkan or opencl)", o->spirv_env);
        return false;
    }
    const bool vk = env == 1;
    if (vk && count_kernels(m) == 0) {
        /* Vulkan has no library modules: SPIR-V for the Shader capability needs an entry point */
        sb_printf(err,
                  "'%s' has no kernel: a SPIR-V module for Vulkan needs at least one entry point, "
                  "so there is nothing to write for SPIR-V (vulkan) (--spirv-env=opencl writes a "
                  "module without one; a package leaves spirv-vulkan out and loads on Vulkan as "
                  "a module with no kernels)",
                  m->source_name ? m->source_name : "the module");
        if (o && o->no_module) *o->no_module = true;
        return false;
    }
    bool checked = (o && o->checked) || m->checked;
    Arena *a = arena_new();
    Arena *saved_words = spv_words_arena;
    spv_words_arena = a;
    IceScope scope;
    ice_push(&scope);
    bool ok = true;
    if (setjmp(scope.jb) == 0) {
        SpvWords w = {0};
        bool core_only = false;
        const char *big = NULL;
        int big_blocks = 0;
        build_module(m, vk, checked, -1, &w, a, &core_only, &big, &big_blocks);
        const char *msg = big ? NULL : validate(m, vk, core_only, &w, a);
        if (big) {
            sb_printf(err,
                      "kernel '%s' is too large for SPIR-V: %d blocks after inlining, at most %d "
                      "(validating a function takes time that grows with the square of its "
                      "blocks); split it, or call its largest functions from fewer places",
                      big, big_blocks, SPV_MAX_FUNCTION_BLOCKS);
            if (o && o->rejected) *o->rejected = true;
            ok = false;
        } else if (msg) {
            /* find the kernel: validate the kernels one by one */
            const char *who = NULL, *kmsg = msg;
            int k = 0;
            for (int i = 0; i < m->funcs.len && !who; i++) {
                const IrFunc *f = m->funcs.data[i];
                if (!f->is_kernel) continue;
                SpvWords one = {0};
                build_module(m, vk, checked, k, &one, a, &core_only, NULL, NULL);
                const char *e = validate(m, vk, core_only, &one, a);
                if (e) {
                    who = f->name;
                    kmsg = e;
                }
                k++;
            }
            sb_printf(err, "SPIR-V (%s) of kernel '%s' rejected by the SPIRV-Tools validator: %s",
                      vk ? "vulkan" : "opencl", who ? who : "?", kmsg);
            ok = false;
        } else {
            StrBuf tmp = {0};
            SpvWords one = w;
            cat(&tmp, &one);
            sb_putn(out, tmp.data, tmp.len);
            sb_free(&tmp);
        }
        ice_pop(&scope);
    } else {
        ok = false;
        sb_puts(err, scope.msg);
    }
    ice_context(NULL);
    spv_words_arena = saved_words;
    arena_free(a);
    return ok;
}

bool cg_spirv_disassemble(const void *data, size_t len, StrBuf *out, StrBuf *err)
{
    if (len % 4 != 0) {
        sb_puts(err, "SPIR-V binary size is not a multiple of 4");
        return false;
    }
    size_t n = len / 4;
    uint32_t *w = malloc(sizeof(uint32_t) * (n ? n : 1));
    if (!w) {
        sb_puts(err, "out of memory");
        return false;
    }
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++)
        w[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
               (uint32_t)b[4 * i + 3] << 24;
    spv_context ctx = spvContextCreate(SPV_ENV_UNIVERSAL_1_3);
    spv_text text = NULL;
    spv_diagnostic diag = NULL;
    spv_result_t r = spvBinaryToText(
        ctx, w, n, SPV_BINARY_TO_TEXT_OPTION_FRIENDLY_NAMES | SPV_BINARY_TO_TEXT_OPTION_INDENT,
        &text, &diag);
    bool ok = r == SPV_SUCCESS;
    if (ok)
        sb_putn(out, text->str, text->length);
    else
        sb_printf(err, "cannot disassemble SPIR-V: %s", diag && diag->error ? diag->error : "?");
    spvTextDestroy(text);
    spvDiagnosticDestroy(diag);
    spvContextDestroy(ctx);
    free(w);
    return ok;
}

const CgTarget cg_target_spirv = {
    .name = "spirv",
    .ext = ".spv",
    .binary = true,
    .emit = spirv_emit,
};
