/* abi.h: the facts of the kernel ABI that the code generators and the runtime must agree on,
 * computed in one place (abi.c) for both sides: the layout of a GPU kernel's scalar block
 * (docs/gpu-abi.md) and the names of package blobs (abi/dckpkg.h).
 *
 * Self-contained: uses only dck_abi.h and the C library, so that codegen/ and runtime/ can
 * both include it without reaching into each other.
 */
#ifndef DCK_ABI_ABI_H
#define DCK_ABI_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dck_abi.h"

/* ---- the scalar block of a GPU kernel ----
 * By-value parameters in order (C alignment), then one uint32 length per buffer parameter,
 * then the launch's global size x, y, z (uint32 each). Vulkan passes it as push constants up
 * to ABI_PUSH_CONSTANT_MAX bytes, else as a uniform buffer; Metal and the text backends as a
 * struct. */
#define ABI_PUSH_CONSTANT_MAX 128u

typedef struct AbiBlock {
    uint32_t gsize_off; /* offset of the global size (3 x uint32) */
    uint32_t end;       /* bytes the fields use: gsize_off + 12 */
    uint32_t align;     /* the largest field alignment (at least 4) */
    uint32_t size;      /* end rounded up to align: the block's C sizeof */
} AbiBlock;

/* Only kind, size and align of each parameter are read. value_off[i] receives the offset of
 * by-value parameter i, len_off[i] that of buffer parameter i's length; either may be NULL. */
AbiBlock abi_scalar_block(const dck_abi_param *params, uint32_t nparams, uint32_t *value_off,
                          uint32_t *len_off);
/* Whether the block goes in a uniform buffer rather than push constants (Vulkan). */
bool abi_block_in_uniform(const AbiBlock *b);

/* ---- package blob targets ----
 * A blob is named by the dckc target that made it, with the variant for targets compiled
 * once per variant: "c", "opencl", "cuda", "msl", "spirv-vulkan", "spirv-opencl", "ptx-sm80". */

/* The blob name of (dckc target, variant) into buf: ("ptx", "80") -> "ptx-sm80";
 * variant is ignored for targets without variants. Returns buf. */
const char *abi_blob_name(char *buf, size_t n, const char *target, const char *variant);
/* Splits a blob name: the dckc target into target (n bytes), *variant points into name
 * ("80" for "ptx-sm80", "vulkan" for "spirv-vulkan"; NULL for targets without variants).
 * False when name is not a blob name of a known form. */
bool abi_blob_parse(const char *name, char *target, size_t n, const char **variant);
/* The sm of a "ptx-smNN" blob name (NN decimal digits only), 0 for any other name. */
uint32_t abi_blob_sm(const char *name);

/* ---- entry point symbols ----
 * OpenCL C, CUDA C and MSL reserve the names of their many builtin functions (`step`, `min`,
 * `dot`, `get_global_id`, `sin`...), which DCK kernels may take: in those three targets every
 * kernel's entry point is named ABI_ENTRY_PREFIX + its name ("dck_k_step"), so no name can
 * collide; PTX, SPIR-V and the CPU code keep their own rules. The runtime looks entries up
 * through the same function. */
#define ABI_ENTRY_PREFIX "dck_k_"

/* The entry symbol of kernel `name` in the code of dckc target `target` ("opencl", "cuda",
 * "msl", ...), into buf. Returns buf. */
const char *abi_entry_symbol(char *buf, size_t n, const char *target, const char *name);

#endif
