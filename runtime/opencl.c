/* opencl.c: the OpenCL backend (rt.h has the backend contract).
 *
 * libOpenCL.so.1 (the ICD loader) is dlopen'ed on first use, never linked: a machine without
 * OpenCL reports the backend as unavailable with the loader's reason. Devices are every device
 * of every platform, numbered in platform order. Per context: one cl_context on the chosen
 * device and an auxiliary in-order queue for blocking transfers; per dck_queue: one in-order
 * queue with profiling enabled (launches return before the work is done).
 *
 * Programs come from the package's "spirv-opencl" blob, tried first where the device takes it
 * (ctx->spirv_ok: the device has cl_khr_spir and llvm-spirv is on $PATH): OpenCL-env SPIR-V
 * turned back into spir64 LLVM bitcode by `llvm-spirv-15 -r` ($DCK_LLVM_SPIRV) and built with
 * clCreateProgramWithBinary, because PoCL has no cl_khr_il_program; or from its "opencl" blob
 * (OpenCL C 1.2, built with clBuildProgram). A build failure carries the device compiler's log.
 *
 * Kernel arguments follow the GPU kernel ABI: per .dck parameter the value itself, or a buffer
 * as (cl_mem, uint count); then the exact global size x, y, z as three uint; in checked mode
 * a cl_mem of uint[8], the out-of-bounds record (dck_cpu_oob layout). The NDRange is
 * ceil(global/local) groups, padded to a multiple of the local size (OpenCL 1.2).
 */
#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>

#include "rt.h"
#include "abi/abi.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- the dlopen'ed API ---- */

#define CL_FUNCS(X)                                                                                \
    X(clGetPlatformIDs, cl_int, (cl_uint, cl_platform_id *, cl_uint *))                            \
    X(clGetPlatformInfo, cl_int, (cl_platform_id, cl_platform_info, size_t, void *, size_t *))     \
    X(clGetDeviceIDs, cl_int,                                                                      \
      (cl_platform_id, cl_device_type, cl_uint, cl_device_id *, cl_uint *))                        \
    X(clGetDeviceInfo, cl_int, (cl_device_id, cl_device_info, size_t, void *, size_t *))           \
    X(clCreateContext, cl_context,                                                                 \
      (const cl_context_properties *, cl_uint, const cl_device_id *,                               \
       void(CL_CALLBACK *)(const char *, const void *, size_t, void *), void *, cl_int *))         \
    X(clReleaseContext, cl_int, (cl_context))                                                      \
    X(clCreateCommandQueue, cl_command_queue,                                                      \
      (cl_context, cl_device_id, cl_command_queue_properties, cl_int *))                           \
    X(clReleaseCommandQueue, cl_int, (cl_command_queue))                                           \
    X(clFinish, cl_int, (cl_command_queue))                                                        \
    X(clFlush, cl_int, (cl_command_queue))                                                         \
    X(clCreateBuffer, cl_mem, (cl_context, cl_mem_flags, size_t, void *, cl_int *))                \
    X(clReleaseMemObject, cl_int, (cl_mem))                                                        \
    X(clEnqueueWriteBuffer, cl_int,                                                                \
      (cl_command_queue, cl_mem, cl_bool, size_t, size_t, const void *, cl_uint, const cl_event *, \
       cl_event *))                                                                                \
    X(clEnqueueReadBuffer, cl_int,                                                                 \
      (cl_command_queue, cl_mem, cl_bool, size_t, size_t, void *, cl_uint, const cl_event *,       \
       cl_event *))                                                                                \
    X(clCreateProgramWithSource, cl_program,                                                       \
      (cl_context, cl_uint, const char **, const size_t *, cl_int *))                              \
    X(clCreateProgramWithBinary, cl_program,                                                       \
      (cl_context, cl_uint, const cl_device_id *, const size_t *, const unsigned char **,          \
       cl_int *, cl_int *))                                                                        \
    X(clBuildProgram, cl_int,                                                                      \
      (cl_program, cl_uint, const cl_device_id *, const char *,                                    \
       void(CL_CALLBACK *)(cl_program, void *), void *))                                           \
    X(clGetProgramBuildInfo, cl_int,                                                               \
      (cl_program, cl_device_id, cl_program_build_info, size_t, void *, size_t *))                 \
    X(clReleaseProgram, cl_int, (cl_program))                                                      \
    X(clCreateKernel, cl_kernel, (cl_program, const char *, cl_int *))                             \
    X(clReleaseKernel, cl_int, (cl_kernel))                                                        \
    X(clSetKernelArg, cl_int, (cl_kernel, cl_uint, size_t, const void *))                          \
    X(clGetKernelWorkGroupInfo, cl_int,                                                            \
      (cl_kernel, cl_device_id, cl_kernel_work_group_info, size_t, void *, size_t *))              \
    X(clEnqueueNDRangeKernel, cl_int,                                                              \
      (cl_command_queue, cl_kernel, cl_uint, const size_t *, const size_t *, const size_t *,       \
       cl_uint, const cl_event *, cl_event *))                                                     \
    X(clWaitForEvents, cl_int, (cl_uint, const cl_event *))                                        \
    X(clGetEventInfo, cl_int, (cl_event, cl_event_info, size_t, void *, size_t *))                 \
    X(clGetEventProfilingInfo, cl_int, (cl_event, cl_profiling_info, size_t, void *, size_t *))    \
    X(clReleaseEvent, cl_int, (cl_event))

typedef struct ClApi {
#define X(name, ret, args) ret(CL_API_CALL *name) args;
    CL_FUNCS(X)
#undef X
} ClApi;

static ClApi cl;
static pthread_once_t cl_once = PTHREAD_ONCE_INIT;
static char cl_load_error[512];
/* Serializes platform and device enumeration: ICDs initialize their devices lazily on the
 * first clGetPlatformIDs/clGetDeviceIDs, and PoCL 3.1 is not safe against several threads
 * doing that at once (one of them sees 0 devices, or the process crashes). Contexts created
 * from several threads at once enumerate under this lock. */
static pthread_mutex_t cl_enum_mu = PTHREAD_MUTEX_INITIALIZER;

static void cl_load(void)
{
    const char *names[] = {"libOpenCL.so.1", "libOpenCL.so"};
    void *lib = NULL;
    for (size_t i = 0; i < 2 && !lib; i++) lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(cl_load_error, sizeof cl_load_error,
                 "cannot load libOpenCL.so.1 (%s); install an OpenCL ICD "
                 "loader and a driver (e.g. ocl-icd-libopencl1 and pocl-opencl-icd)",
                 e ? e : "not found");
        return;
    }
#define X(name, ret, args)                                              \
    if (!cl_load_error[0] && !(*(void **)&cl.name = dlsym(lib, #name))) \
        snprintf(cl_load_error, sizeof cl_load_error, "libOpenCL.so.1 has no symbol %s", #name);
    CL_FUNCS(X)
#undef X
    if (cl_load_error[0]) return;
    /* the ICD's device initialization happens here, once, in one thread (see cl_enum_mu) */
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (cl.clGetPlatformIDs(16, plats, &np) == CL_SUCCESS)
        for (cl_uint p = 0; p < np && p < 16; p++) {
            cl_uint nd = 0;
            cl.clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
        }
}

static dck_status cl_ready(void)
{
    pthread_once(&cl_once, cl_load);
    if (cl_load_error[0]) return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE, "%s", cl_load_error);
    return DCK_SUCCESS;
}

static const char *cl_err(cl_int e)
{
    switch (e) {
// clang-format off
#define E(x) case x: return #x;
    E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
    E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
    E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
    E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE)
    E(CL_INVALID_CONTEXT) E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_BINARY)
    E(CL_INVALID_BUILD_OPTIONS) E(CL_INVALID_PROGRAM) E(CL_INVALID_PROGRAM_EXECUTABLE)
    E(CL_INVALID_KERNEL_NAME) E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX)
    E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS) E(CL_INVALID_WORK_DIMENSION)
    E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE) E(CL_INVALID_GLOBAL_OFFSET)
    E(CL_INVALID_EVENT) E(CL_INVALID_OPERATION) E(CL_INVALID_BUFFER_SIZE) E(CL_INVALID_GLOBAL_WORK_SIZE)
    E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) E(CL_MISALIGNED_SUB_BUFFER_OFFSET)
#undef E
        // clang-format on
    }
    return "unknown OpenCL error";
}

/* "clX failed: CL_NAME (-n)" as a dck error. */
static dck_status cl_fail(dck_status st, cl_int e, const char *call, const char *what)
{
    return rt_error(st, "%s: %s failed with %s (%d)", what, call, cl_err(e), (int)e);
}

static dck_status cl_status_of(cl_int e)
{
    return e == CL_OUT_OF_HOST_MEMORY || e == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
                   e == CL_OUT_OF_RESOURCES
               ? DCK_ERROR_OUT_OF_MEMORY
               : DCK_ERROR_UNSUPPORTED;
}

/* ---- devices ---- */

typedef struct ClDev {
    cl_platform_id platform;
    cl_device_id device;
} ClDev;

/* Every device of every platform, in platform order (at most cap); caller holds cl_enum_mu. */
static dck_status cl_devices_locked(ClDev *out, uint32_t cap, uint32_t *n)
{
    cl_platform_id plats[16];
    cl_uint np = 0;
    cl_int e = cl.clGetPlatformIDs(16, plats, &np);
    if (e == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: no ICD */ || (e == CL_SUCCESS && np == 0))
        return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE,
                        "the OpenCL loader found no platform (no ICD is "
                        "installed in /etc/OpenCL/vendors)");
    if (e != CL_SUCCESS)
        return cl_fail(DCK_ERROR_BACKEND_UNAVAILABLE, e, "clGetPlatformIDs", "OpenCL");
    if (np > 16) np = 16;
    for (cl_uint p = 0; p < np; p++) {
        cl_device_id devs[32];
        cl_uint nd = 0;
        if (cl.clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 32, devs, &nd) != CL_SUCCESS) continue;
        if (nd > 32) nd = 32;
        for (cl_uint d = 0; d < nd; d++) {
            if (out && *n < cap) {
                out[*n].platform = plats[p];
                out[*n].device = devs[d];
            }
            (*n)++;
        }
    }
    return DCK_SUCCESS;
}

static dck_status cl_devices(ClDev *out, uint32_t cap, uint32_t *n)
{
    *n = 0;
    dck_status st = cl_ready();
    if (st) return st;
    pthread_mutex_lock(&cl_enum_mu);
    st = cl_devices_locked(out, cap, n);
    pthread_mutex_unlock(&cl_enum_mu);
    return st;
}

static bool has_ext(const char *exts, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = exts; (p = strstr(p, name)) != NULL; p += len)
        if ((p == exts || p[-1] == ' ') && (p[len] == ' ' || p[len] == 0)) return true;
    return false;
}

static void fill_info(const ClDev *d, uint32_t index, dck_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->backend = DCK_BACKEND_OPENCL;
    snprintf(info->backend_name, sizeof info->backend_name, "opencl");
    info->index = index;
    cl.clGetDeviceInfo(d->device, CL_DEVICE_NAME, sizeof info->name - 1, info->name, NULL);
    char pname[64] = "", pver[64] = "";
    cl.clGetPlatformInfo(d->platform, CL_PLATFORM_NAME, sizeof pname - 1, pname, NULL);
    cl.clGetDeviceInfo(d->device, CL_DRIVER_VERSION, sizeof pver - 1, pver, NULL);
    snprintf(info->driver, sizeof info->driver, "%.30s %.30s", pname, pver);
    cl_ulong mem = 0, local = 0;
    cl_uint cus = 0;
    size_t wg = 0, dims[3] = {0, 0, 0};
    cl_device_type type = 0;
    cl_bool unified = CL_FALSE;
    cl.clGetDeviceInfo(d->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
    cl.clGetDeviceInfo(d->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
    cl.clGetDeviceInfo(d->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cus, &cus, NULL);
    cl.clGetDeviceInfo(d->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL);
    cl.clGetDeviceInfo(d->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof dims, dims, NULL);
    cl.clGetDeviceInfo(d->device, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    cl.clGetDeviceInfo(d->device, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL);
    info->global_memory_bytes = mem;
    info->max_shared_bytes = local;
    info->compute_units = cus;
    /* the DCK ABI caps work-groups at 1024 items */
    info->max_work_group_size = (uint32_t)(wg > 1024 ? 1024 : wg);
    for (int i = 0; i < 3; i++)
        info->max_work_group_dims[i] = (uint32_t)(dims[i] > 1024 ? 1024 : dims[i]);
    info->subgroup_size = 1;
    info->device_type = (type & CL_DEVICE_TYPE_GPU)   ? DCK_DEVICE_GPU
                        : (type & CL_DEVICE_TYPE_CPU) ? DCK_DEVICE_CPU
                                                      : DCK_DEVICE_OTHER;
    size_t elen = 0;
    if (cl.clGetDeviceInfo(d->device, CL_DEVICE_EXTENSIONS, 0, NULL, &elen) == CL_SUCCESS && elen) {
        char *exts = malloc(elen + 1);
        if (exts &&
            cl.clGetDeviceInfo(d->device, CL_DEVICE_EXTENSIONS, elen, exts, NULL) == CL_SUCCESS) {
            exts[elen] = 0;
            if (has_ext(exts, "cl_khr_fp64")) info->features |= DCK_FEATURE_FP64;
            if (has_ext(exts, "cl_khr_fp16")) info->features |= DCK_FEATURE_FP16;
            if (has_ext(exts, "cl_khr_int64_base_atomics"))
                info->features |= DCK_FEATURE_INT64_ATOMICS;
            if (has_ext(exts, "cl_khr_subgroups") || has_ext(exts, "cl_intel_subgroups"))
                info->features |= DCK_FEATURE_SUBGROUPS;
        }
        free(exts);
    }
    if (unified) info->features |= DCK_FEATURE_UNIFIED_MEMORY;
}

static dck_status cl_enumerate(uint32_t *count, dck_device_info *infos)
{
    ClDev devs[64];
    uint32_t n = 0;
    dck_status st = cl_devices(devs, 64, &n);
    if (st) return st;
    if (n > 64) n = 64;
    if (!infos) {
        *count = n;
        return DCK_SUCCESS;
    }
    uint32_t m = *count < n ? *count : n;
    for (uint32_t i = 0; i < m; i++) fill_info(&devs[i], i, &infos[i]);
    *count = m;
    return DCK_SUCCESS;
}

/* ---- contexts ---- */

static bool takes_spirv(cl_device_id dev);

typedef struct ClCtx {
    cl_context context;
    cl_device_id device;
    cl_command_queue aux; /* blocking transfers and checked-mode records */
    cl_mem oob;           /* checked mode: uint[8] */
    pthread_mutex_t mu;   /* guards oob, kernel arguments and the clock offset */
    int64_t offset;       /* CLOCK_MONOTONIC ns - device profiling ns (see cl_event_wait) */
    bool have_offset;
} ClCtx;

static void cl_fini(dck_context ctx)
{
    ClCtx *c = ctx->backend_data;
    if (!c) return;
    if (c->oob) cl.clReleaseMemObject(c->oob);
    if (c->aux) cl.clReleaseCommandQueue(c->aux);
    if (c->context) cl.clReleaseContext(c->context);
    pthread_mutex_destroy(&c->mu);
    rt_free(ctx, c);
    ctx->backend_data = NULL;
}

static dck_status cl_init(dck_context ctx, uint32_t index)
{
    ClDev devs[64];
    uint32_t n = 0;
    dck_status st = cl_devices(devs, 64, &n);
    if (st) return st;
    if (index >= n || index >= 64)
        return rt_error(DCK_ERROR_DEVICE_NOT_FOUND,
                        "backend 'opencl' has %u device%s; index %u does not exist", n,
                        n == 1 ? "" : "s", index);
    fill_info(&devs[index], index, &ctx->device.info);
    ClCtx *c = rt_calloc(ctx, sizeof *c);
    if (!c) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating an OpenCL context");
    pthread_mutex_init(&c->mu, NULL);
    ctx->backend_data = c;
    c->device = devs[index].device;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM,
                                     (cl_context_properties)devs[index].platform, 0};
    cl_int e;
    c->context = cl.clCreateContext(props, 1, &c->device, NULL, NULL, &e);
    if (!c->context) {
        cl_fini(ctx);
        return cl_fail(DCK_ERROR_BACKEND_UNAVAILABLE, e, "clCreateContext", ctx->device.info.name);
    }
    c->aux = cl.clCreateCommandQueue(c->context, c->device, 0, &e);
    if (!c->aux) {
        cl_fini(ctx);
        return cl_fail(cl_status_of(e), e, "clCreateCommandQueue", ctx->device.info.name);
    }
    ctx->spirv_ok = takes_spirv(c->device);
    return DCK_SUCCESS;
}

/* ---- buffers ---- */

typedef struct ClBuf {
    cl_mem mem;
    void *map; /* host copy while mapped */
    uint32_t map_flags;
} ClBuf;

static dck_status cl_buffer_alloc(dck_context ctx, dck_buffer b)
{
    ClCtx *c = ctx->backend_data;
    ClBuf *cb = rt_calloc(ctx, sizeof *cb);
    if (!cb) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a buffer");
    cl_int e;
    /* OpenCL has no empty buffers: a 0-byte buffer gets 16 bytes nobody reads (length 0) */
    cb->mem =
        cl.clCreateBuffer(c->context, CL_MEM_READ_WRITE, b->size ? (size_t)b->size : 16, NULL, &e);
    if (!cb->mem) {
        rt_free(ctx, cb);
        char l[80];
        return rt_error(
            e == CL_INVALID_BUFFER_SIZE ? DCK_ERROR_BUFFER_TOO_LARGE : DCK_ERROR_OUT_OF_MEMORY,
            "cannot allocate buffer%s of %llu bytes on '%s': clCreateBuffer failed with %s (%d)",
            rt_buffer_label(b, l, sizeof l), (unsigned long long)b->size, ctx->device.info.name,
            cl_err(e), (int)e);
    }
    b->backend_data = cb;
    return DCK_SUCCESS;
}

static void cl_buffer_free(dck_context ctx, dck_buffer b)
{
    ClBuf *cb = b->backend_data;
    if (!cb) return;
    cl.clReleaseMemObject(
        cb->mem); /* deferred by OpenCL until queued commands that use it finish */
    rt_free(ctx, cb->map);
    rt_free(ctx, cb);
    b->backend_data = NULL;
}

static dck_status cl_transfer(dck_buffer b, uint64_t off, uint64_t size, const void *src, void *dst)
{
    dck_context ctx = b->ctx;
    ClCtx *c = ctx->backend_data;
    ClBuf *cb = b->backend_data;
    if (!size) return DCK_SUCCESS;
    dck_status st = rt_finish_all(ctx);
    if (st) return st;
    cl_int e = src ? cl.clEnqueueWriteBuffer(c->aux, cb->mem, CL_TRUE, (size_t)off, (size_t)size,
                                             src, 0, NULL, NULL)
                   : cl.clEnqueueReadBuffer(c->aux, cb->mem, CL_TRUE, (size_t)off, (size_t)size,
                                            dst, 0, NULL, NULL);
    if (e != CL_SUCCESS) {
        char l[80];
        return rt_error(cl_status_of(e), "%s of buffer%s on '%s': %s failed with %s (%d)",
                        src ? "write" : "read", rt_buffer_label(b, l, sizeof l),
                        ctx->device.info.name, src ? "clEnqueueWriteBuffer" : "clEnqueueReadBuffer",
                        cl_err(e), (int)e);
    }
    return DCK_SUCCESS;
}

static dck_status cl_buffer_write(dck_buffer b, uint64_t off, uint64_t size, const void *src)
{
    return cl_transfer(b, off, size, src, NULL);
}

static dck_status cl_buffer_read(dck_buffer b, uint64_t off, uint64_t size, void *dst)
{
    return cl_transfer(b, off, size, NULL, dst);
}

static dck_status cl_buffer_map(dck_buffer b, uint32_t flags, void **out)
{
    ClBuf *cb = b->backend_data;
    void *p = rt_alloc_aligned(b->ctx, b->size ? (size_t)b->size : 1, RT_ALIGN);
    if (!p)
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory mapping a buffer of %llu bytes",
                        (unsigned long long)b->size);
    /* a write-only mapping still reads: the caller may write only part of the buffer */
    dck_status st = cl_transfer(b, 0, b->size, NULL, p);
    if (st) {
        rt_free(b->ctx, p);
        return st;
    }
    cb->map = p;
    cb->map_flags = flags;
    *out = p;
    return DCK_SUCCESS;
}

static dck_status cl_buffer_unmap(dck_buffer b)
{
    ClBuf *cb = b->backend_data;
    dck_status st = DCK_SUCCESS;
    if (cb->map_flags & DCK_MAP_WRITE) st = cl_transfer(b, 0, b->size, cb->map, NULL);
    rt_free(b->ctx, cb->map);
    cb->map = NULL;
    return st;
}

/* ---- programs ---- */

typedef struct ClModule {
    cl_program program;
    uint32_t nkernels;
    cl_kernel *kernels; /* per abi kernel */
} ClModule;

static void cl_module_unload(dck_module m)
{
    ClModule *cm = m->backend_data;
    if (!cm) return;
    for (uint32_t i = 0; i < cm->nkernels; i++)
        if (cm->kernels[i]) cl.clReleaseKernel(cm->kernels[i]);
    rt_free(m->ctx, cm->kernels);
    if (cm->program) cl.clReleaseProgram(cm->program);
    rt_free(m->ctx, cm);
    m->backend_data = NULL;
}

/* Runs argv with stdout+stderr captured into out; returns the exit status or -1. */
static int run_tool(char *const *argv, char *out, size_t outlen)
{
    int fds[2];
    out[0] = 0;
    if (pipe(fds) != 0) {
        snprintf(out, outlen, "pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    pid_t pid;
    int err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err) {
        close(fds[0]);
        snprintf(out, outlen, "cannot run '%s': %s", argv[0], strerror(err));
        return -1;
    }
    size_t len = 0;
    char tmp[1024];
    ssize_t n;
    while ((n = read(fds[0], tmp, sizeof tmp)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        size_t take = (size_t)n < outlen - 1 - len ? (size_t)n : outlen - 1 - len;
        memcpy(out + len, tmp, take);
        len += take;
    }
    out[len] = 0;
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The llvm-spirv that turns OpenCL-env SPIR-V back into SPIR bitcode. */
static const char *spirv_tool(void)
{
    const char *tool = getenv("DCK_LLVM_SPIRV");
    return tool && *tool ? tool : "llvm-spirv-15";
}

/* Whether `tool` names an executable (a path, or a name found on $PATH). */
static bool tool_found(const char *tool)
{
    if (strchr(tool, '/')) return access(tool, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path || !*path) path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        char full[1024];
        if (len &&
            (size_t)snprintf(full, sizeof full, "%.*s/%s", (int)len, p, tool) < sizeof full &&
            access(full, X_OK) == 0)
            return true;
        p += len;
        if (*p == ':') p++;
    }
    return false;
}

/* Whether the device builds the package's "spirv-opencl" blob: it takes SPIR 1.2 bitcode
 * (cl_khr_spir) and llvm-spirv is there to turn the SPIR-V into it. */
static bool takes_spirv(cl_device_id dev)
{
    size_t elen = 0;
    bool spir = false;
    if (cl.clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, 0, NULL, &elen) == CL_SUCCESS && elen) {
        char *exts = malloc(elen + 1);
        if (exts && cl.clGetDeviceInfo(dev, CL_DEVICE_EXTENSIONS, elen, exts, NULL) == CL_SUCCESS) {
            exts[elen] = 0;
            spir = has_ext(exts, "cl_khr_spir");
        }
        free(exts);
    }
    return spir && tool_found(spirv_tool());
}

/* OpenCL-env SPIR-V -> spir64 bitcode through `llvm-spirv -r` (files in a private temp dir). */
static dck_status spirv_to_bitcode(dck_context ctx, const char *src, const RtBlob *blob,
                                   unsigned char **bc, size_t *bclen)
{
    const char *tool = spirv_tool();
    const char *tmp = getenv("TMPDIR");
    char dir[512], in[600], out[600];
    snprintf(dir, sizeof dir, "%s/dck-spirv-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return rt_error(DCK_ERROR_IO, "cannot create a temporary directory: %s", strerror(errno));
    snprintf(in, sizeof in, "%s/k.spv", dir);
    snprintf(out, sizeof out, "%s/k.bc", dir);
    dck_status st = DCK_SUCCESS;
    FILE *f = fopen(in, "wb");
    if (!f || fwrite(blob->data, 1, (size_t)blob->size, f) != blob->size)
        st = rt_error(DCK_ERROR_IO, "cannot write %s", in);
    if (f && fclose(f) != 0 && !st) st = rt_error(DCK_ERROR_IO, "cannot write %s", in);
    if (!st) {
        char log[4096];
        char *argv[] = {(char *)tool, "-r", in, "-o", out, NULL};
        int rc = run_tool(argv, log, sizeof log);
        if (rc != 0)
            st = rt_error(
                rc < 0 ? DCK_ERROR_UNSUPPORTED : DCK_ERROR_JIT,
                "cannot turn the OpenCL SPIR-V of '%s' into "
                "SPIR bitcode for '%s' with %s -r (status %d; set $DCK_LLVM_SPIRV to the tool):\n%s",
                src, ctx->device.info.name, tool, rc, log);
    }
    if (!st) {
        FILE *b = fopen(out, "rb");
        long len = -1;
        if (b && fseek(b, 0, SEEK_END) == 0) len = ftell(b);
        if (b && len > 0 && fseek(b, 0, SEEK_SET) == 0 && (*bc = rt_alloc(ctx, (size_t)len)) &&
            fread(*bc, 1, (size_t)len, b) == (size_t)len) {
            *bclen = (size_t)len;
        } else {
            if (*bc) rt_free(ctx, *bc);
            *bc = NULL;
            st = rt_error(DCK_ERROR_IO, "cannot read the bitcode %s", out);
        }
        if (b) fclose(b);
    }
    unlink(in);
    unlink(out);
    rmdir(dir);
    return st;
}

static dck_status cl_module_load(dck_context ctx, const RtPackage *pkg, const RtBlob *blob,
                                 dck_module m)
{
    ClCtx *c = ctx->backend_data;
    const char *src = m->abi->source_name ? m->abi->source_name : "<module>";
    ClModule *cm = rt_calloc(ctx, sizeof *cm);
    if (!cm) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", src);
    m->backend_data = cm;
    cl_int e = CL_SUCCESS;
    bool spirv = strcmp(blob->target, "spirv-opencl") == 0;
    if (spirv) {
        unsigned char *bc = NULL;
        size_t bclen = 0;
        dck_status st = rt_package_check_spirv(pkg, blob);
        if (st) return st;
        st = spirv_to_bitcode(ctx, src, blob, &bc, &bclen);
        if (st) return st;
        const unsigned char *bins[1] = {bc};
        cl_int bst = CL_SUCCESS;
        cm->program =
            cl.clCreateProgramWithBinary(c->context, 1, &c->device, &bclen, bins, &bst, &e);
        rt_free(ctx, bc);
        if (!cm->program || bst != CL_SUCCESS)
            return rt_error(DCK_ERROR_JIT,
                            "OpenCL device '%s' rejects the SPIR bitcode of '%s': "
                            "clCreateProgramWithBinary failed with %s (%d)",
                            ctx->device.info.name, src, cl_err(e != CL_SUCCESS ? e : bst),
                            (int)(e != CL_SUCCESS ? e : bst));
    } else if (strcmp(blob->target, "opencl") == 0) {
        const char *text = (const char *)blob->data;
        size_t len = (size_t)blob->size;
        cm->program = cl.clCreateProgramWithSource(c->context, 1, &text, &len, &e);
        if (!cm->program) return cl_fail(DCK_ERROR_JIT, e, "clCreateProgramWithSource", src);
    } else {
        return rt_error(DCK_ERROR_UNSUPPORTED, "backend 'opencl' cannot load target '%s'",
                        blob->target);
    }
    e = cl.clBuildProgram(cm->program, 1, &c->device,
                          spirv ? "-x spir -spir-std=1.2" : "-cl-std=CL1.2", NULL, NULL);
    if (e != CL_SUCCESS) {
        size_t loglen = 0;
        char *log = NULL;
        if (cl.clGetProgramBuildInfo(cm->program, c->device, CL_PROGRAM_BUILD_LOG, 0, NULL,
                                     &loglen) == CL_SUCCESS &&
            (log = rt_alloc(ctx, loglen + 1)) &&
            cl.clGetProgramBuildInfo(cm->program, c->device, CL_PROGRAM_BUILD_LOG, loglen, log,
                                     NULL) == CL_SUCCESS)
            log[loglen] = 0;
        else if (log)
            log[0] = 0;
        dck_status st = rt_error(DCK_ERROR_JIT,
                                 "the %s generated for '%s' does not build on OpenCL device '%s' "
                                 "(clBuildProgram: %s); this is a dckc bug. Build log:\n%s",
                                 spirv ? "SPIR-V (as SPIR bitcode)" : "OpenCL C", src,
                                 ctx->device.info.name, cl_err(e), log ? log : "(no log)");
        rt_free(ctx, log);
        return st;
    }
    cm->nkernels = m->abi->nkernels;
    cm->kernels = rt_calloc(ctx, (cm->nkernels ? cm->nkernels : 1) * sizeof *cm->kernels);
    if (!cm->kernels) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", src);
    for (uint32_t i = 0; i < cm->nkernels; i++) {
        const char *name = m->abi->kernels[i].name;
        char sym[300];
        cm->kernels[i] = cl.clCreateKernel(
            cm->program, abi_entry_symbol(sym, sizeof sym, blob->target, name), &e);
        if (!cm->kernels[i])
            return rt_error(DCK_ERROR_INVALID_MODULE,
                            "the %s of '%s' has no kernel '%s' (clCreateKernel: %s)", blob->target,
                            src, name, cl_err(e));
    }
    return DCK_SUCCESS;
}

/* ---- queues, launches, events ---- */

static dck_status cl_queue_create(dck_queue q)
{
    ClCtx *c = q->ctx->backend_data;
    cl_int e;
    cl_command_queue cq =
        cl.clCreateCommandQueue(c->context, c->device, CL_QUEUE_PROFILING_ENABLE, &e);
    if (!cq) return cl_fail(cl_status_of(e), e, "clCreateCommandQueue", q->ctx->device.info.name);
    q->backend_data = cq;
    return DCK_SUCCESS;
}

static dck_status cl_queue_finish(dck_queue q)
{
    cl_int e = cl.clFinish((cl_command_queue)q->backend_data);
    if (e != CL_SUCCESS)
        return cl_fail(DCK_ERROR_UNSUPPORTED, e, "clFinish", q->ctx->device.info.name);
    return DCK_SUCCESS;
}

static void cl_queue_destroy(dck_queue q)
{
    if (!q->backend_data) return;
    cl.clFinish((cl_command_queue)q->backend_data);
    cl.clReleaseCommandQueue((cl_command_queue)q->backend_data);
    q->backend_data = NULL;
}

typedef struct ClEvent {
    cl_event ev;
    uint64_t host_t0; /* CLOCK_MONOTONIC at submission */
} ClEvent;

static dck_status set_arg(cl_kernel k, cl_uint *ai, size_t size, const void *v, const RtLaunch *l)
{
    cl_int e = cl.clSetKernelArg(k, *ai, size, v);
    if (e != CL_SUCCESS)
        return rt_error(DCK_ERROR_INVALID_MODULE,
                        "kernel '%s': clSetKernelArg(%u, %zu bytes) failed with %s (%d): "
                        "the OpenCL kernel's signature does not follow the DCK GPU ABI",
                        l->kernel_name, *ai, size, cl_err(e), (int)e);
    (*ai)++;
    return DCK_SUCCESS;
}

static dck_status cl_launch(dck_queue q, const RtLaunch *l, dck_cpu_oob *oob, void **ev_out)
{
    dck_context ctx = q->ctx;
    ClCtx *c = ctx->backend_data;
    ClModule *cm = l->module->backend_data;
    if (!cm || l->kernel_index >= cm->nkernels)
        return rt_error(DCK_ERROR_INVALID_MODULE, "kernel '%s' has no OpenCL code in this module",
                        l->kernel_name);
    cl_kernel k = cm->kernels[l->kernel_index];
    const dck_abi_kernel *ak = l->k;
    size_t gws[3], lws[3];
    uint64_t items = 1;
    for (int d = 0; d < 3; d++) {
        gws[d] = (size_t)l->groups[d] * l->local[d];
        lws[d] = l->local[d];
        items *= l->groups[d];
    }
    if (!items && !oob) return DCK_SUCCESS; /* an empty launch does nothing */
    if (ak->shared_bytes > ctx->device.info.max_shared_bytes)
        return rt_error(DCK_ERROR_UNSUPPORTED,
                        "kernel '%s' needs %u bytes of shared memory; OpenCL device '%s' has "
                        "%llu per work-group",
                        l->kernel_name, ak->shared_bytes, ctx->device.info.name,
                        (unsigned long long)ctx->device.info.max_shared_bytes);
    size_t kwg = 0;
    if (cl.clGetKernelWorkGroupInfo(k, c->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kwg, &kwg,
                                    NULL) == CL_SUCCESS &&
        kwg && (uint64_t)l->local[0] * l->local[1] * l->local[2] > kwg)
        return rt_error(DCK_ERROR_INVALID_RANGE,
                        "kernel '%s': work-group of %u work-items exceeds the %zu that "
                        "device '%s' allows for this kernel",
                        l->kernel_name, l->local[0] * l->local[1] * l->local[2], kwg,
                        ctx->device.info.name);
    pthread_mutex_lock(&c->mu); /* kernel arguments are shared state of the cl_kernel */
    dck_status st = DCK_SUCCESS;
    cl_uint ai = 0;
    for (uint32_t i = 0; i < ak->nparams && !st; i++) {
        const dck_abi_param *p = &ak->params[i];
        if (p->kind == DCK_ABI_PARAM_BUFFER) {
            ClBuf *cb = l->bufs[i]->backend_data;
            cl_uint len = (cl_uint)l->bufs[i]->count;
            st = set_arg(k, &ai, sizeof(cl_mem), &cb->mem, l);
            if (!st) st = set_arg(k, &ai, sizeof len, &len, l);
        } else {
            st = set_arg(k, &ai, p->size, l->args[i], l);
        }
    }
    for (int d = 0; d < 3 && !st; d++) {
        cl_uint g = l->global[d];
        st = set_arg(k, &ai, sizeof g, &g, l);
    }
    if (!st && oob) {
        cl_int e = CL_SUCCESS;
        if (!c->oob)
            c->oob =
                cl.clCreateBuffer(c->context, CL_MEM_READ_WRITE, 8 * sizeof(cl_uint), NULL, &e);
        /* static: a non-blocking write reads its source when it runs, after this block */
        static const cl_uint zero[8] = {0};
        if (!c->oob)
            st = cl_fail(cl_status_of(e), e, "clCreateBuffer", "checked-mode record");
        else if ((e = cl.clEnqueueWriteBuffer((cl_command_queue)q->backend_data, c->oob, CL_FALSE,
                                              0, sizeof zero, zero, 0, NULL, NULL)) != CL_SUCCESS)
            st = cl_fail(cl_status_of(e), e, "clEnqueueWriteBuffer", "checked-mode record");
        if (!st) st = set_arg(k, &ai, sizeof(cl_mem), &c->oob, l);
    }
    cl_event ev = NULL;
    uint64_t t0 = rt_now_ns();
    if (!st && items) {
        cl_int e = cl.clEnqueueNDRangeKernel((cl_command_queue)q->backend_data, k, l->dims, NULL,
                                             gws, lws, 0, NULL, ev_out ? &ev : NULL);
        if (e != CL_SUCCESS)
            st = rt_error(e == CL_OUT_OF_RESOURCES || e == CL_INVALID_WORK_GROUP_SIZE
                              ? DCK_ERROR_INVALID_RANGE
                              : cl_status_of(e),
                          "launch of kernel '%s' over (%u, %u, %u) in groups of (%u, %u, %u) on "
                          "'%s': clEnqueueNDRangeKernel failed with %s (%d)",
                          l->kernel_name, l->global[0], l->global[1], l->global[2], l->local[0],
                          l->local[1], l->local[2], ctx->device.info.name, cl_err(e), (int)e);
        else
            cl.clFlush((cl_command_queue)q->backend_data);
    }
    if (!st && oob) {
        cl_uint rec[8];
        cl_int e = cl.clEnqueueReadBuffer((cl_command_queue)q->backend_data, c->oob, CL_TRUE, 0,
                                          sizeof rec, rec, 0, NULL, NULL);
        if (e != CL_SUCCESS) {
            st = cl_fail(cl_status_of(e), e, "clEnqueueReadBuffer", "checked-mode record");
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
    if (ev) {
        ClEvent *ce = st ? NULL : rt_alloc(ctx, sizeof *ce);
        if (!ce) {
            cl.clReleaseEvent(ev);
        } else {
            ce->ev = ev;
            ce->host_t0 = t0;
            *ev_out = ce;
        }
    }
    return st;
}

/* Waits; then the launch's queued timestamp bounds the device clock's offset to the host's
 * (the command was queued after host_t0): the largest bound seen is the context's offset. */
static dck_status cl_event_wait(dck_context ctx, void *p)
{
    ClEvent *ce = p;
    cl_int e = cl.clWaitForEvents(1, &ce->ev);
    cl_int status = CL_COMPLETE;
    cl.clGetEventInfo(ce->ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
    if (e != CL_SUCCESS || status < 0)
        return rt_error(DCK_ERROR_UNSUPPORTED, "a launch on '%s' failed: %s (%d)",
                        ctx->device.info.name, cl_err(status < 0 ? status : e),
                        (int)(status < 0 ? status : e));
    cl_ulong tq = 0;
    if (cl.clGetEventProfilingInfo(ce->ev, CL_PROFILING_COMMAND_QUEUED, sizeof tq, &tq, NULL) ==
        CL_SUCCESS) {
        ClCtx *c = ctx->backend_data;
        int64_t off = (int64_t)(ce->host_t0 - (uint64_t)tq);
        pthread_mutex_lock(&c->mu);
        if (!c->have_offset || off > c->offset) c->offset = off;
        c->have_offset = true;
        pthread_mutex_unlock(&c->mu);
    }
    return DCK_SUCCESS;
}

/* The profiling start and end on the host clock, through the context's one offset (so the
 * launches of a queue map in device order, without overlap). */
static dck_status cl_event_times(dck_context ctx, void *p, uint64_t *start, uint64_t *end)
{
    ClEvent *ce = p;
    ClCtx *c = ctx->backend_data;
    dck_status st = cl_event_wait(ctx, p);
    if (st) return st;
    cl_ulong ts = 0, te = 0;
    cl_int e = cl.clGetEventProfilingInfo(ce->ev, CL_PROFILING_COMMAND_START, sizeof ts, &ts, NULL);
    if (e == CL_SUCCESS)
        e = cl.clGetEventProfilingInfo(ce->ev, CL_PROFILING_COMMAND_END, sizeof te, &te, NULL);
    if (e != CL_SUCCESS)
        return cl_fail(DCK_ERROR_UNSUPPORTED, e, "clGetEventProfilingInfo", ctx->device.info.name);
    pthread_mutex_lock(&c->mu);
    int64_t off = c->offset;
    pthread_mutex_unlock(&c->mu);
    *start = (uint64_t)((int64_t)ts + off);
    *end = *start + (te > ts ? te - ts : 0);
    return DCK_SUCCESS;
}

static void cl_event_release(dck_context ctx, void *p)
{
    ClEvent *ce = p;
    cl.clReleaseEvent(ce->ev);
    rt_free(ctx, ce);
}

const RtBackend rt_backend_opencl = {
    .name = "opencl",
    .id = DCK_BACKEND_OPENCL,
    .targets = "opencl,spirv-opencl",
    .enumerate = cl_enumerate,
    .init = cl_init,
    .fini = cl_fini,
    .buffer_alloc = cl_buffer_alloc,
    .buffer_free = cl_buffer_free,
    .buffer_write = cl_buffer_write,
    .buffer_read = cl_buffer_read,
    .buffer_map = cl_buffer_map,
    .buffer_unmap = cl_buffer_unmap,
    .module_load = cl_module_load,
    .module_unload = cl_module_unload,
    .queue_create = cl_queue_create,
    .queue_finish = cl_queue_finish,
    .queue_destroy = cl_queue_destroy,
    .launch = cl_launch,
    .event_wait = cl_event_wait,
    .event_times = cl_event_times,
    .event_release = cl_event_release,
};
