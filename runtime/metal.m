/* metal.m: the Metal backend of libdckrt (Apple platforms only; see docs/metal.md).
 *
 * NEVER RUN: there is no Apple machine where this project is developed. It is compiled
 * there only as a syntax and type check against stub Foundation/Metal headers
 * (tests/msl/objc_stub, test msl_shim_exec); its MSL input is executed on Linux through the
 * Metal shim (tests/msl), not by Metal.
 *
 * Objective-C with manual reference counting (no ARC flag needed). Metal.framework is
 * dlopen'ed (MTLCreateSystemDefaultDevice / MTLCopyAllDevices and the MTLCompileOptions
 * class are looked up at run time), so one binary runs where Metal is absent and says why;
 * only Foundation (part of every Apple OS) is linked.
 *
 * The GPU kernel ABI (team brief, docs/gpu-abi.md): buffer parameters at [[buffer(0..n-1)]]
 * in .dck order, the out-of-bounds record at [[buffer(n)]] in checked mode, then the scalar
 * block (by-value parameters, buffer lengths, global size x/y/z, C layout) at the next index
 * through setBytes (or a temporary buffer above 4 KB). dispatchThreadgroups launches
 * ceil(global / local) groups of the resolved local size. Buffers are
 * MTLResourceStorageModeShared: b->data is their contents, so reads, writes and maps are
 * memcpy after the queues are finished. Each dck_queue is an MTLCommandQueue (in order);
 * each launch is one command buffer; events keep the command buffer for GPUStartTime and
 * GPUEndTime.
 */
#import <Foundation/Foundation.h>
#import <Metal/Metal.h>

#include <dlfcn.h>
#include <mach/mach_time.h>
#include <objc/runtime.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rt.h"
#include "abi/abi.h"

typedef id<MTLDevice> (*MtlCreateDeviceFn)(void);
typedef NSArray *(*MtlCopyAllDevicesFn)(void);

static void *mtl_lib;
static MtlCreateDeviceFn mtl_create_default;
static MtlCopyAllDevicesFn mtl_copy_all;
static char mtl_load_error[256];
static pthread_once_t mtl_once = PTHREAD_ONCE_INIT;

static void mtl_load(void)
{
    mtl_lib = dlopen("/System/Library/Frameworks/Metal.framework/Metal", RTLD_NOW | RTLD_LOCAL);
    if (!mtl_lib) {
        const char *e = dlerror();
        snprintf(mtl_load_error, sizeof mtl_load_error, "cannot load Metal.framework: %s",
                 e ? e : "unknown error");
        return;
    }
    mtl_create_default = (MtlCreateDeviceFn)dlsym(mtl_lib, "MTLCreateSystemDefaultDevice");
    mtl_copy_all = (MtlCopyAllDevicesFn)dlsym(mtl_lib, "MTLCopyAllDevices"); /* macOS only */
    if (!mtl_create_default)
        snprintf(mtl_load_error, sizeof mtl_load_error,
                 "Metal.framework has no MTLCreateSystemDefaultDevice");
}

/* The devices, +1 retained (caller releases the array). NULL with rt_error() when none. */
static NSArray *mtl_devices(void)
{
    pthread_once(&mtl_once, mtl_load);
    if (mtl_load_error[0]) {
        rt_error(DCK_ERROR_BACKEND_UNAVAILABLE, "%s", mtl_load_error);
        return nil;
    }
    NSArray *all = mtl_copy_all ? mtl_copy_all() : nil; /* "Copy": already retained */
    if (all && [all count] > 0) return all;
    [all release];
    id<MTLDevice> d = mtl_create_default(); /* "Create": already retained */
    if (!d) {
        rt_error(DCK_ERROR_BACKEND_UNAVAILABLE,
                 "Metal reports no device (MTLCreateSystemDefaultDevice returned nil)");
        return nil;
    }
    NSArray *one = [[NSArray alloc] initWithObjects:d, nil];
    [d release];
    return one;
}

static const char *ns_utf8(NSString *s) { return s ? [s UTF8String] : "(no message)"; }

static void fill_info(id<MTLDevice> d, uint32_t index, dck_device_info *info)
{
    memset(info, 0, sizeof *info);
    snprintf(info->name, sizeof info->name, "%s", ns_utf8([d name]));
    info->backend = DCK_BACKEND_METAL;
    snprintf(info->backend_name, sizeof info->backend_name, "metal");
    info->index = index;
    info->global_memory_bytes = [d recommendedMaxWorkingSetSize];
    info->max_shared_bytes = [d maxThreadgroupMemoryLength];
    info->compute_units = 1; /* Metal does not report GPU cores */
    MTLSize mt = [d maxThreadsPerThreadgroup];
    info->max_work_group_dims[0] = (uint32_t)mt.width;
    info->max_work_group_dims[1] = (uint32_t)mt.height;
    info->max_work_group_dims[2] = (uint32_t)mt.depth;
    /* the per-pipeline limit (maxTotalThreadsPerThreadgroup) is checked at launch */
    info->max_work_group_size = (uint32_t)mt.width;
    info->subgroup_size =
        32; /* simdgroups of Apple and AMD GPUs under Metal; per pipeline: threadExecutionWidth */
    info->features = DCK_FEATURE_FP16 | DCK_FEATURE_SUBGROUPS;
    if ([d hasUnifiedMemory]) info->features |= DCK_FEATURE_UNIFIED_MEMORY;
    info->device_type = DCK_DEVICE_GPU;
    snprintf(info->driver, sizeof info->driver, "Metal, %s",
             ns_utf8([[NSProcessInfo processInfo] operatingSystemVersionString]));
}

static dck_status mtl_enumerate(uint32_t *count, dck_device_info *infos)
{
    dck_status st = DCK_SUCCESS;
    @autoreleasepool {
        NSArray *devs = mtl_devices();
        if (!devs) return DCK_ERROR_BACKEND_UNAVAILABLE; /* rt_error() said why */
        uint32_t n = (uint32_t)[devs count];
        if (infos) {
            if (n > *count) n = *count;
            for (uint32_t i = 0; i < n; i++) fill_info([devs objectAtIndex:i], i, &infos[i]);
        }
        *count = n;
        [devs release];
    }
    return st;
}

/* ---- context ---- */

typedef struct MtlCtx {
    id<MTLDevice> device;
    id<MTLCommandQueue> queue; /* for work outside a dck_queue (none yet: reserved) */
    id<MTLBuffer> oob;         /* checked mode: the uint[8] record, shared memory */
    pthread_mutex_t mu;        /* guards oob and the launch encoding */
    double ns_per_tick;        /* mach_absolute_time -> ns */
} MtlCtx;

static void mtl_fini(dck_context ctx)
{
    MtlCtx *c = ctx->backend_data;
    if (!c) return;
    [c->oob release];
    [c->queue release];
    [c->device release];
    pthread_mutex_destroy(&c->mu);
    rt_free(ctx, c);
    ctx->backend_data = NULL;
}

static dck_status mtl_init(dck_context ctx, uint32_t index)
{
    dck_status st = DCK_SUCCESS;
    @autoreleasepool {
        NSArray *devs = mtl_devices();
        if (!devs) return DCK_ERROR_BACKEND_UNAVAILABLE;
        uint32_t n = (uint32_t)[devs count];
        if (index >= n) {
            [devs release];
            return rt_error(DCK_ERROR_DEVICE_NOT_FOUND,
                            "backend 'metal' has %u device%s; index %u does not exist", n,
                            n == 1 ? "" : "s", index);
        }
        MtlCtx *c = rt_calloc(ctx, sizeof *c);
        if (!c) {
            [devs release];
            return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a Metal context");
        }
        pthread_mutex_init(&c->mu, NULL);
        ctx->backend_data = c;
        c->device = [[devs objectAtIndex:index] retain];
        [devs release];
        fill_info(c->device, index, &ctx->device.info);
        mach_timebase_info_data_t tb;
        mach_timebase_info(&tb);
        c->ns_per_tick = (double)tb.numer / (double)tb.denom;
        c->queue = [c->device newCommandQueue];
        if (!c->queue) {
            st = rt_error(DCK_ERROR_BACKEND_UNAVAILABLE,
                          "Metal device '%s': newCommandQueue returned nil", ctx->device.info.name);
            mtl_fini(ctx);
        }
    }
    return st;
}

/* ---- buffers: shared storage, b->data is the contents ---- */

static dck_status mtl_buffer_alloc(dck_context ctx, dck_buffer b)
{
    MtlCtx *c = ctx->backend_data;
    NSUInteger len = b->size ? (NSUInteger)b->size : 16; /* Metal has no empty buffers */
    if (len > [c->device maxBufferLength]) {
        char label[80];
        return rt_error(DCK_ERROR_OUT_OF_MEMORY,
                        "buffer%s of %llu bytes exceeds the %llu-byte maximum of Metal device "
                        "'%s'",
                        rt_buffer_label(b, label, sizeof label), (unsigned long long)b->size,
                        (unsigned long long)[c->device maxBufferLength], ctx->device.info.name);
    }
    id<MTLBuffer> mb = [c->device newBufferWithLength:len options:MTLResourceStorageModeShared];
    if (!mb) {
        char label[80];
        return rt_error(DCK_ERROR_OUT_OF_MEMORY,
                        "newBufferWithLength failed for buffer%s (%llu bytes) on '%s'",
                        rt_buffer_label(b, label, sizeof label), (unsigned long long)b->size,
                        ctx->device.info.name);
    }
    b->backend_data = mb; /* +1 from new... */
    b->data = [mb contents];
    return DCK_SUCCESS;
}

static void mtl_buffer_free(dck_context ctx, dck_buffer b)
{
    /* a command buffer retains the buffers it uses: releasing ours while it runs is safe */
    (void)ctx;
    id<MTLBuffer> mb = b->backend_data;
    [mb release];
    b->backend_data = NULL;
    b->data = NULL;
}

static dck_status mtl_buffer_write(dck_buffer b, uint64_t off, uint64_t size, const void *src)
{
    dck_status st = rt_finish_all(b->ctx);
    if (st) return st;
    memcpy((unsigned char *)b->data + off, src, (size_t)size);
    return DCK_SUCCESS;
}

static dck_status mtl_buffer_read(dck_buffer b, uint64_t off, uint64_t size, void *dst)
{
    dck_status st = rt_finish_all(b->ctx);
    if (st) return st;
    memcpy(dst, (const unsigned char *)b->data + off, (size_t)size);
    return DCK_SUCCESS;
}

static dck_status mtl_buffer_map(dck_buffer b, uint32_t flags, void **ptr)
{
    (void)flags;
    dck_status st = rt_finish_all(b->ctx);
    if (st) return st;
    *ptr = b->data;
    return DCK_SUCCESS;
}

static dck_status mtl_buffer_unmap(dck_buffer b)
{
    (void)b; /* shared storage: the GPU sees the host's writes */
    return DCK_SUCCESS;
}

/* ---- modules: one library from the MSL text, one pipeline state per kernel ---- */

typedef struct MtlKernel {
    id<MTLComputePipelineState> pso; /* nil: not available on Metal (why: missing) */
    char missing[200];
    uint32_t nbuf;
    bool checked;
} MtlKernel;

typedef struct MtlMod {
    id<MTLLibrary> lib;
    uint32_t nkernels;
    MtlKernel *kernels;
} MtlMod;

static void mtl_module_unload(dck_module m)
{
    MtlMod *mm = m->backend_data;
    if (!mm) return;
    rt_finish_all(m->ctx);
    for (uint32_t i = 0; i < mm->nkernels; i++) [mm->kernels[i].pso release];
    rt_free(m->ctx, mm->kernels);
    [mm->lib release];
    rt_free(m->ctx, mm);
    m->backend_data = NULL;
}

/* Why dckc left kernel `name` out of the MSL ("not available on this target: ..."), or "". */
static void left_out_reason(const RtBlob *blob, const char *name, char *out, size_t n)
{
    char key[200];
    snprintf(key, sizeof key, "/* kernel %s is not available on this target: ", name);
    out[0] = 0;
    const char *p = strstr((const char *)blob->data, key); /* text blobs are NUL-terminated */
    if (!p) return;
    p += strlen(key);
    const char *e = strstr(p, " */");
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (len >= n) len = n - 1;
    memcpy(out, p, len);
    out[len] = 0;
}

static dck_status mtl_module_load(dck_context ctx, const RtPackage *pkg, const RtBlob *blob,
                                  dck_module m)
{
    (void)pkg;
    MtlCtx *c = ctx->backend_data;
    const char *src = m->abi->source_name ? m->abi->source_name : "<module>";
    if (strcmp(blob->target, "msl") != 0)
        return rt_error(DCK_ERROR_UNSUPPORTED, "backend 'metal' cannot load target '%s'",
                        blob->target);
    Class opts_class = (Class)objc_getClass("MTLCompileOptions");
    if (!opts_class)
        return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE,
                        "Metal.framework has no MTLCompileOptions class");
    MtlMod *mm = rt_calloc(ctx, sizeof *mm);
    if (!mm) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", src);
    m->backend_data = mm;
    dck_status st = DCK_SUCCESS;
    @autoreleasepool {
        NSString *text = [[[NSString alloc] initWithBytes:blob->data
                                                   length:(NSUInteger)blob->size
                                                 encoding:NSUTF8StringEncoding] autorelease];
        MTLCompileOptions *opts = [[[opts_class alloc] init] autorelease];
        [opts setLanguageVersion:MTLLanguageVersion2_4];
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations" /* macOS 15 prefers mathMode */
        [opts setFastMathEnabled:NO]; /* IEEE results, as the other backends */
#pragma clang diagnostic pop
        NSError *err = nil;
        if (!text) {
            st = rt_error(DCK_ERROR_INVALID_MODULE, "the MSL of '%s' is not UTF-8 text", src);
        } else {
            mm->lib = [c->device newLibraryWithSource:text options:opts error:&err];
            if (!mm->lib)
                st = rt_error(DCK_ERROR_JIT,
                              "Metal rejects the MSL of '%s' (newLibraryWithSource on '%s'): %s",
                              src, ctx->device.info.name, ns_utf8([err localizedDescription]));
        }
        if (!st) {
            mm->nkernels = m->abi->nkernels;
            mm->kernels = rt_calloc(ctx, (mm->nkernels ? mm->nkernels : 1) * sizeof *mm->kernels);
            if (!mm->kernels)
                st = rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", src);
        }
        bool checked_ctx = (ctx->flags & DCK_CONTEXT_CHECKED) != 0;
        for (uint32_t i = 0; !st && i < mm->nkernels; i++) {
            const dck_abi_kernel *ak = &m->abi->kernels[i];
            MtlKernel *k = &mm->kernels[i];
            k->checked = checked_ctx || (ak->flags & DCK_ABI_KERNEL_CHECKED);
            for (uint32_t j = 0; j < ak->nparams; j++)
                k->nbuf += ak->params[j].kind == DCK_ABI_PARAM_BUFFER;
            char sym[300];
            id<MTLFunction> fn = [mm->lib
                newFunctionWithName:[NSString
                                        stringWithUTF8String:abi_entry_symbol(sym, sizeof sym,
                                                                              "msl", ak->name)]];
            if (!fn) {
                left_out_reason(blob, ak->name, k->missing, sizeof k->missing);
                if (!k->missing[0])
                    snprintf(k->missing, sizeof k->missing, "the MSL has no entry point '%s'",
                             ak->name);
                continue;
            }
            err = nil;
            k->pso = [c->device newComputePipelineStateWithFunction:fn error:&err];
            [fn release];
            if (!k->pso)
                st = rt_error(DCK_ERROR_JIT,
                              "Metal cannot build the pipeline of kernel '%s' of '%s' "
                              "(newComputePipelineStateWithFunction): %s",
                              ak->name, src, ns_utf8([err localizedDescription]));
        }
    }
    return st; /* on failure the core calls module_unload */
}

/* ---- queues and command buffers ---- */

typedef struct MtlQueue {
    id<MTLCommandQueue> queue;
    pthread_mutex_t mu;
    id<MTLCommandBuffer> *inflight; /* committed, not yet reaped (retained), oldest first */
    uint32_t ninflight, cap;
    dck_status first_error; /* of a reaped command buffer */
    char error[256];
} MtlQueue;

typedef struct MtlEvent {
    id<MTLCommandBuffer> cb;
    uint64_t host_t0; /* rt_now_ns() at commit */
    double mach_t0;   /* the same instant in Metal's host-time seconds */
} MtlEvent;

static dck_status mtl_queue_create(dck_queue q)
{
    MtlCtx *c = q->ctx->backend_data;
    MtlQueue *mq = rt_calloc(q->ctx, sizeof *mq);
    if (!mq) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating a Metal queue");
    mq->queue = [c->device newCommandQueue];
    if (!mq->queue) {
        rt_free(q->ctx, mq);
        return rt_error(DCK_ERROR_BACKEND_UNAVAILABLE,
                        "Metal device '%s': newCommandQueue returned nil",
                        q->ctx->device.info.name);
    }
    pthread_mutex_init(&mq->mu, NULL);
    q->backend_data = mq;
    return DCK_SUCCESS;
}

static dck_status cb_status(id<MTLCommandBuffer> cb, const char *what)
{
    if ([cb status] == MTLCommandBufferStatusError)
        return rt_error(DCK_ERROR_UNSUPPORTED, "Metal command buffer of %s failed: %s", what,
                        ns_utf8([[cb error] localizedDescription]));
    return DCK_SUCCESS;
}

/* Releases the finished command buffers (all of them, waiting, when `wait`); the first
 * failure is kept for queue_finish. Under mq->mu. */
static void queue_reap(MtlQueue *mq, bool wait)
{
    uint32_t keep = 0;
    for (uint32_t i = 0; i < mq->ninflight; i++) {
        id<MTLCommandBuffer> cb = mq->inflight[i];
        if (wait) [cb waitUntilCompleted];
        MTLCommandBufferStatus s = [cb status];
        if (s != MTLCommandBufferStatusCompleted && s != MTLCommandBufferStatusError) {
            mq->inflight[keep++] = cb;
            continue;
        }
        if (s == MTLCommandBufferStatusError && !mq->first_error) {
            mq->first_error = DCK_ERROR_UNSUPPORTED;
            snprintf(mq->error, sizeof mq->error, "a Metal command buffer failed: %s",
                     ns_utf8([[cb error] localizedDescription]));
        }
        [cb release];
    }
    mq->ninflight = keep;
}

static dck_status mtl_queue_finish(dck_queue q)
{
    MtlQueue *mq = q->backend_data;
    if (!mq) return DCK_SUCCESS;
    pthread_mutex_lock(&mq->mu);
    queue_reap(mq, true);
    dck_status st = mq->first_error;
    if (st) rt_error(st, "%s", mq->error);
    mq->first_error = DCK_SUCCESS;
    pthread_mutex_unlock(&mq->mu);
    return st;
}

static void mtl_queue_destroy(dck_queue q)
{
    MtlQueue *mq = q->backend_data;
    if (!mq) return;
    mtl_queue_finish(q);
    rt_free(q->ctx, mq->inflight);
    [mq->queue release];
    pthread_mutex_destroy(&mq->mu);
    rt_free(q->ctx, mq);
    q->backend_data = NULL;
}

/* Keeps cb (retained) until it is reaped. */
static dck_status queue_track(dck_context ctx, MtlQueue *mq, id<MTLCommandBuffer> cb)
{
    pthread_mutex_lock(&mq->mu);
    queue_reap(mq, false);
    dck_status st = DCK_SUCCESS;
    if (mq->ninflight == mq->cap) {
        uint32_t cap = mq->cap ? mq->cap * 2 : 16;
        id<MTLCommandBuffer> *n = rt_alloc(ctx, cap * sizeof *n);
        if (!n) {
            st = rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory tracking Metal command buffers");
        } else {
            if (mq->ninflight) memcpy(n, mq->inflight, mq->ninflight * sizeof *n);
            rt_free(ctx, mq->inflight);
            mq->inflight = n;
            mq->cap = cap;
        }
    }
    if (!st) mq->inflight[mq->ninflight++] = [cb retain];
    pthread_mutex_unlock(&mq->mu);
    if (st) [cb waitUntilCompleted]; /* not tracked: do not leave it running unobserved */
    return st;
}

static double mach_seconds(const MtlCtx *c)
{
    return (double)mach_absolute_time() * c->ns_per_tick * 1e-9;
}

static dck_status mtl_launch(dck_queue q, const RtLaunch *l, dck_cpu_oob *oob, void **ev_out)
{
    dck_context ctx = q->ctx;
    MtlCtx *c = ctx->backend_data;
    MtlQueue *mq = q->backend_data;
    MtlMod *mm = l->module->backend_data;
    if (!mq) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "Metal: queue without a command queue");
    if (!mm || l->kernel_index >= mm->nkernels)
        return rt_error(DCK_ERROR_INVALID_MODULE, "kernel '%s' has no MSL in this module",
                        l->kernel_name);
    const dck_abi_kernel *ak = l->k;
    MtlKernel *k = &mm->kernels[l->kernel_index];
    if (!k->pso)
        return rt_error(DCK_ERROR_UNSUPPORTED, "kernel '%s' is not available on Metal: %s",
                        l->kernel_name, k->missing);
    if (oob && !k->checked)
        return rt_error(DCK_ERROR_INVALID_MODULE, "kernel '%s' was loaded without bounds checks",
                        l->kernel_name);
    uint64_t items = (uint64_t)l->local[0] * l->local[1] * l->local[2];
    if (items > [k->pso maxTotalThreadsPerThreadgroup])
        return rt_error(DCK_ERROR_INVALID_RANGE,
                        "kernel '%s': %llu work-items per group exceed the %llu its Metal "
                        "pipeline allows on '%s'",
                        l->kernel_name, (unsigned long long)items,
                        (unsigned long long)[k->pso maxTotalThreadsPerThreadgroup],
                        ctx->device.info.name);
    uint64_t ngroups = (uint64_t)l->groups[0] * l->groups[1] * l->groups[2];
    if (ngroups == 0 && !oob) return DCK_SUCCESS;
    if (ak->nparams > 64)
        return rt_error(DCK_ERROR_UNSUPPORTED, "kernel '%s' has more than 64 parameters",
                        l->kernel_name);
    uint32_t offs[64], lens[64];
    AbiBlock layout = abi_scalar_block(ak->params, ak->nparams, offs, lens);
    uint32_t bsize = layout.size, goff = layout.gsize_off;
    unsigned char *block = rt_calloc(ctx, bsize);
    if (!block)
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory launching '%s'", l->kernel_name);
    for (uint32_t i = 0; i < ak->nparams; i++) {
        const dck_abi_param *p = &ak->params[i];
        if (p->kind == DCK_ABI_PARAM_VALUE) {
            memcpy(block + offs[i], l->args[i], p->size);
        } else {
            uint32_t n = (uint32_t)l->bufs[i]->count;
            memcpy(block + lens[i], &n, 4);
        }
    }
    memcpy(block + goff, l->global, 12);

    dck_status st = DCK_SUCCESS;
    pthread_mutex_lock(&c->mu);
    @autoreleasepool {
        if (k->checked && !c->oob) {
            c->oob = [c->device newBufferWithLength:32 options:MTLResourceStorageModeShared];
            if (!c->oob)
                st = rt_error(DCK_ERROR_OUT_OF_MEMORY,
                              "newBufferWithLength failed for the checked-mode record");
        }
        id<MTLCommandBuffer> cb = st ? nil : [mq->queue commandBuffer];
        if (!st && !cb)
            st = rt_error(DCK_ERROR_UNSUPPORTED, "Metal: commandBuffer returned nil for '%s'",
                          l->kernel_name);
        id<MTLComputeCommandEncoder> enc = st ? nil : [cb computeCommandEncoder];
        if (!st && !enc)
            st = rt_error(DCK_ERROR_UNSUPPORTED,
                          "Metal: computeCommandEncoder returned nil for '%s'", l->kernel_name);
        if (!st) {
            [enc setComputePipelineState:k->pso];
            NSUInteger slot = 0;
            for (uint32_t i = 0; i < ak->nparams; i++) {
                if (ak->params[i].kind != DCK_ABI_PARAM_BUFFER) continue;
                id<MTLBuffer> mb = l->bufs[i]->backend_data;
                [enc setBuffer:mb offset:0 atIndex:slot++];
            }
            if (k->checked) {
                memset([c->oob contents], 0,
                       32); /* earlier checked launches completed (they wait) */
                [enc setBuffer:c->oob offset:0 atIndex:slot++];
            }
            if (bsize <= 4096) {
                [enc setBytes:block length:bsize atIndex:slot];
            } else {
                id<MTLBuffer> tmp =
                    [[c->device newBufferWithBytes:block
                                            length:bsize
                                           options:MTLResourceStorageModeShared] autorelease];
                if (!tmp)
                    st = rt_error(DCK_ERROR_OUT_OF_MEMORY,
                                  "Metal: no memory for the %u-byte scalar block of '%s'", bsize,
                                  l->kernel_name);
                else
                    [enc setBuffer:tmp offset:0 atIndex:slot]; /* retained by the command buffer */
            }
            if (!st && ngroups)
                [enc dispatchThreadgroups:MTLSizeMake(l->groups[0], l->groups[1], l->groups[2])
                    threadsPerThreadgroup:MTLSizeMake(l->local[0], l->local[1], l->local[2])];
            [enc endEncoding];
        }
        if (!st) {
            uint64_t host_t0 = rt_now_ns();
            double mach_t0 = mach_seconds(c);
            [cb commit];
            st = queue_track(ctx, mq, cb);
            if (!st && oob) {
                [cb waitUntilCompleted];
                st = cb_status(cb, l->kernel_name);
                if (!st) {
                    const uint32_t *rec = [c->oob contents];
                    oob->hit = (int32_t)rec[0];
                    oob->param = rec[1];
                    oob->line = rec[2];
                    oob->is_write = rec[3];
                    oob->index = (uint64_t)rec[4] | (uint64_t)rec[5] << 32;
                    oob->len = (uint64_t)rec[6] | (uint64_t)rec[7] << 32;
                }
            }
            if (!st && ev_out) {
                MtlEvent *ev = rt_calloc(ctx, sizeof *ev);
                if (!ev) {
                    st = rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory for the event of '%s'",
                                  l->kernel_name);
                } else {
                    ev->cb = [cb retain];
                    ev->host_t0 = host_t0;
                    ev->mach_t0 = mach_t0;
                    *ev_out = ev;
                }
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
    rt_free(ctx, block);
    return st;
}

/* ---- events: GPUStartTime / GPUEndTime of the launch's command buffer ---- */

static dck_status mtl_event_wait(dck_context ctx, void *p)
{
    (void)ctx;
    MtlEvent *ev = p;
    [ev->cb waitUntilCompleted];
    return cb_status(ev->cb, "a launch");
}

static dck_status mtl_event_times(dck_context ctx, void *p, uint64_t *start, uint64_t *end)
{
    MtlEvent *ev = p;
    dck_status st = mtl_event_wait(ctx, p);
    if (st) return st;
    double gs = [ev->cb GPUStartTime],
           ge = [ev->cb GPUEndTime]; /* host-time seconds (mach_absolute_time) */
    double queued = gs > ev->mach_t0 ? gs - ev->mach_t0 : 0.0;
    double dur = ge > gs ? ge - gs : 0.0;
    *start = ev->host_t0 + (uint64_t)(queued * 1e9);
    *end = *start + (uint64_t)(dur * 1e9);
    return DCK_SUCCESS;
}

static void mtl_event_release(dck_context ctx, void *p)
{
    MtlEvent *ev = p;
    if (!ev) return;
    [ev->cb release];
    rt_free(ctx, ev);
}

const RtBackend rt_backend_metal = {
    .name = "metal",
    .id = DCK_BACKEND_METAL,
    .targets = "msl",
    .enumerate = mtl_enumerate,
    .init = mtl_init,
    .fini = mtl_fini,
    .buffer_alloc = mtl_buffer_alloc,
    .buffer_free = mtl_buffer_free,
    .buffer_write = mtl_buffer_write,
    .buffer_read = mtl_buffer_read,
    .buffer_map = mtl_buffer_map,
    .buffer_unmap = mtl_buffer_unmap,
    .module_load = mtl_module_load,
    .module_unload = mtl_module_unload,
    .queue_create = mtl_queue_create,
    .queue_finish = mtl_queue_finish,
    .queue_destroy = mtl_queue_destroy,
    .launch = mtl_launch,
    .event_wait = mtl_event_wait,
    .event_times = mtl_event_times,
    .event_release = mtl_event_release,
};
