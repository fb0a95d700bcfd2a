/* fuzz_frontend.c: libFuzzer target for the whole compiler front to back.
 *
 * The input bytes are a .dck source named "fuzz.dck" (never read from disk; only files it
 * #includes are read). Each input is compiled to IR (passes run, IR verified after every
 * pass) and, when that succeeds, to every backend but PTX. Any outcome but success or user diagnostics is a
 * bug: an internal compiler error aborts so that the fuzzer (or the replay driver) keeps
 * the input; crashes, hangs and sanitizer reports are caught by the fuzzing engine.
 * Inputs over 64 KiB are skipped (the engine runs with -max_len=65536).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/dckc.h"

#define FUZZ_MAX_INPUT (64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Compiles src once; aborts on an internal error. Returns the status. */
static DckcStatus compile_once(const char *src, const DckcOptions *o, const char *target,
                               DckcEmit emit)
{
    DckcResult res;
    DckcStatus st = dckc_compile("fuzz.dck", src, o, target, emit, &res);
    if (st == DCKC_INTERNAL || st == DCKC_USAGE) {
        fprintf(stderr, "fuzz_frontend: dckc_compile (target %s, emit %d) returned %d:\n%s\n",
                target, (int)emit, (int)st, res.diagnostics ? res.diagnostics : "");
        abort();
    }
    if (st == DCKC_OK && res.output == NULL) {
        fprintf(stderr, "fuzz_frontend: success without output (target %s, emit %d)\n", target,
                (int)emit);
        abort();
    }
    if (res.diagnostics == NULL) {
        fprintf(stderr, "fuzz_frontend: NULL diagnostics (status %d)\n", (int)st);
        abort();
    }
    dckc_result_free(&res);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_INPUT) return 0;
    /* The compiler takes a NUL-terminated source: copy, so that the engine's buffer is
     * never read past its end (the source ends at the first NUL byte, if any). */
    char *src = malloc(size + 1);
    if (src == NULL) return 0;
    memcpy(src, data, size);
    src[size] = '\0';

    DckcOptions o;
    dckc_options_init(&o);
    o.verify_each = true;

    if (compile_once(src, &o, "c", DCKC_EMIT_IR) == DCKC_OK) {
        /* The same program through every text and binary backend at once (a package runs
         * each backend on the one optimized module: SIMD C, OpenCL C, SPIR-V for both
         * environments with the validator, MSL, CUDA C), checked mode on for odd sizes to
         * cover the bounds checks' code paths as well. PTX (LLVM) is left to its own tests:
         * a few milliseconds of LLVM per input would dominate the fuzzer's speed. */
        static const char *envs[] = {"vulkan", "opencl"};
        o.verify_each = false;
        o.checked = (size & 1) != 0;
        o.spirv_envs = envs;
        o.nspirv_envs = 2;
        compile_once(src, &o, "c,opencl,spirv,msl,cuda", DCKC_EMIT_PACKAGE);
    }
    free(src);
    return 0;
}
