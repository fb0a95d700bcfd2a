/* rt.h: libdckrt internals shared by core.c, pool.c, cpu.c, jit.c, module.c, pipeline.c.
 *
 * Object model: the context owns everything (devices, buffers, modules, queues, events) and
 * destroys what is left at dck_context_destroy. Every allocation goes through the context
 * allocator (rt_alloc/rt_free). A backend is one RtBackend (a table of functions) in one file;
 * core.c routes every device-specific operation through it.
 */
#ifndef DCK_RT_H
#define DCK_RT_H

#include "dck.h"
#include "dck_abi.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>

#define RT_ALIGN 64u

typedef struct RtPool RtPool;
typedef struct RtBackend RtBackend;

/* ---- errors: every failure path sets the thread's message and returns the status ---- */
dck_status rt_error(dck_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prefixes the current thread's message with "prefix: " (for nested contexts). */
void rt_error_prefix(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Appends to the current thread's message. */
void rt_error_suffix(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* ---- trace records (Chrome trace events, written at context destroy) ---- */
typedef struct RtTraceEvent {
    char name[64];
    const char *cat;     /* "launch", "pipeline", "transfer" (static strings) */
    uint64_t start_ns, end_ns;
    uint64_t bytes;      /* transfers */
    uint32_t global[3];  /* launches */
    uint32_t tid;
} RtTraceEvent;

struct dck_device_s {
    dck_context ctx;
    dck_device_info info;
};

struct dck_context_s {
    dck_allocator alloc;
    const RtBackend *backend;
    void *backend_data;           /* backend-private state (CPU: the thread pool) */
    struct dck_device_s device;
    uint32_t flags;               /* DCK_CONTEXT_* */
    uint32_t num_threads;
    RtPool *pool;
    uint64_t t0_ns;               /* creation time (trace origin) */

    pthread_mutex_t mu;           /* guards the object lists and the trace */
    dck_buffer buffers;           /* live objects, doubly linked, for destroy-all */
    dck_module modules;
    dck_queue queues;
    dck_event events;

    char *trace_path;
    RtTraceEvent *trace;
    size_t ntrace, trace_cap;

    /* JIT: compiler identity, computed once (see jit.c) */
    pthread_mutex_t jit_mu;
    char *jit_cc;                 /* the C compiler command ($DCK_CC or the default) */
    char *jit_flags;              /* flags used (with -march=native when supported) */
    uint64_t jit_id_hash[2];      /* hash of command, flags and `cc --version` */
    bool jit_ready;
};

struct dck_buffer_s {
    dck_context ctx;
    dck_buffer prev, next;
    void *data;                   /* host memory (CPU backend), 64-byte aligned, from the pool */
    void *backend_data;
    uint64_t size, count;
    uint32_t elem_size, vec;
    dck_type type;
    bool mapped;
    char *name;
};

struct dck_kernel_s {
    dck_module module;
    dck_kernel_kind kind;
    uint32_t index;                    /* in the module's kernels or pipelines */
    const dck_abi_kernel *k;           /* kind == DCK_KERNEL */
    const dck_abi_pipeline *p;         /* kind == DCK_PIPELINE */
    const char *name;
    uint32_t nparams;
    const dck_abi_param *params;
};

struct dck_module_s {
    dck_context ctx;
    dck_module prev, next;
    const dck_abi_module *abi;
    void *dl;                          /* dlopen handle (JIT) or NULL */
    char *cache_path;
    int cache_hit;                     /* -1 not JIT */
    uint32_t nkernels;                 /* kernels followed by pipelines */
    struct dck_kernel_s *kernels;
};

struct dck_queue_s {
    dck_context ctx;
    dck_queue prev, next;
    dck_status first_error;            /* the first asynchronous error (none on the CPU) */
};

struct dck_event_s {
    dck_context ctx;
    dck_event prev, next;
    uint64_t start_ns, end_ns;
    dck_status status;
};

/* A launch resolved against the signature: per parameter a pointer the backend passes on. */
typedef struct RtLaunch {
    const dck_abi_kernel *k;
    const char *kernel_name;
    uint32_t dims;
    uint32_t global[3], local[3], groups[3];
    void **args;                 /* nparams entries: value pointers or dck_cpu_buf pointers */
    dck_buffer *bufs;            /* nparams entries: the buffer of each buffer param, else NULL */
    bool checked;
} RtLaunch;

/* ---- backends ---- */
struct RtBackend {
    const char *name;
    dck_backend id;
    /* Device count (infos NULL) or fill infos[0..*count). */
    dck_status (*enumerate)(uint32_t *count, dck_device_info *infos);
    dck_status (*init)(dck_context ctx, uint32_t device_index);
    void (*fini)(dck_context ctx);
    /* Buffer memory: `data` for host-visible backends. */
    dck_status (*buffer_alloc)(dck_context ctx, dck_buffer buf);
    void (*buffer_free)(dck_context ctx, dck_buffer buf);
    dck_status (*buffer_write)(dck_buffer buf, uint64_t off, uint64_t size, const void *src);
    dck_status (*buffer_read)(dck_buffer buf, uint64_t off, uint64_t size, void *dst);
    /* Module from dckc source (NULL: the backend has no source path) */
    dck_status (*module_from_source)(dck_context ctx, const char *path, const char *source,
                                     const dck_module_options *o, dck_module m);
    /* Runs one kernel launch; fills *oob_out in checked mode. */
    dck_status (*launch)(dck_context ctx, const RtLaunch *l, dck_cpu_oob *oob);
};

extern const RtBackend rt_backend_cpu;

/* ---- core.c ---- */
void *rt_alloc(dck_context ctx, size_t size);            /* 16-byte aligned; NULL on failure */
void *rt_alloc_aligned(dck_context ctx, size_t size, size_t align);
void *rt_calloc(dck_context ctx, size_t size);
void rt_free(dck_context ctx, void *p);
char *rt_strdup(dck_context ctx, const char *s);
uint64_t rt_now_ns(void);
void rt_trace(dck_context ctx, const char *cat, const char *name, uint64_t start, uint64_t end,
              uint64_t bytes, const uint32_t *global);
/* Buffer creation shared by the public calls and pipeline temporaries. */
dck_status rt_buffer_new(dck_context ctx, const dck_buffer_desc *d, dck_buffer *out);
dck_status rt_event_new(dck_context ctx, uint64_t start_ns, uint64_t end_ns, dck_event *out);
const char *rt_type_name(dck_type t);   /* "float", "uint", ... ("struct" for structs) */
uint32_t rt_type_size(dck_type t);      /* 0 for structs/unknown */

/* ---- pool.c ---- */
dck_status rt_pool_create(dck_context ctx, RtPool **out);
void rt_pool_destroy(RtPool *p);
void *rt_pool_get(RtPool *p, uint64_t size);      /* 64-byte aligned; NULL if out of memory */
void rt_pool_put(RtPool *p, void *ptr);
void rt_pool_stats(RtPool *p, dck_pool_stats *out);
void rt_pool_trim(RtPool *p);

/* ---- module.c ---- */
/* Validates and wraps an ABI module into m (m->ctx set; fills kernels). */
dck_status rt_module_bind(dck_module m, const dck_abi_module *abi);
/* Checks args against the kernel's signature and range and runs it on q. */
dck_status rt_launch_kernel(dck_queue q, dck_kernel kernel, const dck_range *range,
                            uint32_t nargs, const dck_arg *args);

/* ---- pipeline.c ---- */
/* Runs pipeline `pk` with its checked arguments: vals[i] points to by-value parameter i,
 * bufs[i] is buffer parameter i (NULL for by-value ones). */
dck_status rt_pipeline_run(dck_queue q, dck_kernel pk, void *const *vals, const dck_buffer *bufs);
uint16_t rt_f32_to_f16(float f);
float rt_f16_to_f32(uint16_t h);

/* ---- jit.c ---- */
dck_status rt_jit_load(dck_context ctx, const char *path, const char *c_source, size_t len,
                       dck_module m);
void rt_jit_unload(void *dl);

/* ---- cpu.c ---- */
/* Fills the CPU's device info (shared by enumerate and init). */
void rt_cpu_device_info(dck_device_info *info);

#endif
