/* cg.h: the backend interface. A backend sees only the IR (compiler/ir.h), never the AST.
 *
 * Each target is one file (cg_c.c, later cg_ptx.c, cg_opencl.c, cg_spirv.c, cg_msl.c) that
 * defines one CgTarget. The driver runs the pass pipeline, then calls emit() on the
 * finished module. emit() returns false only for internal errors (an IR construct the
 * backend cannot express), with the reason in err; user errors never reach a backend.
 */
#ifndef DCK_CG_H
#define DCK_CG_H

#include "abi/abi.h"
#include "compiler/ir.h"

typedef struct CgOptions {
    int opt_level;       /* 0..3 */
    bool checked;        /* bounds-checked buffer accesses */
    const char *cpu_isa; /* C backend: "scalar" (default), later sse4/avx2/avx512/neon/native */
    const char **sm;     /* PTX: architectures */
    int nsm;
    const char *spirv_env; /* SPIR-V: "vulkan" or "opencl" */
    const char *ptx_via;   /* PTX: "llvm" (default, NULL) or "nvrtc"; one emit = PTX for sm[0] */
    /* out: set by a backend whose emit fails because this machine lacks something it needs
     * (CUDA's libdevice): the driver reports err as a user-facing error, not an internal one */
    bool *unavailable;
    /* out: set by a backend whose target cannot hold this module (SPIR-V for Vulkan without a
     * kernel: no entry point), err saying why: the driver reports it as an error for a single
     * target and leaves the target out of a package */
    bool *no_module;
    /* out: set by a backend that refuses this module for a reason the user can act on (a
     * SPIR-V function too large to validate): err says why; the driver reports it as an error,
     * nothing is written (no partial package) */
    bool *rejected;
} CgOptions;

typedef struct CgTarget {
    const char *name; /* as in --target: "c", "ptx", "opencl", "spirv", "msl" */
    const char *ext;  /* output file extension: ".c", ".ptx", ".cl", ".spv", ".metal" */
    bool binary;      /* output is binary (SPIR-V) */
    bool (*emit)(const IrModule *m, const CgOptions *o, StrBuf *out, StrBuf *err);
} CgTarget;

extern const CgTarget cg_target_c;
extern const CgTarget cg_target_opencl; /* cg_opencl.c (OpenCL C through cg_text.c) */
extern const CgTarget cg_target_cuda;   /* cg_cuda.c (CUDA C through cg_text.c; cg_cuda.h) */
extern const CgTarget cg_target_msl;    /* cg_msl.c (Metal Shading Language through cg_text.c) */
extern const CgTarget cg_target_ptx; /* cg_ptx_load.c: loads the LLVM plugin on demand (cg_ptx.h) */
extern const CgTarget cg_target_spirv; /* cg_spirv*.c (binary; CgOptions.spirv_env picks the env) */
/* SPIR-V binary -> the SPIRV-Tools disassembly (dckc -o x.spvasm); false with err on failure */
bool cg_spirv_disassemble(const void *data, size_t len, StrBuf *out, StrBuf *err);

const CgTarget *cg_find_target(const char *name); /* NULL if unknown or not built */

/* ---- shared by backends and the package writer ---- */

/* Index of kernel f among the module's kernels (the order of dck_abi_module.kernels). */
int cg_kernel_index(const IrModule *m, const IrFunc *f);

/* Encodes a pipeline into the dck_abi_pipeline program (code words and constants),
 * appending to code/consts (allocated from a). Named vector types, because two spellings of
 * VEC(T) are distinct struct types in C. LABEL steps become word offsets into `code`. */
typedef VEC(uint32_t) CgWords;
typedef VEC(uint64_t) CgConsts;
void cg_encode_pipeline(const IrModule *m, const IrPipeline *p, CgWords *code, CgConsts *consts,
                        Arena *a);

/* Reflection of one parameter (dck_abi_param fields, as numbers). */
typedef struct CgParamInfo {
    uint32_t kind, is_const, scalar, vec, size, align;
    const char *type_name;
} CgParamInfo;
CgParamInfo cg_param_info(const IrParam *p);
uint32_t cg_shared_bytes(const IrFunc *f); /* total shared memory of a kernel, laid out in order */
uint32_t cg_shared_offset(const IrFunc *f,
                          int i); /* byte offset of shared array i in that layout */
uint32_t cg_kernel_flags(const IrFunc *f, bool checked);
/* The kernel's GPU scalar block (abi/abi.h): by-value parameter offsets into value_off and
 * buffer-length offsets into len_off (arrays of f->nparams, from a), either may be NULL. */
AbiBlock cg_scalar_block(Arena *a, const IrFunc *f, uint32_t **value_off, uint32_t **len_off);

/* ---- packages and the outputs built on them (cg_package.c, cg_header.c) ---- */
typedef struct CgBlob {
    const char *target; /* "c", "opencl", "spirv-vulkan", "ptx-sm80", ... (abi/dckpkg.h) */
    bool text;          /* source text (a NUL follows it in the package) */
    const char *data;
    size_t size;
} CgBlob;

typedef struct CgPackageInfo {
    const char *compiler_version;
    const char *options; /* canonical option string */
    const char *source_name;
    const char *module_name; /* C identifier: prefix of the header's and embed file's names */
    bool checked;
} CgPackageInfo;

/* Appends the .dckpkg image of m holding the blobs (any order: written sorted by target). */
void cg_write_package(const IrModule *m, const CgPackageInfo *info, const CgBlob *blobs, int nblobs,
                      StrBuf *out);
/* --emit=header: typed C launch functions, mirrored structs, the loader's declaration. */
void cg_emit_header(const IrModule *m, const CgPackageInfo *info, StrBuf *out);
/* --emit=embed: the package as a C array, the CPU code (c_source, may be NULL) compiled in
 * and registered, and the loader the header declares. */
void cg_emit_embed(const IrModule *m, const CgPackageInfo *info, const char *pkg, size_t pkg_len,
                   const char *c_source, size_t c_len, StrBuf *out);
/* --emit=manifest: JSON reflection of the module and the targets present. */
void cg_emit_manifest(const IrModule *m, const CgPackageInfo *info, const CgBlob *blobs, int nblobs,
                      StrBuf *out);

#endif
