/* test_rt_gpu.c: the OpenCL and Vulkan runtime backends on their own, independent of the
 * OpenCL C and SPIR-V code generators: the reflection comes from a real .dck compile (a
 * package with the "c" target), the device code is written here by hand following the GPU
 * kernel ABI (OpenCL C; GLSL compiled by glslc, entry point renamed, assembled by
 * spirv-as). Covers buffers, maps, launches with partial groups, events with device times,
 * checked-mode records, build logs in errors, the Vulkan buffer limit, and the Vulkan
 * validation layer (a message fails the test); also which blob a package loads on OpenCL,
 * pipeline events and traces timed on the device without blocking launches (device_timelines,
 * from .dck source), and the lavapipe loop-limit warning. A backend missing here is skipped; if both
 * are missing the binary exits 77 (ctest: skipped).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt.h"

unsigned rt_vulkan_validation_messages(void);

static const char *dck_src = "kernel void saxpy(float a, const float[] x, float[] y) {\n"
                             "    uint i = global_id(0);\n"
                             "    if (i < len(y)) y[i] = a * x[i] + y[i];\n"
                             "}\n"
                             "kernel void shift(const float[] x, float[] y) {\n"
                             "    uint i = global_id(0);\n"
                             "    y[i + 1] = x[i];\n"
                             "}\n";

/* OpenCL C entry points are named dck_k_ + the kernel (abi/abi.h: abi_entry_symbol) */
static const char *cl_src =
    "__kernel void dck_k_saxpy(float a, __global const float *x, uint x_len, __global float *y,\n"
    "                          uint y_len,\n"
    "                    uint gx, uint gy, uint gz) {\n"
    "    uint i = get_global_id(0);\n"
    "    if (i >= gx) return;\n"
    "    if (i < y_len) y[i] = a * x[i] + y[i];\n"
    "}\n"
    "__kernel void dck_k_shift(__global const float *x, uint x_len, __global float *y, uint y_len,\n"
    "                    uint gx, uint gy, uint gz, __global uint *oob) {\n"
    "    uint i = get_global_id(0);\n"
    "    if (i >= gx) return;\n"
    "    uint j = i + 1;\n"
    "    float v = i < x_len ? x[i] : 0.0f;\n"
    "    if (j < y_len) y[j] = v;\n"
    "    else if (atomic_cmpxchg(&oob[0], 0u, 1u) == 0u) {\n"
    "        oob[1] = 1u; oob[2] = 7u; oob[3] = 1u; oob[4] = j; oob[5] = 0u; oob[6] = y_len; oob[7] = 0u;\n"
    "    }\n"
    "}\n";

static const char *glsl_saxpy =
    "#version 450\n"
    "layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;\n"
    "layout(set = 0, binding = 0) readonly buffer X { float x[]; };\n"
    "layout(set = 0, binding = 1) buffer Y { float y[]; };\n"
    "layout(push_constant) uniform Args { float a; uint x_len; uint y_len; uint gx; uint gy; uint gz; } args;\n"
    "void main() {\n"
    "    uint i = gl_GlobalInvocationID.x;\n"
    "    if (i >= args.gx) return;\n"
    "    if (i < args.y_len) y[i] = args.a * x[i] + y[i];\n"
    "}\n";

static const char *glsl_shift =
    "#version 450\n"
    "layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;\n"
    "layout(set = 0, binding = 0) readonly buffer X { float x[]; };\n"
    "layout(set = 0, binding = 1) buffer Y { float y[]; };\n"
    "layout(set = 0, binding = 2) buffer O { uint rec[8]; };\n"
    "layout(push_constant) uniform Args { uint x_len; uint y_len; uint gx; uint gy; uint gz; } args;\n"
    "void main() {\n"
    "    uint i = gl_GlobalInvocationID.x;\n"
    "    if (i >= args.gx) return;\n"
    "    uint j = i + 1;\n"
    "    float v = i < args.x_len ? x[i] : 0.0;\n"
    "    if (j < args.y_len) y[j] = v;\n"
    "    else if (atomicCompSwap(rec[0], 0u, 1u) == 0u) {\n"
    "        rec[1] = 1u; rec[2] = 7u; rec[3] = 1u; rec[4] = j; rec[5] = 0u; rec[6] = args.y_len; rec[7] = 0u;\n"
    "    }\n"
    "}\n";

static bool available(dck_backend b) { return dck_backend_available(b) == DCK_SUCCESS; }

/* A module of ctx whose reflection comes from dck_src and whose code is `blob`. */
static dck_module load_with_blob(dck_context ctx, const char *target, const void *data, size_t size)
{
    RtPackage *pkg = NULL;
    dck_module_options o = {0};
    o.opt_level = -1;
    cr_assert_eq(rt_package_compile(ctx, "hand.dck", dck_src, &o, "c", &pkg), DCK_SUCCESS, "%s",
                 dck_last_error());
    rt_free(ctx, pkg->blobs);
    pkg->blobs = rt_calloc(ctx, sizeof *pkg->blobs);
    cr_assert_not_null(pkg->blobs);
    pkg->nblobs = 1;
    snprintf(pkg->blobs[0].target, sizeof pkg->blobs[0].target, "%s", target);
    pkg->blobs[0].data = data;
    pkg->blobs[0].size = size;
    dck_module m = NULL;
    dck_status st = rt_module_create_from_rtpackage(ctx, pkg, target, &m);
    if (st) rt_package_free(ctx, pkg);
    cr_assert_eq(st, DCK_SUCCESS, "load %s: %s", target, dck_last_error());
    return m;
}

/* saxpy over 1000 elements (partial last group), checked against C; event times. */
static void check_saxpy(dck_context ctx, dck_module m)
{
    enum { N = 1000 };
    float x[N], y[N], out[N];
    for (int i = 0; i < N; i++) x[i] = (float)i * 0.5f, y[i] = 1.0f - (float)i;
    dck_buffer bx, by;
    cr_assert_eq(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &bx), DCK_SUCCESS, "%s",
                 dck_last_error());
    cr_assert_eq(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &by), DCK_SUCCESS, "%s",
                 dck_last_error());
    cr_assert_eq(dck_buffer_write(bx, 0, sizeof x, x), DCK_SUCCESS, "%s", dck_last_error());
    /* write y through a map */
    float *p = NULL;
    cr_assert_eq(dck_buffer_map(by, DCK_MAP_WRITE, (void **)&p), DCK_SUCCESS, "%s",
                 dck_last_error());
    memcpy(p, y, sizeof y);
    cr_assert_eq(dck_buffer_unmap(by), DCK_SUCCESS, "%s", dck_last_error());
    dck_kernel k;
    cr_assert_eq(dck_module_get_kernel(m, "saxpy", &k), DCK_SUCCESS);
    dck_queue q;
    cr_assert_eq(dck_queue_create(ctx, NULL, &q), DCK_SUCCESS);
    dck_arg args[3] = {dck_arg_f32(2.0f), dck_arg_buffer(bx), dck_arg_buffer(by)};
    dck_range r = {1, {N, 1, 1}, {64, 1, 1}};
    dck_event ev;
    cr_assert_eq(dck_launch(q, k, &r, 3, args, &ev), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_event_wait(ev), DCK_SUCCESS, "%s", dck_last_error());
    uint64_t t0 = 0, t1 = 0, ns = 0;
    cr_assert_eq(dck_event_get_times(ev, &t0, &t1), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_event_elapsed_ns(ev, &ns), DCK_SUCCESS);
    cr_expect(t1 >= t0 && t0 > 0, "times %llu %llu", (unsigned long long)t0,
              (unsigned long long)t1);
    dck_event_destroy(ev);
    /* twice more without events, then read: in order, y = 2x + 2x + 2x + y */
    cr_assert_eq(dck_launch(q, k, &r, 3, args, NULL), DCK_SUCCESS, "%s", dck_last_error());
    r.local[0] = 0; /* the runtime's choice */
    cr_assert_eq(dck_launch(q, k, &r, 3, args, NULL), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_queue_finish(q), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_buffer_read(by, 0, sizeof out, out), DCK_SUCCESS, "%s", dck_last_error());
    for (int i = 0; i < N; i++) cr_assert_eq(out[i], 6.0f * x[i] + y[i], "y[%d] = %g", i, out[i]);
    cr_assert_eq(dck_buffer_map(by, DCK_MAP_READ, (void **)&p), DCK_SUCCESS, "%s",
                 dck_last_error());
    cr_expect_eq(p[999], 6.0f * x[999] + y[999]);
    cr_assert_eq(dck_buffer_unmap(by), DCK_SUCCESS);
    dck_queue_destroy(q);
    dck_buffer_destroy(bx);
    dck_buffer_destroy(by);
}

/* In a checked context the device's out-of-bounds record becomes the CPU's message. */
static void check_oob(dck_context ctx, dck_module m)
{
    dck_kernel k;
    cr_assert_eq(dck_module_get_kernel(m, "shift", &k), DCK_SUCCESS);
    dck_buffer bx, by;
    cr_assert_eq(dck_buffer_create_elems(ctx, DCK_TYPE_F32, 4, &bx), DCK_SUCCESS);
    dck_buffer_desc d = {0};
    d.count = 4;
    d.type = DCK_TYPE_F32;
    d.name = "y";
    cr_assert_eq(dck_buffer_create(ctx, &d, &by), DCK_SUCCESS);
    float z[4] = {1, 2, 3, 4};
    cr_assert_eq(dck_buffer_write(bx, 0, sizeof z, z), DCK_SUCCESS);
    dck_queue q;
    cr_assert_eq(dck_queue_create(ctx, NULL, &q), DCK_SUCCESS);
    dck_arg args[2] = {dck_arg_buffer(bx), dck_arg_buffer(by)};
    dck_range r = {1, {4, 1, 1}, {0, 0, 0}};
    cr_assert_eq(dck_launch(q, k, &r, 2, args, NULL), DCK_ERROR_OUT_OF_BOUNDS, "%s",
                 dck_last_error());
    cr_expect(strstr(dck_last_error(),
                     "out-of-bounds write to buffer 'y' (index 4, length 4) in kernel 'shift' at "
                     "line 7 of hand.dck"),
              "%s", dck_last_error());
    float out[4];
    cr_assert_eq(dck_buffer_read(by, 4, 12, out), DCK_SUCCESS, "%s", dck_last_error());
    cr_expect(out[0] == 1 && out[1] == 2 && out[2] == 3, "y[1..3] = %g %g %g", out[0], out[1],
              out[2]);
    dck_queue_destroy(q);
    dck_buffer_destroy(bx);
    dck_buffer_destroy(by);
}

Test(opencl, hand_written_kernels)
{
    if (!available(DCK_BACKEND_OPENCL))
        cr_skip_test("OpenCL is not available: %s", dck_last_error());
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_OPENCL;
    dck_context ctx;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    dck_module m = load_with_blob(ctx, "opencl", cl_src, strlen(cl_src));
    dck_module_info mi;
    cr_assert_eq(dck_module_get_info(m, &mi), DCK_SUCCESS);
    cr_expect_str_eq(mi.target, "opencl");
    check_saxpy(ctx, m);
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);

    cd.flags = DCK_CONTEXT_CHECKED;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    check_oob(ctx, load_with_blob(ctx, "opencl", cl_src, strlen(cl_src)));
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);
}

Test(opencl, build_log_in_the_error)
{
    if (!available(DCK_BACKEND_OPENCL)) cr_skip_test("OpenCL is not available");
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_OPENCL;
    dck_context ctx;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    static const char bad[] = "__kernel void saxpy(float a) { undeclared_thing = a; }\n";
    RtPackage *pkg = NULL;
    cr_assert_eq(rt_package_compile(ctx, "hand.dck", dck_src, NULL, "c", &pkg), DCK_SUCCESS, "%s",
                 dck_last_error());
    rt_free(ctx, pkg->blobs);
    pkg->blobs = rt_calloc(ctx, sizeof *pkg->blobs);
    pkg->nblobs = 1;
    snprintf(pkg->blobs[0].target, sizeof pkg->blobs[0].target, "opencl");
    pkg->blobs[0].data = (const uint8_t *)bad;
    pkg->blobs[0].size = sizeof bad - 1;
    dck_module m = NULL;
    cr_assert_eq(rt_module_create_from_rtpackage(ctx, pkg, NULL, &m), DCK_ERROR_JIT);
    cr_expect(strstr(dck_last_error(), "hand.dck"), "%s", dck_last_error());
    cr_expect(strstr(dck_last_error(), "undeclared_thing"), "no build log: %s", dck_last_error());
    rt_package_free(ctx, pkg);
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);
}

/* OpenCL C -> OpenCL-env SPIR-V (clang-15 to spir64 bitcode, llvm-spirv-15); NULL without the tools. */
static unsigned char *cl_spirv_of(const char *src, size_t *len)
{
    char dir[] = "/tmp/dck-rtgpu-XXXXXX";
    if (!mkdtemp(dir)) return NULL;
    char cmd[2048], path[600];
    snprintf(path, sizeof path, "%s/k.cl", dir);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(src, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             /* SPIR-V entry points keep the kernels' own names (abi_entry_symbol) */
             "cd %s && clang-15 -cl-std=CL1.2 -target spir64 -Ddck_k_saxpy=saxpy "
             "-Ddck_k_shift=shift -emit-llvm -c -O1 k.cl -o k.bc "
             ">/dev/null 2>&1 && llvm-spirv-15 k.bc -o k.spv",
             dir);
    unsigned char *data = NULL;
    if (system(cmd) == 0) {
        snprintf(path, sizeof path, "%s/k.spv", dir);
        f = fopen(path, "rb");
        if (f) {
            data = malloc(65536);
            *len = fread(data, 1, 65536, f);
            fclose(f);
        }
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", dir);
    return data;
}

/* The "spirv-opencl" blob: llvm-spirv -r back to SPIR bitcode, built by the OpenCL driver. */
Test(opencl, spirv_through_llvm_spirv)
{
    if (!available(DCK_BACKEND_OPENCL)) cr_skip_test("OpenCL is not available");
    size_t n = 0;
    unsigned char *spv = cl_spirv_of(cl_src, &n);
    if (!spv) cr_skip_test("clang-15 or llvm-spirv-15 is missing");
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_OPENCL;
    dck_context ctx;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    dck_module m = load_with_blob(ctx, "spirv-opencl", spv, n);
    dck_module_info mi;
    cr_assert_eq(dck_module_get_info(m, &mi), DCK_SUCCESS);
    cr_expect_str_eq(mi.target, "spirv-opencl");
    check_saxpy(ctx, m);
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);
    cd.flags = DCK_CONTEXT_CHECKED;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    check_oob(ctx, load_with_blob(ctx, "spirv-opencl", spv, n));
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);
    free(spv);
}

/* A package of dck_src compiled by dckc for `targets` (SPIR-V in the OpenCL environment). */
static RtPackage *opencl_package(dck_context ctx, const char *targets)
{
    RtPackage *pkg = NULL;
    cr_assert_eq(
        rt_package_compile_for(ctx, "pkg.dck", dck_src, NULL, targets, "opencl", NULL, &pkg),
        DCK_SUCCESS, "%s", dck_last_error());
    return pkg;
}

/* A package holding both OpenCL blobs runs the SPIR-V one where the device takes SPIR (PoCL:
 * cl_khr_spir, through llvm-spirv -r); one holding only SPIR-V runs too; without llvm-spirv
 * the OpenCL C blob is taken, and a SPIR-V-only package is refused saying why. */
Test(opencl, package_prefers_spirv_opencl)
{
    if (!available(DCK_BACKEND_OPENCL)) cr_skip_test("OpenCL is not available");
    if (system("command -v llvm-spirv-15 >/dev/null 2>&1") != 0)
        cr_skip_test("llvm-spirv-15 is missing");
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_OPENCL;
    dck_context ctx;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    dck_module_info mi;
    for (int only_spirv = 0; only_spirv < 2; only_spirv++) {
        RtPackage *pkg = opencl_package(ctx, only_spirv ? "spirv" : "opencl,spirv");
        cr_assert_not_null(rt_package_blob(pkg, "spirv-opencl"));
        cr_assert_eq(rt_package_blob(pkg, "opencl") == NULL, only_spirv);
        dck_module m;
        cr_assert_eq(rt_module_create_from_rtpackage(ctx, pkg, NULL, &m), DCK_SUCCESS, "%s",
                     dck_last_error());
        cr_assert_eq(dck_module_get_info(m, &mi), DCK_SUCCESS);
        cr_expect_str_eq(mi.target, "spirv-opencl", "package with%s the opencl blob",
                         only_spirv ? "out" : "");
        check_saxpy(ctx, m);
    }
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);

    setenv("DCK_LLVM_SPIRV", "/nonexistent/llvm-spirv", 1);
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    RtPackage *pkg = opencl_package(ctx, "opencl,spirv");
    dck_module m;
    cr_assert_eq(rt_module_create_from_rtpackage(ctx, pkg, NULL, &m), DCK_SUCCESS, "%s",
                 dck_last_error());
    cr_assert_eq(dck_module_get_info(m, &mi), DCK_SUCCESS);
    cr_expect_str_eq(mi.target, "opencl");
    check_saxpy(ctx, m);
    pkg = opencl_package(ctx, "spirv");
    cr_assert_eq(rt_module_create_from_rtpackage(ctx, pkg, NULL, &m), DCK_ERROR_NOT_FOUND);
    cr_expect(
        strstr(dck_last_error(), "spirv-opencl needs a device with cl_khr_spir and llvm-spirv"),
        "%s", dck_last_error());
    rt_package_free(ctx, pkg);
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);
    unsetenv("DCK_LLVM_SPIRV");
}

/* GLSL -> SPIR-V with the entry point renamed to the kernel's name; NULL if the tools are missing. */
static unsigned char *spirv_of(const char *glsl, const char *entry, size_t *len)
{
    char dir[] = "/tmp/dck-rtgpu-XXXXXX";
    if (!mkdtemp(dir)) return NULL;
    char cmd[2048], path[600];
    snprintf(path, sizeof path, "%s/k.comp", dir);
    FILE *f = fopen(path, "w");
    if (!f) return NULL;
    fputs(glsl, f);
    fclose(f);
    snprintf(
        cmd, sizeof cmd,
        "cd %s && glslc -fshader-stage=compute --target-env=vulkan1.2 -S -o k.spvasm k.comp && "
        "sed -i 's/OpEntryPoint GLCompute %%main \"main\"/OpEntryPoint GLCompute %%main \"%s\"/' k.spvasm && "
        "spirv-as --target-env vulkan1.2 k.spvasm -o k.spv",
        dir, entry);
    unsigned char *data = NULL;
    if (system(cmd) == 0) {
        snprintf(path, sizeof path, "%s/k.spv", dir);
        f = fopen(path, "rb");
        if (f) {
            data = malloc(65536);
            *len = fread(data, 1, 65536, f);
            fclose(f);
        }
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", dir);
    return data;
}

Test(vulkan, hand_written_kernels)
{
    if (!available(DCK_BACKEND_VULKAN))
        cr_skip_test("Vulkan is not available: %s", dck_last_error());
    size_t n1 = 0, n2 = 0;
    unsigned char *s1 = spirv_of(glsl_saxpy, "saxpy", &n1),
                  *s2 = spirv_of(glsl_shift, "shift", &n2);
    if (!s1 || !s2) cr_skip_test("glslc or spirv-as is missing");
    /* both kernels in one module: concatenating is not possible, so one module per kernel */
    unsigned before = rt_vulkan_validation_messages();
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_VULKAN;
    dck_context ctx;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    check_saxpy(ctx, load_with_blob(ctx, "spirv-vulkan", s1, n1));
    /* more work-groups than maxComputeWorkGroupCount (lavapipe: 65535): split dispatches */
    {
        enum { M = 70001 };
        dck_module m2 = load_with_blob(ctx, "spirv-vulkan", s1, n1);
        dck_kernel k;
        cr_assert_eq(dck_module_get_kernel(m2, "saxpy", &k), DCK_SUCCESS);
        float *x = malloc(M * sizeof *x), *y = malloc(M * sizeof *y);
        for (int i = 0; i < M; i++) x[i] = (float)(i % 1000), y[i] = 1.0f;
        dck_buffer bx, by;
        cr_assert_eq(dck_buffer_create_elems(ctx, DCK_TYPE_F32, M, &bx), DCK_SUCCESS);
        cr_assert_eq(dck_buffer_create_elems(ctx, DCK_TYPE_F32, M, &by), DCK_SUCCESS);
        cr_assert_eq(dck_buffer_write(bx, 0, M * sizeof *x, x), DCK_SUCCESS);
        cr_assert_eq(dck_buffer_write(by, 0, M * sizeof *y, y), DCK_SUCCESS);
        dck_queue q;
        cr_assert_eq(dck_queue_create(ctx, NULL, &q), DCK_SUCCESS);
        dck_arg args[3] = {dck_arg_f32(3.0f), dck_arg_buffer(bx), dck_arg_buffer(by)};
        dck_range r = {1, {M, 1, 1}, {1, 1, 1}};
        cr_assert_eq(dck_launch(q, k, &r, 3, args, NULL), DCK_SUCCESS, "%s", dck_last_error());
        cr_assert_eq(dck_queue_finish(q), DCK_SUCCESS, "%s", dck_last_error());
        cr_assert_eq(dck_buffer_read(by, 0, M * sizeof *y, y), DCK_SUCCESS);
        for (int i = 0; i < M; i++) cr_assert_eq(y[i], 3.0f * x[i] + 1.0f, "y[%d] = %g", i, y[i]);
        dck_queue_destroy(q);
        dck_buffer_destroy(bx);
        dck_buffer_destroy(by);
        free(x);
        free(y);
    }
    /* the storage-buffer limit is a clear error (lavapipe: 128 MiB) */
    dck_device dev;
    dck_device_info di;
    dck_context_get_device(ctx, &dev);
    dck_device_get_info(dev, &di);
    uint64_t big = ((uint64_t)1 << 30) * 3; /* 3 GiB: above any maxStorageBufferRange of lavapipe */
    dck_buffer bb = NULL;
    dck_status st = dck_buffer_create_bytes(ctx, big, 4, &bb);
    if (st == DCK_ERROR_BUFFER_TOO_LARGE)
        cr_expect(strstr(dck_last_error(), "maxStorageBufferRange"), "%s", dck_last_error());
    else
        dck_buffer_destroy(bb);
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);

    cd.flags = DCK_CONTEXT_CHECKED;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    check_oob(ctx, load_with_blob(ctx, "spirv-vulkan", s2, n2));
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);

    /* buffers never mapped: transfers and maps through staging buffers (discrete GPUs) */
    setenv("DCK_VULKAN_STAGING", "1", 1);
    cd.flags = 0;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    check_saxpy(ctx, load_with_blob(ctx, "spirv-vulkan", s1, n1));
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);
    cd.flags = DCK_CONTEXT_CHECKED;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    check_oob(ctx, load_with_blob(ctx, "spirv-vulkan", s2, n2));
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);
    unsetenv("DCK_VULKAN_STAGING");
    cr_expect_eq(rt_vulkan_validation_messages(), before,
                 "the Vulkan validation layer reported problems (stderr)");
    free(s1);
    free(s2);
}

/* Selecting lavapipe (its loops stop after 65535 iterations) warns on stderr, once per
 * process; DCK_QUIET=1 silences it. */
Test(vulkan, lavapipe_loop_limit_warning)
{
    if (!available(DCK_BACKEND_VULKAN)) cr_skip_test("Vulkan is not available");
    dck_device_info di;
    uint32_t n = 1;
    cr_assert_eq(dck_enumerate_devices(DCK_BACKEND_VULKAN, &n, &di), DCK_SUCCESS);
    if (!strstr(di.name, "llvmpipe")) cr_skip_test("vulkan:0 is %s, not lavapipe", di.name);
    char path[] = "/tmp/dck-warn-XXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    unsetenv("DCK_QUIET");
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_VULKAN;
    for (int i = 0; i < 2; i++) {
        dck_context ctx;
        cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
        dck_context_destroy(ctx);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    static char out[8192];
    ssize_t len = pread(fd, out, sizeof out - 1, 0);
    close(fd);
    unlink(path);
    out[len > 0 ? len : 0] = 0;
    const char *w = "dck: warning: Vulkan device 'llvmpipe";
    const char *first = strstr(out, w);
    cr_expect(first, "no warning on stderr: '%s'", out);
    cr_expect(first && strstr(first, "after 65535 iterations"), "%s", out);
    cr_expect(!first || !strstr(first + 1, w), "warned more than once: %s", out);
}

/* ---- device timelines: asynchronous launches, pipeline events, traces ---- */

/* A kernel that takes a while per work-item (fewer than 65535 loop iterations: lavapipe's
 * limit), and a pipeline of two launches of it (at -O0: not fused into one kernel). */
static const char *spin_src = "kernel void spin(uint n, float[] y) {\n"
                              "    uint i = global_id(0);\n"
                              "    if (i >= len(y)) return;\n"
                              "    float v = y[i];\n"
                              "    for (uint k = 0u; k < n; k++) v = v * 0.999 + 0.001;\n"
                              "    y[i] = v;\n"
                              "}\n"
                              "pipeline twice(uint n, float[] y) {\n"
                              "    spin<<<len(y)>>>(n, y);\n"
                              "    spin<<<len(y)>>>(n, y);\n"
                              "}\n";

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct TraceRec {
    char name[32], cat[16];
    double ts, dur; /* microseconds */
} TraceRec;

/* The "X" records of a Chrome trace written by the runtime (one per line). */
static int read_trace(const char *path, TraceRec *out, int cap)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) && n < cap) {
        TraceRec r;
        if (sscanf(
                line,
                "{\"name\":\"%31[^\"]\",\"cat\":\"%15[^\"]\",\"ph\":\"X\",\"ts\":%lf,\"dur\":%lf",
                r.name, r.cat, &r.ts, &r.dur) == 4)
            out[n++] = r;
    }
    fclose(f);
    return n;
}

/* Work-items of spin: 50 to 200 ms per launch on PoCL and lavapipe here (2 cores). */
static uint32_t spin_items(dck_backend b) { return b == DCK_BACKEND_VULKAN ? 4096 : 1024; }

/* A context of backend b (traced into `trace` unless NULL) with spin_src loaded. */
static dck_context spin_context(dck_backend b, const char *trace, dck_kernel *spin,
                                dck_kernel *twice, dck_queue *q, dck_arg args[2])
{
    const uint32_t N = spin_items(b);
    dck_context_desc cd = {0};
    cd.backend = b;
    cd.trace_path = trace;
    dck_context ctx;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    dck_module_options o = {0};
    o.opt_level = 0;
    dck_module m;
    cr_assert_eq(dck_module_create_from_source(ctx, "spin.dck", spin_src, &o, &m), DCK_SUCCESS,
                 "%s", dck_last_error());
    cr_assert_eq(dck_module_get_kernel(m, "spin", spin), DCK_SUCCESS);
    cr_assert_eq(dck_module_get_kernel(m, "twice", twice), DCK_SUCCESS);
    dck_buffer y;
    cr_assert_eq(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &y), DCK_SUCCESS);
    static float init[4096];
    cr_assert_eq(dck_buffer_write(y, 0, N * sizeof *init, init), DCK_SUCCESS);
    cr_assert_eq(dck_queue_create(ctx, NULL, q), DCK_SUCCESS);
    args[0] = dck_arg_u32(60000);
    args[1] = dck_arg_buffer(y);
    /* warm-up: drivers build the kernel for its work-group size on the first launch */
    dck_range r = {1, {N, 1, 1}, {0, 0, 0}};
    cr_assert_eq(dck_launch(*q, *spin, &r, 2, args, NULL), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_queue_finish(*q), DCK_SUCCESS, "%s", dck_last_error());
    return ctx;
}

/* A pipeline's event completes with its last launch and spans its launches on the device
 * (first start .. last end); with a trace on, a launch returns before its kernel is done,
 * and the trace holds the device times, the pipeline spanning its launches. */
static void check_timelines(dck_backend b)
{
    const char *bn = b == DCK_BACKEND_OPENCL ? "opencl" : "vulkan";
    dck_kernel spin, twice;
    dck_queue q;
    dck_arg args[2];
    dck_range r = {1, {spin_items(b), 1, 1}, {0, 0, 0}};
    dck_context ctx = spin_context(b, NULL, &spin, &twice, &q, args);

    /* one launch, timed on the device; the loop count grows until a launch takes 10 ms or more
     * (60000 iterations take seconds on lavapipe and 0.3 ms on an H100) */
    dck_event ev;
    uint64_t one = 0;
    uint32_t iters = 60000;
    for (;;) {
        args[0] = dck_arg_u32(iters);
        cr_assert_eq(dck_launch(q, spin, &r, 2, args, &ev), DCK_SUCCESS, "%s", dck_last_error());
        cr_assert_eq(dck_event_wait(ev), DCK_SUCCESS, "%s", dck_last_error());
        cr_assert_eq(dck_event_elapsed_ns(ev, &one), DCK_SUCCESS, "%s", dck_last_error());
        dck_event_destroy(ev);
        if (one >= 10000000 || iters >= (1u << 30)) break;
        uint64_t grow = one ? 20000000 / one + 1 : 64;
        uint64_t next = (uint64_t)iters * (grow > 64 ? 64 : grow);
        iters = next > (1u << 30) ? 1u << 30 : (uint32_t)next;
    }
    cr_log_info("%s: one launch of spin (%u iterations) takes %.3f ms on the device", bn, iters,
                (double)one / 1e6);
    cr_assert_gt(one, 5000000, "spin took %llu ns: too short to tell", (unsigned long long)one);

    /* the pipeline's event */
    uint64_t t0 = now_ns();
    cr_assert_eq(dck_launch(q, twice, NULL, 2, args, &ev), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_event_wait(ev), DCK_SUCCESS, "%s", dck_last_error());
    uint64_t tw = now_ns();
    cr_assert_eq(dck_queue_finish(q), DCK_SUCCESS, "%s", dck_last_error());
    uint64_t tf = now_ns();
    cr_expect_lt(tf - tw, (tw - t0) / 2,
                 "dck_event_wait of the pipeline returned after %.3f ms; the queue finish after "
                 "it took %.3f ms",
                 (double)(tw - t0) / 1e6, (double)(tf - tw) / 1e6);
    uint64_t ps = 0, pe = 0, pns = 0;
    cr_assert_eq(dck_event_get_times(ev, &ps, &pe), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_event_elapsed_ns(ev, &pns), DCK_SUCCESS);
    dck_event_destroy(ev);
    cr_log_info("%s: the pipeline of two launches takes %.3f ms on the device", bn,
                (double)pns / 1e6);
    cr_expect(ps >= t0 && pe <= tw && pe >= ps, "pipeline [%llu, %llu] outside [%llu, %llu]",
              (unsigned long long)ps, (unsigned long long)pe, (unsigned long long)t0,
              (unsigned long long)tw);
    cr_expect_geq(pns, one / 2, "the pipeline of two launches took %.3f ms, one launch %.3f ms",
                  (double)pns / 1e6, (double)one / 1e6);
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS, "%s", dck_last_error());

    /* traced: the launch returns at once, the trace has the device's times */
    char path[] = "/tmp/dck_trace_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    ctx = spin_context(b, path, &spin, &twice, &q, args);
    args[0] = dck_arg_u32(iters);
    t0 = now_ns();
    cr_assert_eq(dck_launch(q, spin, &r, 2, args, NULL), DCK_SUCCESS, "%s", dck_last_error());
    uint64_t t1 = now_ns();
    cr_assert_eq(dck_queue_finish(q), DCK_SUCCESS, "%s", dck_last_error());
    uint64_t t2 = now_ns();
    cr_log_info("%s, traced: dck_launch returned after %.3f ms, the queue finish after it took "
                "%.3f ms",
                bn, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6);
    cr_expect_lt(t1 - t0, (t2 - t0) / 2,
                 "with a trace, dck_launch took %.3f ms and the queue finish after it %.3f ms",
                 (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6);
    cr_assert_eq(dck_launch(q, twice, NULL, 2, args, NULL), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS, "%s", dck_last_error());
    TraceRec recs[64];
    int n = read_trace(path, recs, 64);
    unlink(path);
    const TraceRec *pipe = NULL;
    int nspin = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(recs[i].name, "twice")) pipe = &recs[i];
        if (!strcmp(recs[i].name, "spin")) {
            nspin++;
            cr_expect_geq(recs[i].dur * 1e3, (double)one / 8, "launch of %.3f us in the trace",
                          recs[i].dur);
        }
    }
    cr_expect_eq(nspin, 4, "%d launches of spin in the trace", nspin);
    cr_assert_not_null(pipe, "no pipeline in the trace");
    cr_expect_str_eq(pipe->cat, "pipeline");
    double inside = 0;
    int ninside = 0;
    for (int i = 0; i < n; i++)
        if (!strcmp(recs[i].name, "spin") && recs[i].ts >= pipe->ts - 0.001 &&
            recs[i].ts + recs[i].dur <= pipe->ts + pipe->dur + 0.001)
            inside += recs[i].dur, ninside++;
    cr_expect_eq(ninside, 2, "%d launches inside the pipeline's span [%.3f, +%.3f] us", ninside,
                 pipe->ts, pipe->dur);
    cr_expect_geq(pipe->dur + 0.002, inside, "pipeline %.3f us, its launches %.3f us", pipe->dur,
                  inside);
}

Test(opencl, device_timelines)
{
    if (!available(DCK_BACKEND_OPENCL)) cr_skip_test("OpenCL is not available");
    check_timelines(DCK_BACKEND_OPENCL);
}

Test(vulkan, device_timelines)
{
    if (!available(DCK_BACKEND_VULKAN)) cr_skip_test("Vulkan is not available");
    unsigned before = rt_vulkan_validation_messages();
    check_timelines(DCK_BACKEND_VULKAN);
    cr_expect_eq(rt_vulkan_validation_messages(), before,
                 "the Vulkan validation layer reported problems (stderr)");
}

/* One package holding OpenCL C and SPIR-V: each backend picks its own target from it. */
Test(package, each_backend_picks_its_target)
{
    static const struct {
        dck_backend b;
        const char *target;
    } all[] = {{DCK_BACKEND_OPENCL, "opencl"}, {DCK_BACKEND_VULKAN, "spirv-vulkan"}};
    int ran = 0;
    for (size_t i = 0; i < 2; i++) {
        if (!available(all[i].b)) continue;
        dck_context_desc cd = {0};
        cd.backend = all[i].b;
        dck_context ctx;
        cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
        RtPackage *pkg = NULL;
        dck_status st = rt_package_compile(ctx, "pkg.dck", dck_src, NULL, "opencl,spirv", &pkg);
        if (st == DCK_ERROR_UNSUPPORTED) { /* dckc without those targets */
            dck_context_destroy(ctx);
            cr_skip_test("%s", dck_last_error());
        }
        cr_assert_eq(st, DCK_SUCCESS, "%s", dck_last_error());
        dck_module m;
        cr_assert_eq(rt_module_create_from_rtpackage(ctx, pkg, NULL, &m), DCK_SUCCESS, "%s",
                     dck_last_error());
        dck_module_info mi;
        cr_assert_eq(dck_module_get_info(m, &mi), DCK_SUCCESS);
        cr_expect_str_eq(mi.target, all[i].target);
        check_saxpy(ctx, m);
        cr_assert_eq(dck_context_destroy(ctx), DCK_SUCCESS);
        ran++;
    }
    if (!ran) cr_skip_test("no OpenCL or Vulkan device");
}

/* dckrun --list-devices: every backend present lists its devices, every other says why. */
Test(dckrun, list_devices)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/runtime/dckrun --list-devices 2>&1", DCK_BINARY_DIR);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    static char out[65536];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    cr_assert_eq(pclose(p), 0, "%s", out);
    static const struct {
        dck_backend b;
        const char *listed, *missing;
    } all[] = {
        {DCK_BACKEND_CPU, "cpu:0  ", "cpu: unavailable"},
        {DCK_BACKEND_OPENCL, "opencl:0  ", "opencl: unavailable: "},
        {DCK_BACKEND_VULKAN, "vulkan:0  ", "vulkan: unavailable: "},
        {DCK_BACKEND_CUDA, "cuda:0  ", "cuda: unavailable: "},
    };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cr_expect(strstr(out, available(all[i].b) ? all[i].listed : all[i].missing), "%s: %s",
                  all[i].listed, out);
#ifndef __APPLE__
    cr_expect(
        strstr(
            out,
            "metal: unavailable: backend 'metal' is not available in this build: Metal is available "
            "only on Apple platforms"),
        "%s", out);
#endif
}

/* auto never picks an OpenCL or Vulkan device that is the CPU itself, and says why. */
Test(context, auto_prefers_gpus)
{
    dck_context ctx;
    cr_assert_eq(dck_context_create(NULL, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    dck_device dev;
    dck_device_info di;
    dck_context_get_device(ctx, &dev);
    dck_device_get_info(dev, &di);
    const char *why = NULL;
    cr_assert_eq(dck_context_get_auto_reason(ctx, &why), DCK_SUCCESS);
    cr_expect(why && strstr(why, "picked"), "%s", why ? why : "(null)");
    if (di.backend != DCK_BACKEND_CPU)
        cr_expect_eq(di.device_type, DCK_DEVICE_GPU, "auto picked %s", di.name);
    dck_context_destroy(ctx);
}

int main(int argc, char *argv[])
{
    if (!available(DCK_BACKEND_OPENCL) && !available(DCK_BACKEND_VULKAN)) {
        printf("SKIPPED: neither OpenCL nor Vulkan is available here\n");
        return 77;
    }
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;
    if (criterion_handle_args(argc, argv, true)) result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return result;
}
