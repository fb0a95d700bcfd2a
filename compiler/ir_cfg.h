/* ir_cfg.h: the control-flow facts of one function, computed once for every consumer
 * (the structured backends, the vectorizer's analysis): dominators (ir_dom.c), immediate
 * post-dominators, natural loops, and the region tree from which structured code is written.
 *
 * The region tree is a statement tree of if/else, `for (;;)` loops, break, continue and
 * return over the function's blocks, with every reachable block's code exactly once. It
 * follows the dominator tree (Ramsey, "Beyond Relooper", 2022): a block's code is followed by
 * the code of the blocks it dominates; a join (a block entered by several forward edges) comes
 * after the region of its immediate dominator that jumps to it. A jump that break, continue or
 * falling through cannot express (out of several loops at once, or out of an `if` with code
 * after it: an inlined function's `return`) goes through the *selector*, an integer variable:
 * the jump stores the target's code in it and leaves the construct; the code that follows is
 * guarded by `selector == 0` and the target's place resets it. An irreducible CFG (which
 * lowering and the passes never make) becomes one dispatch loop: every block a case selected
 * by the selector.
 *
 * Consumers print the tree: phis are parallel copies on the edges (IR_RG_EDGE). When the
 * selector is used, a value may no longer dominate its uses in the printed control flow (a
 * guard joins paths the IR kept apart): backends in SSA form then keep such values in
 * variables (IrRegionTree.uses_selector). All arrays live in the caller's arena.
 */
#ifndef DCK_IR_CFG_H
#define DCK_IR_CFG_H

#include "ir.h"

typedef struct IrLoop {
    IrBlock *header;
    int parent;       /* index of the enclosing loop, -1 for none */
    int depth;        /* 1 for an outermost loop */
    IrBlock **blocks; /* the natural loop's body (inner loops included), header first */
    int nblocks;      /* blocks in the body */
    int nlatches;     /* blocks in the body that branch to the header */
    IrBlock **latches;
    int nexits; /* blocks outside the body entered from it, in rpo order */
    IrBlock **exits;
} IrLoop;

typedef struct IrCfg {
    const IrFunc *f;
    IrDom *dom;
    /* by rpo index: the rpo index of the immediate post-dominator; -1 when it is the exit
     * (after a ret or unreachable), -2 when no path reaches the exit (an endless loop) */
    int *ipdom;
    int nloops;
    IrLoop *loops;  /* in rpo order of their headers: outer loops before the loops they hold */
    int *loop_of;   /* by block id: innermost loop containing it, -1 outside loops/unreachable */
    int *fwd_preds; /* by block id: predecessor edges that are not back edges */
    bool reducible; /* every retreating edge goes to a block that dominates its source */
} IrCfg;

IrCfg *ir_cfg_compute(Arena *a, const IrFunc *f);
bool ir_cfg_reachable(const IrCfg *c, const IrBlock *b);
/* the immediate post-dominator of b: NULL for the exit (and for no post-dominator) */
const IrBlock *ir_cfg_ipdom(const IrCfg *c, const IrBlock *b);
bool ir_cfg_postdominates(const IrCfg *c, const IrBlock *a, const IrBlock *b);
bool ir_cfg_is_back_edge(const IrCfg *c, const IrBlock *from, const IrBlock *to);
/* Is b in loop l (or one of the loops l holds)? O(loop depth) */
bool ir_cfg_in_loop(const IrCfg *c, int l, const IrBlock *b);

/* ---- the region tree ---- */
typedef enum IrRegionKind {
    IR_RG_SEQ,      /* kids in order */
    IR_RG_CODE,     /* the instructions of block b, its phis and terminator excepted */
    IR_RG_EDGE,     /* the phi copies of the occ-th edge b -> to (only when `to` has phis) */
    IR_RG_IF,       /* if (cond) kids[0] else kids[1]; cond NULL: if (selector == sel);
                     * neg: the condition negated */
    IR_RG_LOOP,     /* for (;;) kids[0] */
    IR_RG_BREAK,    /* leaves the innermost loop */
    IR_RG_CONTINUE, /* the next iteration of the innermost loop */
    IR_RG_RETURN,   /* b's terminator: ret or unreachable */
    IR_RG_SETSEL,   /* selector = sel */
} IrRegionKind;

typedef struct IrRegion IrRegion;
struct IrRegion {
    IrRegionKind kind;
    const IrBlock *b, *to;
    int occ;
    const IrInst *cond;
    int sel;
    bool neg;
    IrRegion **kids;
    int nkids, cap;
};

typedef struct IrRegionTree {
    IrRegion *root;
    bool uses_selector;
    bool dispatch; /* the irreducible fallback: one dispatch loop */
} IrRegionTree;

IrRegionTree *ir_cfg_regions(Arena *a, const IrCfg *c);
/* Can r complete normally (not every path ends in break, continue or return)? */
bool ir_region_falls(const IrRegion *r);
/* The tree in a compact text form (tests, debugging). */
void ir_region_print(StrBuf *out, const IrRegion *r, int depth);

#endif
