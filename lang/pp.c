/* pp.c: the DCK preprocessor (docs/language.md), working on the lexer's tokens.
 *
 * A stack of open files, one flex scanner each; the command-line -D/-U options are a
 * pseudo-file "<command line>" of #define/#undef lines read before the main file. A
 * directive is a '#' that is the first token of its line, up to the end of that line.
 * Object-like macros are expanded eagerly into a queue (a macro is not expanded inside
 * its own expansion), and every token of an expansion carries the Loc of the outermost
 * macro use. #if groups are skipped token by token with the lexer's diagnostics muted.
 * Command-line macros win over a #define of the same name in a file (docs/language.md).
 * Include cycles stop at MAX_INCLUDE_DEPTH; after that, no further file is included.
 */
#include "pp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_INCLUDE_DEPTH 64
#define CMDLINE_PATH      "<command line>"

typedef struct Macro {
    const char *name; /* interned */
    Token *body;
    int n;
    Loc loc;        /* of the name in #define; file -1 for none */
    bool cmdline;   /* defined by -D */
    bool defined;   /* false after #undef (the slot stays) */
    bool expanding; /* inside its own expansion */
} Macro;

enum {
    COND_ACTIVE,  /* this group is being processed */
    COND_SEEKING, /* skipping; no group of this #if taken yet */
    COND_DONE,    /* skipping; a group was taken, or the whole #if is inside a skipped group */
};

typedef struct Cond {
    Loc loc;          /* the '#' of the #if */
    const char *what; /* "#if", "#ifdef", "#ifndef" */
    int state;
    bool seen_else;
    Loc else_loc;
} Cond;

typedef struct PpFile {
    Lexer *lx;
    int file;        /* index in the DiagEngine's table */
    const char *dir; /* folder of the file, "" for the current one */
    int cond_base;   /* conds.len when the file was entered */
    Token peek;
    bool has_peek;
} PpFile;

typedef struct FileCache {
    const char *path; /* interned */
    int file;
    bool has_id;
    dev_t dev;
    ino_t ino;
} FileCache;

typedef VEC(Token) TokVec;

typedef struct OnceId {
    dev_t dev;
    ino_t ino;
} OnceId;

struct Pp {
    Arena *a;
    DiagEngine *d;
    FrontendOptions opts;
    LexEnv env;
    VEC(PpFile) files;
    VEC(Cond) conds;
    VEC(FileCache) cache;
    VEC(OnceId) once;
    Macro **mtab;
    int mcap, mcount;
    TokVec pending; /* expanded tokens waiting to be handed out */
    int pend_pos;
    TokVec line; /* the current directive's tokens */
    bool include_overflow;
    bool in_cmdline;
    Token last_eof;
};

/* ---- small helpers ---- */

static bool skipping(const Pp *pp)
{
    return pp->conds.len > 0 && pp->conds.data[pp->conds.len - 1].state != COND_ACTIVE;
}

static void update_quiet(Pp *pp) { pp->env.quiet = skipping(pp); }

static bool tok_is(const Token *t, const char *s) { return t->name && strcmp(t->name, s) == 0; }

static const char *tok_text(Pp *pp, const Token *t)
{
    return arena_strndup(pp->a, t->text, (size_t)t->len);
}

/* ---- macro table (open addressing on the interned name) ---- */

static unsigned name_hash(const char *p)
{
    uintptr_t h = (uintptr_t)p;
    h ^= h >> 15;
    h *= 0x9E3779B97F4A7C15ull;
    return (unsigned)(h >> 32);
}

static Macro *macro_find(Pp *pp, const char *name)
{
    if (!pp->mcap || !name) return NULL;
    unsigned j = name_hash(name) & (unsigned)(pp->mcap - 1);
    while (pp->mtab[j]) {
        if (pp->mtab[j]->name == name) return pp->mtab[j]->defined ? pp->mtab[j] : NULL;
        j = (j + 1) & (unsigned)(pp->mcap - 1);
    }
    return NULL;
}

static Macro *macro_slot(Pp *pp, const char *name)
{
    if (pp->mcount * 2 >= pp->mcap) {
        int ncap = pp->mcap ? pp->mcap * 2 : 64;
        Macro **nt = arena_alloc(pp->a, sizeof(Macro *) * (size_t)ncap);
        for (int i = 0; i < pp->mcap; i++) {
            Macro *m = pp->mtab[i];
            if (!m) continue;
            unsigned j = name_hash(m->name) & (unsigned)(ncap - 1);
            while (nt[j]) j = (j + 1) & (unsigned)(ncap - 1);
            nt[j] = m;
        }
        pp->mtab = nt;
        pp->mcap = ncap;
    }
    unsigned j = name_hash(name) & (unsigned)(pp->mcap - 1);
    while (pp->mtab[j]) {
        if (pp->mtab[j]->name == name) return pp->mtab[j];
        j = (j + 1) & (unsigned)(pp->mcap - 1);
    }
    Macro *m = arena_alloc(pp->a, sizeof *m);
    m->name = name;
    m->loc = (Loc){-1, 0, 0};
    pp->mtab[j] = m;
    pp->mcount++;
    return m;
}

static bool same_body(const Macro *m, const Token *body, int n)
{
    if (m->n != n) return false;
    for (int i = 0; i < n; i++)
        if (m->body[i].len != body[i].len ||
            memcmp(m->body[i].text, body[i].text, (size_t)body[i].len) != 0)
            return false;
    return true;
}

/* ---- macro expansion ---- */

/* Appends the expansion of tokens [toks, toks+n) to out; loc: the outermost use site.
 * in_if: `defined X` / `defined(X)` become 1 or 0 (#if expressions). */
static void expand(Pp *pp, const Token *toks, int n, const Loc *loc, bool in_if, TokVec *out);

static void push_expansion(Pp *pp, Macro *m, Loc use, bool in_if, TokVec *out)
{
    m->expanding = true;
    expand(pp, m->body, m->n, &use, in_if, out);
    m->expanding = false;
}

static void expand(Pp *pp, const Token *toks, int n, const Loc *loc, bool in_if, TokVec *out)
{
    for (int i = 0; i < n; i++) {
        Token t = toks[i];
        if (loc) {
            t.loc = *loc;
            t.offset = -1;
        }
        t.bol = false;
        t.lex_error = false;
        if (in_if && t.kind == TK_IDENT && tok_is(&t, "defined")) {
            int j = i + 1;
            bool paren = j < n && toks[j].kind == '(';
            if (paren) j++;
            Token r = t;
            r.kind = TK_INT_LIT;
            r.name = NULL;
            r.ival = 0;
            if (j < n && toks[j].name) {
                r.ival = macro_find(pp, toks[j].name) != NULL;
                j++;
                if (paren) {
                    if (j < n && toks[j].kind == ')')
                        j++;
                    else
                        diag_error(pp->d, t.loc, "missing ')' after 'defined'");
                }
            } else {
                diag_error(pp->d, t.loc, "expected a macro name after 'defined'");
            }
            vec_push(pp->a, out, r);
            i = j - 1;
            continue;
        }
        Macro *m = t.kind == TK_IDENT ? macro_find(pp, t.name) : NULL;
        if (m && !m->expanding) {
            push_expansion(pp, m, t.loc, in_if, out);
            continue;
        }
        vec_push(pp->a, out, t);
    }
}

/* ---- #if expressions ---- */

typedef struct Eval {
    Pp *pp;
    const Token *t;
    int n, pos;
    Loc at;     /* the directive, for errors at the end of the line */
    bool error; /* an error was reported: the value is 0 */
} Eval;

/* At t, naming it ("... before 'x'"), or at the end of the line when t is NULL. */
static void ev_error(Eval *e, const Token *t, const char *msg)
{
    if (e->error) return;
    e->error = true;
    char *where = t ? arena_printf(e->pp->a, " before '%.*s'", t->len, t->text) : "";
    diag_error(e->pp->d, t ? t->loc : e->at, "%s in preprocessor expression%s", msg, where);
}

static void ev_error_at(Eval *e, const Token *t, const char *msg)
{
    if (e->error) return;
    e->error = true;
    diag_error(e->pp->d, t->loc, "%s in preprocessor expression", msg);
}

static const Token *ev_peek(Eval *e) { return e->pos < e->n ? &e->t[e->pos] : NULL; }

static int64_t ev_expr(Eval *e, bool live);

static int64_t ev_primary(Eval *e, bool live)
{
    const Token *t = ev_peek(e);
    if (!t) {
        ev_error(e, NULL, "expected a value");
        return 0;
    }
    e->pos++;
    switch (t->kind) {
    case '-': return (int64_t)(0u - (uint64_t)ev_primary(e, live));
    case '+': return ev_primary(e, live);
    case '!': return !ev_primary(e, live);
    case '~': return (int64_t) ~(uint64_t)ev_primary(e, live);
    case '(': {
        int64_t v = ev_expr(e, live);
        const Token *c = ev_peek(e);
        if (c && c->kind == ')')
            e->pos++;
        else
            ev_error(e, c, "expected ')'");
        return v;
    }
    case TK_INT_LIT: return (int64_t)t->ival;
    case TK_TRUE: return 1;
    case TK_FALSE: return 0;
    case TK_FLOAT_LIT: ev_error_at(e, t, "floating constant"); return 0;
    default:
        if (t->name) return 0; /* an identifier or keyword that is not a macro */
        e->pos--;
        ev_error(e, t, "expected a value");
        e->pos++;
        return 0;
    }
}

static int binprec(int k)
{
    switch (k) {
    case '*':
    case '/':
    case '%': return 10;
    case '+':
    case '-': return 9;
    case TK_SHL:
    case TK_SHR: return 8;
    case '<':
    case '>':
    case TK_LE:
    case TK_GE: return 7;
    case TK_EQ:
    case TK_NE: return 6;
    case '&': return 5;
    case '^': return 4;
    case '|': return 3;
    case TK_ANDAND: return 2;
    case TK_OROR: return 1;
    default: return 0;
    }
}

static int64_t ev_binary(Eval *e, int minprec, bool live)
{
    int64_t l = ev_primary(e, live);
    for (;;) {
        const Token *op = ev_peek(e);
        int p = op ? binprec(op->kind) : 0;
        if (!p || p < minprec) return l;
        e->pos++;
        bool rlive = live;
        if (op->kind == TK_ANDAND && !l) rlive = false;
        if (op->kind == TK_OROR && l) rlive = false;
        int64_t r = ev_binary(e, p + 1, rlive);
        uint64_t ul = (uint64_t)l, ur = (uint64_t)r;
        switch (op->kind) {
        case '*': l = (int64_t)(ul * ur); break;
        case '/':
        case '%':
            if (r == 0) {
                if (rlive) ev_error_at(e, op, "division by zero");
                l = 0;
            } else if (r == -1) {
                l = op->kind == '/' ? (int64_t)(0u - ul) : 0;
            } else {
                l = op->kind == '/' ? l / r : l % r;
            }
            break;
        case '+': l = (int64_t)(ul + ur); break;
        case '-': l = (int64_t)(ul - ur); break;
        case TK_SHL: l = (int64_t)(ul << (ur & 63)); break;
        case TK_SHR: l = l >> (ur & 63); break;
        case '<': l = l < r; break;
        case '>': l = l > r; break;
        case TK_LE: l = l <= r; break;
        case TK_GE: l = l >= r; break;
        case TK_EQ: l = l == r; break;
        case TK_NE: l = l != r; break;
        case '&': l = (int64_t)(ul & ur); break;
        case '^': l = (int64_t)(ul ^ ur); break;
        case '|': l = (int64_t)(ul | ur); break;
        case TK_ANDAND: l = l && r; break;
        case TK_OROR: l = l || r; break;
        }
    }
}

static int64_t ev_expr(Eval *e, bool live)
{
    int64_t c = ev_binary(e, 1, live);
    const Token *q = ev_peek(e);
    if (!q || q->kind != '?') return c;
    e->pos++;
    int64_t a = ev_expr(e, live && c);
    const Token *colon = ev_peek(e);
    if (colon && colon->kind == ':')
        e->pos++;
    else
        ev_error(e, colon, "expected ':'");
    int64_t b = ev_expr(e, live && !c);
    return c ? a : b;
}

/* Evaluates the tokens of an #if/#elif line after the directive name. */
static bool eval_condition(Pp *pp, const Token *hash, const Token *toks, int n)
{
    if (n == 0) {
        diag_error(pp->d, hash->loc, "#%s with no expression", pp->line.data[0].name);
        return false;
    }
    TokVec out = {0};
    int before = pp->d->nerrors;
    expand(pp, toks, n, NULL, true, &out);
    Eval e = {pp, out.data, out.len, 0, toks[n - 1].loc, pp->d->nerrors != before};
    int64_t v = ev_expr(&e, true);
    if (!e.error && e.pos < e.n) ev_error(&e, &e.t[e.pos], "missing binary operator");
    return !e.error && v != 0;
}

/* ---- files ---- */

static const char *dir_of(Pp *pp, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return "";
    if (slash == path) return "/";
    return arena_strndup(pp->a, path, (size_t)(slash - path));
}

static const char *join(Pp *pp, const char *dir, const char *name)
{
    if (name[0] == '/' || !dir[0]) return name;
    size_t n = strlen(dir);
    if (dir[n - 1] == '/') return arena_printf(pp->a, "%s%s", dir, name);
    return arena_printf(pp->a, "%s/%s", dir, name);
}

static void push_file(Pp *pp, int file, const char *path)
{
    const SourceFile *sf = &pp->d->files.data[file];
    PpFile f = {0};
    f.lx = lex_open(&pp->env, file, sf->text, sf->len);
    f.file = file;
    f.dir = dir_of(pp, path);
    f.cond_base = pp->conds.len;
    vec_push(pp->a, &pp->files, f);
}

/* Registers a file's text in the DiagEngine (a copy in the arena) and the cache. */
static int add_file(Pp *pp, const char *path, const char *text, size_t len, const struct stat *st)
{
    char *copy = arena_alloc(pp->a, len + 1);
    memcpy(copy, text, len);
    int idx = diag_add_file(pp->d, path, copy, len);
    FileCache c = {intern(path), idx, st != NULL, st ? st->st_dev : 0, st ? st->st_ino : 0};
    vec_push(pp->a, &pp->cache, c);
    return idx;
}

static bool is_once(Pp *pp, dev_t dev, ino_t ino)
{
    for (int i = 0; i < pp->once.len; i++)
        if (pp->once.data[i].dev == dev && pp->once.data[i].ino == ino) return true;
    return false;
}

/* Looks `path` up; returns 1 found (*file set, or -1 when #pragma once skips it),
 * 0 when it does not exist, -2 after reporting a read error. */
static int open_candidate(Pp *pp, const char *path, const Token *at, int *file)
{
    const char *ip = intern(path);
    for (int i = 0; i < pp->cache.len; i++) {
        FileCache *c = &pp->cache.data[i];
        if (c->path != ip) continue;
        *file = c->has_id && is_once(pp, c->dev, c->ino) ? -1 : c->file;
        return 1;
    }
    struct stat st;
    if (stat(path, &st) != 0) return 0;
    if (!S_ISREG(st.st_mode)) return 0;
    if (is_once(pp, st.st_dev, st.st_ino)) {
        *file = -1;
        return 1;
    }
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        diag_error(pp->d, at->loc, "cannot read include file '%s': %s", path, strerror(errno));
        return -2;
    }
    *file = add_file(pp, path, text, len, &st);
    free(text);
    return 1;
}

static void do_include(Pp *pp, PpFile *f, const Token *hash)
{
    Token *l = pp->line.data;
    int n = pp->line.len;
    const char *name = NULL;
    bool angled = false;
    int last = 1;
    if (n >= 2 && l[1].kind == TK_STRING && l[1].len >= 2 && l[1].text[l[1].len - 1] == '"') {
        name = arena_strndup(pp->a, l[1].text + 1, (size_t)l[1].len - 2);
    } else if (n >= 2 && l[1].kind == '<') {
        int j = 2;
        while (j < n && l[j].kind != '>') j++;
        if (j < n && l[j].offset >= 0 && l[1].offset >= 0) {
            int b = l[1].offset + 1, e = l[j].offset;
            name = arena_strndup(pp->a, pp->d->files.data[f->file].text + b, (size_t)(e - b));
            angled = true;
            last = j;
        }
    }
    if (!name || !name[0]) {
        diag_error(pp->d, n >= 2 ? l[1].loc : l[0].loc,
                   "expected \"FILE\" or <FILE> after #include");
        return;
    }
    if (last + 1 < n)
        diag_warning(pp->d, l[last + 1].loc, "extra tokens at end of #include directive");
    if (pp->include_overflow) return;
    if (pp->files.len >= MAX_INCLUDE_DEPTH) {
        diag_error(
            pp->d, hash->loc,
            "#include nested too deeply (more than %d levels; is there an include cycle without #pragma once?)",
            MAX_INCLUDE_DEPTH);
        pp->include_overflow = true;
        return;
    }
    int file = -1, r = 0;
    const char *found = NULL;
    if (!angled) {
        found = join(pp, f->dir, name);
        r = open_candidate(pp, found, &l[1], &file);
    } else if (pp->opts.stdlib_dir) {
        found = join(pp, pp->opts.stdlib_dir, name);
        r = open_candidate(pp, found, &l[1], &file);
    }
    for (int i = 0; r == 0 && i < pp->opts.ninclude_dirs; i++) {
        found = join(pp, pp->opts.include_dirs[i], name);
        r = open_candidate(pp, found, &l[1], &file);
    }
    if (r == 0) {
        diag_error(pp->d, l[1].loc, "cannot find include file '%s'", name);
        return;
    }
    if (r < 0 || file < 0) return;
    push_file(pp, file, found);
}

/* ---- directives ---- */

static Token *next_raw(PpFile *f, Token *t)
{
    if (f->has_peek) {
        *t = f->peek;
        f->has_peek = false;
    } else {
        lex_next(f->lx, t);
    }
    return t;
}

/* Reads the rest of the directive line into pp->line (a comment spanning lines continues
 * it, as in C). The next line is not lexed yet, so a following skipped group stays quiet. */
static void read_line(Pp *pp, PpFile *f)
{
    pp->line.len = 0;
    if (f->has_peek) ICE("directive with a token already read ahead");
    lex_directive_line(f->lx);
    for (;;) {
        Token t;
        next_raw(f, &t);
        if (t.kind == TK_EOL) return;
        if (t.kind == TK_EOF) {
            f->peek = t;
            f->has_peek = true;
            return;
        }
        vec_push(pp->a, &pp->line, t);
    }
}

static void do_define(Pp *pp, PpFile *f)
{
    Token *l = pp->line.data;
    int n = pp->line.len;
    if (n < 2 || l[1].kind != TK_IDENT) {
        diag_error(pp->d, n < 2 ? l[0].loc : l[1].loc, "macro name must be an identifier");
        return;
    }
    if (tok_is(&l[1], "defined")) {
        diag_error(pp->d, l[1].loc, "'defined' cannot be used as a macro name");
        return;
    }
    if (n >= 3 && l[2].kind == '(' && l[2].offset == l[1].offset + l[1].len) {
        diag_error(pp->d, l[1].loc, "function-like macros are not supported");
        return;
    }
    Macro *m = macro_slot(pp, l[1].name);
    if (m->defined && m->cmdline && !pp->in_cmdline) return; /* -D wins */
    Token *body = l + 2;
    int nb = n - 2;
    if (m->defined && !same_body(m, body, nb)) {
        diag_warning(pp->d, l[1].loc, "'%s' redefined", m->name);
        if (m->loc.file >= 0) diag_note(pp->d, m->loc, "previous definition is here");
    }
    m->body = arena_alloc(pp->a, sizeof(Token) * (size_t)(nb ? nb : 1));
    memcpy(m->body, body, sizeof(Token) * (size_t)nb);
    m->n = nb;
    m->loc = l[1].loc;
    m->cmdline = pp->in_cmdline;
    m->defined = true;
}

static void do_undef(Pp *pp)
{
    Token *l = pp->line.data;
    int n = pp->line.len;
    if (n < 2 || l[1].kind != TK_IDENT) {
        diag_error(pp->d, n < 2 ? l[0].loc : l[1].loc, "macro name must be an identifier");
        return;
    }
    if (n > 2) diag_warning(pp->d, l[2].loc, "extra tokens at end of #undef directive");
    Macro *m = macro_find(pp, l[1].name);
    if (m) m->defined = false;
}

static const char *rest_of_line(Pp *pp, PpFile *f, const Token *from)
{
    const SourceFile *sf = &pp->d->files.data[f->file];
    if (from->offset < 0) return "";
    const char *b = sf->text + from->offset, *e = b;
    while (e < sf->text + sf->len && *e != '\n' && *e != '\r') e++;
    return arena_strndup(pp->a, b, (size_t)(e - b));
}

static void directive(Pp *pp, PpFile *f, const Token *hash)
{
    read_line(pp, f);
    int n = pp->line.len;
    if (n == 0) return; /* null directive */
    Token *l = pp->line.data;
    const char *dn = l[0].name ? l[0].name : "";
    bool skip = skipping(pp);
    Cond *top = pp->conds.len > f->cond_base ? &pp->conds.data[pp->conds.len - 1] : NULL;

    if (!strcmp(dn, "if") || !strcmp(dn, "ifdef") || !strcmp(dn, "ifndef")) {
        Cond c = {hash->loc, arena_printf(pp->a, "#%s", dn), COND_DONE, false, {-1, 0, 0}};
        if (!skip) {
            bool v;
            if (dn[2] == 0) {
                v = eval_condition(pp, hash, l + 1, n - 1);
            } else {
                if (n < 2 || l[1].kind != TK_IDENT) {
                    diag_error(pp->d, n < 2 ? l[0].loc : l[1].loc,
                               "macro name must be an identifier");
                    v = false;
                } else {
                    if (n > 2)
                        diag_warning(pp->d, l[2].loc, "extra tokens at end of #%s directive", dn);
                    v = (macro_find(pp, l[1].name) != NULL) == (dn[2] == 'd');
                }
            }
            c.state = v ? COND_ACTIVE : COND_SEEKING;
        }
        vec_push(pp->a, &pp->conds, c);
    } else if (!strcmp(dn, "elif")) {
        if (!top) {
            diag_error(pp->d, hash->loc, "#elif without #if");
        } else if (top->seen_else) {
            diag_error(pp->d, hash->loc, "#elif after #else");
            diag_note(pp->d, top->else_loc, "#else was here");
            top->state = COND_DONE;
        } else if (top->state == COND_ACTIVE) {
            top->state = COND_DONE;
        } else if (top->state == COND_SEEKING) {
            pp->env.quiet = false;
            top->state = eval_condition(pp, hash, l + 1, n - 1) ? COND_ACTIVE : COND_SEEKING;
        }
    } else if (!strcmp(dn, "else")) {
        if (!top) {
            diag_error(pp->d, hash->loc, "#else without #if");
        } else if (top->seen_else) {
            diag_error(pp->d, hash->loc, "#else after #else");
            diag_note(pp->d, top->else_loc, "previous #else was here");
            top->state = COND_DONE;
        } else {
            if (n > 1 && top->state != COND_DONE)
                diag_warning(pp->d, l[1].loc, "extra tokens at end of #else directive");
            top->seen_else = true;
            top->else_loc = hash->loc;
            top->state = top->state == COND_SEEKING ? COND_ACTIVE : COND_DONE;
        }
    } else if (!strcmp(dn, "endif")) {
        if (!top) {
            diag_error(pp->d, hash->loc, "#endif without #if");
        } else {
            if (n > 1 && top->state == COND_ACTIVE)
                diag_warning(pp->d, l[1].loc, "extra tokens at end of #endif directive");
            pp->conds.len--;
        }
    } else if (skip) {
        return; /* every other directive is ignored in a skipped group */
    } else if (!strcmp(dn, "include")) {
        do_include(pp, f, hash);
    } else if (!strcmp(dn, "define")) {
        do_define(pp, f);
    } else if (!strcmp(dn, "undef")) {
        do_undef(pp);
    } else if (!strcmp(dn, "pragma")) {
        if (n >= 2 && tok_is(&l[1], "once")) {
            for (int i = 0; i < pp->cache.len; i++) {
                FileCache *c = &pp->cache.data[i];
                if (c->file == f->file && c->has_id && !is_once(pp, c->dev, c->ino)) {
                    OnceId id = {c->dev, c->ino};
                    vec_push(pp->a, &pp->once, id);
                }
            }
        } else {
            diag_warning(pp->d, n >= 2 ? l[1].loc : l[0].loc,
                         "unknown pragma ignored: '#pragma %s'",
                         n >= 2 ? rest_of_line(pp, f, &l[1]) : "");
        }
    } else if (!strcmp(dn, "error")) {
        diag_error(pp->d, hash->loc, "#error%s%s", n > 1 ? " " : "",
                   n > 1 ? rest_of_line(pp, f, &l[1]) : "");
    } else if (!strcmp(dn, "warning")) {
        diag_warning(pp->d, hash->loc, "#warning%s%s", n > 1 ? " " : "",
                     n > 1 ? rest_of_line(pp, f, &l[1]) : "");
    } else {
        diag_error(pp->d, l[0].loc, "invalid preprocessing directive '#%s'", tok_text(pp, &l[0]));
    }
    update_quiet(pp);
}

/* ---- the stream ---- */

static void end_file(Pp *pp)
{
    PpFile *f = &pp->files.data[pp->files.len - 1];
    while (pp->conds.len > f->cond_base) {
        Cond *c = &pp->conds.data[--pp->conds.len];
        diag_error(pp->d, c->loc, "unterminated %s", c->what);
    }
    lex_close(f->lx);
    pp->files.len--;
    if (pp->in_cmdline) pp->in_cmdline = false;
    update_quiet(pp);
}

void pp_next(Pp *pp, Token *t)
{
    for (;;) {
        if (pp->pend_pos < pp->pending.len) {
            *t = pp->pending.data[pp->pend_pos++];
            return;
        }
        if (pp->files.len == 0) {
            *t = pp->last_eof;
            return;
        }
        PpFile *f = &pp->files.data[pp->files.len - 1];
        Token tok;
        next_raw(f, &tok);
        if (tok.kind == TK_EOF) {
            if (!pp->in_cmdline) pp->last_eof = tok;
            end_file(pp);
            continue;
        }
        if (tok.kind == '#' && tok.bol) {
            directive(pp, f, &tok);
            continue;
        }
        if (skipping(pp)) continue;
        if (tok.kind == TK_IDENT && pp->mcount) {
            Macro *m = macro_find(pp, tok.name);
            if (m) {
                pp->pending.len = 0;
                pp->pend_pos = 0;
                push_expansion(pp, m, tok.loc, false, &pp->pending);
                if (pp->pending.len) pp->pending.data[0].lex_error = tok.lex_error;
                continue;
            }
        }
        *t = tok;
        return;
    }
}

Pp *pp_new(Arena *a, DiagEngine *d, const FrontendOptions *o)
{
    Pp *pp = arena_alloc(a, sizeof *pp);
    pp->a = a;
    pp->d = d;
    if (o) pp->opts = *o;
    lex_env_init(&pp->env, a, d);
    pp->last_eof.kind = TK_EOF;
    pp->last_eof.loc = (Loc){-1, 0, 0};
    pp->last_eof.text = "";
    pp->last_eof.offset = -1;
    return pp;
}

bool pp_begin(Pp *pp, const char *path, const char *source)
{
    size_t len;
    struct stat st;
    bool has_st = stat(path, &st) == 0;
    if (source) {
        int idx = add_file(pp, path, source, strlen(source), has_st ? &st : NULL);
        push_file(pp, idx, path);
    } else {
        char *text = has_st && S_ISDIR(st.st_mode) ? NULL : read_file(path, &len);
        if (!text) {
            diag_error(pp->d, (Loc){-1, 0, 0}, "cannot read '%s': %s", path,
                       has_st && S_ISDIR(st.st_mode) ? "Is a directory" : strerror(errno));
            return false;
        }
        int idx = add_file(pp, path, text, len, has_st ? &st : NULL);
        free(text);
        push_file(pp, idx, path);
    }
    pp->last_eof.loc = (Loc){pp->files.data[0].file, 1, 1};
    if (pp->opts.ndefines || pp->opts.nundefs) {
        StrBuf sb = {0};
        for (int i = 0; i < pp->opts.ndefines; i++) {
            const char *def = pp->opts.defines[i];
            const char *eq = strchr(def, '=');
            if (eq)
                sb_printf(&sb, "#define %.*s %s\n", (int)(eq - def), def, eq + 1);
            else
                sb_printf(&sb, "#define %s 1\n", def);
        }
        for (int i = 0; i < pp->opts.nundefs; i++)
            sb_printf(&sb, "#undef %s\n", pp->opts.undefs[i]);
        int idx = add_file(pp, CMDLINE_PATH, sb.data, sb.len, NULL);
        sb_free(&sb);
        push_file(pp, idx, "");
        pp->in_cmdline = true;
    }
    return true;
}

void pp_end(Pp *pp)
{
    while (pp->files.len) {
        lex_close(pp->files.data[pp->files.len - 1].lx);
        pp->files.len--;
    }
}

/* ---- token names ---- */

const char *tok_spelling(int kind)
{
    static const char *const names[] = {
#define TOK(ID, spelling, cls) spelling,
#include "tokens.def"
#undef TOK
    };
    static const char *const chars[128] = {
        ['('] = "(", [')'] = ")", ['['] = "[", [']'] = "]", ['{'] = "{", ['}'] = "}", [';'] = ";",
        [','] = ",", ['.'] = ".", ['?'] = "?", [':'] = ":", ['+'] = "+", ['-'] = "-", ['*'] = "*",
        ['/'] = "/", ['%'] = "%", ['&'] = "&", ['|'] = "|", ['^'] = "^", ['!'] = "!", ['~'] = "~",
        ['<'] = "<", ['>'] = ">", ['='] = "=", ['#'] = "#",
    };
    if (kind == TK_EOF) return "end of file";
    if (kind > TK_FIRST_MULTI && kind < TK_COUNT) return names[kind - TK_FIRST_MULTI - 1];
    const char *p = kind > 0 && kind < 128 ? chars[kind] : NULL;
    return p ? p : "?";
}

const char *tok_class(int kind)
{
    static const char *const classes[] = {
#define TOK(ID, spelling, cls) #cls,
#include "tokens.def"
#undef TOK
    };
    if (kind > TK_FIRST_MULTI && kind < TK_COUNT) return classes[kind - TK_FIRST_MULTI - 1];
    if (kind == TK_EOF) return "EOF";
    return "PUNCT";
}
