/* cpu.c: the CPU backend. Buffers are host memory from the pool; a launch distributes its
 * work-groups over a pthread pool (the calling thread works too). Each thread owns one
 * 64-byte aligned scratch block used as the group's `shared` memory (dck_abi.h): its size is
 * align64(shared_bytes) + private_bytes * work-items-per-group (per gang for a SIMD
 * variant); the shared part, and a scalar group function's private part, is zeroed before
 * every group. Groups are handed out in chunks through one atomic counter (dynamic
 * scheduling), 2-D launches of barrier kernels in bands of group rows (run_groups).
 */
#include "cpu_topo.h"
#include "rt.h"
#include "driver/dckc.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

enum { CPU_MAX_PARTS = 16 }; /* NUMA nodes the groups of a launch are split over, at most */

typedef struct CpuJob {
    dck_cpu_group_fn fn;
    const dck_cpu_launch *launch;
    uint64_t ngroups;
    uint64_t chunk;
    uint64_t band;      /* > 1: groups in bands of this many rows (2-D tiles) */
    size_t block_bytes; /* bytes of `shared` zeroed per group (0: nothing to zero) */
    /* the groups in nparts contiguous ranges, one per NUMA node of the placement (one range
       without NUMA): a thread takes groups of its node's range first, then helps the others */
    uint32_t nparts;
    uint64_t part_end[CPU_MAX_PARTS];
    _Atomic uint64_t next[CPU_MAX_PARTS]; /* next group index to hand out, per range */
} CpuJob;

/* Launches whose groups take less than this on one thread run on the calling thread alone:
 * waking the pool and waiting for it costs more (a few microseconds, more on a busy machine). */
enum { INLINE_NS = 20000, COST_SLOTS = 64 };

typedef struct CpuCost {
    dck_cpu_group_fn fn; /* the kernel (its group function), NULL: free slot */
    double ns_per_group; /* measured, one thread's view */
    uint32_t probe;      /* launches since the last single-thread measurement */
} CpuCost;

typedef struct CpuState {
    uint32_t nthreads;  /* including the calling thread */
    pthread_t *threads; /* nthreads - 1 workers */
    void **scratch;     /* per thread (index 0: the calling thread) */
    size_t *scratch_size;
    pthread_mutex_t launch_mu; /* one launch at a time on this context */
    pthread_mutex_t mu;
    pthread_cond_t work_cv, done_cv;
    _Atomic uint64_t generation; /* bumped per job (release: job is set before) */
    _Atomic uint32_t pending;    /* workers still inside the current job */
    uint32_t sleepers;           /* workers blocked on work_cv (under mu) */
    _Atomic bool shutdown;
    bool spin;   /* threads spin briefly before blocking: not when they outnumber the cores */
    CpuJob *job; /* the current job: written before generation is bumped */
    CpuPlacement place;       /* NUMA nodes, and where the workers are pinned (cpu_topo.h) */
    CpuCost cost[COST_SLOTS]; /* per kernel, by hash of its group function (under launch_mu) */
    uint32_t isa_ok;          /* SIMD variants this CPU may run: bits of dck_abi_cpu_isa */
} CpuState;

typedef struct CpuWorker {
    CpuState *s;
    uint32_t index;
} CpuWorker;

/* ---- device ---- */

static void cpu_name(char *out, size_t n)
{
    snprintf(out, n, "CPU");
#if defined(__x86_64__) || defined(__i386__)
    unsigned r[12];
    unsigned max = __get_cpuid_max(0x80000000u, NULL);
    if (max >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002u + i, &r[i * 4], &r[i * 4 + 1], &r[i * 4 + 2], &r[i * 4 + 3]);
        char brand[49];
        memcpy(brand, r, 48);
        brand[48] = 0;
        const char *b = brand;
        while (*b == ' ') b++;
        size_t len = strlen(b);
        while (len && b[len - 1] == ' ') len--;
        if (len) snprintf(out, n, "%.*s", (int)len, b);
        return;
    }
#endif
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (colon && (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0)) {
            char *v = colon + 1;
            while (*v == ' ') v++;
            v[strcspn(v, "\n")] = 0;
            if (*v) snprintf(out, n, "%s", v);
            break;
        }
    }
    fclose(f);
}

/* The topology line of the device's `driver` field (cpu_topo.h), computed once. */
static char topo_desc[64];
static pthread_once_t topo_once = PTHREAD_ONCE_INIT;
static void topo_describe(void)
{
    CpuPlacement p;
    char err[256];
    if (rt_cpu_place(1, &p, err, sizeof err)) {
        snprintf(topo_desc, sizeof topo_desc, "%s", p.desc);
        rt_cpu_place_free(&p);
    }
}

void rt_cpu_device_info(dck_device_info *info)
{
    memset(info, 0, sizeof *info);
    cpu_name(info->name, sizeof info->name);
    pthread_once(&topo_once, topo_describe);
    snprintf(info->driver, sizeof info->driver, "%s", topo_desc);
    info->backend = DCK_BACKEND_CPU;
    snprintf(info->backend_name, sizeof info->backend_name, "cpu");
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    info->global_memory_bytes = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : 0;
    info->max_shared_bytes = 1u << 20;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    info->compute_units = cores > 0 ? (uint32_t)cores : 1;
    info->max_work_group_size = 1024;
    info->max_work_group_dims[0] = 1024;
    info->max_work_group_dims[1] = 1024;
    info->max_work_group_dims[2] = 64;
    info->subgroup_size = 1;
    info->features = DCK_FEATURE_FP64 | DCK_FEATURE_FP16 | DCK_FEATURE_INT64_ATOMICS |
                     DCK_FEATURE_FLOAT_ATOMICS | DCK_FEATURE_SUBGROUPS | DCK_FEATURE_UNIFIED_MEMORY;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("sse4.2"))
        info->features |= DCK_FEATURE_CPU_SSE4;
    if (__builtin_cpu_supports("avx2")) info->features |= DCK_FEATURE_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) info->features |= DCK_FEATURE_CPU_FMA;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        info->features |= DCK_FEATURE_CPU_AVX512;
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C)) info->features |= DCK_FEATURE_CPU_F16C;
#elif defined(__aarch64__)
    info->features |= DCK_FEATURE_CPU_NEON | DCK_FEATURE_CPU_FMA;
#endif
}

static dck_status cpu_enumerate(uint32_t *count, dck_device_info *infos)
{
    if (!infos) {
        *count = 1;
        return DCK_SUCCESS;
    }
    if (*count >= 1) {
        rt_cpu_device_info(&infos[0]);
        *count = 1;
    }
    return DCK_SUCCESS;
}

/* ---- SIMD variants (dck_abi_cpu_variant) ---- */

/* The ISAs this CPU and OS run, as bits of dck_abi_cpu_isa: cpuid, and for AVX/AVX-512 the
 * XCR0 register (the OS must save YMM, resp. opmask and ZMM state). */
static uint32_t cpu_isa_support(void)
{
    uint32_t m = 1u << DCK_ABI_ISA_SCALAR;
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return m;
    bool sse4 = (c & bit_SSE4_1) && (c & bit_SSE4_2) && (c & bit_POPCNT);
    bool avx = (c & bit_OSXSAVE) && (c & bit_AVX), fma = c & bit_FMA;
    if (sse4) m |= 1u << DCK_ABI_ISA_SSE4;
    if (!sse4 || !avx || __get_cpuid_max(0, NULL) < 7) return m;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    (void)xhi;
    __cpuid_count(7, 0, a, b, c, d);
    if ((xlo & 0x6) == 0x6 && fma && (b & bit_AVX2)) m |= 1u << DCK_ABI_ISA_AVX2;
    if ((xlo & 0xe6) == 0xe6 && fma && (b & bit_AVX512F) && (b & bit_AVX512BW) &&
        (b & bit_AVX512DQ) && (b & bit_AVX512VL))
        m |= 1u << DCK_ABI_ISA_AVX512;
#elif defined(__aarch64__)
    m |= 1u << DCK_ABI_ISA_NEON;
#endif
    return m;
}

static const char *const isa_names[] = {"scalar", "sse4", "avx2", "avx512", "neon"};

/* DCK_CPU_ISA (a --cpu-isa list) restricts the variants run to those named; "native" or
 * unset: all this CPU supports. Returns false for a malformed list. */
static bool env_isa_mask(uint32_t *mask)
{
    const char *e = getenv("DCK_CPU_ISA");
    *mask = ~0u;
    if (!e || !*e) return true;
    uint32_t m = 1u << DCK_ABI_ISA_SCALAR;
    for (const char *p = e; *p;) {
        size_t n = strcspn(p, ",");
        bool ok = n == 6 && strncmp(p, "native", 6) == 0;
        if (ok) m = ~0u;
        for (uint32_t k = 0; k < 5; k++)
            if (strlen(isa_names[k]) == n && strncmp(p, isa_names[k], n) == 0) {
                m |= 1u << k;
                ok = true;
            }
        if (!ok) return false;
        p += n;
        if (*p == ',') p++;
    }
    *mask = m;
    return true;
}

/* the widest variant of k this context may run, or NULL (then cpu_group) */
static const dck_abi_cpu_variant *pick_variant(const CpuState *s, const dck_abi_kernel *k)
{
    static const int rank[] = {0, 1, 2, 3, 1};
    const dck_abi_cpu_variant *best = NULL;
    for (uint32_t i = 0; i < k->ncpu_variants && k->cpu_variants; i++) {
        const dck_abi_cpu_variant *v = &k->cpu_variants[i];
        if (v->isa >= 5 || !v->fn || v->gang == 0 || !((s->isa_ok >> v->isa) & 1)) continue;
        if (!best || rank[v->isa] > rank[best->isa]) best = v;
    }
    return best;
}

/* ---- thread pool ---- */

static void run_range(CpuJob *j, const dck_cpu_launch *l, uint64_t n0, uint64_t n01, uint64_t start,
                      uint64_t end, void *scratch)
{
    for (uint64_t g = start; g < end; g++) {
        if (j->block_bytes) memset(scratch, 0, j->block_bytes);
        uint64_t gx = g % n0, gy = g % n01 / n0, gz = g / n01;
        if (j->band > 1) { /* only set for 2-D launches */
            uint64_t r = g % n01, band = r / (j->band * n0),
                     rows = l->num_groups[1] - band * j->band;
            if (rows > j->band) rows = j->band;
            uint64_t q = r - band * j->band * n0;
            gx = q / rows, gy = band * j->band + q % rows;
        }
        j->fn(l, (uint32_t)gx, (uint32_t)gy, (uint32_t)gz, scratch);
    }
}

/* Splits the job's groups into `parts` contiguous ranges (1: one range). */
static void job_parts(CpuJob *j, uint32_t parts)
{
    if (parts < 1 || j->ngroups < parts) parts = 1;
    if (parts > CPU_MAX_PARTS) parts = CPU_MAX_PARTS;
    j->nparts = parts;
    for (uint32_t p = 0; p < parts; p++) {
        atomic_init(&j->next[p], j->ngroups * p / parts);
        j->part_end[p] = j->ngroups * (p + 1) / parts;
    }
}

/* Runs groups of the job until none is left: those of range `home` first. */
static void run_groups(CpuJob *j, void *scratch, uint32_t home)
{
    const dck_cpu_launch *l = j->launch;
    uint64_t n0 = l->num_groups[0], n01 = n0 * l->num_groups[1];
    for (uint32_t k = 0; k < j->nparts; k++) {
        uint32_t p = (home + k) % j->nparts;
        for (;;) {
            uint64_t start = atomic_fetch_add_explicit(&j->next[p], j->chunk, memory_order_relaxed);
            if (start >= j->part_end[p]) break;
            uint64_t end = start + j->chunk < j->part_end[p] ? start + j->chunk : j->part_end[p];
            run_range(j, l, n0, n01, start, end, scratch);
        }
    }
}

/* Launches come in bursts (a pipeline, a loop of steps): a thread that has just finished a job
 * spins this long for the next one before it blocks, so that a launch wakes the pool without
 * a system call (a futex wake and the reschedule cost 5-10 us; the spin costs nothing then).
 * The launching thread spins as long for the workers to finish. */
enum { SPIN_NS = 50000 };

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One step of a spin: a pause for the first iterations, then a yield, so that a thread sharing
 * the core (the machine busy with other work, or the launcher itself) gets to run. */
static inline void spin_pause(uint32_t i)
{
    if (i < 256)
        cpu_relax();
    else
        sched_yield();
}

/* Spins until *gen differs from seen (true) or SPIN_NS pass (false). */
static bool spin_for_job(CpuState *s, uint64_t seen)
{
    if (!s->spin) return false;
    uint64_t start = mono_ns();
    for (uint32_t i = 1;; i++) {
        if (atomic_load_explicit(&s->generation, memory_order_acquire) != seen ||
            atomic_load_explicit(&s->shutdown, memory_order_relaxed))
            return true;
        spin_pause(i);
        if (!(i & 63) && mono_ns() - start > SPIN_NS) return false;
    }
}

static void *worker_main(void *arg)
{
    CpuWorker *w = arg;
    CpuState *s = w->s;
    uint64_t seen = 0;
    rt_cpu_bind_self(&s->place, w->index); /* refused: the thread runs where the OS puts it */
    uint32_t home = s->place.thread_node ? s->place.thread_node[w->index] : 0;
    for (;;) {
        if (!spin_for_job(s, seen)) {
            /* block: registered as a sleeper under mu before the last look at generation,
               so a launch that bumps it either is seen here or broadcasts to us */
            pthread_mutex_lock(&s->mu);
            s->sleepers++;
            while (!atomic_load(&s->shutdown) && atomic_load(&s->generation) == seen)
                pthread_cond_wait(&s->work_cv, &s->mu);
            s->sleepers--;
            pthread_mutex_unlock(&s->mu);
        }
        if (atomic_load(&s->shutdown)) break;
        seen = atomic_load_explicit(&s->generation, memory_order_acquire);
        run_groups(s->job, s->scratch[w->index], home);
        if (atomic_fetch_sub_explicit(&s->pending, 1, memory_order_acq_rel) == 1) {
            /* the last one out: wake the launcher if it stopped spinning (it checks pending
               under mu before it waits, and this lock comes after the decrement) */
            pthread_mutex_lock(&s->mu);
            pthread_cond_signal(&s->done_cv);
            pthread_mutex_unlock(&s->mu);
        }
    }
    return NULL;
}

static uint32_t default_threads(dck_context ctx)
{
    if (ctx->num_threads) return ctx->num_threads;
    const char *e = getenv("DCK_NUM_THREADS");
    if (e && *e) {
        char *end;
        unsigned long v = strtoul(e, &end, 10);
        if (!*end && v >= 1 && v <= RT_MAX_THREADS) return (uint32_t)v;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (uint32_t)n : 1;
}

static void cpu_fini(dck_context ctx);

static dck_status cpu_init(dck_context ctx, uint32_t device_index)
{
    if (device_index != 0)
        return rt_error(DCK_ERROR_DEVICE_NOT_FOUND,
                        "backend 'cpu' has 1 device; index %u does not exist", device_index);
    rt_cpu_device_info(&ctx->device.info);
    uint32_t env_isas;
    if (!env_isa_mask(&env_isas))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "DCK_CPU_ISA='%s': expected a comma list of scalar, sse4, "
                        "avx2, avx512, neon, native",
                        getenv("DCK_CPU_ISA"));
    CpuState *s = rt_calloc(ctx, sizeof *s);
    if (!s) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating the CPU thread pool");
    ctx->backend_data = s;
    s->isa_ok = cpu_isa_support() & env_isas;
    s->nthreads = default_threads(ctx);
    ctx->num_threads = s->nthreads;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    const char *spin_env = getenv("DCK_CPU_SPIN");
    s->spin =
        online > 0 && s->nthreads <= (uint32_t)online && !(spin_env && strcmp(spin_env, "0") == 0);
    char perr[256];
    if (!rt_cpu_place(s->nthreads, &s->place, perr, sizeof perr)) {
        rt_free(ctx, s);
        ctx->backend_data = NULL;
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "%s", perr);
    }
    pthread_mutex_init(&s->launch_mu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work_cv, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    s->scratch = rt_calloc(ctx, s->nthreads * sizeof *s->scratch);
    s->scratch_size = rt_calloc(ctx, s->nthreads * sizeof *s->scratch_size);
    s->threads = rt_calloc(ctx, s->nthreads * (sizeof *s->threads + sizeof(CpuWorker)));
    if (!s->scratch || !s->scratch_size || !s->threads) {
        s->nthreads = 0;
        cpu_fini(ctx);
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating the CPU thread pool");
    }
    CpuWorker *workers = (CpuWorker *)(s->threads + s->nthreads);
    for (uint32_t i = 1; i < s->nthreads; i++) {
        workers[i].s = s;
        workers[i].index = i;
        if (pthread_create(&s->threads[i - 1], NULL, worker_main, &workers[i]) != 0) {
            s->nthreads = i; /* run with the threads we got */
            break;
        }
    }
    ctx->num_threads = s->nthreads;
    return DCK_SUCCESS;
}

static void cpu_fini(dck_context ctx)
{
    CpuState *s = ctx->backend_data;
    if (!s) return;
    pthread_mutex_lock(&s->mu);
    atomic_store(&s->shutdown, true);
    pthread_cond_broadcast(&s->work_cv);
    pthread_mutex_unlock(&s->mu);
    for (uint32_t i = 1; i < s->nthreads; i++) pthread_join(s->threads[i - 1], NULL);
    if (s->scratch)
        for (uint32_t i = 0; i < s->nthreads; i++) rt_free(ctx, s->scratch[i]);
    rt_free(ctx, s->scratch);
    rt_free(ctx, s->scratch_size);
    rt_free(ctx, s->threads);
    pthread_cond_destroy(&s->work_cv);
    pthread_cond_destroy(&s->done_cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->launch_mu);
    rt_cpu_place_free(&s->place);
    rt_free(ctx, s);
    ctx->backend_data = NULL;
}

/* The cost slot of kernel fn: its own, or the one it will take over. */
static CpuCost *cost_slot(CpuState *s, dck_cpu_group_fn fn)
{
    uintptr_t h = (uintptr_t)fn;
    h ^= h >> 17;
    h *= 0x9e3779b97f4a7c15ull;
    return &s->cost[(h >> 32) % COST_SLOTS];
}

/* ---- buffers ---- */

static dck_status cpu_buffer_alloc(dck_context ctx, dck_buffer b)
{
    b->data = rt_pool_get(ctx->pool, b->size);
    if (!b->data)
        return rt_error(DCK_ERROR_OUT_OF_MEMORY,
                        "out of memory allocating a buffer of %llu bytes on '%s'",
                        (unsigned long long)b->size, ctx->device.info.name);
    return DCK_SUCCESS;
}

static void cpu_buffer_free(dck_context ctx, dck_buffer b)
{
    rt_pool_put(ctx->pool, b->data);
    b->data = NULL;
}

static dck_status cpu_buffer_write(dck_buffer b, uint64_t off, uint64_t size, const void *src)
{
    if (size) memcpy((char *)b->data + off, src, size);
    return DCK_SUCCESS;
}

static dck_status cpu_buffer_read(dck_buffer b, uint64_t off, uint64_t size, void *dst)
{
    if (size) memcpy(dst, (const char *)b->data + off, size);
    return DCK_SUCCESS;
}

/* ---- launch ---- */

static dck_status cpu_launch(dck_queue q, const RtLaunch *rl, dck_cpu_oob *oob, void **ev_out)
{
    dck_context ctx = q->ctx;
    (void)ev_out; /* synchronous: the core's host timestamps are the launch's */
    CpuState *s = ctx->backend_data;
    const dck_abi_kernel *k = rl->k;
    if (!k->cpu_group)
        return rt_error(DCK_ERROR_INVALID_MODULE, "kernel '%s' has no CPU code in this module",
                        rl->kernel_name);
    dck_cpu_launch l;
    memset(&l, 0, sizeof l);
    uint64_t ngroups = 1, items = 1;
    for (int d = 0; d < 3; d++) {
        l.global_size[d] = rl->global[d];
        l.local_size[d] = rl->local[d];
        l.num_groups[d] = rl->groups[d];
        ngroups *= rl->groups[d];
        items *= rl->local[d];
    }
    if (ngroups == 0) return DCK_SUCCESS;
    l.args = rl->args;
    l.oob = oob;
    const dck_abi_cpu_variant *v = pick_variant(s, k);
    if (v) /* per-gang private storage */
        items = (((uint64_t)rl->local[0] + v->gang - 1) / v->gang) * rl->local[1] * rl->local[2];
    size_t block = ((size_t)k->shared_bytes + RT_ALIGN - 1) / RT_ALIGN * RT_ALIGN +
                   (size_t)(v ? v->private_bytes : k->private_bytes) * (size_t)items;

    pthread_mutex_lock(&s->launch_mu);
    /* threads that may run groups: one when the launch is too small to pay for waking the
       pool (its groups, at this kernel's measured cost per group, take under INLINE_NS) */
    CpuCost *cost = cost_slot(s, k->cpu_group);
    uint32_t nthreads = ngroups > 1 ? s->nthreads : 1;
    if (nthreads > 1 && cost->fn == k->cpu_group) {
        double est = cost->ns_per_group * (double)ngroups;
        /* a parallel run overstates the cost (the wake-up is in it): a launch near the limit
           runs alone now and then, to measure it again */
        if (est < INLINE_NS || (est < 4.0 * INLINE_NS && ++cost->probe % 32 == 0)) nthreads = 1;
    }
    /* grow the scratch blocks here, on the calling thread (the allocator is only ever
       called from threads that call into the runtime) */
    for (uint32_t i = 0; i < nthreads && block; i++) {
        if (s->scratch_size[i] >= block) continue;
        void *p = rt_alloc_aligned(ctx, block, RT_ALIGN);
        if (!p) {
            pthread_mutex_unlock(&s->launch_mu);
            return rt_error(DCK_ERROR_OUT_OF_MEMORY,
                            "out of memory for %zu bytes of work-group memory "
                            "of kernel '%s'",
                            block, rl->kernel_name);
        }
        rt_free(ctx, s->scratch[i]);
        s->scratch[i] = p;
        s->scratch_size[i] = block;
    }
    CpuJob job;
    job.fn = v ? v->fn : k->cpu_group;
    job.launch = &l;
    job.ngroups = ngroups;
    /* shared memory starts zeroed (dck_abi.h); a SIMD variant's per-gang state after it is
       written before it is read (a gang restores only what it saved at a barrier), and
       zeroing it would cost more than the group's own work on small groups */
    /* 2-D launches of barrier kernels (shared-memory tiles: transposes, matrix products read
       a row and a column of tiles) run their groups in bands of 16 group rows, column by
       column inside a band, as GPU libraries swizzle thread blocks: the tiles in flight then
       share pages and cache lines of both (transpose: 1.6x here); a plain kernel keeps the
       linear order, which streams its rows */
    job.band = (k->flags & DCK_ABI_KERNEL_BARRIER) && l.num_groups[1] > 1 ? 16 : 0;
    job.block_bytes = v ? ((size_t)k->shared_bytes + RT_ALIGN - 1) / RT_ALIGN * RT_ALIGN : block;
    uint64_t chunk = ngroups / ((uint64_t)nthreads * 8);
    job.chunk = chunk ? chunk : 1;
    job_parts(&job, s->place.nnodes);
    uint64_t t0 = mono_ns();
    if (nthreads <= 1) {
        run_groups(&job, s->scratch[0], 0);
    } else {
        s->job = &job;
        atomic_store_explicit(&s->pending, s->nthreads - 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->generation, 1, memory_order_release);
        pthread_mutex_lock(&s->mu); /* spinning workers have seen the job; wake the others */
        if (s->sleepers) pthread_cond_broadcast(&s->work_cv);
        pthread_mutex_unlock(&s->mu);
        run_groups(&job, s->scratch[0], 0);
        uint64_t start = s->spin ? mono_ns() : 0;
        for (uint32_t i = 1; s->spin && atomic_load_explicit(&s->pending, memory_order_acquire);
             i++) {
            spin_pause(i);
            if (!(i & 63) && mono_ns() - start > SPIN_NS) break;
        }
        pthread_mutex_lock(&s->mu);
        while (atomic_load_explicit(&s->pending, memory_order_acquire))
            pthread_cond_wait(&s->done_cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
        s->job = NULL;
    }
    /* the cost per group, as one thread would see it: a running average per kernel */
    double per = (double)(mono_ns() - t0) * nthreads / (double)ngroups;
    if (cost->fn != k->cpu_group) {
        cost->fn = k->cpu_group;
        cost->ns_per_group = per;
        cost->probe = 0;
    } else if (nthreads == 1) { /* the true cost: take it as it is */
        cost->ns_per_group = per;
    } else {
        cost->ns_per_group = 0.75 * cost->ns_per_group + 0.25 * per;
    }
    pthread_mutex_unlock(&s->launch_mu);
    return DCK_SUCCESS;
}

static dck_status cpu_module_from_source(dck_context ctx, const char *path, const char *source,
                                         const dck_module_options *o, dck_module m);

/* A package's "c" blob: the CPU code compiled into the program for this package
 * (dck_register_cpu_code), else the C text JIT-compiled like a module from source. The
 * module is re-bound to the compiled tables (the same reflection, plus cpu_group). */
static dck_status cpu_module_load(dck_context ctx, const RtPackage *pkg, const RtBlob *blob,
                                  dck_module m)
{
    const dck_abi_module *aot = pkg ? rt_package_aot_cpu(pkg->checksum) : NULL;
    rt_free(ctx, m->kernels);
    m->kernels = NULL;
    m->nkernels = 0;
    if (aot) return rt_module_bind(m, aot);
    if (strcmp(blob->target, "c") != 0)
        return rt_error(DCK_ERROR_UNSUPPORTED, "backend 'cpu' cannot load target '%s'",
                        blob->target);
    const char *src = pkg && pkg->abi.source_name ? pkg->abi.source_name : "<package>";
    return rt_jit_load(ctx, src, (const char *)blob->data, (size_t)blob->size, m);
}

const RtBackend rt_backend_cpu = {
    .name = "cpu",
    .id = DCK_BACKEND_CPU,
    .targets = "c",
    .enumerate = cpu_enumerate,
    .init = cpu_init,
    .fini = cpu_fini,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .buffer_write = cpu_buffer_write,
    .buffer_read = cpu_buffer_read,
    .module_from_source = cpu_module_from_source,
    .module_load = cpu_module_load,
    .launch = cpu_launch,
};

/* .dck -> C (the compiler library) -> shared object (jit.c) */
static dck_status cpu_module_from_source(dck_context ctx, const char *path, const char *source,
                                         const dck_module_options *o, dck_module m)
{
    DckcOptions opts;
    dckc_options_init(&opts);
    const char **defs = NULL, **incs = NULL;
    dck_status ost = rt_dckc_options(ctx, path, o, &opts, &defs, &incs);
    if (ost) return ost;
    /* SIMD variants: those DCK_CPU_ISA names (checked in cpu_init), else this CPU's widest */
    const char *isa = getenv("DCK_CPU_ISA");
    opts.cpu_isa = isa && *isa ? isa : "native";
    DckcResult res;
    memset(&res, 0, sizeof res);
    DckcStatus cs = dckc_compile(path, source, &opts, "c", DCKC_EMIT_SOURCE, &res);
    rt_free(ctx, defs);
    rt_free(ctx, incs);
    dck_status st;
    if (cs != DCKC_OK || !res.output) {
        const char *diag = res.diagnostics ? res.diagnostics : "";
        size_t n = strlen(diag);
        while (n && diag[n - 1] == '\n') n--;
        st = rt_error(cs == DCKC_INTERNAL ? DCK_ERROR_JIT : DCK_ERROR_COMPILE,
                      "%s '%s' for device '%s':\n%.*s",
                      cs == DCKC_INTERNAL ? "internal compiler error compiling" : "cannot compile",
                      path, ctx->device.info.name, (int)n, diag);
    } else {
        st = rt_jit_load(ctx, path, res.output, res.output_len, m);
    }
    dckc_result_free(&res);
    return st;
}
