/* sema.h: internal interface between the parts of semantic analysis (lang/sema*.c).
 *
 * sema.c          entry point, scopes, declarations, statements, functions, kernels,
 *                 pipelines, the call graph (recursion) and the return-path check
 * sema_expr.c     expressions, usual arithmetic conversions, context-typed literals,
 *                 implicit conversions (AST_CAST nodes), lvalues, constant folding
 * sema_builtin.c  builtin overload resolution and vector constructors
 * sema_uniform.c  work-item uniformity (is_uniform) and the barrier() check
 *
 * An expression that failed to check gets the type sema_ty_error; every check that sees
 * it stays silent, so one mistake gives one diagnostic.
 */
#ifndef DCK_SEMA_H
#define DCK_SEMA_H

#include "ast.h"

extern Type *const sema_ty_error;
static inline bool is_err(const Type *t) { return t == NULL || t == sema_ty_error; }

typedef struct NameEnt {
    const char *name;
    Symbol *sym;
} NameEnt;

typedef struct CallEdge {
    Symbol *caller; /* SYM_FUNC of the function whose body holds the call */
    Symbol *callee; /* SYM_FUNC called */
    AstNode *call;  /* the AST_CALL */
} CallEdge;

typedef struct Sema {
    Arena *a;
    DiagEngine *d;
    TranslationUnit *tu;
    VEC(NameEnt) names;   /* scope stack: globals first, then nested blocks */
    VEC(int) marks;       /* start index of each open scope in names */
    VEC(NameEnt) structs; /* struct tags */
    VEC(CallEdge) calls;
    VEC(const char *) undeclared; /* names already reported in the current function */
    AstNode *fn;                  /* AST_FUNC or AST_PIPELINE being checked, NULL at file scope */
    Symbol *fn_sym;
    bool in_kernel, in_pipeline;
    int loop_depth;
    int block_depth; /* 1 = the top-level block of a body */
} Sema;

/* ---- sema.c ---- */
Symbol *sema_lookup(Sema *s, const char *name);
Symbol *sema_lookup_struct(Sema *s, const char *name);
/* A close visible name (is_call: a function or builtin name, else a value name) or NULL. */
const char *sema_suggest(Sema *s, const char *name, bool is_call);
/* Resolves a written type; reports unknown type names; sema_ty_error on failure. */
Type *sema_resolve_tspec(Sema *s, AstTypeSpec *ts);
/* The type a call's name designates (float4(...), int(...), a typedef name: vec(...)), or
 * NULL when the name is not a type. */
Type *sema_call_type(Sema *s, AstNode *call);
/* The AST_FUNC that declares a function symbol's parameters. */
AstNode *sema_func_decl(Symbol *fn);

/* ---- sema_expr.c ---- */
typedef enum ConvKind {
    CV_ASSIGN,   /* initialisation, assignment, argument, return: lossy conversions warn */
    CV_BINOP,    /* operand of an operator (usual arithmetic conversions) */
    CV_EXPLICIT, /* a cast or constructor argument: no warnings */
} ConvKind;

enum { LK_NONE, LK_INT, LK_FLOAT }; /* kinds of context-typed (unsuffixed) literal expressions */

typedef struct ConstVal {
    bool is_float;
    bool big_unsigned; /* integer above INT64_MAX (only an ulong) */
    int64_t i;         /* integers: the value (ulong bit pattern when big_unsigned) */
    double f;
} ConstVal;

Type *sema_expr(Sema *s, AstNode **pn); /* checks *pn; may replace it; -> type */
bool sema_convert(Sema *s, AstNode **pn, Type *to, ConvKind k);
Type *sema_expr_to(Sema *s, AstNode **pn, Type *to, ConvKind k); /* check then convert */
bool sema_cond(Sema *s, AstNode **pn, const char *what);         /* scalar condition -> bool */
int sema_lit_kind(const AstNode *n);
bool sema_fold(const AstNode *n, ConstVal *v); /* typed constant folding */
bool sema_fold_int(Sema *s, AstNode **pn, const char *what, int64_t *out); /* check + fold int */
bool sema_fits(const ConstVal *v, const Type *t);
/* Checks that *n may be written; names the culprit. atomic: the target of an atomic. */
bool sema_check_writable(Sema *s, AstNode *n, bool atomic);
AstNode *sema_make_cast(Sema *s, AstNode *n, Type *to);
Type *sema_usual(Type *a, Type *b); /* usual arithmetic conversions on scalar/vector types */
Type *sema_promote(Type *t);        /* integer promotion (element-wise) */
/* The type operands *ops[0..n-1] meet in (context-typed literals follow the typed operands;
 * keep_bool: all-bool operands stay bool); NULL if none (widths differ, not numeric). */
Type *sema_common_type(AstNode **ops[], int n, bool keep_bool);

/* ---- sema_builtin.c ---- */
Type *sema_builtin_call(Sema *s, AstNode *call, BuiltinId id);
Type *sema_ctor_call(Sema *s, AstNode *call, Type *t);

/* ---- sema_uniform.c ---- */
void sema_uniformity(Sema *s);
/* Writes a short source-like rendering of an expression ("global_id(0)", "x[i]"). */
void sema_render_expr(StrBuf *sb, const AstNode *n);
const char *sema_expr_str(Sema *s, const AstNode *n);

#endif
