// shim_runtime.cpp: the CPU "GPU" behind the Metal shim (tests/msl/include/metal_stdlib).
// Runs every work-item of every threadgroup of a launch as a fiber (ucontext), so that
// threadgroup_barrier() and the simd_* exchanges are real: a fiber that reaches a barrier
// yields, and the group goes on once every fiber that has not returned is waiting.
// Groups run one after the other, so the kernel's threadgroup arrays (made `static` by the
// driver generator) are private to the running group.
//
// usage: msl_driver LAUNCH_FILE
//   groups X Y Z / local X Y Z / simd W
//   block K SIZE IN|- OUT|-      memory at [[buffer(K)]]: SIZE bytes, from IN (else zeros),
//                                written to OUT after the launch
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "msl_shim/ids.h"

#ifndef MSL_SHIM_SIMD_WIDTH
#define MSL_SHIM_SIMD_WIDTH 4
#endif

namespace {

const size_t kStack = 256 * 1024;
const unsigned kSlot = 64; // bytes one lane may exchange (double4 is 32)

struct Fiber {
    ucontext_t ctx;
    MslIds ids;
    bool done;
    bool valid; // holds a value for the running simd exchange
    unsigned char slot[kSlot];
    char *stack;
};

ucontext_t g_sched;
Fiber *g_fibers;
unsigned g_nfibers;
Fiber *g_cur;
void *g_blocks[64];

void fail(const char *what) {
    fprintf(stderr, "msl_driver: %s\n", what);
    exit(1);
}

void trampoline(unsigned idx) {
    Fiber *f = &g_fibers[idx];
    msl_shim_item(g_blocks, &f->ids);
    f->done = true;
    // returning resumes uc_link (the scheduler)
}

// one round: every live fiber runs until it returns or waits at a barrier
bool run_round() {
    bool live = false;
    for (unsigned i = 0; i < g_nfibers; i++) {
        Fiber *f = &g_fibers[i];
        if (f->done) continue;
        g_cur = f;
        if (swapcontext(&g_sched, &f->ctx) != 0) fail("swapcontext failed");
        g_cur = nullptr;
        if (!f->done) live = true;
    }
    return live;
}

} // namespace

extern "C" void msl_shim_barrier(void) {
    if (!g_cur) fail("barrier outside a work-item");
    Fiber *f = g_cur;
    if (swapcontext(&f->ctx, &g_sched) != 0) fail("swapcontext failed");
}

extern "C" uint msl_shim_simd_lane(void) { return g_cur ? g_cur->ids.lane : 0u; }

extern "C" uint msl_shim_simd_exchange(const void *mine, uint size, void *lanes_out) {
    if (!g_cur) fail("simd function outside a work-item");
    if (size > kSlot) fail("simd exchange of a value larger than 64 bytes");
    Fiber *f = g_cur;
    unsigned char *out = (unsigned char *)lanes_out;
    if (MSL_SHIM_SIMD_WIDTH == 1) {
        memcpy(out, mine, size);
        return 1u;
    }
    memcpy(f->slot, mine, size);
    f->valid = true;
    msl_shim_barrier(); // every lane has posted its value
    unsigned base = f->ids.sgindex * MSL_SHIM_SIMD_WIDTH, mask = 0;
    for (unsigned l = 0; l < MSL_SHIM_SIMD_WIDTH; l++) {
        unsigned i = base + l;
        if (i < g_nfibers && g_fibers[i].valid) {
            memcpy(out + (size_t)l * size, g_fibers[i].slot, size);
            mask |= 1u << l;
        }
    }
    msl_shim_barrier(); // every lane has read
    f->valid = false;
    return mask;
}

static unsigned char *read_all(const char *path, size_t want) {
    unsigned char *p = (unsigned char *)aligned_alloc(64, (want + 64) / 64 * 64);
    if (!p) fail("out of memory");
    memset(p, 0, (want + 64) / 64 * 64);
    if (strcmp(path, "-") == 0) return p;
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "msl_driver: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    size_t n = fread(p, 1, want, f);
    fclose(f);
    if (n != want) {
        fprintf(stderr, "msl_driver: %s has %zu bytes, expected %zu\n", path, n, want);
        exit(1);
    }
    return p;
}

int main(int argc, char **argv) {
    if (argc != 2) fail("usage: msl_driver LAUNCH_FILE");
    FILE *lf = fopen(argv[1], "r");
    if (!lf) fail("cannot open the launch file");
    unsigned groups[3] = {1, 1, 1}, local[3] = {1, 1, 1}, simd = MSL_SHIM_SIMD_WIDTH;
    char outs[64][512];
    memset(outs, 0, sizeof outs);
    size_t sizes[64] = {0};
    char line[1200];
    while (fgets(line, sizeof line, lf)) {
        unsigned k;
        size_t size;
        char in[512], out[512];
        if (sscanf(line, "groups %u %u %u", &groups[0], &groups[1], &groups[2]) == 3) continue;
        if (sscanf(line, "local %u %u %u", &local[0], &local[1], &local[2]) == 3) continue;
        if (sscanf(line, "simd %u", &simd) == 1) continue;
        if (sscanf(line, "block %u %zu %511s %511s", &k, &size, in, out) == 4) {
            if (k >= 64) fail("buffer index out of range");
            g_blocks[k] = read_all(in, size);
            sizes[k] = size;
            snprintf(outs[k], sizeof outs[k], "%s", out);
            continue;
        }
        if (line[0] != '\n' && line[0] != '#') fail("bad line in the launch file");
    }
    fclose(lf);
    if (simd != MSL_SHIM_SIMD_WIDTH) fail("the launch's simd width differs from the one compiled in");
    unsigned items = local[0] * local[1] * local[2];
    if (!items || items > 1024) fail("bad threadgroup size");
    g_fibers = (Fiber *)calloc(items, sizeof(Fiber));
    if (!g_fibers) fail("out of memory");
    for (unsigned i = 0; i < items; i++) {
        g_fibers[i].stack = (char *)malloc(kStack);
        if (!g_fibers[i].stack) fail("out of memory");
    }
    g_nfibers = items;
    for (unsigned gz = 0; gz < groups[2]; gz++)
        for (unsigned gy = 0; gy < groups[1]; gy++)
            for (unsigned gx = 0; gx < groups[0]; gx++) {
                unsigned i = 0;
                for (unsigned lz = 0; lz < local[2]; lz++)
                    for (unsigned ly = 0; ly < local[1]; ly++)
                        for (unsigned lx = 0; lx < local[0]; lx++, i++) {
                            Fiber *f = &g_fibers[i];
                            MslIds *d = &f->ids;
                            unsigned g[3] = {gx, gy, gz}, l[3] = {lx, ly, lz};
                            for (int a = 0; a < 3; a++) {
                                d->lid[a] = l[a];
                                d->tgid[a] = g[a];
                                d->gid[a] = g[a] * local[a] + l[a];
                                d->tptg[a] = local[a];
                                d->tgpg[a] = groups[a];
                                d->tpgrid[a] = groups[a] * local[a];
                            }
                            d->lindex = i;
                            d->lane = i % MSL_SHIM_SIMD_WIDTH;
                            d->sgindex = i / MSL_SHIM_SIMD_WIDTH;
                            d->width = MSL_SHIM_SIMD_WIDTH;
                            d->nsg = (items + MSL_SHIM_SIMD_WIDTH - 1) / MSL_SHIM_SIMD_WIDTH;
                            f->done = false;
                            f->valid = false;
                            if (getcontext(&f->ctx) != 0) fail("getcontext failed");
                            f->ctx.uc_stack.ss_sp = f->stack;
                            f->ctx.uc_stack.ss_size = kStack;
                            f->ctx.uc_link = &g_sched;
                            makecontext(&f->ctx, (void (*)())trampoline, 1, i);
                        }
                while (run_round()) {
                }
            }
    for (unsigned k = 0; k < 64; k++) {
        if (!g_blocks[k] || strcmp(outs[k], "-") == 0) continue;
        FILE *f = fopen(outs[k], "wb");
        if (!f || fwrite(g_blocks[k], 1, sizes[k], f) != sizes[k] || fclose(f) != 0) {
            fprintf(stderr, "msl_driver: cannot write %s\n", outs[k]);
            return 1;
        }
    }
    for (unsigned i = 0; i < items; i++) free(g_fibers[i].stack);
    free(g_fibers);
    for (unsigned k = 0; k < 64; k++) free(g_blocks[k]);
    return 0;
}
