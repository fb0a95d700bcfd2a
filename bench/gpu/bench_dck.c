/* bench_dck.c: the dck side of the GPU benchmark (bench/gpu/run.sh).
 *
 *   bench_dck KERNELS.dck LABEL [REPEATS]
 *
 * Loads bench/gpu/kernels.dck on the CUDA backend through dck.h, runs each benchmark
 * (3 warm-ups, then REPEATS timed launches, default 20, each timed on the device by its dck
 * event) and prints one line per result:
 *   RESULT <label> <benchmark> <median ms> <value> <unit>
 * plus the launch overhead of an empty kernel through dck_launch and through a recorded batch
 * (a CUDA graph), in microseconds per launch (host wall time over 20000 launches).
 * With PTX (argument 4: `dckc --target=ptx --sm=90 kernels.dck`), the same empty kernel is also
 * launched with raw cuLaunchKernel (libcuda dlopened here, the runtime's primary context) in
 * the same process, interleaved with the dck_launch rounds: launch overhead dck/raw without
 * run-to-run noise. Results are checked against the host (sampled for sgemm); a wrong
 * result exits 1.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dlfcn.h>

#include "dck.h"

#define CHECK(call)                                                                          \
    do {                                                                                     \
        dck_status st_ = (call);                                                             \
        if (st_ != DCK_SUCCESS) {                                                            \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, dck_last_error()); \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

static dck_context ctx;
static dck_queue q;
static dck_module mod;
static int repeats = 20;
static const char *label = "dck";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median device time in ms of `repeats` launches (after 3 warm-ups) */
static double time_kernel(const char *name, const dck_range *r, uint32_t nargs, const dck_arg *args)
{
    dck_kernel k;
    CHECK(dck_module_get_kernel(mod, name, &k));
    for (int i = 0; i < 3; i++) CHECK(dck_launch(q, k, r, nargs, args, NULL));
    CHECK(dck_queue_finish(q));
    double *ms = calloc((size_t)repeats, sizeof *ms);
    for (int i = 0; i < repeats; i++) {
        dck_event ev;
        CHECK(dck_launch(q, k, r, nargs, args, &ev));
        uint64_t ns;
        CHECK(dck_event_elapsed_ns(ev, &ns));
        CHECK(dck_event_destroy(ev));
        ms[i] = (double)ns * 1e-6;
    }
    qsort(ms, (size_t)repeats, sizeof *ms, cmp_double);
    double med = ms[repeats / 2];
    free(ms);
    return med;
}

static dck_buffer buffer(dck_type t, uint64_t count, const void *init)
{
    dck_buffer_desc d = {0};
    d.type = t;
    d.count = count;
    d.initial_data = init;
    dck_buffer b;
    CHECK(dck_buffer_create(ctx, &d, &b));
    return b;
}

static float *rand_floats(uint64_t n, uint32_t seed)
{
    float *p = malloc(n * sizeof *p);
    for (uint64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 16777216.0f;
    }
    return p;
}

static int failures;
static void expect(const char *what, double got, double want, double tol)
{
    if (fabs(got - want) > tol * fmax(1.0, fabs(want))) {
        fprintf(stderr, "WRONG %s: got %.6g, expected %.6g\n", what, got, want);
        failures++;
    }
}

/* raw driver API for the launch-overhead reference */
typedef int (*FnInit)(unsigned);
typedef int (*FnDevGet)(int *, int);
typedef int (*FnRetain)(void **, int);
typedef int (*FnSetCur)(void *);
typedef int (*FnLoad)(void **, const void *);
typedef int (*FnGetFn)(void **, void *, const char *);
typedef int (*FnAlloc)(unsigned long long *, size_t);
typedef int (*FnStream)(void **, unsigned);
typedef int (*FnSync)(void *);
typedef int (*FnLaunch)(void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                        unsigned, void *, void **, void **);
static struct {
    FnLaunch launch;
    FnSync sync;
    void *fn, *stream;
    unsigned long long buf;
    void *params[1];
} raw;

static void *sym(void *h, const char *n)
{
    void *p = dlsym(h, n);
    if (!p) {
        fprintf(stderr, "libcuda.so.1 lacks %s\n", n);
        exit(1);
    }
    return p;
}

static int raw_setup(const char *ptx_path)
{
    FILE *f = fopen(ptx_path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *ptx = calloc((size_t)n + 1, 1);
    if (fread(ptx, 1, (size_t)n, f) != (size_t)n) n = 0;
    fclose(f);
    void *h = dlopen("libcuda.so.1", RTLD_NOW);
    if (!h || !n) return 0;
    FnInit init;
    FnDevGet dev;
    FnRetain retain;
    FnSetCur setcur;
    FnLoad load;
    FnGetFn getfn;
    FnAlloc alloc;
    FnStream mkstream;
    *(void **)&init = sym(h, "cuInit");
    *(void **)&dev = sym(h, "cuDeviceGet");
    *(void **)&retain = sym(h, "cuDevicePrimaryCtxRetain");
    *(void **)&setcur = sym(h, "cuCtxSetCurrent");
    *(void **)&load = sym(h, "cuModuleLoadData");
    *(void **)&getfn = sym(h, "cuModuleGetFunction");
    *(void **)&alloc = sym(h, "cuMemAlloc_v2");
    *(void **)&mkstream = sym(h, "cuStreamCreate");
    *(void **)&raw.launch = sym(h, "cuLaunchKernel");
    *(void **)&raw.sync = sym(h, "cuStreamSynchronize");
    int d;
    void *ctx, *mod;
    if (init(0) || dev(&d, 0) || retain(&ctx, d) || setcur(ctx) || load(&mod, ptx) ||
        getfn(&raw.fn, mod, "empty") || alloc(&raw.buf, 128) || mkstream(&raw.stream, 0))
        return 0;
    free(ptx);
    raw.params[0] = &raw.buf;
    return 1;
}

/* the empty kernel's ABI: buffer pointer, its length, global size x, y, z */
static double raw_round(int L)
{
    uint32_t len = 32, g[3] = {32, 1, 1};
    void *params[5] = {&raw.buf, &len, &g[0], &g[1], &g[2]};
    double t = now_s();
    for (int i = 0; i < L; i++)
        if (raw.launch(raw.fn, 1, 1, 1, 32, 1, 1, 0, raw.stream, params, NULL)) {
            fprintf(stderr, "raw cuLaunchKernel failed\n");
            exit(1);
        }
    raw.sync(raw.stream);
    return (now_s() - t) / L * 1e6;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s KERNELS.dck LABEL [REPEATS]\n", argv[0]);
        return 2;
    }
    label = argv[2];
    if (argc > 3) repeats = atoi(argv[3]) > 0 ? atoi(argv[3]) : 20;
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_CUDA;
    CHECK(dck_context_create(&cd, &ctx));
    dck_device dev;
    dck_device_info info;
    CHECK(dck_context_get_device(ctx, &dev));
    CHECK(dck_device_get_info(dev, &info));
    uint64_t freeb = 0, totalb = 0;
    CHECK(dck_context_get_memory_info(ctx, &freeb, &totalb));
    printf("device: %s (%s), %u SMs, %.1f GiB, %.1f GiB free (cuMemGetInfo)\n", info.name,
           info.driver, info.compute_units, (double)info.global_memory_bytes / (1 << 30),
           (double)freeb / (1 << 30));
    CHECK(dck_queue_create(ctx, NULL, &q));
    double t0 = now_s();
    CHECK(dck_module_create_from_source(ctx, argv[1], NULL, NULL, &mod));
    printf("module: compiled and loaded in %.1f ms\n", (now_s() - t0) * 1e3);

    const uint32_t N = 1u << 26; /* 64M floats */
    float *hx = rand_floats(N, 1), *hy = rand_floats(N, 2);
    dck_buffer x = buffer(DCK_TYPE_F32, N, hx), y = buffer(DCK_TYPE_F32, N, hy),
               z = buffer(DCK_TYPE_F32, N, NULL);

    /* saxpy: y = a x + y (reads x and y, writes y) */
    {
        float a = 2.0f;
        dck_arg args[] = {dck_arg_f32(a), dck_arg_buffer(x), dck_arg_buffer(y)};
        dck_range r = {1, {N, 1, 1}, {256, 1, 1}};
        double ms = time_kernel("saxpy", &r, 3, args);
        printf("RESULT %s saxpy_64M %.4f %.1f GB/s\n", label, ms, 3.0 * 4 * N / (ms * 1e-3) / 1e9);
        CHECK(dck_buffer_write(y, 0, (uint64_t)N * 4, hy));
        dck_kernel k;
        CHECK(dck_module_get_kernel(mod, "saxpy", &k));
        CHECK(dck_launch(q, k, &r, 3, args, NULL));
        float v[2];
        CHECK(dck_buffer_read(y, 4ull * 12345, 8, v));
        expect("saxpy", v[0], 2.0 * hx[12345] + hy[12345], 1e-6);
    }
    /* vector add: z = x + y */
    {
        dck_arg args[] = {dck_arg_buffer(x), dck_arg_buffer(y), dck_arg_buffer(z)};
        dck_range r = {1, {N, 1, 1}, {256, 1, 1}};
        double ms = time_kernel("vadd", &r, 3, args);
        printf("RESULT %s vadd_64M %.4f %.1f GB/s\n", label, ms, 3.0 * 4 * N / (ms * 1e-3) / 1e9);
        float v;
        CHECK(dck_buffer_read(z, 4ull * 777, 4, &v));
        float hyv;
        CHECK(dck_buffer_read(y, 4ull * 777, 4, &hyv));
        expect("vadd", v, (double)hx[777] + hyv, 1e-6);
    }
    /* sum reduction of x */
    {
        dck_buffer out = buffer(DCK_TYPE_F32, 1, NULL);
        dck_arg args[] = {dck_arg_buffer(x), dck_arg_buffer(out)};
        uint32_t groups = info.compute_units * 8;
        dck_range r = {1, {groups * 256, 1, 1}, {256, 1, 1}};
        double ms = time_kernel("reduce_sum", &r, 2, args);
        printf("RESULT %s reduce_64M %.4f %.1f GB/s\n", label, ms, 4.0 * N / (ms * 1e-3) / 1e9);
        float zero = 0, s;
        CHECK(dck_buffer_write(out, 0, 4, &zero));
        dck_kernel k;
        CHECK(dck_module_get_kernel(mod, "reduce_sum", &k));
        CHECK(dck_launch(q, k, &r, 2, args, NULL));
        CHECK(dck_buffer_read(out, 0, 4, &s));
        double want = 0;
        for (uint32_t i = 0; i < N; i++) want += hx[i];
        expect("reduce", s, want, 1e-4);
        CHECK(dck_buffer_destroy(out));
    }
    /* the same over float4 elements (a float4 view of the same data) */
    {
        dck_buffer_desc d = {0};
        d.type = DCK_TYPE_F32;
        d.vec = 4;
        d.count = N / 4;
        d.initial_data = hx;
        dck_buffer x4, out = buffer(DCK_TYPE_F32, 1, NULL);
        CHECK(dck_buffer_create(ctx, &d, &x4));
        dck_arg args[] = {dck_arg_buffer(x4), dck_arg_buffer(out)};
        uint32_t groups = info.compute_units * 8;
        dck_range r = {1, {groups * 256, 1, 1}, {256, 1, 1}};
        double ms = time_kernel("reduce_sum4", &r, 2, args);
        printf("RESULT %s reduce4_64M %.4f %.1f GB/s\n", label, ms, 4.0 * N / (ms * 1e-3) / 1e9);
        float zero = 0, s;
        CHECK(dck_buffer_write(out, 0, 4, &zero));
        dck_kernel k;
        CHECK(dck_module_get_kernel(mod, "reduce_sum4", &k));
        CHECK(dck_launch(q, k, &r, 2, args, NULL));
        CHECK(dck_buffer_read(out, 0, 4, &s));
        double want = 0;
        for (uint32_t i = 0; i < N; i++) want += hx[i];
        expect("reduce4", s, want, 1e-4);
        CHECK(dck_buffer_destroy(out));
        CHECK(dck_buffer_destroy(x4));
    }
    /* transpose 8192 x 8192 (x -> z) */
    {
        uint32_t n = 8192;
        dck_arg args[] = {dck_arg_buffer(x), dck_arg_buffer(z), dck_arg_u32(n)};
        dck_range r = {2, {n, n / 4, 1}, {32, 8, 1}};
        double ms = time_kernel("transpose", &r, 3, args);
        printf("RESULT %s transpose_8192 %.4f %.1f GB/s\n", label, ms,
               2.0 * 4 * n * (double)n / (ms * 1e-3) / 1e9);
        float v;
        CHECK(dck_buffer_read(z, 4ull * (5ull * n + 4000), 4, &v));
        expect("transpose", v, hx[4000ull * n + 5], 0);
    }
    /* sgemm 4096^3 (x, y as A, B; z as C) */
    {
        uint32_t n = 4096;
        dck_arg args[] = {dck_arg_buffer(x), dck_arg_buffer(y), dck_arg_buffer(z), dck_arg_u32(n)};
        dck_range r = {2, {n, n, 1}, {16, 16, 1}};
        double ms = time_kernel("sgemm", &r, 4, args);
        printf("RESULT %s sgemm_4096 %.4f %.2f TFLOP/s\n", label, ms,
               2.0 * n * (double)n * n / (ms * 1e-3) / 1e12);
        float *hb = malloc((size_t)n * n * 4);
        CHECK(dck_buffer_read(y, 0, (uint64_t)n * n * 4, hb));
        for (int s = 0; s < 4; s++) {
            uint32_t i = (uint32_t)(s * 1237 % n), j = (uint32_t)(s * 2711 % n);
            double want = 0;
            for (uint32_t k = 0; k < n; k++)
                want += (double)hx[(uint64_t)i * n + k] * hb[(uint64_t)k * n + j];
            float v;
            CHECK(dck_buffer_read(z, 4ull * ((uint64_t)i * n + j), 4, &v));
            expect("sgemm", v, want, 1e-4);
        }
        free(hb);
    }
    /* mandelbrot 4096 x 4096, 256 iterations */
    {
        uint32_t w = 4096, h = 4096, it = 256;
        dck_buffer out = buffer(DCK_TYPE_U32, (uint64_t)w * h, NULL);
        dck_arg args[] = {dck_arg_u32(w), dck_arg_u32(h), dck_arg_u32(it), dck_arg_buffer(out)};
        dck_range r = {2, {w, h, 1}, {16, 16, 1}};
        double ms = time_kernel("mandelbrot", &r, 4, args);
        printf("RESULT %s mandelbrot_4096 %.4f %.1f Mpixel/s\n", label, ms,
               (double)w * h / (ms * 1e-3) / 1e6);
        uint32_t v;
        CHECK(
            dck_buffer_read(out, 4ull * (2048ull * w + 1365), 4, &v)); /* (-1, 0): inside the set */
        expect("mandelbrot", v, it, 0);
        CHECK(dck_buffer_destroy(out));
    }
    /* launch overhead: an empty kernel, one group of 32 */
    {
        dck_buffer dummy = buffer(DCK_TYPE_U32, 32, NULL);
        dck_kernel k;
        CHECK(dck_module_get_kernel(mod, "empty", &k));
        dck_arg args[] = {dck_arg_buffer(dummy)};
        dck_range r = {1, {32, 1, 1}, {32, 1, 1}};
        const int L = 20000;
        for (int i = 0; i < 1000; i++) CHECK(dck_launch(q, k, &r, 1, args, NULL));
        CHECK(dck_queue_finish(q));
        bool have_raw = argc > 4 && raw_setup(argv[4]);
        if (have_raw) raw_round(1000);
        double dk[5], rw[5];
        for (int round = 0; round < 5; round++) { /* interleaved: the same conditions for both */
            double t = now_s();
            for (int i = 0; i < L; i++) CHECK(dck_launch(q, k, &r, 1, args, NULL));
            CHECK(dck_queue_finish(q));
            dk[round] = (now_s() - t) / L * 1e6;
            rw[round] = have_raw ? raw_round(L) : 0;
        }
        qsort(dk, 5, sizeof dk[0], cmp_double);
        qsort(rw, 5, sizeof rw[0], cmp_double);
        double us = dk[2];
        printf("RESULT %s launch_dck_launch %.4f %.3f us/launch\n", label, us * 1e-3, us);
        if (have_raw)
            printf("RESULT %s launch_raw_same_process %.4f %.3f us/launch\n", label, rw[2] * 1e-3,
                   rw[2]);
        double t;
        /* the same launches recorded once into a batch (a CUDA graph) and replayed */
        const int B = 100;
        CHECK(dck_queue_begin_batch(q));
        for (int i = 0; i < B; i++) CHECK(dck_launch(q, k, &r, 1, args, NULL));
        dck_batch batch;
        CHECK(dck_queue_end_batch(q, &batch));
        CHECK(dck_batch_launch(q, batch));
        CHECK(dck_queue_finish(q));
        t = now_s();
        for (int i = 0; i < L / B; i++) CHECK(dck_batch_launch(q, batch));
        CHECK(dck_queue_finish(q));
        us = (now_s() - t) / L * 1e6;
        printf("RESULT %s launch_batch_graph %.4f %.3f us/launch\n", label, us * 1e-3, us);
        CHECK(dck_batch_destroy(batch));
        CHECK(dck_buffer_destroy(dummy));
    }
    CHECK(dck_context_get_memory_info(ctx, &freeb, &totalb));
    printf("memory: %.1f GiB free of %.1f GiB after the runs (cuMemGetInfo)\n",
           (double)freeb / (1 << 30), (double)totalb / (1 << 30));
    CHECK(dck_context_destroy(ctx));
    free(hx);
    free(hy);
    if (failures) fprintf(stderr, "%d wrong results\n", failures);
    return failures ? 1 : 0;
}
