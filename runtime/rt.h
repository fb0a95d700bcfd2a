/* rt.h: libdckrt internals shared by core.c, pool.c, module.c, pipeline.c, jit.c and the
 * backends (cpu.c, opencl.c, vulkan.c, cuda.c, metal.m).
 *
 * Object model: the context owns everything (devices, buffers, modules, queues, events) and
 * destroys what is left at dck_context_destroy. Every allocation goes through the context
 * allocator (rt_alloc/rt_free). A backend is one RtBackend (a table of functions) in one file;
 * core.c and module.c route every device-specific operation through ctx->backend.
 *
 * ---- The backend contract (every backend follows it; optional entries may be NULL) ----
 *
 * Identity. `name` ("opencl"), `id`, and `targets`: the package blob targets (package.h
 *   RtBlob.target) the backend can load, best first, comma-separated ("opencl,spirv-opencl").
 *   The CPU backend has "c" and additionally module_from_source (the cc JIT).
 * enumerate(count, infos): two-call idiom like dck_enumerate_devices. A backend whose vendor
 *   library cannot be dlopen'ed returns DCK_ERROR_BACKEND_UNAVAILABLE with rt_error() saying
 *   why ("cannot load libOpenCL.so.1: ..."): that sentence is what --list-devices prints.
 *   Every device fills dck_device_info completely, device_type included.
 * init(ctx, index) / fini(ctx): per-context state in ctx->backend_data; init fills
 *   ctx->device.info. fini runs after every buffer, module, queue and event is released.
 * Buffers. buffer_alloc sets b->data when the memory is host-addressable (CPU, unified memory:
 *   the core then maps and checks overlap through b->data) and/or b->backend_data (device
 *   memory: a cl_mem, a VkBuffer + memory, a CUdeviceptr). Sizes may be 0. buffer_write and
 *   buffer_read are BLOCKING and must order after all work queued on any queue of the context
 *   that uses the buffer (the simple rule: finish every queue of ctx first, see rt_finish_all).
 *   buffer_map/unmap (optional; NULL means "b->data is the mapping"): map returns a host
 *   pointer to the whole buffer (a staging copy is fine: read it back for DCK_MAP_READ, write
 *   it out at unmap for DCK_MAP_WRITE). The core checks exclusivity (b->mapped).
 *   buffer_free may be called while launches that use the buffer are still queued: the backend
 *   defers or waits (OpenCL refcounts; Vulkan waits for its queues).
 * Modules. module_load(ctx, pkg, blob, m): m->abi is already bound (validated reflection:
 *   every kernel's params, wg, shared_bytes, flags; pipelines); blob is the code for one of
 *   the backend's targets (OpenCL C text, SPIR-V words, PTX text, MSL text); pkg is the whole
 *   package (may be NULL when the module was compiled from source without one; use only
 *   pkg->abi / rt_package_blob). The backend builds what it needs per kernel (programs,
 *   pipelines: may be lazy, per work-group size) into m->backend_data. A build failure is
 *   DCK_ERROR_JIT (the device compiler failed: a compiler bug) whose message names the .dck
 *   file and kernel and carries the build log. module_unload(m) releases m->backend_data.
 * Queues (optional, NULL for synchronous backends). queue_create(q) sets q->backend_data
 *   (an in-order device queue/stream), queue_finish(q) waits for everything submitted to q and
 *   returns the first asynchronous error, queue_destroy(q) finishes and releases.
 * launch(q, l, oob, ev_out): runs kernel l->k (index l->kernel_index in m->abi) of module
 *   l->module with the resolved range (global/local/groups, already validated against the
 *   device limits of ctx->device.info) and arguments: l->args[i] points to by-value parameter
 *   i (the .dck layout) or to a dck_cpu_buf; l->bufs[i] is buffer parameter i (its
 *   backend_data / data). GPU backends pass the GPU kernel ABI of the team brief: per buffer
 *   (pointer, uint count), then the exact global size x,y,z, then in checked mode an oob
 *   record. Asynchronous backends may return before the work completes, EXCEPT when oob is
 *   non-NULL (checked mode): then the launch completes and the device's uint[8] record is
 *   copied into *oob (hit, param, line, is_write, index lo/hi, len lo/hi), so the core
 *   reports a violation with the same message on every backend. When ev_out is non-NULL the
 *   backend may store a backend event there (released with event_release) that measures the
 *   launch on the device.
 * Events (optional): event_wait(ctx, ev) blocks and returns the operation's status;
 *   event_times(ctx, ev, &start, &end) waits and returns the device-measured start and end
 *   mapped onto the host CLOCK_MONOTONIC scale. The launches of one queue should map in their
 *   device order, without overlap, which one clock offset per context gives (OpenCL, Vulkan:
 *   the largest lower bound "host time at submission - device queued/start time" seen so
 *   far); CUDA still maps each launch from its own submission time. event_release(ctx, ev).
 *   Without a backend event the core uses host timestamps taken around the call. The core
 *   asks for an event when the user does, and when tracing: a traced launch must not wait
 *   (the core reads its times once its queue is finished). A pipeline's dck_event holds the
 *   events of its first and last launch: it completes with the last, and spans first start
 *   .. last end.
 * Errors: every failure returns a dck_status through rt_error(...) naming what failed (API
 *   call and its error code name, kernel, buffer, device); never crash on bad input.
 */
#ifndef DCK_RT_H
#define DCK_RT_H

#include "dck.h"
#include "abi/dck_abi.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#define RT_ALIGN             64u
#define RT_MAX_THREADS       4096u       /* dck_context_desc.num_threads, $DCK_NUM_THREADS */
#define RT_MAX_SOURCE_BYTES  (64u << 20) /* a .dck file the runtime reads (source == NULL) */
#define RT_MAX_PACKAGE_BYTES (1u << 30)  /* a .dckpkg, from a file or from memory */
#define RT_MAX_OPTION_COUNT  4096u       /* dck_module_options.ndefines, .ninclude_dirs */

typedef struct RtPool RtPool;
typedef struct RtBackend RtBackend;

/* ---- packages (runtime/package.h, helper "pkg"): RtPackage, RtBlob, rt_package_* ---- */
#include "package.h"

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

/* Prints "dck: warning: ..." on stderr, unless $DCK_QUIET is 1 (for conditions that are no
 * error but silently change results, such as a device's known defect). */
void rt_warn(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* ---- trace records (Chrome trace events, written at context destroy) ---- */
typedef struct RtTraceEvent {
    char name[64];
    const char *cat; /* "launch", "pipeline", "transfer" (static strings) */
    uint64_t start_ns, end_ns;
    uint64_t bytes;     /* transfers */
    uint32_t global[3]; /* launches */
    uint32_t tid;
} RtTraceEvent;

/* A backend event (see the contract: event_wait, event_times, event_release) shared by its
 * holders in the core: a dck_event, a pipeline run (its first and last launch), a pending trace
 * record. Each holder has a reference (refs, under ctx->mu); the last one releases it. */
typedef struct RtDevEvent {
    void *bev;
    uint32_t refs;
} RtDevEvent;

/* A launch or pipeline traced on an asynchronous backend: its device times are read (and the
 * record added to the trace) once its queue is finished, so tracing never waits for work. */
typedef struct RtTracePending {
    RtTraceEvent e;
    dck_queue q;
    RtDevEvent *first, *last; /* the span: first launch's start .. last launch's end */
} RtTracePending;

struct dck_device_s {
    dck_context ctx;
    dck_device_info info;
};

struct dck_context_s {
    dck_allocator alloc;
    const RtBackend *backend;
    void *backend_data;    /* backend-private state (CPU: the thread pool) */
    char auto_reason[160]; /* DCK_BACKEND_AUTO: why this backend was picked */
    struct dck_device_s device;
    uint32_t flags; /* DCK_CONTEXT_* */
    bool spirv_ok;  /* OpenCL: the device builds "spirv-opencl" blobs (set by init) */
    uint32_t num_threads;
    RtPool *pool;
    uint64_t t0_ns; /* creation time (trace origin) */

    pthread_mutex_t mu; /* guards the object lists and the trace */
    dck_buffer buffers; /* live objects, doubly linked, for destroy-all */
    dck_module modules;
    dck_queue queues;
    dck_event events;

    char *trace_path;
    RtTraceEvent *trace;
    size_t ntrace, trace_cap;
    RtTracePending *tpend; /* traced device work whose times are not read yet */
    size_t ntpend, tpend_cap;

    /* JIT: compiler identity, computed once (see jit.c) */
    pthread_mutex_t jit_mu;
    char *jit_cc;            /* the C compiler command ($DCK_CC or the default) */
    char *jit_flags;         /* flags used (with -march=native when supported) */
    uint64_t jit_id_hash[2]; /* hash of command, flags and `cc --version` */
    bool jit_ready;
};

struct dck_buffer_s {
    dck_context ctx;
    dck_buffer prev, next;
    void *data;         /* host memory (CPU backend), 64-byte aligned, from the pool;
                                     NULL for device memory */
    void *backend_data; /* device memory (cl_mem, VkBuffer, ...) */
    uint64_t size, count;
    uint32_t elem_size, vec;
    dck_type type;
    bool mapped;
    char *name;
};

struct dck_kernel_s {
    dck_module module;
    dck_kernel_kind kind;
    uint32_t index;            /* in the module's kernels or pipelines */
    const dck_abi_kernel *k;   /* kind == DCK_KERNEL */
    const dck_abi_pipeline *p; /* kind == DCK_PIPELINE */
    const char *name;
    uint32_t nparams;
    const dck_abi_param *params;
};

struct dck_module_s {
    dck_context ctx;
    dck_module prev, next;
    const dck_abi_module *abi;
    void *dl;           /* dlopen handle (JIT) or NULL */
    RtPackage *pkg;     /* the package the module came from (owns abi) or NULL */
    void *backend_data; /* module_load's programs / pipelines */
    char target[32];    /* the blob target loaded ("c" for the JIT) */
    char *cache_path;
    int cache_hit;     /* -1 not JIT */
    uint32_t nkernels; /* kernels followed by pipelines */
    struct dck_kernel_s *kernels;
};

struct dck_queue_s {
    dck_context ctx;
    dck_queue prev, next;
    dck_status first_error; /* the first asynchronous error (none on the CPU) */
    void *backend_data;     /* queue_create: the device queue / stream */
};

struct dck_event_s {
    dck_context ctx;
    dck_event prev, next;
    uint64_t start_ns, end_ns; /* host times, until replaced by the device's */
    dck_status status;
    /* the device events of the work (NULL: none, the host times stand): a launch's (first ==
     * last) or a pipeline's first and last launch; released once their times are read */
    RtDevEvent *first, *last;
};

/* A launch resolved against the signature: per parameter a pointer the backend passes on. */
typedef struct RtLaunch {
    const dck_abi_kernel *k;
    dck_module module;
    uint32_t kernel_index; /* index of k in module->abi->kernels */
    const char *kernel_name;
    uint32_t dims;
    uint32_t global[3], local[3], groups[3];
    void **args;      /* nparams entries: value pointers or dck_cpu_buf pointers */
    dck_buffer *bufs; /* nparams entries: the buffer of each buffer param, else NULL */
    bool checked;
} RtLaunch;

/* ---- backends (the contract is at the top of this file) ---- */
struct RtBackend {
    const char *name;
    dck_backend id;
    const char *targets; /* package blob targets, best first, comma-separated */
    dck_status (*enumerate)(uint32_t *count, dck_device_info *infos);
    dck_status (*init)(dck_context ctx, uint32_t device_index);
    void (*fini)(dck_context ctx);
    dck_status (*buffer_alloc)(dck_context ctx, dck_buffer buf);
    void (*buffer_free)(dck_context ctx, dck_buffer buf);
    dck_status (*buffer_write)(dck_buffer buf, uint64_t off, uint64_t size, const void *src);
    dck_status (*buffer_read)(dck_buffer buf, uint64_t off, uint64_t size, void *dst);
    dck_status (*buffer_map)(dck_buffer buf, uint32_t flags, void **ptr); /* optional */
    dck_status (*buffer_unmap)(dck_buffer buf);                           /* optional */
    /* Module from .dck source (optional: the CPU's JIT; others go through a package) */
    dck_status (*module_from_source)(dck_context ctx, const char *path, const char *source,
                                     const dck_module_options *o, dck_module m);
    dck_status (*module_load)(dck_context ctx, const RtPackage *pkg, const RtBlob *blob,
                              dck_module m); /* optional */
    void (*module_unload)(dck_module m);     /* optional */
    dck_status (*queue_create)(dck_queue q); /* optional */
    dck_status (*queue_finish)(dck_queue q); /* optional */
    void (*queue_destroy)(dck_queue q);      /* optional */
    dck_status (*launch)(dck_queue q, const RtLaunch *l, dck_cpu_oob *oob, void **ev_out);
    dck_status (*event_wait)(dck_context ctx, void *ev); /* optional */
    dck_status (*event_times)(dck_context ctx, void *ev, uint64_t *start_ns, uint64_t *end_ns);
    void (*event_release)(dck_context ctx, void *ev); /* optional */
    /* optional: batches (dck_queue_begin_batch, runtime/batch.c): begin recording q's launches,
     * end into a backend batch, replay it on q, release it; and the device's free/total memory */
    dck_status (*batch_begin)(dck_queue q);
    dck_status (*batch_end)(dck_queue q, void **out);
    dck_status (*batch_run)(dck_queue q, void *batch);
    void (*batch_release)(dck_context ctx, void *batch);
    dck_status (*mem_info)(dck_context ctx, uint64_t *free_bytes, uint64_t *total_bytes);
};

extern const RtBackend rt_backend_cpu;
extern const RtBackend rt_backend_opencl; /* opencl.c */
extern const RtBackend rt_backend_vulkan; /* vulkan.c */
extern const RtBackend rt_backend_cuda;   /* cuda.c (built when present: DCK_HAVE_CUDA_BACKEND) */
extern const RtBackend rt_backend_metal;  /* metal.m (Apple only: DCK_HAVE_METAL_BACKEND) */

/* ---- core.c ---- */
void *rt_alloc(dck_context ctx, size_t size); /* 16-byte aligned; NULL on failure */
void *rt_alloc_aligned(dck_context ctx, size_t size, size_t align);
void *rt_calloc(dck_context ctx, size_t size);
void rt_free(dck_context ctx, void *p);
char *rt_strdup(dck_context ctx, const char *s);
uint64_t rt_now_ns(void);
void rt_trace(dck_context ctx, const char *cat, const char *name, uint64_t start, uint64_t end,
              uint64_t bytes, const uint32_t *global);
/* Traces device work spanning first..last (new references are taken) once q is finished. */
void rt_trace_device(dck_context ctx, dck_queue q, const char *cat, const char *name,
                     const uint32_t *global, RtDevEvent *first, RtDevEvent *last);
/* Adds the pending device records of q (NULL: of every queue) to the trace; waits for their
 * work if it is not done. */
void rt_trace_resolve(dck_context ctx, dck_queue q);
/* Device events: wrap a backend event (NULL when bev is NULL or out of memory: bev is then
 * released), take and drop references, read the times of a span (waits). */
RtDevEvent *rt_devev_wrap(dck_context ctx, void *bev);
RtDevEvent *rt_devev_ref(dck_context ctx, RtDevEvent *d);
void rt_devev_unref(dck_context ctx, RtDevEvent *d);
dck_status rt_devev_span(dck_context ctx, RtDevEvent *first, RtDevEvent *last, uint64_t *start,
                         uint64_t *end);
/* Buffer creation shared by the public calls and pipeline temporaries. */
dck_status rt_buffer_new(dck_context ctx, const dck_buffer_desc *d, dck_buffer *out);
dck_status rt_event_new(dck_context ctx, uint64_t start_ns, uint64_t end_ns, dck_event *out);
/* Waits for every queue of ctx (backends' blocking transfers use it); first error wins. */
dck_status rt_finish_all(dck_context ctx);
/* Name of a buffer for messages: " 'x'" or "" */
const char *rt_buffer_label(dck_buffer b, char *out, size_t n);
const char *rt_type_name(dck_type t); /* "float", "uint", ... ("struct" for structs) */
uint32_t rt_type_size(dck_type t);    /* 0 for structs/unknown */
bool rt_type_valid(dck_type t);       /* one of the dck_type codes */
/* DCK_SUCCESS when a descriptor's `next` is NULL, else the error naming fn and desc */
dck_status rt_check_next(const void *next, const char *fn, const char *desc);
/* Checks dck_module_options for fn (NULL entries, unknown flags, bad defines, absurd counts) */
dck_status rt_check_module_options(const dck_module_options *o, const char *fn);

/* Reads a whole regular file of at most `limit` bytes (what: "package", "source": for
 * messages) into *out (NUL-terminated, rt_free it), its size in *len; DCK_ERROR_IO for a file
 * that cannot be opened, is not a regular file (/dev/zero, a FIFO, a directory) or is larger. */
dck_status rt_read_file(dck_context ctx, const char *path, const char *what, uint64_t limit,
                        void **out, size_t *len);

/* ---- pool.c ---- */
dck_status rt_pool_create(dck_context ctx, RtPool **out);
void rt_pool_destroy(RtPool *p);
void *rt_pool_get(RtPool *p, uint64_t size); /* 64-byte aligned; NULL if out of memory */
void rt_pool_put(RtPool *p, void *ptr);
void rt_pool_stats(RtPool *p, dck_pool_stats *out);
void rt_pool_trim(RtPool *p);

/* ---- module.c ---- */
/* Validates and wraps an ABI module into m (m->ctx set; fills kernels). */
dck_status rt_module_bind(dck_module m, const dck_abi_module *abi);
/* Module from source for backends without module_from_source: compiles a package for the
 * backend's targets (o->target or $DCK_OPENCL_PROGRAM may pick one), binds its reflection
 * and calls backend->module_load with the chosen blob. */
dck_status rt_module_from_source_pkg(dck_context ctx, const char *path, const char *source,
                                     const dck_module_options *o, dck_module m);
/* A new module of ctx from a parsed package (owned by the module on success; on failure
 * the caller still owns pkg). target: as dck_module_options.target (NULL: the best). */
dck_status rt_module_create_from_rtpackage(dck_context ctx, RtPackage *pkg, const char *target,
                                           dck_module *out);
/* Loads a parsed package into m for ctx's backend (takes ownership of pkg on success). */
dck_status rt_module_from_package(dck_context ctx, RtPackage *pkg, const char *prefer,
                                  dck_module m);
/* The target list to try for this backend: `prefer` if given, else $DCK_OPENCL_PROGRAM for
 * OpenCL ("spirv" -> "spirv-opencl"), else backend->targets. */
const char *rt_module_targets(dck_context ctx, const char *prefer, char *buf, size_t n);
/* Checks args against the kernel's signature and range and runs it on q; *ev_out (may be
 * NULL) receives the launch's device event (a reference), or NULL where there is none. */
dck_status rt_launch_kernel(dck_queue q, dck_kernel kernel, const dck_range *range, uint32_t nargs,
                            const dck_arg *args, RtDevEvent **ev_out);

/* ---- pipeline.c ---- */
/* Runs pipeline `pk` with its checked arguments: vals[i] points to by-value parameter i,
 * bufs[i] is buffer parameter i (NULL for by-value ones). With span non-NULL, span[0] and
 * span[1] receive the device events (references) of its first and last launch that has one,
 * or NULL. */
dck_status rt_pipeline_run(dck_queue q, dck_kernel pk, void *const *vals, const dck_buffer *bufs,
                           RtDevEvent **span);
uint16_t rt_f32_to_f16(float f);
float rt_f16_to_f32(uint16_t h);

/* ---- jit.c ---- */
dck_status rt_jit_load(dck_context ctx, const char *path, const char *c_source, size_t len,
                       dck_module m);
void rt_jit_unload(void *dl);

/* ---- cpu.c ---- */
/* Fills the CPU's device info (shared by enumerate and init). */
void rt_cpu_device_info(dck_device_info *info);

/* Writes s to f as a JSON string literal (quotes, escapes); the trace and dckrun use it. */
void rt_json_string(FILE *f, const char *s);

#endif
