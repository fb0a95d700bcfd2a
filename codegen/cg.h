/* cg.h: the backend interface. A backend sees only the IR (compiler/ir.h), never the AST.
 *
 * Each target is one file (cg_c.c, later cg_ptx.c, cg_opencl.c, cg_spirv.c, cg_msl.c) that
 * defines one CgTarget. The driver runs the pass pipeline, then calls emit() on the
 * finished module. emit() returns false only for internal errors (an IR construct the
 * backend cannot express), with the reason in err; user errors never reach a backend.
 */
#ifndef DCK_CG_H
#define DCK_CG_H

#include "../compiler/ir.h"

typedef struct CgOptions {
    int opt_level;          /* 0..3 */
    bool checked;           /* bounds-checked buffer accesses */
    const char *cpu_isa;    /* C backend: "scalar" (default), later sse4/avx2/avx512/neon/native */
    const char **sm;        /* PTX: architectures */
    int nsm;
    const char *spirv_env;  /* SPIR-V: "vulkan" or "opencl" */
} CgOptions;

typedef struct CgTarget {
    const char *name;       /* as in --target: "c", "ptx", "opencl", "spirv", "msl" */
    const char *ext;        /* output file extension: ".c", ".ptx", ".cl", ".spv", ".metal" */
    bool binary;            /* output is binary (SPIR-V) */
    bool (*emit)(const IrModule *m, const CgOptions *o, StrBuf *out, StrBuf *err);
} CgTarget;

extern const CgTarget cg_target_c;

const CgTarget *cg_find_target(const char *name); /* NULL if unknown or not built */

/* ---- shared by backends and the package writer ---- */

/* Index of kernel f among the module's kernels (the order of dck_abi_module.kernels). */
int cg_kernel_index(const IrModule *m, const IrFunc *f);

/* Encodes a pipeline into the dck_abi_pipeline program (code words and constants),
 * appending to code/consts (allocated from a). Named vector types, because two spellings of
 * VEC(T) are distinct struct types in C. LABEL steps become word offsets into `code`. */
typedef VEC(uint32_t) CgWords;
typedef VEC(uint64_t) CgConsts;
void cg_encode_pipeline(const IrModule *m, const IrPipeline *p, CgWords *code,
                        CgConsts *consts, Arena *a);

/* Reflection of one parameter (dck_abi_param fields, as numbers). */
typedef struct CgParamInfo {
    uint32_t kind, is_const, scalar, vec, size, align;
    const char *type_name;
} CgParamInfo;
CgParamInfo cg_param_info(const IrParam *p);
uint32_t cg_shared_bytes(const IrFunc *f);     /* total shared memory of a kernel, laid out in order */
uint32_t cg_shared_offset(const IrFunc *f, int i); /* byte offset of shared array i in that layout */
uint32_t cg_kernel_flags(const IrFunc *f, bool checked);

#endif
