/* cg_uniform.h: uniform/varying analysis of a kernel for SPMD vectorization.
 *
 * The SIMD variant of the C backend runs a *gang* of W consecutive work-items along x (the
 * lanes) in one instruction stream. This analysis says, per IR value, how it varies across
 * the lanes of a gang:
 *   UNIFORM  the same in every lane (parameters, constants, ids in y and z, arithmetic on
 *            uniform values, loads at uniform addresses): kept as one scalar;
 *   LINEAR   lane k holds base + k (global_id(0), local_id(0), plus/minus a uniform integer,
 *            same-width integer casts, and induction variables stepped by a uniform amount
 *            as in grid-stride loops): kept as the scalar base, so x[global_id(0) + c]
 *            becomes one contiguous vector access;
 *   VARYING  anything else: one value per lane.
 * Divergence: a conditional branch on a non-uniform condition is *varying*; a phi merges
 * lanes that came different ways (so is varying) when its block is reachable from both
 * successors of some varying branch. Values defined in a loop and used outside it are read
 * through a per-lane *capture* (updated on the loop's exit edges) once the kernel has any
 * varying branch: lanes leave loops at different iterations, and a value recomputed for the
 * remaining lanes must not overwrite the value a finished lane left with.
 *
 * It also gives the block schedule the emitter runs: reverse post-order with every loop's
 * blocks contiguous (so a loop's lanes iterate in lockstep and a loop's exits come after its
 * body), and the natural loops of the function. All arrays live in the caller's arena.
 */
#ifndef DCK_CG_UNIFORM_H
#define DCK_CG_UNIFORM_H

#include "compiler/ir.h"

typedef enum CgUni { CGU_UNIFORM = 0, CGU_LINEAR = 1, CGU_VARYING = 2 } CgUni;

typedef struct CgLoop {
    IrBlock *header;
    int parent;      /* index of the enclosing loop, -1 for none */
    int depth;       /* 1 for outermost */
    int first, last; /* positions of its blocks in the schedule (contiguous) */
} CgLoop;

typedef struct CgUniform {
    const IrFunc *f;
    int nid;                 /* ids are < nid (values and blocks) */
    uint8_t *kind;           /* by value id: CgUni */
    uint8_t *varying_br;     /* by block id: ends in a CBR on a non-uniform condition */
    uint8_t *join;           /* by block id: reachable from both successors of a varying branch */
    bool any_varying_branch; /* captures are on */
    int nloops;
    CgLoop *loops; /* outer loops before inner ones */
    int *
        loop_of; /* by block id: innermost loop index, -1 outside loops and for unreachable blocks */
    IrBlock **order; /* the schedule: reachable blocks */
    int norder;
    int *pos; /* by block id: position in order, -1 unreachable */
} CgUniform;

/* Analyses kernel f (after the pass pipeline). */
CgUniform *cg_uniform_analyse(const IrFunc *f, Arena *a);

/* Is loop l (index) or one of its inner loops the innermost loop of block b? */
bool cg_uniform_in_loop(const CgUniform *u, int l, const IrBlock *b);

/* Must the use of value v in block use_block (for a phi operand: the predecessor block)
 * read v's per-lane capture rather than v itself? Returns the loop whose exits capture v
 * (the innermost loop containing v's definition), or -1. */
int cg_uniform_capture_loop(const CgUniform *u, const IrInst *v, const IrBlock *use_block);

/* How v varies as seen by a use in use_block (captures are VARYING). */
CgUni cg_uniform_at(const CgUniform *u, const IrInst *v, const IrBlock *use_block);

const char *cg_uniform_name(CgUni k); /* "uniform", "linear", "varying" */

#endif
