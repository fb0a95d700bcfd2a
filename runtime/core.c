/* core.c: errors, contexts, devices, buffers, queues, events, traces.
 *
 * The backend-independent half of libdckrt. Device work goes through ctx->backend (rt.h).
 * Thread safety: object lists and the trace are guarded by ctx->mu; distinct objects may be
 * used from distinct threads; one buffer must not be written by two threads at once.
 */
#include "rt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- errors ---- */

/* The per-thread last-error message (the runtime's only mutable global state). */
static _Thread_local char tls_error[16384];

const char *dck_last_error(void) { return tls_error; }

dck_status rt_error(dck_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls_error, sizeof tls_error, fmt, ap);
    va_end(ap);
    return st;
}

void rt_error_prefix(const char *fmt, ...)
{
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix - 2, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t plen = strlen(prefix);
    memcpy(prefix + plen, ": ", 3);
    plen += 2;
    size_t old = strlen(tls_error);
    if (old > sizeof tls_error - 1 - plen) old = sizeof tls_error - 1 - plen;
    memmove(tls_error + plen, tls_error, old);
    memcpy(tls_error, prefix, plen);
    tls_error[plen + old] = 0;
}

void rt_error_suffix(const char *fmt, ...)
{
    size_t len = strlen(tls_error);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls_error + len, sizeof tls_error - len, fmt, ap);
    va_end(ap);
}

void rt_warn(const char *fmt, ...)
{
    const char *quiet = getenv("DCK_QUIET");
    if (quiet && strcmp(quiet, "1") == 0) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "dck: warning: %s\n", msg);
}

const char *dck_status_string(dck_status s)
{
    switch (s) {
// clang-format off
#define S(x) case x: return #x;
    S(DCK_SUCCESS) S(DCK_ERROR_INVALID_ARGUMENT) S(DCK_ERROR_OUT_OF_MEMORY)
    S(DCK_ERROR_BACKEND_UNAVAILABLE) S(DCK_ERROR_DEVICE_NOT_FOUND) S(DCK_ERROR_BUFFER_TOO_LARGE)
    S(DCK_ERROR_OUT_OF_RANGE) S(DCK_ERROR_COMPILE) S(DCK_ERROR_JIT) S(DCK_ERROR_INVALID_MODULE)
    S(DCK_ERROR_NOT_FOUND) S(DCK_ERROR_ARGUMENT_COUNT) S(DCK_ERROR_ARGUMENT_TYPE)
    S(DCK_ERROR_INVALID_RANGE) S(DCK_ERROR_OUT_OF_BOUNDS) S(DCK_ERROR_ALIASING)
    S(DCK_ERROR_INVALID_PROGRAM) S(DCK_ERROR_IO) S(DCK_ERROR_UNSUPPORTED)
    S(DCK_ERROR_BUFFER_MAPPED)
#undef S
        // clang-format on
    }
    return "DCK_ERROR_UNKNOWN";
}

/* ---- allocation ---- */

static void *default_alloc(void *user, size_t size, size_t align)
{
    (void)user;
    void *p = NULL;
    if (align < sizeof(void *)) align = sizeof(void *);
    if (posix_memalign(&p, align, size ? size : 1) != 0) return NULL;
    return p;
}

static void default_free(void *user, void *p)
{
    (void)user;
    free(p);
}

void *rt_alloc_aligned(dck_context ctx, size_t size, size_t align)
{
    return ctx->alloc.alloc(ctx->alloc.user_data, size ? size : 1, align);
}

void *rt_alloc(dck_context ctx, size_t size) { return rt_alloc_aligned(ctx, size, 16); }

void *rt_calloc(dck_context ctx, size_t size)
{
    void *p = rt_alloc(ctx, size);
    if (p) memset(p, 0, size);
    return p;
}

void rt_free(dck_context ctx, void *p)
{
    if (p) ctx->alloc.free(ctx->alloc.user_data, p);
}

char *rt_strdup(dck_context ctx, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = rt_alloc(ctx, n);
    if (d) memcpy(d, s, n);
    return d;
}

uint64_t rt_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- types ---- */

const char *rt_type_name(dck_type t)
{
    static const char *const names[] = {"bool", "char", "uchar", "short", "ushort", "int",
                                        "uint", "long", "ulong", "half",  "float",  "double"};
    if ((unsigned)t < sizeof names / sizeof names[0]) return names[t];
    return t == DCK_TYPE_STRUCT ? "struct" : "untyped value";
}

uint32_t rt_type_size(dck_type t)
{
    static const uint8_t sizes[] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 4, 8};
    if ((unsigned)t < sizeof sizes) return sizes[t];
    return 0;
}

/* Is t one of the dck_type codes? */
bool rt_type_valid(dck_type t)
{
    return (unsigned)t <= DCK_TYPE_F64 || t == DCK_TYPE_STRUCT || t == DCK_TYPE_UNKNOWN;
}

dck_status rt_check_next(const void *next, const char *fn, const char *desc)
{
    if (!next) return DCK_SUCCESS;
    return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                    "%s: %s->next must be NULL (this version of the runtime defines no extension "
                    "structures)",
                    fn, desc);
}

/* ---- backends ---- */

/* In the order DCK_BACKEND_AUTO prefers them: CUDA, OpenCL (GPU devices), Vulkan (GPU
 * devices), Metal, then the CPU. GPU APIs whose device is the CPU itself (PoCL, lavapipe)
 * are never picked by auto: the native CPU backend runs the same kernels faster. */
static const RtBackend *const backends[] = {
#ifdef DCK_HAVE_CUDA_BACKEND
    &rt_backend_cuda,
#endif
#ifdef DCK_HAVE_OPENCL_BACKEND
    &rt_backend_opencl,
#endif
#ifdef DCK_HAVE_VULKAN_BACKEND
    &rt_backend_vulkan,
#endif
#ifdef DCK_HAVE_METAL_BACKEND
    &rt_backend_metal,
#endif
    &rt_backend_cpu,
};
static const char *const backend_names[] = {"auto", "cpu", "cuda", "opencl", "vulkan", "metal"};

dck_status dck_backend_from_name(const char *name, dck_backend *out)
{
    if (!name || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_backend_from_name: NULL argument");
    for (int i = 0; i < 6; i++)
        if (strcmp(name, backend_names[i]) == 0) {
            *out = (dck_backend)i;
            return DCK_SUCCESS;
        }
    return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                    "unknown backend '%s' (expected auto, cpu, cuda, opencl, vulkan or metal)",
                    name);
}

static const RtBackend *find_backend(dck_backend id)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (backends[i]->id == id) return backends[i];
    return NULL;
}

static dck_status backend_unavailable(dck_backend id)
{
    const char *n = (unsigned)id < 6 ? backend_names[id] : "?";
#ifndef __APPLE__
    if (id == DCK_BACKEND_METAL)
        return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE,
                        "backend 'metal' is not available in this build: "
                        "Metal is available only on Apple platforms");
#endif
    char list[96] = "";
    size_t len = 0;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                backends[i]->name);
    return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE,
                    "backend '%s' is not available in this build "
                    "(built in: %s)",
                    n, list);
}

dck_status dck_backend_available(dck_backend id)
{
    if ((unsigned)id > DCK_BACKEND_METAL)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_backend_available: unknown backend %d",
                        (int)id);
    if (id == DCK_BACKEND_AUTO) return DCK_SUCCESS; /* the CPU is always there */
    const RtBackend *b = find_backend(id);
    if (!b) return backend_unavailable(id);
    uint32_t n = 0;
    dck_status st = b->enumerate(&n, NULL);
    if (st) {
        rt_error_prefix("backend '%s' is unavailable", b->name);
        return DCK_ERROR_BACKEND_UNAVAILABLE;
    }
    if (!n)
        return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE,
                        "backend '%s' is unavailable: its driver reports no "
                        "device",
                        b->name);
    return DCK_SUCCESS;
}

dck_status dck_enumerate_devices(dck_backend backend, uint32_t *count, dck_device_info *infos)
{
    if (!count) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_enumerate_devices: count is NULL");
    if ((unsigned)backend > DCK_BACKEND_METAL)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_enumerate_devices: unknown backend %d",
                        (int)backend);
    uint32_t cap = infos ? *count : 0, n = 0;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        const RtBackend *b = backends[i];
        if (backend != DCK_BACKEND_AUTO && b->id != backend) continue;
        uint32_t bn = 0;
        dck_status st = b->enumerate(&bn, NULL);
        if (st != DCK_SUCCESS) continue; /* a backend whose driver is missing has no devices */
        if (infos) {
            uint32_t room = cap - n < bn ? cap - n : bn;
            if (room && (st = b->enumerate(&room, infos + n)) != DCK_SUCCESS) return st;
            bn = room;
        }
        n += bn;
    }
    *count = n;
    return DCK_SUCCESS;
}

/* DCK_BACKEND_AUTO: the first non-CPU device of the GPU backends in preference order, else
 * the CPU backend; device_index > 0 asks for that index on the first backend that has it. */
static const RtBackend *pick_auto(uint32_t index, uint32_t *dev_out, char *why, size_t whylen)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        const RtBackend *b = backends[i];
        if (b->id == DCK_BACKEND_CPU) break;
        uint32_t n = 0;
        if (b->enumerate(&n, NULL) != DCK_SUCCESS || !n) continue;
        dck_device_info infos[16];
        if (n > 16) n = 16;
        if (b->enumerate(&n, infos) != DCK_SUCCESS) continue;
        for (uint32_t d = 0; d < n; d++) {
            if (index ? d != index : infos[d].device_type != DCK_DEVICE_GPU) continue;
            *dev_out = d;
            snprintf(why, whylen,
                     "picked %s:%u (%s), the first GPU in the order cuda, opencl, vulkan, cpu",
                     b->name, d, infos[d].name);
            return b;
        }
    }
    const RtBackend *cpu = &rt_backend_cpu;
    *dev_out = index;
    snprintf(why, whylen, "picked cpu: no CUDA, OpenCL or Vulkan GPU present");
    return cpu;
}

/* ---- contexts ---- */

dck_status dck_context_create(const dck_context_desc *desc, dck_context *out)
{
    static const dck_context_desc defaults = {0};
    if (!out) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_context_create: out is NULL");
    *out = NULL;
    if (!desc) desc = &defaults;
    dck_status cst = rt_check_next(desc->next, "dck_context_create", "desc");
    if (cst) return cst;
    if (desc->flags & ~DCK_CONTEXT_CHECKED)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_context_create: desc->flags 0x%x has unknown bits 0x%x (the only flag "
                        "is DCK_CONTEXT_CHECKED)",
                        desc->flags, desc->flags & ~DCK_CONTEXT_CHECKED);
    if (desc->num_threads > RT_MAX_THREADS)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_context_create: desc->num_threads is %u; the most is %u (0: "
                        "$DCK_NUM_THREADS, else the online cores)",
                        desc->num_threads, RT_MAX_THREADS);
    dck_backend id = desc->backend;
    if (desc->backend_name) {
        dck_status st = dck_backend_from_name(desc->backend_name, &id);
        if (st) return st;
    }
    if ((unsigned)id > DCK_BACKEND_METAL)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_context_create: unknown backend %d",
                        (int)id);
    const RtBackend *b = NULL;
    uint32_t dev_index = desc->device_index;
    char why[160] = "";
    if (id == DCK_BACKEND_AUTO) {
        b = pick_auto(desc->device_index, &dev_index, why, sizeof why);
    } else if (!(b = find_backend(id))) {
        return backend_unavailable(id);
    } else if (b->id != DCK_BACKEND_CPU) {
        uint32_t n = 0;
        dck_status st = b->enumerate(&n, NULL);
        if (st) {
            rt_error_prefix("backend '%s' is unavailable", b->name);
            return DCK_ERROR_BACKEND_UNAVAILABLE;
        }
        if (dev_index >= n)
            return rt_error(DCK_ERROR_DEVICE_NOT_FOUND,
                            "backend '%s' has %u device%s; index %u does not exist", b->name, n,
                            n == 1 ? "" : "s", dev_index);
    }
    if (desc->allocator && (!desc->allocator->alloc || !desc->allocator->free))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_context_create: allocator without alloc or free");

    dck_allocator al =
        desc->allocator ? *desc->allocator : (dck_allocator){default_alloc, default_free, NULL};
    dck_context ctx = al.alloc(al.user_data, sizeof *ctx, 64);
    if (!ctx) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a context");
    memset(ctx, 0, sizeof *ctx);
    ctx->alloc = al;
    ctx->backend = b;
    ctx->flags = desc->flags;
    ctx->num_threads = desc->num_threads;
    ctx->t0_ns = rt_now_ns();
    ctx->device.ctx = ctx;
    snprintf(ctx->auto_reason, sizeof ctx->auto_reason, "%s", why);
    pthread_mutex_init(&ctx->mu, NULL);
    pthread_mutex_init(&ctx->jit_mu, NULL);

    const char *tp = desc->trace_path ? desc->trace_path : getenv("DCK_TRACE");
    dck_status st = DCK_SUCCESS;
    if (tp && *tp && !(ctx->trace_path = rt_strdup(ctx, tp)))
        st = rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a context");
    if (!st) st = rt_pool_create(ctx, &ctx->pool);
    if (!st) st = b->init(ctx, dev_index);
    if (st) {
        if (ctx->pool) rt_pool_destroy(ctx->pool);
        rt_free(ctx, ctx->trace_path);
        pthread_mutex_destroy(&ctx->mu);
        pthread_mutex_destroy(&ctx->jit_mu);
        al.free(al.user_data, ctx);
        return st;
    }
    *out = ctx;
    return DCK_SUCCESS;
}

void rt_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static dck_status write_trace(dck_context ctx)
{
    FILE *f = fopen(ctx->trace_path, "w");
    if (!f)
        return rt_error(DCK_ERROR_IO, "cannot write trace file '%s': %s", ctx->trace_path,
                        strerror(errno));
    long pid = (long)getpid();
    fprintf(f, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
    fprintf(f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%ld,\"tid\":0,\"args\":{\"name\":",
            pid);
    char pname[160];
    snprintf(pname, sizeof pname, "dck %s: %s", ctx->backend->name, ctx->device.info.name);
    rt_json_string(f, pname);
    fprintf(f, "}}");
    for (size_t i = 0; i < ctx->ntrace; i++) {
        const RtTraceEvent *e = &ctx->trace[i];
        fprintf(f, ",\n{\"name\":");
        rt_json_string(f, e->name);
        fprintf(
            f,
            ",\"cat\":\"%s\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,\"pid\":%ld,\"tid\":%u,\"args\":{",
            e->cat, (double)(e->start_ns - ctx->t0_ns) / 1000.0,
            (double)(e->end_ns - e->start_ns) / 1000.0, pid, e->tid);
        if (strcmp(e->cat, "transfer") == 0)
            fprintf(f, "\"bytes\":%llu", (unsigned long long)e->bytes);
        else
            fprintf(f, "\"global\":[%u,%u,%u]", e->global[0], e->global[1], e->global[2]);
        fprintf(f, "}}");
    }
    fprintf(f, "\n]}\n");
    if (fclose(f) != 0)
        return rt_error(DCK_ERROR_IO, "cannot write trace file '%s'", ctx->trace_path);
    return DCK_SUCCESS;
}

/* Makes room for one more element in a trace array of len elements (capacity doubles from
 * first); false when out of memory. */
static bool grow(dck_context ctx, void **data, size_t *cap, size_t len, size_t elem, size_t first)
{
    if (len < *cap) return true;
    size_t ncap = *cap ? *cap * 2 : first;
    void *t = rt_alloc(ctx, ncap * elem);
    if (!t) return false;
    if (len) memcpy(t, *data, len * elem);
    rt_free(ctx, *data);
    *data = t;
    *cap = ncap;
    return true;
}

void rt_trace(dck_context ctx, const char *cat, const char *name, uint64_t start, uint64_t end,
              uint64_t bytes, const uint32_t *global)
{
    if (!ctx->trace_path) return;
    pthread_mutex_lock(&ctx->mu);
    if (!grow(ctx, (void **)&ctx->trace, &ctx->trace_cap, ctx->ntrace, sizeof *ctx->trace, 256)) {
        pthread_mutex_unlock(&ctx->mu); /* drop the event rather than fail the operation */
        return;
    }
    RtTraceEvent *e = &ctx->trace[ctx->ntrace++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    e->cat = cat;
    e->start_ns = start;
    e->end_ns = end;
    e->bytes = bytes;
    if (global) memcpy(e->global, global, sizeof e->global);
    e->tid = 1;
    pthread_mutex_unlock(&ctx->mu);
}

/* ---- device events and deferred trace records ---- */

RtDevEvent *rt_devev_wrap(dck_context ctx, void *bev)
{
    if (!bev) return NULL;
    RtDevEvent *d = rt_calloc(ctx, sizeof *d);
    if (!d) {
        if (ctx->backend->event_release) ctx->backend->event_release(ctx, bev);
        return NULL;
    }
    d->bev = bev;
    d->refs = 1;
    return d;
}

RtDevEvent *rt_devev_ref(dck_context ctx, RtDevEvent *d)
{
    if (!d) return NULL;
    pthread_mutex_lock(&ctx->mu);
    d->refs++;
    pthread_mutex_unlock(&ctx->mu);
    return d;
}

void rt_devev_unref(dck_context ctx, RtDevEvent *d)
{
    if (!d) return;
    pthread_mutex_lock(&ctx->mu);
    bool last = --d->refs == 0;
    pthread_mutex_unlock(&ctx->mu);
    if (!last) return;
    if (ctx->backend->event_release) ctx->backend->event_release(ctx, d->bev);
    rt_free(ctx, d);
}

dck_status rt_devev_span(dck_context ctx, RtDevEvent *first, RtDevEvent *last, uint64_t *start,
                         uint64_t *end)
{
    uint64_t s0 = 0, e0 = 0, s1 = 0, e1 = 0;
    dck_status st = DCK_SUCCESS;
    /* both complete first: a backend may refine its device-to-host clock mapping as events
       complete, and both ends must be mapped alike */
    if (ctx->backend->event_wait) {
        st = ctx->backend->event_wait(ctx, last->bev);
        if (!st && first != last) st = ctx->backend->event_wait(ctx, first->bev);
    }
    if (!st) st = ctx->backend->event_times(ctx, first->bev, &s0, &e0);
    if (!st && first != last) st = ctx->backend->event_times(ctx, last->bev, &s1, &e1);
    if (st) return st;
    if (first == last) e1 = e0;
    *start = s0;
    *end = e1 > s0 ? e1 : s0;
    return DCK_SUCCESS;
}

void rt_trace_device(dck_context ctx, dck_queue q, const char *cat, const char *name,
                     const uint32_t *global, RtDevEvent *first, RtDevEvent *last)
{
    if (!ctx->trace_path || !first || !last) return;
    pthread_mutex_lock(&ctx->mu);
    if (!grow(ctx, (void **)&ctx->tpend, &ctx->tpend_cap, ctx->ntpend, sizeof *ctx->tpend, 64)) {
        pthread_mutex_unlock(&ctx->mu); /* drop the record rather than fail the operation */
        return;
    }
    RtTracePending *p = &ctx->tpend[ctx->ntpend++];
    memset(p, 0, sizeof *p);
    snprintf(p->e.name, sizeof p->e.name, "%s", name);
    p->e.cat = cat;
    if (global) memcpy(p->e.global, global, sizeof p->e.global);
    p->q = q;
    p->first = first;
    p->last = last;
    first->refs++;
    last->refs++;
    size_t n = ctx->ntpend;
    pthread_mutex_unlock(&ctx->mu);
    /* a program that never finishes its queues: bound the records kept (this waits) */
    if (n >= 4096) rt_trace_resolve(ctx, NULL);
}

void rt_trace_resolve(dck_context ctx, dck_queue q)
{
    pthread_mutex_lock(&ctx->mu);
    size_t n = 0;
    for (size_t i = 0; i < ctx->ntpend; i++) n += !q || ctx->tpend[i].q == q;
    RtTracePending *mine = n ? rt_alloc(ctx, n * sizeof *mine) : NULL;
    size_t k = 0, keep = 0;
    if (mine)
        for (size_t i = 0; i < ctx->ntpend; i++) {
            if (!q || ctx->tpend[i].q == q)
                mine[k++] = ctx->tpend[i];
            else
                ctx->tpend[keep++] = ctx->tpend[i];
        }
    if (mine) ctx->ntpend = keep;
    pthread_mutex_unlock(&ctx->mu);
    /* every event completes before any is mapped: the records share one clock mapping */
    for (size_t i = 0; i < k && ctx->backend->event_wait; i++) {
        ctx->backend->event_wait(ctx, mine[i].last->bev);
        if (mine[i].first != mine[i].last) ctx->backend->event_wait(ctx, mine[i].first->bev);
    }
    for (size_t i = 0; i < k; i++) {
        RtTracePending *p = &mine[i];
        uint64_t s = 0, e = 0;
        if (rt_devev_span(ctx, p->first, p->last, &s, &e) == DCK_SUCCESS)
            rt_trace(ctx, p->e.cat, p->e.name, s, e, 0, p->e.global);
        rt_devev_unref(ctx, p->first);
        rt_devev_unref(ctx, p->last);
    }
    rt_free(ctx, mine);
}

dck_status dck_context_destroy(dck_context ctx)
{
    if (!ctx) return DCK_SUCCESS;
    while (ctx->events) dck_event_destroy(ctx->events);
    while (ctx->queues) dck_queue_destroy(ctx->queues);
    rt_trace_resolve(ctx, NULL);
    while (ctx->modules) dck_module_destroy(ctx->modules);
    while (ctx->buffers) dck_buffer_destroy(ctx->buffers);
    dck_status st = ctx->trace_path ? write_trace(ctx) : DCK_SUCCESS;
    ctx->backend->fini(ctx);
    rt_pool_destroy(ctx->pool);
    rt_free(ctx, ctx->trace);
    rt_free(ctx, ctx->tpend);
    rt_free(ctx, ctx->trace_path);
    rt_free(ctx, ctx->jit_cc);
    rt_free(ctx, ctx->jit_flags);
    pthread_mutex_destroy(&ctx->mu);
    pthread_mutex_destroy(&ctx->jit_mu);
    dck_allocator al = ctx->alloc;
    al.free(al.user_data, ctx);
    return st;
}

dck_status dck_context_get_device(dck_context ctx, dck_device *out)
{
    if (!ctx || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_context_get_device: NULL argument");
    *out = &ctx->device;
    return DCK_SUCCESS;
}

dck_status dck_context_get_auto_reason(dck_context ctx, const char **out)
{
    if (!ctx || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_context_get_auto_reason: NULL argument");
    *out = ctx->auto_reason;
    return DCK_SUCCESS;
}

dck_status dck_device_get_info(dck_device dev, dck_device_info *out)
{
    if (!dev || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_device_get_info: NULL argument");
    *out = dev->info;
    return DCK_SUCCESS;
}

dck_status dck_context_get_pool_stats(dck_context ctx, dck_pool_stats *out)
{
    if (!ctx || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_context_get_pool_stats: NULL argument");
    rt_pool_stats(ctx->pool, out);
    return DCK_SUCCESS;
}

dck_status dck_context_trim_pool(dck_context ctx)
{
    if (!ctx) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_context_trim_pool: ctx is NULL");
    rt_pool_trim(ctx->pool);
    return DCK_SUCCESS;
}

/* ---- object lists ---- */
#define LIST_LINK(head, o)            \
    do {                              \
        (o)->prev = NULL;             \
        (o)->next = (head);           \
        if (head) (head)->prev = (o); \
        (head) = (o);                 \
    } while (0)
#define LIST_UNLINK(head, o)                        \
    do {                                            \
        if ((o)->prev)                              \
            (o)->prev->next = (o)->next;            \
        else                                        \
            (head) = (o)->next;                     \
        if ((o)->next) (o)->next->prev = (o)->prev; \
    } while (0)

/* ---- buffers ---- */

dck_status rt_buffer_new(dck_context ctx, const dck_buffer_desc *d, dck_buffer *out)
{
    *out = NULL;
    uint32_t vec = d->vec ? d->vec : 1;
    if (vec > 4)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "buffer: vec must be 1..4 (got %u)", vec);
    uint32_t es = d->elem_size;
    if (!es) {
        uint32_t ts = rt_type_size(d->type);
        if (!ts)
            return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                            "buffer: elem_size is 0 and type %d has no known size", (int)d->type);
        es = ts * (vec == 3 ? 4 : vec);
    }
    uint64_t size = d->size, count;
    if (size) {
        if (size % es)
            return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                            "buffer size %llu is not a multiple of the element size %u",
                            (unsigned long long)size, es);
        count = size / es;
    } else {
        count = d->count;
        if (count > UINT64_MAX / es)
            return rt_error(DCK_ERROR_BUFFER_TOO_LARGE,
                            "buffer of %llu elements of %u bytes is too large",
                            (unsigned long long)count, es);
        size = count * es;
    }
    if (count > DCK_MAX_BUFFER_ELEMENTS)
        return rt_error(DCK_ERROR_BUFFER_TOO_LARGE,
                        "buffer%s%s%s of %llu elements exceeds the limit of "
                        "4294967295 (2^32-1) elements per buffer",
                        d->name ? " '" : "", d->name ? d->name : "", d->name ? "'" : "",
                        (unsigned long long)count);
    dck_buffer b = rt_calloc(ctx, sizeof *b);
    if (!b) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a buffer");
    b->ctx = ctx;
    b->size = size;
    b->count = count;
    b->elem_size = es;
    b->vec = vec;
    b->type = d->type;
    if (d->elem_size && d->type != DCK_TYPE_STRUCT &&
        rt_type_size(d->type) * (vec == 3 ? 4 : vec) != es)
        b->type = DCK_TYPE_UNKNOWN; /* elem_size given without a matching type */
    if (d->name && !(b->name = rt_strdup(ctx, d->name))) {
        rt_free(ctx, b);
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a buffer");
    }
    dck_status st = ctx->backend->buffer_alloc(ctx, b);
    if (st) {
        rt_free(ctx, b->name);
        rt_free(ctx, b);
        return st;
    }
    if (d->initial_data && size && (st = ctx->backend->buffer_write(b, 0, size, d->initial_data))) {
        ctx->backend->buffer_free(ctx, b);
        rt_free(ctx, b->name);
        rt_free(ctx, b);
        return st;
    }
    pthread_mutex_lock(&ctx->mu);
    LIST_LINK(ctx->buffers, b);
    pthread_mutex_unlock(&ctx->mu);
    *out = b;
    return DCK_SUCCESS;
}

/* What rt_buffer_new leaves to the public call: a descriptor that contradicts itself. */
static dck_status check_buffer_desc(const dck_buffer_desc *d)
{
    dck_status st = rt_check_next(d->next, "dck_buffer_create", "desc");
    if (st) return st;
    if (!rt_type_valid(d->type))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_buffer_create: desc->type %d is not a dck_type", (int)d->type);
    uint32_t vec = d->vec ? d->vec : 1;
    if (vec > 4)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_buffer_create: desc->vec must be 0..4 (got %u)", d->vec);
    uint32_t ts = rt_type_size(d->type), es = ts * (vec == 3 ? 4 : vec);
    /* DCK_TYPE_BOOL is 0, what a zeroed descriptor holds: with another elem_size it stays the
       untyped buffer it always was; any other scalar type must agree with elem_size */
    if (d->elem_size && ts && d->type != DCK_TYPE_BOOL && d->elem_size != es)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_buffer_create: desc->elem_size is %u, but desc->type %s with vec %u "
                        "has %u-byte elements (DCK_TYPE_UNKNOWN describes other sizes)",
                        d->elem_size, rt_type_name(d->type), vec, es);
    if ((d->type == DCK_TYPE_STRUCT || d->type == DCK_TYPE_UNKNOWN) && !d->elem_size)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_buffer_create: desc->type %s needs desc->elem_size",
                        d->type == DCK_TYPE_STRUCT ? "DCK_TYPE_STRUCT" : "DCK_TYPE_UNKNOWN");
    if (d->size && d->count) {
        uint64_t esz = d->elem_size ? d->elem_size : es;
        if (d->count > UINT64_MAX / esz || d->count * esz != d->size)
            return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                            "dck_buffer_create: desc->size (%llu bytes) and desc->count (%llu "
                            "elements of %llu bytes) disagree; give one of them",
                            (unsigned long long)d->size, (unsigned long long)d->count,
                            (unsigned long long)esz);
    }
    return DCK_SUCCESS;
}

dck_status dck_buffer_create(dck_context ctx, const dck_buffer_desc *desc, dck_buffer *out)
{
    if (out) *out = NULL;
    if (!ctx || !desc || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_buffer_create: %s is NULL",
                        !ctx    ? "ctx"
                        : !desc ? "desc"
                                : "out");
    dck_status st = check_buffer_desc(desc);
    if (st) return st;
    return rt_buffer_new(ctx, desc, out);
}

dck_status dck_buffer_create_bytes(dck_context ctx, uint64_t size_bytes, uint32_t elem_size,
                                   dck_buffer *out)
{
    if (out) *out = NULL;
    if (!ctx || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_buffer_create_bytes: NULL argument");
    if (!elem_size)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_buffer_create_bytes: elem_size is 0");
    dck_buffer_desc d = {0};
    d.size = size_bytes;
    d.elem_size = elem_size;
    d.type = DCK_TYPE_UNKNOWN;
    if (!size_bytes) d.count = 0;
    return rt_buffer_new(ctx, &d, out);
}

dck_status dck_buffer_create_elems(dck_context ctx, dck_type type, uint64_t count, dck_buffer *out)
{
    if (out) *out = NULL;
    if (!ctx || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_buffer_create_elems: NULL argument");
    if (!rt_type_size(type))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_buffer_create_elems: type %d is not a scalar dck_type (structs and "
                        "untyped buffers: dck_buffer_create with an elem_size)",
                        (int)type);
    dck_buffer_desc d = {0};
    d.count = count;
    d.type = type;
    return rt_buffer_new(ctx, &d, out);
}

dck_status dck_buffer_destroy(dck_buffer b)
{
    if (!b) return DCK_SUCCESS;
    dck_context ctx = b->ctx;
    pthread_mutex_lock(&ctx->mu);
    LIST_UNLINK(ctx->buffers, b);
    pthread_mutex_unlock(&ctx->mu);
    ctx->backend->buffer_free(ctx, b);
    rt_free(ctx, b->name);
    rt_free(ctx, b);
    return DCK_SUCCESS;
}

dck_status dck_buffer_get_info(dck_buffer b, dck_buffer_info *out)
{
    if (!b || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_buffer_get_info: NULL argument");
    memset(out, 0, sizeof *out);
    out->size = b->size;
    out->count = b->count;
    out->elem_size = b->elem_size;
    out->type = b->type;
    out->vec = b->vec;
    out->name = b->name;
    return DCK_SUCCESS;
}

static dck_status check_span(dck_buffer b, uint64_t off, uint64_t size, const char *what)
{
    if (off > b->size || size > b->size - off)
        return rt_error(DCK_ERROR_OUT_OF_RANGE,
                        "%s of %llu bytes at offset %llu is outside buffer%s%s%s "
                        "of %llu bytes",
                        what, (unsigned long long)size, (unsigned long long)off,
                        b->name ? " '" : "", b->name ? b->name : "", b->name ? "'" : "",
                        (unsigned long long)b->size);
    if (b->mapped)
        return rt_error(DCK_ERROR_BUFFER_MAPPED, "%s: buffer%s%s%s is mapped", what,
                        b->name ? " '" : "", b->name ? b->name : "", b->name ? "'" : "");
    return DCK_SUCCESS;
}

const char *rt_buffer_label(dck_buffer b, char *out, size_t n)
{
    if (b->name)
        snprintf(out, n, " '%s'", b->name);
    else if (n)
        out[0] = 0;
    return out;
}

dck_status rt_finish_all(dck_context ctx)
{
    if (!ctx->backend->queue_finish) return DCK_SUCCESS;
    dck_status first = DCK_SUCCESS;
    pthread_mutex_lock(&ctx->mu);
    for (dck_queue q = ctx->queues; q; q = q->next) {
        dck_status st = ctx->backend->queue_finish(q);
        if (st && !q->first_error) q->first_error = st; /* reported again by dck_queue_finish */
        if (st && !first) first = st;
    }
    pthread_mutex_unlock(&ctx->mu);
    if (ctx->trace_path) rt_trace_resolve(ctx, NULL); /* their work is done: no wait */
    return first;
}

static dck_status transfer(dck_buffer b, uint64_t off, uint64_t size, const void *src, void *dst,
                           dck_event *ev_out)
{
    const char *what = src ? "write" : "read";
    dck_status st = check_span(b, off, size, what);
    if (st) return st;
    uint64_t t0 = rt_now_ns();
    st = src ? b->ctx->backend->buffer_write(b, off, size, src)
             : b->ctx->backend->buffer_read(b, off, size, dst);
    uint64_t t1 = rt_now_ns();
    if (st) return st;
    char name[64];
    snprintf(name, sizeof name, "%s %s", what, b->name ? b->name : "buffer");
    rt_trace(b->ctx, "transfer", name, t0, t1, size, NULL);
    return ev_out ? rt_event_new(b->ctx, t0, t1, ev_out) : DCK_SUCCESS;
}

dck_status dck_buffer_write(dck_buffer b, uint64_t off, uint64_t size, const void *src)
{
    if (!b || (!src && size))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_buffer_write: NULL argument");
    return transfer(b, off, size, src ? src : "", NULL, NULL);
}

dck_status dck_buffer_read(dck_buffer b, uint64_t off, uint64_t size, void *dst)
{
    if (!b || (!dst && size))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_buffer_read: NULL argument");
    char dummy;
    return transfer(b, off, size, NULL, dst ? dst : &dummy, NULL);
}

dck_status dck_enqueue_write(dck_queue q, dck_buffer b, uint64_t off, uint64_t size,
                             const void *src, dck_event *ev)
{
    if (ev) *ev = NULL;
    if (!q || !b || (!src && size))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_enqueue_write: NULL argument");
    if (q->ctx != b->ctx)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_enqueue_write: the buffer belongs to another context than the queue");
    return transfer(b, off, size, src ? src : "", NULL, ev);
}

dck_status dck_enqueue_read(dck_queue q, dck_buffer b, uint64_t off, uint64_t size, void *dst,
                            dck_event *ev)
{
    if (ev) *ev = NULL;
    if (!q || !b || (!dst && size))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_enqueue_read: NULL argument");
    if (q->ctx != b->ctx)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_enqueue_read: the buffer belongs to another context than the queue");
    char dummy;
    return transfer(b, off, size, NULL, dst ? dst : &dummy, ev);
}

dck_status dck_buffer_map(dck_buffer b, uint32_t flags, void **out)
{
    if (!b || !out) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_buffer_map: NULL argument");
    if (!flags || (flags & ~(DCK_MAP_READ | DCK_MAP_WRITE)))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_buffer_map: flags must be DCK_MAP_READ and/or DCK_MAP_WRITE");
    if (b->mapped)
        return rt_error(DCK_ERROR_BUFFER_MAPPED, "buffer%s%s%s is already mapped",
                        b->name ? " '" : "", b->name ? b->name : "", b->name ? "'" : "");
    if (b->ctx->backend->buffer_map) {
        dck_status st = b->ctx->backend->buffer_map(b, flags, out);
        if (st) return st;
    } else if (!b->data) {
        return rt_error(DCK_ERROR_UNSUPPORTED, "backend '%s' cannot map buffers",
                        b->ctx->backend->name);
    } else {
        *out = b->data;
    }
    b->mapped = true;
    return DCK_SUCCESS;
}

dck_status dck_buffer_unmap(dck_buffer b)
{
    if (!b) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_buffer_unmap: NULL buffer");
    if (!b->mapped)
        return rt_error(DCK_ERROR_BUFFER_MAPPED, "buffer%s%s%s is not mapped", b->name ? " '" : "",
                        b->name ? b->name : "", b->name ? "'" : "");
    b->mapped = false;
    return b->ctx->backend->buffer_unmap ? b->ctx->backend->buffer_unmap(b) : DCK_SUCCESS;
}

/* ---- modules (list management; loading is in module.c and jit.c) ---- */

static dck_status module_new(dck_context ctx, dck_module *out)
{
    dck_module m = rt_calloc(ctx, sizeof *m);
    if (!m) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a module");
    m->ctx = ctx;
    m->cache_hit = -1;
    *out = m;
    return DCK_SUCCESS;
}

static void module_free(dck_module m);

static dck_status module_publish(dck_module m, dck_status st, dck_module *out)
{
    if (st) {
        module_free(m);
        return st;
    }
    pthread_mutex_lock(&m->ctx->mu);
    LIST_LINK(m->ctx->modules, m);
    pthread_mutex_unlock(&m->ctx->mu);
    *out = m;
    return DCK_SUCCESS;
}

/* Checked mode asked for (by the context or the options) of ready-made code: every kernel must
 * have been compiled with bounds checks, or its accesses would run unchecked without a word.
 * `what` names the code in the message ("package", "embedded module"). */
static dck_status need_checked_code(dck_context ctx, const dck_module_options *o,
                                    const dck_abi_module *abi, const char *what)
{
    bool want = (ctx->flags & DCK_CONTEXT_CHECKED) || (o && (o->flags & DCK_MODULE_CHECKED));
    if (!want) return DCK_SUCCESS;
    for (uint32_t i = 0; i < abi->nkernels; i++)
        if (!(abi->kernels[i].flags & DCK_ABI_KERNEL_CHECKED))
            return rt_error(DCK_ERROR_UNSUPPORTED,
                            "checked mode was asked for (%s), but kernel '%s' of this %s was "
                            "compiled without bounds checks: rebuild it with dckc --checked, or "
                            "load it without checked mode",
                            ctx->flags & DCK_CONTEXT_CHECKED ? "the context is DCK_CONTEXT_CHECKED"
                                                             : "DCK_MODULE_CHECKED",
                            abi->kernels[i].name, what);
    return DCK_SUCCESS;
}

dck_status dck_module_create_from_abi(dck_context ctx, const struct dck_abi_module *abi,
                                      dck_module *out)
{
    if (out) *out = NULL;
    if (!ctx || !abi || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_module_create_from_abi: NULL argument");
    dck_status st = need_checked_code(ctx, NULL, abi, "embedded module");
    if (st) return st;
    dck_module m = NULL;
    st = module_new(ctx, &m);
    if (st) return st;
    return module_publish(m, rt_module_bind(m, abi), out);
}

dck_status dck_module_create_from_source(dck_context ctx, const char *path, const char *source,
                                         const dck_module_options *o, dck_module *out)
{
    if (out) *out = NULL;
    if (!ctx || !path || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_module_create_from_source: %s is NULL",
                        !ctx    ? "ctx"
                        : !path ? "path"
                                : "out");
    dck_status st = rt_check_module_options(o, "dck_module_create_from_source");
    if (st) return st;
    /* the file is read here, bounded, rather than by the compiler (which reads what it is
       given: /dev/zero without end) */
    char *text = NULL;
    if (!source) {
        size_t len = 0;
        st = rt_read_file(ctx, path, "source", RT_MAX_SOURCE_BYTES, (void **)&text, &len);
        if (st) return st;
        if (memchr(text, 0, len)) {
            rt_free(ctx, text);
            return rt_error(DCK_ERROR_COMPILE,
                            "cannot compile '%s': it contains a NUL byte (not "
                            "a .dck source)",
                            path);
        }
        source = text;
    }
    dck_module m = NULL;
    st = module_new(ctx, &m);
    if (st) {
        rt_free(ctx, text);
        return st;
    }
    if (ctx->backend->module_from_source && !(o && o->target && strcmp(o->target, "c") != 0)) {
        st = ctx->backend->module_from_source(ctx, path, source, o, m);
        if (!st && !m->target[0]) snprintf(m->target, sizeof m->target, "c");
    } else if (ctx->backend->module_load)
        st = rt_module_from_source_pkg(ctx, path, source, o, m);
    else
        st = rt_error(DCK_ERROR_UNSUPPORTED, "backend '%s' cannot load target '%s'",
                      ctx->backend->name, o && o->target ? o->target : "?");
    rt_free(ctx, text);
    return module_publish(m, st, out);
}

dck_status rt_module_create_from_rtpackage(dck_context ctx, RtPackage *pkg, const char *target,
                                           dck_module *out)
{
    *out = NULL;
    dck_module m = NULL;
    dck_status st = module_new(ctx, &m);
    if (st) return st;
    return module_publish(m, rt_module_from_package(ctx, pkg, target, m), out);
}

dck_status dck_module_create_from_package(dck_context ctx, const void *data, size_t size,
                                          const dck_module_options *o, dck_module *out)
{
    if (out) *out = NULL;
    if (!ctx || !data || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_module_create_from_package: %s is NULL",
                        !ctx    ? "ctx"
                        : !data ? "data"
                                : "out");
    dck_status st = rt_check_module_options(o, "dck_module_create_from_package");
    if (st) return st;
    if (size > RT_MAX_PACKAGE_BYTES)
        return rt_error(DCK_ERROR_INVALID_MODULE,
                        "dck_module_create_from_package: size is %zu bytes; packages are limited "
                        "to %u bytes",
                        size, RT_MAX_PACKAGE_BYTES);
    RtPackage *pkg = NULL;
    st = rt_package_parse(ctx, data, size, &pkg);
    if (st) return st;
    st = need_checked_code(ctx, o, &pkg->abi, "package");
    if (st) {
        rt_package_free(ctx, pkg);
        return st;
    }
    st = rt_module_create_from_rtpackage(ctx, pkg, o ? o->target : NULL, out);
    if (st) rt_package_free(ctx, pkg);
    return st;
}

static void module_free(dck_module m)
{
    dck_context ctx = m->ctx;
    if (m->backend_data && ctx->backend->module_unload) ctx->backend->module_unload(m);
    if (m->pkg) rt_package_free(ctx, m->pkg);
    rt_free(ctx, m->kernels);
    rt_free(ctx, m->cache_path);
    if (m->dl) rt_jit_unload(m->dl);
    rt_free(ctx, m);
}

dck_status dck_module_destroy(dck_module m)
{
    if (!m) return DCK_SUCCESS;
    dck_context ctx = m->ctx;
    pthread_mutex_lock(&ctx->mu);
    LIST_UNLINK(ctx->modules, m);
    pthread_mutex_unlock(&ctx->mu);
    module_free(m);
    return DCK_SUCCESS;
}

/* ---- queues and events ---- */

dck_status dck_queue_create(dck_context ctx, const dck_queue_desc *desc, dck_queue *out)
{
    if (out) *out = NULL;
    if (!ctx || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_queue_create: NULL argument");
    if (desc && desc->next) return rt_check_next(desc->next, "dck_queue_create", "desc");
    if (desc && desc->flags)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_queue_create: desc->flags must be 0 (got 0x%x)", desc->flags);
    dck_queue q = rt_calloc(ctx, sizeof *q);
    if (!q) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a queue");
    q->ctx = ctx;
    if (ctx->backend->queue_create) {
        dck_status st = ctx->backend->queue_create(q);
        if (st) {
            rt_free(ctx, q);
            return st;
        }
    }
    pthread_mutex_lock(&ctx->mu);
    LIST_LINK(ctx->queues, q);
    pthread_mutex_unlock(&ctx->mu);
    *out = q;
    return DCK_SUCCESS;
}

dck_status dck_queue_destroy(dck_queue q)
{
    if (!q) return DCK_SUCCESS;
    dck_context ctx = q->ctx;
    pthread_mutex_lock(&ctx->mu);
    LIST_UNLINK(ctx->queues, q);
    pthread_mutex_unlock(&ctx->mu);
    if (ctx->trace_path && ctx->backend->queue_finish) { /* the trace's device times */
        ctx->backend->queue_finish(q);
        rt_trace_resolve(ctx, q);
    }
    if (ctx->backend->queue_destroy) ctx->backend->queue_destroy(q);
    rt_free(ctx, q);
    return DCK_SUCCESS;
}

dck_status dck_queue_finish(dck_queue q)
{
    if (!q) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_queue_finish: NULL queue");
    /* the CPU backend completes work at submission; errors were returned there */
    if (q->ctx->backend->queue_finish) {
        dck_status fs = q->ctx->backend->queue_finish(q);
        if (fs && !q->first_error) q->first_error = fs;
        if (q->ctx->trace_path) rt_trace_resolve(q->ctx, q);
    }
    dck_status st = q->first_error;
    q->first_error = DCK_SUCCESS;
    return st;
}

dck_status rt_event_new(dck_context ctx, uint64_t t0, uint64_t t1, dck_event *out)
{
    dck_event e = rt_calloc(ctx, sizeof *e);
    if (!e) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating an event");
    e->ctx = ctx;
    e->start_ns = t0;
    e->end_ns = t1;
    pthread_mutex_lock(&ctx->mu);
    LIST_LINK(ctx->events, e);
    pthread_mutex_unlock(&ctx->mu);
    *out = e;
    return DCK_SUCCESS;
}

dck_status dck_event_wait(dck_event ev)
{
    if (!ev) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_event_wait: NULL event");
    /* the queue is in order: the last launch completes after the others */
    if (ev->last && ev->ctx->backend->event_wait && !ev->status)
        ev->status = ev->ctx->backend->event_wait(ev->ctx, ev->last->bev);
    return ev->status;
}

/* Device-measured times of the event's work, once (cached in the event). */
static dck_status event_device_times(dck_event ev)
{
    dck_context ctx = ev->ctx;
    if (!ev->last || !ctx->backend->event_times) return DCK_SUCCESS;
    uint64_t s = 0, e = 0;
    dck_status st = rt_devev_span(ctx, ev->first, ev->last, &s, &e);
    if (st) return st;
    ev->start_ns = s;
    ev->end_ns = e;
    rt_devev_unref(ctx, ev->first);
    rt_devev_unref(ctx, ev->last);
    ev->first = ev->last = NULL;
    return DCK_SUCCESS;
}

dck_status dck_event_wait_all(uint32_t count, const dck_event *events)
{
    if (count && !events)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_event_wait_all: events is NULL");
    for (uint32_t i = 0; i < count; i++) {
        dck_status st = dck_event_wait(events[i]);
        if (st) return st;
    }
    return DCK_SUCCESS;
}

dck_status dck_event_get_times(dck_event ev, uint64_t *start_ns, uint64_t *end_ns)
{
    if (!ev) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_event_get_times: NULL event");
    if (!start_ns && !end_ns)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_event_get_times: start_ns and end_ns are both NULL");
    dck_status st = event_device_times(ev);
    if (st) return st;
    if (start_ns) *start_ns = ev->start_ns;
    if (end_ns) *end_ns = ev->end_ns;
    return DCK_SUCCESS;
}

dck_status dck_event_elapsed_ns(dck_event ev, uint64_t *ns)
{
    if (!ev || !ns)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_event_elapsed_ns: NULL argument");
    dck_status st = event_device_times(ev);
    if (st) return st;
    *ns = ev->end_ns - ev->start_ns;
    return DCK_SUCCESS;
}

dck_status dck_event_destroy(dck_event ev)
{
    if (!ev) return DCK_SUCCESS;
    dck_context ctx = ev->ctx;
    pthread_mutex_lock(&ctx->mu);
    LIST_UNLINK(ctx->events, ev);
    pthread_mutex_unlock(&ctx->mu);
    rt_devev_unref(ctx, ev->first);
    rt_devev_unref(ctx, ev->last);
    rt_free(ctx, ev);
    return DCK_SUCCESS;
}
