/* ir.h: the DCK intermediate representation.
 *
 * A typed SSA CFG, target-neutral. A module holds functions (kernels and helpers), the
 * struct types they use, and pipelines (host-side programs that launch kernels).
 *
 * Values are instructions: every IrInst that yields a value has a non-void `type` and is
 * used by pointer from other instructions' `ops`. Constants, parameters and undef are
 * instructions too (CSE merges duplicates). Memory is never addressed through values:
 * LOAD/STORE/ATOMIC name their memory object (IrMemRef: a buffer parameter, a shared
 * array or a private local slot) plus dynamic array indices (operands) and a constant
 * access path (struct fields / vector components). So there are no pointers in the IR,
 * and every buffer access keeps the identity of its buffer (for checked mode, alias
 * analysis and the backends).
 *
 * Invariants (checked by ir_verify):
 *  - every block ends with exactly one terminator, and only there; phis come first;
 *  - block->preds is exact (ir_recompute_preds after CFG edits) and phi ops match it;
 *  - operands are defined before use in a dominating position (SSA);
 *  - operand and result types follow the rules in ops.def;
 *  - after pass_inline (mandatory at every -O level), kernels contain no CALL: backends
 *    never see calls. Local slots may remain (arrays, and anything mem2reg left).
 */
#ifndef DCK_IR_H
#define DCK_IR_H

#include "base/builtins.h"
#include "base/type.h"
#include "abi/dck_abi.h"

typedef enum IrOp {
#define OP(ID, name, flags) IR_##ID,
#include "ops.def"
#undef OP
    IR_OP_COUNT
} IrOp;

enum { OPF_TERM = 1, OPF_SIDE = 2, OPF_PURE = 4 };
typedef struct IrOpInfo {
    const char *name;
    int flags;
} IrOpInfo;
extern const IrOpInfo ir_op_info[IR_OP_COUNT];

typedef struct IrInst IrInst;
typedef struct IrBlock IrBlock;
typedef struct IrFunc IrFunc;
typedef struct IrModule IrModule;

typedef enum IrMemKind {
    MEM_BUFFER, /* id = parameter index of a buffer parameter of the function; 1 index */
    MEM_SHARED, /* id = index into func->shared; one index per array dimension */
    MEM_LOCAL, /* id = index into func->locals; one index per array dimension (0 for a plain variable) */
} IrMemKind;

#define IR_MAX_PATH   8
/* A path step into a fixed array (a struct field that is one): its index is an operand. */
#define IR_PATH_INDEX (-1)
typedef struct IrMemRef {
    IrMemKind kind;
    int id;
    int nidx; /* number of leading operands that are indices (integer scalars, any width): first
                 those of the object (ir_mem_nbase: 1 for a buffer, one per array dimension of a
                 slot), then one for each IR_PATH_INDEX step of the path, in path order */
    int path[IR_MAX_PATH]; /* then the selections: a field of a struct, a component of a
                              vector (constants), or IR_PATH_INDEX into an array */
    int npath;
} IrMemRef;

/* The number of index operands that index the object itself (before its path). */
static inline int ir_mem_nbase(const IrMemRef *m)
{
    int n = m->nidx;
    for (int k = 0; k < m->npath; k++) n -= m->path[k] == IR_PATH_INDEX;
    return n;
}

struct IrInst {
    IrOp op;
    Type *type; /* result type; ty_void when the instruction yields nothing */
    int id;     /* unique in its function; the printer's %id */
    IrInst **ops;
    int nops;
    IrBlock *block;
    IrInst *prev, *next;
    Loc loc; /* source position (for checked-mode reports and line markers) */

    /* attributes, by op */
    union {
        uint64_t i; /* CONST of bool/int type: value zero-extended from its width */
        double f;   /* CONST of float type (half/float values exactly representable) */
    } imm;
    int param;          /* PARAM: parameter index */
    BuiltinId builtin;  /* WORKITEM, BUILTIN, ATOMIC */
    int dim;            /* WORKITEM */
    int idx;            /* EXTRACT, INSERT */
    int mask[4];        /* SHUFFLE */
    IrMemRef mem;       /* LOAD, STORE, ATOMIC, BUFLEN */
    IrFunc *callee;     /* CALL */
    int *bufargs;       /* CALL: for each callee buffer parameter (in callee parameter order,
                          callee->params[k].type->kind == TY_BUFFER), the caller's buffer
                          parameter index; -1 entries for non-buffer params */
    IrBlock *target[2]; /* BR, CBR */
    void *aux;          /* free for a pass's or backend's temporary use */
};

struct IrBlock {
    int id;
    IrFunc *func;
    IrInst *first, *last;
    IrBlock **preds;
    int npreds;
    void *aux;
};

typedef struct IrParam {
    const char *name;
    Type *type; /* buffers: TY_BUFFER */
    Loc loc;
} IrParam;

typedef struct IrSlot { /* a local variable / array (MEM_LOCAL) or shared array (MEM_SHARED) */
    const char *name;
    Type *type;
    Loc loc;
} IrSlot;

struct IrFunc {
    IrModule *module;
    const char *name;
    Loc loc;
    bool is_kernel;
    Type *ret; /* ty_void for kernels */
    IrParam *params;
    int nparams;
    VEC(IrBlock *) blocks; /* blocks.data[0] is the entry */
    VEC(IrSlot) locals;
    VEC(IrSlot) shared; /* kernels only */
    bool has_wg;        /* [[workgroup]] given */
    uint32_t wg[3];     /* 1 in unused dimensions */
    int next_id;        /* next value / block id */
    bool fused;         /* made by pass_fuse for a pipeline: launched by the pipeline
                                  only, not part of the module's typed API (headers) */
};

/* ---- pipelines: host programs over 64-bit registers (see dck_abi.h for the semantics) ---- */
typedef enum IrPStepKind {
    PS_CONST, /* reg[dst] = imm (int64 or double bits according to `type`) */
    PS_PARAM, /* reg[dst] = scalar parameter a */
    PS_LEN,   /* reg[dst] = element count of buffer slot a */
    PS_BIN,   /* reg[dst] = reg[a] <op> reg[b]; op is a DCK_POP_* binary op */
    PS_UN,    /* reg[dst] = <op> reg[a]; op is a DCK_POP_* unary op (neg, not, conversions) */
    PS_ALLOC, /* slot a = new temporary buffer of reg[b] elements of type `type` */
    PS_LAUNCH, /* launch kernel over global reg[global[0..ndims-1]] (local: reg[local[..]] if has_local) */
    PS_FREE,  /* slot a is dead: its memory returns to the pool */
    PS_LABEL, /* label a (jump target) */
    PS_JMP,   /* goto label a */
    PS_JZ,    /* if reg[b] == 0 goto label a */
} IrPStepKind;

typedef enum IrPArgKind {
    PA_BUF,   /* buffer slot x: parameter slots are 0..nparams-1, temporaries follow */
    PA_PARAM, /* by-value parameter x of the pipeline, passed as is */
    PA_REG,   /* register x converted to scalar `type` */
} IrPArgKind;

typedef struct IrPArg {
    IrPArgKind kind;
    int x;
    Type *type;
} IrPArg;

typedef struct IrPStep {
    IrPStepKind kind;
    int op; /* PS_BIN, PS_UN: DCK_POP_* */
    int dst, a, b;
    uint64_t imm;
    Type *type;     /* PS_CONST/PS_PARAM: register class (int or float); PS_ALLOC: element type */
    IrFunc *kernel; /* PS_LAUNCH */
    int ndims;
    int global[3], local[3];
    bool has_local;
    IrPArg *args;
    int nargs;
    Loc loc;
} IrPStep;

typedef struct IrPipeline {
    const char *name;
    Loc loc;
    IrParam *params;
    int nparams;
    VEC(IrSlot) temps; /* slot nparams + i; type = buffer type */
    VEC(IrPStep) steps;
    int nregs;
} IrPipeline;

struct IrModule {
    Arena *arena;
    const char *source_name; /* main file name, for reports */
    const char **files;      /* file table (Loc.file indexes it) */
    int nfiles;
    VEC(IrFunc *) funcs; /* kernels and helper functions, in source order */
    VEC(IrPipeline *) pipelines;
    VEC(Type *) structs;   /* struct types, in declaration order */
    bool checked;          /* --checked: backends emit bounds checks on buffer accesses */
    StrBuf *fusion_report; /* non-NULL: pass_fuse appends its report (--report=fusion) */
};

/* ---- construction (ir.c) ---- */
IrModule *ir_module_new(Arena *a);
IrFunc *ir_func_new(IrModule *m, const char *name, bool is_kernel, Type *ret, const IrParam *params,
                    int nparams);
IrBlock *ir_block_new(IrFunc *f);
/* Makes an instruction (not yet in a block). ops are copied. */
IrInst *ir_inst_new(IrFunc *f, IrOp op, Type *type, IrInst *const *ops, int nops);
void ir_append(IrBlock *b, IrInst *i); /* at the end (before nothing) */
void ir_insert_before(IrInst *pos, IrInst *i);
void ir_remove(IrInst *i); /* unlinks from its block */
/* Moves every instruction of b (phis already resolved) to the end of p, whose terminator
 * the caller has removed, and makes b's successors name p as the predecessor instead; b is
 * left empty for the caller to drop. */
void ir_merge_block_into(IrBlock *p, IrBlock *b);
void ir_set_ops(IrFunc *f, IrInst *i, IrInst *const *ops, int nops);
IrInst *ir_const_int(IrFunc *f, Type *t, uint64_t v); /* not inserted */
IrInst *ir_const_float(IrFunc *f, Type *t, double v); /* not inserted */
double ir_round_float(Type *t, double v);             /* v rounded to float type t's precision */
IrInst *ir_terminator(const IrBlock *b);              /* NULL if none yet */
int ir_succs(const IrBlock *b, IrBlock *out[2]);      /* successor count */
void ir_recompute_preds(IrFunc *f);
void ir_replace_uses(IrFunc *f, IrInst *from, IrInst *to);
void ir_remove_unreachable_blocks(IrFunc *f);          /* also fixes phis and preds */
Type *ir_mem_type(const IrFunc *f, const IrMemRef *m); /* type of the accessed element */
/* The type path step p selects in t: a struct field, a vector component, an array element
 * (IR_PATH_INDEX); NULL if p does not apply to t. */
Type *ir_path_step(Type *t, int p);
bool ir_is_cross_lane(const IrInst *i); /* subgroup ops: must not move across control flow */

/* ---- printing (ir_print.c): deterministic text for --emit=ir and the goldens ---- */
void ir_print_module(StrBuf *out, const IrModule *m);
void ir_print_func(StrBuf *out, const IrFunc *f);
/* One instruction, without its trailing newline; values and blocks are shown by their raw
 * ids (%id, b<id>), as in verifier messages. */
void ir_print_inst(StrBuf *out, const IrInst *i);

/* ---- verification (ir_verify.c): returns false and appends messages to err ---- */
bool ir_verify_module(const IrModule *m, StrBuf *err);

/* ---- dominance (ir_dom.c): immediate dominators in block->aux-free arrays ---- */
typedef struct IrDom {
    int n; /* blocks in reverse post-order */
    IrBlock **rpo;
    int *rpo_index; /* by block id; -1 = unreachable */
    int *idom;      /* by rpo index; idom[0] = 0 */
    /* the dominator tree: children of rpo index i are kids[kid_start[i] .. kid_start[i+1]-1]
     * (rpo indices, ascending); pre/post are its DFS numbers, for O(1) ir_dominates */
    int *kid_start, *kids;
    int *pre, *post;
} IrDom;
IrDom *ir_dom_compute(Arena *a, const IrFunc *f);
bool ir_dominates(const IrDom *d, const IrBlock *a, const IrBlock *b);
/* Dominance frontiers: df[i] (ndf[i] entries) are the rpo indices in the frontier of the
 * block with rpo index i, without duplicates. */
typedef struct IrDomFrontier {
    int **df;
    int *ndf;
} IrDomFrontier;
IrDomFrontier *ir_dom_frontier(Arena *a, const IrDom *d);

#endif
