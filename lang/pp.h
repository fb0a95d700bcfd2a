/* pp.h: tokens, the flex lexer and the preprocessor (internal to lang/).
 *
 * lexer.l turns one file's text into Tokens; pp.c drives one lexer per open file,
 * executes directives, expands macros and hands the resulting stream to the parser
 * (parser.y) and to --emit=tokens (fe.c). A Token's loc is where it is spelled in its
 * file, except for tokens produced by a macro's replacement list (also # and ## results),
 * which carry the loc of the outermost macro use; tokens of a macro argument keep their
 * own. Token text points into the file text kept by the DiagEngine, the lexer's spliced
 * copy of it, or the Arena (never freed before the Arena).
 */
#ifndef DCK_PP_H
#define DCK_PP_H

#include "frontend.h"
#include "token.h"

typedef struct Token {
    int kind; /* TokenKind, or a character for single-character punctuators */
    Loc loc;
    const char *text; /* spelling (not NUL-terminated) */
    int len;
    bool space;       /* whitespace or a comment before it (stringizing, ## and #define) */
    bool noexpand;    /* names a macro that must never expand here (C's "painted blue") */
    uint8_t numerr;   /* NUMERR_*: a malformed number, reported when it reaches the parser */
    const char *name; /* interned spelling: identifiers and keywords */
    uint64_t ival;    /* TK_INT_LIT value; TK_TRUE = 1 */
    double fval;      /* TK_FLOAT_LIT value */
    int suffix;       /* literal suffix flags LIT_* (ast.h) */
    Type *type;       /* TK_TYPE: the scalar/vector type; TK_VOID: ty_void */
    int offset;       /* byte offset of the spelling in its file (-1: macro/synthetic) */
    bool bol;         /* first token on its line (directive detection) */
    bool lex_error;   /* a lexical error was reported since the previous token */
    bool unmatched;   /* closing bracket without a matching opener (set by the parser glue) */
} Token;

/* ---- lexer.l ---- */
enum {
    NUMERR_NONE,
    NUMERR_INVALID,     /* "invalid numeric literal" */
    NUMERR_OCTAL,       /* "octal literal ... is not supported" */
    NUMERR_INT_RANGE,   /* "integer literal ... is too large" */
    NUMERR_FLOAT_RANGE, /* "floating literal ... is out of range" */
};

typedef struct KwEntry {
    const char *name; /* interned */
    int kind;
    Type *type;
} KwEntry;

/* What every lexer of one parse shares. quiet suppresses diagnostics (skipped #if groups). */
typedef struct LexEnv {
    Arena *arena;
    DiagEngine *diag;
    KwEntry kw[256]; /* open-addressed on the interned pointer */
    bool quiet;
    bool defer_numbers; /* malformed numbers set Token.numerr instead of an error */
} LexEnv;

typedef struct Lexer Lexer;
void lex_env_init(LexEnv *env, Arena *a, DiagEngine *d);
const KwEntry *lex_keyword(const LexEnv *env, const char *interned);
Lexer *lex_open(LexEnv *env, int file, const char *text, size_t len);
void lex_next(Lexer *lx, Token *t); /* TK_EOF at the end, forever */
void lex_close(Lexer *lx);
/* Until the end of the current line, return its newline as TK_EOL (directive lines). */
void lex_directive_line(Lexer *lx);
/* The text the lexer scans (the file text without backslash-newlines): Token.offset and
 * Token.text of its tokens refer to it. */
const char *lex_text(const Lexer *lx, size_t *len);
/* Reports the error recorded in t->numerr (if any) at t->loc. */
void lex_report_number(LexEnv *env, const Token *t);

/* ---- pp.c ---- */
typedef struct Pp Pp;
Pp *pp_new(Arena *a, DiagEngine *d, const FrontendOptions *o);
/* Opens the main file (from source when non-NULL) and the command-line macros.
 * Returns false (with a diagnostic) if the main file cannot be read. */
bool pp_begin(Pp *pp, const char *path, const char *source);
void pp_next(Pp *pp, Token *t); /* TK_EOF at the end; then closes every lexer */
void pp_end(Pp *pp);            /* releases the lexers of an abandoned stream */

/* --emit=tokens KIND of a token kind. */
const char *tok_class(int kind);

/* ---- parser.y ---- */
TranslationUnit *parse_unit(Arena *a, DiagEngine *d, Pp *pp);

#endif
