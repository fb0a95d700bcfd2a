/* soak.c: a long run of the runtime on every backend present (scripts/soak.sh; docs/soak.md).
 *
 *     soak SECONDS [BACKEND...]        (default: every backend that is available)
 *
 * Round after round, each backend gets a slice of about two seconds in which it creates
 * buffers of changing sizes, launches kernels (plain, barrier + shared memory + atomics, a
 * pipeline with a temporary), reads results back and checks them exactly; every tenth round
 * the backend's context is destroyed and made again, with its module. The resident set size
 * is sampled after every round. At the end, per backend: launches, bytes moved, wrong
 * results, errors; for the process: the RSS after the first minute (the warm-up: drivers'
 * caches, JIT), at half time and at the end. Exit 1 on any wrong result or error, or when the
 * RSS grew by more than 8 MiB in the second half of the run (a leak of a few bytes per launch
 * shows there).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dck.h"

static const char *src =
    "kernel void saxpy(float a, const float[] x, float[] y) {\n"
    "    uint i = global_id(0);\n"
    "    if (i < len(y)) y[i] = a * x[i] + y[i];\n"
    "}\n"
    "[[workgroup(64)]]\n"
    "kernel void bsum(const uint[] x, uint[] total) {\n"
    "    shared uint s[64];\n"
    "    uint l = local_id(0), i = global_id(0);\n"
    "    s[l] = i < len(x) ? x[i] : 0u;\n"
    "    barrier();\n"
    "    for (uint k = 32u; k > 0u; k >>= 1) { if (l < k) s[l] += s[l + k]; barrier(); }\n"
    "    if (l == 0u) atomic_add(total[0], s[0]);\n"
    "}\n"
    "kernel void scale(float s, const float[] x, float[] y) {\n"
    "    uint i = global_id(0);\n"
    "    if (i < len(y)) y[i] = s * x[i];\n"
    "}\n"
    "kernel void addc(float c, const float[] x, float[] y) {\n"
    "    uint i = global_id(0);\n"
    "    if (i < len(y)) y[i] = x[i] + c;\n"
    "}\n"
    "pipeline scale_add(float s, float c, const float[] x, float[] y) {\n"
    "    float t[len(x)];\n"
    "    scale<<<len(x)>>>(s, x, t);\n"
    "    addc<<<len(x)>>>(c, t, y);\n"
    "}\n";

typedef struct Stats {
    const char *name;
    dck_backend b;
    uint64_t launches, bytes, wrong, errors, contexts;
    char first_error[512];
} Stats;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double rss_mib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
        fclose(f);
    }
    return (double)res * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next_u32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static int fail(Stats *s, dck_status st, const char *what)
{
    if (!s->errors++)
        snprintf(s->first_error, sizeof s->first_error, "%s: %s [%s]", what, dck_last_error(),
                 dck_status_string(st));
    return 1;
}

typedef struct Dev {
    dck_context ctx;
    dck_module mod;
    dck_kernel saxpy, bsum, pipe;
    dck_queue q;
} Dev;

static int dev_open(Stats *s, Dev *d)
{
    memset(d, 0, sizeof *d);
    dck_context_desc cd = {0};
    cd.backend = s->b;
    dck_status st;
    if ((st = dck_context_create(&cd, &d->ctx))) return fail(s, st, "context");
    s->contexts++;
    if ((st = dck_module_create_from_source(d->ctx, "soak.dck", src, NULL, &d->mod)))
        return fail(s, st, "module");
    if ((st = dck_module_get_kernel(d->mod, "saxpy", &d->saxpy)) ||
        (st = dck_module_get_kernel(d->mod, "bsum", &d->bsum)) ||
        (st = dck_module_get_kernel(d->mod, "scale_add", &d->pipe)))
        return fail(s, st, "kernels");
    if ((st = dck_queue_create(d->ctx, NULL, &d->q))) return fail(s, st, "queue");
    return 0;
}

static void dev_close(Dev *d)
{
    if (d->ctx) dck_context_destroy(d->ctx); /* releases the module, queue and buffers */
    memset(d, 0, sizeof *d);
}

/* One step: three launches on fresh buffers of n elements, results checked exactly. */
static int step(Stats *s, Dev *d, uint32_t n, float *hx, float *hy, uint32_t *hu)
{
    dck_status st;
    dck_buffer x = NULL, y = NULL, u = NULL, t = NULL;
    int rc = 1;
    for (uint32_t i = 0; i < n; i++)
        hx[i] = (float)(i % 97), hy[i] = (float)(i % 13), hu[i] = i % 7;
    if ((st = dck_buffer_create_elems(d->ctx, DCK_TYPE_F32, n, &x)) ||
        (st = dck_buffer_create_elems(d->ctx, DCK_TYPE_F32, n, &y)) ||
        (st = dck_buffer_create_elems(d->ctx, DCK_TYPE_U32, n, &u)) ||
        (st = dck_buffer_create_elems(d->ctx, DCK_TYPE_U32, 1, &t)) ||
        (st = dck_buffer_write(x, 0, n * 4ull, hx)) ||
        (st = dck_buffer_write(y, 0, n * 4ull, hy)) ||
        (st = dck_buffer_write(u, 0, n * 4ull, hu))) {
        fail(s, st, "buffers");
        goto out;
    }
    uint32_t zero = 0;
    if ((st = dck_buffer_write(t, 0, 4, &zero))) {
        fail(s, st, "buffers");
        goto out;
    }
    dck_arg a1[] = {dck_arg_f32(2.0f), dck_arg_buffer(x), dck_arg_buffer(y)};
    dck_range r1 = {1, {n, 1, 1}, {0, 0, 0}};
    dck_arg a2[] = {dck_arg_buffer(u), dck_arg_buffer(t)};
    dck_range r2 = {1, {(n + 63) / 64 * 64, 1, 1}, {64, 1, 1}};
    dck_arg a3[] = {dck_arg_f32(3.0f), dck_arg_f32(1.0f), dck_arg_buffer(x), dck_arg_buffer(x)};
    if ((st = dck_launch(d->q, d->saxpy, &r1, 3, a1, NULL)) ||
        (st = dck_launch(d->q, d->bsum, &r2, 2, a2, NULL)) ||
        (st = dck_launch(d->q, d->pipe, NULL, 4, a3, NULL)) || (st = dck_queue_finish(d->q))) {
        fail(s, st, "launch");
        goto out;
    }
    s->launches += 3;
    uint32_t total = 0;
    if ((st = dck_buffer_read(y, 0, n * 4ull, hy)) || (st = dck_buffer_read(x, 0, n * 4ull, hx)) ||
        (st = dck_buffer_read(t, 0, 4, &total))) {
        fail(s, st, "read");
        goto out;
    }
    s->bytes += 6ull * n * 4 + 8;
    uint64_t want_total = 0;
    bool ok = true;
    for (uint32_t i = 0; i < n; i++) {
        float xi = (float)(i % 97);
        ok &= hy[i] == 2.0f * xi + (float)(i % 13);
        ok &= hx[i] == 3.0f * xi + 1.0f;
        want_total += i % 7;
    }
    ok &= total == (uint32_t)want_total;
    if (!ok && !s->wrong++)
        snprintf(s->first_error, sizeof s->first_error, "wrong result for n = %u", n);
    rc = 0;
out:
    dck_buffer_destroy(x);
    dck_buffer_destroy(y);
    dck_buffer_destroy(u);
    dck_buffer_destroy(t);
    return rc;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 60.0;
    if (seconds <= 0) {
        fprintf(stderr, "usage: soak SECONDS [BACKEND...]\n");
        return 2;
    }
    static const struct {
        const char *name;
        dck_backend b;
    } all[] = {{"cpu", DCK_BACKEND_CPU},
               {"opencl", DCK_BACKEND_OPENCL},
               {"vulkan", DCK_BACKEND_VULKAN},
               {"cuda", DCK_BACKEND_CUDA}};
    Stats st[4];
    int nb = 0;
    for (int i = 0; i < 4; i++) {
        bool want = argc <= 2;
        for (int a = 2; a < argc; a++) want |= strcmp(argv[a], all[i].name) == 0;
        if (!want) continue;
        if (dck_backend_available(all[i].b) != DCK_SUCCESS) {
            printf("soak: %s: skipped (%s)\n", all[i].name, dck_last_error());
            continue;
        }
        memset(&st[nb], 0, sizeof st[nb]);
        st[nb].name = all[i].name;
        st[nb].b = all[i].b;
        nb++;
    }
    if (!nb) {
        printf("soak: no backend to run\n");
        return 77;
    }
    enum { MAXN = 1 << 16 };
    float *hx = malloc(MAXN * 4), *hy = malloc(MAXN * 4);
    uint32_t *hu = malloc(MAXN * 4);
    if (!hx || !hy || !hu) return 1;
    Dev devs[4];
    for (int i = 0; i < nb; i++)
        if (dev_open(&st[i], &devs[i])) dev_close(&devs[i]);
    double t0 = now_s(), warm_rss = -1, peak_after_warm = 0, last_report = t0;
    double half_rss = -1, last_rss = 0; /* at half time, and after the last round */
    double warm = seconds > 180 ? 60 : seconds / 3;
    /* SOAK_REMAKE=N: a new context every N rounds (default 10; 0: never) */
    const char *re = getenv("SOAK_REMAKE");
    int remake = re ? atoi(re) : 10;
    if (remake <= 0) remake = 1 << 30;
    for (int round = 1; now_s() - t0 < seconds; round++) {
        for (int i = 0; i < nb; i++) {
            if (round % remake == 0) { /* a new context and module now and then */
                dev_close(&devs[i]);
                if (dev_open(&st[i], &devs[i])) dev_close(&devs[i]);
            }
            if (!devs[i].ctx) continue;
            double slice_end = now_s() + 2.0 / nb;
            while (now_s() < slice_end && now_s() - t0 < seconds)
                step(&st[i], &devs[i], 1 + next_u32() % MAXN, hx, hy, hu);
        }
        double rss = rss_mib(), t = now_s() - t0;
        if (t >= warm && warm_rss < 0) warm_rss = rss;
        if (t >= seconds / 2 && half_rss < 0) half_rss = rss;
        last_rss = rss;
        if (warm_rss >= 0 && rss > peak_after_warm) peak_after_warm = rss;
        if (now_s() - last_report >= (seconds > 600 ? 300 : seconds / 4)) {
            last_report = now_s();
            printf("soak: %6.0f s, RSS %.1f MiB", t, rss);
            for (int i = 0; i < nb; i++)
                printf(", %s %llu launches", st[i].name, (unsigned long long)st[i].launches);
            printf("\n");
            fflush(stdout);
        }
    }
    for (int i = 0; i < nb; i++) dev_close(&devs[i]);
    double end_rss = rss_mib();
    int rc = 0;
    for (int i = 0; i < nb; i++) {
        printf(
            "soak: %-7s %10llu launches, %8.1f GB moved, %llu contexts, %llu wrong, %llu errors%s%s\n",
            st[i].name, (unsigned long long)st[i].launches, (double)st[i].bytes / 1e9,
            (unsigned long long)st[i].contexts, (unsigned long long)st[i].wrong,
            (unsigned long long)st[i].errors, st[i].first_error[0] ? ": " : "", st[i].first_error);
        if (st[i].wrong || st[i].errors) rc = 1;
    }
    if (warm_rss < 0) warm_rss = end_rss;
    if (half_rss < 0) half_rss = last_rss;
    printf("soak: %.0f s; RSS %.1f MiB after the warm-up (%.0f s), %.1f MiB at half time, peak "
           "%.1f MiB, %.1f MiB after the last round, %.1f MiB at the end (every context "
           "destroyed)\n",
           now_s() - t0, warm_rss, warm, half_rss, peak_after_warm, last_rss, end_rss);
    /* drivers and the allocator settle into their caches over the first part of a run (here
       lavapipe's and PoCL's grew some 20 MiB in the first half hour, then not a byte): a leak
       is growth in the second half */
    if (seconds < 120) /* a short run ends while drivers still fill their caches (cold ones
                            add some 20 MiB in its first seconds): results only */
        printf("soak: the RSS is judged only in runs of 2 minutes or more\n");
    else if (last_rss - half_rss > 8.0) {
        printf("soak: FAIL: the RSS grew by %.1f MiB in the second half of the run\n",
               last_rss - half_rss);
        rc = 1;
    }
    free(hx);
    free(hy);
    free(hu);
    return rc;
}
