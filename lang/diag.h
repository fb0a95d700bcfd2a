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

typedef struct DiagEngine {
    Arena *arena;
    VEC(SourceFile) files;
    VEC(Diag) diags;
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
/* Renders every collected diagnostic, in order of emission, to out. */
void diag_render_text(const DiagEngine *d, StrBuf *out, bool color);
void diag_render_json(const DiagEngine *d, StrBuf *out);

#endif
