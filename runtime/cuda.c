/* cuda.c: the CUDA backend of libdckrt, on the CUDA driver API.
 *
 * libcuda.so.1 is dlopened on first use, never linked: a binary runs unchanged where there is
 * no driver, and says "CUDA not available: ..." (DCK_ERROR_BACKEND_UNAVAILABLE). The driver's
 * functions are declared here (the ABI of the driver API is stable), so the build needs no
 * CUDA headers either.
 *
 * - Devices: cuDeviceGet*, one dck device per CUDA device; the context is the device's
 *   primary context (made current on every call, so any thread may use the runtime).
 * - Buffers: cuMemAlloc (device memory, b->backend_data is a CuBuf); blocking transfers after
 *   rt_finish_all; maps are staging copies.
 * - Modules: a package blob "ptx-smNN" (the highest NN <= the device's compute capability,
 *   else the driver JIT-compiles a lower one) or "cuda" (CUDA C, compiled here by NVRTC to PTX
 *   for the device). cuModuleLoadDataEx gets info and error log buffers: a failure's message
 *   carries the JIT log and names the .dck file. From .dck source, the module is compiled for
 *   the device's own sm (PTX through LLVM; $DCK_CUDA_PTX_VIA=nvrtc takes the CUDA C + NVRTC
 *   route instead).
 * - Launches: cuLaunchKernel on the queue's stream with the DCK GPU kernel ABI (per buffer a
 *   CUdeviceptr and a uint count, then the global size, then the oob record in checked mode).
 * - Queues are CUDA streams; events are pairs of CUDA events around a launch (device timings).
 * - Batches (dck_queue_begin_batch / end_batch / dck_batch_launch): the launches of a queue
 *   are captured into a CUDA graph (stream capture) and replayed with one cuGraphLaunch.
 * - Memory statistics: dck_context_get_memory_info is cuMemGetInfo.
 */
#include "rt.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/abi.h"
#include "driver/dckc.h"

/* ---- the driver API, declared here ---- */
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;

enum {
    CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1,
    CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X = 2,
    CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y = 3,
    CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z = 4,
    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK = 8,
    CU_DEVICE_ATTRIBUTE_WARP_SIZE = 10,
    CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
    CU_JIT_INFO_LOG_BUFFER = 3,
    CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES = 4,
    CU_JIT_ERROR_LOG_BUFFER = 5,
    CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
    CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0,
    CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1,
    CUDA_SUCCESS = 0,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_STUB_LIBRARY = 34,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
};

typedef struct CuApi {
    CUresult (*cuInit)(unsigned);
    CUresult (*cuDriverGetVersion)(int *);
    CUresult (*cuGetErrorName)(CUresult, const char **);
    CUresult (*cuGetErrorString)(CUresult, const char **);
    CUresult (*cuDeviceGetCount)(int *);
    CUresult (*cuDeviceGet)(CUdevice *, int);
    CUresult (*cuDeviceGetName)(char *, int, CUdevice);
    CUresult (*cuDeviceTotalMem)(size_t *, CUdevice);
    CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
    CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
    CUresult (*cuDevicePrimaryCtxRelease)(CUdevice);
    CUresult (*cuCtxSetCurrent)(CUcontext);
    CUresult (*cuCtxSynchronize)(void);
    CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
    CUresult (*cuMemFree)(CUdeviceptr);
    CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t);
    CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t);
    CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
    CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
    CUresult (*cuMemGetInfo)(size_t *, size_t *);
    CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *, void **);
    CUresult (*cuModuleUnload)(CUmodule);
    CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
    CUresult (*cuFuncGetAttribute)(int *, int, CUfunction);
    CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned,
                               unsigned, unsigned, CUstream, void **, void **);
    CUresult (*cuStreamCreate)(CUstream *, unsigned);
    CUresult (*cuStreamSynchronize)(CUstream);
    CUresult (*cuStreamDestroy)(CUstream);
    CUresult (*cuEventCreate)(CUevent *, unsigned);
    CUresult (*cuEventRecord)(CUevent, CUstream);
    CUresult (*cuEventSynchronize)(CUevent);
    CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
    CUresult (*cuEventDestroy)(CUevent);
    CUresult (*cuStreamBeginCapture)(CUstream, int);
    CUresult (*cuStreamEndCapture)(CUstream, CUgraph *);
    CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *, CUgraph, unsigned long long);
    CUresult (*cuGraphLaunch)(CUgraphExec, CUstream);
    CUresult (*cuGraphExecDestroy)(CUgraphExec);
    CUresult (*cuGraphDestroy)(CUgraph);
} CuApi;

static CuApi cu;
static pthread_once_t cu_once = PTHREAD_ONCE_INIT;
static char cu_load_error[512];

static const char *cu_name(CUresult r)
{
    const char *s = NULL;
    if (cu.cuGetErrorName && cu.cuGetErrorName(r, &s) == CUDA_SUCCESS && s) return s;
    switch (r) { /* a stub library answers nothing */
    case CUDA_ERROR_OUT_OF_MEMORY: return "CUDA_ERROR_OUT_OF_MEMORY";
    case CUDA_ERROR_NOT_INITIALIZED: return "CUDA_ERROR_NOT_INITIALIZED";
    case CUDA_ERROR_STUB_LIBRARY: return "CUDA_ERROR_STUB_LIBRARY";
    case CUDA_ERROR_NO_DEVICE: return "CUDA_ERROR_NO_DEVICE";
    default: return "CUDA_ERROR_UNKNOWN";
    }
}

static void cu_load(void)
{
    const char *env = getenv("DCK_LIBCUDA");
    void *h = dlopen(env && *env ? env : "libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(cu_load_error, sizeof cu_load_error,
                 "CUDA not available: cannot load libcuda.so.1 (%s)",
                 e ? e : "no NVIDIA driver installed");
        return;
    }
    struct {
        const char *name;
        void **slot;
    } syms[] = {
#define S(field, name) {name, (void **)&cu.field}
        S(cuInit, "cuInit"),
        S(cuDriverGetVersion, "cuDriverGetVersion"),
        S(cuGetErrorName, "cuGetErrorName"),
        S(cuGetErrorString, "cuGetErrorString"),
        S(cuDeviceGetCount, "cuDeviceGetCount"),
        S(cuDeviceGet, "cuDeviceGet"),
        S(cuDeviceGetName, "cuDeviceGetName"),
        S(cuDeviceTotalMem, "cuDeviceTotalMem_v2"),
        S(cuDeviceGetAttribute, "cuDeviceGetAttribute"),
        S(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain"),
        S(cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2"),
        S(cuCtxSetCurrent, "cuCtxSetCurrent"),
        S(cuCtxSynchronize, "cuCtxSynchronize"),
        S(cuMemAlloc, "cuMemAlloc_v2"),
        S(cuMemFree, "cuMemFree_v2"),
        S(cuMemcpyHtoD, "cuMemcpyHtoD_v2"),
        S(cuMemcpyDtoH, "cuMemcpyDtoH_v2"),
        S(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2"),
        S(cuMemsetD32Async, "cuMemsetD32Async"),
        S(cuMemGetInfo, "cuMemGetInfo_v2"),
        S(cuModuleLoadDataEx, "cuModuleLoadDataEx"),
        S(cuModuleUnload, "cuModuleUnload"),
        S(cuModuleGetFunction, "cuModuleGetFunction"),
        S(cuFuncGetAttribute, "cuFuncGetAttribute"),
        S(cuLaunchKernel, "cuLaunchKernel"),
        S(cuStreamCreate, "cuStreamCreate"),
        S(cuStreamSynchronize, "cuStreamSynchronize"),
        S(cuStreamDestroy, "cuStreamDestroy_v2"),
        S(cuEventCreate, "cuEventCreate"),
        S(cuEventRecord, "cuEventRecord"),
        S(cuEventSynchronize, "cuEventSynchronize"),
        S(cuEventElapsedTime, "cuEventElapsedTime"),
        S(cuEventDestroy, "cuEventDestroy_v2"),
        S(cuStreamBeginCapture, "cuStreamBeginCapture_v2"),
        S(cuStreamEndCapture, "cuStreamEndCapture"),
        S(cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags"),
        S(cuGraphLaunch, "cuGraphLaunch"),
        S(cuGraphExecDestroy, "cuGraphExecDestroy"),
        S(cuGraphDestroy, "cuGraphDestroy"),
#undef S
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        void *p = dlsym(h, syms[i].name);
        if (!p) {
            snprintf(
                cu_load_error, sizeof cu_load_error,
                "CUDA not available: libcuda.so.1 lacks %s (driver too old for CUDA 12 graphs?)",
                syms[i].name);
            memset(&cu, 0, sizeof cu);
            dlclose(h);
            return;
        }
        memcpy(syms[i].slot, &p, sizeof p);
    }
    CUresult r = cu.cuInit(0);
    if (r != CUDA_SUCCESS) {
        const char *why = r == CUDA_ERROR_STUB_LIBRARY
                              ? "libcuda.so.1 is the toolkit's stub library, not a driver"
                          : r == CUDA_ERROR_NO_DEVICE ? "no CUDA device"
                                                      : "cuInit failed";
        snprintf(cu_load_error, sizeof cu_load_error, "CUDA not available: %s (cuInit: %s, %d)",
                 why, cu_name(r), r);
        memset(&cu, 0, sizeof cu);
        return;
    }
}

static dck_status cu_ready(void)
{
    pthread_once(&cu_once, cu_load);
    if (!cu.cuInit) return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE, "%s", cu_load_error);
    return DCK_SUCCESS;
}

static dck_status cu_status_of(CUresult r)
{
    return r == CUDA_ERROR_OUT_OF_MEMORY ? DCK_ERROR_OUT_OF_MEMORY : DCK_ERROR_UNSUPPORTED;
}

static dck_status cu_fail(CUresult r, const char *call, const char *what)
{
    const char *s = NULL;
    if (cu.cuGetErrorString) cu.cuGetErrorString(r, &s);
    return rt_error(cu_status_of(r), "%s failed on %s: %s (%d)%s%s", call, what, cu_name(r), r,
                    s ? ": " : "", s ? s : "");
}

/* ---- devices ---- */

static int attr(CUdevice d, int a)
{
    int v = 0;
    cu.cuDeviceGetAttribute(&v, a, d);
    return v;
}

static void fill_info(CUdevice d, uint32_t index, dck_device_info *info)
{
    memset(info, 0, sizeof *info);
    cu.cuDeviceGetName(info->name, (int)sizeof info->name, d);
    info->backend = DCK_BACKEND_CUDA;
    snprintf(info->backend_name, sizeof info->backend_name, "cuda");
    info->index = index;
    size_t mem = 0;
    cu.cuDeviceTotalMem(&mem, d);
    info->global_memory_bytes = mem;
    info->max_shared_bytes = (uint64_t)attr(d, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
    info->compute_units = (uint32_t)attr(d, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    info->max_work_group_size = (uint32_t)attr(d, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
    info->max_work_group_dims[0] = (uint32_t)attr(d, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X);
    info->max_work_group_dims[1] = (uint32_t)attr(d, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y);
    info->max_work_group_dims[2] = (uint32_t)attr(d, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z);
    info->subgroup_size = (uint32_t)attr(d, CU_DEVICE_ATTRIBUTE_WARP_SIZE);
    int major = attr(d, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    int minor = attr(d, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    info->features = DCK_FEATURE_FP64 | DCK_FEATURE_INT64_ATOMICS | DCK_FEATURE_FLOAT_ATOMICS |
                     DCK_FEATURE_SUBGROUPS;
    if (major * 10 + minor >= 53) info->features |= DCK_FEATURE_FP16;
    info->device_type = DCK_DEVICE_GPU;
    int ver = 0;
    cu.cuDriverGetVersion(&ver);
    snprintf(info->driver, sizeof info->driver, "CUDA %d.%d, sm_%d%d", ver / 1000, ver % 1000 / 10,
             major, minor);
}

static dck_status cu_enumerate(uint32_t *count, dck_device_info *infos)
{
    dck_status st = cu_ready();
    if (st) return st;
    int n = 0;
    CUresult r = cu.cuDeviceGetCount(&n);
    if (r != CUDA_SUCCESS) return cu_fail(r, "cuDeviceGetCount", "the CUDA driver");
    if (!infos) {
        *count = (uint32_t)n;
        return DCK_SUCCESS;
    }
    uint32_t k = 0;
    for (int i = 0; i < n && k < *count; i++) {
        CUdevice d;
        if (cu.cuDeviceGet(&d, i) != CUDA_SUCCESS) continue;
        fill_info(d, (uint32_t)i, &infos[k++]);
    }
    *count = k;
    return DCK_SUCCESS;
}

typedef struct CuCtx {
    CUdevice dev;
    CUcontext ctx;
    uint32_t sm;        /* compute capability as 10 * major + minor */
    CUdeviceptr oob;    /* checked mode: uint[8] */
    pthread_mutex_t mu; /* guards oob */
} CuCtx;

/* The context this thread last made current: skips cuCtxSetCurrent on the launch path (the
 * CUDA runtime API of the same program uses the same primary contexts, so it agrees). */
static _Thread_local CUcontext thread_ctx;
static _Thread_local unsigned thread_gen;
static _Atomic unsigned ctx_gen = 1; /* bumped when a context is released: every cache is stale */

static dck_status cu_current(dck_context ctx)
{
    CuCtx *c = ctx->backend_data;
    unsigned gen = atomic_load_explicit(&ctx_gen, memory_order_acquire);
    if (thread_ctx == c->ctx && thread_gen == gen) return DCK_SUCCESS;
    CUresult r = cu.cuCtxSetCurrent(c->ctx);
    if (r != CUDA_SUCCESS) return cu_fail(r, "cuCtxSetCurrent", ctx->device.info.name);
    thread_ctx = c->ctx;
    thread_gen = gen;
    return DCK_SUCCESS;
}

static void cu_fini(dck_context ctx)
{
    CuCtx *c = ctx->backend_data;
    if (!c) return;
    if (c->ctx) {
        cu.cuCtxSetCurrent(c->ctx);
        cu.cuCtxSynchronize();
        if (c->oob) cu.cuMemFree(c->oob);
        cu.cuDevicePrimaryCtxRelease(c->dev);
        atomic_fetch_add_explicit(&ctx_gen, 1, memory_order_acq_rel);
    }
    pthread_mutex_destroy(&c->mu);
    rt_free(ctx, c);
    ctx->backend_data = NULL;
}

static dck_status cu_init(dck_context ctx, uint32_t index)
{
    dck_status st = cu_ready();
    if (st) return st;
    int n = 0;
    cu.cuDeviceGetCount(&n);
    if (index >= (uint32_t)n)
        return rt_error(DCK_ERROR_DEVICE_NOT_FOUND,
                        "backend 'cuda' has %d device%s; index %u does not exist", n,
                        n == 1 ? "" : "s", index);
    CuCtx *c = rt_calloc(ctx, sizeof *c);
    if (!c) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a CUDA context");
    pthread_mutex_init(&c->mu, NULL);
    ctx->backend_data = c;
    CUresult r = cu.cuDeviceGet(&c->dev, (int)index);
    if (r != CUDA_SUCCESS) {
        cu_fini(ctx);
        return cu_fail(r, "cuDeviceGet", "the CUDA driver");
    }
    fill_info(c->dev, index, &ctx->device.info);
    c->sm = (uint32_t)(attr(c->dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) * 10 +
                       attr(c->dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR));
    r = cu.cuDevicePrimaryCtxRetain(&c->ctx, c->dev);
    if (r != CUDA_SUCCESS) {
        c->ctx = NULL;
        cu_fini(ctx);
        return cu_fail(r, "cuDevicePrimaryCtxRetain", ctx->device.info.name);
    }
    return cu_current(ctx);
}

/* Memory of the context's device: free and total bytes (cuMemGetInfo). */
static dck_status rt_cuda_mem_info(dck_context ctx, uint64_t *free_bytes, uint64_t *total_bytes)
{
    if (!ctx || ctx->backend != &rt_backend_cuda)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "rt_cuda_mem_info: not a CUDA context");
    dck_status st = cu_current(ctx);
    if (st) return st;
    size_t f = 0, t = 0;
    CUresult r = cu.cuMemGetInfo(&f, &t);
    if (r != CUDA_SUCCESS) return cu_fail(r, "cuMemGetInfo", ctx->device.info.name);
    *free_bytes = f;
    *total_bytes = t;
    return DCK_SUCCESS;
}

/* ---- buffers ---- */

typedef struct CuBuf {
    CUdeviceptr ptr;
    void *map; /* host copy while mapped */
    uint32_t map_flags;
} CuBuf;

static dck_status cu_buffer_alloc(dck_context ctx, dck_buffer b)
{
    dck_status st = cu_current(ctx);
    if (st) return st;
    CuBuf *cb = rt_calloc(ctx, sizeof *cb);
    if (!cb) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a buffer");
    /* no empty allocations in CUDA: a 0-byte buffer gets 256 bytes nobody reads (length 0) */
    CUresult r = cu.cuMemAlloc(&cb->ptr, b->size ? (size_t)b->size : 256);
    if (r != CUDA_SUCCESS) {
        rt_free(ctx, cb);
        char l[80];
        size_t f = 0, t = 0;
        cu.cuMemGetInfo(&f, &t);
        return rt_error(
            r == CUDA_ERROR_OUT_OF_MEMORY ? DCK_ERROR_OUT_OF_MEMORY : cu_status_of(r),
            "cannot allocate buffer%s of %llu bytes on '%s' (%llu of %llu MiB free): cuMemAlloc failed "
            "with %s (%d)",
            rt_buffer_label(b, l, sizeof l), (unsigned long long)b->size, ctx->device.info.name,
            (unsigned long long)(f >> 20), (unsigned long long)(t >> 20), cu_name(r), r);
    }
    b->backend_data = cb;
    return DCK_SUCCESS;
}

static void cu_buffer_free(dck_context ctx, dck_buffer b)
{
    CuBuf *cb = b->backend_data;
    if (!cb) return;
    /* cuMemFree of memory queued work still uses: wait for the device first */
    if (cu_current(ctx) == DCK_SUCCESS) {
        cu.cuCtxSynchronize();
        cu.cuMemFree(cb->ptr);
    }
    rt_free(ctx, cb->map);
    rt_free(ctx, cb);
    b->backend_data = NULL;
}

static dck_status cu_transfer(dck_buffer b, uint64_t off, uint64_t size, const void *src, void *dst)
{
    dck_context ctx = b->ctx;
    CuBuf *cb = b->backend_data;
    if (!size) return DCK_SUCCESS;
    dck_status st = rt_finish_all(ctx);
    if (!st) st = cu_current(ctx);
    if (st) return st;
    CUresult r = src ? cu.cuMemcpyHtoD(cb->ptr + off, src, (size_t)size)
                     : cu.cuMemcpyDtoH(dst, cb->ptr + off, (size_t)size);
    if (r != CUDA_SUCCESS) {
        char l[80];
        return rt_error(cu_status_of(r), "%s of buffer%s on '%s': %s failed with %s (%d)",
                        src ? "write" : "read", rt_buffer_label(b, l, sizeof l),
                        ctx->device.info.name, src ? "cuMemcpyHtoD" : "cuMemcpyDtoH", cu_name(r),
                        r);
    }
    return DCK_SUCCESS;
}

static dck_status cu_buffer_write(dck_buffer b, uint64_t off, uint64_t size, const void *src)
{
    return cu_transfer(b, off, size, src, NULL);
}

static dck_status cu_buffer_read(dck_buffer b, uint64_t off, uint64_t size, void *dst)
{
    return cu_transfer(b, off, size, NULL, dst);
}

static dck_status cu_buffer_map(dck_buffer b, uint32_t flags, void **out)
{
    CuBuf *cb = b->backend_data;
    void *p = rt_alloc_aligned(b->ctx, b->size ? (size_t)b->size : 1, RT_ALIGN);
    if (!p)
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory mapping a buffer of %llu bytes",
                        (unsigned long long)b->size);
    dck_status st = cu_transfer(b, 0, b->size, NULL, p); /* a write mapping may be partly written */
    if (st) {
        rt_free(b->ctx, p);
        return st;
    }
    cb->map = p;
    cb->map_flags = flags;
    *out = p;
    return DCK_SUCCESS;
}

static dck_status cu_buffer_unmap(dck_buffer b)
{
    CuBuf *cb = b->backend_data;
    dck_status st = DCK_SUCCESS;
    if (cb->map_flags & DCK_MAP_WRITE) st = cu_transfer(b, 0, b->size, cb->map, NULL);
    rt_free(b->ctx, cb->map);
    cb->map = NULL;
    return st;
}

/* ---- modules ---- */

typedef struct CuModule {
    CUmodule mod;
    uint32_t nkernels;
    CUfunction *fns;       /* per abi kernel */
    uint32_t *max_threads; /* per abi kernel: cuFuncGetAttribute(MAX_THREADS_PER_BLOCK) */
} CuModule;

static void cu_module_unload(dck_module m)
{
    CuModule *cm = m->backend_data;
    if (!cm) return;
    if (cm->mod && cu_current(m->ctx) == DCK_SUCCESS) {
        cu.cuCtxSynchronize();
        cu.cuModuleUnload(cm->mod);
    }
    rt_free(m->ctx, cm->fns);
    rt_free(m->ctx, cm->max_threads);
    rt_free(m->ctx, cm);
    m->backend_data = NULL;
}

/* The highest sm dckc knows that is <= the device's (PTX for it runs there natively). */
static const char *device_sm_name(uint32_t sm)
{
    static const char *const known[] = {"90", "89", "86", "80", "75"};
    for (int k = 0; k < 5; k++)
        if ((uint32_t)atoi(known[k]) <= sm) return known[k];
    return "75";
}

static dck_status cu_module_load(dck_context ctx, const RtPackage *pkg, const RtBlob *blob,
                                 dck_module m)
{
    dck_status st = cu_current(ctx);
    if (st) return st;
    CuCtx *c = ctx->backend_data;
    const char *src = m->abi && m->abi->source_name ? m->abi->source_name : "module";
    (void)pkg;
    uint32_t bsm = abi_blob_sm(blob->target);
    if (bsm > c->sm)
        return rt_error(DCK_ERROR_UNSUPPORTED,
                        "the %s code of '%s' needs sm_%u; device '%s' is sm_%u", blob->target, src,
                        bsm, ctx->device.info.name, c->sm);
    /* the PTX text, NUL-terminated */
    char *ptx = NULL;
    if (strcmp(blob->target, "cuda") == 0) {
        char *log = NULL;
        if (!dckc_nvrtc_compile((const char *)blob->data, (size_t)blob->size, src,
                                device_sm_name(c->sm), &ptx, &log)) {
            st = rt_error(DCK_ERROR_JIT, "cannot build the CUDA C of '%s' for '%s': %s", src,
                          ctx->device.info.name, log ? log : "out of memory");
            free(log);
            return st;
        }
    } else if (bsm) {
        ptx = malloc((size_t)blob->size + 1);
        if (!ptx) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", src);
        memcpy(ptx, blob->data, (size_t)blob->size);
        ptx[blob->size] = 0;
    } else {
        return rt_error(DCK_ERROR_UNSUPPORTED, "backend 'cuda' cannot load a '%s' blob",
                        blob->target);
    }

    CuModule *cm = rt_calloc(ctx, sizeof *cm);
    uint32_t nk = m->abi ? m->abi->nkernels : 0;
    if (cm) {
        cm->fns = rt_calloc(ctx, sizeof(CUfunction) * (nk ? nk : 1));
        cm->max_threads = rt_calloc(ctx, sizeof(uint32_t) * (nk ? nk : 1));
    }
    if (!cm || !cm->fns || !cm->max_threads) {
        if (cm) {
            rt_free(ctx, cm->fns);
            rt_free(ctx, cm->max_threads);
        }
        rt_free(ctx, cm);
        free(ptx);
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", src);
    }
    cm->nkernels = nk;
    m->backend_data = cm;
    static char info_log[8192], error_log[8192]; /* guarded by the context's mutex below */
    pthread_mutex_lock(&c->mu);
    info_log[0] = error_log[0] = 0;
    int opts[4] = {CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES,
                   CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
    void *vals[4] = {info_log, (void *)(uintptr_t)sizeof info_log, error_log,
                     (void *)(uintptr_t)sizeof error_log};
    CUresult r = cu.cuModuleLoadDataEx(&cm->mod, ptx, 4, opts, vals);
    if (r != CUDA_SUCCESS) {
        cm->mod = NULL;
        st = rt_error(
            DCK_ERROR_JIT,
            "cannot load the %s code of '%s' on '%s' (sm_%u): cuModuleLoadDataEx failed with "
            "%s (%d)%s%s",
            blob->target, src, ctx->device.info.name, c->sm, cu_name(r), r,
            error_log[0] ? "; JIT log:\n" : "", error_log);
    }
    pthread_mutex_unlock(&c->mu);
    free(ptx);
    if (st) {
        cu_module_unload(m);
        return st;
    }
    for (uint32_t i = 0; i < nk; i++) {
        const char *name = m->abi->kernels[i].name;
        char sym[300];
        r = cu.cuModuleGetFunction(&cm->fns[i], cm->mod,
                                   abi_entry_symbol(sym, sizeof sym, blob->target, name));
        if (r != CUDA_SUCCESS) {
            st = rt_error(DCK_ERROR_INVALID_MODULE,
                          "the %s code of '%s' has no kernel '%s' (cuModuleGetFunction: %s)",
                          blob->target, src, name, cu_name(r));
            cu_module_unload(m);
            return st;
        }
        int mt = 0;
        cu.cuFuncGetAttribute(&mt, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, cm->fns[i]);
        cm->max_threads[i] = (uint32_t)mt;
    }
    return DCK_SUCCESS;
}

/* From .dck source: a package with PTX for this device's sm (or CUDA C with
 * $DCK_CUDA_PTX_VIA=nvrtc), through the common package path. */
static dck_status cu_module_from_source(dck_context ctx, const char *path, const char *source,
                                        const dck_module_options *o, dck_module m)
{
    CuCtx *c = ctx->backend_data;
    dck_module_options opts;
    if (o)
        opts = *o;
    else {
        memset(&opts, 0, sizeof opts);
        opts.opt_level = -1;
    }
    char target[32];
    const char *via = getenv("DCK_CUDA_PTX_VIA");
    if (via && strcmp(via, "nvrtc") == 0)
        snprintf(target, sizeof target, "cuda");
    else
        snprintf(target, sizeof target, "ptx-sm%s", device_sm_name(c->sm));
    opts.target = target;
    return rt_module_from_source_pkg(ctx, path, source, &opts, m);
}

/* ---- queues, launches, events ---- */

typedef struct CuQueue {
    CUstream stream;
    bool capturing; /* rt_cuda_batch_begin .. end */
} CuQueue;

static dck_status cu_queue_create(dck_queue q)
{
    dck_status st = cu_current(q->ctx);
    if (st) return st;
    CuQueue *cq = rt_calloc(q->ctx, sizeof *cq);
    if (!cq) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a queue");
    CUresult r = cu.cuStreamCreate(&cq->stream, 0);
    if (r != CUDA_SUCCESS) {
        rt_free(q->ctx, cq);
        return cu_fail(r, "cuStreamCreate", q->ctx->device.info.name);
    }
    q->backend_data = cq;
    return DCK_SUCCESS;
}

static dck_status cu_queue_finish(dck_queue q)
{
    CuQueue *cq = q->backend_data;
    dck_status st = cu_current(q->ctx);
    if (st) return st;
    if (cq->capturing) return DCK_SUCCESS; /* nothing runs while a batch is being recorded */
    CUresult r = cu.cuStreamSynchronize(cq->stream);
    if (r != CUDA_SUCCESS)
        return rt_error(cu_status_of(r), "work on '%s' failed: %s (%d) (cuStreamSynchronize)",
                        q->ctx->device.info.name, cu_name(r), r);
    return DCK_SUCCESS;
}

static void cu_queue_destroy(dck_queue q)
{
    CuQueue *cq = q->backend_data;
    if (!cq) return;
    if (cu_current(q->ctx) == DCK_SUCCESS) {
        if (cq->capturing) {
            CUgraph g = NULL;
            if (cu.cuStreamEndCapture(cq->stream, &g) == CUDA_SUCCESS && g) cu.cuGraphDestroy(g);
        }
        cu.cuStreamSynchronize(cq->stream);
        cu.cuStreamDestroy(cq->stream);
    }
    rt_free(q->ctx, cq);
    q->backend_data = NULL;
}

typedef struct CuEvent {
    CUevent start, end;
    uint64_t host_t0; /* CLOCK_MONOTONIC at submission */
} CuEvent;

static void event_free(CuEvent *e)
{
    if (e->start) cu.cuEventDestroy(e->start);
    if (e->end) cu.cuEventDestroy(e->end);
}

static dck_status cu_launch(dck_queue q, const RtLaunch *l, dck_cpu_oob *oob, void **ev_out)
{
    dck_context ctx = q->ctx;
    CuCtx *c = ctx->backend_data;
    CuQueue *cq = q->backend_data;
    CuModule *cm = l->module->backend_data;
    if (!cm || l->kernel_index >= cm->nkernels)
        return rt_error(DCK_ERROR_INVALID_MODULE, "kernel '%s' has no CUDA code in this module",
                        l->kernel_name);
    dck_status st = cu_current(ctx);
    if (st) return st;
    uint64_t items = (uint64_t)l->groups[0] * l->groups[1] * l->groups[2];
    if (!items && !oob) return DCK_SUCCESS; /* an empty launch does nothing */
    uint32_t wg = l->local[0] * l->local[1] * l->local[2];
    if (cm->max_threads[l->kernel_index] && wg > cm->max_threads[l->kernel_index])
        return rt_error(DCK_ERROR_INVALID_RANGE,
                        "kernel '%s': work-group of %u work-items exceeds the %u that device "
                        "'%s' allows for this kernel (its register use)",
                        l->kernel_name, wg, cm->max_threads[l->kernel_index],
                        ctx->device.info.name);
    if (oob && cq->capturing)
        return rt_error(DCK_ERROR_UNSUPPORTED,
                        "kernel '%s': checked-mode launches cannot be recorded into a batch",
                        l->kernel_name);
    const dck_abi_kernel *ak = l->k;
    /* kernel parameters: pointers to each argument in the GPU ABI's order */
    enum { MAXP = 2 * 64 + 4 };
    void *params[MAXP];
    CUdeviceptr ptrs[64];
    uint32_t lens[64], gsz[3];
    uint32_t np = 0;
    if (ak->nparams > 64)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "kernel '%s' has more than 64 parameters",
                        l->kernel_name);
    for (uint32_t i = 0; i < ak->nparams; i++) {
        if (ak->params[i].kind == DCK_ABI_PARAM_BUFFER) {
            CuBuf *cb = l->bufs[i]->backend_data;
            ptrs[i] = cb->ptr;
            lens[i] = (uint32_t)l->bufs[i]->count;
            params[np++] = &ptrs[i];
            params[np++] = &lens[i];
        } else {
            params[np++] = l->args[i];
        }
    }
    for (int d = 0; d < 3; d++) {
        gsz[d] = l->global[d];
        params[np++] = &gsz[d];
    }
    if (oob) {
        pthread_mutex_lock(&c->mu);
        CUresult r = CUDA_SUCCESS;
        if (!c->oob) r = cu.cuMemAlloc(&c->oob, 8 * sizeof(uint32_t));
        if (r == CUDA_SUCCESS) r = cu.cuMemsetD32Async(c->oob, 0, 8, cq->stream);
        if (r != CUDA_SUCCESS) {
            pthread_mutex_unlock(&c->mu);
            return cu_fail(r, "cuMemAlloc/cuMemsetD32Async", "the checked-mode record");
        }
        params[np++] = &c->oob;
    }
    CuEvent *ce = NULL;
    if (ev_out && !cq->capturing && (ce = rt_calloc(ctx, sizeof *ce))) {
        if (cu.cuEventCreate(&ce->start, 0) != CUDA_SUCCESS ||
            cu.cuEventCreate(&ce->end, 0) != CUDA_SUCCESS ||
            cu.cuEventRecord(ce->start, cq->stream) != CUDA_SUCCESS) {
            event_free(ce);
            rt_free(ctx, ce);
            ce = NULL;
        }
    }
    uint64_t t0 = ce ? rt_now_ns() : 0;
    CUresult r = CUDA_SUCCESS;
    if (items)
        r = cu.cuLaunchKernel(cm->fns[l->kernel_index], l->groups[0], l->groups[1], l->groups[2],
                              l->local[0], l->local[1], l->local[2], 0, cq->stream, params, NULL);
    if (r != CUDA_SUCCESS)
        st = rt_error(
            r == CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES ? DCK_ERROR_INVALID_RANGE : cu_status_of(r),
            "launch of kernel '%s' over (%u, %u, %u) in groups of (%u, %u, %u) on '%s': cuLaunchKernel "
            "failed with %s (%d)",
            l->kernel_name, l->global[0], l->global[1], l->global[2], l->local[0], l->local[1],
            l->local[2], ctx->device.info.name, cu_name(r), r);
    if (ce && !st && cu.cuEventRecord(ce->end, cq->stream) != CUDA_SUCCESS) {
        event_free(ce);
        rt_free(ctx, ce);
        ce = NULL;
    }
    if (oob) {
        if (!st) {
            uint32_t rec[8];
            r = cu.cuMemcpyDtoHAsync(rec, c->oob, sizeof rec, cq->stream);
            if (r == CUDA_SUCCESS) r = cu.cuStreamSynchronize(cq->stream);
            if (r != CUDA_SUCCESS) {
                st = rt_error(cu_status_of(r), "kernel '%s' failed on '%s': %s (%d)",
                              l->kernel_name, ctx->device.info.name, cu_name(r), r);
            } else {
                oob->hit = (int32_t)rec[0];
                oob->param = rec[1];
                oob->line = rec[2];
                oob->is_write = rec[3];
                oob->index = (uint64_t)rec[4] | (uint64_t)rec[5] << 32;
                oob->len = (uint64_t)rec[6] | (uint64_t)rec[7] << 32;
            }
        }
        pthread_mutex_unlock(&c->mu);
    }
    if (ce) {
        if (st) {
            event_free(ce);
            rt_free(ctx, ce);
        } else {
            ce->host_t0 = t0;
            *ev_out = ce;
        }
    }
    return st;
}

static dck_status cu_event_wait(dck_context ctx, void *p)
{
    CuEvent *ce = p;
    dck_status st = cu_current(ctx);
    if (st) return st;
    CUresult r = cu.cuEventSynchronize(ce->end);
    if (r != CUDA_SUCCESS)
        return rt_error(cu_status_of(r), "a launch on '%s' failed: %s (%d)", ctx->device.info.name,
                        cu_name(r), r);
    return DCK_SUCCESS;
}

static dck_status cu_event_times(dck_context ctx, void *p, uint64_t *start, uint64_t *end)
{
    CuEvent *ce = p;
    dck_status st = cu_event_wait(ctx, p);
    if (st) return st;
    float ms = 0;
    CUresult r = cu.cuEventElapsedTime(&ms, ce->start, ce->end);
    if (r != CUDA_SUCCESS) return cu_fail(r, "cuEventElapsedTime", ctx->device.info.name);
    *start = ce->host_t0;
    *end = ce->host_t0 + (uint64_t)((double)ms * 1e6);
    return DCK_SUCCESS;
}

static void cu_event_release(dck_context ctx, void *p)
{
    CuEvent *ce = p;
    if (cu_current(ctx) == DCK_SUCCESS) event_free(ce);
    rt_free(ctx, ce);
}

/* ---- batches: launches captured into a CUDA graph, replayed with one submission ---- */

typedef struct CuBatch {
    CUgraph graph;
    CUgraphExec exec;
} CuBatch;

/* Starts recording the launches of q (stream capture): they run only when the batch runs. */
static dck_status rt_cuda_batch_begin(dck_queue q)
{
    CuQueue *cq = q->backend_data;
    dck_status st = cu_current(q->ctx);
    if (st) return st;
    if (cq->capturing)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "the queue is already recording a batch");
    CUresult r = cu.cuStreamSynchronize(cq->stream);
    if (r == CUDA_SUCCESS)
        r = cu.cuStreamBeginCapture(cq->stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
    if (r != CUDA_SUCCESS) return cu_fail(r, "cuStreamBeginCapture", q->ctx->device.info.name);
    cq->capturing = true;
    return DCK_SUCCESS;
}

/* Ends the recording and instantiates the CUDA graph; *out is released by rt_cuda_batch_release. */
static dck_status rt_cuda_batch_end(dck_queue q, void **out)
{
    CuQueue *cq = q->backend_data;
    dck_status st = cu_current(q->ctx);
    if (st) return st;
    if (!cq->capturing)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "the queue is not recording a batch");
    cq->capturing = false;
    CuBatch *b = rt_calloc(q->ctx, sizeof *b);
    CUgraph g = NULL;
    CUresult r = cu.cuStreamEndCapture(cq->stream, &g);
    if (!b || r != CUDA_SUCCESS) {
        if (g) cu.cuGraphDestroy(g);
        rt_free(q->ctx, b);
        return b ? cu_fail(r, "cuStreamEndCapture", q->ctx->device.info.name)
                 : rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory ending a batch");
    }
    b->graph = g;
    r = cu.cuGraphInstantiateWithFlags(&b->exec, g, 0);
    if (r != CUDA_SUCCESS) {
        cu.cuGraphDestroy(g);
        rt_free(q->ctx, b);
        return cu_fail(r, "cuGraphInstantiate", q->ctx->device.info.name);
    }
    *out = b;
    return DCK_SUCCESS;
}

/* Replays a recorded batch on q (asynchronous, like a launch). */
static dck_status rt_cuda_batch_run(dck_queue q, void *batch)
{
    CuQueue *cq = q->backend_data;
    CuBatch *b = batch;
    dck_status st = cu_current(q->ctx);
    if (st) return st;
    CUresult r = cu.cuGraphLaunch(b->exec, cq->stream);
    if (r != CUDA_SUCCESS) return cu_fail(r, "cuGraphLaunch", q->ctx->device.info.name);
    return DCK_SUCCESS;
}

static void rt_cuda_batch_release(dck_context ctx, void *batch)
{
    CuBatch *b = batch;
    if (!b) return;
    if (cu_current(ctx) == DCK_SUCCESS) {
        cu.cuCtxSynchronize();
        cu.cuGraphExecDestroy(b->exec);
        cu.cuGraphDestroy(b->graph);
    }
    rt_free(ctx, b);
}

const RtBackend rt_backend_cuda = {
    .name = "cuda",
    .id = DCK_BACKEND_CUDA,
    .targets = "ptx-sm90,ptx-sm89,ptx-sm86,ptx-sm80,ptx-sm75,cuda",
    .enumerate = cu_enumerate,
    .init = cu_init,
    .fini = cu_fini,
    .buffer_alloc = cu_buffer_alloc,
    .buffer_free = cu_buffer_free,
    .buffer_write = cu_buffer_write,
    .buffer_read = cu_buffer_read,
    .buffer_map = cu_buffer_map,
    .buffer_unmap = cu_buffer_unmap,
    .module_from_source = cu_module_from_source,
    .module_load = cu_module_load,
    .module_unload = cu_module_unload,
    .queue_create = cu_queue_create,
    .queue_finish = cu_queue_finish,
    .queue_destroy = cu_queue_destroy,
    .launch = cu_launch,
    .event_wait = cu_event_wait,
    .event_times = cu_event_times,
    .event_release = cu_event_release,
    .batch_begin = rt_cuda_batch_begin,
    .batch_end = rt_cuda_batch_end,
    .batch_run = rt_cuda_batch_run,
    .batch_release = rt_cuda_batch_release,
    .mem_info = rt_cuda_mem_info,
};
