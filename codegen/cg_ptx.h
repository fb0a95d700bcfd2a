/* cg_ptx.h: the interface between the compiler and its PTX code generator plugin.
 *
 * The PTX backend goes through the LLVM C API (LLVM 16: the NVPTX target). LLVM is large
 * (70-85 ms to load as libLLVM-16.so), so it is not linked into dckc, libdckrt or the
 * compiler library: codegen/cg_ptx.c is built into a plugin, libdckc_ptx.so, that
 * codegen/cg_ptx_load.c dlopens the first time PTX is asked for. The plugin exports one
 * symbol, dckc_ptx_plugin(), returning the table below; everything else in it is hidden
 * (LLVM included, linked statically by default), so it cannot clash with another LLVM in
 * the same process (an OpenCL driver, Mesa).
 *
 * The plugin reads the IR in place: the host and the plugin must be built from the same
 * sources, which `abi` and the structure sizes check before anything is called.
 */
#ifndef DCK_CG_PTX_H
#define DCK_CG_PTX_H

#include "cg.h"

#define CG_PTX_PLUGIN_ABI    1u
#define CG_PTX_PLUGIN_SYMBOL "dckc_ptx_plugin"
#define CG_PTX_PLUGIN_NAME   "libdckc_ptx.so"

typedef struct CgPtxPlugin {
    uint32_t abi;      /* CG_PTX_PLUGIN_ABI */
    uint32_t sizes[5]; /* sizeof IrInst, IrBlock, IrFunc, IrModule, Type */
    const char *llvm_version;
    /* PTX for one architecture `sm` ("75", "80", "86", "89", "90"). libdevice: path of
     * libdevice.10.bc (CUDA's math library as LLVM bitcode), linked in when the module uses
     * a transcendental function; NULL if not found (then such a module is an error).
     * Returns false with a message in err on failure. */
    bool (*emit)(const IrModule *m, const CgOptions *o, const char *sm, const char *libdevice,
                 StrBuf *out, StrBuf *err);
} CgPtxPlugin;

#define CG_PTX_SIZES                                                                   \
    {                                                                                  \
        (uint32_t)sizeof(IrInst), (uint32_t)sizeof(IrBlock), (uint32_t)sizeof(IrFunc), \
            (uint32_t)sizeof(IrModule), (uint32_t)sizeof(Type)                         \
    }

typedef const CgPtxPlugin *(*CgPtxPluginFn)(void);

/* ---- host side (cg_ptx_load.c, in the compiler library; no LLVM) ---- */

/* "80" for "80", "sm_80" or "sm80"; NULL if not a supported architecture (75 80 86 89 90). */
const char *cg_ptx_sm_name(const char *s);
/* Whether PTX can be produced by route `via` ("llvm" or NULL, "nvrtc"); if not, why. */
bool cg_ptx_available(const char *via, StrBuf *why);
/* CUDA C -> PTX for compute_<sm> through NVRTC (dlopened; --fmad=false). The NVRTC log is
 * in err on failure. Thread-safe. */
bool cg_nvrtc_compile(const char *cuda_src, const char *name, const char *sm, StrBuf *ptx,
                      StrBuf *err);

#endif
