/* pp.c: the DCK preprocessor (docs/language.md), C99's, working on the lexer's tokens.
 *
 * A stack of open files, one flex scanner each; the command-line -D/-U options are a
 * pseudo-file "<command line>" of #define/#undef lines read before the main file. A
 * directive is a '#' that is the first token of its line, up to the end of that line
 * (backslash-newlines are gone already: the lexer splices them). #if groups are skipped
 * token by token with the lexer's diagnostics muted. Command-line macros win over a
 * #define of the same name in a file (docs/language.md). Include cycles stop at
 * MAX_INCLUDE_DEPTH; after that, no further file is included.
 *
 * Macro expansion follows C99 6.10.3 the way gcc's cpplib does it: a stack of contexts,
 * one per macro expansion being read, above the current file. A macro is disabled while
 * its context is on the stack, and a token naming a disabled macro is marked noexpand for
 * good (C's "painted blue"); a context ends, re-enabling its macro, when a token is needed
 * past its last one. A function-like macro expands only when the next token (looked for
 * through ended contexts and then the file, across lines) is '('; its arguments are
 * collected unexpanded, each one used outside # and ## is fully expanded on its own first
 * (expand_list: a barrier context that reading stops at), then the replacement list is
 * substituted, # and ## applied (## re-lexes the joined spelling), and the result pushed as
 * a new context to be rescanned with the rest of the stream. Token buffers come from a pool
 * and go back to it, so a long file of expansions does not grow the arena.
 *
 * Locations: the tokens of a replacement list (and # / ## results) get the loc of the
 * macro name at the outermost use; argument tokens keep their own. Each outermost use is
 * recorded with diag_expansion, so that a diagnostic there gets a note at the #define.
 */
#include "pp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_INCLUDE_DEPTH    64
#define MAX_PARAMS           256       /* parameters of one macro */
#define MAX_ARG_DEPTH        200       /* macro invocations nested inside arguments */
#define MAX_EXPANSION_TOKENS (1 << 20) /* tokens produced by all the expansions of a unit */
#define CMDLINE_PATH         "<command line>"

/* Token kinds that only occur inside macro bodies and during substitution. */
enum {
    PP_PARAM = TK_COUNT + 1, /* a parameter; ival is its index */
    PP_STRINGIZE,            /* '#' with its parameter; ival is the parameter's index */
    PP_PASTE,                /* '##' */
    PP_PLACEMARKER,          /* an empty argument next to ## (C99 6.10.3.3) */
    PP_VAOPT,                /* __VA_OPT__( ; ival: the tokens inside; suffix 1: after '#' */
    PP_VAOPT_END,            /* its ')' */
};

enum { BUILTIN_NONE, BUILTIN_LINE, BUILTIN_FILE, BUILTIN_PRAGMA };

typedef struct Macro {
    const char *name; /* interned */
    Token *body;      /* the replacement list, PP_* tokens in place of # ## and parameters */
    int n;
    const char **params; /* interned; a variadic macro's last one takes the variable arguments */
    int nparams;
    Loc loc;         /* of the name in #define; file -1 for none */
    uint8_t builtin; /* BUILTIN_*: __LINE__, __FILE__, _Pragma */
    bool funclike;   /* #define F(...) */
    bool variadic;   /* ... (or NAME...) ends the parameters */
    bool has_paste;  /* the body holds ## */
    bool broken;     /* its #define had an error: a use vanishes silently */
    bool cmdline;    /* defined by -D */
    bool defined;    /* false after #undef (the slot stays) */
    bool expanding;  /* disabled: its context is on the stack */
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
    int line_delta;       /* #line: __LINE__ is the physical line + line_delta */
    const char *presumed; /* #line "name": what __FILE__ says (NULL: the path) */
} PpFile;

typedef struct FileCache {
    const char *path; /* interned */
    int file;
    bool has_id;
    dev_t dev;
    ino_t ino;
} FileCache;

typedef VEC(Token) TokVec;

/* One expansion being read (or a barrier: m == NULL). */
typedef struct Ctx {
    const Token *t;
    int pos, n;
    Macro *m;    /* re-enabled when the context ends; NULL: a barrier, reading stops there */
    TokVec *buf; /* owns t (back to the pool at the end); NULL: t is m's body, read in place */
    Loc use;     /* body read in place: the loc every token gets */
    bool space;  /* body read in place: the first token's space */
} Ctx;

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
    bool user_macros;    /* a #define was seen (else only the builtins, all named _...) */
    VEC(Ctx) ctx;        /* the expansions being read, innermost last */
    VEC(TokVec *) spare; /* the token buffer pool */
    TokVec line;         /* the current directive's tokens */
    int line_end;        /* the physical line of the current directive's end */
    Macro *collecting;   /* the macro whose arguments are being read from the file */
    int arg_depth;       /* expand_list nesting */
    long produced;       /* tokens produced by expansions */
    bool overflow;       /* MAX_EXPANSION_TOKENS was passed: the stream ends */
    bool carry;          /* an error since the last token handed out: mark the next lex_error */
    bool include_overflow;
    bool in_cmdline;
    const char *id_defined, *id_va_args, *id_va_opt; /* interned */
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

/* Just past the token: where a missing token is reported. */
static Loc after(const Token *t)
{
    Loc l = t->loc;
    if (t->offset >= 0) l.col += t->len;
    return l;
}

static TokVec *buf_get(Pp *pp)
{
    if (pp->spare.len) return pp->spare.data[--pp->spare.len];
    return arena_alloc(pp->a, sizeof(TokVec));
}

static void buf_put(Pp *pp, TokVec *v)
{
    v->len = 0;
    vec_push(pp->a, &pp->spare, v);
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

/* C99 6.10.3p2: the same parameters and the same replacement list, whitespace included. */
static bool same_definition(const Macro *a, const Macro *b)
{
    if (a->funclike != b->funclike || a->variadic != b->variadic || a->nparams != b->nparams ||
        a->n != b->n)
        return false;
    for (int i = 0; i < a->nparams; i++)
        if (a->params[i] != b->params[i]) return false;
    for (int i = 0; i < a->n; i++) {
        const Token *x = &a->body[i], *y = &b->body[i];
        if (x->kind != y->kind || x->len != y->len || memcmp(x->text, y->text, (size_t)x->len) ||
            x->ival != y->ival || x->suffix != y->suffix || (i > 0 && x->space != y->space))
            return false;
    }
    return true;
}

/* ---- reading tokens ---- */

static void directive(Pp *pp, PpFile *f, const Token *hash);

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

/* The next token of the current file, directives executed and skipped groups left out; at
 * its end its TK_EOF (the file stays open); with no file open, the last TK_EOF. */
static void file_token(Pp *pp, Token *t)
{
    for (;;) {
        if (!pp->files.len) {
            *t = pp->last_eof;
            return;
        }
        PpFile *f = &pp->files.data[pp->files.len - 1];
        next_raw(f, t);
        if (t->kind == TK_EOF) return;
        if (t->kind == '#' && t->bol) {
            Token hash = *t;
            directive(pp, f, &hash);
            continue;
        }
        if (!skipping(pp)) return;
    }
}

static void pop_ctx(Pp *pp)
{
    Ctx *c = &pp->ctx.data[--pp->ctx.len];
    c->m->expanding = false;
    if (c->buf) buf_put(pp, c->buf);
}

/* The next token, not expanded: from the innermost expansion (ending the finished ones),
 * else from the file. False at the end of a barrier (nothing is read past it). */
static bool next_token(Pp *pp, Token *t)
{
    while (pp->ctx.len) {
        Ctx *c = &pp->ctx.data[pp->ctx.len - 1];
        if (c->pos < c->n) {
            *t = c->t[c->pos++];
            if (!c->buf && c->m) {
                t->loc = c->use;
                if (c->pos == 1) t->space = c->space;
            }
            return true;
        }
        if (!c->m) return false;
        pop_ctx(pp);
    }
    file_token(pp, t);
    return true;
}

/* Whether the next token is '(' (a function-like macro's name before it is a use). Ended
 * expansions are left behind; a directive line that comes first means no. */
static bool next_is_lparen(Pp *pp)
{
    while (pp->ctx.len) {
        Ctx *c = &pp->ctx.data[pp->ctx.len - 1];
        if (c->pos < c->n) return c->t[c->pos].kind == '(';
        if (!c->m) return false;
        pop_ctx(pp);
    }
    if (!pp->files.len) return false;
    PpFile *f = &pp->files.data[pp->files.len - 1];
    if (!f->has_peek) {
        lex_next(f->lx, &f->peek);
        f->has_peek = true;
    }
    return f->peek.kind == '(';
}

static PpFile *open_file(Pp *pp, int file)
{
    for (int i = pp->files.len - 1; i >= 0; i--)
        if (pp->files.data[i].file == file) return &pp->files.data[i];
    return NULL;
}

/* ---- # and ## ---- */

/* C99 6.10.3.2: the spelling of an argument as a string literal. */
static Token stringize(Pp *pp, const Token *a, int n, Loc use)
{
    size_t cap = 3;
    for (int i = 0; i < n; i++) cap += 2 * (size_t)a[i].len + 1;
    char *s = arena_alloc(pp->a, cap);
    size_t k = 0;
    s[k++] = '"';
    for (int i = 0; i < n; i++) {
        if (i > 0 && a[i].space) s[k++] = ' ';
        bool quote = a[i].kind == TK_STRING;
        for (int j = 0; j < a[i].len; j++) {
            char c = a[i].text[j];
            if (quote && (c == '"' || c == '\\')) s[k++] = '\\';
            s[k++] = c;
        }
    }
    s[k++] = '"';
    Token t = {0};
    t.kind = TK_STRING;
    t.loc = use;
    t.text = s;
    t.len = (int)k;
    t.offset = -1;
    return t;
}

static bool ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* C99 6.10.3.3: l ## r as one token, re-lexed from the joined spelling. False (after an
 * error at `use`) when that spelling is not exactly one token. */
static bool paste(Pp *pp, const Token *l, const Token *r, Loc use, Token *out)
{
    if (l->kind == PP_PLACEMARKER || r->kind == PP_PLACEMARKER) {
        *out = l->kind == PP_PLACEMARKER ? *r : *l;
        return true;
    }
    int n = l->len + r->len;
    char *s = arena_alloc(pp->a, (size_t)n + 1);
    memcpy(s, l->text, (size_t)l->len);
    memcpy(s + l->len, r->text, (size_t)r->len);
    Token t = {0};
    bool ok = true, word = !(s[0] >= '0' && s[0] <= '9');
    for (int i = 0; word && i < n; i++) word = ident_char(s[i]);
    if (l->kind == '#' && r->kind == '#' && n == 2) { /* C's `##` (DCK's lexer has no such token) */
        t.kind = '#';
        t.text = s;
        t.len = n;
    } else if (word) { /* the common case, CAT(name, 1): an identifier or keyword */
        t.kind = TK_IDENT;
        t.name = intern_n(s, (size_t)n);
        const KwEntry *kw = lex_keyword(&pp->env, t.name);
        if (kw) {
            t.kind = kw->kind;
            t.type = kw->type;
            t.ival = kw->kind == TK_TRUE;
        }
        t.text = s;
        t.len = n;
    } else if (!(l->text[l->len - 1] == '/' && (r->text[0] == '/' || r->text[0] == '*'))) {
        bool quiet = pp->env.quiet;
        pp->env.quiet = true;
        Lexer *lx = lex_open(&pp->env, use.file, s, (size_t)n);
        Token e = {0};
        lex_next(lx, &t);
        if (t.kind != TK_EOF) lex_next(lx, &e);
        lex_close(lx);
        pp->env.quiet = quiet;
        ok = t.kind != TK_EOF && e.kind == TK_EOF && !t.lex_error && !e.lex_error;
    } else {
        ok = false; /* a comment would start */
    }
    if (!ok) {
        diag_error(pp->d, use,
                   "pasting '%.*s' and '%.*s' does not give a valid preprocessing token", l->len,
                   l->text, r->len, r->text);
        pp->carry = true;
        return false;
    }
    t.loc = use;
    t.offset = -1;
    t.space = l->space;
    t.bol = t.lex_error = t.noexpand = false;
    *out = t;
    return true;
}

/* ---- macro expansion ---- */

static bool enter_macro(Pp *pp, Macro *m, Token *name);

/* A token naming a macro: expands it (true: the token is consumed) or marks it. */
static bool maybe_expand(Pp *pp, Token *t)
{
    Macro *m = macro_find(pp, t->name);
    if (!m) return false;
    if (m->expanding) {
        t->noexpand = true;
        return false;
    }
    return enter_macro(pp, m, t);
}

/* `defined X` / `defined(X)` in #if (t is `defined`): becomes 1 or 0. */
static void if_defined(Pp *pp, Token *t)
{
    Loc at = t->loc;
    Token a;
    bool paren = false, ok = next_token(pp, &a);
    if (ok && a.kind == '(') {
        paren = true;
        ok = next_token(pp, &a);
    }
    t->kind = TK_INT_LIT;
    t->name = NULL;
    t->ival = 0;
    t->text = "0";
    t->len = 1;
    if (!ok || !a.name) {
        diag_error(pp->d, at, "expected a macro name after 'defined'");
        return;
    }
    if (macro_find(pp, a.name)) {
        t->ival = 1;
        t->text = "1";
    }
    Token c;
    if (paren && (!next_token(pp, &c) || c.kind != ')'))
        diag_error(pp->d, at, "missing ')' after 'defined'");
}

/* Appends the full macro expansion of toks[0..n) to out, reading nothing past them (an
 * argument, an #if / #include / #line line). in_if: `defined` is the operator. */
static void expand_list(Pp *pp, const Token *toks, int n, bool in_if, TokVec *out)
{
    int base = pp->ctx.len;
    Ctx bar = {toks, 0, n, NULL, NULL, {-1, 0, 0}, false};
    vec_push(pp->a, &pp->ctx, bar);
    pp->arg_depth++;
    Token t;
    while (next_token(pp, &t)) {
        if (t.kind == TK_IDENT && !t.noexpand) {
            if (in_if && t.name == pp->id_defined)
                if_defined(pp, &t);
            else if (maybe_expand(pp, &t))
                continue;
        }
        vec_push(pp->a, out, t);
    }
    pp->arg_depth--;
    pp->ctx.len = base;
}

static void push_placemarker(Pp *pp, TokVec *out, Loc use)
{
    Token pm = {0};
    pm.kind = PP_PLACEMARKER;
    pm.loc = use;
    pm.text = "";
    pm.offset = -1;
    vec_push(pp->a, out, pm);
}

/* One use of a macro being substituted. */
typedef struct Subst {
    const Macro *m;
    const Token *name;
    const TokVec *args; /* argument i is args->data[at[i] .. at[i+1]) */
    const int *at;
    bool va_absent;               /* no variable arguments at all (not even an empty one) */
    TokVec *expanded[MAX_PARAMS]; /* each argument fully expanded, when first needed */
} Subst;

/* Argument p's tokens (NULL when there are none at all). */
static const Token *arg_of(const Subst *s, int p)
{
    return s->args->data ? s->args->data + s->at[p] : NULL;
}

static const TokVec *expanded_arg(Pp *pp, Subst *s, int p)
{
    if (!s->expanded[p]) {
        s->expanded[p] = buf_get(pp);
        expand_list(pp, arg_of(s, p), s->at[p + 1] - s->at[p], false, s->expanded[p]);
    }
    return s->expanded[p];
}

/* Substitutes body[from..to) (the replacement list, or the inside of a __VA_OPT__) into
 * out: arguments, # and ## (placemarkers stay). */
static void substitute_range(Pp *pp, Subst *s, int from, int to, TokVec *out)
{
    const Token *body = s->m->body;
    int va = s->m->variadic ? s->m->nparams - 1 : -1;
    Loc use = s->name->loc;
    for (int i = from; i < to; i++) {
        const Token *b = &body[i];
        if (b->kind == PP_PASTE) continue;
        int end = b->kind == PP_VAOPT ? i + (int)b->ival + 2 : i + 1; /* past this operand */
        bool pasted = i > from && body[i - 1].kind == PP_PASTE;
        bool pasting = end < to && body[end].kind == PP_PASTE;
        int mark = out->len;
        if (b->kind == PP_STRINGIZE) {
            int p = (int)b->ival;
            const Token *a = arg_of(s, p);
            vec_push(pp->a, out, stringize(pp, a, s->at[p + 1] - s->at[p], use));
        } else if (b->kind == PP_PARAM) {
            int p = (int)b->ival, k = s->at[p + 1] - s->at[p];
            const Token *a = arg_of(s, p);
            if (pasted || pasting) {
                if (!k) push_placemarker(pp, out, use);
                for (int j = 0; j < k; j++) vec_push(pp->a, out, a[j]);
            } else {
                const TokVec *x = expanded_arg(pp, s, p);
                for (int j = 0; j < x->len; j++) vec_push(pp->a, out, x->data[j]);
            }
        } else if (b->kind == PP_VAOPT) {
            /* C23 __VA_OPT__(...): the inside, substituted, when the variable arguments
             * expand to something, else a placemarker; a `#` before it (suffix) stringizes */
            if (expanded_arg(pp, s, va)->len) substitute_range(pp, s, i + 1, end - 1, out);
            if (b->suffix) {
                int w = mark;
                for (int j = mark; j < out->len; j++)
                    if (out->data[j].kind != PP_PLACEMARKER) out->data[w++] = out->data[j];
                Token str = stringize(pp, out->data ? out->data + mark : NULL, w - mark, use);
                out->len = mark;
                vec_push(pp->a, out, str);
            } else if (out->len == mark) {
                push_placemarker(pp, out, use);
            }
        } else if (b->kind == ',' && pasting && !pasted && end + 1 < to &&
                   body[end + 1].kind == PP_PARAM && (int)body[end + 1].ival == va) {
            /* GNU `, ## __VA_ARGS__`: the comma goes when the variable arguments are left out */
            if (s->va_absent) {
                push_placemarker(pp, out, use);
            } else {
                Token c = *b;
                c.loc = use;
                vec_push(pp->a, out, c);
                const TokVec *x = expanded_arg(pp, s, va);
                for (int j = 0; j < x->len; j++) vec_push(pp->a, out, x->data[j]);
                if (out->len > mark + 1) out->data[mark + 1].space = body[end + 1].space;
            }
            i = end + 1;
            continue;
        } else {
            Token t = *b;
            t.loc = use;
            vec_push(pp->a, out, t);
        }
        if (out->len > mark && b->kind != PP_VAOPT) out->data[mark].space = b->space;
        if (pasted && mark > 0 && out->len > mark) {
            Token r;
            if (paste(pp, &out->data[mark - 1], &out->data[mark], use, &r)) {
                out->data[mark - 1] = r;
                memmove(out->data + mark, out->data + mark + 1,
                        sizeof(Token) * (size_t)(out->len - mark - 1));
                out->len--;
            }
        }
        i = end - 1;
    }
}

/* The replacement of one use of m, into out. */
static void substitute(Pp *pp, const Macro *m, const Token *name, const TokVec *args, const int *at,
                       bool va_absent, TokVec *out)
{
    Subst s;
    s.m = m;
    s.name = name;
    s.args = args;
    s.at = at;
    s.va_absent = va_absent;
    for (int p = 0; p < m->nparams; p++) s.expanded[p] = NULL;
    substitute_range(pp, &s, 0, m->n, out);
    int w = 0;
    for (int i = 0; i < out->len; i++)
        if (out->data[i].kind != PP_PLACEMARKER) out->data[w++] = out->data[i];
    out->len = w;
    if (w) out->data[0].space = name->space;
    for (int p = 0; p < m->nparams; p++)
        if (s.expanded[p]) buf_put(pp, s.expanded[p]);
}

/* Counts tokens produced by expansions; false once there are too many (the stream ends). */
static bool produce(Pp *pp, int n, Loc use)
{
    pp->produced += n;
    if (pp->produced <= MAX_EXPANSION_TOKENS) return true;
    if (!pp->overflow)
        diag_error(pp->d, use, "macro expansion produces more than %d tokens",
                   MAX_EXPANSION_TOKENS);
    pp->overflow = true;
    return false;
}

static void do_pragma_text(Pp *pp, const char *text, Loc loc);

/* __LINE__, __FILE__ (the token becomes the value; false) and _Pragma("...") (true). */
static bool builtin(Pp *pp, Macro *m, Token *t)
{
    if (m->builtin == BUILTIN_PRAGMA) {
        if (!next_is_lparen(pp)) return false;
        Token lp, s, rp;
        next_token(pp, &lp);
        if (!next_token(pp, &s) || s.kind != TK_STRING || !next_token(pp, &rp) || rp.kind != ')') {
            diag_error(pp->d, t->loc, "_Pragma takes a parenthesized string literal");
            pp->carry = true;
            return true;
        }
        char *p = arena_alloc(pp->a, (size_t)s.len);
        int k = 0;
        for (int i = 1; i + 1 < s.len; i++) {
            if (s.text[i] == '\\' && i + 2 < s.len &&
                (s.text[i + 1] == '"' || s.text[i + 1] == '\\'))
                i++;
            p[k++] = s.text[i];
        }
        do_pragma_text(pp, p, t->loc);
        return true;
    }
    PpFile *f = open_file(pp, t->loc.file);
    if (m->builtin == BUILTIN_LINE) {
        long v = (long)t->loc.line + (f ? f->line_delta : 0);
        t->kind = TK_INT_LIT;
        t->ival = (uint64_t)v;
        t->text = arena_printf(pp->a, "%ld", v);
    } else {
        const char *path = f && f->presumed   ? f->presumed
                           : t->loc.file >= 0 ? pp->d->files.data[t->loc.file].path
                                              : "";
        Token q = {0};
        q.kind = TK_STRING; /* so that stringize escapes '"' and '\\' */
        q.text = path;
        q.len = (int)strlen(path);
        t->kind = TK_STRING;
        t->text = stringize(pp, &q, 1, t->loc).text;
    }
    t->len = (int)strlen(t->text);
    t->name = NULL;
    t->offset = -1;
    return false;
}

/* Expands a use of m (name: its token, not yet handed out): pushes the replacement and
 * returns true, or returns false when the token stays (a function-like macro without '(',
 * __LINE__ / __FILE__ changed in place). Errors drop the use and mark the next token. */
static bool enter_macro(Pp *pp, Macro *m, Token *name)
{
    if (pp->overflow) return false;
    if (m->builtin) return builtin(pp, m, name);
    if (!m->funclike) {
        if (name->lex_error || m->broken) pp->carry = true;
        if (m->broken || !m->n) return true;
        if (!produce(pp, m->n, name->loc)) return true;
        if (name->offset >= 0) diag_expansion(pp->d, name->loc, m->name, m->loc);
        Ctx c = {m->body, 0, m->n, m, NULL, name->loc, name->space};
        if (m->has_paste) {
            c.buf = buf_get(pp);
            substitute(pp, m, name, NULL, NULL, false, c.buf);
            c.t = c.buf->data;
            c.n = c.buf->len;
        }
        m->expanding = true;
        vec_push(pp->a, &pp->ctx, c);
        return true;
    }
    if (!next_is_lparen(pp)) return false;
    if (name->lex_error) pp->carry = true;
    if (pp->arg_depth >= MAX_ARG_DEPTH) {
        diag_error(pp->d, name->loc, "macro invocations nested too deeply (more than %d levels)",
                   MAX_ARG_DEPTH);
        pp->overflow = pp->carry = true;
        return true;
    }
    Macro mm = *m; /* a directive among the arguments may redefine it */
    Token t;
    next_token(pp, &t); /* '(' */
    int at[MAX_PARAMS + 2];
    int nargs = 0, depth = 0;
    at[0] = 0;
    TokVec *args = buf_get(pp);
    Macro *outer = pp->collecting;
    pp->collecting = m;
    bool ok = true;
    for (;;) {
        bool got = next_token(pp, &t);
        if (!got || t.kind == TK_EOF) {
            if (got && pp->files.len) {
                PpFile *f = &pp->files.data[pp->files.len - 1];
                f->peek = t;
                f->has_peek = true;
            }
            diag_error(pp->d, name->loc, "unterminated argument list invoking macro '%s'", m->name);
            ok = false;
            break;
        }
        if (t.kind == '(') {
            depth++;
        } else if (t.kind == ')') {
            if (!depth) break;
            depth--;
        } else if (t.kind == ',' && !depth && !(mm.variadic && nargs == mm.nparams - 1)) {
            if (++nargs <= mm.nparams) at[nargs] = args->len;
            continue;
        }
        if (t.kind == TK_IDENT && !t.noexpand) {
            Macro *x = macro_find(pp, t.name);
            if (x && x->expanding) t.noexpand = true;
        }
        vec_push(pp->a, args, t);
    }
    pp->collecting = outer;
    bool va_absent = false;
    if (ok && !mm.broken) {
        if (++nargs <= mm.nparams) at[nargs] = args->len;
        bool empty = nargs == 1 && args->len == 0;
        int given = empty ? 0 : nargs;
        if (mm.variadic ? nargs >= mm.nparams - 1 : nargs == mm.nparams || (!mm.nparams && empty)) {
            /* as gcc: also the one empty argument of a macro with only `...` */
            va_absent = nargs < mm.nparams || (mm.nparams == 1 && mm.variadic && empty);
            if (va_absent) at[mm.nparams] = args->len;
        } else {
            int want = mm.variadic ? mm.nparams - 1 : mm.nparams;
            diag_error(pp->d, name->loc, "macro '%s' requires %s%d argument%s, but %d given",
                       m->name, mm.variadic ? "at least " : "", want, want == 1 ? "" : "s", given);
            if (mm.loc.file >= 0) diag_note(pp->d, mm.loc, "macro '%s' defined here", m->name);
            ok = false;
        }
    }
    if (!ok || mm.broken) {
        pp->carry = true;
        buf_put(pp, args);
        return true;
    }
    if (name->offset >= 0) diag_expansion(pp->d, name->loc, m->name, mm.loc);
    TokVec *out = buf_get(pp);
    substitute(pp, &mm, name, args, at, va_absent, out);
    buf_put(pp, args);
    if (!out->len || !produce(pp, out->len, name->loc)) {
        buf_put(pp, out);
        return true;
    }
    Ctx c = {out->data, 0, out->len, m, out, name->loc, name->space};
    m->expanding = true;
    vec_push(pp->a, &pp->ctx, c);
    return true;
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

/* Evaluates the tokens of an #if/#elif line after the directive name. */
static bool eval_condition(Pp *pp, const Token *hash, const Token *toks, int n)
{
    if (n == 0) {
        diag_error(pp->d, hash->loc, "#%s with no expression", pp->line.data[0].name);
        return false;
    }
    TokVec *out = buf_get(pp);
    int before = pp->d->nerrors;
    expand_list(pp, toks, n, true, out);
    for (int i = 0; i < out->len; i++)
        if (out->data[i].numerr) lex_report_number(&pp->env, &out->data[i]);
    Eval e = {pp, out->data, out->len, 0, toks[n - 1].loc, pp->d->nerrors != before};
    int64_t v = ev_expr(&e, true);
    if (!e.error && e.pos < e.n) ev_error(&e, &e.t[e.pos], "missing binary operator");
    buf_put(pp, out);
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
    const Token *at = pp->line.len >= 2 ? &pp->line.data[1] : &pp->line.data[0];
    if (pp->collecting) {
        diag_error(pp->d, hash->loc, "#include inside the arguments of macro '%s'",
                   pp->collecting->name);
        return;
    }
    const Token *l = pp->line.data + 1;
    int n = pp->line.len - 1;
    TokVec *x = NULL;
    if (n >= 1 && l[0].kind != TK_STRING && l[0].kind != '<') { /* #include MACRO */
        x = buf_get(pp);
        expand_list(pp, l, n, false, x);
        l = x->data;
        n = x->len;
    }
    const char *name = NULL;
    bool angled = false;
    int last = 0;
    if (n >= 1 && l[0].kind == TK_STRING && l[0].len >= 2 && l[0].text[l[0].len - 1] == '"') {
        name = arena_strndup(pp->a, l[0].text + 1, (size_t)l[0].len - 2);
    } else if (n >= 1 && l[0].kind == '<') {
        int j = 1;
        while (j < n && l[j].kind != '>') j++;
        if (j < n && !x && l[j].offset >= 0 && l[0].offset >= 0) {
            size_t len;
            const char *text = lex_text(f->lx, &len);
            int b = l[0].offset + 1, e = l[j].offset;
            name = arena_strndup(pp->a, text + b, (size_t)(e - b));
        } else if (j < n) { /* from a macro: the spellings, spaces kept */
            StrBuf sb = {0};
            for (int k = 1; k < j; k++) {
                if (k > 1 && l[k].space) sb_putc(&sb, ' ');
                sb_putn(&sb, l[k].text, (size_t)l[k].len);
            }
            name = arena_strndup(pp->a, sb.data ? sb.data : "", sb.len);
            sb_free(&sb);
        }
        angled = name != NULL;
        last = j;
    }
    if (!name || !name[0]) {
        diag_error(pp->d, at->loc, "expected \"FILE\" or <FILE> after #include");
        if (x) buf_put(pp, x);
        return;
    }
    if (last + 1 < n)
        diag_warning(pp->d, x ? at->loc : l[last + 1].loc,
                     "extra tokens at end of #include directive");
    if (x) buf_put(pp, x);
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
        r = open_candidate(pp, found, at, &file);
    } else if (pp->opts.stdlib_dir) {
        found = join(pp, pp->opts.stdlib_dir, name);
        r = open_candidate(pp, found, at, &file);
    }
    for (int i = 0; r == 0 && i < pp->opts.ninclude_dirs; i++) {
        found = join(pp, pp->opts.include_dirs[i], name);
        r = open_candidate(pp, found, at, &file);
    }
    if (r == 0) {
        diag_error(pp->d, at->loc, "cannot find include file '%s'", name);
        return;
    }
    if (r < 0 || file < 0) return;
    push_file(pp, file, found);
}

/* ---- directives ---- */

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
        if (t.kind == TK_EOL || t.kind == TK_EOF) pp->line_end = t.loc.line;
        if (t.kind == TK_EOL) return;
        if (t.kind == TK_EOF) {
            f->peek = t;
            f->has_peek = true;
            return;
        }
        vec_push(pp->a, &pp->line, t);
    }
}

static bool is_ellipsis(const Token *l, int i, int n)
{
    return i + 2 < n && l[i].kind == '.' && l[i + 1].kind == '.' && !l[i + 1].space &&
           l[i + 2].kind == '.' && !l[i + 2].space;
}

static int param_index(const char *const *params, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (params[i] == name) return i;
    return -1;
}

/* The parameter list of `#define F(...)`, l[i] just after the '('. Returns the index after
 * the ')', or -1 after an error. */
static int define_params(Pp *pp, const Token *l, int i, int n, Macro *d, const char **params)
{
    if (i < n && l[i].kind == ')') return i + 1;
    for (;;) {
        if (i >= n) {
            diag_error(pp->d, after(&l[n - 1]), "missing ')' in macro parameter list");
            return -1;
        }
        const Token *p = &l[i];
        if (is_ellipsis(l, i, n)) {
            d->variadic = true;
            params[d->nparams++] = pp->id_va_args;
            i += 3;
        } else if (p->name) {
            if (p->name == pp->id_va_args) {
                diag_error(pp->d, p->loc,
                           "__VA_ARGS__ can only appear in the expansion of a variadic macro");
                return -1;
            }
            if (param_index(params, d->nparams, p->name) >= 0) {
                diag_error(pp->d, p->loc, "duplicate macro parameter '%s'", p->name);
                return -1;
            }
            if (d->nparams == MAX_PARAMS) {
                diag_error(pp->d, p->loc, "too many macro parameters (more than %d)", MAX_PARAMS);
                return -1;
            }
            params[d->nparams++] = p->name;
            i++;
            if (is_ellipsis(l, i, n)) { /* GNU: `NAME...` names the variable arguments */
                d->variadic = true;
                i += 3;
            }
        } else {
            diag_error(pp->d, p->loc,
                       "expected a parameter name in macro parameter list, found '%.*s'", p->len,
                       p->text);
            return -1;
        }
        if (i >= n) {
            diag_error(pp->d, after(&l[n - 1]), "missing ')' in macro parameter list");
            return -1;
        }
        if (l[i].kind == ')') return i + 1;
        if (d->variadic || l[i].kind != ',') {
            diag_error(pp->d, l[i].loc, "expected %s in macro parameter list, found '%.*s'",
                       d->variadic ? "')' after the variable arguments" : "',' or ')'", l[i].len,
                       l[i].text);
            return -1;
        }
        i++;
    }
}

/* The replacement list l[i..n) into d->body: parameters, #, ## and __VA_OPT__(...) become
 * PP_* tokens. False after an error. */
static bool define_body(Pp *pp, const Token *l, int i, int n, Macro *d, const char **params)
{
    Token *body = arena_alloc(pp->a, sizeof(Token) * (size_t)(n > i ? n - i : 1));
    int k = 0, vaopt = -1, depth = 0;
    bool hash = false; /* a '#' before __VA_OPT__ */
    for (int j = i; j < n; j++) {
        Token t = l[j];
        t.bol = t.lex_error = t.noexpand = false;
        t.offset = -1;
        int p;
        if (t.kind == '#' && j + 1 < n && l[j + 1].kind == '#' && !l[j + 1].space) {
            t.kind = PP_PASTE;
            t.len = 2;
            d->has_paste = true;
            j++;
        } else if (t.kind == '#' && d->funclike) {
            if (j + 1 < n && l[j + 1].name == pp->id_va_opt && d->variadic) {
                hash = true;
                continue;
            }
            p = j + 1 < n ? param_index(params, d->nparams, l[j + 1].name) : -1;
            if (p < 0) {
                diag_error(pp->d, t.loc, "'#' is not followed by a macro parameter");
                return false;
            }
            t.kind = PP_STRINGIZE;
            t.ival = (uint64_t)p;
            j++;
        } else if (t.name && (p = param_index(params, d->nparams, t.name)) >= 0) {
            t.kind = PP_PARAM;
            t.ival = (uint64_t)p;
        } else if (t.name == pp->id_va_args || (t.name == pp->id_va_opt && !d->variadic)) {
            diag_error(pp->d, t.loc, "%s can only appear in the expansion of a variadic macro",
                       t.name);
            return false;
        } else if (t.name == pp->id_va_opt) {
            if (vaopt >= 0) {
                diag_error(pp->d, t.loc, "__VA_OPT__ cannot appear inside __VA_OPT__");
                return false;
            }
            if (j + 1 >= n || l[j + 1].kind != '(') {
                diag_error(pp->d, j + 1 < n ? l[j + 1].loc : after(&t),
                           "expected '(' after __VA_OPT__");
                return false;
            }
            t.kind = PP_VAOPT;
            t.suffix = hash;
            hash = false;
            vaopt = k;
            depth = 0;
            j++;
        } else if (vaopt >= 0 && t.kind == '(') {
            depth++;
        } else if (vaopt >= 0 && t.kind == ')' && depth-- == 0) {
            t.kind = PP_VAOPT_END;
            body[vaopt].ival = (uint64_t)(k - vaopt - 1);
            if (k > vaopt + 1 &&
                (body[vaopt + 1].kind == PP_PASTE || body[k - 1].kind == PP_PASTE)) {
                diag_error(pp->d,
                           body[vaopt + 1].kind == PP_PASTE ? body[vaopt + 1].loc : body[k - 1].loc,
                           "'##' cannot appear at either end of __VA_OPT__");
                return false;
            }
            vaopt = -1;
        }
        body[k++] = t;
    }
    if (vaopt >= 0) {
        diag_error(pp->d, body[vaopt].loc, "unterminated __VA_OPT__");
        return false;
    }
    if (k && (body[0].kind == PP_PASTE || body[k - 1].kind == PP_PASTE)) {
        diag_error(pp->d, body[0].kind == PP_PASTE ? body[0].loc : body[k - 1].loc,
                   "'##' cannot appear at either end of a macro expansion");
        return false;
    }
    d->body = body;
    d->n = k;
    return true;
}

static void do_define(Pp *pp)
{
    Token *l = pp->line.data;
    int n = pp->line.len;
    if (n < 2 || l[1].kind != TK_IDENT) {
        diag_error(pp->d, n < 2 ? l[0].loc : l[1].loc, "macro name must be an identifier");
        return;
    }
    if (l[1].name == pp->id_defined) {
        diag_error(pp->d, l[1].loc, "'defined' cannot be used as a macro name");
        return;
    }
    if (l[1].name == pp->id_va_args) {
        diag_error(pp->d, l[1].loc,
                   "__VA_ARGS__ can only appear in the expansion of a variadic macro");
        return;
    }
    Macro d = {0};
    d.name = l[1].name;
    d.loc = l[1].loc;
    d.cmdline = pp->in_cmdline;
    d.defined = true;
    const char *params[MAX_PARAMS];
    int i = 2;
    if (n > 2 && l[2].kind == '(' && !l[2].space) {
        d.funclike = true;
        i = define_params(pp, l, 3, n, &d, params);
    }
    d.broken = i < 0 || !define_body(pp, l, i, n, &d, params);
    if (d.nparams) {
        d.params = arena_alloc(pp->a, sizeof(char *) * (size_t)d.nparams);
        memcpy(d.params, params, sizeof(char *) * (size_t)d.nparams);
    }
    Macro *m = macro_slot(pp, d.name);
    if (m->defined && m->cmdline && !pp->in_cmdline) return; /* -D wins */
    if (m->defined && !m->broken && !d.broken) {
        if (m->builtin) {
            diag_warning(pp->d, l[1].loc, "redefining builtin macro '%s'", m->name);
        } else if (!same_definition(m, &d)) {
            diag_warning(pp->d, l[1].loc, "'%s' redefined", m->name);
            if (m->loc.file >= 0) diag_note(pp->d, m->loc, "previous definition is here");
        }
    }
    *m = d;
    pp->user_macros = true;
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

/* #line N ["file"]: what __LINE__ and __FILE__ say from the next line on (diagnostics keep
 * the physical place). */
static void do_line(Pp *pp, PpFile *f)
{
    const Token *l = pp->line.data + 1;
    int n = pp->line.len - 1;
    TokVec *x = NULL;
    if (n >= 1 && l[0].kind != TK_INT_LIT) {
        x = buf_get(pp);
        expand_list(pp, l, n, false, x);
        l = x->data;
        n = x->len;
    }
    Loc at = pp->line.len >= 2 ? pp->line.data[1].loc : after(&pp->line.data[0]);
    bool digits = n >= 1 && l[0].kind == TK_INT_LIT && !l[0].numerr;
    for (int k = 0; digits && k < l[0].len; k++)
        digits = l[0].text[k] >= '0' && l[0].text[k] <= '9';
    if (!digits || l[0].ival == 0 || l[0].ival > 2147483647u) {
        if (n < 1)
            diag_error(pp->d, at, "#line requires a line number");
        else
            diag_error(pp->d, x ? at : l[0].loc, "'%.*s' after #line is not a positive integer",
                       l[0].len, l[0].text);
    } else if (n >= 2 &&
               (l[1].kind != TK_STRING || l[1].len < 2 || l[1].text[l[1].len - 1] != '"')) {
        diag_error(pp->d, x ? at : l[1].loc, "invalid file name '%.*s' after #line", l[1].len,
                   l[1].text);
    } else {
        if (n > 2) diag_warning(pp->d, x ? at : l[2].loc, "extra tokens at end of #line directive");
        f->line_delta = (int)l[0].ival - (pp->line_end + 1);
        if (n >= 2) f->presumed = arena_strndup(pp->a, l[1].text + 1, (size_t)l[1].len - 2);
    }
    if (x) buf_put(pp, x);
}

static const char *rest_of_line(Pp *pp, PpFile *f, const Token *from)
{
    size_t len;
    const char *text = lex_text(f->lx, &len);
    if (from->offset < 0) return "";
    const char *b = text + from->offset, *e = b;
    while (e < text + len && *e != '\n' && *e != '\r') e++;
    return arena_strndup(pp->a, b, (size_t)(e - b));
}

static void pragma_once(Pp *pp, int file)
{
    for (int i = 0; i < pp->cache.len; i++) {
        FileCache *c = &pp->cache.data[i];
        if (c->file == file && c->has_id && !is_once(pp, c->dev, c->ino)) {
            OnceId id = {c->dev, c->ino};
            vec_push(pp->a, &pp->once, id);
        }
    }
}

/* _Pragma("text") */
static void do_pragma_text(Pp *pp, const char *text, Loc loc)
{
    const char *b = text, *e = text + strlen(text);
    while (*b == ' ' || *b == '\t') b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
    if (e - b == 4 && !memcmp(b, "once", 4)) {
        if (pp->files.len) pragma_once(pp, pp->files.data[pp->files.len - 1].file);
    } else {
        diag_warning(pp->d, loc, "unknown pragma ignored: '#pragma %.*s'", (int)(e - b), b);
    }
}

static void directive(Pp *pp, PpFile *f, const Token *hash)
{
    read_line(pp, f);
    int n = pp->line.len;
    if (n == 0) return; /* null directive */
    Token *l = pp->line.data;
    const char *dn = l[0].name ? l[0].name : "";
    bool skip = skipping(pp);
    bool carry = pp->carry; /* errors here say nothing about the next token */
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
            bool v = eval_condition(pp, hash, l + 1, n - 1);
            top = &pp->conds.data[pp->conds.len - 1];
            top->state = v ? COND_ACTIVE : COND_SEEKING;
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
        do_define(pp);
    } else if (!strcmp(dn, "undef")) {
        do_undef(pp);
    } else if (!strcmp(dn, "line")) {
        do_line(pp, f);
    } else if (!strcmp(dn, "pragma")) {
        if (n >= 2 && tok_is(&l[1], "once")) {
            pragma_once(pp, f->file);
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
    pp->carry = carry;
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
        if (pp->overflow) {
            *t = pp->last_eof;
            t->lex_error = true;
            return;
        }
        if (pp->ctx.len)
            next_token(pp, t);
        else
            file_token(pp, t);
        if (t->kind == TK_EOF && pp->files.len) {
            if (!pp->in_cmdline) pp->last_eof = *t;
            end_file(pp);
            continue;
        }
        if (t->kind == TK_IDENT && !t->noexpand && (pp->user_macros || t->name[0] == '_') &&
            maybe_expand(pp, t))
            continue;
        if (t->numerr) lex_report_number(&pp->env, t);
        if (pp->carry) {
            t->lex_error = true;
            pp->carry = false;
        }
        return;
    }
}

static void add_builtin(Pp *pp, const char *name, int kind)
{
    Macro *m = macro_slot(pp, intern(name));
    m->builtin = (uint8_t)kind;
    m->defined = true;
}

Pp *pp_new(Arena *a, DiagEngine *d, const FrontendOptions *o)
{
    Pp *pp = arena_alloc(a, sizeof *pp);
    pp->a = a;
    pp->d = d;
    if (o) pp->opts = *o;
    lex_env_init(&pp->env, a, d);
    pp->env.defer_numbers = true;
    pp->id_defined = intern("defined");
    pp->id_va_args = intern("__VA_ARGS__");
    pp->id_va_opt = intern("__VA_OPT__");
    add_builtin(pp, "__LINE__", BUILTIN_LINE);
    add_builtin(pp, "__FILE__", BUILTIN_FILE);
    add_builtin(pp, "_Pragma", BUILTIN_PRAGMA);
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
