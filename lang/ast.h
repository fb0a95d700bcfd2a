/* ast.h: the abstract syntax tree of a .dck translation unit.
 *
 * One generic node type (chibicc style): the meaning of the child slots a, b, c, d and of
 * `list` depends on the kind and is written next to each kind. The parser fills the syntax
 * fields; sema fills the fields marked "sema:" and inserts implicit conversions as
 * AST_CAST nodes with `implicit` set, so that after a successful sema every expression's
 * `type` is exactly the type its consumer needs (lowering never converts implicitly).
 * All nodes live in the compilation's Arena.
 */
#ifndef DCK_AST_H
#define DCK_AST_H

#include "base/builtins.h"
#include "base/type.h"
#include "diag.h"

typedef struct AstNode AstNode;
typedef struct Symbol Symbol;

typedef enum AstKind {
    /* ---- expressions ---- */
    AST_INT_LIT,   /* lit.i; suffix flags in `op` (LIT_U, LIT_L); sema: type */
    AST_FLOAT_LIT, /* lit.f; suffix in `op` (LIT_F, LIT_H, LIT_D, or 0 = context-typed) */
    AST_BOOL_LIT,  /* lit.i is 0 or 1 */
    AST_IDENT,     /* name; sema: sym */
    AST_UNARY,     /* op (one of '-', '+', '!', '~'), a */
    AST_INCDEC,    /* op (OP_INC/OP_DEC), is_postfix, a (an lvalue) */
    AST_BINARY,    /* op (see AstOp: '+', OP_EQ, OP_ANDAND, ...), a, b */
    AST_ASSIGN, /* op ('=' or the binary operator of a compound assignment '+'...), a = lvalue, b.
                      sema: for compound assignment, b is already converted to a's type when
                      the operation happens in a's type; `optype` is the type the operation is
                      done in (C rules), lowering converts a to optype, operates, converts back */
    AST_COND,   /* a ? b : c */
    AST_CALL,   /* name, list = arguments. sema: one of
                        builtin != BI_NONE      builtin call (type-resolved, args converted)
                        sym->kind == SYM_FUNC   user function call
                        ctor != NULL            vector constructor float4(...): ctor = result type
                                                (args are scalars or vectors of ctor's element type
                                                whose widths add up to n, or one scalar = splat) */
    AST_INDEX,  /* a[b] (buffer, fixed array, or vector element with constant or variable b) */
    AST_MEMBER, /* a.name. sema: field >= 0 for a struct field, else swizzle: nswz, swz[] */
    AST_CAST,   /* (tspec) a; sema: type. implicit = inserted by sema */
    AST_LAUNCH, /* pipelines only: name<<<a (global), b (local, optional)>>>(list) */

    /* ---- statements ---- */
    AST_BLOCK, /* list */
    AST_DECL,  /* local variable: tspec, name, dims/ndims (fixed arrays), a = init (optional)
                     or list = brace initializer; is_shared for `shared` arrays; sema: sym.
                     In pipelines with a runtime dimension, this declares a temporary buffer. */
    AST_EXPR,  /* a */
    AST_IF,    /* if (a) b else c */
    AST_FOR,   /* for (a; b; c) d  (a: AST_DECL, AST_EXPR or NULL; b, c optional) */
    AST_WHILE, /* while (a) b */
    AST_DO,    /* do b while (a) */
    AST_BREAK,
    AST_CONTINUE,
    AST_RETURN, /* a optional */
    AST_EMPTY,  /* ; */

    /* ---- top level (list of the translation unit) ---- */
    AST_FUNC,     /* tspec = result, name, list = params (AST_PARAM), a = body (NULL: prototype).
                     is_kernel for `kernel`; wg[3]/has_wg from [[workgroup(...)]] (sema folds
                     the constant expressions in wg_expr[] into wg[]) */
    AST_PIPELINE, /* name, list = params, a = body */
    AST_PARAM,    /* tspec, name; sema: sym */
    AST_STRUCT,   /* name, list = fields (AST_PARAM nodes: tspec, name, dims/ndims for a
                     fixed-array field); sema: type. In a block only by mistake (sema says so) */
    AST_TYPEDEF,  /* typedef: name, tspec, dims/ndims (an array type); sema: type, sym.
                     At file scope or as a block item */
    AST_CONST,    /* file-scope `const T name = expr;`: tspec, name, a; sema: sym, value folded */
} AstKind;

/* Operator codes stored in AstNode.op (independent of the parser's token numbers):
 * single-character operators are their character ('+', '-', '*', '/', '%', '<', '>', '&',
 * '|', '^', '!', '~', '='); the others are these. For AST_ASSIGN, op is '=' or the binary
 * operator of the compound assignment ('+' for +=, OP_SHL for <<=). The parser never stores its own token numbers in op. */
enum AstOp {
    OP_EQ = 256, /* == */
    OP_NE,       /* != */
    OP_LE,       /* <= */
    OP_GE,       /* >= */
    OP_ANDAND,   /* && */
    OP_OROR,     /* || */
    OP_SHL,      /* << */
    OP_SHR,      /* >> */
    OP_INC,      /* ++ (AST_INCDEC) */
    OP_DEC,      /* -- (AST_INCDEC) */
};

/* literal suffix flags */
enum { LIT_U = 1, LIT_L = 2, LIT_F = 4, LIT_H = 8, LIT_D = 16 };

/* A type as written: a scalar/vector keyword (or C keywords: `unsigned long`), a typedef
 * name or a struct name, maybe `const`, maybe `[]`. */
typedef struct AstTypeSpec {
    Loc loc;
    Type *builtin;    /* scalar/vector/void spelled with keywords, else NULL */
    const char *name; /* when builtin == NULL: a typedef name, or a struct name */
    bool is_typedef;  /* name is a typedef name */
    bool is_tag;      /* written `struct name` */
    bool is_const;    /* `const` written (or part of the typedef) */
    bool is_buffer;   /* `T[]` */
    Type *resolved;   /* sema: the type (buffer type for T[]) */
} AstTypeSpec;

struct AstNode {
    AstKind kind;
    Loc loc; /* the construct's position: operator for binary ops, name for decls */
    int op;
    AstNode *a, *b, *c, *d;
    AstNode **list;
    int nlist;
    const char *name; /* interned */
    union {
        uint64_t i;
        double f;
    } lit;
    AstTypeSpec *tspec;
    AstNode *dims[3]; /* AST_DECL: array dimensions (constant, or a runtime size in pipelines) */
    int ndims;
    bool is_postfix;     /* AST_INCDEC */
    bool is_shared;      /* AST_DECL */
    bool is_kernel;      /* AST_FUNC */
    bool body_dropped;   /* AST_FUNC/AST_PIPELINE: the body had a syntax error and was replaced by
                            an empty block, so that sema checks the rest of the file without
                            cascading (set by fe_drop_broken_bodies) */
    bool has_wg;         /* AST_FUNC */
    AstNode *wg_expr[3]; /* AST_FUNC: [[workgroup(...)]] arguments as written */
    int nwg;

    /* ---- sema results ---- */
    Type *type;    /* expressions: the type of the value; decls: the declared type */
    Type *optype;  /* AST_ASSIGN compound: the type the operation is done in */
    bool implicit; /* AST_CAST inserted by sema */
    bool is_lvalue;
    bool is_uniform;   /* value is the same for every work-item of a group */
    Symbol *sym;       /* AST_IDENT, AST_DECL, AST_PARAM, AST_CALL (user function), AST_FUNC... */
    BuiltinId builtin; /* AST_CALL */
    Type *ctor;        /* AST_CALL: vector constructor */
    int field;         /* AST_MEMBER: struct field index, or -1 for a swizzle */
    int swz[4], nswz;  /* AST_MEMBER swizzle components (0..3) */
    uint32_t wg[3];    /* AST_FUNC: folded work-group size (1 where not given) */
    int8_t lit_kind;   /* sema's cache of sema_lit_kind() + 1; 0 = not computed */
};

typedef enum SymKind {
    SYM_VAR,      /* local variable (incl. fixed arrays) */
    SYM_SHARED,   /* shared array of a kernel */
    SYM_PARAM,    /* parameter of a function, kernel or pipeline */
    SYM_CONST,    /* file-scope const: value in `value` (folded; an AST_*_LIT node) */
    SYM_FUNC,     /* function or kernel: decl = the AST_FUNC with the body when defined */
    SYM_PIPELINE, /* pipeline */
    SYM_STRUCT,   /* struct type */
    SYM_TEMP,     /* pipeline temporary buffer */
    SYM_TYPEDEF,  /* typedef name: type (NULL while it names a struct not yet defined) */
} SymKind;

struct Symbol {
    SymKind kind;
    const char *name;
    Type *type;
    AstNode *decl;
    AstNode *value; /* SYM_CONST: folded literal */
    int index;      /* SYM_PARAM: parameter position */
    void *lower;    /* free for lowering's use (e.g. its variable slot) */
};

typedef struct TranslationUnit {
    AstNode **decls; /* top-level nodes in source order */
    int ndecls;
} TranslationUnit;

/* ast.c */
AstNode *ast_new(Arena *a, AstKind kind, Loc loc);
const char *ast_kind_name(AstKind k);
const char *ast_op_name(int op); /* spelling of an AstOp or single-character operator: "<=", "+" */
/* --emit=ast: a readable, deterministic indented dump (with types once sema has run). */
void ast_print(StrBuf *out, const TranslationUnit *tu);

#endif
