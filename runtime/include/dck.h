/* dck.h: the public API of libdckrt, the DCK runtime.
 *
 * C99, usable from C++. Conventions (as in Vulkan and OpenCL):
 *  - objects are opaque handles; every function returns a dck_status (except the few that
 *    return a string or build an argument value); results come back through out-pointers;
 *  - every create has a destroy, and destroy accepts NULL;
 *  - descriptor structs start with `const void *next` (set it to NULL) so they can grow;
 *  - on failure, dck_last_error() returns a message for the calling thread that names the
 *    kernel, argument and device involved;
 *  - every argument is checked before anything is done: a NULL handle, out-pointer or array
 *    entry, an unknown flag bit, kind or type code, a descriptor whose fields contradict each
 *    other, an absurd size or count, or a file that is not a regular file is an error
 *    (usually DCK_ERROR_INVALID_ARGUMENT) whose message names the argument or field, never a
 *    crash, a hang or a silent acceptance; on failure an out-pointer that is not NULL is set
 *    to NULL. What cannot be checked: handles already destroyed, pointers to too little
 *    memory, strings without their NUL.
 * New status codes, descriptor fields (behind `next`), types and functions may be added in
 * later versions; existing ones keep their meaning. See docs/runtime.md.
 */
#ifndef DCK_H
#define DCK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DCK_RUNTIME_VERSION_MAJOR 0
#define DCK_RUNTIME_VERSION_MINOR 1
#define DCK_RUNTIME_VERSION_PATCH 0

/* ---- status codes (new status codes may be added) ---- */
typedef enum dck_status {
    DCK_SUCCESS = 0,
    DCK_ERROR_INVALID_ARGUMENT = -1,    /* NULL handle or out-pointer, bad descriptor field */
    DCK_ERROR_OUT_OF_MEMORY = -2,       /* the allocator failed */
    DCK_ERROR_BACKEND_UNAVAILABLE = -3, /* backend not built in, or its driver is missing */
    DCK_ERROR_DEVICE_NOT_FOUND = -4,    /* no device with that index */
    DCK_ERROR_BUFFER_TOO_LARGE = -5,    /* more than DCK_MAX_BUFFER_ELEMENTS elements */
    DCK_ERROR_OUT_OF_RANGE = -6,        /* read/write/map beyond the end of a buffer */
    DCK_ERROR_COMPILE = -7,          /* the .dck source has errors (diagnostics in the message) */
    DCK_ERROR_JIT = -8,              /* the system C compiler or the loader failed */
    DCK_ERROR_INVALID_MODULE = -9,   /* bad magic/version or inconsistent reflection */
    DCK_ERROR_NOT_FOUND = -10,       /* no kernel or pipeline of that name */
    DCK_ERROR_ARGUMENT_COUNT = -11,  /* wrong number of launch arguments */
    DCK_ERROR_ARGUMENT_TYPE = -12,   /* an argument does not match its parameter */
    DCK_ERROR_INVALID_RANGE = -13,   /* bad dims / local size / work-group size */
    DCK_ERROR_OUT_OF_BOUNDS = -14,   /* checked mode: a kernel accessed a buffer out of bounds */
    DCK_ERROR_ALIASING = -15,        /* checked mode: two buffer arguments overlap */
    DCK_ERROR_INVALID_PROGRAM = -16, /* malformed pipeline program */
    DCK_ERROR_IO = -17,              /* a file could not be read or written */
    DCK_ERROR_UNSUPPORTED = -18,     /* valid request this build or device cannot do */
    DCK_ERROR_BUFFER_MAPPED = -19,   /* the buffer is mapped (or not mapped, for unmap) */
} dck_status;

/* ---- handles ---- */
typedef struct dck_context_s *dck_context;
typedef struct dck_device_s *dck_device;
typedef struct dck_buffer_s *dck_buffer;
typedef struct dck_module_s *dck_module;
typedef struct dck_kernel_s *dck_kernel; /* a kernel or a pipeline of a module */
typedef struct dck_queue_s *dck_queue;
typedef struct dck_event_s *dck_event;

struct dck_abi_module; /* dck_abi.h: what dckc's C backend generates */

/* ---- errors ---- */
/* Constant name of a status, e.g. "DCK_ERROR_ARGUMENT_TYPE"; never NULL. */
const char *dck_status_string(dck_status status);
/* The message of the last failed call on this thread ("" if none). Valid until the next
 * failing call on this thread. Successful calls leave it unchanged. */
const char *dck_last_error(void);

/* ---- element types (same codes as dck_abi_scalar) ---- */
typedef enum dck_type {
    DCK_TYPE_BOOL,
    DCK_TYPE_I8,
    DCK_TYPE_U8,
    DCK_TYPE_I16,
    DCK_TYPE_U16,
    DCK_TYPE_I32,
    DCK_TYPE_U32,
    DCK_TYPE_I64,
    DCK_TYPE_U64,
    DCK_TYPE_F16,
    DCK_TYPE_F32,
    DCK_TYPE_F64,
    DCK_TYPE_STRUCT = 100,  /* a struct (by name and size) */
    DCK_TYPE_UNKNOWN = 255, /* untyped buffer: only the element size is known */
} dck_type;

#define DCK_MAX_BUFFER_ELEMENTS 4294967295u /* 2^32 - 1 */

/* ---- backends and devices ---- */
typedef enum dck_backend {
    DCK_BACKEND_AUTO = 0, /* best device present: CUDA, OpenCL GPU, Vulkan, then the CPU */
    DCK_BACKEND_CPU = 1,
    DCK_BACKEND_CUDA = 2,
    DCK_BACKEND_OPENCL = 3,
    DCK_BACKEND_VULKAN = 4,
    DCK_BACKEND_METAL = 5,
} dck_backend;

/* dck_device_info.features */
#define DCK_FEATURE_FP64           (1ull << 0)
#define DCK_FEATURE_FP16           (1ull << 1)
#define DCK_FEATURE_INT64_ATOMICS  (1ull << 2)
#define DCK_FEATURE_FLOAT_ATOMICS  (1ull << 3)
#define DCK_FEATURE_SUBGROUPS      (1ull << 4)
#define DCK_FEATURE_UNIFIED_MEMORY (1ull << 5)  /* buffers live in host memory */
#define DCK_FEATURE_CPU_SSE4       (1ull << 16) /* SSE4.1 and SSE4.2 */
#define DCK_FEATURE_CPU_AVX2       (1ull << 17) /* AVX2 (and FMA) */
#define DCK_FEATURE_CPU_AVX512     (1ull << 18) /* AVX-512 F/BW/DQ/VL */
#define DCK_FEATURE_CPU_NEON       (1ull << 19)
#define DCK_FEATURE_CPU_FMA        (1ull << 20)
#define DCK_FEATURE_CPU_F16C       (1ull << 21)

typedef enum dck_device_type {
    DCK_DEVICE_CPU = 0, /* the CPU backend, or a GPU API implemented on the CPU (PoCL, lavapipe) */
    DCK_DEVICE_GPU = 1,
    DCK_DEVICE_OTHER = 2,
} dck_device_type;

typedef struct dck_device_info {
    const void *next;
    char name[128];
    dck_backend backend;
    char backend_name[16]; /* "cpu", "cuda", ... */
    uint32_t index;        /* index within its backend */
    uint64_t global_memory_bytes;
    uint64_t max_shared_bytes;    /* per work-group */
    uint32_t compute_units;       /* CPU: online cores */
    uint32_t max_work_group_size; /* work-items per group */
    uint32_t max_work_group_dims[3];
    uint32_t subgroup_size;      /* CPU scalar backend: 1 */
    uint64_t features;           /* DCK_FEATURE_* */
    dck_device_type device_type; /* what executes kernels (auto prefers GPUs) */
    char driver[64];             /* driver / platform version ("PoCL 3.1", "Mesa 22.3.6", ...) */
} dck_device_info;

/* Two-call idiom: with infos == NULL sets *count to the number of devices of `backend`
 * (DCK_BACKEND_AUTO: of every available backend, best first); otherwise fills up to *count
 * entries and sets *count to the number written. A backend not in this build has 0 devices. */
dck_status dck_enumerate_devices(dck_backend backend, uint32_t *count, dck_device_info *infos);
/* DCK_SUCCESS if `backend` is built in, its vendor library loads and it has a device;
 * otherwise DCK_ERROR_BACKEND_UNAVAILABLE with dck_last_error() saying why (not in this
 * build, "cannot load libvulkan.so.1: ...", no device). */
dck_status dck_backend_available(dck_backend backend);
/* "auto", "cpu", "cuda", "opencl", "vulkan", "metal" -> enum. */
dck_status dck_backend_from_name(const char *name, dck_backend *out);

/* ---- contexts ---- */
/* User allocator. alloc returns memory aligned to `alignment` (a power of two <= 4096) or
 * NULL; free receives what alloc returned (never NULL). Both may be called from any thread
 * that calls into the runtime, so they must be thread-safe. */
typedef struct dck_allocator {
    void *(*alloc)(void *user_data, size_t size, size_t alignment);
    void (*free)(void *user_data, void *ptr);
    void *user_data;
} dck_allocator;

#define DCK_CONTEXT_CHECKED 1u /* checked mode: bounds checks, overlap checks (docs/language.md) */

/* Checked by dck_context_create: next must be NULL (no extension structure exists in this
 * version), flags only DCK_CONTEXT_* bits, num_threads at most 4096 (as $DCK_NUM_THREADS). */
typedef struct dck_context_desc {
    const void *next;
    dck_backend backend;            /* DCK_BACKEND_AUTO picks the best present */
    const char *backend_name;       /* if non-NULL, overrides `backend` ("cpu", "cuda", ...) */
    uint32_t device_index;          /* within the backend */
    uint32_t flags;                 /* DCK_CONTEXT_* */
    uint32_t num_threads;           /* CPU: worker threads; 0 = $DCK_NUM_THREADS or online cores */
    const dck_allocator *allocator; /* NULL: the C library's */
    const char *trace_path;         /* Chrome trace written at destroy; NULL: $DCK_TRACE */
} dck_context_desc;

/* desc may be NULL: auto backend, device 0, default threads and allocator. */
dck_status dck_context_create(const dck_context_desc *desc, dck_context *out);
/* Waits for all work, releases every object still alive, writes the trace file (a failure
 * to write it is reported as DCK_ERROR_IO after everything was released). */
dck_status dck_context_destroy(dck_context ctx);
dck_status dck_context_get_device(dck_context ctx, dck_device *out);
/* For a context created with DCK_BACKEND_AUTO: a sentence saying which device was picked and
 * why (empty for an explicit backend). Valid while the context lives. */
dck_status dck_context_get_auto_reason(dck_context ctx, const char **out);
dck_status dck_device_get_info(dck_device dev, dck_device_info *out);

typedef struct dck_pool_stats {
    uint64_t bytes_in_use; /* bytes of live buffers (rounded to the pool's size classes) */
    uint64_t peak_bytes_in_use;
    uint64_t bytes_cached;          /* freed memory kept by the pool for reuse */
    uint64_t allocations;           /* buffer allocations served (total) */
    uint64_t allocations_from_pool; /* ... of which reused cached memory */
    uint64_t frees;
} dck_pool_stats;
dck_status dck_context_get_pool_stats(dck_context ctx, dck_pool_stats *out);
/* Returns the pool's cached memory to the allocator. */
dck_status dck_context_trim_pool(dck_context ctx);

/* ---- buffers ---- */
/* Checked by dck_buffer_create: next NULL; type a dck_type; vec 0..4; an elem_size given with
 * a scalar type must be that type's (times vec; DCK_TYPE_BOOL, 0 as in a zeroed descriptor,
 * with another elem_size describes an untyped buffer); DCK_TYPE_STRUCT and DCK_TYPE_UNKNOWN
 * need elem_size; size and count, when both are given, must agree. */
typedef struct dck_buffer_desc {
    const void *next;
    uint64_t size;      /* bytes; if 0, count * element size */
    uint64_t count;     /* elements; used when size == 0 */
    uint32_t elem_size; /* bytes per element; 0: from type and vec */
    dck_type type;      /* element type, or DCK_TYPE_UNKNOWN (checks then use elem_size) */
    uint32_t vec;       /* 1..4 components (0 means 1); a 3-vector has the size of a 4-vector */
    const void *initial_data; /* optional: `size` bytes copied in */
    const char *name;         /* optional, for messages and traces */
} dck_buffer_desc;

dck_status dck_buffer_create(dck_context ctx, const dck_buffer_desc *desc, dck_buffer *out);
/* size_bytes must be a multiple of elem_size. */
dck_status dck_buffer_create_bytes(dck_context ctx, uint64_t size_bytes, uint32_t elem_size,
                                   dck_buffer *out);
dck_status dck_buffer_create_elems(dck_context ctx, dck_type type, uint64_t count, dck_buffer *out);
dck_status dck_buffer_destroy(dck_buffer buf);

typedef struct dck_buffer_info {
    const void *next;
    uint64_t size;  /* bytes */
    uint64_t count; /* elements */
    uint32_t elem_size;
    dck_type type;
    uint32_t vec;
    const char *name; /* NULL if unnamed */
} dck_buffer_info;
dck_status dck_buffer_get_info(dck_buffer buf, dck_buffer_info *out);

/* Blocking transfers (wait for queued work that uses the buffer). */
dck_status dck_buffer_write(dck_buffer buf, uint64_t offset, uint64_t size, const void *src);
dck_status dck_buffer_read(dck_buffer buf, uint64_t offset, uint64_t size, void *dst);

#define DCK_MAP_READ  1u
#define DCK_MAP_WRITE 2u
/* Maps the whole buffer into host memory. A mapped buffer cannot be launched with or mapped
 * again until dck_buffer_unmap; writes become visible to kernels at unmap. */
dck_status dck_buffer_map(dck_buffer buf, uint32_t map_flags, void **out_ptr);
dck_status dck_buffer_unmap(dck_buffer buf);

/* ---- modules ---- */
#define DCK_MODULE_CHECKED 1u /* compile with bounds checks (always on in a checked context) */

/* Checked by the three module constructors alike: next NULL; flags only DCK_MODULE_* bits;
 * opt_level at most 3; at most 4096 defines and include directories, none of them NULL; a
 * define is NAME or NAME=VALUE (NAME an identifier, no line break); an include directory is
 * not empty ("." is the current one). */
typedef struct dck_module_options {
    const void *next;
    const char *const *defines; /* "NAME" or "NAME=VALUE" */
    uint32_t ndefines;
    const char *const *include_dirs;
    uint32_t ninclude_dirs;
    int32_t opt_level; /* 0..3; negative: default (2) */
    uint32_t flags;    /* DCK_MODULE_* */
    /* Package target to load, e.g. "spirv-opencl" to run OpenCL-env SPIR-V on an OpenCL device
     * ($DCK_OPENCL_PROGRAM=spirv does the same); NULL: the backend's best target. */
    const char *target;
} dck_module_options;

/* Compiles a .dck file (source == NULL: read from path; otherwise path names the source in
 * diagnostics) for the context's device. The CPU backend JIT-compiles the generated C with the
 * system C compiler ($DCK_CC, default cc) into an on-disk cache ($DCK_CACHE_DIR, else
 * $XDG_CACHE_HOME/dck, else ~/.cache/dck). options may be NULL. Diagnostics come back in
 * dck_last_error() with DCK_ERROR_COMPILE. A file read from path must be a regular file of at
 * most 64 MiB (else DCK_ERROR_IO). A module without a kernel or pipeline (an empty file, a
 * file of functions) is valid: it loads on every backend and has no kernels. */
dck_status dck_module_create_from_source(dck_context ctx, const char *path, const char *source,
                                         const dck_module_options *options, dck_module *out);
/* Loads a .dckpkg package (dckc --emit=package) from memory: picks the best target for the
 * context's device (options->target may name one) and builds it for the device. The data
 * is copied. options may be NULL (only `target` is used, all of it is checked). SPIR-V code
 * is validated before a driver sees it (DCK_ERROR_INVALID_MODULE). */
dck_status dck_module_create_from_package(dck_context ctx, const void *data, size_t size,
                                          const dck_module_options *options, dck_module *out);
/* ---- packages: files and code compiled into the program (runtime/package.c) ---- */
/* Loads a .dckpkg file (dckc --emit=package) as dck_module_create_from_package does. The file
 * must be a regular file (not /dev/zero, a FIFO or a directory) of at most 1 GiB: else
 * DCK_ERROR_IO, before anything is read; packages from memory have the same limit. */
dck_status dck_module_create_from_file(dck_context ctx, const char *path,
                                       const dck_module_options *options, dck_module *out);
/* Registers CPU code compiled into the program (the file of dckc --emit=embed calls it) for the
 * package whose checksum is `package_checksum` (bytes 24..31 of the .dckpkg, little-endian):
 * loading that package on the CPU then binds this code instead of JIT-compiling the package's
 * C, so no C compiler is needed at run time. `abi` must outlive every module loaded from it. */
dck_status dck_register_cpu_code(uint64_t package_checksum, const struct dck_abi_module *abi);
/* Wraps a module compiled ahead of time and linked into the program (dckc --target=c). The
 * structure must outlive the module. */
dck_status dck_module_create_from_abi(dck_context ctx, const struct dck_abi_module *abi,
                                      dck_module *out);
dck_status dck_module_destroy(dck_module module);

typedef struct dck_module_info {
    const void *next;
    const char *source_name; /* the .dck file it came from (may be NULL) */
    uint32_t nkernels;       /* kernels + pipelines, in the order of dck_module_get_kernel_at */
    int32_t cache_hit;       /* JIT: 1 loaded from the disk cache, 0 compiled now, -1 not JIT */
    const char *cache_path;  /* JIT: the shared object; NULL otherwise */
    const char *target;      /* the code loaded: "c", "opencl", "spirv-vulkan", "ptx-sm90", ... */
} dck_module_info;
dck_status dck_module_get_info(dck_module module, dck_module_info *out);

/* Kernels and pipelines belong to their module (no destroy). */
dck_status dck_module_get_kernel(dck_module module, const char *name, dck_kernel *out);
dck_status dck_module_get_kernel_at(dck_module module, uint32_t index, dck_kernel *out);

typedef enum dck_kernel_kind { DCK_KERNEL = 0, DCK_PIPELINE = 1 } dck_kernel_kind;

typedef struct dck_kernel_info {
    const void *next;
    const char *name;
    dck_kernel_kind kind;
    uint32_t nparams;
    uint32_t workgroup[3]; /* [[workgroup]] size, or 0,0,0 */
    uint32_t shared_bytes;
    uint32_t uses_barrier; /* launches need global sizes that are multiples of local */
    uint32_t line;         /* .dck line of the declaration */
    uint32_t dims;         /* kernels: work-item dimensions the code reads (1 to 3: global_id(1)
                              makes 2), 0 for pipelines */
} dck_kernel_info;
dck_status dck_kernel_get_info(dck_kernel kernel, dck_kernel_info *out);

typedef enum dck_param_kind { DCK_PARAM_VALUE = 0, DCK_PARAM_BUFFER = 1 } dck_param_kind;
typedef enum dck_access { DCK_ACCESS_READ = 1, DCK_ACCESS_READ_WRITE = 3 } dck_access;

typedef struct dck_param_info {
    const void *next;
    const char *name;
    dck_param_kind kind;
    dck_access access; /* buffers: const T[] is DCK_ACCESS_READ; values: READ */
    dck_type type;     /* scalar type of the value / element, or DCK_TYPE_STRUCT */
    uint32_t vec;      /* 1 for scalars, 2..4 for vectors */
    uint32_t size;     /* bytes of the value / of one element */
    uint32_t align;
    const char *type_name; /* as spelled in .dck: "float", "float4", "Particle" */
} dck_param_info;
dck_status dck_kernel_get_param(dck_kernel kernel, uint32_t index, dck_param_info *out);

/* ---- launch arguments ---- */
typedef enum dck_arg_kind { DCK_ARG_BUFFER = 0, DCK_ARG_VALUE = 1 } dck_arg_kind;

typedef struct dck_arg {
    dck_arg_kind kind;
    dck_type type; /* values: scalar type, DCK_TYPE_STRUCT, or DCK_TYPE_UNKNOWN
                                 (raw bytes: only the size is checked) */
    uint32_t vec;
    uint32_t size;         /* bytes of the value */
    const char *type_name; /* dck_arg_value: the .dck spelling ("float4", "Particle") */
    dck_buffer buffer;
    const void *ptr; /* value bytes when not inline */
    union {
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
        float f32;
        double f64;
        unsigned char bytes[16];
    } v;
} dck_arg;

static inline dck_arg dck_arg_buffer(dck_buffer b)
{
    dck_arg a;
    memset(&a, 0, sizeof a);
    a.kind = DCK_ARG_BUFFER;
    a.buffer = b;
    return a;
}
#define DCK_ARG_SCALAR_(fn, ctype, code, field) \
    static inline dck_arg fn(ctype x)           \
    {                                           \
        dck_arg a;                              \
        memset(&a, 0, sizeof a);                \
        a.kind = DCK_ARG_VALUE;                 \
        a.type = code;                          \
        a.vec = 1;                              \
        a.size = (uint32_t)sizeof(ctype);       \
        a.v.field = x;                          \
        return a;                               \
    }
DCK_ARG_SCALAR_(dck_arg_i32, int32_t, DCK_TYPE_I32, i32)
DCK_ARG_SCALAR_(dck_arg_u32, uint32_t, DCK_TYPE_U32, u32)
DCK_ARG_SCALAR_(dck_arg_i64, int64_t, DCK_TYPE_I64, i64)
DCK_ARG_SCALAR_(dck_arg_u64, uint64_t, DCK_TYPE_U64, u64)
DCK_ARG_SCALAR_(dck_arg_f32, float, DCK_TYPE_F32, f32)
DCK_ARG_SCALAR_(dck_arg_f64, double, DCK_TYPE_F64, f64)
#undef DCK_ARG_SCALAR_
/* A by-value vector, struct or any scalar given by its .dck type name ("float4", "uint2",
 * "half", "Particle"); the bytes are copied at launch. type_name NULL: raw bytes, only the
 * size is checked. */
static inline dck_arg dck_arg_value(const void *ptr, uint32_t size, const char *type_name)
{
    dck_arg a;
    memset(&a, 0, sizeof a);
    a.kind = DCK_ARG_VALUE;
    a.type = type_name ? DCK_TYPE_STRUCT : DCK_TYPE_UNKNOWN;
    a.vec = 1;
    a.size = size;
    a.type_name = type_name;
    a.ptr = ptr;
    return a;
}

/* ---- queues, launches, events ---- */
typedef struct dck_queue_desc {
    const void *next;
    uint32_t flags; /* reserved, 0 */
} dck_queue_desc;
/* In-order queue. desc may be NULL. */
dck_status dck_queue_create(dck_context ctx, const dck_queue_desc *desc, dck_queue *out);
dck_status dck_queue_destroy(dck_queue q);
/* Waits until everything submitted to q has completed; returns the first error of it. */
dck_status dck_queue_finish(dck_queue q);

typedef struct dck_range {
    uint32_t dims;      /* 1..3 */
    uint32_t global[3]; /* work-items per dimension (unused dimensions: ignored) */
    uint32_t local[3];  /* work-group size; 0 in every dimension: the runtime chooses */
} dck_range;

/* Launches a kernel over `range`, or runs a pipeline (range ignored, may be NULL), with
 * arguments checked against the signature: args NULL with nargs > 0, an arg kind that is not a
 * dck_arg_kind, a value's type that is not a dck_type or a vec above 4 are
 * DCK_ERROR_INVALID_ARGUMENT; a wrong count DCK_ERROR_ARGUMENT_COUNT; a mismatch
 * DCK_ERROR_ARGUMENT_TYPE naming the argument. The CPU backend runs it before returning; other
 * backends may return early: results are visible after dck_queue_finish / dck_event_wait.
 * out_event may be NULL. */
dck_status dck_launch(dck_queue q, dck_kernel kernel, const dck_range *range, uint32_t nargs,
                      const dck_arg *args, dck_event *out_event);

/* Queued transfers (in order with launches). out_event may be NULL. */
dck_status dck_enqueue_write(dck_queue q, dck_buffer buf, uint64_t offset, uint64_t size,
                             const void *src, dck_event *out_event);
dck_status dck_enqueue_read(dck_queue q, dck_buffer buf, uint64_t offset, uint64_t size, void *dst,
                            dck_event *out_event);

dck_status dck_event_wait(dck_event ev);
dck_status dck_event_wait_all(uint32_t count, const dck_event *events);
/* Start and end of the operation, in ns of CLOCK_MONOTONIC. Waits for completion. Either
 * pointer may be NULL, not both. */
dck_status dck_event_get_times(dck_event ev, uint64_t *start_ns, uint64_t *end_ns);
dck_status dck_event_elapsed_ns(dck_event ev, uint64_t *ns);
dck_status dck_event_destroy(dck_event ev);

/* ---- batches: launches recorded once and replayed with one submission (runtime/batch.c) ----
 * Between dck_queue_begin_batch and dck_queue_end_batch, kernel launches on q are recorded,
 * not run (on CUDA: stream capture into a CUDA graph); dck_batch_launch replays the whole
 * batch on a queue of the same context, asynchronously like a launch, as often as wanted,
 * with the arguments given when recording. Only kernel launches (not pipelines, transfers,
 * buffer creation or checked-mode launches) may be recorded. Backends without batches
 * return DCK_ERROR_UNSUPPORTED. Destroy a batch before its context. */
typedef struct dck_batch_s *dck_batch;
dck_status dck_queue_begin_batch(dck_queue q);
dck_status dck_queue_end_batch(dck_queue q, dck_batch *out);
dck_status dck_batch_launch(dck_queue q, dck_batch batch);
dck_status dck_batch_destroy(dck_batch batch);
/* Free and total memory of the context's device as the driver reports it now (CUDA:
 * cuMemGetInfo); DCK_ERROR_UNSUPPORTED where the backend cannot tell. */
dck_status dck_context_get_memory_info(dck_context ctx, uint64_t *free_bytes,
                                       uint64_t *total_bytes);

#ifdef __cplusplus
}
#endif

#endif
