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

/* A body spans from its '{' to the start of the next top-level declaration of the same
 * file (or the end of that file). Syntax errors are the errors reported while parsing. */
static bool loc_before(Loc a, Loc b) { return a.line < b.line || (a.line == b.line && a.col < b.col); }

bool fe_drop_broken_bodies(Arena *a, const DiagEngine *d, TranslationUnit *tu) {
    for (int k = 0; k < d->diags.len; k++) {
        const Diag *g = &d->diags.data[k];
        if (g->sev != DIAG_ERROR) continue;
        AstNode *owner = NULL;
        for (int t = 0; t < tu->ndecls && !owner; t++) {
            AstNode *n = tu->decls[t];
            if ((n->kind != AST_FUNC && n->kind != AST_PIPELINE) || !n->a) continue;
            Loc start = n->a->loc;
            if (start.file != g->loc.file || loc_before(g->loc, start)) continue;
            AstNode *next = NULL;
            for (int u = t + 1; u < tu->ndecls && !next; u++)
                if (tu->decls[u]->loc.file == start.file) next = tu->decls[u];
            if (!next || loc_before(g->loc, next->loc)) owner = n;
        }
        if (!owner) return false;
        if (!owner->body_dropped) {
            owner->body_dropped = true;
            owner->a = ast_new(a, AST_BLOCK, owner->a->loc);
        }
    }
    return true;
}
