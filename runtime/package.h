/* package.h: the .dckpkg reader and target choice (runtime/package.c); format in dckpkg.h.
 *
 * rt_package_parse validates everything before anything is used: magic, format version (a
 * newer one is DCK_ERROR_UNSUPPORTED naming both versions), sizes, the checksum, every
 * section offset and length, every count, every string (inside the string table and
 * NUL-terminated), every parameter/code/constant range of a kernel or pipeline, and every
 * blob's range. It works on its own copy of the bytes: the caller's buffer may go away.
 * It never reads outside [data, data + size).
 *
 * Target choice (rt_package_candidates) is one function per backend kind, in this order:
 *   CUDA    ptx-smNN for the device's sm (exact), then lower sms highest first (the driver
 *           JIT-compiles older PTX for the device), then "cuda" (CUDA C through NVRTC);
 *           with the device's sm unknown (0): every ptx-smNN highest first, then "cuda"
 *   Vulkan  spirv-vulkan
 *   OpenCL  spirv-opencl (only where the device takes it: cl_khr_spir and llvm-spirv present,
 *           ctx->spirv_ok), then opencl
 *   Metal   msl
 *   CPU     c (code compiled into the program and registered with dck_register_cpu_code is
 *           taken first, without a C compiler; otherwise the C blob is JIT-compiled)
 * dck_module_load_package tries the candidates in order through the backend's module_load and
 * takes the first that loads; dck_module_get_target tells which one it was.
 */
#ifndef DCK_PACKAGE_H
#define DCK_PACKAGE_H

#include "dck.h"
#include "abi/dck_abi.h"
#include "abi/dckpkg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct RtBlob {
    char target
        [32]; /* "c", "opencl", "cuda", "msl", "spirv-vulkan", "spirv-opencl", "ptx-sm80", ... */
    const uint8_t *data; /* inside the package's copy; text blobs are followed by a NUL */
    uint64_t size;       /* bytes, without that NUL */
} RtBlob;

typedef struct RtPackage {
    dck_abi_module abi; /* reflection; every cpu_group is NULL, private_bytes 0 */
    uint32_t nblobs;
    RtBlob *blobs; /* in file order (sorted by target name) */
    /* the rest is read-only for users of the package */
    uint32_t format_version;      /* DCK_PKG_VERSION */
    uint32_t flags;               /* DCK_PKG_FLAG_* */
    uint64_t checksum;            /* identifies the package (AOT CPU code is registered under it) */
    const char *compiler_version; /* dckc that wrote it */
    const char *options;          /* canonical compile options */
    const char *module_name;      /* C identifier of the module (header/embed outputs) */
    bool compiled_here;           /* made by rt_package_compile (its SPIR-V is validated) */
    uint8_t *bytes;               /* the owned copy of the file */
    size_t nbytes;
    dck_abi_kernel *kernels; /* arrays abi points to */
    dck_abi_pipeline *pipelines;
    dck_abi_param *params;
    uint32_t *code;
    uint64_t *consts;
} RtPackage;

/* Parses and validates a package image. On failure *out is NULL and the status is
 * DCK_ERROR_INVALID_MODULE (malformed, truncated, corrupted), DCK_ERROR_UNSUPPORTED (a
 * newer format or ABI version) or DCK_ERROR_OUT_OF_MEMORY, with the reason in the message. */
dck_status rt_package_parse(dck_context ctx, const void *data, size_t size, RtPackage **out);
const RtBlob *rt_package_blob(const RtPackage *p, const char *target); /* NULL if absent */
/* Checks a spirv-vulkan or spirv-opencl blob before a driver sees it: SPIRV-Tools' validator
 * (as dckc validates what it writes) and an entry point for every kernel of the reflection.
 * A package made from source in this process was validated when it was made. Invalid SPIR-V
 * with an intact checksum (a tool's bug, a crafted file) crashed lavapipe in
 * vkCreateComputePipelines. DCK_ERROR_INVALID_MODULE with the validator's message. */
dck_status rt_package_check_spirv(const RtPackage *pkg, const RtBlob *blob);
void rt_package_free(dck_context ctx, RtPackage *p);

/* Compiles a .dck (path, or source named path) with the module options into a package
 * holding `targets` (comma list of dckc targets: "c", "opencl", "spirv", "ptx", "msl", or
 * "all"). Compile errors come back as DCK_ERROR_COMPILE with the diagnostics. */
struct DckcOptions; /* driver/dckc.h */
/* dck_module_options (and the context's checked flag) as compiler options; *defs and *incs
 * are allocated (NULL when empty) and freed by the caller with rt_free after the compile. */
dck_status rt_dckc_options(dck_context ctx, const char *path, const dck_module_options *o,
                           struct DckcOptions *opts, const char ***defs, const char ***incs);
dck_status rt_package_compile(dck_context ctx, const char *path, const char *source,
                              const dck_module_options *o, const char *targets, RtPackage **out);
/* the same, with one SPIR-V environment (env: "vulkan"/"opencl") and / or one PTX sm ("90")
 * instead of the compiler's defaults (NULL: the defaults) */
dck_status rt_package_compile_for(dck_context ctx, const char *path, const char *source,
                                  const dck_module_options *o, const char *targets, const char *env,
                                  const char *sm, RtPackage **out);

/* The blobs a device of `backend` can take, best first (see the top of this file); `arch`
 * is the CUDA compute capability as major*10+minor (0: unknown, ignored elsewhere) and
 * `spirv_ok` whether an OpenCL device takes the spirv-opencl blob. Returns the number written to out
 * (at most max). */
uint32_t rt_package_candidates(const RtPackage *p, dck_backend backend, uint32_t arch,
                               bool spirv_ok, const RtBlob **out, uint32_t max);

/* The AOT registry (dck_register_cpu_code): the CPU module compiled into the program for
 * the package with this checksum, or NULL. */
const dck_abi_module *rt_package_aot_cpu(uint64_t checksum);

#endif
