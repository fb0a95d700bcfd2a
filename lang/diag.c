/* diag.c: collected diagnostics and their text/JSON rendering (lang/diag.h).
 *
 * Diagnostics are stored in emission order. -w drops warnings, -Werror records them as
 * errors (message suffixed " [-Werror]"); after max_errors errors one final "too many
 * errors, stopping" error is recorded and everything after it is dropped. A note follows
 * the fate of the error or warning it is attached to. An error or warning at the use site
 * of a macro (diag_expansion) is followed by a note at the macro's definition.
 */
#include "diag.h"

#include <stdio.h>
#include <string.h>

void diag_init(DiagEngine *d, Arena *a)
{
    memset(d, 0, sizeof *d);
    d->arena = a;
    d->max_errors = 50;
}

int diag_add_file(DiagEngine *d, const char *path, const char *text, size_t len)
{
    SourceFile f = {arena_strdup(d->arena, path), text, len};
    vec_push(d->arena, &d->files, f);
    return d->files.len - 1;
}

static void push(DiagEngine *d, DiagSeverity sev, Loc loc, char *msg)
{
    Diag g = {sev, loc, msg};
    vec_push(d->arena, &d->diags, g);
}

/* ---- macro expansions (open addressing on the use site) ---- */

static unsigned loc_hash(Loc l)
{
    uint64_t h = (uint64_t)(uint32_t)l.file * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)(uint32_t)l.line * 0xC2B2AE3D27D4EB4Full;
    h ^= (uint64_t)(uint32_t)l.col * 0x165667B19E3779F9ull;
    return (unsigned)(h ^ (h >> 29));
}

static bool loc_eq(Loc a, Loc b) { return a.file == b.file && a.line == b.line && a.col == b.col; }

static DiagExpansion *exp_slot(DiagExpansion *tab, int cap, Loc use)
{
    unsigned j = loc_hash(use) & (unsigned)(cap - 1);
    while (tab[j].use.file >= 0 && !loc_eq(tab[j].use, use)) j = (j + 1) & (unsigned)(cap - 1);
    return &tab[j];
}

void diag_expansion(DiagEngine *d, Loc use, const char *macro, Loc def)
{
    if (use.file < 0) return;
    if (d->nexp * 2 >= d->expcap) {
        int ncap = d->expcap ? d->expcap * 2 : 256;
        DiagExpansion *nt = arena_alloc(d->arena, sizeof *nt * (size_t)ncap);
        for (int i = 0; i < ncap; i++) nt[i].use.file = -1;
        for (int i = 0; i < d->expcap; i++)
            if (d->exp[i].use.file >= 0) *exp_slot(nt, ncap, d->exp[i].use) = d->exp[i];
        d->exp = nt;
        d->expcap = ncap;
    }
    DiagExpansion *e = exp_slot(d->exp, d->expcap, use);
    if (e->use.file >= 0) return;
    *e = (DiagExpansion){use, macro, def};
    d->nexp++;
}

static const DiagExpansion *exp_find(const DiagEngine *d, Loc use)
{
    if (!d->nexp || use.file < 0) return NULL;
    const DiagExpansion *e = exp_slot(d->exp, d->expcap, use);
    return e->use.file >= 0 ? e : NULL;
}

/* The same diagnostic at the same place, among the last few: one macro use whose
 * replacement repeats a mistake (TWICE(x) is SQ(x) + SQ(x)) is reported once. */
static bool repeated(const DiagEngine *d, DiagSeverity sev, Loc loc, const char *msg)
{
    for (int i = d->diags.len - 1, k = 0; i >= 0 && k < 16; i--, k++) {
        const Diag *g = &d->diags.data[i];
        if (g->sev == sev && loc_eq(g->loc, loc) && !strcmp(g->msg, msg)) return true;
    }
    return false;
}

static void add(DiagEngine *d, DiagSeverity sev, Loc loc, const char *fmt, va_list ap)
{
    if (sev == DIAG_NOTE) {
        if (d->last_dropped) return;
    } else if (sev == DIAG_WARNING && d->no_warnings) {
        d->last_dropped = true;
        return;
    }
    bool promoted = sev == DIAG_WARNING && d->werror;
    if (promoted) sev = DIAG_ERROR;
    if (sev == DIAG_ERROR && d->max_errors > 0 && d->nerrors >= d->max_errors) {
        if (d->nerrors == d->max_errors) {
            push(d, DIAG_ERROR, (Loc){-1, 0, 0},
                 arena_strdup(d->arena, "too many errors, stopping"));
            d->nerrors++;
        }
        d->last_dropped = true;
        return;
    }
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    const char *suffix = promoted ? " [-Werror]" : "";
    size_t sl = strlen(suffix);
    char *msg = arena_alloc(d->arena, (size_t)n + sl + 1);
    vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    memcpy(msg + n, suffix, sl + 1);
    const DiagExpansion *e = sev != DIAG_NOTE ? exp_find(d, loc) : NULL;
    if (e && repeated(d, sev, loc, msg)) {
        d->last_dropped = true;
        return;
    }
    push(d, sev, loc, msg);
    if (sev == DIAG_ERROR)
        d->nerrors++;
    else if (sev == DIAG_WARNING)
        d->nwarnings++;
    if (sev != DIAG_NOTE) d->last_dropped = false;
    if (e)
        push(d, DIAG_NOTE, e->def, arena_printf(d->arena, "in expansion of macro '%s'", e->name));
}

void diag_error(DiagEngine *d, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, DIAG_ERROR, loc, fmt, ap);
    va_end(ap);
}

void diag_warning(DiagEngine *d, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, DIAG_WARNING, loc, fmt, ap);
    va_end(ap);
}

void diag_note(DiagEngine *d, Loc loc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add(d, DIAG_NOTE, loc, fmt, ap);
    va_end(ap);
}

bool diag_has_errors(const DiagEngine *d)
{
    return d->nerrors > 0 || (d->werror && d->nwarnings > 0);
}

static const char *sev_name(DiagSeverity s)
{
    return s == DIAG_ERROR ? "error" : s == DIAG_WARNING ? "warning" : "note";
}

static const char *sev_color(DiagSeverity s)
{
    return s == DIAG_ERROR ? "\033[1;31m" : s == DIAG_WARNING ? "\033[1;35m" : "\033[1;36m";
}

/* The text of line `line` (1-based) of f: start and length without the newline. */
static bool find_line(const SourceFile *f, int line, const char **start, size_t *len)
{
    const char *p = f->text, *end = f->text + f->len;
    for (int l = 1; l < line; l++) {
        p = memchr(p, '\n', (size_t)(end - p));
        if (!p) return false;
        p++;
    }
    if (p > end) return false;
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e) e = end;
    if (e > p && e[-1] == '\r') e--;
    if (p == end && line > 1) return false;
    *start = p;
    *len = (size_t)(e - p);
    return true;
}

void diag_render_text(const DiagEngine *d, StrBuf *out, bool color)
{
    for (int i = 0; i < d->diags.len; i++) {
        const Diag *g = &d->diags.data[i];
        const SourceFile *f =
            g->loc.file >= 0 && g->loc.file < d->files.len ? &d->files.data[g->loc.file] : NULL;
        if (color) sb_puts(out, "\033[1m");
        if (f)
            sb_printf(out, "%s:%d:%d: ", f->path, g->loc.line, g->loc.col);
        else
            sb_puts(out, "dckc: ");
        if (color)
            sb_printf(out, "%s%s:\033[0m\033[1m %s\033[0m\n", sev_color(g->sev), sev_name(g->sev),
                      g->msg);
        else
            sb_printf(out, "%s: %s\n", sev_name(g->sev), g->msg);
        const char *ls;
        size_t ll;
        if (!f || g->loc.line < 1 || !find_line(f, g->loc.line, &ls, &ll)) continue;
        size_t col = g->loc.col > 0 ? (size_t)g->loc.col - 1 : 0;
        if (col > ll) col = ll;
        /* a very long line (generated code) is shown as a window around the caret */
        enum { WIDTH = 160, BEFORE = 80 };
        size_t from = 0, to = ll;
        if (ll > WIDTH) {
            from = col > BEFORE ? col - BEFORE : 0;
            to = from + WIDTH < ll ? from + WIDTH : ll;
        }
        const char *lead = from > 0 ? "..." : "";
        sb_puts(out, lead);
        /* control bytes would garble the terminal: one '?' each keeps the caret aligned */
        for (size_t k = from; k < to; k++) {
            unsigned char c = (unsigned char)ls[k];
            sb_putc(out, (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c);
        }
        sb_puts(out, to < ll ? "...\n" : "\n");
        sb_puts(out, from > 0 ? "   " : "");
        for (size_t k = from; k < col; k++) sb_putc(out, ls[k] == '\t' ? '\t' : ' ');
        sb_puts(out, color ? "\033[1;32m^\033[0m\n" : "^\n");
    }
}

static void json_str(StrBuf *out, const char *s)
{
    sb_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': sb_puts(out, "\\\""); break;
        case '\\': sb_puts(out, "\\\\"); break;
        case '\n': sb_puts(out, "\\n"); break;
        case '\r': sb_puts(out, "\\r"); break;
        case '\t': sb_puts(out, "\\t"); break;
        case '\b': sb_puts(out, "\\b"); break;
        case '\f': sb_puts(out, "\\f"); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                sb_printf(out, "\\u%04x", *p);
            else
                sb_putc(out, (char)*p);
        }
    }
    sb_putc(out, '"');
}

void diag_render_json(const DiagEngine *d, StrBuf *out)
{
    for (int i = 0; i < d->diags.len; i++) {
        const Diag *g = &d->diags.data[i];
        const SourceFile *f =
            g->loc.file >= 0 && g->loc.file < d->files.len ? &d->files.data[g->loc.file] : NULL;
        sb_puts(out, "{\"file\":");
        if (f)
            json_str(out, f->path);
        else
            sb_puts(out, "null");
        sb_printf(out,
                  ",\"line\":%d,\"col\":%d,\"severity\":\"%s\",\"message\":", f ? g->loc.line : 0,
                  f ? g->loc.col : 0, sev_name(g->sev));
        json_str(out, g->msg);
        sb_puts(out, "}\n");
    }
}
