/* passes.h: the IR optimisation passes (one file each) and the pipeline that runs them.
 *
 * Every pass takes the whole module and a scratch arena (freed by the caller after the
 * pass), allocates lasting IR from m->arena, and returns whether it changed anything.
 * Passes keep the invariants of ir.h (exact preds, phis matching them, SSA dominance);
 * ir_run_passes can check that with the verifier after each one.
 */
#ifndef DCK_PASSES_H
#define DCK_PASSES_H

#include "ir.h"

bool pass_inline(IrModule *m, Arena *scratch);  /* every CALL replaced by the callee's body */
bool pass_mem2reg(IrModule *m, Arena *scratch); /* scalar/vector/struct local slots -> SSA */
bool pass_constfold(IrModule *m,
                    Arena *scratch);        /* constant folding, identities, constant branches */
bool pass_dce(IrModule *m, Arena *scratch); /* unused values without side effects */
bool pass_cse(IrModule *m, Arena *scratch); /* dominator-scoped value numbering */
bool pass_simplifycfg(IrModule *m,
                      Arena *scratch); /* unreachable blocks, chains, forwarders, trivial phis */
bool pass_ifconv(IrModule *m, Arena *scratch); /* small triangles/diamonds -> selects */
bool pass_fuse(IrModule *m, Arena *scratch);   /* pipeline fusion (pass_fuse.c; docs/fusion.md) */
/* Reports every pipeline of m as not fused, for `why` (fusion did not run), when
 * m->fusion_report is set. */
void fuse_report_off(IrModule *m, const char *why);
/* Appends the report to out: as is, or with json one diagnostics-style JSON object per
 * line (severity "remark"). */
void fuse_report_render(const StrBuf *report, bool json, StrBuf *out);

/* The usual body of a pass: fn on every function that has blocks, with the ICE context set
 * to the function's name; whether any call changed something (pipeline.c). */
bool pass_each_func(IrModule *m, Arena *scratch, bool (*fn)(IrFunc *f, Arena *scratch));

/* Runs the pass list for opt_level 0..3 (pipeline.c). With verify_each the verifier runs
 * after every pass; on a failure the pass's name and the messages are appended to err and
 * the result is false. */
bool ir_run_passes(IrModule *m, int opt_level, bool verify_each, StrBuf *err);

#endif
