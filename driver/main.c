/* main.c: the dckc command line (docs/dckc.md). Parses options, runs dckc_compile once per
 * input and per output, and writes each output atomically (temporary file + rename), so
 * a failed compilation never leaves a half-written file behind.
 * Exit status: 0 success, 1 errors in the program, 2 usage errors, 3 internal errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/dckpkg.h"
#include "codegen/cg.h"
#include "codegen/cg_ptx.h"
#include "dckc.h"
#include "base/util.h"

static const char *const all_targets[] = {"c", "ptx", "opencl", "spirv", "msl"};

static void usage(FILE *f)
{
    fputs(
        "usage: dckc [options] FILE.dck...\n"
        "  --target=LIST      c, ptx, opencl, spirv, msl or all (default c); also cuda (CUDA C,\n"
        "                     not part of all)\n"
        "  --emit=LIST        source (default), package (.dckpkg of every --target), header\n"
        "                     (typed C API, .h), embed (package as C source, .embed.c),\n"
        "                     manifest (JSON reflection, .json), tokens, ast, ir, ir-raw\n"
        "  --sm=LIST          PTX architectures (default 80), one PTX each\n"
        "  --ptx-via=llvm|nvrtc  PTX through LLVM (default) or CUDA C and NVRTC\n"
        "  --spirv-env=LIST   vulkan (default) and/or opencl\n"
        "  --module-name=ID   C name of the module in header/embed output (default: file name)\n"
        "  -o PATH            output file, or directory when several outputs are produced\n"
        "  -O0 -O1 -O2 -O3    optimization level (default -O2)\n"
        "  -I DIR  -D NAME[=V]  -U NAME\n"
        "  --cpu-isa=LIST     CPU code: scalar, sse4, avx2, avx512, neon, native; several = one\n"
        "                     file picking the widest the CPU has at load (scalar always included)\n"
        "  --checked          bounds-checked buffer accesses\n"
        "  --report=fusion    per pipeline, what was fused and why not (on stderr)\n"
        "  -MD -MF FILE       write a Make/Ninja depfile of every file read\n"
        "  --diagnostics=json one JSON object per diagnostic\n"
        "  -Werror -w --version --help\n",
        f);
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("dckc: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(see dckc --help)\n", stderr);
    return 2;
}

typedef struct List {
    const char *items[16];
    int n;
    char *buf; /* owns the strings items point into */
} List;

static bool split_list(const char *s, List *l)
{
    free(l->buf);
    l->n = 0;
    l->buf = strdup(s);
    char *save = NULL;
    for (char *t = strtok_r(l->buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (l->n == 16) return false;
        l->items[l->n++] = t;
    }
    return l->n > 0;
}

static bool write_atomic(const char *path, const char *data, size_t len)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) { /* /dev/null, a pipe: write through */
        FILE *f = fopen(path, "wb");
        bool ok = f && fwrite(data, 1, len, f) == len;
        if (f) ok = (fclose(f) == 0) && ok;
        if (!ok) fprintf(stderr, "dckc: error: cannot write '%s': %s\n", path, strerror(errno));
        return ok;
    }
    size_t n = strlen(path);
    char *tmp = malloc(n + 32);
    snprintf(tmp, n + 32, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        fprintf(stderr, "dckc: error: cannot write '%s': %s\n", path, strerror(errno));
        free(tmp);
        return false;
    }
    bool ok = fwrite(data, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    if (ok && rename(tmp, path) != 0) ok = false;
    if (!ok) {
        fprintf(stderr, "dckc: error: cannot write '%s': %s\n", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return ok;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *basename_noext(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char *s = strdup(b);
    char *dot = strrchr(s, '.');
    if (dot && dot != s) *dot = 0;
    return s;
}

/* Make's escaping of a path in a rule: spaces and '#' get a backslash, '$' is doubled. */
static void make_escaped(StrBuf *sb, const char *s)
{
    for (; *s; s++) {
        if (*s == ' ' || *s == '#') sb_putc(sb, '\\');
        if (*s == '$') sb_putc(sb, '$');
        sb_putc(sb, *s);
    }
}

static bool write_depfile(const char *depfile, char *const *targets, int ntargets, char **deps,
                          int ndeps)
{
    StrBuf sb = {0};
    for (int t = 0; t < ntargets; t++) {
        if (t) sb_putc(&sb, ' ');
        make_escaped(&sb, targets[t]);
    }
    sb_putc(&sb, ':');
    for (int k = 0; k < ndeps; k++) {
        sb_puts(&sb, " \\\n  ");
        make_escaped(&sb, deps[k]);
    }
    sb_putc(&sb, '\n');
    /* a phony rule per include so deleting one does not break the build (gcc -MP) */
    for (int k = 1; k < ndeps; k++) {
        sb_putc(&sb, '\n');
        make_escaped(&sb, deps[k]);
        sb_puts(&sb, ":\n");
    }
    bool ok = write_atomic(depfile, sb.data, sb.len);
    sb_free(&sb);
    return ok;
}

/* Whether `path` looks like source text: a package or a binary (an object file, an executable)
 * gets one clear error instead of a cascade of "stray byte" diagnostics. Unreadable files are
 * left to the compiler, which reports them. */
static bool input_is_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return true;
    unsigned char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n >= DCK_PKG_MAGIC_SIZE && memcmp(buf, DCK_PKG_MAGIC, DCK_PKG_MAGIC_SIZE) == 0) {
        fprintf(stderr,
                "%s: error: this is a DCK package (.dckpkg), not source: dckc compiles .dck, "
                "OpenCL C and CUDA C sources; run a package's kernels with dckrun or load it with "
                "dck_module_create_from_file\n",
                path);
        return false;
    }
    if (memchr(buf, 0, n)) {
        fprintf(stderr, "%s: error: this is a binary file (it holds NUL bytes), not source text\n",
                path);
        return false;
    }
    return true;
}

/* Prints a compilation's diagnostics, less the lines an earlier output of the same input
 * already printed: each output compiles the input again, and the frontend's diagnostics come
 * first, identical every time. `seen` holds what this input has printed. */
static void print_new_diagnostics(const char *diags, StrBuf *seen)
{
    size_t n = strlen(diags), same = 0;
    size_t m = seen->len < n ? seen->len : n;
    while (same < m && diags[same] == seen->data[same]) same++;
    if (same < n) /* restart at the line the difference is on */
        while (same > 0 && diags[same - 1] != '\n') same--;
    fputs(diags + same, stderr);
    if (n > seen->len) {
        seen->len = 0;
        sb_puts(seen, diags);
    }
}

int main(int argc, char **argv)
{
    DckcOptions o;
    dckc_options_init(&o);
    const char *inputs[256];
    int ninputs = 0;
    const char *incs[256], *defs[256], *undefs[256];
    int ninc = 0, ndef = 0, nundef = 0;
    const char *outpath = NULL, *depfile = NULL;
    bool md = false;
    /* static: their strings stay reachable on every early return (no leak reports) */
    static List targets = {{"c"}, 1, NULL}, emits = {{"source"}, 1, NULL}, sms = {{0}, 0, NULL},
                envs = {{0}, 0, NULL};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
#define VALUE_OF(flag)                                           \
    (strncmp(a, flag "=", sizeof(flag)) == 0  ? a + sizeof(flag) \
     : (strcmp(a, flag) == 0 && i + 1 < argc) ? argv[++i]        \
                                              : NULL)
        const char *v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("dckc %s\n", DCKC_VERSION);
            return 0;
        } else if ((v = VALUE_OF("--target"))) {
            if (!split_list(v, &targets)) return usage_error("bad --target list '%s'", v);
        } else if ((v = VALUE_OF("--emit"))) {
            if (!split_list(v, &emits)) return usage_error("bad --emit list '%s'", v);
        } else if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) return usage_error("%s needs a path", a);
            outpath = argv[++i];
        } else if (strncmp(a, "-O", 2) == 0 && a[2] >= '0' && a[2] <= '3' && !a[3]) {
            o.opt_level = a[2] - '0';
        } else if (strncmp(a, "-I", 2) == 0) {
            const char *d = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!d) return usage_error("%s needs a directory", a);
            if (ninc < 256) incs[ninc++] = d;
        } else if (strncmp(a, "-D", 2) == 0) {
            const char *d = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!d || !*d || *d == '=') return usage_error("%s needs NAME[=VALUE]", a);
            if (ndef < 256) defs[ndef++] = d;
        } else if (strncmp(a, "-U", 2) == 0) {
            const char *d = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!d || !*d) return usage_error("%s needs a NAME", a);
            if (nundef < 256) undefs[nundef++] = d;
        } else if ((v = VALUE_OF("--sm"))) {
            bool good = split_list(v, &sms);
            for (int k = 0; good && k < sms.n; k++) {
                const char *d = cg_ptx_sm_name(sms.items[k]);
                if (d) sms.items[k] = d;
                good = d != NULL;
            }
            if (!good) return usage_error("--sm=%s: expected a list of 75, 80, 86, 89, 90", v);
        } else if ((v = VALUE_OF("--ptx-via"))) {
            if (strcmp(v, "llvm") != 0 && strcmp(v, "nvrtc") != 0)
                return usage_error("--ptx-via=%s: expected llvm or nvrtc", v);
            o.ptx_via = v;
        } else if ((v = VALUE_OF("--spirv-env"))) {
            bool good = split_list(v, &envs);
            for (int k = 0; good && k < envs.n; k++)
                good = strcmp(envs.items[k], "vulkan") == 0 || strcmp(envs.items[k], "opencl") == 0;
            if (!good) return usage_error("--spirv-env=%s: expected vulkan and/or opencl", v);
        } else if ((v = VALUE_OF("--module-name"))) {
            bool good = *v && !(*v >= '0' && *v <= '9');
            for (const char *p = v; good && *p; p++)
                good = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                       (*p >= '0' && *p <= '9') || *p == '_';
            if (!good) return usage_error("--module-name=%s: expected a C identifier", v);
            o.module_name = v;
        } else if ((v = VALUE_OF("--cpu-isa"))) {
            List isas = {{0}, 0, NULL};
            bool good = split_list(v, &isas);
            static const char *const known[] = {"scalar", "sse4", "avx2",
                                                "avx512", "neon", "native"};
            for (int k = 0; good && k < isas.n; k++) {
                good = false;
                for (int j = 0; j < 6; j++) good |= strcmp(isas.items[k], known[j]) == 0;
            }
            free(isas.buf);
            if (!good)
                return usage_error(
                    "--cpu-isa=%s: each entry must be one of scalar, sse4, avx2, avx512, "
                    "neon, native",
                    v);
            o.cpu_isa = v;
        } else if (strcmp(a, "--checked") == 0) {
            o.checked = true;
        } else if ((v = VALUE_OF("--report"))) {
            if (strcmp(v, "fusion") != 0)
                return usage_error("--report=%s: the only report is 'fusion'", v);
            o.report = "fusion";
        } else if (strcmp(a, "-MD") == 0) {
            md = true;
        } else if (strcmp(a, "-MF") == 0) {
            if (i + 1 >= argc) return usage_error("%s needs a file", a);
            depfile = argv[++i];
            md = true;
        } else if ((v = VALUE_OF("--diagnostics"))) {
            if (strcmp(v, "json") == 0)
                o.json_diagnostics = true;
            else if (strcmp(v, "text") == 0)
                o.json_diagnostics = false;
            else
                return usage_error("--diagnostics=%s: expected json or text", v);
        } else if (strcmp(a, "-Werror") == 0) {
            o.werror = true;
        } else if (strcmp(a, "-w") == 0) {
            o.no_warnings = true;
        } else if (strcmp(a, "--verify-each") == 0) {
            o.verify_each = true;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option '%s'", a);
        } else {
            if (ninputs == 256) return usage_error("too many input files%s", "");
            inputs[ninputs++] = a;
        }
    }
    if (ninputs == 0) return usage_error("no input files%s", "");
    o.include_dirs = incs;
    o.ninclude_dirs = ninc;
    o.defines = defs;
    o.ndefines = ndef;
    o.undefs = undefs;
    o.nundefs = nundef;
    o.color = isatty(2) && !getenv("NO_COLOR");
    o.sms = sms.items;
    o.nsms = sms.n;
    o.spirv_envs = envs.items;
    o.nspirv_envs = envs.n;

    /* expand --target=all, check every target and emit up front (usage errors: exit 2) */
    List tl = {{0}, 0, NULL};
    for (int k = 0; k < targets.n; k++) {
        if (strcmp(targets.items[k], "all") == 0) {
            for (int t = 0; t < 5; t++) {
                StrBuf why = {0};
                bool ok = cg_find_target(all_targets[t]) &&
                          (strcmp(all_targets[t], "ptx") != 0 || cg_ptx_available(o.ptx_via, &why));
                sb_free(&why);
                if (ok) tl.items[tl.n++] = all_targets[t];
            }
            continue;
        }
        bool known = false;
        for (int t = 0; t < 5; t++) known |= strcmp(targets.items[k], all_targets[t]) == 0;
        known |=
            strcmp(targets.items[k], "cuda") == 0; /* CUDA C: asked for by name, not part of all */
        if (!known)
            return usage_error(
                "unknown target '%s' (expected c, ptx, opencl, spirv, msl, cuda or all)",
                targets.items[k]);
        if (!cg_find_target(targets.items[k]))
            return usage_error("target '%s' is not available in this version of dckc",
                               targets.items[k]);
        if (strcmp(targets.items[k], "ptx") == 0) {
            StrBuf why = {0};
            if (!cg_ptx_available(o.ptx_via, &why)) {
                fprintf(stderr, "dckc: error: --target=ptx: %s\n",
                        why.data ? why.data : "unavailable");
                sb_free(&why);
                return 2;
            }
            sb_free(&why);
        }
        if (tl.n < 16) tl.items[tl.n++] = targets.items[k];
    }
    /* PTX for several --sm: one source output per architecture (name.sm80.ptx) */
    const char *tl_sm[16] = {0};
    char tl_ext[16][16] = {{0}};
    if (sms.n > 1) {
        List x = {{0}, 0, NULL};
        for (int t = 0; t < tl.n; t++) {
            if (strcmp(tl.items[t], "ptx") != 0) {
                if (x.n < 16) x.items[x.n++] = tl.items[t];
                continue;
            }
            for (int s = 0; s < sms.n && x.n < 16; s++) {
                tl_sm[x.n] = sms.items[s];
                snprintf(tl_ext[x.n], sizeof tl_ext[0], ".sm%s.ptx", sms.items[s]);
                x.items[x.n++] = "ptx";
            }
        }
        tl = x;
    }
    /* SPIR-V for several --spirv-env: one source output per environment (name.vulkan.spv) */
    const char *tl_env[16] = {0};
    if (envs.n > 1) {
        List x = {{0}, 0, NULL};
        for (int t = 0; t < tl.n; t++) {
            if (strcmp(tl.items[t], "spirv") != 0) {
                if (x.n < 16) {
                    tl_sm[x.n] = tl_sm[t];
                    memcpy(tl_ext[x.n], tl_ext[t], sizeof tl_ext[0]);
                    x.items[x.n++] = tl.items[t];
                }
                continue;
            }
            for (int e = 0; e < envs.n && x.n < 16; e++) {
                tl_env[x.n] = envs.items[e];
                tl_sm[x.n] = NULL;
                snprintf(tl_ext[x.n], sizeof tl_ext[0], ".%s.spv", envs.items[e]);
                x.items[x.n++] = "spirv";
            }
        }
        tl = x;
    }
    DckcEmit emit_kinds[16];
    const char *emit_ext[16];
    for (int k = 0; k < emits.n; k++) {
        const char *e = emits.items[k];
        if (strcmp(e, "source") == 0)
            emit_kinds[k] = DCKC_EMIT_SOURCE, emit_ext[k] = NULL;
        else if (strcmp(e, "tokens") == 0)
            emit_kinds[k] = DCKC_EMIT_TOKENS, emit_ext[k] = ".tokens";
        else if (strcmp(e, "ast") == 0)
            emit_kinds[k] = DCKC_EMIT_AST, emit_ext[k] = ".ast";
        else if (strcmp(e, "ir") == 0)
            emit_kinds[k] = DCKC_EMIT_IR, emit_ext[k] = ".ir";
        else if (strcmp(e, "ir-raw") == 0)
            emit_kinds[k] = DCKC_EMIT_IR_RAW, emit_ext[k] = ".raw.ir";
        else if (strcmp(e, "package") == 0)
            emit_kinds[k] = DCKC_EMIT_PACKAGE, emit_ext[k] = ".dckpkg";
        else if (strcmp(e, "header") == 0)
            emit_kinds[k] = DCKC_EMIT_HEADER, emit_ext[k] = ".h";
        else if (strcmp(e, "embed") == 0)
            emit_kinds[k] = DCKC_EMIT_EMBED, emit_ext[k] = ".embed.c";
        else if (strcmp(e, "manifest") == 0)
            emit_kinds[k] = DCKC_EMIT_MANIFEST, emit_ext[k] = ".json";
        else
            return usage_error("unknown --emit kind '%s'", e);
    }

    /* the outputs of one input: (emit, target) pairs */
    int nouts_per_input = 0;
    for (int k = 0; k < emits.n; k++)
        nouts_per_input += emit_kinds[k] == DCKC_EMIT_SOURCE ? tl.n : 1;
    int total_outs = nouts_per_input * ninputs;
    bool outdir = outpath && (total_outs > 1 || is_dir(outpath));
    if (outpath && total_outs > 1 && !is_dir(outpath))
        return usage_error("-o %s: several outputs need an existing directory", outpath);

    /* the package-like outputs take the whole (expanded) target list */
    StrBuf joined = {0};
    for (int t = 0; t < tl.n; t++) sb_printf(&joined, "%s%s", t ? "," : "", tl.items[t]);
    const char *all_list = joined.data ? joined.data : "c";

    int status = 0;
    for (int in = 0; in < ninputs; in++) {
        if (strcmp(inputs[in], "-") != 0 && !input_is_text(inputs[in])) {
            if (status < 1) status = 1;
            continue;
        }
        StrBuf seen = {0}; /* the diagnostics printed for this input */
        char *base = basename_noext(inputs[in]);
        char *written[16 * 16]; /* this input's outputs, for one -MF depfile naming them all */
        int nwritten = 0;
        char **deps = NULL;
        int ndeps = 0;
        for (int k = 0; k < emits.n; k++) {
            int ntg = emit_kinds[k] == DCKC_EMIT_SOURCE ? tl.n : 1;
            for (int t = 0; t < ntg; t++) {
                bool bundle = emit_kinds[k] >= DCKC_EMIT_PACKAGE;
                const char *target = emit_kinds[k] == DCKC_EMIT_SOURCE ? tl.items[t]
                                     : bundle                          ? all_list
                                                                       : "c";
                DckcResult r;
                if (emit_kinds[k] == DCKC_EMIT_SOURCE && tl_sm[t]) o.sms = &tl_sm[t], o.nsms = 1;
                if (emit_kinds[k] == DCKC_EMIT_SOURCE && tl_env[t])
                    o.spirv_envs = &tl_env[t], o.nspirv_envs = 1;
                DckcStatus st = dckc_compile(inputs[in], NULL, &o, target, emit_kinds[k], &r);
                o.sms = sms.items, o.nsms = sms.n;
                o.spirv_envs = envs.items, o.nspirv_envs = envs.n;
                print_new_diagnostics(r.diagnostics ? r.diagnostics : "", &seen);
                if (st != DCKC_OK) {
                    int code = st == DCKC_ERRORS ? 1 : st == DCKC_USAGE ? 2 : 3;
                    if (code > status) status = code;
                    dckc_result_free(&r);
                    continue;
                }
                /* destination: -o file, -o dir/name.ext, ./name.ext, or stdout for dumps */
                const char *ext = emit_ext[k];
                if (!ext)
                    ext = emit_kinds[k] == DCKC_EMIT_SOURCE && (tl_sm[t] || tl_env[t])
                              ? tl_ext[t]
                              : cg_find_target(target)->ext;
                char *dest = NULL;
                if (outpath && !outdir) {
                    dest = strdup(outpath);
                } else if (outpath) {
                    size_t n = strlen(outpath) + strlen(base) + strlen(ext) + 2;
                    dest = malloc(n);
                    snprintf(dest, n, "%s/%s%s", outpath, base, ext);
                } else if (emit_kinds[k] == DCKC_EMIT_SOURCE || bundle) {
                    size_t n = strlen(base) + strlen(ext) + 1;
                    dest = malloc(n);
                    snprintf(dest, n, "%s%s", base, ext);
                }
                size_t dl = dest ? strlen(dest) : 0;
                if (emit_kinds[k] == DCKC_EMIT_SOURCE && strcmp(target, "spirv") == 0 && dl > 7 &&
                    strcmp(dest + dl - 7, ".spvasm") == 0) { /* -o x.spvasm: the disassembly */
                    StrBuf text = {0}, why = {0};
                    if (!cg_spirv_disassemble(r.output, r.output_len, &text, &why)) {
                        fprintf(stderr, "dckc: internal error: %s\n", why.data ? why.data : "?");
                        status = 3;
                        sb_free(&text);
                        sb_free(&why);
                        free(dest);
                        dckc_result_free(&r);
                        continue;
                    }
                    free(r.output);
                    r.output_len = text.len;
                    r.output = sb_take(&text);
                    sb_free(&why);
                }
                if (!dest || strcmp(dest, "-") == 0) {
                    fwrite(r.output, 1, r.output_len, stdout);
                } else if (!write_atomic(dest, r.output, r.output_len)) {
                    status = status > 1 ? status : 1;
                } else if (md && depfile) { /* one depfile for all of this input's outputs, below */
                    written[nwritten++] = dest;
                    dest = NULL;
                    if (!deps) {
                        deps = r.deps, ndeps = r.ndeps;
                        r.deps = NULL, r.ndeps = 0;
                    }
                } else if (md) {
                    size_t n = strlen(dest) + 3;
                    char *df = malloc(n);
                    snprintf(df, n, "%s.d", dest);
                    if (!write_depfile(df, &dest, 1, r.deps, r.ndeps))
                        status = status > 1 ? status : 1;
                    free(df);
                }
                free(dest);
                dckc_result_free(&r);
            }
        }
        if (nwritten && !write_depfile(depfile, written, nwritten, deps, ndeps))
            status = status > 1 ? status : 1;
        for (int w = 0; w < nwritten; w++) free(written[w]);
        for (int d = 0; d < ndeps; d++) free(deps[d]);
        free(deps);
        free(base);
        sb_free(&seen);
    }
    sb_free(&joined);
    free(sms.buf);
    free(envs.buf);
    free(targets.buf);
    free(emits.buf);
    fflush(stdout);
    return status;
}
