/* frontend.h: the entry points of lang/: preprocess + parse, print tokens, analyse.
 *
 * parse: the preprocessor (pp.c) reads the main file and its #includes through the flex
 * lexer (lexer.l) and hands macro-expanded tokens, each with the Loc of its spelling in
 * the original file (the use site for tokens coming from a macro expansion), to the bison
 * parser (parser.y), which builds the AST. Errors are collected in the DiagEngine and the
 * parser recovers at ';' and '}' so that independent errors are all reported.
 * sema: name resolution, types and conversions, layout, const-buffer writes, builtin
 * overloads, recursion (naming the cycle) and barrier uniformity. Returns false on errors.
 */
#ifndef DCK_FRONTEND_H
#define DCK_FRONTEND_H

#include "ast.h"

typedef struct FrontendOptions {
    const char **include_dirs; /* -I, searched in order after the including file's folder */
    int ninclude_dirs;
    const char *stdlib_dir; /* folder that holds the dck/ modules for #include <dck/...> */
    const char **defines;   /* -D: "NAME" (= 1) or "NAME=VALUE", in command-line order */
    int ndefines;
    const char **undefs; /* -U NAME, applied after every -D */
    int nundefs;
} FrontendOptions;

/* Parses `path` (contents from `source` when non-NULL, else read from disk). Returns the
 * translation unit (possibly partial) or NULL when the file could not be read; errors are
 * in d. Every file opened is added to d's file table: that table is the dependency list
 * written by -MD. */
TranslationUnit *fe_parse(Arena *a, DiagEngine *d, const FrontendOptions *o, const char *path,
                          const char *source);

/* After syntax errors: empties the body of every function, kernel and pipeline that holds
 * one (setting body_dropped), so that sema can still check the rest of the file. Returns
 * false when some syntax error lies outside a body (a broken declaration, struct or
 * signature): then names may be missing and sema would only cascade, so it must not run. */
bool fe_drop_broken_bodies(Arena *a, const DiagEngine *d, TranslationUnit *tu);

/* --emit=tokens: the preprocessed token stream, one token per line:
 *     file:line:col KIND 'spelling'
 * Returns false if the preprocessor reported errors. */
bool fe_print_tokens(Arena *a, DiagEngine *d, const FrontendOptions *o, const char *path,
                     const char *source, StrBuf *out);

/* Semantic analysis; annotates the AST in place. */
bool sema_check(Arena *a, DiagEngine *d, TranslationUnit *tu);

#endif
