/* util.c: arenas, string buffers, interning, hashing, files and internal errors. */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena: a list of chunks, bump allocation ---- */
typedef struct Chunk {
    struct Chunk *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} Chunk;

struct Arena {
    Chunk *head;
};

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("dckc: out of memory\n", stderr);
        abort();
    }
    return p;
}

Arena *arena_new(void)
{
    Arena *a = xmalloc(sizeof *a);
    a->head = NULL;
    return a;
}

void arena_free(Arena *a)
{
    if (!a) return;
    for (Chunk *c = a->head, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(a);
}

void *arena_alloc(Arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    Chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        c = xmalloc(sizeof(Chunk) + cap);
        c->used = 0;
        c->cap = cap;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

void *arena_realloc(Arena *a, void *p, size_t old, size_t n)
{
    if (n <= old) return p;
    void *q = arena_alloc(a, n);
    if (p && old) memcpy(q, p, old);
    return q;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *arena_strdup(Arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(Arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

/* ---- StrBuf ---- */
static void sb_reserve(StrBuf *sb, size_t extra)
{
    if (sb->len + extra + 1 <= sb->cap) return;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < sb->len + extra + 1) cap *= 2;
    char *p = realloc(sb->data, cap);
    if (!p) {
        fputs("dckc: out of memory\n", stderr);
        abort();
    }
    sb->data = p;
    sb->cap = cap;
}

void sb_putn(StrBuf *sb, const void *p, size_t n)
{
    sb_reserve(sb, n);
    memcpy(sb->data + sb->len, p, n);
    sb->len += n;
    sb->data[sb->len] = 0;
}

void sb_putc(StrBuf *sb, char c) { sb_putn(sb, &c, 1); }
void sb_puts(StrBuf *sb, const char *s) { sb_putn(sb, s, strlen(s)); }

void sb_vprintf(StrBuf *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof tmp) {
        sb_putn(sb, tmp, (size_t)n);
    } else {
        sb_reserve(sb, (size_t)n);
        vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap2);
        sb->len += (size_t)n;
    }
    va_end(ap2);
}

void sb_printf(StrBuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

void sb_free(StrBuf *sb)
{
    free(sb->data);
    sb->data = NULL;
    sb->len = sb->cap = 0;
}

char *sb_take(StrBuf *sb)
{
    char *s = sb->data;
    if (!s) {
        s = xmalloc(1);
        s[0] = 0;
    }
    sb->data = NULL;
    sb->len = sb->cap = 0;
    return s;
}

/* ---- interning: open-addressing hash set, process lifetime ---- */
static struct {
    const char **slots;
    size_t cap, count;
    Arena *arena;
} interned;

uint64_t hash_fnv1a(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = seed ? seed : 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ull;
    }
    return h;
}

const char *intern_n(const char *s, size_t n)
{
    if (interned.count * 2 >= interned.cap) {
        size_t ncap = interned.cap ? interned.cap * 2 : 1024;
        const char **ns = calloc(ncap, sizeof *ns);
        if (!ns) abort();
        for (size_t i = 0; i < interned.cap; i++) {
            const char *e = interned.slots[i];
            if (!e) continue;
            size_t j = hash_fnv1a(e, strlen(e), 0) & (ncap - 1);
            while (ns[j]) j = (j + 1) & (ncap - 1);
            ns[j] = e;
        }
        free(interned.slots);
        interned.slots = ns;
        interned.cap = ncap;
        if (!interned.arena) interned.arena = arena_new();
    }
    size_t j = hash_fnv1a(s, n, 0) & (interned.cap - 1);
    for (;;) {
        const char *e = interned.slots[j];
        if (!e) break;
        if (strncmp(e, s, n) == 0 && e[n] == 0) return e;
        j = (j + 1) & (interned.cap - 1);
    }
    const char *copy = arena_strndup(interned.arena, s, n);
    interned.slots[j] = copy;
    interned.count++;
    return copy;
}

const char *intern(const char *s) { return intern_n(s, strlen(s)); }

/* ---- files ---- */
char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap *= 2;
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0) break;
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

/* ---- internal errors ---- */
static _Thread_local IceScope *ice_top;
static _Thread_local const char *ice_what;

void ice_push(IceScope *s)
{
    s->prev = ice_top;
    s->msg[0] = 0;
    ice_top = s;
}

void ice_pop(IceScope *s)
{
    if (ice_top == s) ice_top = s->prev;
}

void ice_context(const char *what) { ice_what = what; }

_Noreturn void ice_fail(const char *file, int line, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    IceScope *s = ice_top;
    if (!s) {
        fprintf(stderr, "internal compiler error: %s:%d: %s%s%s%s\n", file, line, msg,
                ice_what ? " (in '" : "", ice_what ? ice_what : "", ice_what ? "')" : "");
        abort();
    }
    snprintf(s->msg, sizeof s->msg, "internal compiler error: %s:%d: %s%s%s%s", file, line, msg,
             ice_what ? " (in '" : "", ice_what ? ice_what : "", ice_what ? "')" : "");
    ice_top = s->prev;
    longjmp(s->jb, 1);
}
