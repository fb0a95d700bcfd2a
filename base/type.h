/* type.h: DCK types, shared by the frontend and the IR.
 *
 * Types are interned: two equal types are the same pointer, so compare with ==.
 * Scalars are singletons (ty_scalar(SC_FLOAT)); vectors, arrays and buffers are made
 * on demand; each struct declaration makes one distinct struct type.
 * Layout follows C with natural alignment; a 3-element vector has the size and alignment
 * of the 4-element one (OpenCL C / MSL rule), so float3 is 16 bytes.
 */
#ifndef DCK_TYPE_H
#define DCK_TYPE_H

#include "util.h"

typedef enum ScalarId {
#define TYPE(ID, name, cls, bits, sgn) SC_##ID,
#include "types.def"
#undef TYPE
    SC_COUNT
} ScalarId;

typedef enum TypeKind {
    TY_VOID,   /* function results only */
    TY_BOOL,   /* scalar bool */
    TY_INT,    /* scalar integer: bits, is_signed */
    TY_FLOAT,  /* scalar float: bits */
    TY_VEC,    /* elem (a scalar type) x n, n in 2..4 */
    TY_STRUCT, /* fields */
    TY_ARRAY,  /* fixed array: elem x n (private or shared memory) */
    TY_BUFFER, /* T[] / const T[]: elem, is_const */
} TypeKind;

typedef struct Type Type;

typedef struct Field {
    const char *name;
    Type *type;
    uint32_t offset; /* byte offset in the C layout */
} Field;

struct Type {
    TypeKind kind;
    ScalarId scalar;  /* scalars: which one; vectors: the element's */
    int bits;         /* scalars */
    bool is_signed;   /* TY_INT */
    int n;            /* TY_VEC: 2..4; TY_ARRAY: element count */
    Type *elem;       /* TY_VEC, TY_ARRAY, TY_BUFFER */
    bool is_const;    /* TY_BUFFER: const T[] */
    const char *name; /* spelling: "float4", "P", "float[8]", "const float[]" */
    Field *fields;    /* TY_STRUCT */
    int nfields;
    uint32_t size, align; /* bytes; 0 for void and buffers */
};

extern Type *ty_void;
Type *ty_scalar(ScalarId id);
Type *ty_vec(Type *elem, int n); /* n == 1 returns elem */
Type *ty_array(Type *elem, int n);
Type *ty_buffer(Type *elem, bool is_const);
/* Makes a new struct type and lays it out; fields are copied. */
Type *ty_struct(const char *name, const Field *fields, int nfields);
Type *ty_with_elem(Type *shape, Type *elem); /* same vector width as shape, new scalar elem */

/* Looks up a scalar/vector spelling such as "float", "u32", "half4"; NULL if none. */
Type *ty_lookup_builtin(const char *spelling);
const char *ty_scalar_name(ScalarId id);

static inline bool ty_is_scalar(const Type *t)
{
    return t->kind == TY_BOOL || t->kind == TY_INT || t->kind == TY_FLOAT;
}
static inline bool ty_is_int(const Type *t)
{
    return t->kind == TY_INT || (t->kind == TY_VEC && t->elem->kind == TY_INT);
}
static inline bool ty_is_float(const Type *t)
{
    return t->kind == TY_FLOAT || (t->kind == TY_VEC && t->elem->kind == TY_FLOAT);
}
static inline bool ty_is_bool(const Type *t)
{
    return t->kind == TY_BOOL || (t->kind == TY_VEC && t->elem->kind == TY_BOOL);
}
static inline bool ty_is_numeric(const Type *t) { return ty_is_int(t) || ty_is_float(t); }
/* Element type of a vector, or the scalar itself. */
static inline Type *ty_elem(Type *t) { return t->kind == TY_VEC ? t->elem : t; }
static inline int ty_width(const Type *t) { return t->kind == TY_VEC ? t->n : 1; }

#endif
