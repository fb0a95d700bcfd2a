/* pipeline.c: the pass pipeline. The one place that says which passes run, in which order,
 * at each -O level. Adding a pass: one file, one line below, one test.
 *
 * -O0 runs inline and mem2reg only: inlining is mandatory (backends never see calls) and
 * mem2reg is linear and turns lowering's variable slots into SSA values, which every
 * backend prefers; nothing else changes the program's shape at -O0.
 * -O1..-O3 then iterate the scalar cleanups to a fixed point, bounded by MAX_ROUNDS.
 */
#include "passes.h"

#include <stdlib.h>

enum { MAX_ROUNDS = 4 };

typedef bool (*PassFn)(IrModule *, Arena *);

typedef struct Runner {
    IrModule *m;
    bool verify_each;
    StrBuf *err;
    bool ok;
    int bisect_limit; /* -1: no limit */
    int optional_runs;
} Runner;

/* Runs one pass with a fresh scratch arena; verifies after it when asked. Optional
 * passes stop running once $DCK_OPT_BISECT_LIMIT of them have run (to find the pass
 * behind a miscompile, as LLVM's -opt-bisect-limit). */
static bool run_pass(Runner *r, const char *name, PassFn fn, bool optional)
{
    if (!r->ok) return false;
    if (optional && r->bisect_limit >= 0 && r->optional_runs++ >= r->bisect_limit) return false;
    Arena *scratch = arena_new();
    bool changed = fn(r->m, scratch);
    arena_free(scratch);
    if (r->verify_each && !ir_verify_module(r->m, r->err)) {
        sb_printf(r->err, "(the IR above was produced by %s)\n", name);
        r->ok = false;
    }
    return changed;
}

static bool run(Runner *r, const char *name, PassFn fn) { return run_pass(r, name, fn, true); }

bool pass_each_func(IrModule *m, Arena *scratch, bool (*fn)(IrFunc *f, Arena *scratch))
{
    bool changed = false;
    for (int k = 0; k < m->funcs.len; k++) {
        IrFunc *f = m->funcs.data[k];
        if (f->blocks.len == 0) continue;
        ice_context(f->name);
        changed |= fn(f, scratch);
    }
    ice_context(NULL);
    return changed;
}

/* The promise of ir.h that backends rely on, checked at every level. */
static void check_no_calls(Runner *r)
{
    for (int k = 0; r->ok && k < r->m->funcs.len; k++) {
        const IrFunc *f = r->m->funcs.data[k];
        for (int b = 0; f->is_kernel && b < f->blocks.len; b++)
            for (const IrInst *i = f->blocks.data[b]->first; i; i = i->next)
                if (i->op == IR_CALL) {
                    sb_printf(r->err, "kernel @%s still contains a call after inlining\n", f->name);
                    r->ok = false;
                    return;
                }
    }
}

bool ir_run_passes(IrModule *m, int opt_level, bool verify_each, StrBuf *err)
{
    Runner r = {.m = m, .verify_each = verify_each, .err = err, .ok = true, .bisect_limit = -1};
    const char *limit = getenv("DCK_OPT_BISECT_LIMIT");
    if (limit && *limit) r.bisect_limit = atoi(limit);

    /* any IR from lowering; afterwards no function contains CALL */
    run_pass(&r, "inline", pass_inline, false);
    check_no_calls(&r);
    /* exact preds; unreachable blocks are dropped first */
    run_pass(&r, "mem2reg", pass_mem2reg, false);
    if (opt_level <= 0) {
        fuse_report_off(m, "fusion is off at -O0");
        return r.ok;
    }
    /* SSA kernels, no calls; the fused kernels' private variables (removed temporaries) are
     * promoted by mem2reg, and the cleanups below optimize them with everything else */
    if (run(&r, "fuse", pass_fuse)) run_pass(&r, "mem2reg", pass_mem2reg, false);

    for (int round = 0; round < MAX_ROUNDS && r.ok; round++) {
        bool changed = false;
        /* SSA form; visits in reverse post-order so operands fold first */
        changed |= run(&r, "constfold", pass_constfold);
        /* exact preds and phis matching them */
        changed |= run(&r, "simplifycfg", pass_simplifycfg);
        /* exact preds and phis matching them */
        changed |= run(&r, "ifconv", pass_ifconv);
        /* exact preds (dominator tree); no trivial-phi requirement */
        changed |= run(&r, "cse", pass_cse);
        /* none: marks from side effects and terminators */
        changed |= run(&r, "dce", pass_dce);
        if (!changed) break;
    }
    return r.ok;
}
