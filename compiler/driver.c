/* driver.c: dckc_compile, the whole compiler in memory:
 *   preprocess + parse -> sema -> lower -> verify -> passes -> one output.
 * Never exits, never writes files. Internal errors (ICE) unwind to here and become
 * DCKC_INTERNAL with the message, naming the kernel being compiled.
 */
#include "dckc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../codegen/cg.h"
#include "../lang/frontend.h"
#include "lower.h"
#include "passes.h"

#ifndef DCK_STDLIB_BUILD_DIR
#define DCK_STDLIB_BUILD_DIR ""
#endif
#ifndef DCK_STDLIB_INSTALL_DIR
#define DCK_STDLIB_INSTALL_DIR ""
#endif

void dckc_options_init(DckcOptions *o) {
    memset(o, 0, sizeof *o);
    o->opt_level = 2;
    o->cpu_isa = "scalar";
#ifndef NDEBUG
    o->verify_each = true;
#endif
}

static bool is_dir(const char *p) {
    struct stat st;
    return p && *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Where <dck/...> is found: the option, $DCK_STDLIB_DIR, an installed tree next to the
 * running executable (bin/../share/dck/stdlib), the configured install dir, the source tree. */
static const char *stdlib_dir(Arena *a, const DckcOptions *o) {
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

static void finish_diags(DiagEngine *d, const DckcOptions *o, DckcResult *res, const char *extra) {
    StrBuf sb = {0};
    if (o->json_diagnostics) diag_render_json(d, &sb);
    else diag_render_text(d, &sb, o->color);
    if (extra && *extra) {
        if (o->json_diagnostics) {
            sb_puts(&sb, "{\"file\":null,\"line\":0,\"col\":0,\"severity\":\"error\",\"message\":\"");
            for (const char *p = extra; *p; p++) {
                if (*p == '"' || *p == '\\') sb_printf(&sb, "\\%c", *p);
                else if ((unsigned char)*p < 0x20) sb_printf(&sb, "\\u%04x", *p);
                else sb_putc(&sb, *p);
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

static void set_output(DckcResult *res, StrBuf *out) {
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

static void *compile_thread(void *arg) {
    CompileJob *j = arg;
    j->st = compile_locked(j->path, j->source, j->o, j->target, j->emit, j->res);
    return NULL;
}

DckcStatus dckc_compile(const char *path, const char *source, const DckcOptions *o,
                        const char *target, DckcEmit emit, DckcResult *res) {
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
    if (threaded) pthread_join(th, NULL);
    else compile_thread(&job); /* no thread to be had: the caller's stack it is */
    pthread_mutex_unlock(&compile_lock);
    return job.st;
}

static DckcStatus compile_locked(const char *path, const char *source, const DckcOptions *o,
                                 const char *target, DckcEmit emit, DckcResult *res) {
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

    IceScope scope;
    ice_push(&scope);
    if (setjmp(scope.jb)) {
        /* ice_fail popped the scope */
        finish_diags(&d, o, res, scope.msg);
        sb_free(&out);
        sb_free(&err);
        arena_free(a);
        return res->status = DCKC_INTERNAL;
    }

    const CgTarget *tgt = NULL;
    if (emit == DCKC_EMIT_SOURCE) {
        tgt = cg_find_target(target ? target : "c");
        if (!tgt) {
            diag_error(&d, (Loc){-1, 0, 0}, "unknown or unavailable target '%s'", target ? target : "");
            st = DCKC_USAGE;
            goto done;
        }
    }

    if (emit == DCKC_EMIT_TOKENS) {
        if (!fe_print_tokens(a, &d, &fo, path, source, &out) || diag_has_errors(&d)) st = DCKC_ERRORS;
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
    if (!ir_verify_module(m, &err)) ICE("IR from lowering does not verify:\n%s", err.data ? err.data : "");
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

    CgOptions co = {.opt_level = o->opt_level, .checked = o->checked, .cpu_isa = o->cpu_isa};
    if (!tgt->emit(m, &co, &out, &err)) ICE("%s backend: %s", tgt->name, err.data ? err.data : "");

done:
    ice_pop(&scope);
    if (st == DCKC_OK && diag_has_errors(&d)) st = DCKC_ERRORS;
    finish_diags(&d, o, res, NULL);
    if (st == DCKC_OK) set_output(res, &out);
    sb_free(&out);
    sb_free(&err);
    arena_free(a);
    return res->status = st;
}

void dckc_result_free(DckcResult *res) {
    if (!res) return;
    free(res->diagnostics);
    free(res->output);
    for (int k = 0; k < res->ndeps; k++) free(res->deps[k]);
    free(res->deps);
    memset(res, 0, sizeof *res);
}
