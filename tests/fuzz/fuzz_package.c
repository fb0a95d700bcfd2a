/* fuzz_package.c: libFuzzer target for the .dckpkg reader (runtime/package.c).
 *
 * Each input is parsed twice: as it is (mostly rejected by the checksum or the size check,
 * which is what a corrupted file meets), and with its file-size, ABI-version and checksum
 * fields set to what the reader expects, so that mutations reach the structural checks
 * behind them. A package that
 * parses is walked completely (every string, parameter, code word, constant and blob byte)
 * so that anything the reader accepted but pointed out of bounds is caught by ASan, and the
 * target choice runs for every backend kind. Any crash or sanitizer report is a bug; a
 * rejected input is fine. The seed corpus is tests/fuzz/corpus-package (valid packages and
 * hand-made mutants); ctest replays it through fuzz_replay_package.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"
#include "package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dck_context fuzz_ctx(void)
{
    static dck_context ctx;
    if (!ctx) {
        dck_context_desc d = {0};
        d.backend = DCK_BACKEND_CPU;
        d.num_threads = 1;
        if (dck_context_create(&d, &ctx) != DCK_SUCCESS) {
            fprintf(stderr, "fuzz_package: cannot create a CPU context: %s\n", dck_last_error());
            abort();
        }
    }
    return ctx;
}

static volatile size_t sink; /* keeps the reads of the walk */

static void touch_str(const char *s)
{
    if (s) sink += strlen(s);
}

static void walk_params(const dck_abi_param *ps, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        touch_str(ps[i].name);
        touch_str(ps[i].type_name);
        sink += ps[i].size + ps[i].align + ps[i].scalar + ps[i].vec;
    }
}

static void walk(const RtPackage *p)
{
    touch_str(p->abi.source_name);
    touch_str(p->compiler_version);
    touch_str(p->options);
    touch_str(p->module_name);
    for (uint32_t i = 0; i < p->abi.nkernels; i++) {
        const dck_abi_kernel *k = &p->abi.kernels[i];
        touch_str(k->name);
        walk_params(k->params, k->nparams);
        if (k->cpu_group || k->cpu_variants)
            abort(); /* a package never carries function pointers */
    }
    for (uint32_t i = 0; i < p->abi.npipelines; i++) {
        const dck_abi_pipeline *q = &p->abi.pipelines[i];
        touch_str(q->name);
        walk_params(q->params, q->nparams);
        for (uint32_t w = 0; w < q->ncode; w++) sink += q->code[w];
        for (uint32_t c = 0; c < q->nconsts; c++) sink += (size_t)q->consts[c];
    }
    for (uint32_t i = 0; i < p->nblobs; i++) {
        const RtBlob *b = &p->blobs[i];
        touch_str(b->target);
        for (uint64_t k = 0; k < b->size; k++) sink += b->data[k];
        if (rt_package_blob(p, b->target) != b) abort(); /* names are unique */
    }
    static const dck_backend kinds[] = {DCK_BACKEND_CPU, DCK_BACKEND_CUDA, DCK_BACKEND_OPENCL,
                                        DCK_BACKEND_VULKAN, DCK_BACKEND_METAL};
    const RtBlob *cands[8];
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        uint32_t n = rt_package_candidates(p, kinds[k], (uint32_t)(k * 40), k & 1, cands, 8);
        for (uint32_t c = 0; c < n; c++) touch_str(cands[c]->target);
    }
}

static void parse_once(const uint8_t *data, size_t size)
{
    dck_context ctx = fuzz_ctx();
    RtPackage *p = NULL;
    dck_status st = rt_package_parse(ctx, data, size, &p);
    if (st == DCK_SUCCESS) {
        if (!p) abort();
        walk(p);
        rt_package_free(ctx, p);
    } else if (p) {
        abort(); /* a failed parse hands nothing back */
    } else if (st != DCK_ERROR_INVALID_MODULE && st != DCK_ERROR_UNSUPPORTED &&
               st != DCK_ERROR_OUT_OF_MEMORY) {
        fprintf(stderr, "fuzz_package: unexpected status %s: %s\n", dck_status_string(st),
                dck_last_error());
        abort();
    } else if (!dck_last_error()[0]) {
        abort(); /* every rejection says why */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    parse_once(data, size);
    if (size >= DCK_PKG_OFF_CHECKSUM + 8) {
        uint8_t *fixed = malloc(size);
        if (!fixed) return 0;
        memcpy(fixed, data, size);
        for (int i = 0; i < 8; i++)
            fixed[DCK_PKG_OFF_FILE_SIZE + i] = (uint8_t)((uint64_t)size >> (8 * i));
        /* the corpus outlives ABI version bumps: keep reaching the checks behind that one */
        if (size >= DCK_PKG_OFF_ABI_VERSION + 4)
            for (int i = 0; i < 4; i++)
                fixed[DCK_PKG_OFF_ABI_VERSION + i] = (uint8_t)(DCK_ABI_VERSION >> (8 * i));
        uint64_t sum = dck_pkg_checksum(fixed, size);
        for (int i = 0; i < 8; i++) fixed[DCK_PKG_OFF_CHECKSUM + i] = (uint8_t)(sum >> (8 * i));
        parse_once(fixed, size);
        free(fixed);
    }
    return 0;
}
