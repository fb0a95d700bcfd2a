/* parser.y: the DCK grammar (docs/language.md), a pure bison parser building the AST (ast.h).
 *
 * Tokens come from the preprocessor (pp_next) through dcklex below. Conventions:
 *  - Loc of a node: the operator for operators, the name for declarations and calls,
 *    the keyword for statements (ast.h).
 *  - `T a = 1, b;` gives one AST_DECL per declarator, as consecutive items of the block.
 *  - The IDENT IDENT ambiguity (`P x;` vs an expression) is resolved by one token of
 *    lookahead: an identifier followed by an identifier is a type (a struct name).
 *  - Typedef names: the classic lexer hack. The parser keeps the names declared in each open
 *    scope (typedef names, and the ordinary names that may shadow them, as in C) and dcklex
 *    hands an identifier that names a visible typedef over as TYPEDEF_NAME. A name becomes
 *    visible when its declarator is reduced; a scope closes when its '}' (or the end of a
 *    `for` statement, or of a function) is reduced. Where that happens after the parser has
 *    already read the next token, RECLASSIFY() looks that token up again.
 *  - Type keywords: char short int long float double signed unsigned come as CTYPE and
 *    combine as in C (`unsigned long long int`, in any order; cwords_add); the other type
 *    keywords (uint, float4, i32, size_t...) stand alone as TYPE.
 *  - Casts are `( type ) unary` with a type keyword or a typedef name; `(P)x` with a struct
 *    name P is not a cast (struct casts are meaningless), so a parenthesized identifier is
 *    always an expression.
 * Error recovery: `error` rules resynchronize at ';', '}' and at a following '{' block,
 * and inside parentheses at ')', so one mistake costs one statement. Messages are built
 * from the expected-token set (parse.error custom, exact with LAC) in C terms; an error
 * right after a lexical error, at the same place as the previous one, or at the end of
 * file after an earlier error is not reported (it is almost always a consequence).
 */
%code requires {
#include "pp.h"
typedef struct Parser Parser;
typedef struct NodeList {
    AstNode **data;
    int len, cap;
} NodeList;
typedef struct Span {
    Loc begin, end; /* first and last token */
} Span;
/* A token's semantic value: the part of Token the actions use (kept small: it is copied
 * on every shift and reduction). */
typedef struct PTok {
    Loc loc;
    int kind;
    int suffix;
    const char *name;
    Type *type;
    union {
        uint64_t ival;
        double fval;
    };
} PTok;
typedef struct DeclSpec {
    AstTypeSpec *ts;
    bool shared;
    Loc loc;
} DeclSpec;
/* The C type keywords, which combine (`unsigned long int`). */
enum { CW_CHAR, CW_SHORT, CW_INT, CW_LONG, CW_FLOAT, CW_DOUBLE, CW_SIGNED, CW_UNSIGNED, CW_COUNT };
/* A C spelling such as `unsigned long int` (counts of each keyword), as far as it spells a
 * type. */
typedef struct CWords {
    PTok first;
    int count[CW_COUNT];
    Type *type; /* the type of the keywords so far (of the valid ones, after an error) */
    bool bad;   /* a keyword that does not combine was reported */
} CWords;
/* The type of a typedef: a written type, or a struct defined in place (def != NULL). */
typedef struct TdefSpec {
    AstTypeSpec *ts;
    AstNode *def;
} TdefSpec;
}

%code provides {
TranslationUnit *parse_unit(Arena *a, DiagEngine *d, Pp *pp);
}

%code {
#include <stdio.h>
#include <string.h>

/* A name declared in an open scope: a typedef name, or an ordinary name that hides one. */
typedef struct PName {
    const char *name;
    bool tdef;
} PName;

struct Parser {
    Arena *a;
    DiagEngine *d;
    Pp *pp;
    NodeList decls;
    Token cur, prev;          /* the lookahead and the token before it */
    int cur_sym, prev_sym;    /* their bison token numbers (TYPEDEF_NAME, CTYPE are the parser's) */
    VEC(Token) open;          /* unclosed brackets, innermost last (for messages) */
    Loc last_err;             /* of the last syntax error reported */
    int nsyntax;              /* syntax errors reported */
    VEC(PName) names;         /* names declared in the open scopes, innermost last */
    VEC(int) marks;           /* where each open scope starts in names; file scope is names[0..] */
};

static int dcklex(DCKSTYPE *lval, DCKLTYPE *lloc, Parser *P);
static void dckerror(DCKLTYPE *loc, Parser *P, const char *msg);

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                                      \
    do {                                                                                 \
        if (N) {                                                                         \
            (Cur).begin = YYRHSLOC(Rhs, 1).begin;                                        \
            (Cur).end = YYRHSLOC(Rhs, N).end;                                            \
        } else {                                                                         \
            (Cur).begin = (Cur).end = YYRHSLOC(Rhs, 0).end;                              \
        }                                                                                \
    } while (0)

static AstNode *mk(Parser *P, AstKind k, Loc loc) { return ast_new(P->a, k, loc); }

static AstNode *mk2(Parser *P, AstKind k, Loc loc, int op, AstNode *a, AstNode *b) {
    AstNode *n = ast_new(P->a, k, loc);
    n->op = op;
    n->a = a;
    n->b = b;
    return n;
}

static void list_add(Parser *P, NodeList *l, AstNode *n) {
    if (n) vec_push(P->a, l, n);
}

/* A list for a node: never NULL (an empty brace list is distinct from none). */
static AstNode **list_take(Parser *P, const NodeList *l, int *n) {
    *n = l->len;
    return l->data ? l->data : arena_alloc(P->a, sizeof(AstNode *));
}

static AstTypeSpec *tspec_builtin(Parser *P, const PTok *t) {
    AstTypeSpec *ts = arena_alloc(P->a, sizeof *ts);
    ts->loc = t->loc;
    ts->builtin = t->type;
    return ts;
}

static AstTypeSpec *tspec_named(Parser *P, const PTok *t) {
    AstTypeSpec *ts = arena_alloc(P->a, sizeof *ts);
    ts->loc = t->loc;
    ts->name = t->name;
    return ts;
}

static AstTypeSpec *tspec_copy(Parser *P, const AstTypeSpec *s) {
    AstTypeSpec *ts = arena_alloc(P->a, sizeof *ts);
    *ts = *s;
    return ts;
}

static AstNode *named(Parser *P, AstKind k, const PTok *t) {
    AstNode *n = mk(P, k, t->loc);
    n->name = t->name;
    return n;
}

static int compound_op(int tk) {
    switch (tk) {
    case TK_ADD_ASSIGN: return '+';
    case TK_SUB_ASSIGN: return '-';
    case TK_MUL_ASSIGN: return '*';
    case TK_DIV_ASSIGN: return '/';
    case TK_MOD_ASSIGN: return '%';
    case TK_AND_ASSIGN: return '&';
    case TK_OR_ASSIGN: return '|';
    case TK_XOR_ASSIGN: return '^';
    case TK_SHL_ASSIGN: return OP_SHL;
    case TK_SHR_ASSIGN: return OP_SHR;
    default: return '=';
    }
}

/* ---- scopes of names, for the lexer hack ---- */

/* Opens a scope; returns the depth to give scope_close() to close it (and any scope an error
 * recovery left open inside it). */
static int scope_open(Parser *P) {
    int depth = P->marks.len;
    vec_push(P->a, &P->marks, P->names.len);
    return depth;
}

static void scope_close(Parser *P, int depth) {
    while (P->marks.len > depth) P->names.len = P->marks.data[--P->marks.len];
}

static void declare_name(Parser *P, const char *name, bool tdef) {
    PName e = {name, tdef};
    vec_push(P->a, &P->names, e);
}

/* The bison token of an identifier: TYPEDEF_NAME where the innermost declaration of the name
 * is a typedef. */
static int ident_token(const Parser *P, const char *name) {
    for (int i = P->names.len - 1; i >= 0; i--)
        if (P->names.data[i].name == name) return P->names.data[i].tdef ? P_TYPEDEF_NAME : P_IDENT;
    return P_IDENT;
}

/* In an action that changed the visible names: the lookahead, if already read, is looked up
 * again (a `for` body or an if without else may have read past the end of a scope). */
#define RECLASSIFY()                                                                     \
    do {                                                                                 \
        if ((yychar == P_IDENT || yychar == P_TYPEDEF_NAME) &&                           \
            ident_token(P, yylval.tok.name) != yychar) {                                 \
            yychar = P->cur_sym = ident_token(P, yylval.tok.name);                       \
            YY_LAC_DISCARD("RECLASSIFY");                                                \
        }                                                                                \
    } while (0)

/* ---- C type spellings ---- */

/* Which C type keyword a type name is (CW_*), or -1 for the others (uint, float4, i32...). */
static int cword(const char *name) {
    static const char *const words[CW_COUNT] = {"char",   "short",  "int",    "long",
                                                "float",  "double", "signed", "unsigned"};
    for (int i = 0; i < CW_COUNT; i++)
        if (strcmp(name, words[i]) == 0) return i;
    return -1;
}

/* The type n C keywords with these counts spell, in any order as in C; NULL if none.
 * char is DCK's signed 8-bit char; long and long long are both 64-bit. */
static Type *ctype_of(const int *c, int n) {
    int sign = c[CW_SIGNED] + c[CW_UNSIGNED];
    bool u = c[CW_UNSIGNED] > 0;
    if (sign > 1 || c[CW_CHAR] > 1 || c[CW_SHORT] > 1 || c[CW_INT] > 1 || c[CW_LONG] > 2 ||
        c[CW_FLOAT] > 1 || c[CW_DOUBLE] > 1)
        return NULL;
    if (c[CW_FLOAT] || c[CW_DOUBLE]) return n == 1 ? ty_scalar(c[CW_FLOAT] ? SC_FLOAT : SC_DOUBLE) : NULL;
    if (c[CW_CHAR]) return n == 1 + sign ? ty_scalar(u ? SC_UCHAR : SC_CHAR) : NULL;
    if (c[CW_SHORT]) return c[CW_LONG] ? NULL : ty_scalar(u ? SC_USHORT : SC_SHORT);
    if (c[CW_LONG]) return ty_scalar(u ? SC_ULONG : SC_LONG);
    return ty_scalar(u ? SC_UINT : SC_INT);
}

/* An error that stands for the syntax errors its line would cause next. */
static void error_as_syntax(Parser *P, Loc at, const char *msg) {
    P->nsyntax++;
    P->last_err = at;
    diag_error(P->d, at, "%s", msg);
}

/* Adds keyword t to the C spelling w. A keyword that does not combine is reported when it is
 * read (before LAC sees the token after it), once; the rest of the spelling is ignored. */
static void cwords_add(Parser *P, CWords *w, const PTok *t) {
    if (w->bad) return;
    int k = cword(t->name), n = 0;
    for (int i = 0; i < CW_COUNT; i++) n += w->count[i];
    if (n == 0) w->first = *t;
    w->count[k]++;
    Type *u = ctype_of(w->count, n + 1);
    if (u) {
        w->type = u;
        return;
    }
    w->bad = true;
    int *c = w->count;
    const char *first = w->first.name;
    if (n == 1 && (c[CW_FLOAT] || c[CW_DOUBLE]) && (c[CW_SIGNED] || c[CW_UNSIGNED])) {
        error_as_syntax(P, w->first.loc, arena_printf(P->a,
                        "'%s %s' is not a valid type: only char, short, int and long can be signed or unsigned",
                        first, t->name));
    } else if (n == 1 && c[CW_DOUBLE] && c[CW_LONG]) {
        error_as_syntax(P, w->first.loc, arena_printf(P->a,
                        "'%s %s' is not supported; use 'double' (64-bit)", first, t->name));
        w->type = ty_scalar(SC_DOUBLE);
    } else if (c[CW_LONG] > 2) {
        error_as_syntax(P, w->first.loc, "'long long long' is too long");
    } else { /* as for `int i8`: the keyword was meant as a name */
        error_as_syntax(P, t->loc, arena_printf(P->a,
                        "expected identifier, but '%s' is a type name (choose another name)",
                        t->name));
    }
}

static AstTypeSpec *tspec_typedef(Parser *P, const PTok *t) {
    AstTypeSpec *ts = tspec_named(P, t);
    ts->is_typedef = true;
    return ts;
}

/* `name dims` of a declarator (at most 3 dimensions) into node n. */
static void set_dims(Parser *P, AstNode *n, const NodeList *dims, Loc at) {
    if (dims->len > 3) diag_error(P->d, at, "too many array dimensions (at most 3)");
    for (int i = 0; i < dims->len && i < 3; i++) n->dims[i] = dims->data[i];
    n->ndims = dims->len < 3 ? dims->len : 3;
}

/* Applies the declaration specifier to each declarator. */
static void finish_decls(Parser *P, const DeclSpec *ds, NodeList *l) {
    for (int i = 0; i < l->len; i++) {
        l->data[i]->tspec = i == 0 ? ds->ts : tspec_copy(P, ds->ts);
        l->data[i]->is_shared = ds->shared;
    }
}
}

%define api.prefix {dck}
%define api.pure full
%define api.token.prefix {P_}
%define api.location.type {Span}
%define parse.error custom
%define parse.lac full
%locations
%param {Parser *P}
%expect 0

%union {
    PTok tok;
    AstNode *node;
    AstTypeSpec *ts;
    NodeList list;
    DeclSpec dspec;
    CWords cwords;
    TdefSpec tdef;
    int depth;
}

%token <tok> IDENT "identifier" INT_LIT "integer literal" FLOAT_LIT "floating literal"
%token <tok> STRING "string literal" TYPE "type name"
%token <tok> TRUE "true" FALSE "false" VOID "void" KERNEL "kernel" PIPELINE "pipeline"
%token <tok> STRUCT "struct" TYPEDEF "typedef" CONST "const" SHARED "shared" IF "if" ELSE "else" FOR "for"
%token <tok> WHILE "while" DO "do" BREAK "break" CONTINUE "continue" RETURN "return"
%token <tok> INC "++" DEC "--" SHL "<<" SHR ">>" LE "<=" GE ">=" EQ "==" NE "!="
%token <tok> ANDAND "&&" OROR "||"
%token <tok> ADD_ASSIGN "+=" SUB_ASSIGN "-=" MUL_ASSIGN "*=" DIV_ASSIGN "/=" MOD_ASSIGN "%="
%token <tok> AND_ASSIGN "&=" OR_ASSIGN "|=" XOR_ASSIGN "^=" SHL_ASSIGN "<<=" SHR_ASSIGN ">>="
%token <tok> LAUNCH_OPEN "<<<" LAUNCH_CLOSE ">>>" ATTR_OPEN "[["
%token <tok> EOL "end of line" /* never reaches the parser (directives only) */
/* made by dcklex, not by the lexer: an identifier that names a typedef, and a type keyword
   that combines with others as in C (char short int long float double signed unsigned) */
%token <tok> TYPEDEF_NAME "typedef name" CTYPE "C type keyword"
%token <tok> '(' ')' '[' ']' '{' '}' ';' ',' '.' '?' ':' '+' '-' '*' '/' '%' '&' '|' '^'
%token <tok> '!' '~' '<' '>' '='

%type <node> top func kernel pipeline struct_def const_def param field_decl stmt block
%type <node> expr assign cond binary unary postfix primary declarator decl_head for_init
%type <node> expr_opt paren_cond tdef_name
%type <list> params param_list fields field_names items decl_stmt declarators
%type <list> args arg_list init_list dims attrs attr typedef_decl tdef_names
%type <ts> base_type param_type ret_type type_name
%type <dspec> decl_spec
%type <cwords> ctype_words
%type <tdef> tdef_type
%type <tok> assign_op name
%type <depth> scope_paren block_open

/* if/else: an `else` binds to the nearest `if` */
%precedence LOWER_THAN_ELSE
%precedence ELSE

%left OROR
%left ANDAND
%left '|'
%left '^'
%left '&'
%left EQ NE
%left '<' '>' LE GE
%left SHL SHR
%left '+' '-'
%left '*' '/' '%'

%start unit

%%

/* unit: (top | typedef_decl)* */
unit
    : %empty
    | unit top                      { list_add(P, &P->decls, $2); scope_close(P, 0); RECLASSIFY(); }
    | unit typedef_decl {
          for (int i = 0; i < $2.len; i++) list_add(P, &P->decls, $2.data[i]);
      }
    ;

top
    : struct_def
    | const_def
    | func
    | kernel
    | pipeline
    /* top: ';' (a stray semicolon, as C compilers accept) */
    | ';'                           { $$ = NULL; }
    /* top: error ';' | error '}' | error block */
    | error ';'                     { $$ = NULL; yyerrok; }
    | error '}'                     { $$ = NULL; yyerrok; }
    | error block                   { $$ = NULL; yyerrok; }
    ;

/* ---- declarations ---- */

/* name: IDENT | TYPEDEF_NAME  (a declared name may hide a typedef name of an outer scope) */
name
    : IDENT
    | TYPEDEF_NAME
    ;

/* struct_def: 'struct' name '{' field_decl* '}' ';' */
struct_def
    : STRUCT name '{' fields '}' ';' {
          $$ = named(P, AST_STRUCT, &$2);
          $$->list = list_take(P, &$4, &$$->nlist);
      }
    /* struct_def: 'struct' name '{' field_decl* error '}'  (a following ';' is a stray one) */
    | STRUCT name '{' fields error '}' {
          yyerrok;
          $$ = named(P, AST_STRUCT, &$2);
          $$->list = list_take(P, &$4, &$$->nlist);
      }
    ;

fields
    : %empty                        { $$ = (NodeList){0}; }
    /* fields: fields base_type field_decl (',' field_decl)* ';' */
    | fields base_type field_names ';' {
          $$ = $1;
          for (int i = 0; i < $3.len; i++) {
              $3.data[i]->tspec = i == 0 ? $2 : tspec_copy(P, $2);
              list_add(P, &$$, $3.data[i]);
          }
      }
    /* fields: fields error ';' */
    | fields error ';'              { $$ = $1; yyerrok; }
    ;

field_names
    : field_decl                    { $$ = (NodeList){0}; list_add(P, &$$, $1); }
    | field_names ',' field_decl    { $$ = $1; list_add(P, &$$, $3); }
    ;

/* field_decl: name ('[' expr ']')*  (a fixed-array field) */
field_decl
    : name dims                     { $$ = named(P, AST_PARAM, &$1); set_dims(P, $$, &$2, @2.begin); }
    ;

/* typedef_decl: 'typedef' tdef_type tdef_name (',' tdef_name)* ';'
   (one AST_TYPEDEF per name, after the AST_STRUCT of a struct defined in place) */
typedef_decl
    : TYPEDEF tdef_type tdef_names ';' {
          $$ = (NodeList){0};
          if ($2.def) {
              if (!$2.def->name) $2.def->name = $2.ts->name = $3.data[0]->name;
              list_add(P, &$$, $2.def);
          }
          for (int i = 0; i < $3.len; i++) {
              $3.data[i]->tspec = i == 0 ? $2.ts : tspec_copy(P, $2.ts);
              list_add(P, &$$, $3.data[i]);
          }
      }
    ;

/* tdef_type: 'const'? base_type | 'struct' name? '{' field_decl* '}' */
tdef_type
    : base_type                     { $$ = (TdefSpec){$1, NULL}; }
    | CONST base_type               { $2->is_const = true; $2->loc = $1.loc; $$ = (TdefSpec){$2, NULL}; }
    | STRUCT '{' fields '}' {
          AstNode *d = mk(P, AST_STRUCT, $1.loc);
          d->list = list_take(P, &$3, &d->nlist);
          $$ = (TdefSpec){tspec_named(P, &$1), d};
          $$.ts->name = NULL; /* the struct takes the first typedef name */
          $$.ts->is_tag = true;
      }
    | STRUCT name '{' fields '}' {
          AstNode *d = named(P, AST_STRUCT, &$2);
          d->list = list_take(P, &$4, &d->nlist);
          $$ = (TdefSpec){tspec_named(P, &$2), d};
          $$.ts->loc = $1.loc;
          $$.ts->is_tag = true;
      }
    ;

tdef_names
    : tdef_name                     { $$ = (NodeList){0}; list_add(P, &$$, $1); }
    | tdef_names ',' tdef_name      { $$ = $1; list_add(P, &$$, $3); }
    ;

/* tdef_name: name ('[' expr ']')*  (visible from the next token on) */
tdef_name
    : name dims {
          $$ = named(P, AST_TYPEDEF, &$1);
          set_dims(P, $$, &$2, @2.begin);
          declare_name(P, $1.name, true);
          RECLASSIFY();
      }
    ;

/* const_def: 'const' base_type name '=' expr ';' */
const_def
    : CONST base_type name '=' expr ';' {
          $$ = named(P, AST_CONST, &$3);
          $$->tspec = $2;
          $2->is_const = true;
          $2->loc = $1.loc;
          $$->a = $5;
          declare_name(P, $3.name, false);
      }
    ;

/* scope_paren: '('  (opens the scope of a parameter list, or of a `for`) */
scope_paren
    : '('                           { $$ = scope_open(P); }
    ;

/* func: ret_type IDENT '(' params ')' (block | ';') */
func
    : ret_type IDENT scope_paren params ')' block {
          scope_close(P, $3);
          $$ = named(P, AST_FUNC, &$2);
          $$->tspec = $1;
          $$->list = list_take(P, &$4, &$$->nlist);
          $$->a = $6;
          declare_name(P, $2.name, false);
      }
    | ret_type IDENT scope_paren params ')' ';' {
          scope_close(P, $3);
          $$ = named(P, AST_FUNC, &$2);
          $$->tspec = $1;
          $$->list = list_take(P, &$4, &$$->nlist);
          declare_name(P, $2.name, false);
      }
    ;

/* kernel: attr* 'kernel' 'void' IDENT '(' params ')' (block | ';') */
kernel
    : attrs KERNEL VOID IDENT scope_paren params ')' block {
          scope_close(P, $5);
          $$ = named(P, AST_FUNC, &$4);
          $$->is_kernel = true;
          $$->tspec = tspec_builtin(P, &$3);
          $$->list = list_take(P, &$6, &$$->nlist);
          $$->a = $8;
          for (int i = 0; i < $1.len && i < 3; i++) $$->wg_expr[i] = $1.data[i];
          $$->nwg = $1.len < 3 ? $1.len : 3;
          $$->has_wg = $1.data != NULL;
          declare_name(P, $4.name, false);
      }
    | attrs KERNEL VOID IDENT scope_paren params ')' ';' {
          scope_close(P, $5);
          $$ = named(P, AST_FUNC, &$4);
          $$->is_kernel = true;
          $$->tspec = tspec_builtin(P, &$3);
          $$->list = list_take(P, &$6, &$$->nlist);
          for (int i = 0; i < $1.len && i < 3; i++) $$->wg_expr[i] = $1.data[i];
          $$->nwg = $1.len < 3 ? $1.len : 3;
          $$->has_wg = $1.data != NULL;
          declare_name(P, $4.name, false);
      }
    ;

/* attrs: attr*  (the arguments of the [[workgroup(...)]] among them; data == NULL: none) */
attrs
    : %empty                        { $$ = (NodeList){0}; }
    | attrs attr {
          $$ = $1;
          if ($2.data) {
              if ($1.data) diag_error(P->d, @2.begin, "duplicate [[workgroup]] attribute");
              else $$ = $2;
          }
      }
    ;

/* attr: '[[' IDENT '(' args ')' ']' ']' */
attr
    : ATTR_OPEN IDENT '(' args ')' ']' ']' {
          $$ = (NodeList){0};
          if (strcmp($2.name, "workgroup") != 0) {
              diag_warning(P->d, $2.loc, "unknown attribute '%s' ignored", $2.name);
          } else if ($4.len < 1 || $4.len > 3) {
              diag_error(P->d, $2.loc, "[[workgroup]] takes 1 to 3 sizes, not %d", $4.len);
          } else {
              $$ = $4;
          }
      }
    /* attr: '[[' IDENT ']' ']' */
    | ATTR_OPEN IDENT ']' ']' {
          $$ = (NodeList){0};
          if (strcmp($2.name, "workgroup") == 0) diag_error(P->d, $2.loc, "[[workgroup]] needs a size: [[workgroup(X)]]");
          else diag_warning(P->d, $2.loc, "unknown attribute '%s' ignored", $2.name);
      }
    ;

/* pipeline: 'pipeline' IDENT '(' params ')' block */
pipeline
    : PIPELINE IDENT scope_paren params ')' block {
          scope_close(P, $3);
          $$ = named(P, AST_PIPELINE, &$2);
          $$->list = list_take(P, &$4, &$$->nlist);
          $$->a = $6;
          declare_name(P, $2.name, false);
      }
    ;

/* params: (empty) | 'void' | param (',' param)* */
params
    : %empty                        { $$ = (NodeList){0}; }
    | VOID                          { $$ = (NodeList){0}; }
    | param_list
    | error                         { $$ = (NodeList){0}; }
    ;

param_list
    : param                         { $$ = (NodeList){0}; list_add(P, &$$, $1); }
    | param_list ',' param          { $$ = $1; list_add(P, &$$, $3); }
    ;

/* param: param_type name */
param
    : param_type name {
          $$ = named(P, AST_PARAM, &$2);
          $$->tspec = $1;
          declare_name(P, $2.name, false);
          RECLASSIFY();
      }
    ;

/* param_type: 'const'? base_type ('[' ']')? */
param_type
    : base_type
    | CONST base_type               { $$ = $2; $$->is_const = true; $$->loc = $1.loc; }
    | base_type '[' ']'             { $$ = $1; $$->is_buffer = true; }
    | CONST base_type '[' ']'       { $$ = $2; $$->is_const = true; $$->is_buffer = true; $$->loc = $1.loc; }
    ;

/* ret_type: 'void' | base_type */
ret_type
    : VOID                          { $$ = tspec_builtin(P, &$1); }
    | base_type
    ;

/* base_type: type_name | IDENT (a struct name) | 'struct' name */
base_type
    : type_name
    | IDENT                         { $$ = tspec_named(P, &$1); }
    | STRUCT name                   { $$ = tspec_named(P, &$2); $$->loc = $1.loc; $$->is_tag = true; }
    ;

/* type_name: TYPE | CTYPE+ | TYPEDEF_NAME  (what a cast takes) */
type_name
    : TYPE                          { $$ = tspec_builtin(P, &$1); }
    | ctype_words                   { $$ = tspec_builtin(P, &$1.first); $$->builtin = $1.type; }
    | TYPEDEF_NAME                  { $$ = tspec_typedef(P, &$1); }
    ;

/* ctype_words: CTYPE+  (`unsigned long int`) */
ctype_words
    : CTYPE                         { $$ = (CWords){0}; cwords_add(P, &$$, &$1); }
    | ctype_words CTYPE             { $$ = $1; cwords_add(P, &$$, &$2); }
    ;

/* ---- statements ---- */

/* block: '{' item* '}' */
block
    : block_open items '}' {
          scope_close(P, $1);
          RECLASSIFY();
          $$ = mk(P, AST_BLOCK, @1.begin);
          $$->list = list_take(P, &$2, &$$->nlist);
      }
    /* block: '{' item* error '}' */
    | block_open items error '}' {
          yyerrok;
          scope_close(P, $1);
          RECLASSIFY();
          $$ = mk(P, AST_BLOCK, @1.begin);
          $$->list = list_take(P, &$2, &$$->nlist);
      }
    ;

block_open
    : '{'                           { $$ = scope_open(P); }
    ;

items
    : %empty                        { $$ = (NodeList){0}; }
    /* item: stmt */
    | items stmt                    { $$ = $1; list_add(P, &$$, $2); }
    /* item: decl_stmt (one node per declarator) */
    | items decl_stmt {
          $$ = $1;
          for (int i = 0; i < $2.len; i++) list_add(P, &$$, $2.data[i]);
      }
    /* item: typedef_decl (sema rejects a struct defined in a function) */
    | items typedef_decl {
          $$ = $1;
          for (int i = 0; i < $2.len; i++) list_add(P, &$$, $2.data[i]);
      }
    ;

/* decl_stmt: decl_spec declarator (',' declarator)* ';' */
decl_stmt
    : decl_spec declarators ';'     { $$ = $2; finish_decls(P, &$1, &$$); }
    ;

/* decl_spec: 'shared'? 'const'? base_type */
decl_spec
    : base_type                     { $$ = (DeclSpec){$1, false, $1->loc}; }
    | CONST base_type               { $2->is_const = true; $2->loc = $1.loc; $$ = (DeclSpec){$2, false, $1.loc}; }
    | SHARED base_type              { $$ = (DeclSpec){$2, true, $1.loc}; }
    | SHARED CONST base_type        { $3->is_const = true; $$ = (DeclSpec){$3, true, $1.loc}; }
    ;

declarators
    : declarator                    { $$ = (NodeList){0}; list_add(P, &$$, $1); }
    | declarators ',' declarator    { $$ = $1; list_add(P, &$$, $3); }
    ;

/* declarator: decl_head ('=' (assign | '{' init_list '}'))? */
declarator
    : decl_head
    | decl_head '=' assign          { $$ = $1; $$->a = $3; }
    | decl_head '=' '{' init_list '}' { $$ = $1; $$->list = list_take(P, &$4, &$$->nlist); }
    ;

/* decl_head: name ('[' expr ']')*  (the name is visible in its initializer, as in C) */
decl_head
    : name dims {
          $$ = named(P, AST_DECL, &$1);
          set_dims(P, $$, &$2, @2.begin);
          declare_name(P, $1.name, false);
          RECLASSIFY();
      }
    ;

dims
    : %empty                        { $$ = (NodeList){0}; }
    | dims '[' expr ']'             { $$ = $1; list_add(P, &$$, $3); }
    ;

/* init_list: (assign (',' assign)* ','?)? */
init_list
    : %empty                        { $$ = (NodeList){0}; }
    | arg_list
    | arg_list ','
    ;

stmt
    : block
    /* stmt: expr ';' */
    | expr ';'                      { $$ = mk(P, AST_EXPR, @1.begin); $$->a = $1; }
    /* stmt: ';' */
    | ';'                           { $$ = mk(P, AST_EMPTY, $1.loc); }
    /* stmt: 'if' '(' expr ')' stmt */
    | IF paren_cond stmt %prec LOWER_THAN_ELSE {
          $$ = mk(P, AST_IF, $1.loc);
          $$->a = $2;
          $$->b = $3;
      }
    /* stmt: 'if' '(' expr ')' stmt 'else' stmt */
    | IF paren_cond stmt ELSE stmt {
          $$ = mk(P, AST_IF, $1.loc);
          $$->a = $2;
          $$->b = $3;
          $$->c = $5;
      }
    /* stmt: 'while' '(' expr ')' stmt */
    | WHILE paren_cond stmt {
          $$ = mk(P, AST_WHILE, $1.loc);
          $$->a = $2;
          $$->b = $3;
      }
    /* stmt: 'do' stmt 'while' '(' expr ')' ';' */
    | DO stmt WHILE paren_cond ';' {
          $$ = mk(P, AST_DO, $1.loc);
          $$->b = $2;
          $$->a = $4;
      }
    /* stmt: 'for' '(' for_init ';' expr? ';' expr? ')' stmt  (a scope of its own) */
    | FOR scope_paren for_init ';' expr_opt ';' expr_opt ')' stmt {
          scope_close(P, $2);
          RECLASSIFY();
          $$ = mk(P, AST_FOR, $1.loc);
          $$->a = $3;
          $$->b = $5;
          $$->c = $7;
          $$->d = $9;
      }
    /* stmt: 'break' ';' */
    | BREAK ';'                     { $$ = mk(P, AST_BREAK, $1.loc); }
    /* stmt: 'continue' ';' */
    | CONTINUE ';'                  { $$ = mk(P, AST_CONTINUE, $1.loc); }
    /* stmt: 'return' expr? ';' */
    | RETURN ';'                    { $$ = mk(P, AST_RETURN, $1.loc); }
    | RETURN expr ';'               { $$ = mk(P, AST_RETURN, $1.loc); $$->a = $2; }
    /* stmt: error ';' | error block */
    | error ';'                     { $$ = NULL; yyerrok; }
    | error block                   { $$ = $2; yyerrok; }
    ;

/* paren_cond: '(' expr ')' */
paren_cond
    : '(' expr ')'                  { $$ = $2; }
    ;

/* for_init: (empty) | expr | decl_spec declarator (one variable) */
for_init
    : %empty                        { $$ = NULL; }
    | expr                          { $$ = mk(P, AST_EXPR, @1.begin); $$->a = $1; }
    | decl_spec declarators {
          finish_decls(P, &$1, &$2);
          if ($2.len > 1)
              diag_error(P->d, $2.data[1]->loc, "only one variable can be declared in a 'for' initializer");
          $$ = $2.data[0];
      }
    ;

expr_opt
    : %empty                        { $$ = NULL; }
    | expr
    ;

/* ---- expressions ---- */

/* expr: assign (DCK has no comma operator) */
expr
    : assign
    ;

/* assign: cond | unary assign_op assign  (right associative) */
assign
    : cond
    | unary assign_op assign        { $$ = mk2(P, AST_ASSIGN, $2.loc, compound_op($2.kind), $1, $3); }
    ;

assign_op
    : '=' | ADD_ASSIGN | SUB_ASSIGN | MUL_ASSIGN | DIV_ASSIGN | MOD_ASSIGN
    | AND_ASSIGN | OR_ASSIGN | XOR_ASSIGN | SHL_ASSIGN | SHR_ASSIGN
    ;

/* cond: binary | binary '?' expr ':' cond */
cond
    : binary
    | binary '?' expr ':' cond {
          $$ = mk(P, AST_COND, $2.loc);
          $$->a = $1;
          $$->b = $3;
          $$->c = $5;
      }
    ;

/* binary: unary | binary OP binary, C precedence and left associativity */
binary
    : unary
    | binary OROR binary            { $$ = mk2(P, AST_BINARY, $2.loc, OP_OROR, $1, $3); }
    | binary ANDAND binary          { $$ = mk2(P, AST_BINARY, $2.loc, OP_ANDAND, $1, $3); }
    | binary '|' binary             { $$ = mk2(P, AST_BINARY, $2.loc, '|', $1, $3); }
    | binary '^' binary             { $$ = mk2(P, AST_BINARY, $2.loc, '^', $1, $3); }
    | binary '&' binary             { $$ = mk2(P, AST_BINARY, $2.loc, '&', $1, $3); }
    | binary EQ binary              { $$ = mk2(P, AST_BINARY, $2.loc, OP_EQ, $1, $3); }
    | binary NE binary              { $$ = mk2(P, AST_BINARY, $2.loc, OP_NE, $1, $3); }
    | binary '<' binary             { $$ = mk2(P, AST_BINARY, $2.loc, '<', $1, $3); }
    | binary '>' binary             { $$ = mk2(P, AST_BINARY, $2.loc, '>', $1, $3); }
    | binary LE binary              { $$ = mk2(P, AST_BINARY, $2.loc, OP_LE, $1, $3); }
    | binary GE binary              { $$ = mk2(P, AST_BINARY, $2.loc, OP_GE, $1, $3); }
    | binary SHL binary             { $$ = mk2(P, AST_BINARY, $2.loc, OP_SHL, $1, $3); }
    | binary SHR binary             { $$ = mk2(P, AST_BINARY, $2.loc, OP_SHR, $1, $3); }
    | binary '+' binary             { $$ = mk2(P, AST_BINARY, $2.loc, '+', $1, $3); }
    | binary '-' binary             { $$ = mk2(P, AST_BINARY, $2.loc, '-', $1, $3); }
    | binary '*' binary             { $$ = mk2(P, AST_BINARY, $2.loc, '*', $1, $3); }
    | binary '/' binary             { $$ = mk2(P, AST_BINARY, $2.loc, '/', $1, $3); }
    | binary '%' binary             { $$ = mk2(P, AST_BINARY, $2.loc, '%', $1, $3); }
    ;

unary
    : postfix
    /* unary: ('-' | '+' | '!' | '~') unary */
    | '-' unary                     { $$ = mk2(P, AST_UNARY, $1.loc, '-', $2, NULL); }
    | '+' unary                     { $$ = mk2(P, AST_UNARY, $1.loc, '+', $2, NULL); }
    | '!' unary                     { $$ = mk2(P, AST_UNARY, $1.loc, '!', $2, NULL); }
    | '~' unary                     { $$ = mk2(P, AST_UNARY, $1.loc, '~', $2, NULL); }
    /* unary: ('++' | '--') unary */
    | INC unary                     { $$ = mk2(P, AST_INCDEC, $1.loc, OP_INC, $2, NULL); }
    | DEC unary                     { $$ = mk2(P, AST_INCDEC, $1.loc, OP_DEC, $2, NULL); }
    /* unary: '(' type_name ')' unary */
    | '(' type_name ')' unary {
          $$ = mk2(P, AST_CAST, $1.loc, 0, $4, NULL);
          $$->tspec = $2;
      }
    ;

postfix
    : primary
    /* postfix: postfix '[' expr ']' */
    | postfix '[' expr ']'          { $$ = mk2(P, AST_INDEX, $2.loc, 0, $1, $3); }
    /* postfix: postfix '.' name */
    | postfix '.' name              { $$ = mk2(P, AST_MEMBER, $3.loc, 0, $1, NULL); $$->name = $3.name; }
    /* postfix: postfix ('++' | '--') */
    | postfix INC                   { $$ = mk2(P, AST_INCDEC, $2.loc, OP_INC, $1, NULL); $$->is_postfix = true; }
    | postfix DEC                   { $$ = mk2(P, AST_INCDEC, $2.loc, OP_DEC, $1, NULL); $$->is_postfix = true; }
    ;

primary
    /* primary: IDENT */
    : IDENT                         { $$ = named(P, AST_IDENT, &$1); }
    /* primary: INT_LIT | FLOAT_LIT | 'true' | 'false' */
    | INT_LIT                       { $$ = mk(P, AST_INT_LIT, $1.loc); $$->lit.i = $1.ival; $$->op = $1.suffix; }
    | FLOAT_LIT                     { $$ = mk(P, AST_FLOAT_LIT, $1.loc); $$->lit.f = $1.fval; $$->op = $1.suffix; }
    | TRUE                          { $$ = mk(P, AST_BOOL_LIT, $1.loc); $$->lit.i = 1; }
    | FALSE                         { $$ = mk(P, AST_BOOL_LIT, $1.loc); $$->lit.i = 0; }
    /* primary: '(' expr ')' */
    | '(' expr ')'                  { $$ = $2; }
    /* primary: IDENT '(' args ')' */
    | IDENT '(' args ')' {
          $$ = named(P, AST_CALL, &$1);
          $$->list = list_take(P, &$3, &$$->nlist);
      }
    /* primary: (TYPE | CTYPE) '(' args ')'  (vector constructor or functional cast: a call
       named after the type) */
    | TYPE '(' args ')' {
          $$ = named(P, AST_CALL, &$1);
          $$->list = list_take(P, &$3, &$$->nlist);
      }
    | CTYPE '(' args ')' {
          $$ = named(P, AST_CALL, &$1);
          $$->list = list_take(P, &$3, &$$->nlist);
      }
    /* primary: TYPEDEF_NAME '(' args ')'  (the same through a typedef: tspec says which) */
    | TYPEDEF_NAME '(' args ')' {
          $$ = named(P, AST_CALL, &$1);
          $$->tspec = tspec_typedef(P, &$1);
          $$->list = list_take(P, &$3, &$$->nlist);
      }
    /* primary: IDENT '<<<' assign '>>>' '(' args ')' */
    | IDENT LAUNCH_OPEN assign LAUNCH_CLOSE '(' args ')' {
          $$ = named(P, AST_LAUNCH, &$1);
          $$->a = $3;
          $$->list = list_take(P, &$6, &$$->nlist);
      }
    /* primary: IDENT '<<<' assign ',' assign '>>>' '(' args ')' */
    | IDENT LAUNCH_OPEN assign ',' assign LAUNCH_CLOSE '(' args ')' {
          $$ = named(P, AST_LAUNCH, &$1);
          $$->a = $3;
          $$->b = $5;
          $$->list = list_take(P, &$8, &$$->nlist);
      }
    ;

/* args: (assign (',' assign)*)? */
args
    : %empty                        { $$ = (NodeList){0}; }
    | arg_list
    ;

arg_list
    : assign                        { $$ = (NodeList){0}; list_add(P, &$$, $1); }
    | arg_list ',' assign           { $$ = $1; list_add(P, &$$, $3); }
    ;

%%

/* ---- the token stream ---- */

static int to_bison(int kind) {
    static const int map[] = {
#define TOK(ID, spelling, cls) [TK_##ID - TK_FIRST_MULTI] = P_##ID,
#include "tokens.def"
#undef TOK
    };
    if (kind == TK_EOF) return P_YYEOF;
    if (kind > TK_FIRST_MULTI && kind < TK_COUNT) return map[kind - TK_FIRST_MULTI];
    return kind;
}

static int closer_of(int open) { return open == '(' ? ')' : open == '[' ? ']' : '}'; }

/* Keeps the stack of open brackets up to date (only used to word messages). */
static void track_brackets(Parser *P, Token *t) {
    switch (t->kind) {
    case '(': case '[': case '{':
        vec_push(P->a, &P->open, *t);
        break;
    case TK_ATTR_OPEN: {
        Token b = *t;
        b.kind = '[';
        vec_push(P->a, &P->open, b);
        b.loc.col++;
        vec_push(P->a, &P->open, b);
        break;
    }
    case ')': case ']': case '}': {
        int i = P->open.len - 1;
        while (i >= 0 && closer_of(P->open.data[i].kind) != t->kind) i--;
        if (i < 0) t->unmatched = true;
        else P->open.len = i;
        break;
    }
    }
}

static int dcklex(DCKSTYPE *lval, DCKLTYPE *lloc, Parser *P) {
    Token t;
    bool lexerr = false;
    for (;;) {
        pp_next(P->pp, &t);
        lexerr |= t.lex_error;
        if (t.kind == '#') {
            diag_error(P->d, t.loc, "stray '#' in program");
            lexerr = true;
        } else if (t.kind == TK_STRING) {
            diag_error(P->d, t.loc, "string literals are only allowed in #include");
            lexerr = true;
        } else {
            break;
        }
    }
    t.lex_error = lexerr;
    track_brackets(P, &t);
    int sym = to_bison(t.kind);
    if (t.kind == TK_IDENT) sym = ident_token(P, t.name);
    else if (t.kind == TK_TYPE && cword(t.name) >= 0) sym = P_CTYPE;
    P->prev = P->cur;
    P->prev_sym = P->cur_sym;
    P->cur = t;
    P->cur_sym = sym;
    lval->tok.loc = t.loc;
    lval->tok.kind = t.kind;
    lval->tok.suffix = t.suffix;
    lval->tok.name = t.name;
    lval->tok.type = t.type;
    if (t.kind == TK_FLOAT_LIT) lval->tok.fval = t.fval;
    else lval->tok.ival = t.ival;
    lloc->begin = lloc->end = t.loc;
    return sym;
}

static void dckerror(DCKLTYPE *loc, Parser *P, const char *msg) {
    diag_error(P->d, loc->begin, "%s (the program is nested too deeply)", msg);
}

/* ---- syntax error messages ---- */

/* How a symbol is named in a message: 'kw', ';' or a description. */
static const char *sym_desc(yysymbol_kind_t s) {
    switch (s) {
    case YYSYMBOL_YYEOF: return "end of file";
    case YYSYMBOL_TYPEDEF_NAME:
    case YYSYMBOL_CTYPE: return "type name";
#define TOK(ID, spelling, cls) \
    case YYSYMBOL_##ID: return strcmp(#cls, "PUNCT") && strcmp(#cls, "KEYWORD") && strcmp(#cls, "BOOL") ? spelling : "'" spelling "'";
#include "tokens.def"
#undef TOK
    default: return yysymbol_name(s);
    }
}

#define SYM(c) ((yysymbol_kind_t)YYTRANSLATE(c))

static bool expects(const yysymbol_kind_t *exp, int n, yysymbol_kind_t s) {
    for (int i = 0; i < n; i++)
        if (exp[i] == s) return true;
    return false;
}

static const char *where(Parser *P, Loc l, Loc at) {
    if (l.file == at.file) return arena_printf(P->a, "%d:%d", l.line, l.col);
    return arena_printf(P->a, "%s:%d:%d", P->d->files.data[l.file].path, l.line, l.col);
}

static bool same_loc(Loc a, Loc b) { return a.file == b.file && a.line == b.line && a.col == b.col; }

static int yyreport_syntax_error(const yypcontext_t *ctx, Parser *P) {
    yysymbol_kind_t exp[64];
    int n = yypcontext_expected_tokens(ctx, exp, 64);
    if (n < 0) n = 0;
    const Token *la = &P->cur;
    Loc at = la->loc;
    bool eof = la->kind == TK_EOF;
    if (la->lex_error) return 0;
    if (eof && P->nsyntax > 0) return 0;

    const char *before = eof ? "end of file" : arena_printf(P->a, "'%.*s'", la->len, la->text);
    bool want_expr = expects(exp, n, YYSYMBOL_INT_LIT);
    bool want_semi = expects(exp, n, SYM(';')) && !want_expr; /* not at a statement start */
    /* the innermost bracket still open before the lookahead */
    const Token *open = NULL;
    int oi = P->open.len - 1;
    if (la->kind == '(' || la->kind == '[' || la->kind == '{') oi--;
    if (la->kind == TK_ATTR_OPEN) oi -= 2;
    if (oi >= 0) open = &P->open.data[oi];
    int closer = open ? closer_of(open->kind) : 0;
    bool want_closer = open && expects(exp, n, (yysymbol_kind_t)YYTRANSLATE(closer));
    bool toplevel_kw = la->kind == TK_KERNEL || la->kind == TK_PIPELINE || la->kind == TK_STRUCT ||
                       la->kind == TK_ATTR_OPEN;
    char *msg;

    if (la->kind == TK_ELSE && !want_semi) {
        msg = arena_printf(P->a, "unexpected 'else' without a matching 'if'");
    } else if (la->unmatched) {
        msg = arena_printf(P->a, "unmatched '%.*s'", la->len, la->text);
    } else if (P->prev_sym == P_TYPEDEF_NAME && expects(exp, n, SYM('(')) &&
               P->cur_sym != P_IDENT && P->cur_sym != P_TYPEDEF_NAME) {
        /* a typedef name where a value was meant: it began a declaration (`T = 1;`) or, in an
           expression, a constructor call T(...) */
        at = P->prev.loc;
        if (expects(exp, n, YYSYMBOL_IDENT))
            msg = arena_printf(P->a, "'%.*s' is a type name, not a variable", P->prev.len,
                               P->prev.text);
        else
            msg = arena_printf(P->a, "unexpected type name '%.*s': expected expression",
                               P->prev.len, P->prev.text);
    } else if (want_closer && (eof || toplevel_kw)) {
        msg = arena_printf(P->a, "expected '%c' to close '%c' opened at %s", closer, open->kind,
                           where(P, open->loc, at));
    } else if (want_semi) {
        const Token *pv = &P->prev;
        const char *what;
        if (expects(exp, n, SYM('+'))) what = "expression";
        else if (expects(exp, n, SYM(',')) && expects(exp, n, SYM('='))) what = "declaration";
        else if (pv->kind == '}' && n == 1) what = "struct definition";
        else what = arena_printf(P->a, "'%.*s'", pv->len, pv->text);
        msg = arena_printf(P->a, "expected ';' after %s", what);
        /* point just past the previous token */
        if (pv->loc.file >= 0 && pv->kind != TK_EOF && pv->loc.line > 0) {
            at = pv->loc;
            at.col += pv->len;
            if (pv->offset < 0) at.col = pv->loc.col; /* from a macro: stay at the use */
        }
    } else if (want_closer && (!want_expr || la->kind == ';' || la->kind == '}')) {
        msg = arena_printf(P->a, "expected '%c' to close '%c' opened at %s", closer, open->kind,
                           where(P, open->loc, at));
    } else if (want_expr && P->cur_sym == P_TYPEDEF_NAME) {
        msg = arena_printf(P->a, "unexpected type name %s: expected expression", before);
    } else if (want_expr) {
        msg = arena_printf(P->a, "expected expression before %s", before);
    } else if (expects(exp, n, YYSYMBOL_IDENT) && expects(exp, n, YYSYMBOL_TYPE)) {
        msg = arena_printf(P->a, "expected a type or identifier before %s", before);
    } else if (expects(exp, n, YYSYMBOL_IDENT) && la->kind == TK_TYPE) {
        msg = arena_printf(P->a, "expected identifier, but %s is a type name (choose another name)", before);
    } else if (expects(exp, n, YYSYMBOL_IDENT) && la->len > 1 && la->text &&
               ((la->text[0] >= 'a' && la->text[0] <= 'z') || la->text[0] == '_') && la->kind != TK_INT_LIT &&
               la->kind != TK_FLOAT_LIT) {
        msg = arena_printf(P->a, "expected identifier, but %s is a keyword", before);
    } else if (expects(exp, n, YYSYMBOL_IDENT)) {
        msg = arena_printf(P->a, "expected identifier before %s", before);
    } else if (n > 0 && n <= 4) {
        StrBuf sb = {0};
        sb_puts(&sb, "expected ");
        for (int i = 0; i < n; i++) {
            if (i) sb_puts(&sb, i == n - 1 ? " or " : ", ");
            sb_puts(&sb, sym_desc(exp[i]));
        }
        sb_printf(&sb, " before %s", before);
        msg = arena_strdup(P->a, sb.data);
        sb_free(&sb);
    } else {
        msg = arena_printf(P->a, "unexpected %s", before);
    }
    if (P->nsyntax > 0 && same_loc(at, P->last_err)) return 0;
    /* one mistake, one error: the rest of the line after a syntax error is mostly its echo */
    if (P->nsyntax > 0 && at.file == P->last_err.file && at.line == P->last_err.line) return 0;
    P->nsyntax++;
    P->last_err = at;
    diag_error(P->d, at, "%s", msg);
    return 0;
}

TranslationUnit *parse_unit(Arena *a, DiagEngine *d, Pp *pp) {
    Parser *P = arena_alloc(a, sizeof *P);
    P->a = a;
    P->d = d;
    P->pp = pp;
    P->cur.kind = TK_EOF;
    P->cur.loc = (Loc){-1, 0, 0};
    P->prev = P->cur;
    dckparse(P);
    TranslationUnit *tu = arena_alloc(a, sizeof *tu);
    tu->decls = list_take(P, &P->decls, &tu->ndecls);
    return tu;
}
