/* test_exec.c: execution tests. Each kernel of tests/exec/ runs with inputs made here,
 * through the C API (dck.h) and through the dckrun tool, and every output buffer is
 * compared with a reference computed here in C.
 *
 * The backend is $DCK_TEST_BACKEND (cpu, opencl, vulkan, cuda, metal; default cpu) and the
 * code target $DCK_TEST_TARGET (default: the backend's best, e.g. spirv-opencl to run
 * OpenCL-env SPIR-V on OpenCL through llvm-spirv -r); ctest has one entry per backend. A
 * backend that is not present, or a target dckc does not build, prints "SKIPPED: ..." and
 * exits 77 (ctest: skipped), never passes. Floats compare within the rounding tolerance of
 * each case on every backend; integers exactly.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dck.h"

enum ElemKind {
    EK_F32,
    EK_U32,
    EK_I32,
    EK_I64,
    EK_U64,
    EK_F32V
}; /* F32V: float vectors / structs of floats */

typedef struct TBuf {
    const char *name;
    enum ElemKind kind;
    uint32_t esize; /* bytes per element */
    uint32_t count;
    void *in;                  /* initial contents */
    void *expect;              /* NULL: not checked */
    const unsigned char *mask; /* per byte: 1 = compare (struct padding is 0) */
    double tol;                /* floats: relative tolerance */
    dck_type type;
    uint32_t vec;
    /* optional: checks the bytes the mask leaves out (results the device decides, such as
     * the membership of subgroups); false with a message in why */
    bool (*check)(const struct TBuf *b, const void *got, char *why, size_t whylen);
} TBuf;

typedef struct TArg {
    const char *name;
    int buf;         /* >= 0: index into bufs */
    const char *cli; /* value for dckrun */
    dck_arg arg;     /* value for the API */
    void *owned[2];  /* memory behind cli / arg to free (the add_* helpers) */
} TArg;

typedef struct Case {
    const char *file, *kernel;
    TBuf bufs[8];
    int nbufs;
    TArg args[10];
    int nargs;
    int dims;
    uint32_t global[3];
    bool pipeline;
    const char *source; /* the kernel's source when it is not a file of tests/exec (C API only) */
} Case;

#if defined(__SANITIZE_ADDRESS__)
/* Under ASan: PoCL's LLVM installs a malloc'ed alternate signal stack in a thread that builds
 * a program (LLVM's CreateSigAltStack), and ASan, unaware, tries to munmap it when that thread
 * exits ("AddressSanitizer: CHECK failed ... unable to unmap"): modules_from_several_threads
 * on OpenCL died that way. Without ASan's own alternate stack the two do not meet. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "use_sigaltstack=0"; }
#endif

static const char *test_backend = "cpu"; /* $DCK_TEST_BACKEND */
static const char *test_target;          /* $DCK_TEST_TARGET or NULL */
/* the tree and the build: compiled in, or $DCK_TEST_SOURCE_DIR / $DCK_TEST_BINARY_DIR when the
 * binaries run elsewhere (tests/gpu/vulkan_h100.sh) */
static const char *source_dir = DCK_SOURCE_DIR, *binary_dir = DCK_BINARY_DIR;

/* Reads the environment into the globals above. Called by main and again by every test body:
 * Criterion runs each test in a fresh worker process that does not go through main, so
 * settings made there would not reach the tests (they would silently run on the CPU). */
static void test_env(void)
{
    const char *b = getenv("DCK_TEST_BACKEND"), *t = getenv("DCK_TEST_TARGET");
    if (b && *b) test_backend = b;
    if (t && *t) test_target = t;
    const char *sd = getenv("DCK_TEST_SOURCE_DIR"), *bd = getenv("DCK_TEST_BINARY_DIR");
    if (sd && *sd) source_dir = sd;
    if (bd && *bd) binary_dir = bd;
}

/* The subgroup size of the test device (dck_device_info.subgroup_size; 1 on the CPU). */
static uint32_t device_subgroup_size(void)
{
    test_env();
    dck_context ctx;
    dck_context_desc cd = {0};
    cd.backend_name = test_backend;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "context: %s", dck_last_error());
    dck_device dev;
    dck_device_info info;
    cr_assert_eq(dck_context_get_device(ctx, &dev), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_device_get_info(dev, &info), DCK_SUCCESS, "%s", dck_last_error());
    dck_context_destroy(ctx);
    return info.subgroup_size ? info.subgroup_size : 1;
}

static uint32_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}
static float rndf(void) { return (float)(rnd() & 0xffffff) / 16777216.0f; }

static TBuf *add_buf(Case *c, const char *name, enum ElemKind k, uint32_t esize, uint32_t count,
                     dck_type type, uint32_t vec)
{
    TBuf *b = &c->bufs[c->nbufs++];
    memset(b, 0, sizeof *b);
    b->name = name;
    b->kind = k;
    b->esize = esize;
    b->count = count;
    b->in = calloc(count ? count : 1, esize);
    b->type = type;
    b->vec = vec;
    b->tol = 1e-5;
    TArg *a = &c->args[c->nargs++];
    a->name = name;
    a->buf = c->nbufs - 1;
    return b;
}

static void *expect_of(TBuf *b)
{
    b->expect = calloc(b->count ? b->count : 1, b->esize);
    memcpy(b->expect, b->in, (size_t)b->count * b->esize);
    return b->expect;
}

static void add_u32(Case *c, const char *name, uint32_t v)
{
    TArg *a = &c->args[c->nargs++];
    a->name = name;
    a->buf = -1;
    char *s = malloc(32);
    snprintf(s, 32, "%u", v);
    a->cli = s;
    a->owned[0] = s;
    a->arg = dck_arg_u32(v);
}

static void add_f32(Case *c, const char *name, float v)
{
    TArg *a = &c->args[c->nargs++];
    a->name = name;
    a->buf = -1;
    char *s = malloc(48);
    snprintf(s, 48, "%.9g", v);
    a->cli = s;
    a->owned[0] = s;
    a->arg = dck_arg_f32(v);
}

static void add_f32v(Case *c, const char *name, const float *v, int n, const char *tname)
{
    TArg *a = &c->args[c->nargs++];
    a->name = name;
    a->buf = -1;
    char *s = malloc(128);
    s[0] = 0;
    float *copy = calloc(4, sizeof(float));
    for (int k = 0; k < n; k++) {
        snprintf(s + strlen(s), 32, "%s%.9g", k ? "," : "", v[k]);
        copy[k] = v[k];
    }
    a->cli = s;
    a->owned[0] = s;
    a->owned[1] = copy;
    a->arg = dck_arg_value(copy, n == 3 ? 16 : (uint32_t)(4 * n), tname);
}

static bool close_enough(const TBuf *b, const void *got, char *why, size_t whylen)
{
    const unsigned char *g = got, *e = b->expect;
    for (uint32_t i = 0; i < b->count; i++) {
        for (uint32_t off = 0; off < b->esize;) {
            size_t at = (size_t)i * b->esize + off;
            if (b->mask && !b->mask[at]) {
                off++;
                continue;
            }
            switch (b->kind) {
            case EK_F32:
            case EK_F32V: {
                float x, y;
                memcpy(&x, g + at, 4);
                memcpy(&y, e + at, 4);
                double tol = b->tol * fmax(1.0, fabs(y));
                if (!(fabs((double)x - (double)y) <= tol) && !(isnan(x) && isnan(y))) {
                    snprintf(why, whylen, "%s[%u] (+%u bytes): got %.9g, expected %.9g", b->name, i,
                             off, x, y);
                    return false;
                }
                off += 4;
                break;
            }
            case EK_U32:
            case EK_I32: {
                uint32_t x, y;
                memcpy(&x, g + at, 4);
                memcpy(&y, e + at, 4);
                if (x != y) {
                    snprintf(why, whylen, "%s[%u]: got %u (%d), expected %u (%d)", b->name, i, x,
                             (int)x, y, (int)y);
                    return false;
                }
                off += 4;
                break;
            }
            case EK_I64:
            case EK_U64: {
                uint64_t x, y;
                memcpy(&x, g + at, 8);
                memcpy(&y, e + at, 8);
                if (x != y) {
                    snprintf(why, whylen, "%s[%u]: got %lld, expected %lld", b->name, i,
                             (long long)x, (long long)y);
                    return false;
                }
                off += 8;
                break;
            }
            }
        }
    }
    return b->check ? b->check(b, got, why, whylen) : true;
}

/* ---- through the C API ---- */
/* checked: a checked-mode context (bounds checks compiled in, overlap checks): the
 * results must be the same and no violation may be reported for these correct kernels. */
static void run_api(Case *c, bool checked)
{
    test_env();
    dck_context ctx;
    dck_context_desc cd = {0};
    cd.flags = checked ? DCK_CONTEXT_CHECKED : 0;
    cd.backend_name = test_backend;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "context: %s", dck_last_error());
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/exec/%s", source_dir, c->file);
    dck_module mod;
    dck_module_options mo = {0};
    mo.opt_level = -1;
    mo.target = test_target;
    dck_status st =
        dck_module_create_from_source(ctx, c->source ? c->file : path, c->source, &mo, &mod);
    cr_assert_eq(st, DCK_SUCCESS, "compile %s: %s", c->file, dck_last_error());
    dck_kernel k;
    cr_assert_eq(dck_module_get_kernel(mod, c->kernel, &k), DCK_SUCCESS, "%s", dck_last_error());
    dck_buffer bufs[8];
    for (int i = 0; i < c->nbufs; i++) {
        TBuf *b = &c->bufs[i];
        dck_buffer_desc d = {0};
        d.count = b->count;
        d.elem_size = b->esize;
        d.type = b->type;
        d.vec = b->vec;
        d.initial_data = b->in;
        d.name = b->name;
        cr_assert_eq(dck_buffer_create(ctx, &d, &bufs[i]), DCK_SUCCESS, "buffer %s: %s", b->name,
                     dck_last_error());
    }
    dck_arg args[10];
    for (int i = 0; i < c->nargs; i++)
        args[i] = c->args[i].buf >= 0 ? dck_arg_buffer(bufs[c->args[i].buf]) : c->args[i].arg;
    dck_queue q;
    cr_assert_eq(dck_queue_create(ctx, NULL, &q), DCK_SUCCESS);
    dck_range r = {0};
    r.dims = (uint32_t)c->dims;
    memcpy(r.global, c->global, sizeof r.global);
    st = dck_launch(q, k, c->pipeline ? NULL : &r, (uint32_t)c->nargs, args, NULL);
    cr_assert_eq(st, DCK_SUCCESS, "launch %s: %s", c->kernel, dck_last_error());
    cr_assert_eq(dck_queue_finish(q), DCK_SUCCESS, "%s", dck_last_error());
    for (int i = 0; i < c->nbufs; i++) {
        TBuf *b = &c->bufs[i];
        if (!b->expect) continue;
        void *got = malloc((size_t)b->count * b->esize);
        cr_assert_eq(dck_buffer_read(bufs[i], 0, (uint64_t)b->count * b->esize, got), DCK_SUCCESS);
        char why[2048];
        bool ok = close_enough(b, got, why, sizeof why);
        free(got);
        cr_assert(ok, "C API%s, %s: %s", checked ? " (checked mode)" : "", c->kernel, why);
    }
    for (int i = 0; i < c->nbufs; i++) dck_buffer_destroy(bufs[i]);
    dck_queue_destroy(q);
    dck_module_destroy(mod);
    dck_context_destroy(ctx);
}

/* ---- through dckrun ---- */
static void run_dckrun(Case *c)
{
    test_env();
    char dir[] = "/tmp/dck-exec-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char cmd[8192];
    int n = snprintf(cmd, sizeof cmd, "%s/runtime/dckrun --backend=%s%s%s %s/tests/exec/%s %s",
                     binary_dir, test_backend, test_target ? " --target=" : "",
                     test_target ? test_target : "", source_dir, c->file, c->kernel);
    if (!c->pipeline) {
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " --global=%u", c->global[0]);
        for (int d = 1; d < c->dims; d++)
            n += snprintf(cmd + n, sizeof cmd - (size_t)n, ",%u", c->global[d]);
    }
    for (int i = 0; i < c->nargs; i++) {
        TArg *a = &c->args[i];
        if (a->buf < 0) {
            n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s=%s", a->name, a->cli);
            continue;
        }
        TBuf *b = &c->bufs[a->buf];
        char file[512];
        snprintf(file, sizeof file, "%s/%s.in", dir, b->name);
        FILE *f = fopen(file, "wb");
        cr_assert_not_null(f);
        fwrite(b->in, b->esize, b->count, f);
        fclose(f);
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " %s=@%s", a->name, file);
        if (b->expect)
            n += snprintf(cmd + n, sizeof cmd - (size_t)n, " --out=%s=%s/%s.out", b->name, dir,
                          b->name);
    }
    snprintf(cmd + n, sizeof cmd - (size_t)n, " >%s/log 2>&1", dir);
    int rc = system(cmd);
    char log[4096] = "";
    char logpath[600];
    snprintf(logpath, sizeof logpath, "%s/log", dir);
    FILE *lf = fopen(logpath, "r");
    if (lf) {
        size_t got = fread(log, 1, sizeof log - 1, lf);
        log[got] = 0;
        fclose(lf);
    }
    cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "dckrun failed (%d): %s\n%s", rc, cmd, log);
    for (int i = 0; i < c->nbufs; i++) {
        TBuf *b = &c->bufs[i];
        if (!b->expect) continue;
        char file[512];
        snprintf(file, sizeof file, "%s/%s.out", dir, b->name);
        FILE *f = fopen(file, "rb");
        cr_assert_not_null(f, "dckrun wrote no %s", file);
        void *got = calloc(b->count ? b->count : 1, b->esize);
        size_t rd = fread(got, b->esize, b->count, f);
        fclose(f);
        cr_assert_eq(rd, b->count, "dckrun output %s has %zu elements, expected %u", b->name, rd,
                     b->count);
        char why[256];
        bool ok = close_enough(b, got, why, sizeof why);
        free(got);
        cr_assert(ok, "dckrun, %s: %s", c->kernel, why);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", dir);
}

/* Frees what add_buf, expect_of, the masks and the argument helpers allocated. */
static void free_case(Case *c)
{
    for (int i = 0; i < c->nbufs; i++) {
        free(c->bufs[i].in);
        free(c->bufs[i].expect);
        free((void *)c->bufs[i].mask);
    }
    for (int i = 0; i < c->nargs; i++) {
        TArg *a = &c->args[i];
        free(a->owned[0]);
        free(a->owned[1]);
    }
}

static void run_case(Case *c)
{
    run_api(c, false);
    run_api(c, true);
    if (!c->source) run_dckrun(c);
    free_case(c);
}

/* ---- the cases ---- */

Test(exec, saxpy)
{
    Case c = {.file = "saxpy.dck", .kernel = "saxpy", .dims = 1, .global = {1000}};
    rng_state = 1;
    add_f32(&c, "a", 2.5f);
    TBuf *x = add_buf(&c, "x", EK_F32, 4, 1000, DCK_TYPE_F32, 1);
    TBuf *y = add_buf(&c, "y", EK_F32, 4, 1000, DCK_TYPE_F32, 1);
    float *xi = x->in, *yi = y->in;
    for (int i = 0; i < 1000; i++) xi[i] = rndf(), yi[i] = rndf();
    float *ye = expect_of(y);
    for (int i = 0; i < 1000; i++) ye[i] = 2.5f * xi[i] + yi[i];
    run_case(&c);
}

Test(exec, vadd)
{
    Case c = {.file = "vadd.dck", .kernel = "vadd", .dims = 1, .global = {1001}};
    rng_state = 2;
    TBuf *a = add_buf(&c, "a", EK_F32, 4, 1001, DCK_TYPE_F32, 1);
    TBuf *b = add_buf(&c, "b", EK_F32, 4, 1001, DCK_TYPE_F32, 1);
    TBuf *o = add_buf(&c, "c", EK_F32, 4, 1001, DCK_TYPE_F32, 1);
    float *ai = a->in, *bi = b->in;
    for (int i = 0; i < 1001; i++) ai[i] = rndf(), bi[i] = rndf();
    float *e = expect_of(o);
    for (int i = 0; i < 1001; i++) e[i] = ai[i] + bi[i];
    run_case(&c);
}

Test(exec, reduce)
{
    Case c = {.file = "reduce.dck", .kernel = "reduce", .dims = 1, .global = {4096}};
    rng_state = 3;
    TBuf *us = add_buf(&c, "usum", EK_U32, 4, 1, DCK_TYPE_U32, 1);
    TBuf *fs = add_buf(&c, "fsum", EK_F32, 4, 1, DCK_TYPE_F32, 1);
    TBuf *x = add_buf(&c, "x", EK_U32, 4, 4096, DCK_TYPE_U32, 1);
    uint32_t *xi = x->in, sum = 0;
    for (int i = 0; i < 4096; i++) sum += xi[i] = rnd() % 100;
    *(uint32_t *)expect_of(us) = sum;
    *(float *)expect_of(fs) = (float)sum;
    fs->tol = 0;
    run_case(&c);
}

Test(exec, histogram)
{
    Case c = {.file = "histogram.dck", .kernel = "histogram", .dims = 1, .global = {5000}};
    rng_state = 4;
    TBuf *h = add_buf(&c, "hist", EK_U32, 4, 10, DCK_TYPE_U32, 1);
    TBuf *mx = add_buf(&c, "maxv", EK_U32, 4, 1, DCK_TYPE_U32, 1);
    TBuf *bits = add_buf(&c, "bits", EK_U32, 4, 1, DCK_TYPE_U32, 1);
    TBuf *d = add_buf(&c, "data", EK_U32, 4, 5000, DCK_TYPE_U32, 1);
    uint32_t *di = d->in, *he = expect_of(h), *me = expect_of(mx), *be = expect_of(bits);
    for (int i = 0; i < 5000; i++) {
        uint32_t v = di[i] = rnd() % 100;
        he[v % 10]++;
        if (v > *me) *me = v;
        *be ^= v * 0x9E3779B1u + (uint32_t)i;
    }
    run_case(&c);
}

Test(exec, matmul_tiled)
{
    enum { N = 36 };
    Case c = {.file = "matmul_tiled.dck", .kernel = "matmul", .dims = 2, .global = {40, 40}};
    rng_state = 5;
    add_u32(&c, "n", N);
    TBuf *a = add_buf(&c, "a", EK_F32, 4, N * N, DCK_TYPE_F32, 1);
    TBuf *b = add_buf(&c, "b", EK_F32, 4, N * N, DCK_TYPE_F32, 1);
    TBuf *o = add_buf(&c, "c", EK_F32, 4, N * N, DCK_TYPE_F32, 1);
    float *ai = a->in, *bi = b->in;
    for (int i = 0; i < N * N; i++) ai[i] = rndf(), bi[i] = rndf();
    float *e = expect_of(o);
    for (int r = 0; r < N; r++)
        for (int col = 0; col < N; col++) {
            double s = 0;
            for (int k = 0; k < N; k++) s += (double)ai[r * N + k] * bi[k * N + col];
            e[r * N + col] = (float)s;
        }
    o->tol = 1e-5;
    run_case(&c);
}

typedef struct Particle {
    float pos[4], vel[4];
    float mass, age, pad[2];
} Particle;

Test(exec, structs)
{
    enum { N = 100 };
    Case c = {.file = "structs.dck", .kernel = "integrate", .dims = 1, .global = {N}};
    rng_state = 6;
    float dt = 0.125f, g[3] = {0.0f, -9.75f, 0.5f};
    add_f32(&c, "dt", dt);
    add_f32v(&c, "gravity", g, 3, "float3");
    TBuf *seed = add_buf(&c, "seed", EK_F32V, 16, 2 * N, DCK_TYPE_F32, 4);
    TBuf *p = add_buf(&c, "p", EK_F32V, sizeof(Particle), N, DCK_TYPE_STRUCT, 1);
    cr_assert_eq(sizeof(Particle), 48);
    float *si = seed->in;
    for (int i = 0; i < 8 * N; i++) si[i] = rndf();
    Particle *pe = expect_of(p);
    unsigned char *mask = calloc(N, sizeof(Particle));
    for (int i = 0; i < N; i++) {
        Particle *q = &pe[i];
        const float *a = si + 8 * i, *b = a + 4;
        for (int k = 0; k < 3; k++) q->pos[k] = a[k], q->vel[k] = b[k];
        q->mass = a[3];
        q->age = b[3];
        float m = fmaxf(q->mass, 0.25f);
        float f = 0.5f / m;
        for (int k = 0; k < 3; k++) {
            float acc = g[k] - q->vel[k] * f;
            q->vel[k] += acc * dt;
            q->pos[k] += q->vel[k] * dt;
        }
        q->age += dt;
        unsigned char *mk = mask + (size_t)i * sizeof(Particle);
        memset(mk, 1, 12);      /* pos.xyz */
        memset(mk + 16, 1, 12); /* vel.xyz */
        memset(mk + 32, 1, 8);  /* mass, age */
    }
    p->mask = mask;
    run_case(&c);
}

Test(exec, swizzle)
{
    enum { N = 64 };
    Case c = {.file = "swizzle.dck", .kernel = "swizzle", .dims = 1, .global = {N}};
    rng_state = 7;
    TBuf *v = add_buf(&c, "v", EK_F32V, 16, N, DCK_TYPE_F32, 4);
    TBuf *a = add_buf(&c, "a", EK_F32V, 16, N, DCK_TYPE_F32, 4);
    TBuf *b = add_buf(&c, "b", EK_F32V, 16, N, DCK_TYPE_F32, 4);
    float *vi = v->in;
    for (int i = 0; i < 4 * N; i++) vi[i] = rndf();
    float *ae = expect_of(a), *be = expect_of(b);
    for (int i = 0; i < N; i++) {
        float *x = vi + 4 * i, *r = ae + 4 * i, *t = be + 4 * i;
        r[0] = 2 * x[2], r[1] = 2 * x[3], r[2] = x[1], r[3] = x[0] + x[1];
        t[0] = x[0], t[1] = x[0];
        t[2] = x[3] + t[0];
        t[3] = x[2] + t[1];
    }
    run_case(&c);
}

Test(exec, scan)
{
    enum { N = 1024 };
    Case c = {.file = "scan.dck", .kernel = "block_scan", .dims = 1, .global = {N}};
    rng_state = 8;
    TBuf *x = add_buf(&c, "x", EK_I32, 4, N, DCK_TYPE_I32, 1);
    TBuf *y = add_buf(&c, "y", EK_I32, 4, N, DCK_TYPE_I32, 1);
    int32_t *xi = x->in;
    for (int i = 0; i < N; i++) xi[i] = (int32_t)(rnd() % 100) - 30;
    int32_t *e = expect_of(y);
    for (int i = 0; i < N; i++) e[i] = (i % 64 ? e[i - 1] : 0) + xi[i];
    run_case(&c);
}

static uint32_t escape_time(float cx, float cy, uint32_t max_iter)
{
    float zx = 0, zy = 0;
    uint32_t n = 0;
    while (n < max_iter) {
        float x2 = zx * zx, y2 = zy * zy;
        if (x2 + y2 > 4.0f) break;
        volatile float t = 2.0f * zx * zy; /* no contraction into fma */
        zy = t + cy;
        volatile float u = x2 - y2;
        zx = u + cx;
        n++;
    }
    return n;
}

Test(exec, mandelbrot)
{
    enum { W = 37, H = 23 };
    Case c = {.file = "mandelbrot.dck", .kernel = "mandelbrot", .dims = 2, .global = {W, H}};
    add_u32(&c, "w", W);
    add_u32(&c, "h", H);
    add_u32(&c, "max_iter", 64);
    TBuf *it = add_buf(&c, "iters", EK_U32, 4, W * H, DCK_TYPE_U32, 1);
    uint32_t *e = expect_of(it);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            volatile float cx = -2.0f + 3.0f * ((float)x + 0.5f) / (float)W;
            volatile float cy = -1.25f + 2.5f * ((float)y + 0.5f) / (float)H;
            e[y * W + x] = escape_time(cx, cy, 64);
        }
    run_case(&c);
}

Test(exec, groups2d)
{
    enum { W = 148, H = 46 };
    Case c = {.file = "groups2d.dck", .kernel = "groups2d", .dims = 2, .global = {W, H}};
    TBuf *o = add_buf(&c, "out", EK_U32, 4, W * H, DCK_TYPE_U32, 1);
    uint32_t *e = expect_of(o);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) e[y * W + x] = (uint32_t)(x / 4 + 1000 * (y / 2) + 1);
    run_case(&c);
}

Test(exec, stencil)
{
    enum { N = 777 };
    Case c = {.file = "stencil.dck", .kernel = "stencil5", .dims = 1, .global = {N}};
    rng_state = 9;
    TBuf *x = add_buf(&c, "x", EK_F32, 4, N, DCK_TYPE_F32, 1);
    TBuf *y = add_buf(&c, "y", EK_F32, 4, N, DCK_TYPE_F32, 1);
    float *xi = x->in;
    for (int i = 0; i < N; i++) xi[i] = rndf();
    float *e = expect_of(y);
    const float w[5] = {0.1f, 0.2f, 0.4f, 0.2f, 0.1f};
    for (int i = 0; i < N; i++) {
        float s = 0;
        for (int k = -2; k <= 2; k++) {
            int j = i + k < 0 ? 0 : i + k > N - 1 ? N - 1 : i + k;
            s += w[k + 2] * xi[j];
        }
        e[i] = s;
    }
    run_case(&c);
}

Test(exec, int64)
{
    enum { N = 250 };
    Case c = {.file = "int64.dck", .kernel = "int64_ops", .dims = 1, .global = {N}};
    rng_state = 10;
    TBuf *s = add_buf(&c, "s", EK_I64, 8, 8 * N, DCK_TYPE_I64, 1);
    TBuf *u = add_buf(&c, "u", EK_U64, 8, 8 * N, DCK_TYPE_U64, 1);
    TBuf *a = add_buf(&c, "a", EK_I64, 8, N, DCK_TYPE_I64, 1);
    TBuf *b = add_buf(&c, "b", EK_U64, 8, N, DCK_TYPE_U64, 1);
    int64_t *ai = a->in;
    uint64_t *bi = b->in;
    for (int i = 0; i < N; i++) ai[i] = rnd() % 100, bi[i] = rnd() % 100;
    int64_t *se = expect_of(s);
    uint64_t *ue = expect_of(u);
    for (int i = 0; i < N; i++) {
        int64_t x = ai[i] - 50;
        uint64_t y = bi[i] + 1;
        int64_t big = x * 1234567890123ll;
        int64_t d = x == 0 ? 7 : x;
        int64_t *o = se + 8 * i;
        o[0] = big / d;
        o[1] = big % 97;
        o[2] = big >> 7;
        o[3] = (int64_t)((uint64_t)big << 20);
        o[4] = (int64_t)(0x7ffffffffffffff0ull + (uint64_t)((int64_t)y * 1000));
        o[5] = (int64_t)(int32_t)(uint32_t)(uint64_t)big;
        o[6] = (int64_t)(uint32_t)(uint64_t)x;
        o[7] = (int64_t)(0 - (uint64_t)big) ^ (big >> 3);
        uint64_t h = y * 0x9E3779B97F4A7C15ull;
        uint64_t *p = ue + 8 * i;
        p[0] = h;
        p[1] = h >> 29;
        p[2] = (y << 58) | (h >> 61);
        p[3] = h / y;
        p[4] = h % y;
        p[5] = (uint64_t)(((unsigned __int128)h * 0x0123456789ABCDEFull) >> 64);
        p[6] = (h << 17) | (h >> 47);
        p[7] = (uint64_t)x;
    }
    run_case(&c);
}

static uint32_t clz32(uint32_t v) { return v ? (uint32_t)__builtin_clz(v) : 32; }
static uint32_t ctz32(uint32_t v) { return v ? (uint32_t)__builtin_ctz(v) : 32; }

/* 64-bit atomics (atomic64.dck): add and sub past 32 bits, signed max/min, xor; add on shared */
Test(exec, atomic64)
{
    enum { N = 4000 };
    Case c = {.file = "atomic64.dck", .kernel = "atomic64", .dims = 1, .global = {N}};
    rng_state = 5;
    TBuf *big = add_buf(&c, "big", EK_U64, 8, 2, DCK_TYPE_U64, 1);
    TBuf *s = add_buf(&c, "s", EK_I64, 8, 3, DCK_TYPE_I64, 1);
    TBuf *x = add_buf(&c, "x", EK_U64, 8, 1, DCK_TYPE_U64, 1);
    TBuf *v = add_buf(&c, "v", EK_I64, 8, N, DCK_TYPE_I64, 1);
    int64_t *vi = v->in;
    uint64_t *be = expect_of(big), *xe = expect_of(x);
    int64_t *se = expect_of(s);
    for (uint32_t i = 0; i < N; i++) {
        vi[i] = (int64_t)(rnd() % 100u);
        int64_t d = (vi[i] - 50) * 100000000000ll;
        be[0] += 4000000000ull;
        be[1] -= (uint64_t)(i + 1u) * 3000000000ull;
        if (d > se[0]) se[0] = d;
        if (d < se[1]) se[1] = d;
        se[2] += d;
        xe[0] ^= (uint64_t)i * 0x9E3779B97F4A7C15ull;
    }
    run_case(&c);
}

Test(exec, math)
{
    enum { N = 256 };
    Case c = {.file = "math.dck", .kernel = "math_builtins", .dims = 1, .global = {N}};
    rng_state = 11;
    TBuf *r = add_buf(&c, "r", EK_F32, 4, 41 * N, DCK_TYPE_F32, 1);
    TBuf *ri = add_buf(&c, "ri", EK_U32, 4, 10 * N, DCK_TYPE_U32, 1);
    TBuf *x = add_buf(&c, "x", EK_F32, 4, N, DCK_TYPE_F32, 1);
    float *xi = x->in;
    for (int i = 0; i < N; i++) xi[i] = rndf();
    xi[0] = 0.5f; /* hit the exact cases of step/select/round */
    xi[1] = 0.25f;
    float *e = expect_of(r);
    uint32_t *ei = expect_of(ri);
    for (int i = 0; i < N; i++) {
        float v = xi[i], s = 10.0f * v - 5.0f, m = 2.0f * v - 1.0f;
        float res[41] = {sqrtf(v),
                         1.0f / sqrtf(v + 0.5f),
                         expf(v),
                         exp2f(s),
                         logf(v + 0.5f),
                         log2f(v + 0.5f),
                         powf(v + 0.5f, 1.7f),
                         sinf(s),
                         cosf(s),
                         tanf(v),
                         asinf(m),
                         acosf(m),
                         atanf(s),
                         atan2f(m, v + 0.25f),
                         sinhf(m),
                         coshf(m),
                         tanhf(s),
                         floorf(s),
                         ceilf(s),
                         roundf(s),
                         truncf(s),
                         s - floorf(s),
                         fmodf(s, 3.0f),
                         fmaf(v, 3.0f, -1.0f),
                         fabsf(m),
                         (float)((m > 0) - (m < 0)),
                         fminf(v, 0.5f),
                         fmaxf(v, 0.5f),
                         fminf(fmaxf(s, -1.0f), 2.0f),
                         1.0f + 2.0f * v,
                         v < 0.5f ? 0.0f : 1.0f,
                         v > 0.5f ? 1.0f : -1.0f,
                         isnan(logf(m)) ? 1.0f : 0.0f,
                         isinf(expf(200.0f * v)) ? 1.0f : 0.0f,
                         v * 1 + (1 - v) * 2 + 2 * v * 3 + 0.5f * 4,
                         sqrtf(v * v + 4 * v * v + 9),
                         sqrtf(v * v + 1),
                         (v + 0.1f) / sqrtf((v + 0.1f) * (v + 0.1f) + 5),
                         2 * 2 - v * 1,
                         0,
                         isnan(logf(m)) ? 0.0f : (float)((logf(m) > 0) - (logf(m) < 0))};
        float q[4] = {v, 0.5f * v, v + 0.25f, 1.0f - v}, qr[4] = {q[3], q[2], q[1], q[0]}, sum = 0;
        for (int k = 0; k < 4; k++) {
            float cl = fminf(fmaxf(q[k], 0.2f), 0.8f);
            sum += sqrtf(q[k]) + sinf(q[k]) * cl + (q[k] + (qr[k] - q[k]) * 0.25f) +
                   floorf(q[k] * 4.0f);
        }
        res[39] = sum;
        for (int k = 0; k < 41; k++) e[k * N + i] = res[k];
        uint32_t u = (uint32_t)(v * 4000000000.0f);
        int32_t si = (int32_t)(s * 1000.0f);
        uint32_t ires[10] = {(uint32_t)__builtin_popcount(u),
                             clz32(u),
                             ctz32(u | 0x80000000u),
                             (uint32_t)(((uint64_t)u * 0x9E3779B9u) >> 32),
                             (u << 7) | (u >> 25),
                             (uint32_t)(si < 0 ? -si : si),
                             u < 123456789u ? u : 123456789u,
                             u > 123456789u ? u : 123456789u,
                             (uint32_t)(si < -100   ? -100
                                        : si > 2500 ? 2500
                                                    : si),
                             (q[0] > 0.9f || q[1] > 0.9f || q[2] > 0.9f || q[3] > 0.9f)   ? 1u
                             : (q[0] > 0.1f && q[1] > 0.1f && q[2] > 0.1f && q[3] > 0.1f) ? 2u
                                                                                          : 0u};
        for (int k = 0; k < 10; k++) ei[k * N + i] = ires[k];
    }
    r->tol = 2e-5;
    run_case(&c);
}

/* Accuracy of the float math functions in ulp, on every backend the same promise: the bounds
 * of OpenCL C's full profile (OpenCL 1.2, 7.4 table 7.1), which the C library, PoCL and CUDA
 * meet. The error of each result is measured against the double-precision C library on the
 * exact float input (inputs come from buffers, so no device arithmetic precedes the call),
 * in ulps of the float nearest the true result. Every function is reported at once. A GPU
 * API's own instructions may be far less accurate (Vulkan only requires 4096 ulp of atan and
 * atan2, and asin/acos/sinh/cosh/tanh "inherited" from formulas that lose all relative
 * accuracy near 0): a backend must then compute these functions itself. */
enum { ULP_N = 2048, ULP_FUNCS = 17 };
static const struct UlpFunc {
    const char *name;
    double bound; /* ulp */
    float lo, hi; /* input sweep of x (y: second operand, see ulp_inputs) */
} ulp_funcs[ULP_FUNCS] = {
    {"sin", 4, -31.4159f, 31.4159f}, {"cos", 4, -31.4159f, 31.4159f}, {"tan", 4, -1.5f, 1.5f},
    {"asin", 4, -1.0f, 1.0f},        {"acos", 4, -1.0f, 1.0f},        {"atan", 5, -10.0f, 10.0f},
    {"atan2", 6, -1.0f, 1.0f},       {"sinh", 4, -5.0f, 5.0f},        {"cosh", 4, -5.0f, 5.0f},
    {"tanh", 5, -5.0f, 5.0f},        {"exp", 3, -20.0f, 20.0f},       {"exp2", 3, -20.0f, 20.0f},
    {"log", 3, 0.001f, 1000.0f},     {"log2", 3, 0.001f, 1000.0f},    {"pow", 16, 0.01f, 10.0f},
    {"sqrt", 3, 0.0f, 10000.0f},     {"rsqrt", 2, 0.001f, 10000.0f},
};
static const char ulp_source[] = "kernel void ulp(float[] r, const float[] a, const float[] b) {\n"
                                 "    uint i = global_id(0);\n"
                                 "    if (i >= len(r)) return;\n"
                                 "    uint k = i / (len(r) / 17u);\n"
                                 "    float x = a[i], y = b[i], v = 0.0;\n"
                                 "    if (k == 0u) v = sin(x);\n"
                                 "    else if (k == 1u) v = cos(x);\n"
                                 "    else if (k == 2u) v = tan(x);\n"
                                 "    else if (k == 3u) v = asin(x);\n"
                                 "    else if (k == 4u) v = acos(x);\n"
                                 "    else if (k == 5u) v = atan(x);\n"
                                 "    else if (k == 6u) v = atan2(x, y);\n"
                                 "    else if (k == 7u) v = sinh(x);\n"
                                 "    else if (k == 8u) v = cosh(x);\n"
                                 "    else if (k == 9u) v = tanh(x);\n"
                                 "    else if (k == 10u) v = exp(x);\n"
                                 "    else if (k == 11u) v = exp2(x);\n"
                                 "    else if (k == 12u) v = log(x);\n"
                                 "    else if (k == 13u) v = log2(x);\n"
                                 "    else if (k == 14u) v = pow(x, y);\n"
                                 "    else if (k == 15u) v = sqrt(x);\n"
                                 "    else v = rsqrt(x);\n"
                                 "    r[i] = v;\n"
                                 "}\n";
static const float *ulp_a, *ulp_b;

static double ulp_ref(int k, double x, double y)
{
    switch (k) {
    case 0: return sin(x);
    case 1: return cos(x);
    case 2: return tan(x);
    case 3: return asin(x);
    case 4: return acos(x);
    case 5: return atan(x);
    case 6: return atan2(x, y);
    case 7: return sinh(x);
    case 8: return cosh(x);
    case 9: return tanh(x);
    case 10: return exp(x);
    case 11: return exp2(x);
    case 12: return log(x);
    case 13: return log2(x);
    case 14: return pow(x, y);
    case 15: return sqrt(x);
    default: return 1.0 / sqrt(x);
    }
}

/* The size of one ulp of the float nearest to v (normal floats; the sweeps stay normal). */
static double ulp_of(double v)
{
    int e;
    frexp(fabs(v) > 0x1p-126 ? v : 0x1p-126, &e);
    return ldexp(1.0, e - 24);
}

static bool ulp_check(const TBuf *b, const void *got, char *why, size_t whylen)
{
    (void)b;
    const float *r = got;
    size_t n = 0;
    why[0] = 0;
    bool ok = true;
    for (int k = 0; k < ULP_FUNCS; k++) {
        double worst = 0;
        int at = 0;
        for (int i = 0; i < ULP_N; i++) {
            int j = k * ULP_N + i;
            double ref = ulp_ref(k, ulp_a[j], ulp_b[j]);
            double err = isnan(r[j]) ? INFINITY : fabs((double)r[j] - ref) / ulp_of(ref);
            if (err > worst) worst = err, at = j;
        }
        if (worst > ulp_funcs[k].bound) {
            if (ok) n += (size_t)snprintf(why + n, whylen - n, "beyond the promised ulp bound:");
            ok = false;
            char args[64];
            if (k == 6 || k == 14)
                snprintf(args, sizeof args, "%.9g, %.9g", ulp_a[at], ulp_b[at]);
            else
                snprintf(args, sizeof args, "%.9g", ulp_a[at]);
            if (n < whylen)
                n += (size_t)snprintf(
                    why + n, whylen - n, " %s %.4g ulp (bound %g) at %s(%s) = %.9g, expected %.9g;",
                    ulp_funcs[k].name, worst, ulp_funcs[k].bound, ulp_funcs[k].name, args, r[at],
                    ulp_ref(k, ulp_a[at], ulp_b[at]));
            if (n >= whylen) n = whylen - 1;
        }
    }
    return ok;
}

Test(exec, math_ulp)
{
    Case c = {.file = "math_ulp.dck",
              .kernel = "ulp",
              .dims = 1,
              .global = {ULP_N * ULP_FUNCS},
              .source = ulp_source};
    rng_state = 14;
    TBuf *r = add_buf(&c, "r", EK_F32, 4, ULP_N * ULP_FUNCS, DCK_TYPE_F32, 1);
    TBuf *a = add_buf(&c, "a", EK_F32, 4, ULP_N * ULP_FUNCS, DCK_TYPE_F32, 1);
    TBuf *bb = add_buf(&c, "b", EK_F32, 4, ULP_N * ULP_FUNCS, DCK_TYPE_F32, 1);
    float *ai = a->in, *bi = bb->in;
    for (int k = 0; k < ULP_FUNCS; k++)
        for (int i = 0; i < ULP_N; i++) {
            int j = k * ULP_N + i;
            float lo = ulp_funcs[k].lo, hi = ulp_funcs[k].hi;
            bool logscale = lo > 0 && hi / lo > 100; /* log, pow, sqrt, rsqrt: cover every octave */
            double t = (i + 0.5) / ULP_N;
            /* a quarter of the points near 0 (or near 1 for log), where relative accuracy is hard */
            if (i % 4 == 3) t = 0.5 + ((double)(int)(rnd() % 2001) - 1000) * 1e-7;
            ai[j] = logscale ? (float)(lo * pow(hi / lo, t)) : (float)(lo + (hi - lo) * t);
            if (k >= 12 && k <= 13 && i % 4 == 3)
                ai[j] = (float)(1.0 + ((double)(int)(rnd() % 2001) - 1000) * 1e-6);
            bi[j] = k == 6    ? (float)(2.0 * rndf() - 1.0)
                    : k == 14 ? (float)(6.0 * rndf() - 3.0)
                              : 1.0f;
            if (k == 15 && i == 0) ai[j] = 0.0f;
        }
    ulp_a = ai;
    ulp_b = bi;
    expect_of(r);
    r->mask = calloc((size_t)ULP_N * ULP_FUNCS, 4); /* all compared by ulp_check */
    r->check = ulp_check;
    run_case(&c);
}

/* A module mixing a [[workgroup]] kernel with one that takes its size at launch: on Vulkan
 * the latter's WorkgroupSize built-in applies to every entry point, so the runtime must
 * specialize the fixed kernel to its own size (it once ran it with groups of one item). */
static const char wg_mixed_source[] =
    "[[workgroup(4, 2)]]\n"
    "kernel void fixed(uint[] o) {\n"
    "    uint g = global_id(1) * global_size(0) + global_id(0);\n"
    "    o[g] = g + 1000u * (local_id(1) * 4u + local_id(0)) + 100000u * local_size(0) * local_size(1);\n"
    "}\n"
    "kernel void sized_at_launch(uint[] o) {\n"
    "    if (global_id(0) < len(o)) o[global_id(0)] = 7u;\n"
    "}\n";

Test(exec, workgroup_mixed_module)
{
    enum { W = 8, H = 4 };
    Case c = {.file = "wg_mixed.dck",
              .kernel = "fixed",
              .dims = 2,
              .global = {W, H},
              .source = wg_mixed_source};
    TBuf *o = add_buf(&c, "o", EK_U32, 4, W * H, DCK_TYPE_U32, 1);
    uint32_t *e = expect_of(o);
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++)
            e[y * W + x] = y * W + x + 1000u * ((y % 2) * 4 + x % 4) + 100000u * 8;
    run_case(&c);
}

Test(exec, pipeline3)
{
    enum { N = 1000 };
    Case c = {.file = "pipeline3.dck", .kernel = "pipe3", .pipeline = true};
    rng_state = 12;
    add_f32(&c, "a", 3.0f);
    add_f32(&c, "b", -1.0f);
    TBuf *x = add_buf(&c, "x", EK_F32, 4, N, DCK_TYPE_F32, 1);
    TBuf *y = add_buf(&c, "y", EK_F32, 4, N, DCK_TYPE_F32, 1);
    float *xi = x->in;
    for (int i = 0; i < N; i++) xi[i] = rndf();
    float *e = expect_of(y);
    for (int i = 0; i < N; i++) {
        float t = 3.0f * (xi[i] * xi[i]) + -1.0f;
        e[i] = fminf(fmaxf(t, 0.0f), 1.0f);
    }
    run_case(&c);
}

/* kernels and a function named like builtins (shadow.dck): the user's mix, the builtin min */
static void shadow_case(bool pipeline)
{
    enum { N = 777 };
    Case c = {.file = "shadow.dck",
              .kernel = pipeline ? "scan" : "step",
              .dims = 1,
              .global = {N},
              .pipeline = pipeline};
    rng_state = 31;
    TBuf *x = add_buf(&c, "x", EK_F32, 4, N, DCK_TYPE_F32, 1);
    TBuf *y = add_buf(&c, "y", EK_F32, 4, N, DCK_TYPE_F32, 1);
    float *xi = x->in;
    for (int i = 0; i < N; i++) xi[i] = rndf();
    float *e = expect_of(y);
    for (int i = 0; i < N; i++)
        e[i] = (xi[i] * 10.0f + 1.0f + fminf(xi[i], 0.5f)) * (pipeline ? 2.0f : 1.0f);
    y->tol = 1e-6;
    run_case(&c);
}

Test(exec, shadow_kernel) { shadow_case(false); }
Test(exec, shadow_pipeline) { shadow_case(true); }

Test(exec, stdlib_use)
{
    enum { N = 500 };
    Case c = {.file = "stdlib_use.dck", .kernel = "polar", .dims = 1, .global = {N}};
    rng_state = 13;
    TBuf *xy = add_buf(&c, "xy", EK_F32V, 8, N, DCK_TYPE_F32, 2);
    TBuf *s = add_buf(&c, "s", EK_F32, 4, N, DCK_TYPE_F32, 1);
    TBuf *deg = add_buf(&c, "deg", EK_F32, 4, N, DCK_TYPE_F32, 1);
    float *di = deg->in;
    for (int i = 0; i < N; i++) di[i] = rndf();
    float *xe = expect_of(xy), *se = expect_of(s);
    const float pi = 3.14159265358979f;
    for (int i = 0; i < N; i++) {
        float d = 360.0f * di[i], rad = d * (pi / 180.0f);
        xe[2 * i] = cosf(rad);
        xe[2 * i + 1] = sinf(rad);
        float t = fminf(fmaxf((di[i] - 0.25f) / 0.5f, 0.0f), 1.0f);
        se[i] = t * t * (3.0f - 2.0f * t) + pi * di[i] + (float)(1.4142135623730951 * 2.0);
    }
    xy->tol = 1e-4;
    run_case(&c);
}

/* tests/exec/macros.dck: C99 function-like macros, ##, variadic macros, continuation lines */
Test(exec, macros)
{
    enum { N = 24 };
    Case c = {.file = "macros.dck", .kernel = "blur3", .dims = 2, .global = {N, N}};
    rng_state = 21;
    add_u32(&c, "n", N);
    TBuf *x = add_buf(&c, "x", EK_F32, 4, N * N, DCK_TYPE_F32, 1);
    TBuf *y = add_buf(&c, "y", EK_F32, 4, N * N, DCK_TYPE_F32, 1);
    float *xi = x->in;
    for (int i = 0; i < N * N; i++) xi[i] = rndf();
    float *e = expect_of(y);
#define CL(v)     ((v) < 0 ? 0 : (v) > N - 1 ? N - 1 : (v))
#define X(r, col) xi[CL(r) * N + CL(col)]
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            float sum = X(i - 1, j) + X(i + 1, j) + X(i, j - 1) + X(i, j + 1);
            float s = (4.0f * X(i, j) + 1.0f * sum) / 8.0f;
            e[i * N + j] = fminf(fmaxf(s, 0.1f), 0.9f);
        }
#undef X
#undef CL
    y->tol = 1e-5;
    run_case(&c);
}

/* Modules compiled from several threads at once (the compiler's interning tables are
 * process-wide: the library must serialize them), each then run and checked. */
typedef struct ThreadJob {
    int id;
    bool ok;
    char err[256];
} ThreadJob;

static void *compile_and_run(void *arg)
{
    ThreadJob *job = arg;
    char src[512];
    snprintf(src, sizeof src,
             "kernel void shifted(const float[] x, float[] y) {\n"
             "    uint i = global_id(0);\n"
             "    if (i < len(y)) y[i] = x[i] * 2.0 + %d.0;\n"
             "}\n",
             job->id);
    dck_context ctx = NULL;
    dck_module mod = NULL;
    dck_kernel k;
    dck_queue q = NULL;
    dck_buffer bx = NULL, by = NULL;
    float x[100], y[100];
    for (int i = 0; i < 100; i++) x[i] = (float)i;
    job->ok = false;
    dck_context_desc cd = {0};
    cd.backend_name = test_backend;
    dck_module_options mo = {0};
    mo.opt_level = -1;
    mo.target = test_target;
    if (dck_context_create(&cd, &ctx) ||
        dck_module_create_from_source(ctx, "threads.dck", src, &mo, &mod) ||
        dck_module_get_kernel(mod, "shifted", &k) || dck_queue_create(ctx, NULL, &q) ||
        dck_buffer_create_elems(ctx, DCK_TYPE_F32, 100, &bx) ||
        dck_buffer_create_elems(ctx, DCK_TYPE_F32, 100, &by) ||
        dck_buffer_write(bx, 0, sizeof x, x)) {
        snprintf(job->err, sizeof job->err, "%s", dck_last_error());
    } else {
        dck_arg args[2] = {dck_arg_buffer(bx), dck_arg_buffer(by)};
        dck_range r = {1, {100, 1, 1}, {0, 0, 0}};
        if (dck_launch(q, k, &r, 2, args, NULL) || dck_queue_finish(q) ||
            dck_buffer_read(by, 0, sizeof y, y)) {
            snprintf(job->err, sizeof job->err, "%s", dck_last_error());
        } else {
            job->ok = true;
            for (int i = 0; i < 100; i++)
                if (y[i] != 2.0f * (float)i + (float)job->id) {
                    snprintf(job->err, sizeof job->err, "y[%d] = %g", i, y[i]);
                    job->ok = false;
                    break;
                }
        }
    }
    dck_buffer_destroy(bx);
    dck_buffer_destroy(by);
    dck_queue_destroy(q);
    dck_module_destroy(mod);
    dck_context_destroy(ctx);
    return NULL;
}

Test(exec, modules_from_several_threads)
{
    test_env();
    enum { N = 4 };
    pthread_t th[N];
    ThreadJob jobs[N];
    unsigned salt = (unsigned)getpid(); /* distinct sources: each thread really compiles */
    for (int i = 0; i < N; i++) {
        jobs[i].id = (int)((salt % 1000u) * N + (unsigned)i);
        jobs[i].err[0] = 0;
        cr_assert_eq(pthread_create(&th[i], NULL, compile_and_run, &jobs[i]), 0);
    }
    for (int i = 0; i < N; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) cr_assert(jobs[i].ok, "thread %d: %s", i, jobs[i].err);
}

typedef struct SV {
    float v[4];
    int32_t n, pad[3];
} SV;

Test(exec, control)
{
    enum { N = 64 };
    Case c = {.file = "control.dck", .kernel = "k", .dims = 1, .global = {N}};
    TBuf *s = add_buf(&c, "s", EK_I32, sizeof(SV), N, DCK_TYPE_STRUCT, 1);
    TBuf *out = add_buf(&c, "out", EK_F32, 4, N, DCK_TYPE_F32, 1);
    TBuf *iout = add_buf(&c, "iout", EK_I32, 4, N, DCK_TYPE_I32, 1);
    SV *si = s->in;
    for (int i = 0; i < N; i++) si[i].n = 1000 * i, si[i].v[0] = (float)i;
    SV *se = expect_of(s);
    float *oe = expect_of(out);
    int32_t *ie = expect_of(iout);
    for (int i = 0; i < N; i++) {
        float v[4] = {(float)i, 11.0f, 22.0f, 6.0f};
        int j = i % 4;
        v[j] += 100.0f;
        se[i].v[2] = v[0];
        se[i].v[3] = v[1];
        se[i].n += j;
        oe[i] = v[0] + v[1] + v[2] + v[3];
        ie[i] = i > 2 ? 36 : -36;
    }
    run_case(&c); /* floats in s are exact small integers: compared bit for bit as ints */
}

Test(exec, pipeline_loop)
{
    enum { N = 6 };
    Case c = {.file = "control.dck", .kernel = "loop", .pipeline = true};
    TArg *a = &c.args[c.nargs++];
    a->name = "times";
    a->buf = -1;
    a->cli = "5";
    a->arg = dck_arg_i32(5);
    TBuf *y = add_buf(&c, "y", EK_F32, 4, N, DCK_TYPE_F32, 1);
    float *ye = expect_of(y);
    for (int i = 0; i < N; i++) ye[i] = 4.0f + (i < N / 2 ? 1.0f : 0.0f);
    run_case(&c);
}

/* features.dck: f[16 g + 6] = subgroup_add(1.0) + subgroup_size() for the 8 work-items of
 * one 4x2 work-group. subgroup_size() is the device's S; subgroup_add(1.0) counts the active
 * invocations A of the item's subgroup, and how a work-group is cut into subgroups is the
 * device's choice (lavapipe runs a 4x2 group as two subgroups of 4 active lanes of 8; NVIDIA
 * as one of 8 lanes of 32). So: each A is an integer in [1, min(S, 8)] and the subgroups
 * partition the group: the sum of 1/A over the 8 items (the number of subgroups) is an
 * integer. S = 1 leaves exactly 2. */
static uint32_t features_sg;
static bool features_subgroups(const TBuf *b, const void *got, char *why, size_t whylen)
{
    (void)b;
    const float *f = got;
    uint32_t s = features_sg, cap = s < 8 ? s : 8;
    double groups = 0;
    for (int g = 0; g < 8; g++) {
        float v = f[g * 16 + 6], a = v - (float)s;
        if (!(a >= 1.0f && a <= (float)cap && a == floorf(a))) {
            snprintf(why, whylen,
                     "f[%d]: got %.9g = subgroup_add(1.0) + subgroup_size(): with subgroup size %u "
                     "the first term must be a whole number of active invocations in [1, %u]",
                     g * 16 + 6, v, s, cap);
            return false;
        }
        groups += 1.0 / a;
    }
    if (fabs(groups - floor(groups + 0.5)) > 1e-6) {
        snprintf(
            why, whylen,
            "f[16 g + 6]: the active-invocation counts of subgroup_add(1.0) (subgroup size %u) "
            "do not partition the 8 work-items into subgroups (sum of 1/count = %.6g)",
            s, groups);
        return false;
    }
    return true;
}

Test(exec, features)
{
    features_sg = device_subgroup_size();
    Case c = {.file = "features.dck", .kernel = "many", .dims = 2, .global = {4, 2}};
    const float pos[3] = {1.0f, 2.0f, 3.0f};
    add_f32v(&c, "ppos", pos, 3, "float3");
    add_f32(&c, "pm", 4.0f);
    TBuf *w = add_buf(&c, "w", EK_F32, 4, 2, DCK_TYPE_F32, 1);
    TBuf *f = add_buf(&c, "f", EK_F32, 4, 128, DCK_TYPE_F32, 1);
    TBuf *n = add_buf(&c, "n", EK_I32, 4, 128, DCK_TYPE_I32, 1);
    TBuf *l = add_buf(&c, "l", EK_I64, 8, 8, DCK_TYPE_I64, 1);
    TBuf *cnt = add_buf(&c, "c", EK_I32, 4, 2, DCK_TYPE_I32, 1);
    float *wi = w->in;
    wi[0] = 0.25f;
    wi[1] = 0.75f;
    float *fe = expect_of(f);
    int32_t *ne = expect_of(n);
    int64_t *le = expect_of(l);
    int32_t *ce = expect_of(cnt);
    ce[0] = 8;
    ce[1] = 5;
    for (int g = 0; g < 8; g++) {
        int x = g % 4, y = g / 4, o = g * 16;
        int iv[4] = {g, -1, 2, 7}, gt[4], sum = 0, anyv = 0, allv = 1;
        for (int k = 0; k < 4; k++) {
            sum += iv[k] * 2;
            gt[k] = iv[k] > 1;
            anyv |= gt[k];
            allv &= gt[k];
        }
        int32_t nv[12] = {
            (1 - y) * 4 + (3 - x), y * 4 + 100, -126, -5536, sum, 15, anyv, allv, -1, 6, 0, 1};
        memcpy(ne + o, nv, sizeof nv);
        float fv[7] = {3.0f,
                       (float)((double)g * 0.1),
                       (float)(gt[0] + gt[1] + gt[2] + gt[3]),
                       g % 2 == 0 ? 13.0f : 10.0f,
                       (float)((g % 4) * (g % 4)),
                       wi[g % 2] * 0.5f,
                       2.0f};
        memcpy(fe + o, fv, sizeof fv);
        le[g] = (int64_t)g * 10000000000ll;
    }
    unsigned char *fmask = malloc(128 * sizeof(float));
    memset(fmask, 1, 128 * sizeof(float));
    for (int g = 0; g < 8; g++) memset(fmask + (g * 16 + 6) * sizeof(float), 0, sizeof(float));
    f->mask = fmask; /* f[16 g + 6] (subgroups) is checked by features_subgroups */
    f->check = features_subgroups;
    run_case(&c);
}

/* typedefs.dck: typedef names and C type spellings (the file's comment has the formulas) */
Test(exec, typedefs)
{
    enum { N = 64 };
    Case c = {.file = "typedefs.dck", .kernel = "typedefs", .dims = 1, .global = {N}};
    rng_state = 41;
    TBuf *x = add_buf(&c, "x", EK_F32, 4, N, DCK_TYPE_F32, 1);
    TBuf *y = add_buf(&c, "y", EK_F32, 4, N, DCK_TYPE_F32, 1);
    TBuf *n = add_buf(&c, "n", EK_I32, 4, N, DCK_TYPE_I32, 1);
    TBuf *v = add_buf(&c, "v", EK_F32V, 16, N, DCK_TYPE_F32, 4);
    float *xi = x->in, *ye = expect_of(y), *ve = expect_of(v);
    int32_t *ne = expect_of(n);
    for (int i = 0; i < N; i++) xi[i] = rndf();
    for (uint32_t i = 0; i < N; i++) {
        ye[i] = xi[i] * 2.0f + (float)i * 0.5f;
        int64_t L = (int64_t)i * 1000000007;
        uint8_t u = (uint8_t)(i * 37u);
        int8_t sc = (int8_t)u;
        int16_t h = (int16_t)(uint16_t)(i * 1000u);
        uint16_t w = (uint16_t)(i * 1000u);
        ne[i] = (int32_t)(L % 97) + u + sc + h + w + (int32_t)((uint64_t)L % 1000u) - (int32_t)i +
                3 + 3 + 5;
        float m = (float)(L % 7);
        const float comp[4] = {xi[i], 1.0f, 2.0f, 3.0f};
        for (int k = 0; k < 4; k++) ve[4 * i + k] = comp[k] * (float)u + m;
    }
    run_case(&c);
}

/* array_fields.dck: struct fields that are fixed arrays, laid out as in C */
typedef struct Rec {
    int32_t keys[8];
    float w[2][3];
    uint32_t n, pad_;
    float pts[2][4]; /* float3: 16 bytes each */
} Rec;
typedef struct Hist {
    int32_t hits[4];
    float fsum[2];
} Hist;

Test(exec, array_fields)
{
    enum { N = 32, S = 64 };
    Case c = {.file = "array_fields.dck", .kernel = "fields", .dims = 1, .global = {N}};
    cr_assert_eq(sizeof(Rec), 96);
    rng_state = 42;
    TBuf *seed = add_buf(&c, "seed", EK_I32, 4, S, DCK_TYPE_I32, 1);
    TBuf *recs = add_buf(&c, "recs", EK_I32, sizeof(Rec), N, DCK_TYPE_STRUCT, 1);
    TBuf *h = add_buf(&c, "h", EK_I32, sizeof(Hist), 1, DCK_TYPE_STRUCT, 1);
    TBuf *out = add_buf(&c, "out", EK_I32, 4, N, DCK_TYPE_I32, 1);
    TBuf *fout = add_buf(&c, "fout", EK_F32, 4, N, DCK_TYPE_F32, 1);
    int32_t *si = seed->in;
    for (int k = 0; k < S; k++) si[k] = (int32_t)(rnd() % 1000u) - 500;
    Rec *re = expect_of(recs);
    Hist *he = expect_of(h);
    int32_t *oe = expect_of(out);
    float *fe = expect_of(fout);
    unsigned char *mask = malloc((size_t)N * sizeof(Rec));
    for (uint32_t i = 0; i < N; i++) {
        Rec *r = &re[i];
        for (uint32_t k = 0; k < 8; k++) r->keys[k] = si[(i * 8 + k) % S];
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 3; b++) r->w[a][b] = (float)(a - b) * 0.5f;
        r->n = i % 8 + 1;
        for (int k = 0; k < 3; k++)
            r->pts[0][k] = (float)(k + 1), r->pts[1][k] = 2.0f * (float)(k + 1);
        int32_t sum = 0;
        for (uint32_t k = 0; k < r->n; k++) sum += r->keys[k];
        r->keys[i % 8] += 1000;
        r->w[i % 2][2] = (float)sum;
        r->pts[i % 2][1] += 0.25f;
        oe[i] = sum * 10 + (int32_t)(i + (i + 3) % 8) + (int32_t)(7 + i % 8);
        fe[i] = r->w[0][1] + r->w[1][2] + r->pts[1][1];
        he->hits[i % 4]++;
        he->fsum[i % 2] += 1.0f;
        unsigned char *mk = mask + (size_t)i * sizeof(Rec);
        memset(mk, 1, sizeof(Rec));
        memset(mk + offsetof(Rec, pad_), 0, 4);
        memset(mk + offsetof(Rec, pts) + 12, 0, 4); /* the 4th float of each float3 */
        memset(mk + offsetof(Rec, pts) + 28, 0, 4);
    }
    recs->mask = mask;
    run_case(&c); /* the floats of recs and h are small exact values: compared bit for bit */
}

/* A struct with an array field passed by value. Not a file of tests/exec: dckrun cannot pass
 * a struct, and the MSL tests (tests/msl) reject the copy of a struct parameter from Metal's
 * constant argument block, which dynamic indexing into its array needs. */
Test(exec, array_field_param)
{
    enum { N = 12 };
    Case c = {.file = "array_field_param.dck",
              .kernel = "param",
              .dims = 1,
              .global = {N},
              .source = "typedef struct { float2 v[3]; float s; } Par;\n"
                        "kernel void param(Par p, float[] y) {\n"
                        "    uint i = global_id(0);\n"
                        "    if (i < len(y)) y[i] = p.v[i % 3u].x * p.s + p.v[(i + 1u) % 3u].y;\n"
                        "}\n"};
    struct {
        float v[3][2], s, pad_;
    } par = {{{1.5f, 2.0f}, {-3.0f, 4.5f}, {0.25f, -1.0f}}, 3.0f, 0.0f};
    cr_assert_eq(sizeof par, 32);
    TArg *a = &c.args[c.nargs++];
    a->name = "p";
    a->buf = -1;
    a->arg = dck_arg_value(&par, sizeof par, "Par");
    TBuf *y = add_buf(&c, "y", EK_F32, 4, N, DCK_TYPE_F32, 1);
    float *ye = expect_of(y);
    for (int i = 0; i < N; i++) ye[i] = par.v[i % 3][0] * par.s + par.v[(i + 1) % 3][1];
    run_case(&c);
}

/* Whether the backend and target are present: 0 yes, 77 no (says why), 1 or 2 an error. */
static int probe_backend(void)
{
    dck_backend id;
    if (dck_backend_from_name(test_backend, &id) != DCK_SUCCESS) {
        fprintf(stderr, "DCK_TEST_BACKEND: %s\n", dck_last_error());
        return 2;
    }
    if (dck_backend_available(id) != DCK_SUCCESS) {
        printf("SKIPPED: %s\n", dck_last_error());
        return 77;
    }
    /* a code target dckc does not build (yet) is a skip, not a failure of every case */
    dck_context_desc cd = {0};
    cd.backend_name = test_backend;
    dck_context ctx;
    if (dck_context_create(&cd, &ctx) != DCK_SUCCESS) {
        fprintf(stderr, "cannot create a '%s' context: %s\n", test_backend, dck_last_error());
        return 1;
    }
    dck_module_options mo = {0};
    mo.opt_level = -1;
    mo.target = test_target;
    dck_module m;
    dck_status st = dck_module_create_from_source(
        ctx, "probe.dck", "kernel void probe(float[] y) { y[0] = 1.0; }\n", &mo, &m);
    if (st == DCK_ERROR_UNSUPPORTED) {
        printf("SKIPPED: backend '%s'%s%s: %s\n", test_backend, test_target ? ", target " : "",
               test_target ? test_target : "", dck_last_error());
        dck_context_destroy(ctx);
        return 77;
    }
    dck_context_destroy(ctx);
    return 0;
}

/* GCC 12 -O3 SLP miscompile of a SIMD lane loop (see regress_simd_div.dck) */
Test(exec, regress_simd_div)
{
    enum { N = 1000 };
    Case c = {
        .file = "regress_simd_div.dck", .kernel = "regress_simd_div", .dims = 1, .global = {N}};
    rng_state = 21;
    TBuf *a = add_buf(&c, "a", EK_I32, 4, N, DCK_TYPE_I32, 1);
    TBuf *b = add_buf(&c, "b", EK_F32, 4, N, DCK_TYPE_F32, 1);
    TBuf *ou = add_buf(&c, "ou", EK_U32, 4, N, DCK_TYPE_U32, 1);
    TBuf *t1 = add_buf(&c, "t1", EK_U32, 4, N, DCK_TYPE_U32, 1);
    TBuf *t2 = add_buf(&c, "t2", EK_U32, 4, N, DCK_TYPE_U32, 1);
    int32_t *ai = a->in;
    float *bi = b->in;
    for (int i = 0; i < N; i++) ai[i] = (int32_t)(rnd() % 100u), bi[i] = rndf();
    uint32_t *eo = expect_of(ou), *e1 = expect_of(t1), *e2 = expect_of(t2);
    for (uint32_t i = 0; i < N; i++) {
        uint32_t u = (uint32_t)ai[(i + 1u) % N] * 2654435761u;
        e1[i] = 0; /* (1 / ((u & 7) + 1)) >> 31 */
        e2[i] = (bi[i] < 0.125f ? 0u : (uint32_t)ai[i % N]) & 31u;
        eo[i] = u + 1u; /* u - ~(0 << s) */
    }
    run_case(&c);
}

/* branches that pass_ifconv turns into selects (see ifconv.dck) */
Test(exec, ifconv)
{
    enum { N = 1000, W = 997 };
    Case c = {.file = "ifconv.dck", .kernel = "ifconv", .dims = 1, .global = {N}};
    rng_state = 33;
    add_u32(&c, "w", W);
    TBuf *a = add_buf(&c, "a", EK_I32, 4, N, DCK_TYPE_I32, 1);
    TBuf *v = add_buf(&c, "v", EK_F32V, 16, N, DCK_TYPE_F32, 4);
    TBuf *io = add_buf(&c, "io", EK_I32, 4, N, DCK_TYPE_I32, 1);
    TBuf *jo = add_buf(&c, "jo", EK_I32, 4, N, DCK_TYPE_I32, 1);
    TBuf *vo = add_buf(&c, "vo", EK_F32V, 16, N, DCK_TYPE_F32, 4);
    int32_t *ai = a->in;
    float *vi = v->in;
    for (int i = 0; i < N; i++) ai[i] = (int32_t)(rnd() % 100u);
    for (int i = 0; i < 4 * N; i++) vi[i] = rndf();
    int32_t *ie = expect_of(io), *je = expect_of(jo);
    float *ve = expect_of(vo);
    for (int i = 0; i < W; i++) {
        int x = ai[i];
        int il = i > 0 ? i - 1 : 0, ir = i + 1 < W ? i + 1 : W - 1;
        bool inside = (x > 10 && x < 90) || x == 0;
        int s = x < 50 ? (x < 25 ? 1 : 2) : 3;
        int d = x != 0 ? 1000 / x : -1;
        ie[i] = (inside ? s : -s) + 10 * d;
        je[i] = ai[il] * 1000 + ai[ir];
        const float *p = vi + 4 * i;
        for (int k = 0; k < 4; k++)
            ve[4 * i + k] = p[0] > 0.5f ? fmaxf(p[k], 0.25f) : fminf(fabsf(p[k] - 0.5f), 0.125f);
    }
    run_case(&c);
}

/* Selects the backend and target, and skips (77) when they are not present here. The probe
 * runs in a child process: Criterion forks a worker per test, and a GPU driver initialized
 * before a fork is not usable in the child (CUDA documents it; a driver's own threads do not
 * exist there), so this process never touches a device. */
int main(int argc, char *argv[])
{
    test_env();
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        int rc = probe_backend();
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("waitpid");
            return 1;
        }
    }
    if (!WIFEXITED(status)) {
        fprintf(stderr, "the probe of backend '%s' died (status %d)\n", test_backend, status);
        return 1;
    }
    if (WEXITSTATUS(status) != 0) return WEXITSTATUS(status);
    printf("exec tests on backend '%s'%s%s\n", test_backend, test_target ? ", target " : "",
           test_target ? test_target : "");
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;
    if (criterion_handle_args(argc, argv, true)) result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return result;
}
