/* test_fusion.c: the pipeline fusion pass (compiler/pass_fuse.c).
 *
 * Compiler side: which launches fuse, the report's reasons, determinism, -O0 and checked
 * mode leaving pipelines alone. Execution: every pipeline of the fusion tests runs at -O0
 * (never fused) and -O2 (fused where legal) on the CPU with the same inputs, and every
 * buffer it can write must come out bit for bit the same.
 */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/dckc.h"
#include "dck.h"

/* ---- compiler ---- */

typedef struct Out {
    char *ir, *report;
} Out;

static Out compile(const char *src, int opt, bool checked)
{
    DckcOptions o;
    dckc_options_init(&o);
    o.opt_level = opt;
    o.checked = checked;
    o.verify_each = true;
    o.report = "fusion";
    DckcResult r;
    DckcStatus st = dckc_compile("t.dck", src, &o, "c", DCKC_EMIT_IR, &r);
    cr_assert_eq(st, DCKC_OK, "compile failed:\n%s", r.diagnostics);
    Out out = {strdup(r.output), strdup(r.diagnostics)};
    dckc_result_free(&r);
    return out;
}

static void out_free(Out *o)
{
    free(o->ir);
    free(o->report);
}

#define EW                                                                                                        \
    "kernel void sq(const float[] x, float[] y) { uint i = global_id(0); if (i < len(y)) y[i] = x[i] * x[i]; }\n" \
    "kernel void nb(const float[] x, float[] y) { uint i = global_id(0); if (i + 1 < len(y)) y[i] = x[i + 1]; }\n"

Test(fusion, elementwise_chain_fuses_and_temp_vanishes)
{
    Out o = compile(EW "pipeline p(const float[] x, float[] y) {\n"
                       "  float t[len(x)];\n  sq<<<len(x)>>>(x, t);\n  sq<<<len(x)>>>(t, y);\n}\n",
                    2, false);
    cr_assert(strstr(o.ir, "kernel @p_fused0("), "%s", o.ir);
    cr_assert(strstr(o.ir, "launch @p_fused0<<<"), "%s", o.ir);
    cr_assert_null(strstr(o.ir, "alloc @t"), "t should vanish:\n%s", o.ir);
    cr_assert(
        strstr(o.report,
               "fused sq (line 5) + sq (line 6) into kernel p_fused0; temporaries removed: t"),
        "%s", o.report);
    out_free(&o);
}

Test(fusion, neighbour_read_does_not_fuse)
{
    Out o = compile(EW "pipeline p(const float[] x, float[] y) {\n"
                       "  float t[len(x)];\n  sq<<<len(x)>>>(x, t);\n  nb<<<len(x)>>>(t, y);\n}\n",
                    2, false);
    cr_assert_null(strstr(o.ir, "_fused"), "%s", o.ir);
    cr_assert(strstr(o.report, "nb reads t at a neighbour index (line 2)"), "%s", o.report);
    out_free(&o);
}

Test(fusion, shapes_must_match)
{
    Out o = compile(EW "pipeline p(const float[] x, float[] y, float[] z) {\n"
                       "  sq<<<len(x)>>>(x, y);\n  sq<<<len(y)>>>(y, z);\n}\n",
                    2, false);
    cr_assert_null(strstr(o.ir, "_fused"), "%s", o.ir);
    cr_assert(strstr(o.report, "launch shapes differ: len(x) vs len(y)"), "%s", o.report);
    out_free(&o);
}

Test(fusion, same_expression_in_different_registers_is_the_same_shape)
{
    Out o =
        compile(EW "pipeline p(const float[] x, float[] y, uint n) {\n"
                   "  float t[n * 2];\n  sq<<<n * 2 + 0>>>(x, t);\n  sq<<<n * 2 + 0>>>(t, y);\n}\n",
                2, false);
    cr_assert(strstr(o.ir, "kernel @p_fused0("), "%s\n%s", o.report, o.ir);
    out_free(&o);
}

Test(fusion, off_at_O0_and_in_checked_mode)
{
    const char *src =
        EW "pipeline p(const float[] x, float[] y) {\n"
           "  float t[len(x)];\n  sq<<<len(x)>>>(x, t);\n  sq<<<len(x)>>>(t, y);\n}\n";
    Out a = compile(src, 0, false), b = compile(src, 2, true);
    cr_assert_null(strstr(a.ir, "_fused"));
    cr_assert_null(strstr(b.ir, "_fused"));
    cr_assert(strstr(a.report, "fusion is off at -O0"), "%s", a.report);
    cr_assert(strstr(b.report, "fusion is off in checked mode"), "%s", b.report);
    out_free(&a);
    out_free(&b);
}

Test(fusion, fused_kernel_name_does_not_collide)
{
    Out o = compile(EW "kernel void p_fused0(float[] y) { }\n"
                       "pipeline p(const float[] x, float[] y) {\n"
                       "  float t[len(x)];\n  sq<<<len(x)>>>(x, t);\n  sq<<<len(x)>>>(t, y);\n}\n",
                    2, false);
    cr_assert(strstr(o.ir, "kernel @p_fused0_2("), "%s", o.ir);
    out_free(&o);
}

Test(fusion, fused_kernel_name_does_not_collide_with_a_pipeline)
{
    Out o = compile(EW "pipeline p(const float[] x, float[] y) {\n"
                       "  float t[len(x)];\n  sq<<<len(x)>>>(x, t);\n  sq<<<len(x)>>>(t, y);\n}\n"
                       "pipeline p_fused0(const float[] x, float[] y) { sq<<<len(x)>>>(x, y); }\n",
                    2, false);
    cr_assert(strstr(o.ir, "kernel @p_fused0_2("), "%s", o.ir);
    out_free(&o);
}

Test(fusion, deterministic)
{
    char *src = NULL;
    size_t n = 0;
    FILE *f = fopen(DCK_SOURCE_DIR "/tests/fusion/reasons.dck", "rb");
    cr_assert_not_null(f);
    fseek(f, 0, SEEK_END);
    n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    src = calloc(n + 1, 1);
    cr_assert_eq(fread(src, 1, n, f), n);
    fclose(f);
    Out a = compile(src, 2, false), b = compile(src, 2, false);
    cr_assert_str_eq(a.ir, b.ir);
    cr_assert_str_eq(a.report, b.report);
    out_free(&a);
    out_free(&b);
    free(src);
}

/* ---- execution: -O0 against -O2 ---- */

typedef struct Run {
    const char *file, *pipeline;
    uint32_t n;          /* elements of every buffer */
    const char *scalars; /* "name=value,..." for by-value parameters */
    bool fuses;          /* at -O2 the module has a fused kernel */
    int allocs_o2;       /* temporaries the pipeline allocates at -O2 (-1: not checked) */
} Run;

static uint32_t rng;
static uint32_t rnd(void)
{
    rng = rng * 1664525u + 1013904223u;
    return rng >> 8;
}

static double scalar_of(const char *list, const char *name)
{
    size_t ln = strlen(name);
    for (const char *p = list; p && *p;) {
        if (strncmp(p, name, ln) == 0 && p[ln] == '=') return atof(p + ln + 1);
        p = strchr(p, ',');
        if (p) p++;
    }
    cr_assert_fail("no value for scalar parameter '%s'", name);
    return 0;
}

/* Runs the pipeline at opt level `opt`; returns the contents of every buffer (malloc'd,
 * one block per parameter, NULL for scalars) and whether the module has a fused kernel. */
static void **run_at(const Run *r, int opt, bool *has_fused, uint64_t *allocs)
{
    dck_context ctx;
    dck_context_desc cd = {0};
    cd.backend = DCK_BACKEND_CPU;
    cr_assert_eq(dck_context_create(&cd, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    dck_module_options mo = {0};
    mo.opt_level = opt;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", DCK_SOURCE_DIR, r->file);
    dck_module mod;
    cr_assert_eq(dck_module_create_from_source(ctx, path, NULL, &mo, &mod), DCK_SUCCESS, "%s: %s",
                 r->file, dck_last_error());
    dck_module_info mi = {0};
    cr_assert_eq(dck_module_get_info(mod, &mi), DCK_SUCCESS);
    *has_fused = false;
    for (uint32_t k = 0; k < mi.nkernels; k++) {
        dck_kernel kk;
        dck_kernel_info ki = {0};
        cr_assert_eq(dck_module_get_kernel_at(mod, k, &kk), DCK_SUCCESS);
        cr_assert_eq(dck_kernel_get_info(kk, &ki), DCK_SUCCESS);
        if (strstr(ki.name, "_fused")) *has_fused = true;
    }
    dck_kernel k;
    cr_assert_eq(dck_module_get_kernel(mod, r->pipeline, &k), DCK_SUCCESS, "%s", dck_last_error());
    dck_kernel_info ki = {0};
    cr_assert_eq(dck_kernel_get_info(k, &ki), DCK_SUCCESS);
    dck_arg args[16];
    dck_buffer bufs[16] = {0};
    uint32_t bytes[16] = {0};
    rng = 77;
    cr_assert(ki.nparams <= 16);
    for (uint32_t p = 0; p < ki.nparams; p++) {
        dck_param_info pi = {0};
        cr_assert_eq(dck_kernel_get_param(k, p, &pi), DCK_SUCCESS);
        if (pi.kind == DCK_PARAM_BUFFER) {
            cr_assert(pi.size == 4, "test buffers hold 4-byte elements");
            uint32_t *data = malloc((size_t)r->n * 4);
            for (uint32_t i = 0; i < r->n; i++) {
                if (pi.type == DCK_TYPE_F32) {
                    float v = (float)(rnd() & 0xffff) / 65536.0f - 0.25f;
                    memcpy(&data[i], &v, 4);
                } else {
                    data[i] = rnd() % r->n; /* valid indices */
                }
            }
            dck_buffer_desc d = {0};
            d.count = r->n;
            d.type = pi.type;
            d.vec = 1;
            d.initial_data = data;
            d.name = pi.name;
            cr_assert_eq(dck_buffer_create(ctx, &d, &bufs[p]), DCK_SUCCESS, "%s", dck_last_error());
            free(data);
            bytes[p] = r->n * 4;
            args[p] = dck_arg_buffer(bufs[p]);
        } else {
            double v = scalar_of(r->scalars, pi.name);
            switch (pi.type) {
            case DCK_TYPE_F32: args[p] = dck_arg_f32((float)v); break;
            case DCK_TYPE_I32: args[p] = dck_arg_i32((int32_t)v); break;
            case DCK_TYPE_U32: args[p] = dck_arg_u32((uint32_t)v); break;
            default: cr_assert_fail("scalar parameter %s of an unexpected type", pi.name);
            }
        }
    }
    dck_queue q;
    cr_assert_eq(dck_queue_create(ctx, NULL, &q), DCK_SUCCESS);
    dck_pool_stats before, after;
    cr_assert_eq(dck_context_get_pool_stats(ctx, &before), DCK_SUCCESS);
    cr_assert_eq(dck_launch(q, k, NULL, ki.nparams, args, NULL), DCK_SUCCESS, "%s at -O%d: %s",
                 r->pipeline, opt, dck_last_error());
    cr_assert_eq(dck_queue_finish(q), DCK_SUCCESS, "%s", dck_last_error());
    cr_assert_eq(dck_context_get_pool_stats(ctx, &after), DCK_SUCCESS);
    *allocs = after.allocations - before.allocations;
    void **out = calloc(16, sizeof *out);
    for (uint32_t p = 0; p < ki.nparams; p++) {
        if (!bufs[p]) continue;
        out[p] = malloc(bytes[p]);
        cr_assert_eq(dck_buffer_read(bufs[p], 0, bytes[p], out[p]), DCK_SUCCESS);
        dck_buffer_destroy(bufs[p]);
    }
    dck_queue_destroy(q);
    dck_module_destroy(mod);
    dck_context_destroy(ctx);
    return out;
}

static void same_at_O0_and_O2(const Run *r)
{
    bool f0, f2;
    uint64_t n0, n2;
    void **a = run_at(r, 0, &f0, &n0), **b = run_at(r, 2, &f2, &n2);
    cr_assert(!f0, "%s: fused at -O0", r->pipeline);
    if (r->fuses) cr_assert(f2, "%s: nothing fused at -O2", r->pipeline);
    /* removed temporaries are not allocated at all */
    if (r->allocs_o2 >= 0)
        cr_assert_eq(n2, (uint64_t)r->allocs_o2,
                     "%s: %llu allocations at -O2 (-O0: %llu), expected %d", r->pipeline,
                     (unsigned long long)n2, (unsigned long long)n0, r->allocs_o2);
    cr_assert(n2 <= n0, "%s: more allocations fused (%llu) than unfused (%llu)", r->pipeline,
              (unsigned long long)n2, (unsigned long long)n0);
    for (int p = 0; p < 16; p++) {
        if (!a[p]) continue;
        for (uint32_t i = 0; i < r->n; i++) {
            uint32_t x, y;
            memcpy(&x, (char *)a[p] + 4 * i, 4);
            memcpy(&y, (char *)b[p] + 4 * i, 4);
            cr_assert_eq(x, y, "%s (%s): parameter %d element %u differs: -O0 %08x, -O2 %08x",
                         r->pipeline, r->file, p, i, x, y);
        }
        free(a[p]);
        free(b[p]);
    }
    free(a);
    free(b);
}

#define R "tests/fusion/reasons.dck"
static const Run runs[] = {
    {"tests/exec/pipeline3.dck", "pipe3", 1000, "a=3,b=-1", true, 0},
    {"tests/exec/pipeline_nofuse.dck", "blur3", 1000, "", false, 2},
    {"tests/exec/pipeline_nofuse.dck", "sumnorm", 1024, "", false, 0},
    {"tests/exec/pipeline_grid.dck", "grid3", 37 * 23, "w=37,h=23", true, 0},
    {R, "scale_relu", 999, "s=-1.5", true, 0},
    {R, "neighbour", 999, "", false, 1},
    {R, "indirect", 999, "", false, 1},
    {R, "broadcast", 999, "", false, 1},
    {R, "with_barrier", 1024, "", false, 1},
    {R, "with_atomics", 999, "", false, 0},
    {R, "shapes", 999, "", false, 0},
    {R, "locals", 1024, "", false, 0},
    {R, "in_place", 999, "", true, 0},
    {R, "looped", 999, "n=3", true, 0},
    {R, "changing", 999, "", false, 0},
    {R, "escapes", 1024, "", true, 1},
    {R, "war", 999, "", false, 0},
    {R, "grid2", 31 * 17, "w=31,h=17", true, 0},
    {R, "single", 999, "", false, 0},
};

Test(fusion_exec, fused_and_unfused_agree, .timeout = 300)
{
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) same_at_O0_and_O2(&runs[k]);
}
