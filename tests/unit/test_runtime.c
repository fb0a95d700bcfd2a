/* test_runtime.c: libdckrt (dck.h) on the CPU backend.
 *
 * The modules here are written by hand against dck_abi.h, the way dckc's C backend emits
 * them, so the runtime is tested independently of the compiler; the tests at the end compile
 * .dck source through the JIT and spawn dckrun.
 */
#include <criterion/criterion.h>

#include "dck.h"
#include "abi/dck_abi.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define OK(call) cr_assert_eq((call), DCK_SUCCESS, "%s failed: %s", #call, dck_last_error())

/* ---- hand-written module ---- */

static void report_oob(dck_cpu_oob *o, uint32_t param, uint32_t line, uint32_t is_write,
                       uint64_t index, uint64_t len)
{
    int32_t zero = 0;
    if (__atomic_compare_exchange_n((int32_t *)&o->hit, &zero, 1, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
        o->param = param;
        o->line = line;
        o->is_write = is_write;
        o->index = index;
        o->len = len;
    }
}

/* kernel void saxpy(float a, const float[] x, float[] y) { uint i = global_id(0); if (i < len(y)) y[i] = a * x[i] + y[i]; } */
static void saxpy_group(const dck_cpu_launch *l, uint32_t gx, uint32_t gy, uint32_t gz,
                        void *shared)
{
    float a = *(const float *)l->args[0];
    const dck_cpu_buf *x = l->args[1], *y = l->args[2];
    for (uint32_t lx = 0; lx < l->local_size[0]; lx++) {
        uint32_t i = gx * l->local_size[0] + lx;
        if (i >= l->global_size[0]) break;
        if (i < y->len)
            ((float *)y->data)[i] = a * ((const float *)x->data)[i] + ((float *)y->data)[i];
    }
}

/* checked build of: kernel void shift(const float[] x, float[] y) { uint i = global_id(0); y[i + 1] = x[i]; }  (line 7) */
static void shift_group(const dck_cpu_launch *l, uint32_t gx, uint32_t gy, uint32_t gz,
                        void *shared)
{
    const dck_cpu_buf *x = l->args[0], *y = l->args[1];
    for (uint32_t lx = 0; lx < l->local_size[0]; lx++) {
        uint64_t i = (uint64_t)gx * l->local_size[0] + lx;
        if (i >= l->global_size[0]) break;
        float v = 0;
        if (i < x->len)
            v = ((const float *)x->data)[i];
        else if (l->oob)
            report_oob(l->oob, 0, 7, 0, i, x->len);
        if (i + 1 < y->len)
            ((float *)y->data)[i + 1] = v;
        else if (l->oob)
            report_oob(l->oob, 1, 7, 1, i + 1, y->len);
    }
}

/* kernel void reverse(const float[] x, float[] y) { shared float tile[64]; tile[l] = x[g]; barrier(); y[g] = tile[n-1-l]; }
 * (local size at most 64; private_bytes 0) */
static void reverse_group(const dck_cpu_launch *l, uint32_t gx, uint32_t gy, uint32_t gz,
                          void *shared)
{
    const dck_cpu_buf *x = l->args[0], *y = l->args[1];
    float *tile = shared;
    uint32_t n = l->local_size[0];
    for (uint32_t lx = 0; lx < n; lx++) {
        if (tile[lx] != 0.0f)
            tile[lx] = -1e30f; /* shared memory must arrive zeroed */
        else
            tile[lx] = ((const float *)x->data)[gx * n + lx];
    }
    for (uint32_t lx = 0; lx < n; lx++) ((float *)y->data)[gx * n + lx] = tile[n - 1 - lx];
}

/* [[workgroup(32)]] kernel void fill(float v, float[] y) */
static void fill_group(const dck_cpu_launch *l, uint32_t gx, uint32_t gy, uint32_t gz, void *shared)
{
    float v = *(const float *)l->args[0];
    const dck_cpu_buf *y = l->args[1];
    for (uint32_t lx = 0; lx < l->local_size[0]; lx++) {
        uint32_t i = gx * l->local_size[0] + lx;
        if (i < l->global_size[0] && i < y->len) ((float *)y->data)[i] = v;
    }
}

/* kernel void add1(float[] y) */
static void add1_group(const dck_cpu_launch *l, uint32_t gx, uint32_t gy, uint32_t gz, void *shared)
{
    const dck_cpu_buf *y = l->args[0];
    for (uint32_t lx = 0; lx < l->local_size[0]; lx++) {
        uint32_t i = gx * l->local_size[0] + lx;
        if (i < l->global_size[0] && i < y->len) ((float *)y->data)[i] += 1.0f;
    }
}

/* kernel void scale(float s, const float[] x, float[] y) */
static void scale_group(const dck_cpu_launch *l, uint32_t gx, uint32_t gy, uint32_t gz,
                        void *shared)
{
    float s = *(const float *)l->args[0];
    const dck_cpu_buf *x = l->args[1], *y = l->args[2];
    for (uint32_t lx = 0; lx < l->local_size[0]; lx++) {
        uint32_t i = gx * l->local_size[0] + lx;
        if (i < l->global_size[0] && i < y->len)
            ((float *)y->data)[i] = s * ((const float *)x->data)[i];
    }
}

/* kernel void count2d(uint[] hits) : atomically counts work-items per (x, y) cell of a 2-D range */
static void count2d_group(const dck_cpu_launch *l, uint32_t gx, uint32_t gy, uint32_t gz,
                          void *shared)
{
    const dck_cpu_buf *h = l->args[0];
    for (uint32_t ly = 0; ly < l->local_size[1]; ly++)
        for (uint32_t lx = 0; lx < l->local_size[0]; lx++) {
            uint32_t x = gx * l->local_size[0] + lx, y = gy * l->local_size[1] + ly;
            if (x < l->global_size[0] && y < l->global_size[1])
                __atomic_fetch_add(&((uint32_t *)h->data)[y * l->global_size[0] + x], 1u,
                                   __ATOMIC_RELAXED);
        }
}

#define F32 DCK_ABI_F32
static const dck_abi_param saxpy_params[] = {
    {"a", DCK_ABI_PARAM_VALUE, 0, F32, 1, 4, 4, "float"},
    {"x", DCK_ABI_PARAM_BUFFER, 1, F32, 1, 4, 4, "float"},
    {"y", DCK_ABI_PARAM_BUFFER, 0, F32, 1, 4, 4, "float"},
};
static const dck_abi_param xy_params[] = {
    {"x", DCK_ABI_PARAM_BUFFER, 1, F32, 1, 4, 4, "float"},
    {"y", DCK_ABI_PARAM_BUFFER, 0, F32, 1, 4, 4, "float"},
};
static const dck_abi_param fill_params[] = {
    {"v", DCK_ABI_PARAM_VALUE, 0, F32, 1, 4, 4, "float"},
    {"y", DCK_ABI_PARAM_BUFFER, 0, F32, 1, 4, 4, "float"},
};
static const dck_abi_param y_params[] = {{"y", DCK_ABI_PARAM_BUFFER, 0, F32, 1, 4, 4, "float"}};
static const dck_abi_param hits_params[] = {
    {"hits", DCK_ABI_PARAM_BUFFER, 0, DCK_ABI_U32, 1, 4, 4, "uint"}};
static const dck_abi_param scale_params[] = {
    {"s", DCK_ABI_PARAM_VALUE, 0, F32, 1, 4, 4, "float"},
    {"x", DCK_ABI_PARAM_BUFFER, 1, F32, 1, 4, 4, "float"},
    {"y", DCK_ABI_PARAM_BUFFER, 0, F32, 1, 4, 4, "float"},
};

enum { K_SAXPY, K_SHIFT, K_REVERSE, K_FILL, K_ADD1, K_SCALE, K_COUNT2D };
static const dck_abi_kernel kernels[] = {
    {"saxpy", 3, saxpy_params, {0, 0, 0}, 0, 0, 0, 3, saxpy_group, 0, NULL},
    {"shift", 2, xy_params, {0, 0, 0}, 0, 0, DCK_ABI_KERNEL_CHECKED, 5, shift_group, 0, NULL},
    {"reverse",
     2,
     xy_params,
     {0, 0, 0},
     64 * 4,
     0,
     DCK_ABI_KERNEL_BARRIER,
     10,
     reverse_group,
     0,
     NULL},
    {"fill", 2, fill_params, {32, 1, 1}, 0, 0, 0, 20, fill_group, 0, NULL},
    {"add1", 1, y_params, {0, 0, 0}, 0, 0, 0, 25, add1_group, 0, NULL},
    {"scale", 3, scale_params, {0, 0, 0}, 0, 0, 0, 30, scale_group, 0, NULL},
    {"count2d",
     1,
     hits_params,
     {0, 0, 0},
     0,
     0,
     DCK_ABI_KERNEL_ATOMICS,
     35,
     count2d_group,
     0,
     NULL},
};

/* pipeline scale_loop(float s, const float[] x, float[] y, int n) {
 *     float t[len(x)]; scale<<<len(x)>>>(s, x, t);
 *     for (int i = n; i != 0; i--) add1<<<len(x)>>>(t);
 *     saxpy<<<len(x)>>>(1.0, t, y);    // y += t
 * }  */
static const dck_abi_param scale_loop_params[] = {
    {"s", DCK_ABI_PARAM_VALUE, 0, F32, 1, 4, 4, "float"},
    {"x", DCK_ABI_PARAM_BUFFER, 1, F32, 1, 4, 4, "float"},
    {"y", DCK_ABI_PARAM_BUFFER, 0, F32, 1, 4, 4, "float"},
    {"n", DCK_ABI_PARAM_VALUE, 0, DCK_ABI_I32, 1, 4, 4, "int"},
};
static const uint64_t scale_loop_consts[] = {1, 0x3ff0000000000000ull /* 1.0 */};
/* registers: r0 len(x), r1 s (double), r2 loop counter, r3 const 1, r4 one (double) */
#define T 4 /* slot of the temporary */
static const uint32_t scale_loop_code[] = {
    /*  0 */ DCK_POP_LEN,
    0,
    1,
    /*  3 */ DCK_POP_ALLOC,
    T,
    4,
    0,
    /*  7 */ DCK_POP_PARAM,
    1,
    0,
    /* 10 */ DCK_POP_LAUNCH,
    K_SCALE,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    3,
    DCK_POPA_REG,
    1,
    DCK_ABI_F32,
    DCK_POPA_BUF,
    1,
    0,
    DCK_POPA_BUF,
    T,
    0,
    /* 30 */ DCK_POP_PARAM,
    2,
    3,
    /* 33 */ DCK_POP_CONST,
    3,
    0,
    /* 36 */ DCK_POP_JZ,
    2,
    57,
    /* 39 */ DCK_POP_LAUNCH,
    K_ADD1,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    DCK_POPA_BUF,
    T,
    0,
    /* 53 */ DCK_POP_BIN,
    DCK_POPB_ISUB,
    2,
    2,
    3,
};
/* the JZ target above must be the word after the loop's JMP: build the code at run time */
static uint32_t pl_code[128];
static uint32_t pl_ncode;
static void build_pipeline_code(void)
{
    size_t n = sizeof scale_loop_code / sizeof scale_loop_code[0];
    memcpy(pl_code, scale_loop_code, sizeof scale_loop_code);
    pl_code[n++] = DCK_POP_JMP;
    pl_code[n++] = 36;
    uint32_t end_loop = (uint32_t)n;
    pl_code[38] = end_loop; /* JZ target */
    const uint32_t tail[] = {
        DCK_POP_CONST,
        4,
        1,
        DCK_POP_LAUNCH,
        K_SAXPY,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        3,
        DCK_POPA_REG,
        4,
        DCK_ABI_F32,
        DCK_POPA_BUF,
        T,
        0,
        DCK_POPA_BUF,
        2,
        0,
        DCK_POP_FREE,
        T,
        DCK_POP_END,
    };
    memcpy(pl_code + n, tail, sizeof tail);
    pl_ncode = (uint32_t)(n + sizeof tail / sizeof tail[0]);
}

static dck_abi_pipeline pipelines[1];
static dck_abi_module module;

static void init_module(void)
{
    build_pipeline_code();
    pipelines[0] = (dck_abi_pipeline){"scale_loop", 4, scale_loop_params, 1, 5, pl_ncode,
                                      pl_code,      2, scale_loop_consts, 40};
    module = (dck_abi_module){
        DCK_ABI_MAGIC, DCK_ABI_VERSION, "k.dck", sizeof kernels / sizeof kernels[0], kernels, 1,
        pipelines};
}

/* ---- fixture ---- */
static dck_context ctx;
static dck_queue q;
static dck_module mod;

static void open_ctx(uint32_t flags)
{
    init_module();
    dck_context_desc d = {0};
    d.backend = DCK_BACKEND_CPU;
    d.flags = flags;
    d.num_threads = 2;
    OK(dck_context_create(&d, &ctx));
    OK(dck_queue_create(ctx, NULL, &q));
    /* a checked context takes only kernels compiled with bounds checks: these hand-made ones
       are marked so (only `shift` reports violations; the tests need no more of the others) */
    static dck_abi_kernel kchk[sizeof kernels / sizeof kernels[0]];
    static dck_abi_module module_chk;
    memcpy(kchk, kernels, sizeof kernels);
    for (size_t i = 0; i < sizeof kernels / sizeof kernels[0]; i++)
        kchk[i].flags |= DCK_ABI_KERNEL_CHECKED;
    module_chk = module;
    module_chk.kernels = kchk;
    OK(dck_module_create_from_abi(ctx, flags & DCK_CONTEXT_CHECKED ? &module_chk : &module, &mod));
}
static void setup(void) { open_ctx(0); }
static void setup_checked(void) { open_ctx(DCK_CONTEXT_CHECKED); }
static void teardown(void)
{
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS, "%s", dck_last_error());
}

static dck_kernel kernel(const char *name)
{
    dck_kernel k;
    OK(dck_module_get_kernel(mod, name, &k));
    return k;
}

static dck_buffer fbuf(uint32_t n, float start, float step)
{
    dck_buffer b;
    OK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, n, &b));
    float *p;
    OK(dck_buffer_map(b, DCK_MAP_WRITE, (void **)&p));
    for (uint32_t i = 0; i < n; i++) p[i] = start + step * (float)i;
    OK(dck_buffer_unmap(b));
    return b;
}

static dck_range range1(uint32_t g, uint32_t l)
{
    dck_range r = {1, {g, 1, 1}, {l, 0, 0}};
    return r;
}

/* ---- contexts and devices ---- */

Test(context, default_and_devices)
{
    dck_context c;
    OK(dck_context_create(NULL, &c));
    dck_device dev;
    OK(dck_context_get_device(c, &dev));
    dck_device_info info;
    OK(dck_device_get_info(dev, &info));
    cr_expect_eq(info.backend, DCK_BACKEND_CPU);
    cr_expect_str_eq(info.backend_name, "cpu");
    cr_expect_gt(strlen(info.name), 0);
    cr_expect_geq(info.compute_units, 1);
    cr_expect_eq(info.subgroup_size, 1);
    cr_expect_eq(info.max_work_group_size, 1024);
    cr_expect(info.features & DCK_FEATURE_FP64);
    cr_expect_gt(info.global_memory_bytes, 0);
    OK(dck_context_destroy(c));
    OK(dck_context_destroy(NULL));

    uint32_t n = 0;
    OK(dck_enumerate_devices(DCK_BACKEND_AUTO, &n, NULL));
    cr_expect_geq(n, 1); /* the CPU, plus OpenCL/Vulkan devices where present */
    dck_device_info infos[4];
    n = 4;
    OK(dck_enumerate_devices(DCK_BACKEND_CPU, &n, infos));
    cr_expect_eq(n, 1);
    cr_expect_str_eq(infos[0].name, info.name);
    n = 4;
    OK(dck_enumerate_devices(DCK_BACKEND_CUDA, &n, infos));
    cr_expect_eq(n, 0);
}

Test(context, missing_backend_and_device)
{
    dck_context c = (dck_context)1;
    dck_context_desc d = {0};
    d.backend_name = "cuda";
    cr_assert_eq(dck_context_create(&d, &c), DCK_ERROR_BACKEND_UNAVAILABLE);
    cr_expect_null(c);
    /* not in the build, or its driver is missing here */
    cr_expect(starts_with(dck_last_error(), "backend 'cuda' is "), "%s", dck_last_error());
    d.backend_name = "nonsense";
    cr_expect_eq(dck_context_create(&d, &c), DCK_ERROR_INVALID_ARGUMENT);
    d.backend_name = "cpu";
    d.device_index = 3;
    cr_expect_eq(dck_context_create(&d, &c), DCK_ERROR_DEVICE_NOT_FOUND);
    cr_expect_str_eq(dck_status_string(DCK_ERROR_OUT_OF_BOUNDS), "DCK_ERROR_OUT_OF_BOUNDS");
}

static atomic_long live_allocs;
static void *count_alloc(void *u, size_t size, size_t align)
{
    void *p = NULL;
    if (align < sizeof(void *)) align = sizeof(void *);
    if (posix_memalign(&p, align, size)) return NULL;
    atomic_fetch_add(&live_allocs, 1);
    ++*(long *)u;
    return p;
}
static void count_free(void *u, void *p)
{
    atomic_fetch_sub(&live_allocs, 1);
    free(p);
}

Test(context, user_allocator_sees_everything)
{
    long calls = 0;
    dck_allocator al = {count_alloc, count_free, &calls};
    dck_context_desc d = {0};
    d.allocator = &al;
    d.num_threads = 3;
    init_module();
    OK(dck_context_create(&d, &ctx));
    OK(dck_queue_create(ctx, NULL, &q));
    OK(dck_module_create_from_abi(ctx, &module, &mod));
    dck_buffer x = fbuf(1000, 0, 1), y = fbuf(1000, 1, 0);
    dck_arg args[] = {dck_arg_f32(2), dck_arg_buffer(x), dck_arg_buffer(y)};
    dck_range r = range1(1000, 0);
    dck_event ev;
    OK(dck_launch(q, kernel("saxpy"), &r, 3, args, &ev)); /* left alive: destroy releases it */
    cr_expect_gt(calls, 5);
    cr_expect_gt(atomic_load(&live_allocs), 0);
    OK(dck_context_destroy(ctx));
    cr_expect_eq(atomic_load(&live_allocs), 0, "%ld allocations leaked",
                 (long)atomic_load(&live_allocs));
}

/* ---- buffers and the pool ---- */

Test(buffer, write_read_map, .init = setup, .fini = teardown)
{
    dck_buffer b;
    OK(dck_buffer_create_bytes(ctx, 64, 4, &b));
    dck_buffer_info bi;
    OK(dck_buffer_get_info(b, &bi));
    cr_expect_eq(bi.count, 16);
    cr_expect_eq(bi.elem_size, 4);
    uint32_t in[16], out[16];
    for (int i = 0; i < 16; i++) in[i] = (uint32_t)i * 3u;
    OK(dck_buffer_write(b, 0, sizeof in, in));
    OK(dck_buffer_read(b, 8, 8, out));
    cr_expect_eq(out[0], 6);
    cr_expect_eq(out[1], 9);
    cr_expect_eq(dck_buffer_read(b, 60, 8, out), DCK_ERROR_OUT_OF_RANGE);
    uint32_t *p;
    OK(dck_buffer_map(b, DCK_MAP_READ | DCK_MAP_WRITE, (void **)&p));
    cr_expect_eq((uintptr_t)p % 64, 0, "buffers are 64-byte aligned");
    cr_expect_eq(p[15], 45);
    p[15] = 7;
    cr_expect_eq(dck_buffer_map(b, DCK_MAP_READ, (void **)&p), DCK_ERROR_BUFFER_MAPPED);
    cr_expect_eq(dck_buffer_write(b, 0, 4, in), DCK_ERROR_BUFFER_MAPPED);
    OK(dck_buffer_unmap(b));
    cr_expect_eq(dck_buffer_unmap(b), DCK_ERROR_BUFFER_MAPPED);
    OK(dck_buffer_read(b, 60, 4, out));
    cr_expect_eq(out[0], 7);
    dck_buffer bad;
    cr_expect_eq(dck_buffer_create_bytes(ctx, 10, 4, &bad), DCK_ERROR_INVALID_ARGUMENT);
    dck_event ev;
    uint64_t ns;
    OK(dck_enqueue_write(q, b, 0, 4, in, &ev));
    OK(dck_event_wait(ev));
    OK(dck_event_elapsed_ns(ev, &ns));
    OK(dck_event_destroy(ev));
    OK(dck_buffer_destroy(b));
    OK(dck_buffer_destroy(NULL));
}

Test(buffer, element_limit, .init = setup, .fini = teardown)
{
    dck_buffer b = NULL;
    cr_assert_eq(dck_buffer_create_elems(ctx, DCK_TYPE_U8, 4294967296ull, &b),
                 DCK_ERROR_BUFFER_TOO_LARGE);
    cr_expect_null(b);
    cr_expect(strstr(dck_last_error(), "4294967296 elements exceeds the limit of 4294967295"), "%s",
              dck_last_error());
    dck_buffer_desc d = {0};
    d.size = 4294967296ull * 2;
    d.elem_size = 2;
    cr_expect_eq(dck_buffer_create(ctx, &d, &b), DCK_ERROR_BUFFER_TOO_LARGE);
}

Test(buffer, pool_statistics, .init = setup, .fini = teardown)
{
    dck_pool_stats s0, s;
    OK(dck_context_get_pool_stats(ctx, &s0));
    dck_buffer a, b;
    OK(dck_buffer_create_bytes(ctx, 1000, 4, &a));
    OK(dck_context_get_pool_stats(ctx, &s));
    cr_expect_eq(s.allocations, s0.allocations + 1);
    cr_expect_geq(s.bytes_in_use, s0.bytes_in_use + 1000);
    cr_expect_leq(s.bytes_in_use, s0.bytes_in_use + 1250);
    uint64_t in_use = s.bytes_in_use;
    OK(dck_buffer_destroy(a));
    OK(dck_buffer_create_bytes(ctx, 996, 4, &b)); /* same size class: served from the pool */
    OK(dck_context_get_pool_stats(ctx, &s));
    cr_expect_eq(s.allocations_from_pool, s0.allocations_from_pool + 1);
    cr_expect_eq(s.bytes_in_use, in_use);
    cr_expect_eq(s.peak_bytes_in_use, in_use);
    OK(dck_buffer_destroy(b));
    OK(dck_context_get_pool_stats(ctx, &s));
    cr_expect_eq(s.bytes_in_use, s0.bytes_in_use);
    cr_expect_gt(s.bytes_cached, 0);
    OK(dck_context_trim_pool(ctx));
    OK(dck_context_get_pool_stats(ctx, &s));
    cr_expect_eq(s.bytes_cached, 0);
    cr_expect_eq(s.frees, s0.frees + 2);
}

/* ---- reflection ---- */

Test(module, reflection, .init = setup, .fini = teardown)
{
    dck_module_info mi;
    OK(dck_module_get_info(mod, &mi));
    cr_expect_eq(mi.nkernels, 8);
    cr_expect_eq(mi.cache_hit, -1);
    cr_expect_str_eq(mi.source_name, "k.dck");
    dck_kernel_info ki;
    OK(dck_kernel_get_info(kernel("fill"), &ki));
    cr_expect_eq(ki.workgroup[0], 32);
    cr_expect_eq(ki.kind, DCK_KERNEL);
    OK(dck_kernel_get_info(kernel("scale_loop"), &ki));
    cr_expect_eq(ki.kind, DCK_PIPELINE);
    cr_expect_eq(ki.nparams, 4);
    dck_param_info pi;
    OK(dck_kernel_get_param(kernel("saxpy"), 1, &pi));
    cr_expect_str_eq(pi.name, "x");
    cr_expect_eq(pi.kind, DCK_PARAM_BUFFER);
    cr_expect_eq(pi.access, DCK_ACCESS_READ);
    cr_expect_eq(pi.type, DCK_TYPE_F32);
    cr_expect_str_eq(pi.type_name, "float");
    cr_expect_eq(dck_kernel_get_param(kernel("saxpy"), 3, &pi), DCK_ERROR_NOT_FOUND);
    dck_kernel k;
    cr_expect_eq(dck_module_get_kernel(mod, "nope", &k), DCK_ERROR_NOT_FOUND);
    cr_expect(starts_with(dck_last_error(),
                          "no kernel or pipeline named 'nope' in module 'k.dck' (it has: saxpy, "),
              "%s", dck_last_error());
}

Test(module, bad_magic_and_version, .init = setup, .fini = teardown)
{
    dck_abi_module bad = module;
    bad.magic = 0x1234;
    dck_module m;
    cr_expect_eq(dck_module_create_from_abi(ctx, &bad, &m), DCK_ERROR_INVALID_MODULE);
    bad = module;
    bad.version = 99;
    cr_expect_eq(dck_module_create_from_abi(ctx, &bad, &m), DCK_ERROR_INVALID_MODULE);
    cr_expect(strstr(dck_last_error(), "ABI version 99"), "%s", dck_last_error());
}

/* ---- launches ---- */

Test(launch, saxpy_partial_last_group, .init = setup, .fini = teardown)
{
    const uint32_t n = 1000; /* 15 full groups of 64 and one of 40 */
    dck_buffer x = fbuf(n, 0, 1), y = fbuf(n, 1, 0);
    dck_arg args[] = {dck_arg_f32(2), dck_arg_buffer(x), dck_arg_buffer(y)};
    dck_range r = range1(n, 0);
    dck_event ev;
    OK(dck_launch(q, kernel("saxpy"), &r, 3, args, &ev));
    OK(dck_queue_finish(q));
    uint64_t t0, t1;
    OK(dck_event_get_times(ev, &t0, &t1));
    cr_expect_leq(t0, t1);
    float out[1000];
    OK(dck_buffer_read(y, 0, sizeof out, out));
    for (uint32_t i = 0; i < n; i++)
        cr_assert_float_eq(out[i], 2.0f * (float)i + 1.0f, 1e-6, "y[%u]", i);
    /* explicit local size with a partial group */
    r = range1(n, 48);
    OK(dck_launch(q, kernel("saxpy"), &r, 3, args, NULL));
    OK(dck_buffer_read(y, 0, sizeof out, out));
    cr_expect_float_eq(out[999], 4.0f * 999 + 1.0f, 1e-3);
}

Test(launch, two_dimensional_range, .init = setup, .fini = teardown)
{
    dck_buffer h;
    OK(dck_buffer_create_elems(ctx, DCK_TYPE_U32, 37 * 23, &h));
    uint32_t zero[37 * 23] = {0};
    OK(dck_buffer_write(h, 0, sizeof zero, zero));
    dck_arg a = dck_arg_buffer(h);
    dck_range r = {2, {37, 23, 1}, {0, 0, 0}};
    OK(dck_launch(q, kernel("count2d"), &r, 1, &a, NULL));
    uint32_t out[37 * 23];
    OK(dck_buffer_read(h, 0, sizeof out, out));
    for (int i = 0; i < 37 * 23; i++) cr_assert_eq(out[i], 1, "cell %d", i);
}

Test(launch, argument_errors, .init = setup, .fini = teardown)
{
    dck_buffer x = fbuf(16, 0, 1), y = fbuf(16, 0, 1), d;
    OK(dck_buffer_create_elems(ctx, DCK_TYPE_F64, 16, &d));
    dck_kernel k = kernel("saxpy");
    dck_range r = range1(16, 0);

    dck_arg two[] = {dck_arg_f32(2), dck_arg_buffer(x)};
    cr_assert_eq(dck_launch(q, k, &r, 2, two, NULL), DCK_ERROR_ARGUMENT_COUNT);
    cr_expect(
        starts_with(
            dck_last_error(),
            "kernel 'saxpy' expects 3 arguments (float a, const float[] x, float[] y), got 2"),
        "%s", dck_last_error());

    dck_arg wrong_type[] = {dck_arg_f32(2), dck_arg_f32(1), dck_arg_buffer(y)};
    cr_assert_eq(dck_launch(q, k, &r, 3, wrong_type, NULL), DCK_ERROR_ARGUMENT_TYPE);
    cr_expect(
        starts_with(
            dck_last_error(),
            "argument 2 ('x') of kernel 'saxpy' expects a buffer of 'const float[]', got a float"),
        "%s", dck_last_error());
    cr_expect(strstr(dck_last_error(), "(device '"), "names the device: %s", dck_last_error());

    dck_arg wrong_scalar[] = {dck_arg_f64(2), dck_arg_buffer(x), dck_arg_buffer(y)};
    cr_assert_eq(dck_launch(q, k, &r, 3, wrong_scalar, NULL), DCK_ERROR_ARGUMENT_TYPE);
    cr_expect(starts_with(dck_last_error(),
                          "argument 1 ('a') of kernel 'saxpy' expects a 'float', got a double"),
              "%s", dck_last_error());

    dck_arg buf_for_value[] = {dck_arg_buffer(x), dck_arg_buffer(x), dck_arg_buffer(y)};
    cr_assert_eq(dck_launch(q, k, &r, 3, buf_for_value, NULL), DCK_ERROR_ARGUMENT_TYPE);
    cr_expect(starts_with(dck_last_error(),
                          "argument 1 ('a') of kernel 'saxpy' expects a 'float', got a buffer"),
              "%s", dck_last_error());

    dck_arg elem_size[] = {dck_arg_f32(2), dck_arg_buffer(d), dck_arg_buffer(y)};
    cr_assert_eq(dck_launch(q, k, &r, 3, elem_size, NULL), DCK_ERROR_ARGUMENT_TYPE);
    cr_expect(starts_with(dck_last_error(),
                          "argument 2 ('x') of kernel 'saxpy' expects a buffer of 'const float[]', "
                          "got a buffer of double (8-byte elements; the parameter's are 4 bytes)"),
              "%s", dck_last_error());

    dck_arg null_buf[] = {dck_arg_f32(2), dck_arg_buffer(NULL), dck_arg_buffer(y)};
    cr_expect_eq(dck_launch(q, k, &r, 3, null_buf, NULL), DCK_ERROR_ARGUMENT_TYPE);

    float v4[4] = {1, 2, 3, 4};
    dck_arg vec[] = {dck_arg_value(v4, sizeof v4, "float4"), dck_arg_buffer(x), dck_arg_buffer(y)};
    cr_expect_eq(dck_launch(q, k, &r, 3, vec, NULL), DCK_ERROR_ARGUMENT_TYPE);
    cr_expect(starts_with(dck_last_error(),
                          "argument 1 ('a') of kernel 'saxpy' expects a 'float', got a 'float4'"),
              "%s", dck_last_error());
    float one = 1;
    dck_arg by_name[] = {dck_arg_value(&one, 4, "f32"), dck_arg_buffer(x), dck_arg_buffer(y)};
    OK(dck_launch(q, k, &r, 3, by_name, NULL));

    /* a mapped buffer cannot be launched with */
    void *p;
    OK(dck_buffer_map(y, DCK_MAP_READ, &p));
    dck_arg ok_args[] = {dck_arg_f32(2), dck_arg_buffer(x), dck_arg_buffer(y)};
    cr_expect_eq(dck_launch(q, k, &r, 3, ok_args, NULL), DCK_ERROR_BUFFER_MAPPED);
    OK(dck_buffer_unmap(y));
    cr_expect_eq(dck_launch(q, k, NULL, 3, ok_args, NULL), DCK_ERROR_INVALID_RANGE);
    r.dims = 4;
    cr_expect_eq(dck_launch(q, k, &r, 3, ok_args, NULL), DCK_ERROR_INVALID_RANGE);
}

Test(launch, integer_conversions, .init = setup, .fini = teardown)
{
    dck_buffer x = fbuf(8, 1, 0), y = fbuf(8, 0, 0);
    /* int n of scale_loop takes an int; a uint32 that fits is accepted, one that does not is refused */
    dck_arg args[] = {dck_arg_f32(2), dck_arg_buffer(x), dck_arg_buffer(y), dck_arg_u32(1)};
    OK(dck_launch(q, kernel("scale_loop"), NULL, 4, args, NULL));
    args[3] = dck_arg_u32(3000000000u);
    cr_expect_eq(dck_launch(q, kernel("scale_loop"), NULL, 4, args, NULL), DCK_ERROR_ARGUMENT_TYPE);
    cr_expect(starts_with(dck_last_error(),
                          "argument 4 ('n') of pipeline 'scale_loop' expects an 'int', got a uint "
                          "whose value does not fit in 'int'"),
              "%s", dck_last_error());
}

Test(launch, barrier_kernel, .init = setup, .fini = teardown)
{
    dck_buffer x = fbuf(256, 0, 1), y = fbuf(256, 0, 0);
    dck_arg args[] = {dck_arg_buffer(x), dck_arg_buffer(y)};
    dck_range r = range1(256, 64);
    OK(dck_launch(q, kernel("reverse"), &r, 2, args, NULL));
    float out[256];
    OK(dck_buffer_read(y, 0, sizeof out, out));
    for (int i = 0; i < 256; i++)
        cr_assert_float_eq(out[i], (float)(i / 64 * 64 + 63 - i % 64), 0, "y[%d]", i);
    /* the runtime's choice divides the global size: 48 items -> a local size of 48 */
    r = range1(48, 0);
    OK(dck_launch(q, kernel("reverse"), &r, 2, args, NULL));
    OK(dck_buffer_read(y, 0, 4, out));
    cr_expect_float_eq(out[0], 47.0f, 0);
    r = range1(100, 64);
    cr_assert_eq(dck_launch(q, kernel("reverse"), &r, 2, args, NULL), DCK_ERROR_INVALID_RANGE);
    cr_expect(starts_with(dck_last_error(),
                          "kernel 'reverse' uses barrier(), so its global size must be a multiple "
                          "of its local size: 100 is not a multiple of 64 in dimension 0"),
              "%s", dck_last_error());
}

Test(launch, fixed_workgroup, .init = setup, .fini = teardown)
{
    dck_buffer y = fbuf(100, 0, 0);
    dck_arg args[] = {dck_arg_f32(5), dck_arg_buffer(y)};
    dck_range r = range1(100, 16);
    cr_assert_eq(dck_launch(q, kernel("fill"), &r, 2, args, NULL), DCK_ERROR_INVALID_RANGE);
    cr_expect(starts_with(dck_last_error(),
                          "kernel 'fill' has [[workgroup(32, 1, 1)]] and cannot be launched with "
                          "local size (16, 1, 1)"),
              "%s", dck_last_error());
    r = range1(100, 32);
    OK(dck_launch(q, kernel("fill"), &r, 2, args, NULL));
    r = range1(100, 0);
    OK(dck_launch(q, kernel("fill"), &r, 2, args, NULL));
    float out[100];
    OK(dck_buffer_read(y, 0, sizeof out, out));
    cr_expect_float_eq(out[99], 5.0f, 0);
}

/* a module without bounds checks is refused by a checked context, naming the kernel: it ran
 * unchecked without a word before */
Test(checked, unchecked_code_refused)
{
    init_module();
    dck_context_desc d = {0};
    d.backend = DCK_BACKEND_CPU;
    d.flags = DCK_CONTEXT_CHECKED;
    dck_context c;
    OK(dck_context_create(&d, &c));
    dck_module m = NULL;
    cr_expect_eq(dck_module_create_from_abi(c, &module, &m), DCK_ERROR_UNSUPPORTED);
    cr_expect(strstr(dck_last_error(), "kernel 'saxpy' of this embedded module was compiled "
                                       "without bounds checks"),
              "%s", dck_last_error());
    cr_expect_null(m);
    dck_context_destroy(c);
}

Test(checked, out_of_bounds_write_reported, .init = setup_checked, .fini = teardown)
{
    dck_buffer x = fbuf(1000, 1, 0), y = fbuf(1000, 0, 0);
    dck_arg args[] = {dck_arg_buffer(x), dck_arg_buffer(y)};
    dck_range r = range1(1000, 0);
    cr_assert_eq(dck_launch(q, kernel("shift"), &r, 2, args, NULL), DCK_ERROR_OUT_OF_BOUNDS);
    cr_expect(starts_with(dck_last_error(),
                          "out-of-bounds write to buffer 'y' (index 1000, length 1000) in kernel "
                          "'shift' at line 7 of k.dck"),
              "%s", dck_last_error());
    float last;
    OK(dck_buffer_read(y, 999 * 4, 4, &last));
    cr_expect_float_eq(last, 1.0f, 0, "in-bounds writes happened");
}

Test(checked, overlapping_arguments_reported, .init = setup_checked, .fini = teardown)
{
    dck_buffer y = fbuf(64, 1, 0);
    dck_arg args[] = {dck_arg_f32(2), dck_arg_buffer(y), dck_arg_buffer(y)};
    dck_range r = range1(64, 0);
    cr_assert_eq(dck_launch(q, kernel("saxpy"), &r, 3, args, NULL), DCK_ERROR_ALIASING);
    cr_expect(
        starts_with(dck_last_error(),
                    "arguments 2 ('x') and 3 ('y') of kernel 'saxpy' overlap (the same buffer "
                    "is passed twice, and y written)"),
        "%s", dck_last_error());
}

Test(checked, overlap_allowed_unchecked, .init = setup, .fini = teardown)
{
    dck_buffer y = fbuf(64, 1, 0);
    dck_arg args[] = {dck_arg_f32(2), dck_arg_buffer(y), dck_arg_buffer(y)};
    dck_range r = range1(64, 0);
    OK(dck_launch(q, kernel("saxpy"), &r, 3, args, NULL));
}

/* ---- pipelines ---- */

Test(pipeline, temporary_and_loop, .init = setup, .fini = teardown)
{
    const uint32_t n = 300;
    dck_buffer x = fbuf(n, 0, 1), y = fbuf(n, 10, 0);
    dck_arg args[] = {dck_arg_f32(3), dck_arg_buffer(x), dck_arg_buffer(y), dck_arg_i32(4)};
    dck_pool_stats s0, s;
    OK(dck_context_get_pool_stats(ctx, &s0));
    OK(dck_launch(q, kernel("scale_loop"), NULL, 4, args, NULL));
    float out[300];
    OK(dck_buffer_read(y, 0, sizeof out, out));
    for (uint32_t i = 0; i < n; i++)
        cr_assert_float_eq(out[i], 10.0f + 3.0f * (float)i + 4.0f, 1e-4, "y[%u]", i);
    OK(dck_context_get_pool_stats(ctx, &s));
    cr_expect_eq(s.allocations, s0.allocations + 1, "one temporary");
    cr_expect_eq(s.bytes_in_use, s0.bytes_in_use, "the temporary went back to the pool");
    /* a second run reuses the temporary's memory */
    OK(dck_launch(q, kernel("scale_loop"), NULL, 4, args, NULL));
    OK(dck_context_get_pool_stats(ctx, &s));
    cr_expect_eq(s.allocations_from_pool, s0.allocations_from_pool + 1);
    /* zero iterations of the loop */
    args[3] = dck_arg_i32(0);
    OK(dck_launch(q, kernel("scale_loop"), NULL, 4, args, NULL));
    OK(dck_buffer_read(y, 4, 4, out));
    cr_expect_float_eq(out[0], 10.0f + (3.0f + 4.0f) * 2 + 3.0f, 1e-4); /* y[1] after three runs */
}

Test(pipeline, errors_inside_name_the_pipeline, .init = setup, .fini = teardown)
{
    dck_buffer x = fbuf(8, 0, 1), y = fbuf(4, 0, 0);
    dck_arg args[] = {dck_arg_f32(3), dck_arg_buffer(x), dck_arg_buffer(y), dck_arg_i32(1)};
    /* y shorter than x: saxpy over len(x) in the pipeline is fine (it guards), so the run succeeds */
    OK(dck_launch(q, kernel("scale_loop"), NULL, 4, args, NULL));
    dck_arg bad[] = {dck_arg_f32(3), dck_arg_buffer(x), dck_arg_f32(1), dck_arg_i32(1)};
    cr_expect_eq(dck_launch(q, kernel("scale_loop"), NULL, 4, bad, NULL), DCK_ERROR_ARGUMENT_TYPE);
    cr_expect(
        starts_with(dck_last_error(),
                    "argument 3 ('y') of pipeline 'scale_loop' expects a buffer of 'float[]'"),
        "%s", dck_last_error());
}

static dck_status run_program(const uint32_t *code, uint32_t ncode)
{
    dck_abi_pipeline p = pipelines[0];
    p.code = code;
    p.ncode = ncode;
    dck_abi_module m = module;
    m.pipelines = &p;
    dck_module mm;
    OK(dck_module_create_from_abi(ctx, &m, &mm));
    dck_kernel k;
    OK(dck_module_get_kernel(mm, "scale_loop", &k));
    dck_buffer x = fbuf(8, 0, 1), y = fbuf(8, 0, 0);
    dck_arg args[] = {dck_arg_f32(3), dck_arg_buffer(x), dck_arg_buffer(y), dck_arg_i32(1)};
    dck_status st = dck_launch(q, k, NULL, 4, args, NULL);
    dck_buffer_destroy(x);
    dck_buffer_destroy(y);
    dck_module_destroy(mm);
    return st;
}

Test(pipeline, malformed_programs_rejected, .init = setup, .fini = teardown)
{
    /* truncated LAUNCH: the words run out in the middle of its arguments */
    uint32_t *trunc = malloc(20 * sizeof *trunc);
    memcpy(trunc, pl_code, 20 * sizeof *trunc);
    cr_expect_eq(run_program(trunc, 20), DCK_ERROR_INVALID_PROGRAM);
    cr_expect(starts_with(dck_last_error(),
                          "malformed program of pipeline 'scale_loop' at word 10: instruction "
                          "truncated"),
              "%s", dck_last_error());
    free(trunc);
    const uint32_t no_end[] = {DCK_POP_LEN, 0, 1}; /* runs off the end */
    cr_expect_eq(run_program(no_end, 3), DCK_ERROR_INVALID_PROGRAM);
    const uint32_t bad_reg[] = {DCK_POP_LEN, 99, 1, DCK_POP_END};
    cr_expect_eq(run_program(bad_reg, 4), DCK_ERROR_INVALID_PROGRAM);
    cr_expect(strstr(dck_last_error(), "register 99 out of range"), "%s", dck_last_error());
    const uint32_t bad_jump[] = {DCK_POP_JMP, 1000};
    cr_expect_eq(run_program(bad_jump, 2), DCK_ERROR_INVALID_PROGRAM);
    const uint32_t bad_op[] = {77};
    cr_expect_eq(run_program(bad_op, 1), DCK_ERROR_INVALID_PROGRAM);
    const uint32_t bad_slot[] = {DCK_POP_LEN, 0, 4, DCK_POP_END}; /* temporary not allocated */
    cr_expect_eq(run_program(bad_slot, 4), DCK_ERROR_INVALID_PROGRAM);
    const uint32_t free_param[] = {DCK_POP_FREE, 1, DCK_POP_END};
    cr_expect_eq(run_program(free_param, 3), DCK_ERROR_INVALID_PROGRAM);
    const uint32_t bad_kernel[] = {DCK_POP_LAUNCH, 50, 1, 0, 0, 0, 0, 0, 0, 0, 0, DCK_POP_END};
    cr_expect_eq(run_program(bad_kernel, 12), DCK_ERROR_INVALID_PROGRAM);
    const uint32_t bad_const[] = {DCK_POP_CONST, 0, 9, DCK_POP_END};
    cr_expect_eq(run_program(bad_const, 4), DCK_ERROR_INVALID_PROGRAM);
    /* a launch whose arguments do not match the kernel: checked like a user's */
    const uint32_t bad_args[] = {
        DCK_POP_LEN, 0, 1, DCK_POP_LAUNCH, K_ADD1, 1, 0,          0, 0, 0, 0,
        0,           0, 1, DCK_POPA_PARAM, 0,      0, DCK_POP_END};
    cr_expect_eq(run_program(bad_args, 18), DCK_ERROR_ARGUMENT_TYPE);
    cr_expect(starts_with(dck_last_error(),
                          "in pipeline 'scale_loop' (line 40): argument 1 ('y') of kernel 'add1' "
                          "expects a buffer of 'float[]', got a float"),
              "%s", dck_last_error());
    /* every temporary was released */
    dck_pool_stats s;
    OK(dck_context_get_pool_stats(ctx, &s));
}

/* ---- traces ---- */

Test(trace, chrome_trace_written)
{
    init_module();
    char path[] = "/tmp/dck_trace_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    dck_context_desc d = {0};
    d.trace_path = path;
    d.num_threads = 1;
    OK(dck_context_create(&d, &ctx));
    OK(dck_queue_create(ctx, NULL, &q));
    OK(dck_module_create_from_abi(ctx, &module, &mod));
    dck_buffer x = fbuf(100, 0, 1), y = fbuf(100, 0, 0);
    dck_arg args[] = {dck_arg_f32(2), dck_arg_buffer(x), dck_arg_buffer(y)};
    dck_range r = range1(100, 0);
    OK(dck_launch(q, kernel("saxpy"), &r, 3, args, NULL));
    float out[100];
    OK(dck_buffer_read(y, 0, sizeof out, out));
    OK(dck_context_destroy(ctx));
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    cr_expect(strstr(buf, "\"traceEvents\""), "%s", buf);
    cr_expect(strstr(buf, "{\"name\":\"saxpy\",\"cat\":\"launch\",\"ph\":\"X\""), "%s", buf);
    cr_expect(strstr(buf, "\"cat\":\"transfer\""), "%s", buf);
    cr_expect(strstr(buf, "\"bytes\":400"), "%s", buf);
}

/* ---- .dck source through the compiler and the JIT ---- */

#ifndef DCK_BINARY_DIR
#define DCK_BINARY_DIR "."
#endif

static void use_test_cache(void) { setenv("DCK_CACHE_DIR", DCK_BINARY_DIR "/test-jit-cache", 1); }

static const char *pipe_src =
    "kernel void scale(float s, const float[] x, float[] y) { uint i = global_id(0); if (i < len(y)) y[i] = s * x[i]; }\n"
    "kernel void relu(const float[] x, float[] y) { uint i = global_id(0); if (i < len(y)) y[i] = max(x[i], 0.0); }\n"
    "pipeline scale_relu(float s, const float[] x, float[] y) {\n"
    "    float t[len(x)];\n"
    "    scale<<<len(x)>>>(s, x, t);\n"
    "    relu<<<len(x)>>>(t, y);\n"
    "}\n"
    "kernel void shift(const float[] x, float[] y) {\n"
    "    uint i = global_id(0);\n"
    "    y[i + 1] = x[i] * SCALE;\n"
    "}\n";

static void source_setup(uint32_t flags)
{
    use_test_cache();
    dck_context_desc d = {0};
    d.flags = flags;
    OK(dck_context_create(&d, &ctx));
    OK(dck_queue_create(ctx, NULL, &q));
    const char *defs[] = {"SCALE=2"};
    dck_module_options o = {0};
    o.defines = defs;
    o.ndefines = 1;
    o.opt_level = -1;
    OK(dck_module_create_from_source(ctx, "pipe.dck", pipe_src, &o, &mod));
}
static void src_setup(void) { source_setup(0); }
static void src_setup_checked(void) { source_setup(DCK_CONTEXT_CHECKED); }

Test(source, pipeline_runs_and_cache_hits, .init = src_setup, .fini = teardown)
{
    float in[6] = {1, -2, 3, -4, 5, -6}, out[6];
    dck_buffer x, y;
    OK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, 6, &x));
    OK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, 6, &y));
    OK(dck_buffer_write(x, 0, sizeof in, in));
    dck_arg args[] = {dck_arg_f32(-2), dck_arg_buffer(x), dck_arg_buffer(y)};
    OK(dck_launch(q, kernel("scale_relu"), NULL, 3, args, NULL));
    OK(dck_buffer_read(y, 0, sizeof out, out));
    for (int i = 0; i < 6; i++)
        cr_expect_float_eq(out[i], in[i] < 0 ? -2 * in[i] : 0.0f, 0, "y[%d]", i);
    /* the same source again: served from the disk cache */
    dck_module m2;
    const char *defs[] = {"SCALE=2"};
    dck_module_options o = {0};
    o.defines = defs;
    o.ndefines = 1;
    o.opt_level = -1;
    OK(dck_module_create_from_source(ctx, "pipe.dck", pipe_src, &o, &m2));
    dck_module_info mi;
    OK(dck_module_get_info(m2, &mi));
    cr_expect_eq(mi.cache_hit, 1);
    cr_expect_not_null(mi.cache_path);
    OK(dck_module_destroy(m2));
}

Test(source, compile_errors_come_back, .init = src_setup, .fini = teardown)
{
    dck_module m = (dck_module)1;
    cr_assert_eq(dck_module_create_from_source(ctx, "bad.dck",
                                               "kernel void f(float a) { a = 1 +; }\n", NULL, &m),
                 DCK_ERROR_COMPILE);
    cr_expect_null(m);
    cr_expect(strstr(dck_last_error(), "bad.dck:1:"), "%s", dck_last_error());
    cr_expect(strstr(dck_last_error(), "error:"), "%s", dck_last_error());
}

Test(source, checked_out_of_bounds_names_the_line, .init = src_setup_checked, .fini = teardown)
{
    dck_buffer x = fbuf(6, 1, 0), y = fbuf(6, 0, 0);
    dck_arg args[] = {dck_arg_buffer(x), dck_arg_buffer(y)};
    dck_range r = range1(6, 0);
    cr_assert_eq(dck_launch(q, kernel("shift"), &r, 2, args, NULL), DCK_ERROR_OUT_OF_BOUNDS);
    cr_expect(starts_with(dck_last_error(),
                          "out-of-bounds write to buffer 'y' (index 6, length 6) in kernel 'shift' "
                          "at line 10 of pipe.dck"),
              "%s", dck_last_error());
}

/* ---- dckrun ---- */

static int run_dckrun(const char *args, char *out, size_t n)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s/runtime/dckrun' %s 2>&1", DCK_BINARY_DIR, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t len = fread(out, 1, n - 1, p);
    out[len] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

Test(dckrun, end_to_end)
{
    use_test_cache();
    char dir[] = "/tmp/dckrun_test_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char dck[256], xbin[256], ybin[256], args[1024], out[8192];
    snprintf(dck, sizeof dck, "%s/k.dck", dir);
    snprintf(xbin, sizeof xbin, "%s/x.bin", dir);
    snprintf(ybin, sizeof ybin, "%s/y.bin", dir);
    write_text(dck, pipe_src);
    float xs[6] = {1, -2, 3, -4, 5, -6};
    FILE *f = fopen(xbin, "wb");
    fwrite(xs, 4, 6, f);
    fclose(f);

    snprintf(args, sizeof args, "%s scale_relu y=zeros:6 s=-2 x=@%s --print=y --out=y=%s -DSCALE=1",
             dck, xbin, ybin);
    cr_expect_eq(run_dckrun(args, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "y: float[6] = [0, 4, 0, 8, 0, 12]"), "%s", out);
    float ys[6] = {0};
    f = fopen(ybin, "rb");
    cr_assert_not_null(f);
    cr_expect_eq(fread(ys, 4, 6, f), 6);
    fclose(f);
    cr_expect_float_eq(ys[5], 12.0f, 0);

    /* kernel: --global defaults to the last buffer's length; rand is deterministic */
    snprintf(args, sizeof args,
             "-v %s scale s=1 x=rand:20:5 y=zeros:20 --print=y -D SCALE=1 --bench=3", dck);
    cr_expect_eq(run_dckrun(args, out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "y: float[20] = ["), "%s", out);
    cr_expect(strstr(out, ", ..., "), "%s", out);
    cr_expect(strstr(out, "backend auto: picked cpu"), "%s", out);
    cr_expect(strstr(out, "kernel cache"), "%s", out);
    cr_expect(strstr(out, "bench: kernel 'scale'"), "%s", out);
    char first[8192];
    snprintf(first, sizeof first, "%s", strstr(out, "y: float[20]"));
    first[strcspn(first, "\n")] = 0;
    cr_expect_eq(run_dckrun(args, out, sizeof out), 0);
    cr_expect(strstr(out, first) != NULL, "same seed, same data");

    /* errors: usage (2) and runtime (1) */
    snprintf(args, sizeof args, "%s scale s=1 x=zeros:4 -DSCALE=1", dck);
    cr_expect_eq(run_dckrun(args, out, sizeof out), 2);
    cr_expect(
        strstr(
            out,
            "missing argument 'y' of kernel 'scale'; its parameters are: float s, const float[] x, "
            "float[] y"),
        "%s", out);
    snprintf(args, sizeof args, "%s scale s=1 x=zeros:4 y=zeros:4 q=3 -DSCALE=1", dck);
    cr_expect_eq(run_dckrun(args, out, sizeof out), 2);
    cr_expect(strstr(out, "has no parameter 'q'"), "%s", out);
    snprintf(args, sizeof args, "%s shift x=zeros:4 y=zeros:4 -DSCALE=1 --checked", dck);
    cr_expect_eq(run_dckrun(args, out, sizeof out), 1);
    cr_expect(
        strstr(
            out,
            "out-of-bounds write to buffer 'y' (index 4, length 4) in kernel 'shift' at line 10"),
        "%s", out);
    cr_expect_eq(run_dckrun("--backend=cuda x.dck k", out, sizeof out), 1);
    cr_expect(strstr(out, "backend 'cuda' is "), "%s", out);
    cr_expect_eq(run_dckrun("x.dckpkg k", out, sizeof out), 1);
    cr_expect(strstr(out, "cannot open package 'x.dckpkg'"), "%s", out);
    cr_expect_eq(run_dckrun("--frobnicate", out, sizeof out), 2);
    cr_expect_eq(run_dckrun("--list-devices", out, sizeof out), 0);
    cr_expect(strstr(out, "cpu:0"), "%s", out);

    unlink(dck);
    unlink(xbin);
    unlink(ybin);
    rmdir(dir);
}
