/* cg_spirv.h: internals of the SPIR-V backend (cg_spirv.c, cg_spirv_fn.c).
 *
 * The module is built as sections of 32-bit words in the order of the SPIR-V logical layout
 * (capabilities, extensions, imports, memory model, entry points, execution modes, debug
 * names, decorations, types/constants/globals, functions) and concatenated at the end.
 * Ids are handed out in the order things are first asked for while walking the IR in its
 * fixed order, so the output is deterministic. Types and constants are deduplicated by their
 * exact operand words (a lookup table keyed by content, never iterated).
 *
 * Two environments: Vulkan (Shader, Logical GLSL450, SPIR-V 1.3) and OpenCL (Kernel,
 * Physical64 OpenCL, SPIR-V 1.0). Every integer type is declared unsigned (signedness lives
 * in the operations, as the Kernel capability requires). Values use "logical" types (bool is
 * OpTypeBool); memory reached by the host (buffers, the oob record) uses "physical" types
 * with the C layout (bool is an 8-bit integer, Offset/ArrayStride decorations in Vulkan).
 */
#ifndef DCK_CG_SPIRV_H
#define DCK_CG_SPIRV_H

#include "cg.h"

#include <spirv/unified1/spirv.h>

typedef VEC(uint32_t) SpvWords;

/* ---- module context ---- */
typedef struct SpvTypeCache SpvTypeCache;

typedef struct SpvStructTypes {
    const Type *t;
    uint32_t phys, logical;
} SpvStructTypes;

typedef struct SpvCtx {
    const IrModule *m;
    bool vk;
    bool checked;
    Arena *a;
    uint32_t next_id;
    SpvWords caps, exts, imports, memmodel, entries, modes, debug, annot, types, funcs;
    VEC(uint32_t) cap_list;
    VEC(const char *) ext_list;
    uint32_t ext_inst; /* GLSL.std.450 or OpenCL.std */
    SpvTypeCache *cache;
    VEC(SpvStructTypes) structs;
    VEC(uint32_t) strided;    /* array types that have their ArrayStride decoration */
    VEC(uint8_t) is_const;    /* by id: a constant (OpConstant*) */
    uint32_t builtin_var[64]; /* by a small index, see spv_builtin_var */
    VEC(uint32_t) iface;      /* interface ids of the current entry point */
    VEC(uint32_t) iface_all;
    /* per kernel, used by cg_spirv_fn.c */
    const IrFunc *f;
    Arena *fa;
} SpvCtx;

/* The arena the word vectors of the module being built grow in (compilations are serialized
 * by the driver, so one module is built at a time). */
extern Arena *spv_words_arena;

uint32_t spv_id(SpvCtx *c);
void spv_inst(SpvWords *w, uint32_t op, const uint32_t *ops, int n);
#define SPV(w, op, ...)                                  \
    spv_inst((w), (op), (const uint32_t[]){__VA_ARGS__}, \
             (int)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)))
#define SPV0(w, op) spv_inst((w), (op), NULL, 0)
void spv_string_inst(SpvWords *w, uint32_t op, const uint32_t *pre, int npre, const char *s,
                     const uint32_t *post, int npost);
void spv_cap(SpvCtx *c, SpvCapability cap);
void spv_ext(SpvCtx *c, const char *name);
void spv_name(SpvCtx *c, uint32_t id, const char *name);
void spv_decorate(SpvCtx *c, uint32_t id, SpvDecoration d, const uint32_t *args, int n);

/* types (all integers unsigned) */
uint32_t spv_t_void(SpvCtx *c);
uint32_t spv_t_bool(SpvCtx *c);
uint32_t spv_t_int(SpvCtx *c, int bits);
uint32_t spv_t_float(SpvCtx *c, int bits);
uint32_t spv_t_vec(SpvCtx *c, uint32_t elem, int n);
uint32_t spv_t_ptr(SpvCtx *c, SpvStorageClass sc, uint32_t pointee);
uint32_t spv_t_array(SpvCtx *c, uint32_t elem, uint32_t n, uint32_t stride); /* stride 0: none */
uint32_t spv_t_func(SpvCtx *c, uint32_t ret, const uint32_t *params, int n);
uint32_t spv_vtype(SpvCtx *c, const Type *t); /* value (logical) type */
uint32_t spv_ptype(SpvCtx *c, const Type *t); /* physical (host-visible memory) type */
bool spv_has_bool(const Type *t);
uint32_t spv_rtarray(SpvCtx *c, const Type *elem); /* runtime array of elem's physical type */
/* constants */
uint32_t spv_c_int(SpvCtx *c, int bits, uint64_t v);
uint32_t spv_c_uint(SpvCtx *c, uint32_t v); /* 32-bit */
uint32_t spv_c_float(SpvCtx *c, int bits, double v);
uint32_t spv_c_bool(SpvCtx *c, bool v);
uint32_t spv_c_null(SpvCtx *c, uint32_t type);
uint32_t spv_c_composite(SpvCtx *c, uint32_t type, const uint32_t *parts, int n);
uint32_t spv_c_of(SpvCtx *c, const Type *t, uint64_t ibits, double f); /* scalar or splat */
uint32_t spv_undef(SpvCtx *c, uint32_t type);
bool spv_is_const(const SpvCtx *c, uint32_t id);
/* builtin input variable (Vulkan: uint3/uint; OpenCL: ulong3/uint) */
uint32_t spv_builtin_var(SpvCtx *c, SpvBuiltIn b, uint32_t *type_out);

/* Emits kernel f (its entry point, interface and function) into the module. */
void spv_emit_kernel(SpvCtx *c, const IrFunc *f);

#endif
