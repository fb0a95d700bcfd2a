/* fe.c: the frontend entry points (frontend.h): preprocess + parse, and --emit=tokens. */
#include "pp.h"

TranslationUnit *fe_parse(Arena *a, DiagEngine *d, const FrontendOptions *o, const char *path,
                          const char *source) {
    Pp *pp = pp_new(a, d, o);
    if (!pp_begin(pp, path, source)) return NULL;
    TranslationUnit *tu = parse_unit(a, d, pp);
    pp_end(pp);
    return tu;
}

bool fe_print_tokens(Arena *a, DiagEngine *d, const FrontendOptions *o, const char *path,
                     const char *source, StrBuf *out) {
    int before = d->nerrors;
    Pp *pp = pp_new(a, d, o);
    if (!pp_begin(pp, path, source)) return false;
    for (;;) {
        Token t;
        pp_next(pp, &t);
        if (t.kind == TK_EOF) break;
        const char *file = t.loc.file >= 0 ? d->files.data[t.loc.file].path : "?";
        sb_printf(out, "%s:%d:%d %s '%.*s'\n", file, t.loc.line, t.loc.col, tok_class(t.kind), t.len, t.text);
    }
    pp_end(pp);
    return d->nerrors == before;
}
