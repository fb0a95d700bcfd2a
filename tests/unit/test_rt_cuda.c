/* test_rt_cuda.c: the CUDA backend (runtime/cuda.c) and batches (runtime/batch.c).
 *
 * Without a driver: the backend says "CUDA not available" (also with the toolkit's stub
 * libcuda, whose cuInit returns 34) and never crashes; batches and memory info are
 * DCK_ERROR_UNSUPPORTED on the CPU backend. With a CUDA device (the GPU machine): a kernel
 * from source, memory info from cuMemGetInfo, a batch recorded once and replayed, device-timed
 * events, and checked mode; those cases are skipped (Criterion's cr_skip_test, "SKIPPED: ...")
 * where there is no device, and the unavailable-path cases where there is one.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dck.h"

static bool have_cuda(void)
{
    if (dck_backend_available(DCK_BACKEND_CUDA) == DCK_SUCCESS) return true;
    cr_skip_test("SKIPPED: %s", dck_last_error()); /* does not return */
    return false;
}

Test(cuda, unavailable_is_a_clear_status)
{
    if (dck_backend_available(DCK_BACKEND_CUDA) == DCK_SUCCESS)
        cr_skip_test("SKIPPED: a CUDA device is present (this case checks its absence)");
    const char *msg = dck_last_error();
    cr_assert(strstr(msg, "CUDA not available") || strstr(msg, "not available in this build"),
              "message: %s", msg);
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_CUDA;
    dck_context ctx = NULL;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_ERROR_BACKEND_UNAVAILABLE);
    cr_assert_null(ctx);
    uint32_t n = 7;
    dck_enumerate_devices(DCK_BACKEND_CUDA, &n, NULL);
    cr_assert_eq(n, 0u);
}

Test(cuda, stub_library_is_reported)
{
    const char *stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
    if (access(stub, R_OK) != 0) cr_skip_test("SKIPPED: no CUDA stub library at %s", stub);
    setenv("DCK_LIBCUDA", stub, 1); /* read once, at the first use of the backend in this process */
    cr_assert_eq(dck_backend_available(DCK_BACKEND_CUDA), DCK_ERROR_BACKEND_UNAVAILABLE);
    cr_assert(strstr(dck_last_error(), "stub") != NULL, "message: %s", dck_last_error());
}

Test(cuda, batches_need_a_backend_that_has_them)
{
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_CPU;
    dck_context ctx;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS);
    dck_queue q;
    cr_assert_eq(dck_queue_create(ctx, NULL, &q), DCK_SUCCESS);
    cr_assert_eq(dck_queue_begin_batch(q), DCK_ERROR_UNSUPPORTED);
    cr_assert(strstr(dck_last_error(), "batches") != NULL, "message: %s", dck_last_error());
    uint64_t f, t;
    cr_assert_eq(dck_context_get_memory_info(ctx, &f, &t), DCK_ERROR_UNSUPPORTED);
    cr_assert_eq(dck_context_get_memory_info(NULL, &f, &t), DCK_ERROR_INVALID_ARGUMENT);
    dck_context_destroy(ctx);
}

static const char *saxpy_src = "kernel void saxpy(float a, const float[] x, float[] y) {\n"
                               "    uint i = global_id(0);\n"
                               "    if (i < len(y)) y[i] = a * x[i] + y[i];\n"
                               "}\n";

typedef struct Fix {
    dck_context ctx;
    dck_queue q;
    dck_kernel k;
    dck_buffer x, y;
} Fix;

enum { N = 1000 };

static void setup_fix(Fix *f, uint32_t flags)
{
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_CUDA;
    cd.flags = flags;
    cr_assert_eq(dck_context_create(&cd, &f->ctx), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_queue_create(f->ctx, NULL, &f->q), DCK_SUCCESS);
    dck_module m;
    cr_assert_eq(dck_module_create_from_source(f->ctx, "saxpy.dck", saxpy_src, NULL, &m),
                 DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_module_get_kernel(m, "saxpy", &f->k), DCK_SUCCESS);
    float hx[N], hy[N];
    for (int i = 0; i < N; i++) hx[i] = (float)i, hy[i] = 1.0f;
    dck_buffer_desc d = {0};
    d.type = DCK_TYPE_F32;
    d.count = N;
    d.initial_data = hx;
    cr_assert_eq(dck_buffer_create(f->ctx, &d, &f->x), DCK_SUCCESS);
    d.initial_data = hy;
    cr_assert_eq(dck_buffer_create(f->ctx, &d, &f->y), DCK_SUCCESS);
}

Test(cuda, kernel_events_and_memory_info)
{
    if (!have_cuda()) return;
    Fix f;
    setup_fix(&f, 0);
    uint64_t fr = 0, tot = 0;
    cr_assert_eq(dck_context_get_memory_info(f.ctx, &fr, &tot), DCK_SUCCESS);
    cr_assert(fr > 0 && fr <= tot);
    dck_arg args[] = {dck_arg_f32(2.0f), dck_arg_buffer(f.x), dck_arg_buffer(f.y)};
    dck_range r = {1, {N, 1, 1}, {0, 0, 0}};
    dck_event ev;
    cr_assert_eq(dck_launch(f.q, f.k, &r, 3, args, &ev), DCK_SUCCESS, "%s", dck_last_error());
    uint64_t ns = 0;
    cr_assert_eq(dck_event_elapsed_ns(ev, &ns), DCK_SUCCESS);
    cr_assert(ns < 1000000000ull);
    float y[N];
    cr_assert_eq(dck_buffer_read(f.y, 0, sizeof y, y), DCK_SUCCESS);
    for (int i = 0; i < N; i++)
        cr_assert_float_eq(y[i], 2.0f * (float)i + 1.0f, 1e-6f, "y[%d] = %g", i, y[i]);
    dck_context_destroy(f.ctx);
}

Test(cuda, batch_recorded_once_replayed_twice)
{
    if (!have_cuda()) return;
    Fix f;
    setup_fix(&f, 0);
    dck_arg args[] = {dck_arg_f32(1.0f), dck_arg_buffer(f.x), dck_arg_buffer(f.y)};
    dck_range r = {1, {N, 1, 1}, {128, 1, 1}};
    cr_assert_eq(dck_queue_begin_batch(f.q), DCK_SUCCESS, "%s", dck_last_error());
    for (int i = 0; i < 3; i++)
        cr_assert_eq(dck_launch(f.q, f.k, &r, 3, args, NULL), DCK_SUCCESS, "%s", dck_last_error());
    dck_batch b;
    cr_assert_eq(dck_queue_end_batch(f.q, &b), DCK_SUCCESS, "%s", dck_last_error());
    float y[N];
    cr_assert_eq(dck_buffer_read(f.y, 0, sizeof y, y), DCK_SUCCESS);
    cr_assert_float_eq(y[10], 1.0f, 0.0f, "recording must not run the launches");
    cr_assert_eq(dck_batch_launch(f.q, b), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_batch_launch(f.q, b), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_queue_finish(f.q), DCK_SUCCESS);
    cr_assert_eq(dck_buffer_read(f.y, 0, sizeof y, y), DCK_SUCCESS);
    for (int i = 0; i < N; i++)
        cr_assert_float_eq(y[i], 6.0f * (float)i + 1.0f, 1e-4f, "y[%d] = %g", i, y[i]);
    cr_assert_eq(dck_batch_destroy(b), DCK_SUCCESS);
    dck_context_destroy(f.ctx);
}

Test(cuda, checked_mode_reports_out_of_bounds)
{
    if (!have_cuda()) return;
    Fix f;
    setup_fix(&f, DCK_CONTEXT_CHECKED);
    dck_arg args[] = {dck_arg_f32(1.0f), dck_arg_buffer(f.x), dck_arg_buffer(f.y)};
    dck_range r = {1, {N, 1, 1}, {0, 0, 0}};
    cr_assert_eq(dck_launch(f.q, f.k, &r, 3, args, NULL), DCK_SUCCESS, "%s", dck_last_error());
    /* a batch cannot hold checked-mode launches */
    cr_assert_eq(dck_queue_begin_batch(f.q), DCK_SUCCESS);
    cr_assert_eq(dck_launch(f.q, f.k, &r, 3, args, NULL), DCK_ERROR_UNSUPPORTED);
    dck_batch b = NULL;
    dck_queue_end_batch(f.q, &b);
    dck_batch_destroy(b);
    dck_context_destroy(f.ctx);
}
