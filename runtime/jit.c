/* jit.c: generated C -> shared object in the on-disk cache -> dlopen.
 *
 * Cache: $DCK_CACHE_DIR, else $XDG_CACHE_HOME/dck, else $HOME/.cache/dck. An entry is
 * <key>.so where key is a 128-bit hash of the generated C, the compiler command, its flags
 * and the output of `cc --version`, so a compiler upgrade or a flag change misses. Entries
 * are written to a unique temporary name and renamed into place (atomic on POSIX), so
 * processes compiling the same module at once each produce a complete file and readers never
 * see a partial one. The compiler is $DCK_CC (split on spaces, e.g. "ccache gcc") or the
 * build's default (DCK_DEFAULT_CC); -march=native (-march=$DCK_JIT_MARCH when set) is added
 * when the compiler accepts it.
 */
#include "rt.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DCK_DEFAULT_CC
#define DCK_DEFAULT_CC "cc"
#endif
#define BASE_FLAGS    "-std=c11 -O3 -fPIC -shared -w"
#define STR_(x)       #x
#define DCK_TO_STR(x) STR_(x)

extern char **environ;

/* ---- hashing: two independent 64-bit FNV-1a style streams ---- */
static void hash_bytes(uint64_t h[2], const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h[0] = (h[0] ^ p[i]) * 0x100000001b3ull;
        h[1] = (h[1] ^ p[i]) * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull;
        h[1] ^= h[1] >> 29;
    }
}

static void hash_str(uint64_t h[2], const char *s) { hash_bytes(h, s, strlen(s) + 1); }

/* ---- running the C compiler ---- */

typedef struct Output {
    char buf[12000];
    size_t len;
} Output;

/* Runs argv (argv[0] looked up in PATH) with stdout+stderr captured into out (truncated);
 * returns the exit status, or -1 if it could not be started (errno-like message in out). */
static int run_capture(char *const *argv, Output *out)
{
    out->len = 0;
    out->buf[0] = 0;
    int fds[2];
    if (pipe(fds) != 0) {
        out->len = (size_t)snprintf(out->buf, sizeof out->buf, "pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err) {
        close(fds[0]);
        out->len = (size_t)snprintf(out->buf, sizeof out->buf, "cannot run '%s': %s", argv[0],
                                    strerror(err));
        return -1;
    }
    char tmp[4096];
    ssize_t n;
    while ((n = read(fds[0], tmp, sizeof tmp)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        size_t room = sizeof out->buf - 1 - out->len, take = (size_t)n < room ? (size_t)n : room;
        memcpy(out->buf + out->len, tmp, take);
        out->len += take;
    }
    out->buf[out->len] = 0;
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status)
                             : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* Splits "a b  c" in place into argv (at most max-1 words, NULL-terminated). */
static int split_words(char *s, char **argv, int max)
{
    int n = 0;
    for (char *p = s; *p && n < max - 1;) {
        while (*p == ' ' || *p == '\t') *p++ = 0;
        if (!*p) break;
        argv[n++] = p;
        while (*p && *p != ' ' && *p != '\t') p++;
    }
    argv[n] = NULL;
    return n;
}

#define MAX_ARGV 64

/* Determines the compiler command, flags and identity hash once per context. */
static dck_status jit_identity(dck_context ctx)
{
    pthread_mutex_lock(&ctx->jit_mu);
    if (ctx->jit_ready) {
        pthread_mutex_unlock(&ctx->jit_mu);
        return DCK_SUCCESS;
    }
    const char *cc = getenv("DCK_CC");
    if (!cc || !*cc) cc = DCK_DEFAULT_CC;
    dck_status st = DCK_SUCCESS;
    char *words = rt_strdup(ctx, cc);
    char *argv[MAX_ARGV];
    Output *out = rt_alloc(ctx, sizeof *out);
    if (!words || !out) {
        st = rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory starting the JIT");
        goto done;
    }
    int n = split_words(words, argv, MAX_ARGV - 8);
    if (n == 0) {
        st = rt_error(DCK_ERROR_JIT, "DCK_CC is empty");
        goto done;
    }
    /* identity: `cc --version` */
    argv[n] = "--version";
    argv[n + 1] = NULL;
    int rc = run_capture(argv, out);
    if (rc != 0) {
        st = rt_error(DCK_ERROR_JIT,
                      "the C compiler '%s' needed to run kernels on the CPU does not work "
                      "(set DCK_CC to a working one): %s",
                      cc, rc < 0 ? out->buf : "--version failed");
        goto done;
    }
    uint64_t h[2] = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    hash_str(h, out->buf);
    /* does it take -march=native (or $DCK_JIT_MARCH)? (not every compiler/architecture does) */
    const char *march_env = getenv("DCK_JIT_MARCH");
    char march[96];
    snprintf(march, sizeof march, "-march=%s", march_env && *march_env ? march_env : "native");
    argv[n] = march;
    argv[n + 1] = "-x";
    argv[n + 2] = "c";
    argv[n + 3] = "-E";
    argv[n + 4] = "-o";
    argv[n + 5] = "/dev/null";
    argv[n + 6] = "/dev/null";
    argv[n + 7] = NULL;
    bool native = run_capture(argv, out) == 0;
    ctx->jit_cc = rt_strdup(ctx, cc);
    char flags[160];
    snprintf(flags, sizeof flags, "%s%s%s", BASE_FLAGS, native ? " " : "", native ? march : "");
    ctx->jit_flags = rt_strdup(ctx, flags);
    if (!ctx->jit_cc || !ctx->jit_flags) {
        st = rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory starting the JIT");
        goto done;
    }
    hash_str(h, ctx->jit_cc);
    hash_str(h, ctx->jit_flags);
    hash_str(h, "dck-abi-" DCK_TO_STR(DCK_ABI_VERSION));
    ctx->jit_id_hash[0] = h[0];
    ctx->jit_id_hash[1] = h[1];
    ctx->jit_ready = true;
done:
    rt_free(ctx, words);
    rt_free(ctx, out);
    pthread_mutex_unlock(&ctx->jit_mu);
    return st;
}

/* mkdir -p */
static bool make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        bool ok = mkdir(path, 0755) == 0 || errno == EEXIST;
        *p = '/';
        if (!ok) return false;
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST;
}

static dck_status cache_dir(char *out, size_t n)
{
    const char *d = getenv("DCK_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (d && *d)
        snprintf(out, n, "%s", d);
    else if (x && *x)
        snprintf(out, n, "%s/dck", x);
    else if (home && *home)
        snprintf(out, n, "%s/.cache/dck", home);
    else
        snprintf(out, n, "/tmp/dck-cache-%ld", (long)getuid());
    if (!make_dirs(out))
        return rt_error(DCK_ERROR_IO,
                        "cannot create the kernel cache directory '%s': %s (set DCK_CACHE_DIR)",
                        out, strerror(errno));
    return DCK_SUCCESS;
}

/* The SIMD variants call SLEEF's vector math through weak symbols: loading libsleef (if
 * installed) with RTLD_GLOBAL before any module lets them bind to it; without it they fall
 * back to libm lane by lane. Loaded once per process and kept. */
static void load_sleef_once(void) { (void)dlopen("libsleef.so.3", RTLD_NOW | RTLD_GLOBAL); }

static dck_status load_so(dck_context ctx, const char *path, const char *so, dck_module m)
{
    static pthread_once_t sleef_once = PTHREAD_ONCE_INIT;
    pthread_once(&sleef_once, load_sleef_once);
    void *dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!dl)
        return rt_error(DCK_ERROR_JIT, "cannot load the compiled kernels of '%s' (%s): %s", path,
                        so, dlerror());
    const dck_abi_module *abi = dlsym(dl, "dck_module");
    if (!abi) {
        dlclose(dl);
        return rt_error(DCK_ERROR_JIT, "'%s' (compiled from '%s') has no dck_module symbol", so,
                        path);
    }
    dck_status st = rt_module_bind(m, abi);
    if (st) {
        dlclose(dl);
        return st;
    }
    m->dl = dl;
    return DCK_SUCCESS;
}

void rt_jit_unload(void *dl) { dlclose(dl); }

dck_status rt_jit_load(dck_context ctx, const char *path, const char *c_src, size_t len,
                       dck_module m)
{
    dck_status st = jit_identity(ctx);
    if (st) return st;
    uint64_t h[2] = {ctx->jit_id_hash[0], ctx->jit_id_hash[1]};
    hash_bytes(h, c_src, len);
    char dir[3800];
    if ((st = cache_dir(dir, sizeof dir))) return st;
    char so[4096], tmp_so[4096], tmp_c[4096];
    snprintf(so, sizeof so, "%s/%016llx%016llx.so", dir, (unsigned long long)h[0],
             (unsigned long long)h[1]);
    m->cache_path = rt_strdup(ctx, so);
    if (!m->cache_path)
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", path);
    if (access(so, R_OK) == 0) {
        m->cache_hit = 1;
        st = load_so(ctx, path, so, m);
        if (st != DCK_ERROR_JIT) return st;
        unlink(so); /* a damaged entry: rebuild it below */
    }
    m->cache_hit = 0;

    /* unique temporaries next to the entry: pid + address of a stack object + time */
    unsigned long long uniq = (unsigned long long)rt_now_ns() ^ (unsigned long long)(uintptr_t)&st;
    snprintf(tmp_c, sizeof tmp_c, "%s/tmp-%ld-%llx.c", dir, (long)getpid(), uniq);
    snprintf(tmp_so, sizeof tmp_so, "%s/tmp-%ld-%llx.so", dir, (long)getpid(), uniq);
    FILE *f = fopen(tmp_c, "wb");
    if (!f)
        return rt_error(DCK_ERROR_IO, "cannot write '%s' in the kernel cache: %s", tmp_c,
                        strerror(errno));
    bool wrote = fwrite(c_src, 1, len, f) == len;
    if (fclose(f) != 0 || !wrote) {
        unlink(tmp_c);
        return rt_error(DCK_ERROR_IO, "cannot write '%s' in the kernel cache", tmp_c);
    }

    char *words = rt_alloc(ctx, strlen(ctx->jit_cc) + strlen(ctx->jit_flags) + 2);
    Output *out = rt_alloc(ctx, sizeof *out);
    if (!words || !out) {
        rt_free(ctx, words);
        rt_free(ctx, out);
        unlink(tmp_c);
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory compiling '%s'", path);
    }
    sprintf(words, "%s %s", ctx->jit_cc, ctx->jit_flags);
    char *argv[MAX_ARGV];
    int n = split_words(words, argv, MAX_ARGV - 4);
    argv[n] = "-o";
    argv[n + 1] = tmp_so;
    argv[n + 2] = tmp_c;
    argv[n + 3] = NULL;
    int rc = run_capture(argv, out);
    unlink(tmp_c);
    if (rc != 0) {
        unlink(tmp_so);
        st = rt_error(DCK_ERROR_JIT,
                      "the C compiler '%s' failed (%s %d) on the code generated from '%s' for "
                      "device '%s':\n%s",
                      ctx->jit_cc, rc < 0 ? "could not start," : "exit status", rc, path,
                      ctx->device.info.name, out->buf);
    } else if (rename(tmp_so, so) != 0) {
        st = rt_error(DCK_ERROR_IO, "cannot move '%s' to '%s' in the kernel cache: %s", tmp_so, so,
                      strerror(errno));
        unlink(tmp_so);
    }
    rt_free(ctx, words);
    rt_free(ctx, out);
    if (st) return st;
    return load_so(ctx, path, so, m);
}
