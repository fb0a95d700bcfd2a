/* cg_ptx_load.c: the `ptx` target as the compiler sees it, without LLVM.
 *
 * Two routes to PTX (CgOptions.ptx_via):
 *  - "llvm" (default): the plugin libdckc_ptx.so (codegen/cg_ptx.c, linked with LLVM 16),
 *    dlopened here the first time PTX is asked for, so dckc and libdckrt never load LLVM
 *    for the other targets. Looked for in: $DCK_PTX_PLUGIN; next to the binary or library
 *    this code is in, and in ../lib from there; next to the running executable; the build
 *    tree; the install lib dir.
 *  - "nvrtc": the CUDA C backend (target "cuda") compiled by NVRTC (dlopen of libnvrtc.so,
 *    never linked), the same compiler the CUDA runtime uses.
 * One emit produces PTX for one architecture: CgOptions.sm[0] ("80" if none); dckc and the
 * package writer call it once per --sm.
 */
#define _GNU_SOURCE
#include "cg_ptx.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef DCK_PTX_PLUGIN_BUILD_PATH
#define DCK_PTX_PLUGIN_BUILD_PATH ""
#endif
#ifndef DCK_PTX_PLUGIN_INSTALL_PATH
#define DCK_PTX_PLUGIN_INSTALL_PATH ""
#endif

static const char *const known_sm[] = {"75", "80", "86", "89", "90"};

const char *cg_ptx_sm_name(const char *s)
{
    if (!s) return NULL;
    if (strncmp(s, "sm_", 3) == 0)
        s += 3;
    else if (strncmp(s, "sm", 2) == 0)
        s += 2;
    for (int k = 0; k < ARRAY_LEN(known_sm); k++)
        if (strcmp(s, known_sm[k]) == 0) return known_sm[k];
    return NULL;
}

static bool is_file(const char *p)
{
    struct stat st;
    return p && *p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---------------------------------------------------------------- the plugin */

static pthread_mutex_t load_mu = PTHREAD_MUTEX_INITIALIZER;
static const CgPtxPlugin *loaded;
static char load_error[2048];

static void dir_of(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(out, n, ".");
}

static const CgPtxPlugin *try_plugin(const char *path, StrBuf *tried)
{
    if (!is_file(path)) {
        sb_printf(tried, "%s%s", tried->len ? ", " : "", path);
        return NULL;
    }
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        sb_printf(tried, "%s%s (%s)", tried->len ? ", " : "", path, e ? e : "dlopen failed");
        return NULL;
    }
    CgPtxPluginFn fn;
    void *sym = dlsym(h, CG_PTX_PLUGIN_SYMBOL);
    memcpy(&fn, &sym, sizeof fn);
    const CgPtxPlugin *pl = fn ? fn() : NULL;
    static const uint32_t sizes[5] = CG_PTX_SIZES;
    if (!pl || pl->abi != CG_PTX_PLUGIN_ABI || memcmp(pl->sizes, sizes, sizeof sizes) != 0) {
        sb_printf(tried, "%s%s (built from other sources than this compiler)",
                  tried->len ? ", " : "", path);
        dlclose(h);
        return NULL;
    }
    return pl; /* stays loaded for the life of the process */
}

static const CgPtxPlugin *load_plugin(void)
{
    pthread_mutex_lock(&load_mu);
    if (loaded || load_error[0]) {
        const CgPtxPlugin *pl = loaded;
        pthread_mutex_unlock(&load_mu);
        return pl;
    }
    StrBuf tried = {0};
    char cand[4200], dir[4096];
    const CgPtxPlugin *pl = NULL;
    const char *env = getenv("DCK_PTX_PLUGIN");
    if (env && *env) pl = try_plugin(env, &tried);
    Dl_info info;
    if (!pl && dladdr((void *)&cg_ptx_sm_name, &info) && info.dli_fname &&
        strchr(info.dli_fname, '/')) {
        dir_of(info.dli_fname, dir, sizeof dir);
        snprintf(cand, sizeof cand, "%s/%s", dir, CG_PTX_PLUGIN_NAME);
        pl = try_plugin(cand, &tried);
        if (!pl) {
            snprintf(cand, sizeof cand, "%s/../lib/%s", dir, CG_PTX_PLUGIN_NAME);
            pl = try_plugin(cand, &tried);
        }
    }
    if (!pl) {
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = 0;
            dir_of(exe, dir, sizeof dir);
            snprintf(cand, sizeof cand, "%s/%s", dir, CG_PTX_PLUGIN_NAME);
            pl = try_plugin(cand, &tried);
        }
    }
    if (!pl && DCK_PTX_PLUGIN_BUILD_PATH[0]) pl = try_plugin(DCK_PTX_PLUGIN_BUILD_PATH, &tried);
    if (!pl && DCK_PTX_PLUGIN_INSTALL_PATH[0]) pl = try_plugin(DCK_PTX_PLUGIN_INSTALL_PATH, &tried);
    if (pl)
        loaded = pl;
    else
        snprintf(
            load_error, sizeof load_error,
            "the PTX code generator %s (LLVM 16) was not found or could not be loaded; tried: %s",
            CG_PTX_PLUGIN_NAME, tried.data ? tried.data : "nothing");
    sb_free(&tried);
    pthread_mutex_unlock(&load_mu);
    return pl;
}

bool cg_ptx_available(const char *via, StrBuf *why)
{
    if (via && strcmp(via, "nvrtc") == 0) {
        if (!cg_find_target("cuda")) {
            sb_puts(
                why,
                "--ptx-via=nvrtc needs the CUDA C backend (target 'cuda'), which this dckc lacks");
            return false;
        }
        return true;
    }
    if (load_plugin()) return true;
    sb_puts(why, load_error);
    return false;
}

/* CUDA's libdevice.10.bc, or NULL. $DCK_LIBDEVICE, when set, is the only place looked at. */
static const char *find_libdevice(char *buf, size_t n)
{
    const char *env = getenv("DCK_LIBDEVICE");
    if (env && *env) return is_file(env) ? env : NULL;
    const char *homes[] = {getenv("CUDA_HOME"), getenv("CUDA_PATH"), "/usr/local/cuda"};
    for (int k = 0; k < ARRAY_LEN(homes); k++) {
        if (!homes[k] || !*homes[k]) continue;
        snprintf(buf, n, "%s/nvvm/libdevice/libdevice.10.bc", homes[k]);
        if (is_file(buf)) return buf;
    }
    if (is_file("/usr/lib/nvidia-cuda-toolkit/libdevice/libdevice.10.bc"))
        return "/usr/lib/nvidia-cuda-toolkit/libdevice/libdevice.10.bc";
    return NULL;
}

/* ---------------------------------------------------------------- NVRTC */

typedef int (*NvrtcCreate)(void **, const char *, const char *, int, const char *const *,
                           const char *const *);
typedef int (*NvrtcCompile)(void *, int, const char *const *);
typedef int (*NvrtcSize)(void *, size_t *);
typedef int (*NvrtcGet)(void *, char *);
typedef int (*NvrtcDestroy)(void **);
typedef const char *(*NvrtcErr)(int);

static struct {
    bool tried;
    void *h;
    NvrtcCreate create;
    NvrtcCompile compile;
    NvrtcSize log_size, ptx_size;
    NvrtcGet log, ptx;
    NvrtcDestroy destroy;
    NvrtcErr errstr;
    char error[512];
} nv;

static bool load_nvrtc(void)
{
    if (nv.tried) return nv.h != NULL;
    nv.tried = true;
    const char *names[] = {getenv("DCK_NVRTC"), "libnvrtc.so.13", "libnvrtc.so",
                           "/usr/local/cuda/lib64/libnvrtc.so.13",
                           "/usr/local/cuda/lib64/libnvrtc.so"};
    for (int k = 0; k < ARRAY_LEN(names) && !nv.h; k++)
        if (names[k] && *names[k]) nv.h = dlopen(names[k], RTLD_NOW | RTLD_LOCAL);
    if (!nv.h) {
        snprintf(nv.error, sizeof nv.error,
                 "NVRTC not found (libnvrtc.so.13 / libnvrtc.so on the loader path or in "
                 "/usr/local/cuda/lib64; $DCK_NVRTC names it)");
        return false;
    }
#define SYM(field, type, name)                                           \
    do {                                                                 \
        void *s_ = dlsym(nv.h, name);                                    \
        memcpy(&nv.field, &s_, sizeof s_);                               \
        if (!s_) {                                                       \
            snprintf(nv.error, sizeof nv.error, "NVRTC lacks %s", name); \
            dlclose(nv.h);                                               \
            nv.h = NULL;                                                 \
            return false;                                                \
        }                                                                \
    } while (0)
    SYM(create, NvrtcCreate, "nvrtcCreateProgram");
    SYM(compile, NvrtcCompile, "nvrtcCompileProgram");
    SYM(log_size, NvrtcSize, "nvrtcGetProgramLogSize");
    SYM(log, NvrtcGet, "nvrtcGetProgramLog");
    SYM(ptx_size, NvrtcSize, "nvrtcGetPTXSize");
    SYM(ptx, NvrtcGet, "nvrtcGetPTX");
    SYM(destroy, NvrtcDestroy, "nvrtcDestroyProgram");
    SYM(errstr, NvrtcErr, "nvrtcGetErrorString");
#undef SYM
    return true;
}

bool cg_nvrtc_compile(const char *cuda_src, const char *name, const char *sm, StrBuf *ptx,
                      StrBuf *err)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    bool ok = false;
    if (!load_nvrtc()) {
        sb_puts(err, nv.error);
        goto out;
    }
    const char *s = cg_ptx_sm_name(sm ? sm : "80");
    if (!s) {
        sb_printf(err, "unknown CUDA architecture '%s'", sm);
        goto out;
    }
    char arch[64], inc[4200];
    snprintf(arch, sizeof arch, "--gpu-architecture=compute_%s", s);
    const char *home = getenv("CUDA_HOME");
    snprintf(inc, sizeof inc, "-I%s/include", home && *home ? home : "/usr/local/cuda");
    /* --fmad=false: DCK does not contract a * b + c (docs/language.md); fma() is explicit */
    const char *opts[] = {arch, inc, "--fmad=false", "--std=c++17"};
    void *prog = NULL;
    int r = nv.create(&prog, cuda_src, name ? name : "dck.cu", 0, NULL, NULL);
    if (r != 0) {
        sb_printf(err, "nvrtcCreateProgram: %s", nv.errstr(r));
        goto out;
    }
    r = nv.compile(prog, ARRAY_LEN(opts), opts);
    size_t n = 0;
    if (r != 0) {
        sb_printf(err, "NVRTC could not compile the CUDA C of %s (%s)", name ? name : "the module",
                  nv.errstr(r));
        if (nv.log_size(prog, &n) == 0 && n > 1) {
            char *log = malloc(n + 1);
            if (log && nv.log(prog, log) == 0) {
                log[n] = 0;
                sb_printf(err, ":\n%s", log);
            }
            free(log);
        }
        nv.destroy(&prog);
        goto out;
    }
    if (nv.ptx_size(prog, &n) != 0 || n == 0) {
        sb_puts(err, "NVRTC returned no PTX");
        nv.destroy(&prog);
        goto out;
    }
    char *buf = malloc(n);
    if (buf && nv.ptx(prog, buf) == 0) {
        sb_putn(ptx, buf, strlen(buf));
        ok = true;
    } else {
        sb_puts(err, "nvrtcGetPTX failed");
    }
    free(buf);
    nv.destroy(&prog);
out:
    pthread_mutex_unlock(&mu);
    return ok;
}

/* ---------------------------------------------------------------- the target */

static bool ptx_emit(const IrModule *m, const CgOptions *o, StrBuf *out, StrBuf *err)
{
    const char *sm = cg_ptx_sm_name(o && o->nsm > 0 ? o->sm[0] : "80");
    if (!sm) {
        sb_printf(err, "unknown PTX architecture '%s'", o->sm[0]);
        return false;
    }
    if (o && o->ptx_via && strcmp(o->ptx_via, "nvrtc") == 0) {
        const CgTarget *cu = cg_find_target("cuda");
        if (!cu) {
            sb_puts(err, "--ptx-via=nvrtc needs the CUDA C backend, which this dckc lacks");
            return false;
        }
        StrBuf src = {0};
        bool ok = cu->emit(m, o, &src, err);
        if (ok) {
            const char *base = m->source_name ? m->source_name : "dck";
            for (const char *q = base; *q; q++)
                if (*q == '/') base = q + 1;
            ok = cg_nvrtc_compile(src.data ? src.data : "", base, sm, out, err);
        }
        sb_free(&src);
        return ok;
    }
    const CgPtxPlugin *pl = load_plugin();
    if (!pl) {
        sb_puts(err, load_error);
        return false;
    }
    char buf[4096];
    return pl->emit(m, o, sm, find_libdevice(buf, sizeof buf), out, err);
}

const CgTarget cg_target_ptx = {
    .name = "ptx",
    .ext = ".ptx",
    .binary = false,
    .emit = ptx_emit,
};
