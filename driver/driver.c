/* driver.c: dckc_compile, the whole compiler in memory:
 *   preprocess + parse -> sema -> lower -> verify -> passes -> one output.
 * Never exits, never writes files. Internal errors (ICE) unwind to here and become
 * DCKC_INTERNAL with the message, naming the kernel being compiled.
 */
#include "dckc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codegen/cg.h"
#include "codegen/cg_ptx.h"
#include "lang/frontend.h"
#include "compiler/lower.h"
#include "compiler/passes.h"

#ifndef DCK_STDLIB_BUILD_DIR
#define DCK_STDLIB_BUILD_DIR ""
#endif
#ifndef DCK_STDLIB_INSTALL_DIR
#define DCK_STDLIB_INSTALL_DIR ""
#endif

void dckc_options_init(DckcOptions *o)
{
    memset(o, 0, sizeof *o);
    o->opt_level = 2;
    o->cpu_isa = "scalar";
#ifndef NDEBUG
    o->verify_each = true;
#endif
}

static bool is_dir(const char *p)
{
    struct stat st;
    return p && *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where <dck/...> is found: the option, $DCK_STDLIB_DIR, an installed tree next to the
 * running executable (bin/../share/dck/stdlib), the configured install dir, the source tree. */
static const char *stdlib_dir(Arena *a, const DckcOptions *o)
{
    if (o->stdlib_dir) return o->stdlib_dir;
    const char *env = getenv("DCK_STDLIB_DIR");
    if (is_dir(env)) return env;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            const char *cand = arena_printf(a, "%s/../share/dck/stdlib", exe);
            if (is_dir(cand)) return cand;
        }
    }
    if (is_dir(DCK_STDLIB_INSTALL_DIR)) return DCK_STDLIB_INSTALL_DIR;
    return DCK_STDLIB_BUILD_DIR;
}

static void finish_diags(DiagEngine *d, const DckcOptions *o, DckcResult *res, const char *extra)
{
    StrBuf sb = {0};
    if (o->json_diagnostics)
        diag_render_json(d, &sb);
    else
        diag_render_text(d, &sb, o->color);
    if (extra && *extra) {
        if (o->json_diagnostics) {
            sb_puts(&sb,
                    "{\"file\":null,\"line\":0,\"col\":0,\"severity\":\"error\",\"message\":\"");
            for (const char *p = extra; *p; p++) {
                if (*p == '"' || *p == '\\')
                    sb_printf(&sb, "\\%c", *p);
                else if ((unsigned char)*p < 0x20)
                    sb_printf(&sb, "\\u%04x", *p);
                else
                    sb_putc(&sb, *p);
            }
            sb_puts(&sb, "\"}\n");
        } else {
            sb_printf(&sb, "%s\n", extra);
        }
    }
    res->diagnostics = sb_take(&sb);
    res->ndeps = 0;
    res->deps = calloc((size_t)d->files.len + 1, sizeof(char *));
    for (int k = 0; res->deps && k < d->files.len; k++) {
        const char *p = d->files.data[k].path;
        if (!p || p[0] == '<') continue; /* <command line> */
        res->deps[res->ndeps++] = strdup(p);
    }
}

/* ---- outputs that bundle several targets (--emit=package, embed, manifest, header) ---- */

static bool is_bundle_emit(DckcEmit e)
{
    return e == DCKC_EMIT_PACKAGE || e == DCKC_EMIT_HEADER || e == DCKC_EMIT_EMBED ||
           e == DCKC_EMIT_MANIFEST;
}

typedef VEC(const CgTarget *) TargetList;
typedef VEC(CgBlob) BlobList;

/* The comma list of targets ("all": every target of this build, as dckc --target=all), each
 * once, in the order of the list; false (with a diagnostic) for an unknown or unavailable
 * one. "ptx" brings "cuda" along where it exists: the runtime's fallback (NVRTC) when no PTX
 * of the package suits the device. */
static bool bundle_targets(Arena *a, DiagEngine *d, const DckcOptions *o, const char *list,
                           TargetList *out)
{
    static const char *const all[] = {"c", "ptx", "opencl", "spirv", "msl"};
    char *buf = arena_strdup(a, list && *list ? list : "c");
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        bool is_all = strcmp(t, "all") == 0;
        for (int k = 0; k < (is_all ? ARRAY_LEN(all) : 1); k++) {
            const CgTarget *tgt = cg_find_target(is_all ? all[k] : t);
            if (tgt && is_all && strcmp(tgt->name, "ptx") == 0) {
                StrBuf why = {0};
                if (!cg_ptx_available(o->ptx_via, &why)) tgt = NULL; /* no LLVM plugin here */
                sb_free(&why);
            }
            if (!tgt && is_all) continue;
            if (!tgt) {
                diag_error(d, (Loc){-1, 0, 0}, "unknown or unavailable target '%s'", t);
                return false;
            }
            bool dup = false;
            for (int i = 0; i < out->len; i++) dup |= out->data[i] == tgt;
            if (!dup) vec_push(a, out, tgt);
        }
    }
    const CgTarget *cuda = cg_find_target("cuda");
    bool has_ptx = false, has_cuda = false;
    for (int i = 0; i < out->len; i++) {
        has_ptx |= strcmp(out->data[i]->name, "ptx") == 0;
        has_cuda |= out->data[i] == cuda;
    }
    if (has_ptx && cuda && !has_cuda) vec_push(a, out, cuda);
    return true;
}

/* A C identifier from the file name ("my-kernels.dck" -> "my_kernels") or the option. */
static const char *module_ident(Arena *a, const DckcOptions *o, const char *path)
{
    const char *base = o->module_name;
    size_t n;
    if (base) {
        n = strlen(base);
    } else {
        base = path ? path : "module";
        const char *slash = strrchr(base, '/'), *dot;
        if (slash) base = slash + 1;
        dot = strrchr(base, '.');
        n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    }
    char *id = arena_alloc(a, n + 2);
    size_t k = 0;
    if (n == 0 || (base[0] >= '0' && base[0] <= '9')) id[k++] = '_';
    for (size_t i = 0; i < n; i++) {
        char c = base[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        id[k++] = alnum ? c : '_';
    }
    id[k] = 0;
    return id;
}

/* The options that decide the generated code, canonical (include paths are left out: they
 * name folders of the build machine, not code). */
static const char *options_string(Arena *a, const DckcOptions *o, const TargetList *tl)
{
    StrBuf sb = {0};
    sb_printf(&sb, "-O%d%s --cpu-isa=%s --target=", o->opt_level, o->checked ? " --checked" : "",
              o->cpu_isa ? o->cpu_isa : "scalar");
    for (int i = 0; i < tl->len; i++) sb_printf(&sb, "%s%s", i ? "," : "", tl->data[i]->name);
    for (int i = 0; i < o->nsms; i++) sb_printf(&sb, "%s%s", i ? "," : " --sm=", o->sms[i]);
    for (int i = 0; i < o->nspirv_envs; i++)
        sb_printf(&sb, "%s%s", i ? "," : " --spirv-env=", o->spirv_envs[i]);
    for (int i = 0; i < o->ndefines; i++) sb_printf(&sb, " -D%s", o->defines[i]);
    for (int i = 0; i < o->nundefs; i++) sb_printf(&sb, " -U%s", o->undefs[i]);
    const char *s = arena_strdup(a, sb.data);
    sb_free(&sb);
    return s;
}

/* Runs one backend into out. A failure is a compiler bug (ICE), unless the backend says this
 * machine lacks what it needs (CUDA's libdevice): then an error diagnostic naming `name`; or
 * that the target cannot hold this module (SPIR-V for Vulkan without a kernel): an error for
 * a single target, a blob left out of a bundle; or that it refuses it (too large): an error. */
static bool emit_target(DiagEngine *d, const CgTarget *tgt, const char *name, const IrModule *m,
                        CgOptions *co, StrBuf *out, bool bundle)
{
    StrBuf err = {0};
    bool unavailable = false, no_module = false, rejected = false;
    co->unavailable = &unavailable;
    co->no_module = &no_module;
    co->rejected = &rejected;
    bool ok = tgt->emit(m, co, out, &err);
    char msg[1024]; /* the message outlives err: ICE does not return */
    snprintf(msg, sizeof msg, "%s", err.data ? err.data : "");
    sb_free(&err);
    if (ok) return true;
    out->len = 0;
    if (no_module || rejected) {
        if (!bundle || rejected) diag_error(d, (Loc){-1, 0, 0}, "%s", msg);
    } else if (unavailable) {
        diag_error(d, (Loc){-1, 0, 0}, "cannot compile for '%s' on this machine: %s", name, msg);
    } else {
        ICE("%s backend: %s", name, msg);
    }
    return false;
}

/* Runs every backend of the list on m (PTX once per sm, SPIR-V once per env): one blob each. */
static void run_backends(Arena *a, DiagEngine *d, const IrModule *m, const DckcOptions *o,
                         const TargetList *tl, BlobList *blobs)
{
    static const char *const default_sm[] = {"80"}, *const default_env[] = {"vulkan"};
    for (int i = 0; i < tl->len; i++) {
        const CgTarget *tgt = tl->data[i];
        bool ptx = strcmp(tgt->name, "ptx") == 0, spirv = strcmp(tgt->name, "spirv") == 0;
        const char *const *vars = ptx     ? (o->nsms ? o->sms : default_sm)
                                  : spirv ? (o->nspirv_envs ? o->spirv_envs : default_env)
                                          : NULL;
        int nvars = ptx     ? (o->nsms ? o->nsms : 1)
                    : spirv ? (o->nspirv_envs ? o->nspirv_envs : 1)
                            : 1;
        for (int v = 0; v < nvars; v++) {
            CgOptions co = {.opt_level = o->opt_level,
                            .checked = o->checked,
                            .cpu_isa = o->cpu_isa,
                            .ptx_via = o->ptx_via};
            if (ptx) {
                co.sm = (const char **)&vars[v];
                co.nsm = 1;
            } else if (spirv) {
                co.spirv_env = vars[v];
            }
            char nbuf[64];
            const char *name =
                arena_strdup(a, abi_blob_name(nbuf, sizeof nbuf, tgt->name, vars ? vars[v] : NULL));
            StrBuf out = {0};
            if (emit_target(d, tgt, name, m, &co, &out, true)) {
                CgBlob b = {name, !tgt->binary, arena_alloc(a, out.len + 1), out.len};
                memcpy((char *)b.data, out.data ? out.data : "", out.len);
                vec_push(a, blobs, b);
            }
            sb_free(&out);
        }
    }
}

static void emit_bundle(Arena *a, DiagEngine *d, const IrModule *m, const DckcOptions *o,
                        const char *path, const TargetList *tl, DckcEmit emit, StrBuf *out)
{
    CgPackageInfo info = {
        .compiler_version = DCKC_VERSION,
        .options = options_string(a, o, tl),
        .source_name = m->source_name ? m->source_name : path,
        .module_name = module_ident(a, o, path),
        .checked = o->checked,
    };
    if (emit == DCKC_EMIT_HEADER) {
        cg_emit_header(m, &info, out);
        return;
    }
    BlobList blobs = {0};
    run_backends(a, d, m, o, tl, &blobs);
    if (diag_has_errors(d)) return; /* a target this machine cannot build: no partial package */
    if (emit == DCKC_EMIT_MANIFEST) {
        cg_emit_manifest(m, &info, blobs.data, blobs.len, out);
        return;
    }
    if (emit == DCKC_EMIT_PACKAGE) {
        cg_write_package(m, &info, blobs.data, blobs.len, out);
        return;
    }
    StrBuf pkg = {0};
    cg_write_package(m, &info, blobs.data, blobs.len, &pkg);
    const CgBlob *c = NULL;
    for (int i = 0; i < blobs.len; i++)
        if (strcmp(blobs.data[i].target, "c") == 0) c = &blobs.data[i];
    cg_emit_embed(m, &info, pkg.data, pkg.len, c ? c->data : NULL, c ? c->size : 0, out);
    sb_free(&pkg);
}

static void set_output(DckcResult *res, StrBuf *out)
{
    res->output_len = out->len;
    res->output = sb_take(out);
}

/* The string and type interning tables are process-wide, so compilations are serialized:
 * dckc_compile may be called from any thread (the runtime compiles on the caller's). */
static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

static DckcStatus compile_locked(const char *path, const char *source, const DckcOptions *o,
                                 const char *target, DckcEmit emit, DckcResult *res);

/* The phases walk the AST recursively (to the frontend's nesting limit, 10000 levels, a
 * few hundred bytes each): the compilation gets a thread with a stack of its own, so that
 * it is safe whatever stack the caller has (the runtime compiles on its user's threads). */
enum { COMPILE_STACK = 64 << 20 }; /* reserved address space; only what is used is committed */

typedef struct CompileJob {
    const char *path, *source, *target;
    const DckcOptions *o;
    DckcEmit emit;
    DckcResult *res;
    DckcStatus st;
} CompileJob;

static void *compile_thread(void *arg)
{
    CompileJob *j = arg;
    j->st = compile_locked(j->path, j->source, j->o, j->target, j->emit, j->res);
    return NULL;
}

DckcStatus dckc_compile(const char *path, const char *source, const DckcOptions *o,
                        const char *target, DckcEmit emit, DckcResult *res)
{
    CompileJob job = {path, source, target, o, emit, res, DCKC_INTERNAL};
    pthread_mutex_lock(&compile_lock);
    pthread_attr_t attr;
    pthread_t th;
    bool threaded = pthread_attr_init(&attr) == 0;
    if (threaded) {
        threaded = pthread_attr_setstacksize(&attr, COMPILE_STACK) == 0 &&
                   pthread_create(&th, &attr, compile_thread, &job) == 0;
        pthread_attr_destroy(&attr);
    }
    if (threaded)
        pthread_join(th, NULL);
    else
        compile_thread(&job); /* no thread to be had: the caller's stack it is */
    pthread_mutex_unlock(&compile_lock);
    return job.st;
}

static DckcStatus compile_locked(const char *path, const char *source, const DckcOptions *o,
                                 const char *target, DckcEmit emit, DckcResult *res)
{
    memset(res, 0, sizeof *res);
    Arena *a = arena_new();
    DiagEngine d;
    diag_init(&d, a);
    d.werror = o->werror;
    d.no_warnings = o->no_warnings;

    FrontendOptions fo = {
        .include_dirs = o->include_dirs,
        .ninclude_dirs = o->ninclude_dirs,
        .stdlib_dir = stdlib_dir(a, o),
        .defines = o->defines,
        .ndefines = o->ndefines,
        .undefs = o->undefs,
        .nundefs = o->nundefs,
    };
    StrBuf out = {0}, err = {0};
    DckcStatus st = DCKC_OK;
    StrBuf *fusion = arena_alloc(a, sizeof *fusion); /* --report=fusion (pass_fuse writes it) */

    IceScope scope;
    ice_push(&scope);
    if (setjmp(scope.jb)) {
        /* ice_fail popped the scope */
        finish_diags(&d, o, res, scope.msg);
        sb_free(&out);
        sb_free(&err);
        sb_free(fusion);
        arena_free(a);
        return res->status = DCKC_INTERNAL;
    }

    const CgTarget *tgt = NULL;
    TargetList bundle = {0};
    if (is_bundle_emit(emit) && !bundle_targets(a, &d, o, target, &bundle)) {
        st = DCKC_USAGE;
        goto done;
    }
    if (emit == DCKC_EMIT_SOURCE) {
        tgt = cg_find_target(target ? target : "c");
        if (!tgt) {
            diag_error(&d, (Loc){-1, 0, 0}, "unknown or unavailable target '%s'",
                       target ? target : "");
            st = DCKC_USAGE;
            goto done;
        }
    }

    if (emit == DCKC_EMIT_TOKENS) {
        if (!fe_print_tokens(a, &d, &fo, path, source, &out) || diag_has_errors(&d))
            st = DCKC_ERRORS;
        goto done;
    }

    TranslationUnit *tu = fe_parse(a, &d, &fo, path, source);
    if (!tu) {
        st = DCKC_ERRORS;
        goto done;
    }
    if (diag_has_errors(&d)) {
        /* still report the independent errors of the functions that parsed cleanly */
        if (d.nerrors < d.max_errors && fe_drop_broken_bodies(a, &d, tu)) sema_check(a, &d, tu);
        st = DCKC_ERRORS;
        goto done;
    }
    if (!sema_check(a, &d, tu) || diag_has_errors(&d)) {
        st = DCKC_ERRORS;
        goto done;
    }
    if (emit == DCKC_EMIT_AST) {
        ast_print(&out, tu);
        goto done;
    }

    IrModule *m = lower_module(a, &d, tu);
    if (diag_has_errors(&d)) {
        st = DCKC_ERRORS;
        goto done;
    }
    m->checked = o->checked;
    if (o->report && strcmp(o->report, "fusion") == 0) m->fusion_report = fusion;
    if (!ir_verify_module(m, &err))
        ICE("IR from lowering does not verify:\n%s", err.data ? err.data : "");
    if (emit == DCKC_EMIT_IR_RAW) {
        ir_print_module(&out, m);
        goto done;
    }
    if (!ir_run_passes(m, o->opt_level, o->verify_each, &err))
        ICE("IR does not verify after a pass:\n%s", err.data ? err.data : "");
    if (emit == DCKC_EMIT_IR) {
        ir_print_module(&out, m);
        goto done;
    }

    if (is_bundle_emit(emit)) {
        emit_bundle(a, &d, m, o, path, &bundle, emit, &out);
        goto done;
    }
    CgOptions co = {.opt_level = o->opt_level,
                    .checked = o->checked,
                    .cpu_isa = o->cpu_isa,
                    .sm = (const char **)o->sms,
                    .nsm = o->nsms,
                    .ptx_via = o->ptx_via,
                    .spirv_env = o->nspirv_envs ? o->spirv_envs[0] : NULL};
    emit_target(&d, tgt, tgt->name, m, &co, &out, false);

done:
    ice_pop(&scope);
    if (st == DCKC_OK && diag_has_errors(&d)) st = DCKC_ERRORS;
    finish_diags(&d, o, res, NULL);
    if (fusion->len) { /* the report follows the diagnostics */
        StrBuf all = {0};
        sb_puts(&all, res->diagnostics);
        fuse_report_render(fusion, o->json_diagnostics, &all);
        free(res->diagnostics);
        res->diagnostics = sb_take(&all);
    }
    sb_free(fusion);
    if (st == DCKC_OK) set_output(res, &out);
    sb_free(&out);
    sb_free(&err);
    arena_free(a);
    return res->status = st;
}

void dckc_result_free(DckcResult *res)
{
    if (!res) return;
    free(res->diagnostics);
    free(res->output);
    for (int k = 0; k < res->ndeps; k++) free(res->deps[k]);
    free(res->deps);
    memset(res, 0, sizeof *res);
}

bool dckc_nvrtc_compile(const char *cuda_src, size_t len, const char *name, const char *sm,
                        char **ptx, char **log)
{
    StrBuf src = {0}, out = {0}, err = {0};
    sb_putn(&src, cuda_src, len);
    sb_putc(&src, 0);
    bool ok = cg_nvrtc_compile(src.data, name, sm, &out, &err);
    sb_free(&src);
    sb_putc(ok ? &out : &err, 0);
    *ptx = ok ? out.data : NULL;
    *log = ok ? NULL : err.data;
    if (ok)
        sb_free(&err);
    else
        sb_free(&out);
    return ok;
}
