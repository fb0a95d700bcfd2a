/* test_rt_misuse.c: every public entry point of runtime/include/dck.h called wrongly: NULL
 * handles, out-pointers and entries, unknown flags, kinds and type codes, descriptors that
 * contradict themselves, absurd sizes and counts, inputs without end. Each call must return
 * an error status with dck_last_error() naming the argument: never a crash, a hang or a silent
 * acceptance (issue 21: a NULL define segfaulted in the preprocessor, /dev/zero was read
 * without end, unknown flag bits, an argument kind of 7, a float buffer of 8-byte elements,
 * num_threads = 100000 and dck_event_get_times(ev, NULL, NULL) were accepted, nargs = 3 with
 * args = NULL said "expects 3 arguments, got 3", and a module without a kernel failed on
 * Vulkan as an internal compiler error). One Test per entry point; those whose checks reach
 * a backend run on the CPU and on every OpenCL and Vulkan device present. The suite also runs
 * under ASan + UBSan (scripts/test.sh), where a leak fails it.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abi/dckpkg.h"
#include "driver/dckc.h"
#include "rt.h"

static const char *src = "kernel void k(float a, const float[] x, float[] y) {\n"
                         "    uint i = global_id(0);\n"
                         "    if (i < len(y)) y[i] = a * x[i];\n"
                         "}\n"
                         "pipeline p(float a, const float[] x, float[] y) {\n"
                         "    k<<<len(y)>>>(a, x, y);\n"
                         "}\n";

/* the status, and a message naming `needle` */
#define EXPECT_ERR(call, want, needle)                                                        \
    do {                                                                                      \
        dck_status st_ = (call);                                                              \
        cr_expect_eq(st_, want, "%s: %s, expected %s (%s)", #call, dck_status_string(st_),    \
                     dck_status_string(want), dck_last_error());                              \
        cr_expect(strstr(dck_last_error(), needle) != NULL,                                   \
                  "%s: the message does not name '%s': %s", #call, needle, dck_last_error()); \
    } while (0)
#define OK(call) cr_assert_eq((call), DCK_SUCCESS, "%s: %s", #call, dck_last_error())

/* lavapipe's loop-limit warning, once per context, would drown the report */
__attribute__((constructor)) static void quiet(void) { setenv("DCK_QUIET", "1", 0); }

/* ---- the backends each test runs on ---- */

static dck_context make_ctx(dck_backend b)
{
    dck_context_desc d = {0};
    d.backend = b;
    d.num_threads = 2;
    dck_context ctx = NULL;
    OK(dck_context_create(&d, &ctx));
    return ctx;
}

/* fn(ctx) on the CPU and on every OpenCL and Vulkan device present */
static void each_backend(void (*fn)(dck_context ctx))
{
    static const dck_backend all[] = {DCK_BACKEND_CPU, DCK_BACKEND_OPENCL, DCK_BACKEND_VULKAN};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (all[i] != DCK_BACKEND_CPU && dck_backend_available(all[i]) != DCK_SUCCESS) continue;
        dck_context ctx = make_ctx(all[i]);
        fn(ctx);
        OK(dck_context_destroy(ctx));
    }
}

static dck_module module_of(dck_context ctx)
{
    dck_module m = NULL;
    OK(dck_module_create_from_source(ctx, "misuse.dck", src, NULL, &m));
    return m;
}

static dck_kernel kernel_of(dck_module m, const char *name)
{
    dck_kernel k = NULL;
    OK(dck_module_get_kernel(m, name, &k));
    return k;
}

static dck_buffer floats(dck_context ctx, uint64_t n)
{
    dck_buffer b = NULL;
    OK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, n, &b));
    return b;
}

/* a file of `size` bytes (sparse: no disk used) under /tmp; the caller unlinks it */
static void sparse_file(char *path, size_t n, off_t size)
{
    snprintf(path, n, "/tmp/dck-misuse-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(ftruncate(fd, size), 0);
    close(fd);
}

/* ---- errors, backends, devices ---- */

Test(misuse, status_string)
{
    cr_expect_str_eq(dck_status_string((dck_status)12345), "DCK_ERROR_UNKNOWN");
    cr_expect_str_eq(dck_status_string((dck_status)-12345), "DCK_ERROR_UNKNOWN");
    cr_expect_str_eq(dck_status_string(DCK_ERROR_BUFFER_MAPPED), "DCK_ERROR_BUFFER_MAPPED");
}

Test(misuse, last_error)
{
    cr_expect_not_null(dck_last_error());
    EXPECT_ERR(dck_context_create(NULL, NULL), DCK_ERROR_INVALID_ARGUMENT, "out");
    dck_context ctx = make_ctx(DCK_BACKEND_CPU); /* success leaves the message alone */
    cr_expect(strstr(dck_last_error(), "out") != NULL, "%s", dck_last_error());
    OK(dck_context_destroy(ctx));
}

Test(misuse, enumerate_devices)
{
    uint32_t n = 0;
    EXPECT_ERR(dck_enumerate_devices(DCK_BACKEND_CPU, NULL, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "count");
    EXPECT_ERR(dck_enumerate_devices((dck_backend)77, &n, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "unknown backend 77");
    EXPECT_ERR(dck_enumerate_devices((dck_backend)-1, &n, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "unknown backend -1");
    dck_device_info info[1];
    n = 0; /* room for none: nothing written */
    OK(dck_enumerate_devices(DCK_BACKEND_AUTO, &n, info));
    cr_expect_eq(n, 0);
}

Test(misuse, backend_available)
{
    EXPECT_ERR(dck_backend_available((dck_backend)6), DCK_ERROR_INVALID_ARGUMENT,
               "unknown backend 6");
    EXPECT_ERR(dck_backend_available((dck_backend)-3), DCK_ERROR_INVALID_ARGUMENT,
               "unknown backend -3");
}

Test(misuse, backend_from_name)
{
    dck_backend b;
    EXPECT_ERR(dck_backend_from_name(NULL, &b), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_backend_from_name("cpu", NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_backend_from_name("", &b), DCK_ERROR_INVALID_ARGUMENT, "unknown backend ''");
    EXPECT_ERR(dck_backend_from_name("CPU ", &b), DCK_ERROR_INVALID_ARGUMENT, "'CPU '");
}

/* ---- contexts ---- */

Test(misuse, context_create)
{
    dck_context ctx = (dck_context)0x1;
    dck_context_desc d = {0};
    d.backend = DCK_BACKEND_CPU;
    EXPECT_ERR(dck_context_create(&d, NULL), DCK_ERROR_INVALID_ARGUMENT, "out");
    d.flags = 0x80000000u | DCK_CONTEXT_CHECKED;
    EXPECT_ERR(dck_context_create(&d, &ctx), DCK_ERROR_INVALID_ARGUMENT, "desc->flags");
    cr_expect_null(ctx);
    d.flags = 0;
    d.num_threads = 100000; /* made 100000 threads (795 MB) */
    EXPECT_ERR(dck_context_create(&d, &ctx), DCK_ERROR_INVALID_ARGUMENT, "desc->num_threads");
    d.num_threads = 4097;
    EXPECT_ERR(dck_context_create(&d, &ctx), DCK_ERROR_INVALID_ARGUMENT, "4096");
    d.num_threads = 0;
    d.backend = (dck_backend)42;
    EXPECT_ERR(dck_context_create(&d, &ctx), DCK_ERROR_INVALID_ARGUMENT, "unknown backend 42");
    d.backend = DCK_BACKEND_CPU;
    d.backend_name = "gpu";
    EXPECT_ERR(dck_context_create(&d, &ctx), DCK_ERROR_INVALID_ARGUMENT, "'gpu'");
    d.backend_name = NULL;
    d.device_index = 7;
    EXPECT_ERR(dck_context_create(&d, &ctx), DCK_ERROR_DEVICE_NOT_FOUND, "index 7");
    d.device_index = 0;
    dck_allocator half = {NULL, NULL, NULL};
    d.allocator = &half;
    EXPECT_ERR(dck_context_create(&d, &ctx), DCK_ERROR_INVALID_ARGUMENT, "allocator");
    d.allocator = NULL;
    int ext = 0;
    d.next = &ext; /* no extension structure exists */
    EXPECT_ERR(dck_context_create(&d, &ctx), DCK_ERROR_INVALID_ARGUMENT, "desc->next");
    cr_expect_null(ctx);
}

Test(misuse, context_destroy)
{
    OK(dck_context_destroy(NULL));
    /* objects left alive are released with the context (ASan: no leak) */
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_queue q;
    dck_event ev;
    dck_buffer b = floats(ctx, 16);
    OK(dck_queue_create(ctx, NULL, &q));
    module_of(ctx);
    OK(dck_enqueue_write(q, b, 0, 4, "abcd", &ev));
    void *p;
    OK(dck_buffer_map(b, DCK_MAP_READ, &p)); /* even mapped */
    OK(dck_context_destroy(ctx));
}

Test(misuse, context_get_device)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_device dev;
    EXPECT_ERR(dck_context_get_device(NULL, &dev), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_context_get_device(ctx, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    OK(dck_context_destroy(ctx));
}

Test(misuse, context_get_auto_reason)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    const char *why;
    EXPECT_ERR(dck_context_get_auto_reason(NULL, &why), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_context_get_auto_reason(ctx, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    OK(dck_context_get_auto_reason(ctx, &why));
    cr_expect_str_eq(why, ""); /* an explicit backend */
    OK(dck_context_destroy(ctx));
}

Test(misuse, device_get_info)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_device dev;
    dck_device_info info;
    OK(dck_context_get_device(ctx, &dev));
    EXPECT_ERR(dck_device_get_info(NULL, &info), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_device_get_info(dev, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    OK(dck_context_destroy(ctx));
}

Test(misuse, context_get_pool_stats)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_pool_stats s;
    EXPECT_ERR(dck_context_get_pool_stats(NULL, &s), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_context_get_pool_stats(ctx, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    OK(dck_context_destroy(ctx));
}

Test(misuse, context_trim_pool)
{
    EXPECT_ERR(dck_context_trim_pool(NULL), DCK_ERROR_INVALID_ARGUMENT, "ctx");
}

Test(misuse, context_get_memory_info)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    uint64_t f, t;
    EXPECT_ERR(dck_context_get_memory_info(NULL, &f, &t), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_context_get_memory_info(ctx, NULL, &t), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_context_get_memory_info(ctx, &f, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    OK(dck_context_destroy(ctx));
}

/* ---- buffers ---- */

static void buffer_create(dck_context ctx)
{
    dck_buffer b = (dck_buffer)0x1;
    dck_buffer_desc d = {0};
    d.type = DCK_TYPE_F32;
    d.count = 4;
    EXPECT_ERR(dck_buffer_create(NULL, &d, &b), DCK_ERROR_INVALID_ARGUMENT, "ctx");
    cr_expect_null(b);
    EXPECT_ERR(dck_buffer_create(ctx, NULL, &b), DCK_ERROR_INVALID_ARGUMENT, "desc");
    EXPECT_ERR(dck_buffer_create(ctx, &d, NULL), DCK_ERROR_INVALID_ARGUMENT, "out");
    d.elem_size = 8; /* a float of 8 bytes: was taken as an untyped buffer */
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_INVALID_ARGUMENT, "desc->elem_size is 8");
    d.elem_size = 0;
    d.type = (dck_type)57;
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_INVALID_ARGUMENT, "desc->type 57");
    d.type = (dck_type)-1;
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_INVALID_ARGUMENT, "desc->type -1");
    d.type = DCK_TYPE_F32;
    d.vec = 5;
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_INVALID_ARGUMENT, "desc->vec");
    d.vec = 3;
    d.elem_size = 12; /* a float3 element is 16 bytes */
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_INVALID_ARGUMENT, "16-byte");
    d.vec = 0;
    d.elem_size = 0;
    d.type = DCK_TYPE_STRUCT;
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_INVALID_ARGUMENT, "desc->elem_size");
    d.type = DCK_TYPE_F32;
    d.size = 12; /* 3 floats, but count says 4 */
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_INVALID_ARGUMENT, "disagree");
    d.size = 10; /* not whole elements */
    d.count = 0;
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_INVALID_ARGUMENT, "multiple");
    d.size = 0;
    d.count = UINT64_MAX / 2; /* the byte size overflows */
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_BUFFER_TOO_LARGE, "too large");
    d.count = 1ull << 32; /* one element more than a buffer may have */
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_BUFFER_TOO_LARGE, "4294967296");
    d.count = 4;
    int ext = 0;
    d.next = &ext;
    EXPECT_ERR(dck_buffer_create(ctx, &d, &b), DCK_ERROR_INVALID_ARGUMENT, "desc->next");
    cr_expect_null(b);
    /* a zeroed descriptor's type (DCK_TYPE_BOOL, 0) with an elem_size stays an untyped buffer */
    dck_buffer_desc z = {0};
    z.count = 4;
    z.elem_size = 2;
    OK(dck_buffer_create(ctx, &z, &b));
    OK(dck_buffer_destroy(b));
}
Test(misuse, buffer_create) { each_backend(buffer_create); }

static void buffer_create_bytes(dck_context ctx)
{
    dck_buffer b = (dck_buffer)0x1;
    EXPECT_ERR(dck_buffer_create_bytes(NULL, 16, 4, &b), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    cr_expect_null(b);
    EXPECT_ERR(dck_buffer_create_bytes(ctx, 16, 4, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_buffer_create_bytes(ctx, 16, 0, &b), DCK_ERROR_INVALID_ARGUMENT, "elem_size");
    EXPECT_ERR(dck_buffer_create_bytes(ctx, 17, 4, &b), DCK_ERROR_INVALID_ARGUMENT, "multiple");
    EXPECT_ERR(dck_buffer_create_bytes(ctx, UINT64_MAX, 1, &b), DCK_ERROR_BUFFER_TOO_LARGE,
               "exceeds the limit");
    /* 64 TiB in 16 KiB elements: within the element limit, beyond any memory */
    dck_status st = dck_buffer_create_bytes(ctx, 1ull << 46, 1u << 14, &b);
    cr_expect(st == DCK_ERROR_OUT_OF_MEMORY || st == DCK_ERROR_BUFFER_TOO_LARGE, "%s: %s",
              dck_status_string(st), dck_last_error());
}
Test(misuse, buffer_create_bytes) { each_backend(buffer_create_bytes); }

static void buffer_create_elems(dck_context ctx)
{
    dck_buffer b = (dck_buffer)0x1;
    EXPECT_ERR(dck_buffer_create_elems(NULL, DCK_TYPE_F32, 4, &b), DCK_ERROR_INVALID_ARGUMENT,
               "NULL");
    cr_expect_null(b);
    EXPECT_ERR(dck_buffer_create_elems(ctx, DCK_TYPE_F32, 4, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "NULL");
    EXPECT_ERR(dck_buffer_create_elems(ctx, DCK_TYPE_STRUCT, 4, &b), DCK_ERROR_INVALID_ARGUMENT,
               "type 100");
    EXPECT_ERR(dck_buffer_create_elems(ctx, DCK_TYPE_UNKNOWN, 4, &b), DCK_ERROR_INVALID_ARGUMENT,
               "type 255");
    EXPECT_ERR(dck_buffer_create_elems(ctx, (dck_type)13, 4, &b), DCK_ERROR_INVALID_ARGUMENT,
               "type 13");
    EXPECT_ERR(dck_buffer_create_elems(ctx, DCK_TYPE_F64, 1ull << 61, &b),
               DCK_ERROR_BUFFER_TOO_LARGE, "too large");
}
Test(misuse, buffer_create_elems) { each_backend(buffer_create_elems); }

Test(misuse, buffer_destroy) { OK(dck_buffer_destroy(NULL)); }

Test(misuse, buffer_get_info)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_buffer b = floats(ctx, 4);
    dck_buffer_info info;
    EXPECT_ERR(dck_buffer_get_info(NULL, &info), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_buffer_get_info(b, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    OK(dck_context_destroy(ctx));
}

static void buffer_write(dck_context ctx)
{
    dck_buffer b = floats(ctx, 4);
    float v[4] = {0};
    EXPECT_ERR(dck_buffer_write(NULL, 0, 4, v), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_buffer_write(b, 0, 4, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_buffer_write(b, 0, 17, v), DCK_ERROR_OUT_OF_RANGE, "17 bytes");
    EXPECT_ERR(dck_buffer_write(b, UINT64_MAX, 1, v), DCK_ERROR_OUT_OF_RANGE, "offset");
    EXPECT_ERR(dck_buffer_write(b, 8, UINT64_MAX - 4, v), DCK_ERROR_OUT_OF_RANGE, "offset 8");
    OK(dck_buffer_write(b, 16, 0, NULL)); /* nothing, at the end */
    void *p;
    OK(dck_buffer_map(b, DCK_MAP_WRITE, &p));
    EXPECT_ERR(dck_buffer_write(b, 0, 4, v), DCK_ERROR_BUFFER_MAPPED, "mapped");
    OK(dck_buffer_unmap(b));
    OK(dck_buffer_destroy(b));
}
Test(misuse, buffer_write) { each_backend(buffer_write); }

static void buffer_read(dck_context ctx)
{
    dck_buffer b = floats(ctx, 4);
    float v[4];
    EXPECT_ERR(dck_buffer_read(NULL, 0, 4, v), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_buffer_read(b, 0, 4, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_buffer_read(b, 4, 16, v), DCK_ERROR_OUT_OF_RANGE, "offset 4");
    EXPECT_ERR(dck_buffer_read(b, 1ull << 63, 1ull << 63, v), DCK_ERROR_OUT_OF_RANGE, "offset");
    OK(dck_buffer_destroy(b));
}
Test(misuse, buffer_read) { each_backend(buffer_read); }

static void buffer_map(dck_context ctx)
{
    dck_buffer b = floats(ctx, 4);
    void *p;
    EXPECT_ERR(dck_buffer_map(NULL, DCK_MAP_READ, &p), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_buffer_map(b, DCK_MAP_READ, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_buffer_map(b, 0, &p), DCK_ERROR_INVALID_ARGUMENT, "flags");
    EXPECT_ERR(dck_buffer_map(b, DCK_MAP_READ | 8u, &p), DCK_ERROR_INVALID_ARGUMENT, "flags");
    OK(dck_buffer_map(b, DCK_MAP_READ, &p));
    EXPECT_ERR(dck_buffer_map(b, DCK_MAP_READ, &p), DCK_ERROR_BUFFER_MAPPED, "already mapped");
    OK(dck_buffer_unmap(b));
    OK(dck_buffer_destroy(b));
}
Test(misuse, buffer_map) { each_backend(buffer_map); }

static void buffer_unmap(dck_context ctx)
{
    dck_buffer b = floats(ctx, 4);
    EXPECT_ERR(dck_buffer_unmap(NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_buffer_unmap(b), DCK_ERROR_BUFFER_MAPPED, "not mapped");
    OK(dck_buffer_destroy(b));
}
Test(misuse, buffer_unmap) { each_backend(buffer_unmap); }

/* ---- modules ---- */

static void module_create_from_source(dck_context ctx)
{
    dck_module m = (dck_module)0x1;
    EXPECT_ERR(dck_module_create_from_source(NULL, "a.dck", src, NULL, &m),
               DCK_ERROR_INVALID_ARGUMENT, "ctx");
    cr_expect_null(m);
    EXPECT_ERR(dck_module_create_from_source(ctx, NULL, src, NULL, &m), DCK_ERROR_INVALID_ARGUMENT,
               "path");
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, NULL, NULL),
               DCK_ERROR_INVALID_ARGUMENT, "out");
    /* NULL entries segfaulted in the preprocessor (pp.c), release build included */
    const char *defs[] = {"N=4", NULL};
    dck_module_options o = {0};
    o.opt_level = -1;
    o.defines = defs;
    o.ndefines = 2;
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->defines[1] is NULL");
    const char *incs[] = {NULL};
    o.ndefines = 0;
    o.include_dirs = incs;
    o.ninclude_dirs = 1;
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->include_dirs[0] is NULL");
    const char *empty[] = {""};
    o.include_dirs = empty;
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->include_dirs[0] is empty");
    o.include_dirs = NULL;
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->include_dirs is NULL");
    o.ninclude_dirs = 0;
    o.ndefines = 1;
    o.defines = NULL;
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->defines is NULL");
    static const char *const bad_defs[] = {"", "=1", "1X", "A B", "A\n#define B", "A=1\n2"};
    for (size_t i = 0; i < sizeof bad_defs / sizeof bad_defs[0]; i++) {
        o.defines = &bad_defs[i];
        EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m),
                   DCK_ERROR_INVALID_ARGUMENT, "options->defines[0]");
    }
    o.ndefines = 1u << 30; /* absurd: the array cannot be that long */
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->ndefines");
    o.ndefines = 0;
    o.flags = 0x10;
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->flags");
    o.flags = 0;
    o.opt_level = 9;
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->opt_level");
    o.opt_level = -1;
    o.target = "fortran";
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m), DCK_ERROR_UNSUPPORTED,
               "'fortran'");
    o.target = NULL;
    int ext = 0;
    o.next = &ext;
    EXPECT_ERR(dck_module_create_from_source(ctx, "a.dck", src, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->next");
    /* files the runtime reads (source NULL): only regular files, bounded; /dev/zero was read
       without end */
    EXPECT_ERR(dck_module_create_from_source(ctx, "/dev/zero", NULL, NULL, &m), DCK_ERROR_IO,
               "not a regular file");
    EXPECT_ERR(dck_module_create_from_source(ctx, "/tmp", NULL, NULL, &m), DCK_ERROR_IO,
               "not a regular file");
    EXPECT_ERR(dck_module_create_from_source(ctx, "/nonexistent/x.dck", NULL, NULL, &m),
               DCK_ERROR_IO, "/nonexistent/x.dck");
    char big[64];
    sparse_file(big, sizeof big, (off_t)RT_MAX_SOURCE_BYTES + 1);
    EXPECT_ERR(dck_module_create_from_source(ctx, big, NULL, NULL, &m), DCK_ERROR_IO,
               "more than the");
    unlink(big);
    sparse_file(big, sizeof big, 16); /* 16 NUL bytes */
    EXPECT_ERR(dck_module_create_from_source(ctx, big, NULL, NULL, &m), DCK_ERROR_COMPILE, "NUL");
    unlink(big);
    EXPECT_ERR(dck_module_create_from_source(ctx, "bad.dck", "kernel void (", NULL, &m),
               DCK_ERROR_COMPILE, "bad.dck");
    cr_expect_null(m);
}
Test(misuse, module_create_from_source) { each_backend(module_create_from_source); }

/* A module without a kernel (an empty file, a file of functions) is valid: it loads on every
 * backend, also on Vulkan, whose SPIR-V cannot hold it (it was DCK_ERROR_JIT, an internal
 * compiler error, and leaked 256 bytes) */
static void module_without_kernels(dck_context ctx)
{
    static const char *const texts[] = {"", "// nothing\n",
                                        "float twice(float x) { return 2.0 * x; }\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        dck_module m = NULL;
        OK(dck_module_create_from_source(ctx, "lib.dck", texts[i], NULL, &m));
        dck_module_info info;
        OK(dck_module_get_info(m, &info));
        cr_expect_eq(info.nkernels, 0);
        dck_kernel k;
        EXPECT_ERR(dck_module_get_kernel(m, "twice", &k), DCK_ERROR_NOT_FOUND, "it has: nothing");
        OK(dck_module_destroy(m));
    }
}
Test(misuse, module_without_kernels) { each_backend(module_without_kernels); }

static char *package_of(const char *text, const char *targets, size_t *len)
{
    DckcOptions o;
    dckc_options_init(&o);
    const char *envs[] = {"vulkan", "opencl"};
    o.spirv_envs = envs;
    o.nspirv_envs = 2;
    DckcResult r;
    cr_assert_eq(dckc_compile("pkg.dck", text, &o, targets, DCKC_EMIT_PACKAGE, &r), DCKC_OK, "%s",
                 r.diagnostics);
    char *out = malloc(r.output_len);
    memcpy(out, r.output, r.output_len);
    *len = r.output_len;
    dckc_result_free(&r);
    return out;
}

static void module_create_from_package(dck_context ctx)
{
    size_t n;
    char *pkg = package_of(src, "c,opencl,spirv", &n);
    dck_module m = (dck_module)0x1;
    EXPECT_ERR(dck_module_create_from_package(NULL, pkg, n, NULL, &m), DCK_ERROR_INVALID_ARGUMENT,
               "ctx");
    cr_expect_null(m);
    EXPECT_ERR(dck_module_create_from_package(ctx, NULL, n, NULL, &m), DCK_ERROR_INVALID_ARGUMENT,
               "data");
    EXPECT_ERR(dck_module_create_from_package(ctx, pkg, n, NULL, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "out");
    EXPECT_ERR(dck_module_create_from_package(ctx, pkg, n - 1, NULL, &m), DCK_ERROR_INVALID_MODULE,
               "truncated");
    EXPECT_ERR(dck_module_create_from_package(ctx, pkg, SIZE_MAX, NULL, &m),
               DCK_ERROR_INVALID_MODULE, "limited");
    EXPECT_ERR(dck_module_create_from_package(ctx, "not a package", 14, NULL, &m),
               DCK_ERROR_INVALID_MODULE, "not a DCK package");
    dck_module_options o = {0};
    o.flags = 0x100;
    EXPECT_ERR(dck_module_create_from_package(ctx, pkg, n, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->flags");
    o.flags = 0;
    o.target = "ptx-sm90"; /* not a target of this backend */
    EXPECT_ERR(dck_module_create_from_package(ctx, pkg, n, &o, &m), DCK_ERROR_UNSUPPORTED,
               "'ptx-sm90'");
    cr_expect_null(m);
    free(pkg);
    /* without a kernel: no spirv-vulkan in the package, and it loads on every backend */
    pkg = package_of("float twice(float x) { return 2.0 * x; }\n", "c,opencl,spirv,msl", &n);
    OK(dck_module_create_from_package(ctx, pkg, n, NULL, &m));
    OK(dck_module_destroy(m));
    free(pkg);
}
Test(misuse, module_create_from_package) { each_backend(module_create_from_package); }

/* SPIR-V damaged behind an intact checksum (a tool's bug, a crafted file) is rejected before a
 * driver sees it: lavapipe crashed in vkCreateComputePipelines on such a module */
static void damaged_spirv(dck_context ctx)
{
    dck_device_info info;
    dck_device dev;
    OK(dck_context_get_device(ctx, &dev));
    OK(dck_device_get_info(dev, &info));
    const char *target = info.backend == DCK_BACKEND_VULKAN   ? "spirv-vulkan"
                         : info.backend == DCK_BACKEND_OPENCL ? "spirv-opencl"
                                                              : NULL;
    if (!target || (info.backend == DCK_BACKEND_OPENCL && !ctx->spirv_ok)) return;
    size_t n;
    char *pkg = package_of(src, "c,spirv", &n);
    RtPackage *p;
    OK(rt_package_parse(ctx, pkg, n, &p));
    const RtBlob *b = rt_package_blob(p, target);
    cr_assert_not_null(b);
    size_t off = (size_t)(b->data - p->bytes);
    rt_package_free(ctx, p);
    dck_module_options o = {0};
    o.opt_level = -1;
    o.target = target;
    dck_module m = NULL;
    OK(dck_module_create_from_package(ctx, pkg, n, &o, &m)); /* intact: loads */
    OK(dck_module_destroy(m));
    /* an opcode no SPIR-V has, in the word after the header */
    pkg[off + 20] = (char)0xff;
    pkg[off + 21] = (char)0x7f;
    uint64_t sum = dck_pkg_checksum(pkg, n);
    memcpy(pkg + DCK_PKG_OFF_CHECKSUM, &sum, 8); /* little-endian host */
    EXPECT_ERR(dck_module_create_from_package(ctx, pkg, n, &o, &m), DCK_ERROR_INVALID_MODULE,
               "not valid SPIR-V");
    cr_expect_null(m);
    free(pkg);
}
Test(misuse, module_damaged_spirv) { each_backend(damaged_spirv); }

static void module_create_from_file(dck_context ctx)
{
    dck_module m = (dck_module)0x1;
    EXPECT_ERR(dck_module_create_from_file(NULL, "x.dckpkg", NULL, &m), DCK_ERROR_INVALID_ARGUMENT,
               "ctx");
    cr_expect_null(m);
    EXPECT_ERR(dck_module_create_from_file(ctx, NULL, NULL, &m), DCK_ERROR_INVALID_ARGUMENT,
               "path");
    EXPECT_ERR(dck_module_create_from_file(ctx, "x.dckpkg", NULL, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "out");
    /* read without end before (issue 21) */
    EXPECT_ERR(dck_module_create_from_file(ctx, "/dev/zero", NULL, &m), DCK_ERROR_IO,
               "not a regular file");
    EXPECT_ERR(dck_module_create_from_file(ctx, "/dev/urandom", NULL, &m), DCK_ERROR_IO,
               "not a regular file");
    EXPECT_ERR(dck_module_create_from_file(ctx, "/tmp", NULL, &m), DCK_ERROR_IO,
               "not a regular file");
    EXPECT_ERR(dck_module_create_from_file(ctx, "/nonexistent.dckpkg", NULL, &m), DCK_ERROR_IO,
               "/nonexistent.dckpkg");
    char big[64];
    sparse_file(big, sizeof big, (off_t)RT_MAX_PACKAGE_BYTES + 1);
    EXPECT_ERR(dck_module_create_from_file(ctx, big, NULL, &m), DCK_ERROR_IO, "more than the");
    unlink(big);
    sparse_file(big, sizeof big, 0);
    EXPECT_ERR(dck_module_create_from_file(ctx, big, NULL, &m), DCK_ERROR_INVALID_MODULE,
               "not a DCK package");
    const char *defs[] = {NULL};
    dck_module_options o = {0};
    o.defines = defs;
    o.ndefines = 1;
    EXPECT_ERR(dck_module_create_from_file(ctx, big, &o, &m), DCK_ERROR_INVALID_ARGUMENT,
               "options->defines[0] is NULL");
    unlink(big);
    cr_expect_null(m);
}
Test(misuse, module_create_from_file) { each_backend(module_create_from_file); }

Test(misuse, register_cpu_code)
{
    EXPECT_ERR(dck_register_cpu_code(1, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    dck_abi_module abi;
    memset(&abi, 0, sizeof abi);
    abi.magic = 0x12345678;
    EXPECT_ERR(dck_register_cpu_code(1, &abi), DCK_ERROR_INVALID_MODULE, "ABI version");
}

Test(misuse, module_create_from_abi)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_module m = (dck_module)0x1;
    dck_abi_module abi;
    memset(&abi, 0, sizeof abi);
    EXPECT_ERR(dck_module_create_from_abi(NULL, &abi, &m), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    cr_expect_null(m);
    EXPECT_ERR(dck_module_create_from_abi(ctx, NULL, &m), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_module_create_from_abi(ctx, &abi, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_module_create_from_abi(ctx, &abi, &m), DCK_ERROR_INVALID_MODULE, "magic");
    abi.magic = DCK_ABI_MAGIC;
    abi.version = DCK_ABI_VERSION + 1;
    EXPECT_ERR(dck_module_create_from_abi(ctx, &abi, &m), DCK_ERROR_INVALID_MODULE, "ABI version");
    abi.version = DCK_ABI_VERSION;
    abi.nkernels = 3; /* and no table */
    EXPECT_ERR(dck_module_create_from_abi(ctx, &abi, &m), DCK_ERROR_INVALID_MODULE, "NULL kernel");
    dck_abi_kernel k;
    memset(&k, 0, sizeof k);
    abi.kernels = &k;
    abi.nkernels = 1;
    EXPECT_ERR(dck_module_create_from_abi(ctx, &abi, &m), DCK_ERROR_INVALID_MODULE, "unnamed");
    k.name = "k";
    k.nparams = 2;
    EXPECT_ERR(dck_module_create_from_abi(ctx, &abi, &m), DCK_ERROR_INVALID_MODULE, "parameter");
    k.nparams = 0;
    k.wg[0] = 4096;
    k.wg[1] = k.wg[2] = 1;
    EXPECT_ERR(dck_module_create_from_abi(ctx, &abi, &m), DCK_ERROR_INVALID_MODULE, "workgroup");
    cr_expect_null(m);
    OK(dck_context_destroy(ctx));
}

Test(misuse, module_destroy) { OK(dck_module_destroy(NULL)); }

Test(misuse, module_get_info)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_module m = module_of(ctx);
    dck_module_info info;
    EXPECT_ERR(dck_module_get_info(NULL, &info), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_module_get_info(m, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    OK(dck_context_destroy(ctx));
}

Test(misuse, module_get_kernel)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_module m = module_of(ctx);
    dck_kernel k = (dck_kernel)0x1;
    EXPECT_ERR(dck_module_get_kernel(NULL, "k", &k), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_module_get_kernel(m, NULL, &k), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_module_get_kernel(m, "k", NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_module_get_kernel(m, "K", &k), DCK_ERROR_NOT_FOUND, "'K'");
    cr_expect_null(k);
    EXPECT_ERR(dck_module_get_kernel(m, "", &k), DCK_ERROR_NOT_FOUND, "it has: k");
    OK(dck_context_destroy(ctx));
}

Test(misuse, module_get_kernel_at)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_module m = module_of(ctx);
    dck_kernel k;
    EXPECT_ERR(dck_module_get_kernel_at(NULL, 0, &k), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_module_get_kernel_at(m, 0, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_module_get_kernel_at(m, 2, &k), DCK_ERROR_NOT_FOUND, "index 2");
    EXPECT_ERR(dck_module_get_kernel_at(m, UINT32_MAX, &k), DCK_ERROR_NOT_FOUND, "4294967295");
    OK(dck_context_destroy(ctx));
}

Test(misuse, kernel_get_info)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_kernel k = kernel_of(module_of(ctx), "k");
    dck_kernel_info info;
    EXPECT_ERR(dck_kernel_get_info(NULL, &info), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_kernel_get_info(k, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    OK(dck_context_destroy(ctx));
}

Test(misuse, kernel_get_param)
{
    dck_context ctx = make_ctx(DCK_BACKEND_CPU);
    dck_kernel k = kernel_of(module_of(ctx), "k");
    dck_param_info info;
    EXPECT_ERR(dck_kernel_get_param(NULL, 0, &info), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_kernel_get_param(k, 0, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_kernel_get_param(k, 3, &info), DCK_ERROR_NOT_FOUND, "index 3");
    OK(dck_context_destroy(ctx));
}

/* ---- queues, launches, events, batches ---- */

static void queue_create(dck_context ctx)
{
    dck_queue q = (dck_queue)0x1;
    dck_queue_desc d = {0};
    EXPECT_ERR(dck_queue_create(NULL, &d, &q), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    cr_expect_null(q);
    EXPECT_ERR(dck_queue_create(ctx, &d, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    d.flags = 1;
    EXPECT_ERR(dck_queue_create(ctx, &d, &q), DCK_ERROR_INVALID_ARGUMENT, "desc->flags");
    d.flags = 0;
    int ext = 0;
    d.next = &ext;
    EXPECT_ERR(dck_queue_create(ctx, &d, &q), DCK_ERROR_INVALID_ARGUMENT, "desc->next");
    cr_expect_null(q);
}
Test(misuse, queue_create) { each_backend(queue_create); }

Test(misuse, queue_destroy) { OK(dck_queue_destroy(NULL)); }

Test(misuse, queue_finish)
{
    EXPECT_ERR(dck_queue_finish(NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL queue");
}

static void launch(dck_context ctx)
{
    dck_module m = module_of(ctx);
    dck_kernel k = kernel_of(m, "k"), p = kernel_of(m, "p");
    dck_buffer x = floats(ctx, 64), y = floats(ctx, 64);
    dck_queue q;
    OK(dck_queue_create(ctx, NULL, &q));
    dck_range r = {1, {64, 1, 1}, {0, 0, 0}};
    dck_arg args[3] = {dck_arg_f32(2.0f), dck_arg_buffer(x), dck_arg_buffer(y)};
    dck_event ev = (dck_event)0x1;
    EXPECT_ERR(dck_launch(NULL, k, &r, 3, args, &ev), DCK_ERROR_INVALID_ARGUMENT, "NULL queue");
    cr_expect_null(ev);
    EXPECT_ERR(dck_launch(q, NULL, &r, 3, args, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL kernel");
    /* said "expects 3 arguments (...), got 3" */
    EXPECT_ERR(dck_launch(q, k, &r, 3, NULL, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "args is NULL with nargs 3");
    EXPECT_ERR(dck_launch(q, p, NULL, 3, NULL, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "args is NULL with nargs 3");
    EXPECT_ERR(dck_launch(q, k, &r, 2, args, NULL), DCK_ERROR_ARGUMENT_COUNT,
               "expects 3 arguments");
    EXPECT_ERR(dck_launch(q, k, &r, 0, NULL, NULL), DCK_ERROR_ARGUMENT_COUNT, "got 0");
    dck_arg bad[3] = {args[0], args[1], args[2]};
    bad[1].kind = (dck_arg_kind)7; /* was accepted */
    EXPECT_ERR(dck_launch(q, k, &r, 3, bad, NULL), DCK_ERROR_INVALID_ARGUMENT, "kind 7");
    bad[1] = args[1];
    bad[0].type = (dck_type)77;
    EXPECT_ERR(dck_launch(q, k, &r, 3, bad, NULL), DCK_ERROR_INVALID_ARGUMENT, "type 77");
    bad[0] = args[0];
    bad[0].vec = 9;
    EXPECT_ERR(dck_launch(q, k, &r, 3, bad, NULL), DCK_ERROR_INVALID_ARGUMENT, "vec 9");
    bad[0] = dck_arg_i64(1ll << 40); /* a long for a float */
    EXPECT_ERR(dck_launch(q, k, &r, 3, bad, NULL), DCK_ERROR_ARGUMENT_TYPE, "'a'");
    bad[0] = args[0];
    bad[0].size = 400; /* inline bytes hold 16 */
    EXPECT_ERR(dck_launch(q, k, &r, 3, bad, NULL), DCK_ERROR_INVALID_ARGUMENT, "400 bytes");
    bad[0] = args[0];
    bad[2] = dck_arg_buffer(NULL);
    EXPECT_ERR(dck_launch(q, k, &r, 3, bad, NULL), DCK_ERROR_ARGUMENT_TYPE, "NULL");
    bad[2] = args[0]; /* a value for a buffer */
    EXPECT_ERR(dck_launch(q, k, &r, 3, bad, NULL), DCK_ERROR_ARGUMENT_TYPE, "'y'");
    dck_buffer ints = NULL;
    OK(dck_buffer_create_elems(ctx, DCK_TYPE_F64, 64, &ints));
    bad[2] = dck_arg_buffer(ints); /* 8-byte elements for float[] */
    EXPECT_ERR(dck_launch(q, k, &r, 3, bad, NULL), DCK_ERROR_ARGUMENT_TYPE, "8-byte");
    /* ranges */
    EXPECT_ERR(dck_launch(q, k, NULL, 3, args, NULL), DCK_ERROR_INVALID_RANGE, "NULL");
    dck_range rr = r;
    rr.dims = 4;
    EXPECT_ERR(dck_launch(q, k, &rr, 3, args, NULL), DCK_ERROR_INVALID_RANGE, "dims");
    rr.dims = 0;
    EXPECT_ERR(dck_launch(q, k, &rr, 3, args, NULL), DCK_ERROR_INVALID_RANGE, "dims");
    rr = r;
    rr.dims = 2;
    rr.local[0] = 8; /* in one dimension of two */
    EXPECT_ERR(dck_launch(q, k, &rr, 3, args, NULL), DCK_ERROR_INVALID_RANGE, "every dimension");
    rr = r;
    rr.local[0] = 1u << 20;
    EXPECT_ERR(dck_launch(q, k, &rr, 3, args, NULL), DCK_ERROR_INVALID_RANGE, "exceeds");
    /* objects of another context */
    dck_context other = make_ctx(DCK_BACKEND_CPU);
    dck_queue oq;
    OK(dck_queue_create(other, NULL, &oq));
    EXPECT_ERR(dck_launch(oq, k, &r, 3, args, NULL), DCK_ERROR_INVALID_ARGUMENT, "another context");
    dck_buffer ob = floats(other, 64);
    bad[0] = args[0];
    bad[2] = dck_arg_buffer(ob);
    EXPECT_ERR(dck_launch(q, k, &r, 3, bad, NULL), DCK_ERROR_ARGUMENT_TYPE, "another context");
    OK(dck_context_destroy(other));
    /* mapped */
    void *mp;
    OK(dck_buffer_map(y, DCK_MAP_READ, &mp));
    EXPECT_ERR(dck_launch(q, k, &r, 3, args, NULL), DCK_ERROR_BUFFER_MAPPED, "mapped");
    OK(dck_buffer_unmap(y));
    /* and still works */
    OK(dck_launch(q, k, &r, 3, args, NULL));
    OK(dck_launch(q, p, NULL, 3, args, NULL));
    OK(dck_queue_finish(q));
}
Test(misuse, launch) { each_backend(launch); }

static void enqueue_write(dck_context ctx)
{
    dck_queue q;
    OK(dck_queue_create(ctx, NULL, &q));
    dck_buffer b = floats(ctx, 4);
    float v[4] = {0};
    dck_event ev = (dck_event)0x1;
    EXPECT_ERR(dck_enqueue_write(NULL, b, 0, 4, v, &ev), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    cr_expect_null(ev);
    EXPECT_ERR(dck_enqueue_write(q, NULL, 0, 4, v, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_enqueue_write(q, b, 0, 4, NULL, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_enqueue_write(q, b, 12, 8, v, NULL), DCK_ERROR_OUT_OF_RANGE, "offset 12");
    dck_context other = make_ctx(DCK_BACKEND_CPU);
    dck_buffer ob = floats(other, 4);
    EXPECT_ERR(dck_enqueue_write(q, ob, 0, 4, v, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "another context");
    OK(dck_context_destroy(other));
}
Test(misuse, enqueue_write) { each_backend(enqueue_write); }

static void enqueue_read(dck_context ctx)
{
    dck_queue q;
    OK(dck_queue_create(ctx, NULL, &q));
    dck_buffer b = floats(ctx, 4);
    float v[4];
    dck_event ev = (dck_event)0x1;
    EXPECT_ERR(dck_enqueue_read(NULL, b, 0, 4, v, &ev), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    cr_expect_null(ev);
    EXPECT_ERR(dck_enqueue_read(q, NULL, 0, 4, v, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_enqueue_read(q, b, 0, 4, NULL, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_enqueue_read(q, b, 0, 17, v, NULL), DCK_ERROR_OUT_OF_RANGE, "17 bytes");
    dck_context other = make_ctx(DCK_BACKEND_CPU);
    dck_buffer ob = floats(other, 4);
    EXPECT_ERR(dck_enqueue_read(q, ob, 0, 4, v, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "another context");
    OK(dck_context_destroy(other));
}
Test(misuse, enqueue_read) { each_backend(enqueue_read); }

static dck_event an_event(dck_context ctx)
{
    dck_queue q;
    OK(dck_queue_create(ctx, NULL, &q));
    dck_buffer b = floats(ctx, 4);
    float v[4] = {1, 2, 3, 4};
    dck_event ev;
    OK(dck_enqueue_write(q, b, 0, sizeof v, v, &ev));
    return ev;
}

static void event_wait(dck_context ctx)
{
    EXPECT_ERR(dck_event_wait(NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL event");
    OK(dck_event_wait(an_event(ctx)));
}
Test(misuse, event_wait) { each_backend(event_wait); }

static void event_wait_all(dck_context ctx)
{
    EXPECT_ERR(dck_event_wait_all(2, NULL), DCK_ERROR_INVALID_ARGUMENT, "events is NULL");
    dck_event evs[2] = {an_event(ctx), NULL};
    EXPECT_ERR(dck_event_wait_all(2, evs), DCK_ERROR_INVALID_ARGUMENT, "NULL event");
    OK(dck_event_wait_all(0, NULL));
}
Test(misuse, event_wait_all) { each_backend(event_wait_all); }

static void event_get_times(dck_context ctx)
{
    uint64_t s, e;
    dck_event ev = an_event(ctx);
    EXPECT_ERR(dck_event_get_times(NULL, &s, &e), DCK_ERROR_INVALID_ARGUMENT, "NULL event");
    /* was accepted: a call that can return nothing */
    EXPECT_ERR(dck_event_get_times(ev, NULL, NULL), DCK_ERROR_INVALID_ARGUMENT,
               "start_ns and end_ns are both NULL");
    OK(dck_event_get_times(ev, &s, NULL));
    OK(dck_event_get_times(ev, NULL, &e));
    cr_expect_leq(s, e);
}
Test(misuse, event_get_times) { each_backend(event_get_times); }

static void event_elapsed_ns(dck_context ctx)
{
    uint64_t ns;
    EXPECT_ERR(dck_event_elapsed_ns(NULL, &ns), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_event_elapsed_ns(an_event(ctx), NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
}
Test(misuse, event_elapsed_ns) { each_backend(event_elapsed_ns); }

Test(misuse, event_destroy) { OK(dck_event_destroy(NULL)); }

static void batches(dck_context ctx)
{
    dck_queue q;
    OK(dck_queue_create(ctx, NULL, &q));
    dck_batch b = (dck_batch)0x1;
    EXPECT_ERR(dck_queue_begin_batch(NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL queue");
    EXPECT_ERR(dck_queue_end_batch(NULL, &b), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_queue_end_batch(q, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_batch_launch(NULL, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    EXPECT_ERR(dck_batch_launch(q, NULL), DCK_ERROR_INVALID_ARGUMENT, "NULL");
    OK(dck_batch_destroy(NULL));
    /* these backends have no batches: said so */
    EXPECT_ERR(dck_queue_begin_batch(q), DCK_ERROR_UNSUPPORTED, "no batches");
    EXPECT_ERR(dck_queue_end_batch(q, &b), DCK_ERROR_UNSUPPORTED, "no batches");
    cr_expect_null(b);
}
Test(misuse, queue_begin_batch) { each_backend(batches); }
Test(misuse, queue_end_batch) { each_backend(batches); }
Test(misuse, batch_launch) { each_backend(batches); }
Test(misuse, batch_destroy) { OK(dck_batch_destroy(NULL)); }
