/* dckc.h: the compiler as a library (used by the dckc CLI, the runtime's JIT, the fuzzers).
 *
 * dckc_compile runs preprocess -> parse -> sema -> lower -> passes -> one output, entirely
 * in memory. It never exits and never writes files; internal errors come back as
 * DCKC_INTERNAL with the message in diagnostics. Thread-safe: concurrent calls are
 * serialized (the interning tables are shared by the whole process).
 */
#ifndef DCK_DCKC_H
#define DCK_DCKC_H

#include <stdbool.h>
#include <stddef.h>

#ifdef DCK_VERSION_STRING
#define DCKC_VERSION DCK_VERSION_STRING /* the project version, from CMake */
#else
#define DCKC_VERSION "0.1.0"
#endif

typedef enum DckcStatus {
    DCKC_OK = 0,
    DCKC_ERRORS = 1,   /* diagnostics with errors */
    DCKC_USAGE = 2,    /* bad options */
    DCKC_INTERNAL = 3, /* compiler bug */
} DckcStatus;

typedef enum DckcEmit {
    DCKC_EMIT_SOURCE, /* target code (--target) */
    DCKC_EMIT_TOKENS,
    DCKC_EMIT_AST,
    DCKC_EMIT_IR,       /* after passes */
    DCKC_EMIT_IR_RAW,   /* straight from lowering */
    DCKC_EMIT_PACKAGE,  /* .dckpkg holding every target of the target list (abi/dckpkg.h) */
    DCKC_EMIT_HEADER,   /* typed C launch API (one function per kernel and pipeline) */
    DCKC_EMIT_EMBED,    /* C source holding the package (+ the CPU code when "c" is a target) */
    DCKC_EMIT_MANIFEST, /* JSON reflection */
} DckcEmit;

typedef struct DckcOptions {
    const char **include_dirs;
    int ninclude_dirs;
    const char *stdlib_dir; /* NULL: the built-in default (DCK_STDLIB_DIR, or next to the binary) */
    const char **defines;   /* "NAME" or "NAME=VALUE" */
    int ndefines;
    const char **undefs;
    int nundefs;
    int opt_level; /* 0..3; default 2 */
    bool checked;
    bool werror;
    bool no_warnings;
    bool json_diagnostics;
    bool color;
    bool verify_each;    /* run the IR verifier after every pass (on in debug builds and tests) */
    const char *cpu_isa; /* C target */
    const char *report;  /* "fusion" or NULL */
    /* packages (--emit=package/embed/manifest): target is a comma list ("c,opencl,spirv",
       "all": every target of this build); "ptx" gives one blob per sm, "spirv" one per env */
    const char **sms; /* PTX architectures ("80", "90"); none: 80 */
    int nsms;
    const char *ptx_via;     /* "llvm" (default, NULL) or "nvrtc" (CUDA C through NVRTC) */
    const char **spirv_envs; /* "vulkan", "opencl"; none: vulkan */
    int nspirv_envs;
    const char *module_name; /* C identifier for header/embed names; NULL: from the file name */
} DckcOptions;

typedef struct DckcResult {
    DckcStatus status;
    char *diagnostics; /* rendered diagnostics (text or JSON lines); never NULL */
    char *output;      /* the requested output; NULL unless status == DCKC_OK */
    size_t output_len;
    char **deps; /* every file read (main file first), for -MD */
    int ndeps;
} DckcResult;

void dckc_options_init(DckcOptions *o);
/* source may be NULL (read path). target: "c", ... (ignored for tokens/ast/ir emits; a comma
 * list for package/embed/manifest/header, compiled once into one output). */
DckcStatus dckc_compile(const char *path, const char *source, const DckcOptions *o,
                        const char *target, DckcEmit emit, DckcResult *res);
void dckc_result_free(DckcResult *res);

/* CUDA C -> PTX for compute_<sm> ("80", "90") through NVRTC (dlopened; --fmad=false), as
 * --ptx-via=nvrtc does; used by the runtime's CUDA backend for a package's "cuda" blob.
 * Returns true with *ptx (malloc'ed, NUL-terminated); false with *log (malloc'ed, NVRTC's log
 * or why NVRTC is unavailable). The caller frees both with free(). Thread-safe. */
bool dckc_nvrtc_compile(const char *cuda_src, size_t len, const char *name, const char *sm,
                        char **ptx, char **log);

#endif
