/* util.h: arenas, growable arrays, string buffers, hashing and internal errors.
 *
 * Shared by every part of the compiler (lang/, compiler/, codegen/). Memory for one
 * compilation comes from one Arena and is released at once; nothing in the core calls
 * free() on individual objects. Internal errors (compiler bugs) unwind to the driver
 * through ice(); the library never calls exit().
 */
#ifndef DCK_UTIL_H
#define DCK_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- source locations ----
 * file: index into the compilation's file table (lang/diag.h); -1 = none. line/col 1-based. */
typedef struct Loc {
    int file;
    int line, col;
} Loc;

/* ---- arena ---- */
typedef struct Arena Arena;
Arena *arena_new(void);
void arena_free(Arena *a);             /* accepts NULL */
void *arena_alloc(Arena *a, size_t n); /* zeroed, 16-byte aligned */
void *arena_realloc(Arena *a, void *p, size_t old, size_t n);
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- growable arrays in an arena: VEC(T) v = {0}; vec_push(arena, &v, x); ---- */
#define VEC(T)        \
    struct {          \
        T *data;      \
        int len, cap; \
    }
#define vec_push(A, V, X)                                                            \
    do {                                                                             \
        if ((V)->len == (V)->cap) {                                                  \
            int nc_ = (V)->cap ? (V)->cap * 2 : 8;                                   \
            (V)->data = arena_realloc((A), (V)->data, sizeof(*(V)->data) * (V)->cap, \
                                      sizeof(*(V)->data) * nc_);                     \
            (V)->cap = nc_;                                                          \
        }                                                                            \
        (V)->data[(V)->len++] = (X);                                                 \
    } while (0)

/* ---- heap string buffer (for outputs that outlive the arena) ---- */
typedef struct StrBuf {
    char *data; /* always NUL-terminated once anything was written */
    size_t len, cap;
} StrBuf;
void sb_putc(StrBuf *sb, char c);
void sb_puts(StrBuf *sb, const char *s);
void sb_putn(StrBuf *sb, const void *p, size_t n);
void sb_printf(StrBuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(StrBuf *sb, const char *fmt, va_list ap);
void sb_free(StrBuf *sb);
char *sb_take(StrBuf *sb); /* returns the malloc'd string (never NULL), resets sb */

/* ---- string interning: equal strings give the same pointer (process lifetime) ---- */
const char *intern(const char *s);
const char *intern_n(const char *s, size_t n);

/* ---- hashing ---- */
uint64_t hash_fnv1a(const void *p, size_t n, uint64_t seed);

/* ---- files ---- */
/* Reads a whole file; returns NULL and sets errno on failure. *len may be NULL. malloc'd. */
char *read_file(const char *path, size_t *len);

/* ---- internal errors ----
 * ice() formats "internal compiler error: <file>:<line>: <msg> (in '<kernel>')" into the
 * active IceScope's message and longjmps to it. A driver entry point installs a scope
 * with ICE_TRY; code outside any scope aborts. ice_context() names the kernel being compiled. */
typedef struct IceScope {
    jmp_buf jb;
    struct IceScope *prev;
    char msg[1024];
} IceScope;
void ice_push(IceScope *s);
void ice_pop(IceScope *s);
void ice_context(const char *what); /* e.g. the kernel name; NULL clears */
_Noreturn void ice_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define ICE(...) ice_fail(__FILE__, __LINE__, __VA_ARGS__)
#define ICE_ASSERT(c)                              \
    do {                                           \
        if (!(c)) ICE("assertion failed: %s", #c); \
    } while (0)

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

#endif
