/* type.c: interned types and the C layout rules (float3 has float4's size and alignment). */
#include "type.h"

#include <stdio.h>
#include <string.h>

static Arena *type_arena(void)
{
    static Arena *a;
    if (!a) a = arena_new();
    return a;
}

static Type void_type = {.kind = TY_VOID, .name = "void"};
Type *ty_void = &void_type;

static Type scalars[SC_COUNT] = {
#define TYPE(ID, nm, cls, b, sgn)   \
    [SC_##ID] = {.kind = cls,       \
                 .scalar = SC_##ID, \
                 .bits = b,         \
                 .is_signed = sgn,  \
                 .name = nm,        \
                 .size = (b) / 8,   \
                 .align = (b) / 8},
#include "types.def"
#undef TYPE
};

Type *ty_scalar(ScalarId id) { return &scalars[id]; }
const char *ty_scalar_name(ScalarId id) { return scalars[id].name; }

static Type *vectors[SC_COUNT][5];

Type *ty_vec(Type *elem, int n)
{
    if (n == 1) return elem;
    ICE_ASSERT(ty_is_scalar(elem) && n >= 2 && n <= 4);
    Type **slot = &vectors[elem->scalar][n];
    if (!*slot) {
        Type *t = arena_alloc(type_arena(), sizeof *t);
        t->kind = TY_VEC;
        t->scalar = elem->scalar;
        t->bits = elem->bits;
        t->is_signed = elem->is_signed;
        t->n = n;
        t->elem = elem;
        t->name = arena_printf(type_arena(), "%s%d", elem->name, n);
        int storage = n == 3 ? 4 : n;
        t->size = elem->size * storage;
        t->align = t->size;
        *slot = t;
    }
    return *slot;
}

Type *ty_with_elem(Type *shape, Type *elem) { return ty_vec(elem, ty_width(shape)); }

/* arrays and buffers: small linked lists keyed by (elem, n / const) */
typedef struct Derived {
    struct Derived *next;
    Type *t;
} Derived;
static Derived *derived;

Type *ty_array(Type *elem, int n)
{
    for (Derived *d = derived; d; d = d->next)
        if (d->t->kind == TY_ARRAY && d->t->elem == elem && d->t->n == n) return d->t;
    Type *t = arena_alloc(type_arena(), sizeof *t);
    t->kind = TY_ARRAY;
    t->elem = elem;
    t->n = n;
    /* name: element name with the dimensions in declaration order: float[16][17] */
    const char *en = elem->name;
    const char *br = strchr(en, '[');
    if (elem->kind == TY_ARRAY && br)
        t->name = arena_printf(type_arena(), "%.*s[%d]%s", (int)(br - en), en, n, br);
    else
        t->name = arena_printf(type_arena(), "%s[%d]", en, n);
    t->size = elem->size * (uint32_t)n;
    t->align = elem->align;
    Derived *d = arena_alloc(type_arena(), sizeof *d);
    d->t = t;
    d->next = derived;
    derived = d;
    return t;
}

Type *ty_buffer(Type *elem, bool is_const)
{
    for (Derived *d = derived; d; d = d->next)
        if (d->t->kind == TY_BUFFER && d->t->elem == elem && d->t->is_const == is_const)
            return d->t;
    Type *t = arena_alloc(type_arena(), sizeof *t);
    t->kind = TY_BUFFER;
    t->elem = elem;
    t->is_const = is_const;
    t->name = arena_printf(type_arena(), "%s%s[]", is_const ? "const " : "", elem->name);
    Derived *d = arena_alloc(type_arena(), sizeof *d);
    d->t = t;
    d->next = derived;
    derived = d;
    return t;
}

Type *ty_struct(const char *name, const Field *fields, int nfields)
{
    Type *t = arena_alloc(type_arena(), sizeof *t);
    t->kind = TY_STRUCT;
    t->name = intern(name);
    t->nfields = nfields;
    t->fields = arena_alloc(type_arena(), sizeof(Field) * (size_t)(nfields ? nfields : 1));
    uint32_t off = 0, align = 1;
    for (int i = 0; i < nfields; i++) {
        Field f = fields[i];
        uint32_t a = f.type->align ? f.type->align : 1;
        off = (off + a - 1) / a * a;
        f.offset = off;
        off += f.type->size;
        if (a > align) align = a;
        t->fields[i] = f;
    }
    t->align = align;
    t->size = (off + align - 1) / align * align;
    if (t->size == 0) t->size = align; /* empty struct: one unit, as in C++ */
    return t;
}

Type *ty_lookup_builtin(const char *s)
{
    static const struct {
        const char *name;
        ScalarId id;
        bool has_vectors; /* main spellings have vectors (float4); aliases (f32) do not */
    } names[] = {
#define ALIAS(nm, ID)             {nm, SC_##ID, false},
#define TYPE(ID, nm, cls, b, sgn) {nm, SC_##ID, true},
#include "types.def"
#undef TYPE
#undef ALIAS
    };
    if (strcmp(s, "void") == 0) return ty_void;
    size_t n = strlen(s);
    for (int i = 0; i < ARRAY_LEN(names); i++) {
        size_t an = strlen(names[i].name);
        if (strncmp(s, names[i].name, an) != 0) continue;
        if (n == an) return ty_scalar(names[i].id);
        if (names[i].has_vectors && n == an + 1 && s[an] >= '2' && s[an] <= '4')
            return ty_vec(ty_scalar(names[i].id), s[an] - '0');
    }
    return NULL;
}
