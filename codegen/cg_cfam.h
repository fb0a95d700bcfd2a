/* cg_cfam.h: the C-family printer, shared by the C backend (cg_c.c, with its SIMD variants in
 * cg_simd.inc) and the C-like GPU text backends (cg_text.c, with the dialects cg_opencl.c,
 * cg_cuda.c and cg_msl.c).
 *
 * It prints what the C family spells alike: reserved words, short type names, literals, value
 * names, the expressions of arithmetic, comparisons, conversions, element-wise builtins and
 * vector element-wise operations, the statements of the pure instructions (element-wise ops,
 * builtins, vector construction, extract, insert, shuffle), memory paths, line markers, and the
 * liveness analysis every kernel starts with. A backend owns a CfPrinter, fills a CfDialect
 * with its settings and hooks (what differs: type spellings, how parameters, lengths and
 * work-item queries are read, math function names, float to int conversion, subgroups, how a
 * statement line is written), and keeps only control flow, memory accesses, kernels and
 * modules to itself.
 *
 * `half` comes in three forms (CfHalf): native (MSL), held as half but computed in float
 * (C's _Float16: every operation casts in and out), and held in float (OpenCL C, CUDA: values
 * are floats, every result rounded through dck_hround, memory holds the 16-bit bits).
 */
#ifndef DCK_CG_CFAM_H
#define DCK_CG_CFAM_H

#include "cg.h"

typedef enum CfHalf {
    CF_HALF_NATIVE, /* half is a value type with its own arithmetic */
    CF_HALF_CAST,   /* half values; each operation computes in float and casts back */
    CF_HALF_FLOAT,  /* values held in float, each result rounded to half (dck_hround) */
} CfHalf;

typedef struct CfPrinter CfPrinter;
typedef VEC(const char *) CfStrVec;
typedef VEC(Type *) CfTypeVec;

typedef struct CfDialect {
    CfHalf half;
    bool stdint_lits;        /* 64-bit and limit literals through <stdint.h> macros (C) */
    const char *i64_suffix;  /* otherwise: the suffix of 64-bit literals ("l", "ll") */
    bool cast_narrow_lits;   /* 8- and 16-bit integer literals carry a cast */
    const char *half_cast;   /* the cast before a half NaN or infinity */
    const char *half_prefix; /* before a finite half literal ("" or a cast) */
    const char *half_suffix; /* after a finite half literal ("f", "h") */
    bool nan_bits;           /* NaN and infinity as bit casts (no NAN/INFINITY macros) */
    const char *helper_qual; /* qualifiers of a helper function definition */
    bool vec_ops;            /* native element-wise operators and swizzles on float vectors */
    bool zeroed_vars;        /* every variable starts zeroed (an aggregate undef is left) */
    bool line_comment;       /* line markers as `// file:line` (else a block comment) */
    /* spelling of a type in value form (scalars, vectors, structs) */
    const char *(*type)(CfPrinter *p, const Type *ty);
    /* spelling of a type in memory form (NULL: the value form) */
    const char *(*mem_type)(CfPrinter *p, const Type *ty);
    /* the expression of an inline PARAM, BUFLEN or WORKITEM instruction */
    const char *(*inline_value)(CfPrinter *p, const IrInst *i);
    /* zero of a non-scalar value type */
    const char *(*zero_agg)(CfPrinter *p, const Type *ty);
    /* vector value from component expressions (NULL: assigned component by component) */
    const char *(*vec_make)(CfPrinter *p, const Type *v, const char *const *c);
    /* name of struct st's field k */
    const char *(*field)(CfPrinter *p, const Type *st, int k);
    /* a value of type ty read from memory form / written to memory form (NULL: unchanged) */
    const char *(*to_val)(CfPrinter *p, const Type *ty, const char *e);
    const char *(*to_mem)(CfPrinter *p, const Type *ty, const char *e);
    /* function name of a float builtin for element type e, NULL: the generic expansion */
    const char *(*mathfn)(CfPrinter *p, BuiltinId b, const Type *e);
    /* integer builtin (popcount, clz, ctz, mul_hi, rotate) on scalars of type e, NULL: generic */
    const char *(*intfn)(CfPrinter *p, BuiltinId b, const Type *e, const char *a, const char *b2);
    /* float -> int conversion (saturating, NaN -> 0) of a (value form) to integer type to */
    const char *(*f2i)(CfPrinter *p, const Type *to, const Type *from, const char *a);
    /* subgroup builtin expression; a = value (or NULL), lane = lane (or NULL) */
    const char *(*subgroup)(CfPrinter *p, BuiltinId b, const Type *ty, const char *a,
                            const char *lane);
    /* writes one statement line (no newline in text) at the current indentation */
    void (*line)(CfPrinter *p, const char *text);
} CfDialect;

struct CfPrinter {
    const CfDialect *d;
    const IrModule *m;
    void *owner;    /* the backend's context (CgC, CgText) */
    Arena *a;       /* the whole emission */
    StrBuf helpers; /* helper definitions, in first-use order */
    CfStrVec helper_keys;
    bool uses_half;
    bool checked;

    /* per kernel (cf_analyse) */
    const IrFunc *f;
    Arena *fa;
    int nid;
    uint8_t *live;     /* by id: the instruction is emitted */
    uint8_t *reach;    /* by block id */
    int *nuses;        /* by id: uses by live instructions */
    const char **name; /* by id: the expression of the value */
    uint8_t *use_param, *use_len, *use_buf, *use_local, *use_shared;
    int cur_file, cur_line; /* the last line marker */
};

extern const char cf_comps[]; /* "xyzw" */

/* ---- the module: runs emit under an internal-error scope (false with the message in err),
 * then frees the printer's arena and helpers; the struct types a module's kernels and
 * pipelines use, each after its field types (declaration order), other types to leaf */
bool cf_run(CfPrinter *p, void (*emit)(CfPrinter *p, StrBuf *out), StrBuf *out, StrBuf *err);
void cf_note_module(CfPrinter *p, CfTypeVec *structs, void (*leaf)(CfPrinter *p, Type *ty));
void cf_put_helpers(CfPrinter *p, StrBuf *out); /* the helpers section, if any */
/* the C library name of a float builtin taking and giving the element type (fabs, fmin,
 * sqrt, ...: double precision), or NULL */
const char *cf_libm_name(BuiltinId b);

/* ---- names */
bool cf_is_c_keyword(const char *s); /* C11 keywords and the macros C code may not shadow */
const char *cf_base_name(const char *path);
const char *cf_sname(CfPrinter *p, const Type *s);  /* b, i8..u64, f16..f64 */
bool cf_want_helper(CfPrinter *p, const char *key); /* true the first time: append it */

/* ---- types */
const char *cf_type(CfPrinter *p, const Type *ty); /* value form */
const char *cf_utype(CfPrinter *p, const Type *s); /* unsigned type of s's width, >= 32 bits */
const char *cf_decl(CfPrinter *p, const Type *ty, const char *name); /* "T name[a][b]" */
bool cf_is_half(const Type *s);
const char *cf_half_in(CfPrinter *p, const Type *s, const char *e);  /* an operand, computed */
const char *cf_half_out(CfPrinter *p, const Type *s, const char *e); /* a result, rounded */

/* ---- literals */
const char *cf_float_lit(CfPrinter *p, double v, int bits);
const char *cf_int_lit(CfPrinter *p, const Type *ty, uint64_t u);
const char *cf_zero(CfPrinter *p, const Type *ty);

/* ---- values and expressions */
bool cf_is_inline(const IrInst *i); /* named by an expression where used, never a variable */
const char *cf_value(CfPrinter *p, const IrInst *v);
const char *cf_comp(CfPrinter *p, const IrInst *v, int k); /* component k (scalars broadcast) */
const char *cf_bin_expr(CfPrinter *p, IrOp op, const Type *s, const char *a, const char *b);
const char *cf_cmp_expr(CfPrinter *p, IrOp op, const char *a, const char *b);
const char *cf_convert_expr(CfPrinter *p, const Type *to, const Type *from, const char *a);
const char *cf_elem_expr(CfPrinter *p, const IrInst *i, int k);

/* ---- statements */
/* one statement line (no newline in fmt) */
void cf_emit(CfPrinter *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cf_line_marker(CfPrinter *p, const IrInst *i);
/* the statements of a live pure instruction with a variable (element-wise ops, builtins,
 * select, vector, splat, extract, insert, shuffle, aggregate undef) */
void cf_emit_value(CfPrinter *p, const IrInst *i);
/* appends the path of i's memory reference to sb, from the slot or element type ty; returns
 * the type it designates */
Type *cf_mem_path(CfPrinter *p, StrBuf *sb, const IrInst *i, Type *ty);
int cf_pred_index(const IrBlock *s, const IrBlock *p, int occ); /* of the occ-th edge p -> s */

/* ---- analysis: reachable blocks, live instructions, uses, the parameters, buffers and slots
 * used; p->f, p->fa and p->checked are set. Names and variables are the backend's. */
void cf_analyse(CfPrinter *p);

#endif
