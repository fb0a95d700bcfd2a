/* diag.h: source locations and user diagnostics.
 *
 * A Loc names a file by its index in the DiagEngine's file table (every file the
 * preprocessor opened, in opening order), with a 1-based line and column (column counts
 * bytes; a tab counts as one). Diagnostics are collected, not printed as they come; the
 * driver renders them at the end as text:
 *     file:line:col: error: message
 *         source line
 *         ^
 * or as JSON, one object per line:
 *     {"file":"k.dck","line":3,"col":5,"severity":"error","message":"..."}
 * Notes attach to the preceding error/warning ("note:" lines).
 *
 * The preprocessor records each place where a macro expansion starts (the use site that
 * every token of the replacement list carries, diag_expansion): an error or warning at such
 * a place gets a "note: in expansion of macro 'NAME'" at the macro's definition.
 */
#ifndef DCK_DIAG_H
#define DCK_DIAG_H

#include "base/util.h"

typedef enum DiagSeverity { DIAG_NOTE, DIAG_WARNING, DIAG_ERROR } DiagSeverity;

typedef struct Diag {
    DiagSeverity sev;
    Loc loc;
    char *msg;
} Diag;

typedef struct SourceFile {
    const char *path; /* as it should be printed */
    const char *text; /* whole contents, NUL-terminated */
    size_t len;
} SourceFile;

typedef struct DiagExpansion {
    Loc use;          /* where the macro was used (file -1: an empty slot) */
    const char *name; /* the macro */
    Loc def;          /* its name in the #define */
} DiagExpansion;

typedef struct DiagEngine {
    Arena *arena;
    VEC(SourceFile) files;
    VEC(Diag) diags;
    DiagExpansion *exp; /* open addressing on `use`; capacity a power of two */
    int nexp, expcap;
    int nerrors, nwarnings;
    bool werror;       /* -Werror: warnings count as errors */
    bool no_warnings;  /* -w */
    int max_errors;    /* stop collecting after this many errors (default 50) */
    bool last_dropped; /* the last error/warning was dropped (-w, too many): so are its notes */
} DiagEngine;

void diag_init(DiagEngine *d, Arena *a);
int diag_add_file(DiagEngine *d, const char *path, const char *text, size_t len); /* -> index */
void diag_error(DiagEngine *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_warning(DiagEngine *d, Loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_note(DiagEngine *d, Loc loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool diag_has_errors(const DiagEngine *d); /* errors, or warnings under -Werror */
/* A macro expansion starts at `use` (the first recorded one for a place stays). */
void diag_expansion(DiagEngine *d, Loc use, const char *macro, Loc def);
/* Renders every collected diagnostic, in order of emission, to out. */
void diag_render_text(const DiagEngine *d, StrBuf *out, bool color);
void diag_render_json(const DiagEngine *d, StrBuf *out);

#endif
