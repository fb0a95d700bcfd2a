/* cg_text.h: the shared emitter of the C-like GPU text backends (OpenCL C, CUDA C, MSL).
 *
 * cg_text.c turns the IR into structured kernel text: cg_text_flow.c prints the region tree
 * of compiler/ir_cfg.h (if/else, `for (;;)`, break, continue, return, and the selector
 * `dck_sel` for the jumps those cannot express), which every dialect accepts. SSA values are
 * variables declared at the top of the kernel; phis become copies on the incoming edges.
 *
 * Expressions, the statements of pure instructions, literals, line markers and the liveness
 * analysis are the C-family printer's (cg_cfam.h), shared with the C backend: CgText owns a
 * CfPrinter whose CfDialect cg_text.c derives from the CgDialect.
 *
 * A dialect (cg_opencl.c, cg_cuda.c, cg_msl.c) supplies what differs between the targets
 * through CgDialect: type spellings, the kernel signature and prologue, work-item queries,
 * barriers, atomics, subgroup operations, math function names and the checked-mode
 * out-of-bounds report. Every target follows the DCK GPU kernel ABI (docs/backends.md).
 *
 * Values have two forms: the value form (registers) and the memory form (buffers, struct
 * fields, arrays, by-value parameters). They differ only where a target cannot compute in
 * the memory type: half on OpenCL C 1.2 and CUDA (stored as 16-bit bits, computed in
 * float), and bool in OpenCL C memory (uchar).
 */
#ifndef DCK_CG_TEXT_H
#define DCK_CG_TEXT_H

#include "cg_cfam.h"

typedef enum CgTextKind { CGT_OPENCL, CGT_CUDA, CGT_MSL } CgTextKind;

typedef enum CgSpace { CGS_GLOBAL, CGS_SHARED, CGS_PRIVATE } CgSpace;

typedef struct CgText CgText;

typedef struct CgDialect {
    const char *target; /* "opencl", "cuda", "msl" */
    CgTextKind kind;
    bool vec_ops;        /* native element-wise operators on float vectors */
    bool half_native;    /* half is a value type (else computed in float, stored as bits) */
    bool bool_mem_uchar; /* bool is stored as uchar in memory */
    /* spelling of a scalar type (value form unless mem) */
    const char *(*scalar)(CgText *t, const Type *s, bool mem);
    /* spelling of a vector type (value form unless mem) */
    const char *(*vector)(CgText *t, const Type *v, bool mem);
    /* vector value from component expressions (n = width) */
    const char *(*vec_make)(CgText *t, const Type *v, const char *const *c);
    /* zero of a non-scalar value type */
    const char *(*zero_agg)(CgText *t, const Type *ty);
    /* header, pragmas and typedefs; called after every kernel was generated */
    void (*prologue)(CgText *t, StrBuf *o);
    /* the kernel signature and opening brace, parameters unpacked, the global-size guard */
    void (*kernel_open)(CgText *t, StrBuf *o);
    const char *(*workitem)(CgText *t, BuiltinId b, int dim);
    const char *barrier; /* statement, without the newline */
    /* atomic call expression on the element `lv` (an lvalue in space sp); b2 for CAS */
    const char *(*atomic)(CgText *t, BuiltinId b, const Type *elem, CgSpace sp, const char *lv,
                          const char *a, const char *b2);
    /* subgroup builtin expression; a = value (or NULL), lane = lane (or NULL) */
    const char *(*subgroup)(CgText *t, BuiltinId b, const Type *ty, const char *a,
                            const char *lane);
    /* function name of a float builtin for element type e (NULL: generic expansion) */
    const char *(*mathfn)(CgText *t, BuiltinId b, const Type *e);
    /* integer builtin (popcount, clz, ctz, mul_hi, rotate) on scalars of type e, NULL: generic */
    const char *(*intfn)(CgText *t, BuiltinId b, const Type *e, const char *a, const char *b2);
    /* float -> int conversion of the expression a (value form float) to integer type to */
    const char *(*f2i)(CgText *t, const Type *to, const Type *from, const char *a);
    /* the statement recording an out-of-bounds access (checked mode), without newline */
    const char *(*oob_call)(CgText *t, int param, int line, bool is_write, const char *index64,
                            const char *len);
    /* a name for a buffer length / scalar parameter as used in the body */
    const char *(*param_ref)(CgText *t, int param);
    const char *(*len_ref)(CgText *t, int param);
    /* an unsupported feature in kernel f: the reason, or NULL (the kernel is then left out) */
    const char *(*unsupported)(CgText *t, const IrFunc *f);
} CgDialect;

typedef VEC(const char *) CgtStrVec;
typedef CfTypeVec CgtTypeVec;

struct CgText {
    const IrModule *m;
    const CgDialect *d;
    bool checked;
    Arena *a;     /* the whole emission */
    CfPrinter cf; /* the C-family printer (helpers, names of values, line markers) */
    CgtTypeVec
        vec_types; /* vector types used (value and memory forms), for dialects that declare them */
    CgtTypeVec struct_types;
    CgtStrVec names;          /* module-level names in use (structs, kernels) */
    const char **struct_name; /* by index in struct_types: its target name */
    bool uses_double, uses_i64_atomics, uses_i64_atomics_ext, uses_subgroups;
    bool uses_oob;

    /* per kernel */
    const IrFunc *f;
    Arena *fa;
    StrBuf *out;
    int depth;
    int nid;
    uint8_t *live, *hasvar, *reach, *need_tmp;
    const char **pname, **lenname, **localname, **sharedname; /* target names */
    uint8_t use_wi[8][3];                                     /* [builtin - BI_GLOBAL_ID][dim] */
    bool use_sg_size, use_sg_lid;
    bool has_barrier;
    bool state_machine;     /* the body is a dispatch loop (an irreducible CFG) */
    CgtStrVec kernel_names; /* names used inside the kernel */
    void *dialect_data;
};

/* The emitter entry point for a dialect (the CgTarget.emit of each text backend). */
bool cgt_emit(const CgDialect *d, const IrModule *m, const CgOptions *o, StrBuf *out, StrBuf *err);

/* Helpers for dialects. */
const char *cgt_vtype(CgText *t, const Type *ty); /* value form */
const char *cgt_mtype(CgText *t, const Type *ty); /* memory form (arrays: the element) */
const char *cgt_decl(CgText *t, const Type *ty,
                     const char *name); /* "T name[a][b]" in memory form */
const char *cgt_struct_name(CgText *t, const Type *st);
bool cgt_kernel_uses(const IrFunc *f, bool (*pred)(const IrInst *));
extern const char cgt_comps[]; /* "xyzw" */

/* Structured control flow (cg_text_flow.c): prints the region tree of the kernel body, with
 * the hooks cg_text.c gives it (a block's instructions, an edge's phi copies, the line marker
 * of a return, a value's expression). */
struct IrRegionTree;
void cgt_emit_flow(CgText *t, const struct IrRegionTree *rt);
void cgt_flow_block(CgText *t, const IrBlock *b);
void cgt_flow_edge(CgText *t, const IrBlock *b, const IrBlock *s, int occ);
void cgt_flow_return(CgText *t, const IrBlock *b);
const char *cgt_flow_value(CgText *t, const IrInst *v);

/* The module's struct declarations with layout checks (C++ static_asserts, or OpenCL C
 * negative-array typedefs when cxx_asserts is false). */
void cgt_emit_struct_decls(CgText *t, StrBuf *o, bool cxx_asserts);

#endif
