/* fuzz_runtime.c: libFuzzer target for the public runtime API (dck.h) on the CPU backend.
 *
 * The input is a little program of API calls: each operation is one byte, its operands the
 * bytes after it. It creates buffers from arbitrary descriptors, launches kernels and a
 * pipeline of one fixed module with arbitrary ranges, argument counts, kinds, types, sizes
 * and buffers (NULL included), compiles modules with arbitrary options (NULL define and
 * include entries, unknown flags, bad optimization levels and targets), transfers and maps
 * with arbitrary offsets and sizes, and asks events, kernels and the pool arbitrary
 * questions. Only valid handles or NULL are ever passed (anything else would be the
 * caller's undefined behaviour); every call must return a status, never crash, hang or
 * leak. Kernels run for real: they are tiny and bounds-checked (a checked context), so an
 * argument check the runtime forgot shows up as an ASan report. The seed corpus is
 * tests/fuzz/corpus-runtime (make_runtime_corpus.py); ctest replays it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *module_src =
    "struct P { float2 pos; uint id; };\n"
    "kernel void fill(float v, float[] y) { uint i = global_id(0); if (i < len(y)) y[i] = v; }\n"
    "kernel void copy4(const float4[] x, float4[] y) {\n"
    "    uint i = global_id(0); if (i < len(y) && i < len(x)) y[i] = x[i];\n"
    "}\n"
    "kernel void mixed(uint n, double d, int2 v, P p, const uint[] a, long[] b) {\n"
    "    uint i = global_id(0);\n"
    "    if (i < len(b) && i < len(a)) b[i] = (long)(a[i] + n + p.id) + (long)v.x + (long)d;\n"
    "}\n"
    "[[workgroup(16)]]\n"
    "kernel void sum(const float[] x, float[] out) {\n"
    "    shared float s[16];\n"
    "    uint l = local_id(0), i = global_id(0);\n"
    "    s[l] = i < len(x) ? x[i] : 0.0;\n"
    "    barrier();\n"
    "    if (l == 0u) { float t = 0.0; for (uint k = 0u; k < 16u; k++) t += s[k]; "
    "atomic_add(out[0], t); }\n"
    "}\n"
    "pipeline twice(float v, float[] y) {\n"
    "    float t[len(y)];\n"
    "    fill<<<len(y)>>>(v, t);\n"
    "    fill<<<1>>>(v, t);\n"
    "    fill<<<len(y)>>>(v, y);\n"
    "}\n";

typedef struct Fuzz {
    const uint8_t *p, *end;
} Fuzz;

static uint8_t byte(Fuzz *f) { return f->p < f->end ? *f->p++ : 0; }
static uint32_t u32(Fuzz *f)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = v << 8 | byte(f);
    return v;
}
/* A size-like value: small most of the time, sometimes huge. */
static uint64_t amount(Fuzz *f)
{
    uint8_t k = byte(f);
    if (k < 200) return k;
    if (k < 250) return u32(f) & 0xffff;
    uint64_t hi = u32(f);
    return hi << 32 | u32(f);
}

enum { MAXB = 6, MAXE = 6, MAXM = 3 };

static dck_context fuzz_ctx(dck_module *mod)
{
    static dck_context ctx;
    static dck_module m;
    if (!ctx) {
        dck_context_desc d = {0};
        d.backend = DCK_BACKEND_CPU;
        d.num_threads = 2;
        d.flags = DCK_CONTEXT_CHECKED;
        if (dck_context_create(&d, &ctx) != DCK_SUCCESS ||
            dck_module_create_from_source(ctx, "fuzz_runtime.dck", module_src, NULL, &m) !=
                DCK_SUCCESS) {
            fprintf(stderr, "fuzz_runtime: setup failed: %s\n", dck_last_error());
            abort();
        }
    }
    *mod = m;
    return ctx;
}

static const char *strings[] = {
    "",  "fill",         "copy4", "mixed",  "sum",          "twice", "nope", "X=1", "X",
    "=", "spirv-vulkan", "c",     "opencl", "/nonexistent", ".",     "a-b",  NULL};

static const char *some_string(Fuzz *f)
{
    return strings[byte(f) % (sizeof strings / sizeof *strings)];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dck_module mod;
    dck_context ctx = fuzz_ctx(&mod);
    Fuzz f = {data, data + size};
    dck_buffer bufs[MAXB] = {0};
    dck_event evs[MAXE] = {0};
    dck_module mods[MAXM] = {0};
    dck_queue q = NULL;
    if (dck_queue_create(ctx, NULL, &q) != DCK_SUCCESS) abort();
    static unsigned char host[4096];
    int steps = 0;
    while (f.p < f.end && steps++ < 64) {
        uint8_t op = byte(&f);
        switch (op % 12) {
        case 0: { /* buffer from an arbitrary descriptor */
            dck_buffer_desc d;
            memset(&d, 0, sizeof d);
            d.size = amount(&f);
            d.count = amount(&f);
            d.elem_size = byte(&f) < 128 ? byte(&f) : u32(&f);
            uint8_t t = byte(&f);
            d.type = t < 13 ? (dck_type)t : t < 200 ? DCK_TYPE_F32 : (dck_type)(t * 7);
            d.vec = byte(&f) % 8;
            d.name = some_string(&f);
            if (byte(&f) & 1 && d.size <= sizeof host) d.initial_data = host;
            uint8_t slot = byte(&f) % MAXB;
            if (bufs[slot]) dck_buffer_destroy(bufs[slot]);
            bufs[slot] = NULL;
            if (d.size > ((uint64_t)1 << 24) || d.count > ((uint64_t)1 << 22)) {
                /* too large to allocate here: the descriptor must still be refused or
                   accepted without crashing, so ask with a small one of the same shape */
                d.size &= 0xffff;
                d.count &= 0xffff;
            }
            dck_buffer_create(ctx, &d, &bufs[slot]);
            break;
        }
        case 1:
        case 2: { /* launch with arbitrary arguments */
            uint32_t nk = 5;
            dck_kernel k = NULL;
            if (dck_module_get_kernel_at(mod, byte(&f) % (nk + 1), &k) != DCK_SUCCESS) k = NULL;
            dck_range r;
            memset(&r, 0, sizeof r);
            r.dims = byte(&f) % 5;
            for (int d = 0; d < 3; d++) {
                r.global[d] = (uint32_t)(amount(&f) & 0x3ff);
                r.local[d] = byte(&f) % 40;
            }
            uint32_t nargs = byte(&f) % 9;
            dck_arg args[8];
            memset(args, 0, sizeof args);
            for (uint32_t i = 0; i < nargs && i < 8; i++) {
                uint8_t kind = byte(&f);
                args[i].kind = kind < 100   ? DCK_ARG_BUFFER
                               : kind < 230 ? DCK_ARG_VALUE
                                            : (dck_arg_kind)kind;
                uint8_t t = byte(&f);
                args[i].type = t < 13 ? (dck_type)t : t < 240 ? DCK_TYPE_F32 : (dck_type)t;
                args[i].vec = byte(&f) % 6;
                args[i].size = byte(&f) < 200 ? byte(&f) % 40 : u32(&f);
                args[i].buffer = bufs[byte(&f) % MAXB];
                if (byte(&f) & 1) args[i].type_name = some_string(&f);
                if (args[i].size > sizeof args[i].v) args[i].ptr = host; /* host: 4096 bytes */
                if (args[i].size > sizeof host) args[i].ptr = NULL;
                memcpy(args[i].v.bytes, f.p,
                       (size_t)(f.end - f.p) < 16 ? (size_t)(f.end - f.p) : 16);
            }
            uint8_t e = byte(&f) % (MAXE + 1);
            dck_event *ev = e < MAXE && !evs[e] ? &evs[e] : NULL;
            const dck_arg *ap = byte(&f) < 20 ? NULL : args;
            dck_launch(q, k, byte(&f) < 10 ? NULL : &r, nargs, ap, ev);
            break;
        }
        case 3: { /* transfers: the host side stays inside `host` */
            dck_buffer b = bufs[byte(&f) % MAXB];
            uint64_t off = amount(&f), n = amount(&f) % (sizeof host + 1);
            if (byte(&f) & 1)
                dck_buffer_write(b, off, n, byte(&f) < 10 ? NULL : host);
            else
                dck_buffer_read(b, off, n, byte(&f) < 10 ? NULL : host);
            break;
        }
        case 4: { /* queued transfers */
            dck_buffer b = bufs[byte(&f) % MAXB];
            uint64_t off = amount(&f), n = amount(&f) % (sizeof host + 1);
            uint8_t e = byte(&f) % (MAXE + 1);
            dck_event *ev = e < MAXE && !evs[e] ? &evs[e] : NULL;
            if (byte(&f) & 1)
                dck_enqueue_write(q, b, off, n, host, ev);
            else
                dck_enqueue_read(q, b, off, n, host, ev);
            break;
        }
        case 5: { /* map / unmap with arbitrary flags; the mapping is only touched in range */
            dck_buffer b = bufs[byte(&f) % MAXB];
            void *ptr = NULL;
            if (byte(&f) & 1) {
                if (dck_buffer_map(b, byte(&f), byte(&f) < 10 ? NULL : &ptr) == DCK_SUCCESS &&
                    ptr) {
                    dck_buffer_info bi;
                    if (dck_buffer_get_info(b, &bi) == DCK_SUCCESS && bi.size)
                        ((volatile unsigned char *)ptr)[bi.size - 1] ^= 0;
                }
            } else {
                dck_buffer_unmap(b);
            }
            break;
        }
        case 6: { /* module compile with arbitrary options */
            const char *defs[4], *incs[4];
            for (int i = 0; i < 4; i++) defs[i] = some_string(&f), incs[i] = some_string(&f);
            dck_module_options o;
            memset(&o, 0, sizeof o);
            o.defines = byte(&f) & 1 ? defs : NULL;
            o.ndefines = byte(&f) % 5;
            o.include_dirs = byte(&f) & 1 ? incs : NULL;
            o.ninclude_dirs = byte(&f) % 5;
            o.opt_level = (int8_t)byte(&f);
            o.flags = byte(&f) < 200 ? 0 : u32(&f);
            o.target = byte(&f) & 1 ? some_string(&f) : NULL;
            uint8_t slot = byte(&f) % MAXM;
            if (mods[slot]) dck_module_destroy(mods[slot]);
            mods[slot] = NULL;
            /* a source that fails in the frontend (fast) or the fixed module (cached) */
            const char *src = byte(&f) & 1 ? "kernel void k(float[] y) { y[0] = X; }" : module_src;
            dck_module_create_from_source(ctx, some_string(&f), byte(&f) < 10 ? NULL : src,
                                          byte(&f) < 30 ? NULL : &o, &mods[slot]);
            break;
        }
        case 7: { /* events */
            uint8_t e = byte(&f) % MAXE;
            uint64_t a = 0, b = 0;
            switch (byte(&f) % 6) {
            case 0: dck_event_wait(evs[e]); break;
            case 1:
                dck_event_get_times(evs[e], byte(&f) & 1 ? &a : NULL, byte(&f) & 1 ? &b : NULL);
                break;
            case 2: dck_event_elapsed_ns(evs[e], byte(&f) & 1 ? &a : NULL); break;
            case 3: dck_event_wait_all(byte(&f) % (MAXE + 2), byte(&f) & 1 ? evs : NULL); break;
            case 4:
                dck_event_destroy(evs[e]);
                evs[e] = NULL;
                break;
            default: dck_queue_finish(q); break;
            }
            break;
        }
        case 8: { /* reflection */
            dck_kernel k = NULL;
            dck_module m = byte(&f) & 1 ? mod : mods[byte(&f) % MAXM];
            if (byte(&f) & 1)
                dck_module_get_kernel(m, some_string(&f), byte(&f) < 10 ? NULL : &k);
            else
                dck_module_get_kernel_at(m, u32(&f) % 16, &k);
            dck_kernel_info ki;
            dck_param_info pi;
            dck_kernel_get_info(k, byte(&f) < 10 ? NULL : &ki);
            dck_kernel_get_param(k, byte(&f) % 10, byte(&f) < 10 ? NULL : &pi);
            dck_module_info mi;
            dck_module_get_info(m, byte(&f) < 10 ? NULL : &mi);
            break;
        }
        case 9: { /* pool and memory */
            dck_pool_stats ps;
            uint64_t a, b;
            dck_context_get_pool_stats(ctx, byte(&f) < 10 ? NULL : &ps);
            if (byte(&f) & 1) dck_context_trim_pool(ctx);
            dck_context_get_memory_info(ctx, byte(&f) & 1 ? &a : NULL, byte(&f) & 1 ? &b : NULL);
            break;
        }
        case 10: { /* buffer info and destroy */
            uint8_t slot = byte(&f) % MAXB;
            dck_buffer_info bi;
            dck_buffer_get_info(bufs[slot], byte(&f) < 10 ? NULL : &bi);
            if (byte(&f) & 1) {
                dck_buffer_destroy(bufs[slot]);
                bufs[slot] = NULL;
            }
            break;
        }
        default: { /* batches */
            dck_batch bt = NULL;
            if (dck_queue_begin_batch(q) == DCK_SUCCESS) {
                dck_kernel k = NULL;
                dck_module_get_kernel(mod, "fill", &k);
                dck_arg a[2] = {dck_arg_f32(1.0f), dck_arg_buffer(bufs[byte(&f) % MAXB])};
                dck_range r = {1, {byte(&f), 1, 1}, {0, 0, 0}};
                dck_launch(q, k, &r, 2, a, NULL);
                if (dck_queue_end_batch(q, &bt) == DCK_SUCCESS) {
                    dck_batch_launch(q, bt);
                    dck_batch_destroy(bt);
                }
            }
            break;
        }
        }
    }
    dck_queue_finish(q);
    for (int i = 0; i < MAXE; i++) dck_event_destroy(evs[i]);
    for (int i = 0; i < MAXB; i++) {
        dck_buffer_unmap(bufs[i]);
        dck_buffer_destroy(bufs[i]);
    }
    for (int i = 0; i < MAXM; i++) dck_module_destroy(mods[i]);
    dck_queue_destroy(q);
    return 0;
}
