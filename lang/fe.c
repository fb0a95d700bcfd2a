/* fe.c: the frontend entry points (frontend.h): preprocess + parse, and --emit=tokens. */
#include "pp.h"

/* Every later phase walks the tree recursively, so its depth is bounded here (the parser's
 * own stack limit does not bound left-associative chains such as 1 + 1 + ... + 1). */
enum { MAX_NESTING = 10000 };

/* Returns true (after one error) when some path below n is deeper than MAX_NESTING;
 * the recursion itself never goes deeper than that. */
static bool too_deep(DiagEngine *d, const AstNode *n, int depth)
{
    if (!n) return false;
    if (depth > MAX_NESTING) {
        diag_error(d, n->loc,
                   "this is nested too deeply (more than %d levels of expressions and statements)",
                   MAX_NESTING);
        return true;
    }
    const AstNode *kids[4 + 3 + 3] = {n->a,          n->b,         n->c,       n->d,
                                      n->dims[0],    n->dims[1],   n->dims[2], n->wg_expr[0],
                                      n->wg_expr[1], n->wg_expr[2]};
    for (int k = 0; k < ARRAY_LEN(kids); k++)
        if (too_deep(d, kids[k], depth + 1)) return true;
    for (int k = 0; k < n->nlist; k++)
        if (too_deep(d, n->list[k], depth + 1)) return true;
    return false;
}

TranslationUnit *fe_parse(Arena *a, DiagEngine *d, const FrontendOptions *o, const char *path,
                          const char *source)
{
    Pp *pp = pp_new(a, d, o);
    if (!pp_begin(pp, path, source)) return NULL;
    TranslationUnit *tu = parse_unit(a, d, pp);
    pp_end(pp);
    for (int k = 0; tu && k < tu->ndecls; k++) too_deep(d, tu->decls[k], 0);
    return tu;
}

bool fe_print_tokens(Arena *a, DiagEngine *d, const FrontendOptions *o, const char *path,
                     const char *source, StrBuf *out)
{
    int before = d->nerrors;
    Pp *pp = pp_new(a, d, o);
    if (!pp_begin(pp, path, source)) return false;
    for (;;) {
        Token t;
        pp_next(pp, &t);
        if (t.kind == TK_EOF) break;
        const char *file = t.loc.file >= 0 ? d->files.data[t.loc.file].path : "?";
        sb_printf(out, "%s:%d:%d %s '%.*s'\n", file, t.loc.line, t.loc.col, tok_class(t.kind),
                  t.len, t.text);
    }
    pp_end(pp);
    return d->nerrors == before;
}

/* A body spans from its '{' to the start of the next top-level declaration of the same
 * file (or the end of that file). Syntax errors are the errors reported while parsing. */
static bool loc_before(Loc a, Loc b)
{
    return a.line < b.line || (a.line == b.line && a.col < b.col);
}

bool fe_drop_broken_bodies(Arena *a, const DiagEngine *d, TranslationUnit *tu)
{
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
