/* test_rt_package.c: the .dckpkg format end to end (codegen/cg_package.c writes,
 * runtime/package.c reads): the reflection survives the round trip, the bytes are
 * deterministic, every truncation and every single-byte corruption is rejected with a clear
 * message, a newer format version is DCK_ERROR_UNSUPPORTED, the target fallback order of
 * every backend kind, the registry of CPU code compiled into the program, and loading a
 * package from memory and from a file runs its kernels and pipelines on the CPU.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/dckc.h"
#include "package.h"
#include "rt.h"

static const char *src = "struct P { float3 pos; uint id; };\n"
                         "kernel void saxpy(float a, const float[] x, float[] y) {\n"
                         "    uint i = global_id(0);\n"
                         "    if (i < len(y)) y[i] = a * x[i] + y[i];\n"
                         "}\n"
                         "[[workgroup(64, 1, 1)]]\n"
                         "kernel void tag(P[] p) {\n"
                         "    shared uint s[64];\n"
                         "    uint i = global_id(0);\n"
                         "    s[local_id(0)] = i;\n"
                         "    barrier();\n"
                         "    if (i < len(p)) p[i].id = s[local_id(0)];\n"
                         "}\n"
                         "kernel void scale(float a, const float[] x, float[] y) {\n"
                         "    uint i = global_id(0);\n"
                         "    if (i < len(y)) y[i] = a * x[i];\n"
                         "}\n"
                         "pipeline twice(float a, const float[] x, float[] y) {\n"
                         "    float t[len(x)];\n"
                         "    scale<<<len(x)>>>(a, x, t);\n"
                         "    scale<<<len(x)>>>(a, t, y);\n"
                         "}\n";

static char *compile_pkg(const char *targets, bool checked, size_t *len)
{
    DckcOptions o;
    dckc_options_init(&o);
    o.checked = checked;
    DckcResult r;
    DckcStatus st = dckc_compile("pkg.dck", src, &o, targets, DCKC_EMIT_PACKAGE, &r);
    cr_assert_eq(st, DCKC_OK, "%s", r.diagnostics);
    char *out = malloc(r.output_len);
    memcpy(out, r.output, r.output_len);
    *len = r.output_len;
    dckc_result_free(&r);
    return out;
}

static dck_context cpu_ctx(void)
{
    dck_context_desc d = {0};
    d.backend = DCK_BACKEND_CPU;
    d.num_threads = 2;
    dck_context ctx;
    cr_assert_eq(dck_context_create(&d, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    return ctx;
}

Test(package, round_trip_reflection)
{
    size_t n;
    char *pkg = compile_pkg("c", false, &n);
    dck_context ctx = cpu_ctx();
    RtPackage *p;
    cr_assert_eq(rt_package_parse(ctx, pkg, n, &p), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(p->format_version, DCK_PKG_VERSION);
    cr_assert_str_eq(p->compiler_version, DCKC_VERSION);
    cr_assert_str_eq(p->module_name, "pkg");
    cr_assert_str_eq(p->abi.source_name, "pkg.dck");
    cr_assert(strstr(p->options, "-O2") && strstr(p->options, "--target=c"), "%s", p->options);
    cr_assert_geq(p->abi.nkernels, 3, "%u kernels",
                  p->abi.nkernels); /* + any the fusion pass made */
    cr_assert_eq(p->abi.npipelines, 1);
    const dck_abi_kernel *k = &p->abi.kernels[0];
    cr_assert_str_eq(k->name, "saxpy");
    cr_assert_eq(k->nparams, 3);
    cr_assert_str_eq(k->params[0].name, "a");
    cr_assert_eq(k->params[0].kind, DCK_ABI_PARAM_VALUE);
    cr_assert_eq(k->params[0].scalar, DCK_ABI_F32);
    cr_assert_str_eq(k->params[1].type_name, "float");
    cr_assert_eq(k->params[1].kind, DCK_ABI_PARAM_BUFFER);
    cr_assert_eq(k->params[1].is_const, 1);
    cr_assert_eq(k->params[2].is_const, 0);
    cr_assert_eq(k->line, 2);
    cr_assert_null(k->cpu_group);
    const dck_abi_kernel *t = &p->abi.kernels[1];
    cr_assert_str_eq(t->name, "tag");
    cr_assert_eq(t->wg[0], 64);
    cr_assert_eq(t->shared_bytes, 256);
    cr_assert(t->flags & DCK_ABI_KERNEL_BARRIER);
    cr_assert_eq(t->params[0].scalar, DCK_ABI_STRUCT);
    cr_assert_str_eq(t->params[0].type_name, "P");
    cr_assert_eq(t->params[0].size, 32);
    cr_assert_eq(t->params[0].align, 16);
    const dck_abi_pipeline *pl = &p->abi.pipelines[0];
    cr_assert_str_eq(pl->name, "twice");
    cr_assert_leq(pl->ntemps, 1); /* 0 once fusion drops it */
    cr_assert_gt(pl->ncode, 10);
    cr_assert_eq(pl->code[pl->ncode - 1], DCK_POP_END);
    cr_assert_eq(p->nblobs, 1);
    const RtBlob *c = rt_package_blob(p, "c");
    cr_assert_not_null(c);
    cr_assert_eq(c->data[c->size], 0, "text blobs are NUL-terminated");
    cr_assert(strstr((const char *)c->data, "dck_module"));
    cr_assert_null(rt_package_blob(p, "opencl"));
    rt_package_free(ctx, p);
    dck_context_destroy(ctx);
    free(pkg);
}

Test(package, deterministic_and_checked_flag)
{
    size_t n1, n2, n3;
    char *a = compile_pkg("c", false, &n1), *b = compile_pkg("c", false, &n2),
         *c = compile_pkg("c", true, &n3);
    cr_assert_eq(n1, n2);
    cr_assert_eq(memcmp(a, b, n1), 0, "same input and options, different bytes");
    dck_context ctx = cpu_ctx();
    RtPackage *p;
    cr_assert_eq(rt_package_parse(ctx, c, n3, &p), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert(p->flags & DCK_PKG_FLAG_CHECKED);
    cr_assert(p->abi.kernels[0].flags & DCK_ABI_KERNEL_CHECKED);
    cr_assert(strstr(p->options, "--checked"));
    rt_package_free(ctx, p);
    dck_context_destroy(ctx);
    free(a);
    free(b);
    free(c);
}

Test(package, every_truncation_and_corruption_rejected)
{
    size_t n;
    char *pkg = compile_pkg("c", false, &n);
    dck_context ctx = cpu_ctx();
    RtPackage *p;
    for (size_t len = 0; len < n; len += len < 512 ? 1 : 97) {
        cr_assert_neq(rt_package_parse(ctx, pkg, len, &p), DCK_SUCCESS,
                      "a %zu-byte prefix was accepted", len);
        cr_assert_null(p);
        cr_assert_neq(dck_last_error()[0], 0);
    }
    char *bad = malloc(n);
    for (size_t i = 0; i < n; i += i < 512 ? 1 : 13) {
        memcpy(bad, pkg, n);
        bad[i] ^= 0x20;
        dck_status st = rt_package_parse(ctx, bad, n, &p);
        cr_assert(st == DCK_ERROR_INVALID_MODULE || st == DCK_ERROR_UNSUPPORTED,
                  "byte %zu flipped: %s", i, dck_status_string(st));
    }
    memcpy(bad, pkg, n);
    bad[n - 2] ^= 1;
    cr_assert_eq(rt_package_parse(ctx, bad, n, &p), DCK_ERROR_INVALID_MODULE);
    cr_assert(strstr(dck_last_error(), "checksum"), "%s", dck_last_error());
    /* a newer format, with a correct checksum: a clear "update" message */
    memcpy(bad, pkg, n);
    bad[DCK_PKG_OFF_VERSION] = 2;
    uint64_t sum = dck_pkg_checksum(bad, n);
    memcpy(bad + DCK_PKG_OFF_CHECKSUM, &sum, 8);
    cr_assert_eq(rt_package_parse(ctx, bad, n, &p), DCK_ERROR_UNSUPPORTED);
    cr_assert(strstr(dck_last_error(), "version 2"), "%s", dck_last_error());
    cr_assert_eq(rt_package_parse(ctx, "not a package at all", 20, &p), DCK_ERROR_INVALID_MODULE);
    cr_assert(strstr(dck_last_error(), "not a DCK package"), "%s", dck_last_error());
    free(bad);
    dck_context_destroy(ctx);
    free(pkg);
}

static RtBlob blob(const char *name)
{
    RtBlob b;
    memset(&b, 0, sizeof b);
    snprintf(b.target, sizeof b.target, "%s", name);
    return b;
}

static void order(const RtPackage *p, dck_backend be, uint32_t arch, bool spirv, const char *want)
{
    const RtBlob *c[16];
    uint32_t n = rt_package_candidates(p, be, arch, spirv, c, 16);
    char got[256] = "";
    for (uint32_t i = 0; i < n; i++) {
        strcat(got, i ? "," : "");
        strcat(got, c[i]->target);
    }
    cr_assert_str_eq(got, want, "backend %d arch %u", (int)be, arch);
}

Test(package, fallback_order)
{
    RtBlob bs[] = {blob("c"),        blob("cuda"),         blob("msl"),
                   blob("opencl"),   blob("ptx-sm75"),     blob("ptx-sm80"),
                   blob("ptx-sm90"), blob("spirv-opencl"), blob("spirv-vulkan")};
    RtPackage p;
    memset(&p, 0, sizeof p);
    p.blobs = bs;
    p.nblobs = sizeof bs / sizeof bs[0];
    order(&p, DCK_BACKEND_CUDA, 90, false, "ptx-sm90,ptx-sm80,ptx-sm75,cuda");
    order(&p, DCK_BACKEND_CUDA, 86, false, "ptx-sm80,ptx-sm75,cuda");
    order(&p, DCK_BACKEND_CUDA, 70, false, "cuda");
    order(&p, DCK_BACKEND_CUDA, 0, false, "ptx-sm90,ptx-sm80,ptx-sm75,cuda");
    order(&p, DCK_BACKEND_VULKAN, 0, false, "spirv-vulkan");
    order(&p, DCK_BACKEND_OPENCL, 0, false, "opencl");
    order(&p, DCK_BACKEND_OPENCL, 0, true, "spirv-opencl,opencl");
    order(&p, DCK_BACKEND_METAL, 0, false, "msl");
    order(&p, DCK_BACKEND_CPU, 0, false, "c");
    p.nblobs = 1; /* only "c" */
    order(&p, DCK_BACKEND_VULKAN, 0, false, "");
    const RtBlob *one[1];
    p.nblobs = sizeof bs / sizeof bs[0];
    cr_assert_eq(rt_package_candidates(&p, DCK_BACKEND_CUDA, 90, false, one, 1), 1);
    cr_assert_str_eq(one[0]->target, "ptx-sm90");
}

static void run_saxpy_and_pipeline(dck_context ctx, dck_module m)
{
    dck_kernel k, pl;
    cr_assert_eq(dck_module_get_kernel(m, "saxpy", &k), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_module_get_kernel(m, "twice", &pl), DCK_SUCCESS, "%s", dck_last_error());
    enum { N = 300 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = (float)i, y[i] = 1.0f;
    dck_buffer bx, by;
    cr_assert_eq(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &bx), DCK_SUCCESS);
    cr_assert_eq(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &by), DCK_SUCCESS);
    dck_buffer_write(bx, 0, sizeof x, x);
    dck_buffer_write(by, 0, sizeof y, y);
    dck_queue q;
    cr_assert_eq(dck_queue_create(ctx, NULL, &q), DCK_SUCCESS);
    dck_arg args[] = {dck_arg_f32(2.0f), dck_arg_buffer(bx), dck_arg_buffer(by)};
    dck_range r = {1, {N, 1, 1}, {0, 0, 0}};
    cr_assert_eq(dck_launch(q, k, &r, 3, args, NULL), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_queue_finish(q), DCK_SUCCESS);
    dck_buffer_read(by, 0, sizeof y, y);
    for (int i = 0; i < N; i++) cr_assert_float_eq(y[i], 2.0f * (float)i + 1.0f, 1e-4);
    cr_assert_eq(dck_launch(q, pl, NULL, 3, args, NULL), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_queue_finish(q), DCK_SUCCESS);
    dck_buffer_read(by, 0, sizeof y, y);
    for (int i = 0; i < N; i++) cr_assert_float_eq(y[i], 4.0f * (float)i, 1e-3);
}

Test(package, load_from_memory_and_file_on_cpu)
{
    char cache[] = "/tmp/dck-pkg-test-XXXXXX";
    cr_assert_not_null(mkdtemp(cache));
    setenv("DCK_CACHE_DIR", cache, 1);
    size_t n;
    char *pkg = compile_pkg("c", false, &n);
    dck_context ctx = cpu_ctx();
    dck_module m;
    cr_assert_eq(dck_module_create_from_package(ctx, pkg, n, NULL, &m), DCK_SUCCESS, "%s",
                 dck_last_error());
    dck_module_info mi;
    cr_assert_eq(dck_module_get_info(m, &mi), DCK_SUCCESS);
    cr_assert_str_eq(mi.target, "c");
    cr_assert_geq(mi.cache_hit, 0, "the C blob is JIT-compiled when nothing is registered");
    run_saxpy_and_pipeline(ctx, m);

    char path[256];
    snprintf(path, sizeof path, "%s/k.dckpkg", cache);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fwrite(pkg, 1, n, f);
    fclose(f);
    dck_module m2;
    cr_assert_eq(dck_module_create_from_file(ctx, path, NULL, &m2), DCK_SUCCESS, "%s",
                 dck_last_error());
    run_saxpy_and_pipeline(ctx, m2);
    cr_assert_eq(dck_module_create_from_file(ctx, "/nonexistent/k.dckpkg", NULL, &m2),
                 DCK_ERROR_IO);
    cr_assert(strstr(dck_last_error(), "/nonexistent/k.dckpkg"), "%s", dck_last_error());
    unlink(path);
    dck_context_destroy(ctx);
    free(pkg);
}

/* the AOT path: CPU code registered for the package's checksum is bound instead of JIT */
Test(package, registered_cpu_code_preferred)
{
    size_t n;
    char *pkg = compile_pkg("c", false, &n);
    dck_context ctx = cpu_ctx();
    /* a module loaded from the C source gives a compiled dck_abi_module to register */
    dck_module jit;
    cr_assert_eq(dck_module_create_from_source(ctx, "pkg.dck", src, NULL, &jit), DCK_SUCCESS, "%s",
                 dck_last_error());
    uint64_t sum;
    memcpy(&sum, pkg + DCK_PKG_OFF_CHECKSUM, 8);
    cr_assert_null(rt_package_aot_cpu(sum));
    cr_assert_eq(dck_register_cpu_code(sum, jit->abi), DCK_SUCCESS);
    cr_assert_eq(rt_package_aot_cpu(sum), jit->abi);
    cr_assert_eq(dck_register_cpu_code(sum, jit->abi), DCK_SUCCESS, "registering twice is fine");
    dck_abi_module wrong = *jit->abi;
    wrong.version = DCK_ABI_VERSION + 1;
    cr_assert_eq(dck_register_cpu_code(sum + 1, &wrong), DCK_ERROR_INVALID_MODULE);
    dck_module m;
    cr_assert_eq(dck_module_create_from_package(ctx, pkg, n, NULL, &m), DCK_SUCCESS, "%s",
                 dck_last_error());
    dck_module_info mi;
    dck_module_get_info(m, &mi);
    cr_assert_eq(mi.cache_hit, -1, "registered code must be used, not the JIT");
    cr_assert_eq(m->abi, jit->abi);
    run_saxpy_and_pipeline(ctx, m);
    dck_context_destroy(ctx);
    free(pkg);
}

/* the compiler side: bad target lists and sources, the manifest and header outputs */
Test(package, compiler_outputs)
{
    DckcOptions o;
    dckc_options_init(&o);
    DckcResult r;
    cr_assert_eq(dckc_compile("pkg.dck", src, &o, "c,nosuch", DCKC_EMIT_PACKAGE, &r), DCKC_USAGE);
    cr_assert(strstr(r.diagnostics, "nosuch"), "%s", r.diagnostics);
    dckc_result_free(&r);
    cr_assert_eq(dckc_compile("pkg.dck", "kernel void k( {", &o, "c", DCKC_EMIT_PACKAGE, &r),
                 DCKC_ERRORS);
    dckc_result_free(&r);
    cr_assert_eq(dckc_compile("pkg.dck", src, &o, "c", DCKC_EMIT_MANIFEST, &r), DCKC_OK);
    cr_assert(strstr(r.output, "\"name\": \"tag\"") &&
                  strstr(r.output, "\"workgroup\": [64, 1, 1]"),
              "%s", r.output);
    dckc_result_free(&r);
    cr_assert_eq(dckc_compile("pkg.dck", src, &o, "c", DCKC_EMIT_HEADER, &r), DCKC_OK);
    cr_assert(
        strstr(
            r.output,
            "static inline dck_status pkg_saxpy(dck_module dck_mod, dck_queue dck_q, dck_range dck_r, "
            "float a, dck_buffer x, dck_buffer y)"),
        "%s", r.output);
    cr_assert(strstr(r.output, "DCK_STATIC_ASSERT(offsetof(pkg_P, id) == 16, pkg_P_id_offset);"),
              "%s", r.output);
    dckc_result_free(&r);
}

/* the runtime's in-process route: .dck -> package (rt_package_compile) */
Test(package, compile_in_process)
{
    dck_context ctx = cpu_ctx();
    RtPackage *p;
    const char *defs[] = {"N=3"};
    dck_module_options o = {0};
    o.defines = defs;
    o.ndefines = 1;
    o.opt_level = 1;
    o.flags = DCK_MODULE_CHECKED;
    cr_assert_eq(rt_package_compile(ctx, "pkg.dck", src, &o, "c", &p), DCK_SUCCESS, "%s",
                 dck_last_error());
    cr_assert_not_null(rt_package_blob(p, "c"));
    cr_assert(p->flags & DCK_PKG_FLAG_CHECKED);
    cr_assert(strstr(p->options, "-O1") && strstr(p->options, "-DN=3"), "%s", p->options);
    rt_package_free(ctx, p);
    cr_assert_eq(rt_package_compile(ctx, "bad.dck", "kernel void k( {", NULL, "c", &p),
                 DCK_ERROR_COMPILE);
    cr_assert_null(p);
    cr_assert(strstr(dck_last_error(), "bad.dck"), "%s", dck_last_error());
    cr_assert_eq(rt_package_compile(ctx, "pkg.dck", src, NULL, "c,nosuch", &p),
                 DCK_ERROR_UNSUPPORTED);
    dck_context_destroy(ctx);
}
