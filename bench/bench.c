/* bench.c: the DCK benchmark harness (bench/run.sh builds and runs it).
 *
 * Every benchmark runs, in this one process, as:
 *   dck         kernels.dck through libdckrt (dck.h) on the CPU backend, default ISA
 *   dck-scalar  the same with DCK_CPU_ISA=scalar (one work-item at a time)
 *   c-omp       the same algorithm in plain C, gcc -O3 -march=native -fopenmp, 2 threads
 *   dck-opencl  kernels.dck through dckc's OpenCL C and libdckrt's OpenCL backend (PoCL)
 *   opencl      kernels.cl (hand-written OpenCL C) on PoCL (the first OpenCL platform)
 *   halide      Halide 14 AOT pipelines (saxpy, stencil, transpose)
 * plus a STREAM-style bandwidth ceiling (OpenMP copy and triad). The c-omp result is the
 * reference: every other result is compared with it before it is timed, and a result
 * that differs is reported as wrong and not timed. Times are medians of the repeats, wall
 * clock around launch + finish (so launch overhead counts).
 * Output: a table on stdout and JSON (argv[1]).
 */
#define _GNU_SOURCE
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dck.h"
#ifdef BENCH_HALIDE
#include "HalideRuntime.h"
#include "halide_jacobi.h"
#include "halide_saxpy.h"
#include "halide_transpose.h"
#endif

enum { THREADS = 2 };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = aligned_alloc(64, (n + 63) / 64 * 64);
    if (!p) die("out of memory (%zu bytes)", n);
    return p;
}

static uint32_t rng = 12345;
static uint32_t rnd(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}
static float rndf(void) { return (float)(rnd() & 0xffffff) / 16777216.0f; }

/* ---- results ---- */

typedef struct Result {
    const char *bench, *impl, *unit;
    double ms;          /* median; < 0: not run */
    double metric;      /* GB/s, GFLOP/s or Mpix/s */
    const char *status; /* "ok", "wrong: ...", "n/a: ..." */
} Result;

static Result results[256];
static int nresults;

typedef struct Bench {
    const char *name, *unit, *size;
    double work; /* bytes, flops or pixels per run (unit decides) */
} Bench;

static void record(const Bench *b, const char *impl, double ms, const char *status)
{
    Result *r = &results[nresults++];
    r->bench = b->name;
    r->impl = impl;
    r->unit = b->unit;
    r->ms = ms;
    r->metric =
        ms > 0 ? b->work / (ms * 1e-3) / 1e9 * (strcmp(b->unit, "Mpix/s") == 0 ? 1e3 : 1) : 0;
    r->status = status;
    if (ms > 0)
        fprintf(stderr, "  %-14s %-11s %10.3f ms %10.2f %s\n", b->name, impl, ms, r->metric,
                b->unit);
    else
        fprintf(stderr, "  %-14s %-11s %s\n", b->name, impl, status);
}

/* median of the run times of fn, after one warm-up; repeats adapt to ~0.6 s per impl */
typedef void (*RunFn)(void *);
static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}
static double time_it(RunFn fn, void *arg)
{
    double t0 = now_ms();
    fn(arg);
    double first = now_ms() - t0;
    int reps = first > 0 ? (int)(600.0 / first) : 20;
    if (reps < 3) reps = 3;
    if (reps > 25) reps = 25;
    double t[25];
    int k0 = 0;
    if (first > 300)
        t[k0++] = first; /* slow: the warm-up counts as a sample (keeps the suite short) */
    for (int k = k0; k < reps; k++) {
        t0 = now_ms();
        fn(arg);
        t[k] = now_ms() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_d);
    return t[reps / 2];
}

/* compares n floats: |got - ref| <= tol * max(1, |ref|) */
static const char *check_f(const float *got, const float *ref, size_t n, double tol)
{
    static char msg[160];
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)ref[i]);
        if (!(d <= tol * fmax(1.0, fabs((double)ref[i])))) {
            snprintf(msg, sizeof msg, "wrong: [%zu] = %.7g, reference %.7g", i, got[i], ref[i]);
            return msg;
        }
    }
    return "ok";
}
static const char *check_u(const uint32_t *got, const uint32_t *ref, size_t n, double max_frac)
{
    static char msg[160];
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (got[i] != ref[i] && bad++ == 0) first = i;
    if ((double)bad <= max_frac * (double)n) return "ok";
    snprintf(msg, sizeof msg, "wrong: %zu of %zu differ, first [%zu] = %u, reference %u", bad, n,
             first, got[first], ref[first]);
    return msg;
}

/* ---- DCK ---- */

typedef struct Dck {
    const char *impl;
    dck_context ctx;
    dck_module mod;
    dck_queue q;
} Dck;
static Dck dcks[3];
static int ndck;

/* false (with the reason on stderr) when the backend is not there */
static bool dck_open(Dck *d, const char *impl, const char *isa, const char *path,
                     dck_backend backend)
{
    d->impl = impl;
    if (isa)
        setenv("DCK_CPU_ISA", isa, 1);
    else
        unsetenv("DCK_CPU_ISA");
    dck_context_desc cd = {0};
    cd.backend = backend;
    cd.num_threads = THREADS;
    if (dck_context_create(&cd, &d->ctx)) {
        if (backend == DCK_BACKEND_CPU) die("dck context: %s", dck_last_error());
        fprintf(stderr, "  %s: not run: %s\n", impl, dck_last_error());
        return false;
    }
    dck_module_options mo = {0};
    mo.opt_level = 2;
    double t0 = now_ms();
    if (dck_module_create_from_source(d->ctx, path, NULL, &mo, &d->mod))
        die("%s: %s", path, dck_last_error());
    fprintf(stderr, "  %s module ready in %.0f ms\n", impl, now_ms() - t0);
    if (dck_queue_create(d->ctx, NULL, &d->q)) die("queue: %s", dck_last_error());
    unsetenv("DCK_CPU_ISA");
    return true;
}

static dck_buffer dbuf(Dck *d, dck_type t, uint32_t vec, size_t count, const void *init)
{
    dck_buffer_desc bd = {0};
    bd.count = count;
    bd.type = t;
    bd.vec = vec;
    bd.initial_data = init;
    dck_buffer b;
    if (dck_buffer_create(d->ctx, &bd, &b)) die("dck buffer: %s", dck_last_error());
    return b;
}

static void dread(dck_buffer b, void *dst, size_t bytes)
{
    if (dck_buffer_read(b, 0, bytes, dst)) die("dck read: %s", dck_last_error());
}

typedef struct DLaunch {
    Dck *d;
    dck_kernel k;
    dck_range r;
    bool pipeline;
    int nargs;
    dck_arg args[8];
    int nsteps; /* > 1: a chain of launches (the unfused pipeline) */
    struct DLaunch *next;
} DLaunch;

static void dlaunch_run(void *p)
{
    for (DLaunch *l = p; l; l = l->next) {
        if (dck_launch(l->d->q, l->k, l->pipeline ? NULL : &l->r, (uint32_t)l->nargs, l->args,
                       NULL))
            die("launch: %s", dck_last_error());
    }
    if (dck_queue_finish(((DLaunch *)p)->d->q)) die("finish: %s", dck_last_error());
}

static DLaunch dl(Dck *d, const char *kernel, int dims, uint32_t gx, uint32_t gy, uint32_t lx,
                  uint32_t ly)
{
    DLaunch l;
    memset(&l, 0, sizeof l);
    l.d = d;
    if (dck_module_get_kernel(d->mod, kernel, &l.k)) die("%s: %s", kernel, dck_last_error());
    l.pipeline = dims == 0;
    l.r.dims = (uint32_t)(dims ? dims : 1);
    l.r.global[0] = gx;
    l.r.global[1] = gy ? gy : 1;
    l.r.global[2] = 1;
    l.r.local[0] = lx;
    l.r.local[1] = ly;
    l.r.local[2] = lx ? 1 : 0;
    return l;
}

/* ---- OpenCL (PoCL) ---- */

static struct {
    bool ok;
    const char *why;
    cl_context ctx;
    cl_command_queue q;
    cl_program prog;
    cl_device_id dev;
} ocl;

static void ocl_open(const char *cl_path)
{
    ocl.why = "n/a: no OpenCL platform";
    cl_platform_id plat;
    cl_uint np = 0;
    if (clGetPlatformIDs(1, &plat, &np) != CL_SUCCESS || np == 0) return;
    if (clGetDeviceIDs(plat, CL_DEVICE_TYPE_ALL, 1, &ocl.dev, NULL) != CL_SUCCESS) return;
    cl_int err;
    ocl.ctx = clCreateContext(NULL, 1, &ocl.dev, NULL, NULL, &err);
    if (err) return;
    ocl.q = clCreateCommandQueue(ocl.ctx, ocl.dev, 0, &err);
    FILE *f = fopen(cl_path, "rb");
    if (!f) die("cannot read %s", cl_path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *src = calloc((size_t)n + 1, 1);
    if (fread(src, 1, (size_t)n, f) != (size_t)n) die("cannot read %s", cl_path);
    fclose(f);
    const char *srcs[1] = {src};
    ocl.prog = clCreateProgramWithSource(ocl.ctx, 1, srcs, NULL, &err);
    double t0 = now_ms();
    if (clBuildProgram(ocl.prog, 1, &ocl.dev, "", NULL, NULL) != CL_SUCCESS) {
        char log[8192] = "";
        clGetProgramBuildInfo(ocl.prog, ocl.dev, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
        die("kernels.cl does not build:\n%s", log);
    }
    fprintf(stderr, "  opencl program ready in %.0f ms\n", now_ms() - t0);
    free(src);
    ocl.ok = true;
    ocl.why = "ok";
}

static cl_mem cbuf(size_t bytes, const void *init)
{
    cl_int err;
    cl_mem m = clCreateBuffer(ocl.ctx, CL_MEM_READ_WRITE | (init ? CL_MEM_COPY_HOST_PTR : 0), bytes,
                              (void *)init, &err);
    if (err) die("clCreateBuffer: %d", err);
    return m;
}
static void cread(cl_mem m, void *dst, size_t bytes)
{
    if (clEnqueueReadBuffer(ocl.q, m, CL_TRUE, 0, bytes, dst, 0, NULL, NULL))
        die("clEnqueueReadBuffer");
}

typedef struct CLaunch {
    cl_kernel k;
    cl_uint dims;
    size_t g[2], l[2];
    bool has_local;
    struct CLaunch *next;
} CLaunch;

/* args: 'm' cl_mem, 'u' uint, 'f' float */
static CLaunch cl_l(const char *name, cl_uint dims, size_t gx, size_t gy, size_t lx, size_t ly,
                    const char *fmt, ...)
{
    CLaunch c;
    memset(&c, 0, sizeof c);
    cl_int err;
    c.k = clCreateKernel(ocl.prog, name, &err);
    if (err) die("clCreateKernel %s: %d", name, err);
    c.dims = dims;
    c.g[0] = gx;
    c.g[1] = gy;
    c.l[0] = lx;
    c.l[1] = ly;
    c.has_local = lx != 0;
    va_list ap;
    va_start(ap, fmt);
    for (cl_uint i = 0; fmt[i]; i++) {
        if (fmt[i] == 'm') {
            cl_mem m = va_arg(ap, cl_mem);
            clSetKernelArg(c.k, i, sizeof m, &m);
        } else if (fmt[i] == 'u') {
            cl_uint u = va_arg(ap, unsigned);
            clSetKernelArg(c.k, i, sizeof u, &u);
        } else {
            float f = (float)va_arg(ap, double);
            clSetKernelArg(c.k, i, sizeof f, &f);
        }
    }
    va_end(ap);
    return c;
}

static void claunch_run(void *p)
{
    for (CLaunch *c = p; c; c = c->next)
        if (clEnqueueNDRangeKernel(ocl.q, c->k, c->dims, NULL, c->g, c->has_local ? c->l : NULL, 0,
                                   NULL, NULL))
            die("clEnqueueNDRangeKernel");
    clFinish(ocl.q);
}

/* ---- plain C (OpenMP) ---- */

typedef struct CArgs {
    int which;
    float a, b;
    const float *x, *y2;
    float *y;
    const uint32_t *u;
    uint32_t *uo;
    size_t n;
    uint32_t w, h, it;
} CArgs;

/* ---- benchmarks ---- */

#define N32M (32u << 20)

/* A float result of size `n` computed by every implementation: DCK through `dck_setup`,
 * OpenCL through `cl_setup`. Each setup returns what to launch and where the result is. */

static void run_dck_float(const Bench *b, Dck *d, DLaunch *l, dck_buffer out, const float *ref,
                          size_t n, double tol, void (*reset)(Dck *, void *), void *rs)
{
    float *got = xmalloc(n * sizeof *got);
    dlaunch_run(l);
    dread(out, got, n * sizeof *got);
    const char *st = check_f(got, ref, n, tol);
    free(got);
    if (strcmp(st, "ok") != 0) {
        record(b, d->impl, -1, strdup(st));
        return;
    }
    double ms = time_it(dlaunch_run, l);
    if (reset) reset(d, rs);
    record(b, d->impl, ms, "ok");
}

static void run_cl_float(const Bench *b, CLaunch *c, cl_mem out, const float *ref, size_t n,
                         double tol)
{
    if (!ocl.ok) {
        record(b, "opencl", -1, ocl.why);
        return;
    }
    float *got = xmalloc(n * sizeof *got);
    claunch_run(c);
    cread(out, got, n * sizeof *got);
    const char *st = check_f(got, ref, n, tol);
    free(got);
    if (strcmp(st, "ok") != 0) {
        record(b, "opencl", -1, strdup(st));
        return;
    }
    record(b, "opencl", time_it(claunch_run, c), "ok");
}

/* -- STREAM ceiling -- */
static float *s_a, *s_b, *s_c;
static void stream_copy(void *p)
{
    (void)p;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < N32M; i++) s_c[i] = s_a[i];
}
static void stream_triad(void *p)
{
    (void)p;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < N32M; i++) s_a[i] = s_b[i] + 3.0f * s_c[i];
}
static void bench_stream(void)
{
    s_a = xmalloc(N32M * 4), s_b = xmalloc(N32M * 4), s_c = xmalloc(N32M * 4);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < N32M; i++) s_a[i] = 1, s_b[i] = 2, s_c[i] = 0;
    Bench bc = {"stream-copy", "GB/s", "32M floats", 8.0 * N32M};
    record(&bc, "c-omp", time_it(stream_copy, NULL), "ok");
    Bench bt = {"stream-triad", "GB/s", "32M floats", 12.0 * N32M};
    record(&bt, "c-omp", time_it(stream_triad, NULL), "ok");
    free(s_a), free(s_b), free(s_c);
}

/* -- saxpy and vadd -- */
static float *g_x, *g_y, *g_z;
static void c_saxpy(void *p)
{
    (void)p;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < N32M; i++) g_y[i] = 0.5f * g_x[i] + g_y[i];
}
static void c_vadd(void *p)
{
    (void)p;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < N32M; i++) g_z[i] = g_x[i] + g_y[i];
}

static void bench_saxpy_vadd(void)
{
    size_t n = N32M;
    float *x = xmalloc(n * 4), *y0 = xmalloc(n * 4), *ref = xmalloc(n * 4);
    for (size_t i = 0; i < n; i++) x[i] = rndf(), y0[i] = rndf();
    /* saxpy: y = 0.5 x + y (in place: every run changes y, values stay bounded) */
    Bench b = {"saxpy", "GB/s", "32M floats", 12.0 * n};
    g_x = x;
    g_y = xmalloc(n * 4);
    memcpy(g_y, y0, n * 4);
    c_saxpy(NULL);
    memcpy(ref, g_y, n * 4);
    record(&b, "c-omp", time_it(c_saxpy, NULL), "ok");
    for (int k = 0; k < ndck; k++) {
        Dck *d = &dcks[k];
        dck_buffer bx = dbuf(d, DCK_TYPE_F32, 1, n, x), by = dbuf(d, DCK_TYPE_F32, 1, n, y0);
        DLaunch l = dl(d, "saxpy", 1, (uint32_t)n, 0, 0, 0);
        l.nargs = 3;
        l.args[0] = dck_arg_f32(0.5f), l.args[1] = dck_arg_buffer(bx),
        l.args[2] = dck_arg_buffer(by);
        run_dck_float(&b, d, &l, by, ref, n, 1e-6, NULL, NULL);
        dck_buffer_destroy(bx), dck_buffer_destroy(by);
    }
    if (ocl.ok) {
        cl_mem cx = cbuf(n * 4, x), cy = cbuf(n * 4, y0);
        CLaunch c = cl_l("saxpy", 1, n, 0, 0, 0, "fmmu", 0.5, cx, cy, (unsigned)n);
        run_cl_float(&b, &c, cy, ref, n, 1e-6);
        clReleaseMemObject(cx), clReleaseMemObject(cy), clReleaseKernel(c.k);
    } else {
        record(&b, "opencl", -1, ocl.why);
    }
#ifdef BENCH_HALIDE
    {
        float *out = xmalloc(n * 4);
        halide_dimension_t dim = {0, (int32_t)n, 1, 0};
        halide_buffer_t hx = {0}, hy = {0}, ho = {0};
        hx.host = (uint8_t *)x, hy.host = (uint8_t *)y0, ho.host = (uint8_t *)out;
        hx.type = hy.type = ho.type = (struct halide_type_t){halide_type_float, 32, 1};
        hx.dimensions = hy.dimensions = ho.dimensions = 1;
        hx.dim = hy.dim = ho.dim = &dim;
        halide_saxpy(0.5f, &hx, &hy, &ho);
        const char *st = check_f(out, ref, n, 1e-6);
        double t[25];
        int reps = 15;
        for (int k = 0; k < reps && !strcmp(st, "ok"); k++) {
            double t0 = now_ms();
            halide_saxpy(0.5f, &hx, &hy, &ho);
            t[k] = now_ms() - t0;
        }
        qsort(t, (size_t)reps, sizeof t[0], cmp_d);
        record(&b, "halide", strcmp(st, "ok") ? -1 : t[reps / 2],
               strcmp(st, "ok") ? strdup(st) : "ok");
        free(out);
    }
#endif
    /* vadd: z = x + y */
    Bench bv = {"vadd", "GB/s", "32M floats", 12.0 * n};
    g_y = y0;
    g_z = xmalloc(n * 4);
    c_vadd(NULL);
    memcpy(ref, g_z, n * 4);
    record(&bv, "c-omp", time_it(c_vadd, NULL), "ok");
    for (int k = 0; k < ndck; k++) {
        Dck *d = &dcks[k];
        dck_buffer ba = dbuf(d, DCK_TYPE_F32, 1, n, x), bb = dbuf(d, DCK_TYPE_F32, 1, n, y0),
                   bc = dbuf(d, DCK_TYPE_F32, 1, n, NULL);
        DLaunch l = dl(d, "vadd", 1, (uint32_t)n, 0, 0, 0);
        l.nargs = 3;
        l.args[0] = dck_arg_buffer(ba), l.args[1] = dck_arg_buffer(bb),
        l.args[2] = dck_arg_buffer(bc);
        run_dck_float(&bv, d, &l, bc, ref, n, 0, NULL, NULL);
        dck_buffer_destroy(ba), dck_buffer_destroy(bb), dck_buffer_destroy(bc);
    }
    if (ocl.ok) {
        cl_mem ca = cbuf(n * 4, x), cb = cbuf(n * 4, y0), cc = cbuf(n * 4, NULL);
        CLaunch c = cl_l("vadd", 1, n, 0, 0, 0, "mmmu", ca, cb, cc, (unsigned)n);
        run_cl_float(&bv, &c, cc, ref, n, 0);
        clReleaseMemObject(ca), clReleaseMemObject(cb), clReleaseMemObject(cc),
            clReleaseKernel(c.k);
    } else {
        record(&bv, "opencl", -1, ocl.why);
    }
    free(x), free(y0), free(ref), free(g_z);
}

/* -- sum reduction: 128 groups of 256 partial sums, the host adds the 128 -- */
enum { RGROUPS = 128, RB = 256 };
static double r_sum;
static void c_reduce(void *p)
{
    (void)p;
    float s = 0;
#pragma omp parallel for simd reduction(+ : s) schedule(static)
    for (size_t i = 0; i < N32M; i++) s += g_x[i];
    r_sum = s;
}
typedef struct RedD {
    DLaunch l;
    dck_buffer part;
    double sum;
} RedD;
static void dck_reduce_run(void *p)
{
    RedD *r = p;
    dlaunch_run(&r->l);
    float part[RGROUPS];
    dread(r->part, part, sizeof part);
    double s = 0;
    for (int k = 0; k < RGROUPS; k++) s += part[k];
    r->sum = s;
}
typedef struct RedC {
    CLaunch c;
    cl_mem part;
    double sum;
} RedC;
static void cl_reduce_run(void *p)
{
    RedC *r = p;
    claunch_run(&r->c);
    float part[RGROUPS];
    cread(r->part, part, sizeof part);
    double s = 0;
    for (int k = 0; k < RGROUPS; k++) s += part[k];
    r->sum = s;
}
static const char *check_sum(double got, double ref)
{
    static char msg[128];
    if (fabs(got - ref) <= 1e-4 * fabs(ref)) return "ok";
    snprintf(msg, sizeof msg, "wrong: sum %.9g, reference %.9g", got, ref);
    return strdup(msg);
}
static void bench_reduce(void)
{
    size_t n = N32M;
    float *x = xmalloc(n * 4);
    double exact = 0;
    for (size_t i = 0; i < n; i++) exact += x[i] = rndf();
    Bench b = {"reduce", "GB/s", "32M floats", 4.0 * n};
    g_x = x;
    c_reduce(NULL);
    record(&b, "c-omp", time_it(c_reduce, NULL), check_sum(r_sum, exact));
    for (int k = 0; k < ndck; k++) {
        Dck *d = &dcks[k];
        RedD r;
        dck_buffer bx = dbuf(d, DCK_TYPE_F32, 1, n, x);
        r.part = dbuf(d, DCK_TYPE_F32, 1, RGROUPS, NULL);
        r.l = dl(d, "reduce", 1, RGROUPS * RB, 0, RB, 0);
        r.l.nargs = 2;
        r.l.args[0] = dck_arg_buffer(bx), r.l.args[1] = dck_arg_buffer(r.part);
        dck_reduce_run(&r);
        const char *st = check_sum(r.sum, exact);
        record(&b, d->impl, strcmp(st, "ok") ? -1 : time_it(dck_reduce_run, &r), st);
        dck_buffer_destroy(bx), dck_buffer_destroy(r.part);
    }
    if (ocl.ok) {
        RedC r;
        cl_mem cx = cbuf(n * 4, x);
        r.part = cbuf(RGROUPS * 4, NULL);
        r.c = cl_l("reduce", 1, RGROUPS * RB, 0, RB, 0, "mum", cx, (unsigned)n, r.part);
        cl_reduce_run(&r);
        const char *st = check_sum(r.sum, exact);
        record(&b, "opencl", strcmp(st, "ok") ? -1 : time_it(cl_reduce_run, &r), st);
        clReleaseMemObject(cx), clReleaseMemObject(r.part), clReleaseKernel(r.c.k);
    } else {
        record(&b, "opencl", -1, ocl.why);
    }
    free(x);
}

/* -- histogram: 256 bins over 32M values -- */
enum { HGROUPS = 64, HB = 256 };
static const uint32_t *h_data;
static uint32_t h_hist[256];
static void c_hist(void *p)
{
    (void)p;
    memset(h_hist, 0, sizeof h_hist);
#pragma omp parallel
    {
        uint32_t loc[256] = {0};
#pragma omp for schedule(static)
        for (size_t i = 0; i < N32M; i++) loc[h_data[i] & 255u]++;
#pragma omp critical
        for (int k = 0; k < 256; k++) h_hist[k] += loc[k];
    }
}
typedef struct HistD {
    DLaunch l;
    dck_buffer hist;
} HistD;
static void dck_hist_run(void *p)
{
    HistD *h = p;
    static const uint32_t zero[256];
    if (dck_buffer_write(h->hist, 0, sizeof zero, zero)) die("write: %s", dck_last_error());
    dlaunch_run(&h->l);
}
typedef struct HistC {
    CLaunch c;
    cl_mem hist;
} HistC;
static void cl_hist_run(void *p)
{
    HistC *h = p;
    static const uint32_t zero[256];
    clEnqueueWriteBuffer(ocl.q, h->hist, CL_FALSE, 0, sizeof zero, zero, 0, NULL, NULL);
    claunch_run(&h->c);
}
static void bench_histogram(void)
{
    size_t n = N32M;
    uint32_t *data = xmalloc(n * 4);
    for (size_t i = 0; i < n; i++) data[i] = rnd();
    uint32_t ref[256] = {0}, got[256];
    for (size_t i = 0; i < n; i++) ref[data[i] & 255u]++;
    Bench b = {"histogram", "GB/s", "32M uints, 256 bins", 4.0 * n};
    h_data = data;
    c_hist(NULL);
    record(&b, "c-omp", time_it(c_hist, NULL), check_u(h_hist, ref, 256, 0));
    for (int k = 0; k < ndck; k++) {
        Dck *d = &dcks[k];
        HistD h;
        dck_buffer bd = dbuf(d, DCK_TYPE_U32, 1, n, data);
        h.hist = dbuf(d, DCK_TYPE_U32, 1, 256, NULL);
        h.l = dl(d, "histogram", 1, HGROUPS * HB, 0, HB, 0);
        h.l.nargs = 2;
        h.l.args[0] = dck_arg_buffer(bd), h.l.args[1] = dck_arg_buffer(h.hist);
        dck_hist_run(&h);
        dread(h.hist, got, sizeof got);
        const char *st = check_u(got, ref, 256, 0);
        record(&b, d->impl, strcmp(st, "ok") ? -1 : time_it(dck_hist_run, &h), strdup(st));
        dck_buffer_destroy(bd), dck_buffer_destroy(h.hist);
    }
    if (ocl.ok) {
        HistC h;
        cl_mem cd = cbuf(n * 4, data);
        h.hist = cbuf(256 * 4, NULL);
        h.c = cl_l("histogram", 1, HGROUPS * HB, 0, HB, 0, "mum", cd, (unsigned)n, h.hist);
        cl_hist_run(&h);
        cread(h.hist, got, sizeof got);
        const char *st = check_u(got, ref, 256, 0);
        record(&b, "opencl", strcmp(st, "ok") ? -1 : time_it(cl_hist_run, &h), strdup(st));
        clReleaseMemObject(cd), clReleaseMemObject(h.hist), clReleaseKernel(h.c.k);
    } else {
        record(&b, "opencl", -1, ocl.why);
    }
    free(data);
}

/* -- 2-D float kernels: transpose, jacobi (w x h in, one output) -- */
static uint32_t t_w, t_h;
static void c_transpose(void *p)
{
    (void)p;
    const uint32_t w = t_w, h = t_h, B = 32;
#pragma omp parallel for schedule(static)
    for (uint32_t by = 0; by < h; by += B)
        for (uint32_t bx = 0; bx < w; bx += B)
            for (uint32_t y = by; y < by + B && y < h; y++)
                for (uint32_t x = bx; x < bx + B && x < w; x++)
                    g_y[(size_t)x * h + y] = g_x[(size_t)y * w + x];
}
static void c_jacobi(void *p)
{
    (void)p;
    const uint32_t w = t_w, h = t_h;
#pragma omp parallel for schedule(static)
    for (uint32_t y = 0; y < h; y++) {
        uint32_t yu = y > 0 ? y - 1 : 0, yd = y + 1 < h ? y + 1 : h - 1;
        const float *r = g_x + (size_t)y * w, *u = g_x + (size_t)yu * w, *d = g_x + (size_t)yd * w;
        float *o = g_y + (size_t)y * w;
        o[0] = 0.25f * (r[0] + r[1] + u[0] + d[0]);
#pragma omp simd
        for (uint32_t x = 1; x < w - 1; x++) o[x] = 0.25f * (r[x - 1] + r[x + 1] + u[x] + d[x]);
        o[w - 1] = 0.25f * (r[w - 2] + r[w - 1] + u[w - 1] + d[w - 1]);
    }
}

#ifdef BENCH_HALIDE
typedef struct HalArgs {
    int which;
    halide_buffer_t *in, *out;
} HalArgs;
static void hal_run(void *p)
{
    HalArgs *h = p;
    if (h->which == 0)
        halide_transpose(h->in, h->out);
    else
        halide_jacobi(h->in, h->out);
}
#endif

static void bench_2d(int which)
{
    uint32_t w = 4096, h = 4096;
    size_t n = (size_t)w * h;
    float *x = xmalloc(n * 4), *ref = xmalloc(n * 4);
    for (size_t i = 0; i < n; i++) x[i] = rndf();
    Bench b = which == 0 ? (Bench){"transpose", "GB/s", "4096x4096 floats", 8.0 * n}
                         : (Bench){"jacobi", "GB/s", "4096x4096 floats", 8.0 * n};
    g_x = x, g_y = ref, t_w = w, t_h = h;
    RunFn cf = which == 0 ? c_transpose : c_jacobi;
    cf(NULL);
    float *scratch = xmalloc(n * 4);
    g_y = scratch;
    record(&b, "c-omp", time_it(cf, NULL), "ok");
    const char *kn = which == 0 ? "transpose" : "jacobi";
    for (int k = 0; k < ndck; k++) {
        Dck *d = &dcks[k];
        dck_buffer bi = dbuf(d, DCK_TYPE_F32, 1, n, x), bo = dbuf(d, DCK_TYPE_F32, 1, n, NULL);
        DLaunch l = dl(d, kn, 2, w, h, which == 0 ? 16 : 0, which == 0 ? 16 : 0);
        l.nargs = 4;
        l.args[0] = dck_arg_u32(w), l.args[1] = dck_arg_u32(h), l.args[2] = dck_arg_buffer(bi),
        l.args[3] = dck_arg_buffer(bo);
        run_dck_float(&b, d, &l, bo, ref, n, 1e-6, NULL, NULL);
        dck_buffer_destroy(bi), dck_buffer_destroy(bo);
    }
    if (ocl.ok) {
        cl_mem ci = cbuf(n * 4, x), co = cbuf(n * 4, NULL);
        CLaunch c = cl_l(kn, 2, w, h, which == 0 ? 16 : 0, which == 0 ? 16 : 0, "uumm", (unsigned)w,
                         (unsigned)h, ci, co);
        run_cl_float(&b, &c, co, ref, n, 1e-6);
        clReleaseMemObject(ci), clReleaseMemObject(co), clReleaseKernel(c.k);
    } else {
        record(&b, "opencl", -1, ocl.why);
    }
#ifdef BENCH_HALIDE
    {
        halide_dimension_t din[2] = {{0, (int32_t)w, 1, 0}, {0, (int32_t)h, (int32_t)w, 0}};
        halide_dimension_t dout[2] = {
            {0, (int32_t)(which == 0 ? h : w), 1, 0},
            {0, (int32_t)(which == 0 ? w : h), (int32_t)(which == 0 ? h : w), 0}};
        halide_buffer_t hi = {0}, ho = {0};
        hi.host = (uint8_t *)x, ho.host = (uint8_t *)scratch;
        hi.type = ho.type = (struct halide_type_t){halide_type_float, 32, 1};
        hi.dimensions = ho.dimensions = 2;
        hi.dim = din, ho.dim = dout;
        HalArgs ha = {which, &hi, &ho};
        memset(scratch, 0, n * 4);
        hal_run(&ha);
        const char *st = check_f(scratch, ref, n, 1e-6);
        record(&b, "halide", strcmp(st, "ok") ? -1 : time_it(hal_run, &ha),
               strcmp(st, "ok") ? strdup(st) : "ok");
    }
#endif
    free(x), free(ref), free(scratch);
}

/* -- sgemm 1024^3: the i-k-j loop -- */
static uint32_t m_n;
static void c_sgemm(void *p)
{
    (void)p;
    const uint32_t n = m_n;
#pragma omp parallel for schedule(static)
    for (uint32_t i = 0; i < n; i++) {
        float *c = g_z + (size_t)i * n;
        for (uint32_t j = 0; j < n; j++) c[j] = 0;
        for (uint32_t k = 0; k < n; k++) {
            float a = g_x[(size_t)i * n + k];
            const float *b = g_y + (size_t)k * n;
#pragma omp simd
            for (uint32_t j = 0; j < n; j++) c[j] += a * b[j];
        }
    }
}
static void bench_sgemm(void)
{
    uint32_t n = 1024;
    size_t nn = (size_t)n * n;
    float *a = xmalloc(nn * 4), *bm = xmalloc(nn * 4), *ref = xmalloc(nn * 4);
    for (size_t i = 0; i < nn; i++) a[i] = rndf() - 0.5f, bm[i] = rndf() - 0.5f;
    Bench b = {"sgemm", "GFLOP/s", "1024^3", 2.0 * n * n * n};
    g_x = a, g_y = bm, g_z = ref, m_n = n;
    c_sgemm(NULL);
    float *scratch = xmalloc(nn * 4);
    g_z = scratch;
    record(&b, "c-omp", time_it(c_sgemm, NULL), "ok");
    for (int k = 0; k < ndck; k++) {
        Dck *d = &dcks[k];
        dck_buffer ba = dbuf(d, DCK_TYPE_F32, 1, nn, a), bb = dbuf(d, DCK_TYPE_F32, 1, nn, bm),
                   bc = dbuf(d, DCK_TYPE_F32, 1, nn, NULL);
        DLaunch l = dl(d, "sgemm", 2, n, n, 16, 16);
        l.nargs = 4;
        l.args[0] = dck_arg_u32(n), l.args[1] = dck_arg_buffer(ba), l.args[2] = dck_arg_buffer(bb),
        l.args[3] = dck_arg_buffer(bc);
        run_dck_float(&b, d, &l, bc, ref, nn, 1e-3, NULL, NULL);
        dck_buffer_destroy(ba), dck_buffer_destroy(bb), dck_buffer_destroy(bc);
    }
    if (ocl.ok) {
        cl_mem ca = cbuf(nn * 4, a), cb = cbuf(nn * 4, bm), cc = cbuf(nn * 4, NULL);
        CLaunch c = cl_l("sgemm", 2, n, n, 16, 16, "ummm", (unsigned)n, ca, cb, cc);
        run_cl_float(&b, &c, cc, ref, nn, 1e-3);
        clReleaseMemObject(ca), clReleaseMemObject(cb), clReleaseMemObject(cc),
            clReleaseKernel(c.k);
    } else {
        record(&b, "opencl", -1, ocl.why);
    }
    free(a), free(bm), free(ref), free(scratch);
}

/* -- mandelbrot 1024x768, 256 iterations -- */
static uint32_t *mb_out;
static void c_mandel(void *p)
{
    (void)p;
    const uint32_t w = 1024, h = 768, it = 256;
#pragma omp parallel for schedule(dynamic, 4)
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            float cx = -2.0f + 3.0f * ((float)x + 0.5f) / (float)w;
            float cy = -1.2f + 2.4f * ((float)y + 0.5f) / (float)h;
            float zx = 0, zy = 0;
            uint32_t n = 0;
            while (n < it && zx * zx + zy * zy <= 4.0f) {
                float t = zx * zx - zy * zy + cx;
                zy = 2.0f * zx * zy + cy;
                zx = t;
                n++;
            }
            mb_out[y * w + x] = n;
        }
}
static void bench_mandelbrot(void)
{
    uint32_t w = 1024, h = 768;
    size_t n = (size_t)w * h;
    uint32_t *ref = xmalloc(n * 4), *got = xmalloc(n * 4);
    Bench b = {"mandelbrot", "Mpix/s", "1024x768, 256 iterations", (double)n};
    mb_out = ref;
    c_mandel(NULL);
    record(&b, "c-omp", time_it(c_mandel, NULL), "ok");
    /* contraction into fma may flip a few chaotic pixels: 0.5 % may differ */
    for (int k = 0; k < ndck; k++) {
        Dck *d = &dcks[k];
        dck_buffer bo = dbuf(d, DCK_TYPE_U32, 1, n, NULL);
        DLaunch l = dl(d, "mandelbrot", 2, w, h, 0, 0);
        l.nargs = 4;
        l.args[0] = dck_arg_u32(w), l.args[1] = dck_arg_u32(h), l.args[2] = dck_arg_u32(256),
        l.args[3] = dck_arg_buffer(bo);
        dlaunch_run(&l);
        dread(bo, got, n * 4);
        const char *st = check_u(got, ref, n, 0.005);
        record(&b, d->impl, strcmp(st, "ok") ? -1 : time_it(dlaunch_run, &l), strdup(st));
        dck_buffer_destroy(bo);
    }
    if (ocl.ok) {
        cl_mem co = cbuf(n * 4, NULL);
        CLaunch c = cl_l("mandelbrot", 2, w, h, 0, 0, "uuum", (unsigned)w, (unsigned)h, 256u, co);
        claunch_run(&c);
        cread(co, got, n * 4);
        const char *st = check_u(got, ref, n, 0.005);
        record(&b, "opencl", strcmp(st, "ok") ? -1 : time_it(claunch_run, &c), strdup(st));
        clReleaseMemObject(co), clReleaseKernel(c.k);
    } else {
        record(&b, "opencl", -1, ocl.why);
    }
    free(ref), free(got);
}

/* -- n-body: 4096 bodies, accelerations -- */
enum { NBODY = 4096 };
static const float *nb_pos;
static float *nb_acc;
static void c_nbody(void *p)
{
    (void)p;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < NBODY; i++) {
        float px = nb_pos[4 * i], py = nb_pos[4 * i + 1], pz = nb_pos[4 * i + 2];
        float ax = 0, ay = 0, az = 0;
#pragma omp simd reduction(+ : ax, ay, az)
        for (int j = 0; j < NBODY; j++) {
            float dx = nb_pos[4 * j] - px, dy = nb_pos[4 * j + 1] - py, dz = nb_pos[4 * j + 2] - pz;
            float r2 = dx * dx + dy * dy + dz * dz + 0.01f;
            float inv = 1.0f / sqrtf(r2);
            float s = nb_pos[4 * j + 3] * inv * inv * inv;
            ax += dx * s, ay += dy * s, az += dz * s;
        }
        nb_acc[4 * i] = ax, nb_acc[4 * i + 1] = ay, nb_acc[4 * i + 2] = az, nb_acc[4 * i + 3] = 0;
    }
}
static void bench_nbody(void)
{
    size_t n = NBODY;
    float *pos = xmalloc(n * 16), *ref = xmalloc(n * 16);
    for (size_t i = 0; i < n; i++)
        pos[4 * i] = rndf(), pos[4 * i + 1] = rndf(), pos[4 * i + 2] = rndf(),
                pos[4 * i + 3] = rndf() + 0.5f;
    Bench b = {"nbody", "GFLOP/s", "4096 bodies (20 flops per pair)", 20.0 * n * n};
    nb_pos = pos, nb_acc = ref;
    c_nbody(NULL);
    float *scratch = xmalloc(n * 16);
    nb_acc = scratch;
    record(&b, "c-omp", time_it(c_nbody, NULL), "ok");
    for (int k = 0; k < ndck; k++) {
        Dck *d = &dcks[k];
        dck_buffer bp = dbuf(d, DCK_TYPE_F32, 4, n, pos), ba = dbuf(d, DCK_TYPE_F32, 4, n, NULL);
        DLaunch l = dl(d, "nbody", 1, (uint32_t)n, 0, 128, 0);
        l.nargs = 2;
        l.args[0] = dck_arg_buffer(bp), l.args[1] = dck_arg_buffer(ba);
        run_dck_float(&b, d, &l, ba, ref, 4 * n, 2e-3, NULL, NULL);
        dck_buffer_destroy(bp), dck_buffer_destroy(ba);
    }
    if (ocl.ok) {
        cl_mem cp = cbuf(n * 16, pos), ca = cbuf(n * 16, NULL);
        CLaunch c = cl_l("nbody", 1, n, 0, 128, 0, "mum", cp, (unsigned)n, ca);
        run_cl_float(&b, &c, ca, ref, 4 * n, 2e-3);
        clReleaseMemObject(cp), clReleaseMemObject(ca), clReleaseKernel(c.k);
    } else {
        record(&b, "opencl", -1, ocl.why);
    }
    free(pos), free(ref), free(scratch);
}

/* -- row softmax: 8192 rows of 1024 -- */
enum { SROWS = 8192, SCOLS = 1024 };
static void c_softmax(void *p)
{
    (void)p;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < SROWS; r++) {
        const float *x = g_x + (size_t)r * SCOLS;
        float *y = g_y + (size_t)r * SCOLS;
        float m = -3.0e38f, s = 0;
        for (int c = 0; c < SCOLS; c++) m = fmaxf(m, x[c]);
        for (int c = 0; c < SCOLS; c++) s += expf(x[c] - m);
        float inv = 1.0f / s;
        for (int c = 0; c < SCOLS; c++) y[c] = expf(x[c] - m) * inv;
    }
}
static void bench_softmax(void)
{
    size_t n = (size_t)SROWS * SCOLS;
    float *x = xmalloc(n * 4), *ref = xmalloc(n * 4);
    for (size_t i = 0; i < n; i++) x[i] = 8.0f * rndf() - 4.0f;
    Bench b = {"softmax", "GB/s", "8192 rows x 1024", 8.0 * n};
    g_x = x, g_y = ref;
    c_softmax(NULL);
    float *scratch = xmalloc(n * 4);
    g_y = scratch;
    record(&b, "c-omp", time_it(c_softmax, NULL), "ok");
    for (int k = 0; k < ndck; k++) {
        Dck *d = &dcks[k];
        dck_buffer bx = dbuf(d, DCK_TYPE_F32, 1, n, x), by = dbuf(d, DCK_TYPE_F32, 1, n, NULL);
        DLaunch l = dl(d, "softmax", 1, SROWS * 256, 0, 256, 0);
        l.nargs = 3;
        l.args[0] = dck_arg_u32(SCOLS), l.args[1] = dck_arg_buffer(bx),
        l.args[2] = dck_arg_buffer(by);
        run_dck_float(&b, d, &l, by, ref, n, 1e-4, NULL, NULL);
        dck_buffer_destroy(bx), dck_buffer_destroy(by);
    }
    if (ocl.ok) {
        cl_mem cx = cbuf(n * 4, x), cy = cbuf(n * 4, NULL);
        CLaunch c = cl_l("softmax", 1, SROWS * 256, 0, 256, 0, "umm", (unsigned)SCOLS, cx, cy);
        run_cl_float(&b, &c, cy, ref, n, 1e-4);
        clReleaseMemObject(cx), clReleaseMemObject(cy), clReleaseKernel(c.k);
    } else {
        record(&b, "opencl", -1, ocl.why);
    }
    free(x), free(ref), free(scratch);
}

/* -- the three-stage pipeline, fused (the pipeline as dckc fused it) vs unfused (the same
 *    module's three kernels launched one after the other through two temporaries) -- */
static void c_pipe3(void *p)
{
    (void)p;
#pragma omp parallel for simd schedule(static)
    for (size_t i = 0; i < N32M; i++) {
        float v = 3.0f * (g_x[i] * g_x[i]) + -1.0f;
        g_y[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
    }
}
static void bench_pipe3(void)
{
    size_t n = N32M;
    float *x = xmalloc(n * 4), *ref = xmalloc(n * 4);
    for (size_t i = 0; i < n; i++) x[i] = rndf();
    Bench bf = {"pipe3-fused", "GB/s", "32M floats, 3 stages", 8.0 * n};
    Bench bu = {"pipe3-unfused", "GB/s", "32M floats, 3 stages", 8.0 * n};
    g_x = x, g_y = ref;
    c_pipe3(NULL);
    float *scratch = xmalloc(n * 4);
    g_y = scratch;
    record(&bf, "c-omp", time_it(c_pipe3, NULL), "ok");
    for (int k = 0; k < ndck; k++) {
        Dck *d = &dcks[k];
        dck_buffer bx = dbuf(d, DCK_TYPE_F32, 1, n, x), by = dbuf(d, DCK_TYPE_F32, 1, n, NULL),
                   t1 = dbuf(d, DCK_TYPE_F32, 1, n, NULL), t2 = dbuf(d, DCK_TYPE_F32, 1, n, NULL);
        DLaunch l = dl(d, "pipe3", 0, 0, 0, 0, 0);
        l.nargs = 4;
        l.args[0] = dck_arg_f32(3.0f), l.args[1] = dck_arg_f32(-1.0f),
        l.args[2] = dck_arg_buffer(bx), l.args[3] = dck_arg_buffer(by);
        run_dck_float(&bf, d, &l, by, ref, n, 1e-6, NULL, NULL);
        DLaunch u[3];
        u[0] = dl(d, "square", 1, (uint32_t)n, 0, 0, 0);
        u[0].nargs = 2, u[0].args[0] = dck_arg_buffer(bx), u[0].args[1] = dck_arg_buffer(t1);
        u[1] = dl(d, "axpb", 1, (uint32_t)n, 0, 0, 0);
        u[1].nargs = 4, u[1].args[0] = dck_arg_f32(3.0f), u[1].args[1] = dck_arg_f32(-1.0f);
        u[1].args[2] = dck_arg_buffer(t1), u[1].args[3] = dck_arg_buffer(t2);
        u[2] = dl(d, "clamp01", 1, (uint32_t)n, 0, 0, 0);
        u[2].nargs = 2, u[2].args[0] = dck_arg_buffer(t2), u[2].args[1] = dck_arg_buffer(by);
        u[0].next = &u[1], u[1].next = &u[2];
        run_dck_float(&bu, d, &u[0], by, ref, n, 1e-6, NULL, NULL);
        dck_buffer_destroy(bx), dck_buffer_destroy(by), dck_buffer_destroy(t1),
            dck_buffer_destroy(t2);
    }
    if (ocl.ok) {
        cl_mem cx = cbuf(n * 4, x), cy = cbuf(n * 4, NULL), c1 = cbuf(n * 4, NULL),
               c2 = cbuf(n * 4, NULL);
        CLaunch f = cl_l("pipe3_fused", 1, n, 0, 0, 0, "ffmmu", 3.0, -1.0, cx, cy, (unsigned)n);
        run_cl_float(&bf, &f, cy, ref, n, 1e-6);
        CLaunch u[3];
        u[0] = cl_l("square", 1, n, 0, 0, 0, "mmu", cx, c1, (unsigned)n);
        u[1] = cl_l("axpb", 1, n, 0, 0, 0, "ffmmu", 3.0, -1.0, c1, c2, (unsigned)n);
        u[2] = cl_l("clamp01", 1, n, 0, 0, 0, "mmu", c2, cy, (unsigned)n);
        u[0].next = &u[1], u[1].next = &u[2];
        run_cl_float(&bu, &u[0], cy, ref, n, 1e-6);
        clReleaseMemObject(cx), clReleaseMemObject(cy), clReleaseMemObject(c1),
            clReleaseMemObject(c2);
    } else {
        record(&bf, "opencl", -1, ocl.why);
        record(&bu, "opencl", -1, ocl.why);
    }
    free(x), free(ref), free(scratch);
}

/* ---- output ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", *s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

int main(int argc, char **argv)
{
    if (argc < 4) die("usage: bench OUT.json kernels.dck kernels.cl [only-bench]");
    const char *only = argc > 4 ? argv[4] : NULL;
    omp_set_num_threads(THREADS);
    fprintf(stderr, "setting up\n");
    dck_open(&dcks[ndck++], "dck", NULL, argv[2], DCK_BACKEND_CPU);
    dck_open(&dcks[ndck++], "dck-scalar", "scalar", argv[2], DCK_BACKEND_CPU);
    /* the same module through dckc's OpenCL C output and libdckrt's OpenCL backend (PoCL) */
    if (!getenv("BENCH_NO_DCK_OPENCL") &&
        dck_open(&dcks[ndck], "dck-opencl", NULL, argv[2], DCK_BACKEND_OPENCL))
        ndck++;
    ocl_open(argv[3]);
#ifdef BENCH_HALIDE
    halide_set_num_threads(THREADS);
#endif
    fprintf(stderr, "running\n");
#define RUN(name, call) \
    if (!only || strcmp(only, name) == 0) call
    RUN("stream", bench_stream());
    RUN("saxpy", bench_saxpy_vadd());
    RUN("reduce", bench_reduce());
    RUN("histogram", bench_histogram());
    RUN("transpose", bench_2d(0));
    RUN("sgemm", bench_sgemm());
    RUN("mandelbrot", bench_mandelbrot());
    RUN("jacobi", bench_2d(1));
    RUN("nbody", bench_nbody());
    RUN("softmax", bench_softmax());
    RUN("pipe3", bench_pipe3());

    FILE *f = fopen(argv[1], "w");
    if (!f) die("cannot write %s", argv[1]);
    fputs("{\"threads\": 2, \"results\": [\n", f);
    for (int k = 0; k < nresults; k++) {
        Result *r = &results[k];
        fputs("  {\"bench\": ", f);
        json_str(f, r->bench);
        fputs(", \"impl\": ", f);
        json_str(f, r->impl);
        fputs(", \"unit\": ", f);
        json_str(f, r->unit);
        if (r->ms > 0)
            fprintf(f, ", \"ms\": %.4f, \"metric\": %.4f", r->ms, r->metric);
        else
            fputs(", \"ms\": null, \"metric\": null", f);
        fputs(", \"status\": ", f);
        json_str(f, r->status);
        fprintf(f, "}%s\n", k + 1 < nresults ? "," : "");
    }
    fputs("]}\n", f);
    fclose(f);
    for (int k = 0; k < ndck; k++) {
        dck_queue_destroy(dcks[k].q);
        dck_module_destroy(dcks[k].mod);
        dck_context_destroy(dcks[k].ctx);
    }
    return 0;
}
