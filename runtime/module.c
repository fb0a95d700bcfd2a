/* module.c: modules, kernel reflection, argument checking and kernel launches.
 *
 * Every launch (from the user or from a pipeline program) goes through check_args, which
 * matches the dck_arg list against the kernel's dck_abi_param reflection and resolves each
 * argument to the pointer the backend passes on (dck_abi.h: a value pointer, or a
 * dck_cpu_buf). Nothing reaches a backend unchecked: a wrong count, type or element size is
 * an error naming the argument, never a crash.
 */
#include "rt.h"
#include "abi/abi.h"
#include "driver/dckc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- binding an ABI module ---- */

static dck_status bad_module(const dck_abi_module *abi, const char *what, const char *name)
{
    return rt_error(DCK_ERROR_INVALID_MODULE, "invalid module%s%s%s: %s%s%s%s",
                    abi->source_name ? " '" : "", abi->source_name ? abi->source_name : "",
                    abi->source_name ? "'" : "", what, name ? " '" : "", name ? name : "",
                    name ? "'" : "");
}

static bool param_ok(const dck_abi_param *p)
{
    bool scalar_ok = p->scalar <= DCK_ABI_F64 || p->scalar == DCK_ABI_STRUCT;
    return p->name && p->type_name && p->kind <= DCK_ABI_PARAM_BUFFER && scalar_ok && p->vec >= 1 &&
           p->vec <= 4 && p->size > 0;
}

dck_status rt_module_bind(dck_module m, const dck_abi_module *abi)
{
    if (abi->magic != DCK_ABI_MAGIC)
        return rt_error(DCK_ERROR_INVALID_MODULE, "not a DCK module (bad magic 0x%08x)",
                        abi->magic);
    if (abi->version != DCK_ABI_VERSION)
        return rt_error(DCK_ERROR_INVALID_MODULE,
                        "module%s%s%s was compiled for ABI version %u; this runtime "
                        "supports version %u (recompile it with this dckc)",
                        abi->source_name ? " '" : "", abi->source_name ? abi->source_name : "",
                        abi->source_name ? "'" : "", abi->version, DCK_ABI_VERSION);
    if ((abi->nkernels && !abi->kernels) || (abi->npipelines && !abi->pipelines))
        return bad_module(abi, "NULL kernel or pipeline table", NULL);
    if (abi->nkernels > 1u << 20 || abi->npipelines > 1u << 20)
        return bad_module(abi, "too many kernels", NULL);
    for (uint32_t i = 0; i < abi->nkernels; i++) {
        const dck_abi_kernel *k = &abi->kernels[i];
        if (!k->name) return bad_module(abi, "unnamed kernel", NULL);
        if (k->nparams && !k->params)
            return bad_module(abi, "NULL parameter table of kernel", k->name);
        for (uint32_t j = 0; j < k->nparams; j++)
            if (!param_ok(&k->params[j]))
                return bad_module(abi, "malformed parameter of kernel", k->name);
        bool fixed = k->wg[0] || k->wg[1] || k->wg[2];
        if (fixed && (!k->wg[0] || !k->wg[1] || !k->wg[2] ||
                      (uint64_t)k->wg[0] * k->wg[1] * k->wg[2] > 1024))
            return bad_module(abi, "invalid [[workgroup]] size of kernel", k->name);
    }
    for (uint32_t i = 0; i < abi->npipelines; i++) {
        const dck_abi_pipeline *p = &abi->pipelines[i];
        if (!p->name) return bad_module(abi, "unnamed pipeline", NULL);
        if (p->nparams && !p->params)
            return bad_module(abi, "NULL parameter table of pipeline", p->name);
        for (uint32_t j = 0; j < p->nparams; j++)
            if (!param_ok(&p->params[j]))
                return bad_module(abi, "malformed parameter of pipeline", p->name);
        if ((p->ncode && !p->code) || (p->nconsts && !p->consts))
            return bad_module(abi, "NULL code or constants of pipeline", p->name);
        if (p->nregs > 1u << 20 || p->ntemps > 1u << 20)
            return bad_module(abi, "too many registers or temporaries in pipeline", p->name);
    }
    uint32_t n = abi->nkernels + abi->npipelines;
    m->abi = abi;
    m->nkernels = n;
    m->kernels = rt_calloc(m->ctx, (n ? n : 1) * sizeof *m->kernels);
    if (!m->kernels) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory loading a module");
    for (uint32_t i = 0; i < n; i++) {
        struct dck_kernel_s *k = &m->kernels[i];
        k->module = m;
        if (i < abi->nkernels) {
            k->kind = DCK_KERNEL;
            k->index = i;
            k->k = &abi->kernels[i];
            k->name = k->k->name;
            k->nparams = k->k->nparams;
            k->params = k->k->params;
        } else {
            k->kind = DCK_PIPELINE;
            k->index = i - abi->nkernels;
            k->p = &abi->pipelines[k->index];
            k->name = k->p->name;
            k->nparams = k->p->nparams;
            k->params = k->p->params;
        }
    }
    return DCK_SUCCESS;
}

/* ---- queries ---- */

dck_status dck_module_get_info(dck_module m, dck_module_info *out)
{
    if (!m || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_module_get_info: NULL argument");
    memset(out, 0, sizeof *out);
    out->source_name = m->abi->source_name;
    out->nkernels = m->nkernels;
    out->cache_hit = m->cache_hit;
    out->cache_path = m->cache_path;
    out->target = m->target[0] ? m->target : NULL;
    return DCK_SUCCESS;
}

dck_status dck_module_get_kernel(dck_module m, const char *name, dck_kernel *out)
{
    if (out) *out = NULL;
    if (!m || !name || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_module_get_kernel: NULL argument");
    for (uint32_t i = 0; i < m->nkernels; i++)
        if (strcmp(m->kernels[i].name, name) == 0) {
            *out = &m->kernels[i];
            return DCK_SUCCESS;
        }
    char list[1024];
    size_t len = 0;
    list[0] = 0;
    for (uint32_t i = 0; i < m->nkernels && len < sizeof list - 1; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                m->kernels[i].name);
    const char *src = m->abi->source_name;
    return rt_error(
        DCK_ERROR_NOT_FOUND, "no kernel or pipeline named '%s' in module%s%s%s (it has: %s)", name,
        src ? " '" : "", src ? src : "", src ? "'" : "", m->nkernels ? list : "nothing");
}

dck_status dck_module_get_kernel_at(dck_module m, uint32_t index, dck_kernel *out)
{
    if (out) *out = NULL;
    if (!m || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_module_get_kernel_at: NULL argument");
    if (index >= m->nkernels)
        return rt_error(DCK_ERROR_NOT_FOUND, "kernel index %u out of range (the module has %u)",
                        index, m->nkernels);
    *out = &m->kernels[index];
    return DCK_SUCCESS;
}

dck_status dck_kernel_get_info(dck_kernel k, dck_kernel_info *out)
{
    if (!k || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_kernel_get_info: NULL argument");
    memset(out, 0, sizeof *out);
    out->name = k->name;
    out->kind = k->kind;
    out->nparams = k->nparams;
    if (k->k) {
        memcpy(out->workgroup, k->k->wg, sizeof out->workgroup);
        out->shared_bytes = k->k->shared_bytes;
        out->uses_barrier = (k->k->flags & DCK_ABI_KERNEL_BARRIER) != 0;
        out->line = k->k->line;
        uint32_t f = k->k->flags;
        out->dims = (f & DCK_ABI_KERNEL_DIM_Z) || k->k->wg[2] > 1   ? 3
                    : (f & DCK_ABI_KERNEL_DIM_Y) || k->k->wg[1] > 1 ? 2
                                                                    : 1;
    } else {
        out->line = k->p->line;
    }
    return DCK_SUCCESS;
}

dck_status dck_kernel_get_param(dck_kernel k, uint32_t index, dck_param_info *out)
{
    if (!k || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_kernel_get_param: NULL argument");
    if (index >= k->nparams)
        return rt_error(DCK_ERROR_NOT_FOUND, "%s '%s' has %u parameters; index %u does not exist",
                        k->kind == DCK_KERNEL ? "kernel" : "pipeline", k->name, k->nparams, index);
    const dck_abi_param *p = &k->params[index];
    memset(out, 0, sizeof *out);
    out->name = p->name;
    out->kind = p->kind == DCK_ABI_PARAM_BUFFER ? DCK_PARAM_BUFFER : DCK_PARAM_VALUE;
    out->access =
        p->kind == DCK_ABI_PARAM_BUFFER && !p->is_const ? DCK_ACCESS_READ_WRITE : DCK_ACCESS_READ;
    out->type = (dck_type)p->scalar;
    out->vec = p->vec;
    out->size = p->size;
    out->align = p->align;
    out->type_name = p->type_name;
    return DCK_SUCCESS;
}

/* ---- argument checking ---- */

static const char *kind_word(dck_kernel k) { return k->kind == DCK_KERNEL ? "kernel" : "pipeline"; }

static const char *article(const char *word) { return strchr("aeioAEIO", word[0]) ? "an" : "a"; }

/* "float", "float4", "Particle": what a parameter holds */
static void param_type(const dck_abi_param *p, char *out, size_t n)
{
    if (p->kind == DCK_ABI_PARAM_BUFFER)
        snprintf(out, n, "%s%s[]", p->is_const ? "const " : "", p->type_name);
    else
        snprintf(out, n, "%s", p->type_name);
}

static void describe_arg(const dck_arg *a, char *out, size_t n)
{
    if (a->kind == DCK_ARG_BUFFER) {
        snprintf(out, n, "a buffer");
    } else if (a->type_name) {
        snprintf(out, n, "%s '%s'", article(a->type_name), a->type_name);
    } else if (a->type == DCK_TYPE_UNKNOWN || a->type == DCK_TYPE_STRUCT) {
        snprintf(out, n, "%u bytes of untyped value", a->size);
    } else {
        const char *t = rt_type_name(a->type);
        if (a->vec > 1)
            snprintf(out, n, "%s %s%u", article(t), t, a->vec);
        else
            snprintf(out, n, "%s %s", article(t), t);
    }
}

/* Parses "float4", "i32", "uint2" into scalar type and width; false for anything else. */
static bool parse_vector_name(const char *s, dck_type *t, uint32_t *vec)
{
    static const struct {
        const char *name;
        dck_type t;
    } names[] = {
        {"bool", DCK_TYPE_BOOL}, {"char", DCK_TYPE_I8},    {"uchar", DCK_TYPE_U8},
        {"short", DCK_TYPE_I16}, {"ushort", DCK_TYPE_U16}, {"int", DCK_TYPE_I32},
        {"uint", DCK_TYPE_U32},  {"long", DCK_TYPE_I64},   {"ulong", DCK_TYPE_U64},
        {"half", DCK_TYPE_F16},  {"float", DCK_TYPE_F32},  {"double", DCK_TYPE_F64},
        {"i8", DCK_TYPE_I8},     {"u8", DCK_TYPE_U8},      {"i16", DCK_TYPE_I16},
        {"u16", DCK_TYPE_U16},   {"i32", DCK_TYPE_I32},    {"u32", DCK_TYPE_U32},
        {"i64", DCK_TYPE_I64},   {"u64", DCK_TYPE_U64},    {"f16", DCK_TYPE_F16},
        {"f32", DCK_TYPE_F32},   {"f64", DCK_TYPE_F64},
    };
    size_t len = strlen(s);
    uint32_t v = 1;
    if (len > 1 && s[len - 1] >= '2' && s[len - 1] <= '4') {
        /* "i32" ends in a digit but is a scalar: try the whole name first */
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strcmp(s, names[i].name) == 0) {
                *t = names[i].t;
                *vec = 1;
                return true;
            }
        v = (uint32_t)(s[len - 1] - '0');
        len--;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == len && strncmp(s, names[i].name, len) == 0) {
            *t = names[i].t;
            *vec = v;
            return true;
        }
    return false;
}

static bool is_int_type(uint32_t t) { return t <= DCK_TYPE_U64; } /* bool counts as an integer */
static bool is_signed_type(uint32_t t)
{
    return t == DCK_TYPE_I8 || t == DCK_TYPE_I16 || t == DCK_TYPE_I32 || t == DCK_TYPE_I64;
}

/* float <-> half (IEEE binary16), round to nearest even; shared with dckrun. */
uint16_t rt_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, exp = (x >> 23) & 0xffu, man = x & 0x7fffffu;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++; /* may carry into the exponent: correct */
    return (uint16_t)(sign | h);
}

float rt_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, x;
    if (exp == 0) {
        if (!man)
            x = sign;
        else {
            int e = -1;
            do {
                man <<= 1;
                e++;
            } while (!(man & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        x = sign | 0x7f800000u | (man << 13);
    } else {
        x = sign | ((exp - 15 + 127) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* An integer argument converted to an integer parameter of another width or signedness:
 * the value must be representable. */
static bool convert_int(const dck_arg *a, uint32_t to, uint64_t *conv)
{
    bool neg = false;
    uint64_t mag;
    switch (a->type) {
    case DCK_TYPE_I32:
        neg = a->v.i32 < 0;
        mag = neg ? (uint64_t)(-(int64_t)a->v.i32) : (uint64_t)a->v.i32;
        break;
    case DCK_TYPE_U32: mag = a->v.u32; break;
    case DCK_TYPE_I64:
        neg = a->v.i64 < 0;
        mag = neg ? (uint64_t)0 - (uint64_t)a->v.i64 : (uint64_t)a->v.i64;
        break;
    case DCK_TYPE_U64: mag = a->v.u64; break;
    default: return false;
    }
    static const unsigned bits[] = {1, 8, 8, 16, 16, 32, 32, 64, 64};
    unsigned b = bits[to];
    if (neg) {
        if (!is_signed_type(to) || mag > (1ull << (b - 1))) return false;
    } else {
        uint64_t max = b == 64 ? (is_signed_type(to) ? (uint64_t)INT64_MAX : UINT64_MAX)
                       : is_signed_type(to) ? (1ull << (b - 1)) - 1
                                            : (1ull << b) - 1;
        if (mag > max) return false;
    }
    uint64_t v = neg ? (uint64_t)0 - mag : mag;
    *conv = 0;
    memcpy(conv, &v, b == 1 ? 1 : b / 8); /* little-endian: the low bytes */
    return true;
}

typedef struct ArgState {
    void **vals;        /* per parameter: what the backend receives */
    dck_buffer *bufs;   /* per parameter: the buffer, or NULL */
    dck_cpu_buf *cbufs; /* per parameter */
    uint64_t *conv;     /* per parameter: converted scalar */
} ArgState;

/* Kernels of up to ARG_STACK parameters prepare their launch in the caller's `stack` (no
 * allocation on the launch path); arg_state_free releases what arg_state_new allocated. */
enum { ARG_STACK = 16 };
typedef union ArgStack {
    char bytes[ARG_STACK * (sizeof(void *) + sizeof(dck_buffer) + sizeof(dck_cpu_buf) + 8)];
    uint64_t align;
} ArgStack;

static dck_status arg_state_new(dck_context ctx, uint32_t n, ArgState *s, ArgStack *stack)
{
    size_t sz =
        (size_t)(n ? n : 1) * (sizeof(void *) + sizeof(dck_buffer) + sizeof(dck_cpu_buf) + 8);
    char *p = sz <= sizeof stack->bytes ? memset(stack->bytes, 0, sz) : rt_calloc(ctx, sz);
    if (!p) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory preparing a launch");
    s->cbufs = (dck_cpu_buf *)p;
    s->conv = (uint64_t *)(s->cbufs + n);
    s->vals = (void **)(s->conv + n);
    s->bufs = (dck_buffer *)(s->vals + n);
    return DCK_SUCCESS;
}

static void arg_state_free(dck_context ctx, ArgState *s, ArgStack *stack)
{
    if ((char *)s->cbufs != stack->bytes) rt_free(ctx, s->cbufs);
}

static dck_status arg_error(dck_kernel k, uint32_t i, const dck_arg *a, const char *extra)
{
    const dck_abi_param *p = &k->params[i];
    char want[160], got[160];
    param_type(p, want, sizeof want);
    describe_arg(a, got, sizeof got);
    if (p->kind == DCK_ABI_PARAM_BUFFER)
        return rt_error(DCK_ERROR_ARGUMENT_TYPE,
                        "argument %u ('%s') of %s '%s' expects a buffer of '%s', got %s%s", i + 1,
                        p->name, kind_word(k), k->name, want, got, extra ? extra : "");
    return rt_error(DCK_ERROR_ARGUMENT_TYPE,
                    "argument %u ('%s') of %s '%s' expects %s '%s', got %s%s", i + 1, p->name,
                    kind_word(k), k->name, article(want), want, got, extra ? extra : "");
}

static dck_status check_value(dck_kernel k, uint32_t i, const dck_arg *a, ArgState *s)
{
    const dck_abi_param *p = &k->params[i];
    const void *src = a->ptr ? a->ptr : (const void *)a->v.bytes;
    if (a->ptr == NULL && a->size > sizeof a->v.bytes)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "argument %u ('%s') of %s '%s': a value of %u bytes needs "
                        "a pointer (dck_arg_value)",
                        i + 1, p->name, kind_word(k), k->name, a->size);
    dck_type at = a->type;
    uint32_t avec = a->vec ? a->vec : 1;
    if (a->type_name && !parse_vector_name(a->type_name, &at, &avec)) at = DCK_TYPE_STRUCT;
    char extra[96];
    if (at == DCK_TYPE_UNKNOWN) { /* raw bytes: only the size */
        if (a->size != p->size) {
            snprintf(extra, sizeof extra, " (the parameter has %u bytes)", p->size);
            return arg_error(k, i, a, extra);
        }
        s->vals[i] = (void *)src;
        return DCK_SUCCESS;
    }
    if (at == DCK_TYPE_STRUCT || p->scalar == DCK_ABI_STRUCT) {
        if (at != DCK_TYPE_STRUCT || p->scalar != DCK_ABI_STRUCT || !a->type_name ||
            strcmp(a->type_name, p->type_name) != 0)
            return arg_error(k, i, a, NULL);
        if (a->size != p->size) {
            snprintf(extra, sizeof extra, " of %u bytes (the parameter has %u bytes)", a->size,
                     p->size);
            return arg_error(k, i, a, extra);
        }
        s->vals[i] = (void *)src;
        return DCK_SUCCESS;
    }
    if (avec != p->vec) return arg_error(k, i, a, NULL);
    if ((uint32_t)at == p->scalar) {
        if (a->size != p->size) {
            snprintf(extra, sizeof extra, " of %u bytes (the parameter has %u bytes)", a->size,
                     p->size);
            return arg_error(k, i, a, extra);
        }
        s->vals[i] = (void *)src;
        return DCK_SUCCESS;
    }
    if (avec == 1 && is_int_type(at) && is_int_type(p->scalar)) {
        if (!convert_int(a, p->scalar, &s->conv[i])) {
            snprintf(extra, sizeof extra, " whose value does not fit in '%s'", p->type_name);
            return arg_error(k, i, a, extra);
        }
        s->vals[i] = &s->conv[i];
        return DCK_SUCCESS;
    }
    if (avec == 1 && at == DCK_TYPE_F32 && p->scalar == DCK_ABI_F16) {
        float f;
        memcpy(&f, src, 4);
        uint16_t h = rt_f32_to_f16(f);
        memcpy(&s->conv[i], &h, 2);
        s->vals[i] = &s->conv[i];
        return DCK_SUCCESS;
    }
    return arg_error(k, i, a, NULL);
}

static dck_status check_buffer(dck_kernel k, uint32_t i, const dck_arg *a, ArgState *s)
{
    const dck_abi_param *p = &k->params[i];
    dck_buffer b = a->buffer;
    char extra[160];
    if (a->kind != DCK_ARG_BUFFER) return arg_error(k, i, a, NULL);
    if (!b) return arg_error(k, i, a, " that is NULL");
    if (b->ctx != k->module->ctx) return arg_error(k, i, a, " of another context");
    if (b->elem_size != p->size) {
        if (b->type != DCK_TYPE_UNKNOWN && b->type != DCK_TYPE_STRUCT) {
            char vec[12] = "";
            if (b->vec > 1) snprintf(vec, sizeof vec, "%u", b->vec);
            snprintf(extra, sizeof extra,
                     " of %s%s (%u-byte elements; the parameter's are %u bytes)",
                     rt_type_name(b->type), vec, b->elem_size, p->size);
        } else
            snprintf(extra, sizeof extra, " of %u-byte elements (the parameter's are %u bytes)",
                     b->elem_size, p->size);
        return arg_error(k, i, a, extra);
    }
    if (b->mapped)
        return rt_error(DCK_ERROR_BUFFER_MAPPED,
                        "argument %u ('%s') of %s '%s': the buffer is mapped "
                        "(dck_buffer_unmap it before launching)",
                        i + 1, p->name, kind_word(k), k->name);
    s->bufs[i] = b;
    s->cbufs[i].data = b->data;
    s->cbufs[i].len = b->count;
    s->vals[i] = &s->cbufs[i];
    return DCK_SUCCESS;
}

static dck_status check_args(dck_kernel k, uint32_t nargs, const dck_arg *args, ArgState *s)
{
    if (nargs && !args)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_launch: args is NULL with nargs %u (%s '%s')", nargs, kind_word(k),
                        k->name);
    if (nargs != k->nparams) {
        char sig[1024];
        size_t len = 0;
        sig[0] = 0;
        for (uint32_t i = 0; i < k->nparams && len < sizeof sig - 1; i++) {
            char t[160];
            param_type(&k->params[i], t, sizeof t);
            len += (size_t)snprintf(sig + len, sizeof sig - len, "%s%s %s", i ? ", " : "", t,
                                    k->params[i].name);
        }
        return rt_error(DCK_ERROR_ARGUMENT_COUNT, "%s '%s' expects %u argument%s (%s), got %u",
                        kind_word(k), k->name, k->nparams, k->nparams == 1 ? "" : "s", sig, nargs);
    }
    for (uint32_t i = 0; i < nargs; i++) {
        const dck_arg *a = &args[i];
        if (a->kind != DCK_ARG_BUFFER && a->kind != DCK_ARG_VALUE)
            return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                            "argument %u ('%s') of %s '%s': kind %d is not a dck_arg_kind (use "
                            "dck_arg_buffer, dck_arg_value or dck_arg_i32 and friends)",
                            i + 1, k->params[i].name, kind_word(k), k->name, (int)a->kind);
        if (a->kind == DCK_ARG_VALUE && (!rt_type_valid(a->type) || a->vec > 4))
            return rt_error(
                DCK_ERROR_INVALID_ARGUMENT, "argument %u ('%s') of %s '%s': %s %d is not %s", i + 1,
                k->params[i].name, kind_word(k), k->name, !rt_type_valid(a->type) ? "type" : "vec",
                !rt_type_valid(a->type) ? (int)a->type : (int)a->vec,
                !rt_type_valid(a->type) ? "a dck_type" : "0..4");
        dck_status st = k->params[i].kind == DCK_ABI_PARAM_BUFFER ? check_buffer(k, i, a, s)
                                                                  : check_value(k, i, a, s);
        if (st) return st;
    }
    return DCK_SUCCESS;
}

/* Checked mode: distinct buffer parameters must not overlap when one of them is written. */
static dck_status check_overlap(dck_kernel k, const ArgState *s)
{
    for (uint32_t i = 0; i < k->nparams; i++) {
        dck_buffer a = s->bufs[i];
        if (!a || !a->size) continue;
        for (uint32_t j = i + 1; j < k->nparams; j++) {
            dck_buffer b = s->bufs[j];
            if (!b || !b->size) continue;
            bool wi = !k->params[i].is_const, wj = !k->params[j].is_const;
            if (!wi && !wj) continue;
            /* distinct device allocations never overlap; host memory is compared by address */
            const char *pa = a->data, *pb = b->data;
            if (a == b || (pa && pb && pa < pb + b->size && pb < pa + a->size))
                return rt_error(
                    DCK_ERROR_ALIASING,
                    "arguments %u ('%s') and %u ('%s') of %s '%s' overlap (%s, "
                    "and %s written); buffer parameters must not alias",
                    i + 1, k->params[i].name, j + 1, k->params[j].name, kind_word(k), k->name,
                    a == b ? "the same buffer is passed twice" : "their memory overlaps",
                    wi && wj ? "both are"
                    : wi     ? (k->params[i].name)
                             : k->params[j].name);
        }
    }
    return DCK_SUCCESS;
}

/* ---- ranges ---- */

static uint32_t largest_divisor_at_most(uint32_t g, uint32_t cap)
{
    for (uint32_t d = cap; d > 1; d--)
        if (g % d == 0) return d;
    return 1;
}

static dck_status resolve_range(dck_kernel kh, const dck_range *r, RtLaunch *l)
{
    const dck_abi_kernel *k = kh->k;
    const dck_device_info *dev = &kh->module->ctx->device.info;
    if (!r)
        return rt_error(DCK_ERROR_INVALID_RANGE, "kernel '%s' needs a dck_range (got NULL)",
                        kh->name);
    if (r->dims < 1 || r->dims > 3)
        return rt_error(DCK_ERROR_INVALID_RANGE,
                        "kernel '%s': range dims must be 1, 2 or 3 (got %u)", kh->name, r->dims);
    l->dims = r->dims;
    uint32_t nlocal = 0;
    for (uint32_t d = 0; d < 3; d++) {
        l->global[d] = d < r->dims ? r->global[d] : 1;
        if (d < r->dims && r->local[d]) nlocal++;
    }
    if (nlocal && nlocal != r->dims)
        return rt_error(DCK_ERROR_INVALID_RANGE,
                        "kernel '%s': the local size must be given in every dimension "
                        "or in none (0 = the runtime chooses)",
                        kh->name);
    bool fixed = k->wg[0] != 0;
    bool barrier = (k->flags & DCK_ABI_KERNEL_BARRIER) != 0;
    static const uint32_t defaults[3][3] = {{64, 1, 1}, {16, 4, 1}, {8, 4, 2}};
    /* the CPU runs a group gang by gang along x, row after row: for a kernel without
       barriers, groups one row high and 256 wide keep each gang's loads in long contiguous
       rows (the 5-point stencil of bench/ runs 1.45x faster than with 16 x 4) */
    static const uint32_t cpu_defaults[3][3] = {{64, 1, 1}, {256, 1, 1}, {256, 1, 1}};
    const bool cpu_plain =
        kh->module->ctx->backend->id == DCK_BACKEND_CPU && !(k->flags & DCK_ABI_KERNEL_BARRIER);
    for (uint32_t d = 0; d < 3; d++) {
        uint32_t want = nlocal ? (d < r->dims ? r->local[d] : 1) : 0;
        if (fixed) {
            if (want && want != k->wg[d])
                return rt_error(DCK_ERROR_INVALID_RANGE,
                                "kernel '%s' has [[workgroup(%u, %u, %u)]] and cannot be "
                                "launched with local size (%u, %u, %u)",
                                kh->name, k->wg[0], k->wg[1], k->wg[2], r->local[0],
                                r->dims > 1 ? r->local[1] : 1, r->dims > 2 ? r->local[2] : 1);
            l->local[d] = k->wg[d];
        } else if (want) {
            l->local[d] = want;
        } else {
            uint32_t def = (cpu_plain ? cpu_defaults : defaults)[r->dims - 1][d], g = l->global[d];
            if (barrier)
                l->local[d] = g ? largest_divisor_at_most(g, def) : def;
            else
                l->local[d] = g && g < def ? g : def;
        }
    }
    uint64_t items = (uint64_t)l->local[0] * l->local[1] * l->local[2];
    for (uint32_t d = 0; d < 3; d++)
        if (l->local[d] > dev->max_work_group_dims[d])
            return rt_error(DCK_ERROR_INVALID_RANGE,
                            "kernel '%s': local size %u in dimension %u exceeds the "
                            "maximum %u of device '%s'",
                            kh->name, l->local[d], d, dev->max_work_group_dims[d], dev->name);
    if (items > dev->max_work_group_size)
        return rt_error(DCK_ERROR_INVALID_RANGE,
                        "kernel '%s': work-group of %llu work-items exceeds the maximum "
                        "%u of device '%s'",
                        kh->name, (unsigned long long)items, dev->max_work_group_size, dev->name);
    for (uint32_t d = 0; d < 3; d++) {
        if (barrier && l->global[d] % l->local[d])
            return rt_error(
                DCK_ERROR_INVALID_RANGE,
                "kernel '%s' uses barrier(), so its global size must be a "
                "multiple of its local size: %u is not a multiple of %u in dimension %u",
                kh->name, l->global[d], l->local[d], d);
        l->groups[d] = (uint32_t)(((uint64_t)l->global[d] + l->local[d] - 1) / l->local[d]);
    }
    return DCK_SUCCESS;
}

/* ---- launches ---- */

static dck_status oob_error(dck_kernel kh, const dck_cpu_oob *o)
{
    const char *src = kh->module->abi->source_name;
    const char *buf = o->param < kh->nparams ? kh->params[o->param].name : "?";
    return rt_error(DCK_ERROR_OUT_OF_BOUNDS,
                    "out-of-bounds %s buffer '%s' (index %llu, length %llu) in kernel "
                    "'%s' at line %u%s%s",
                    o->is_write ? "write to" : "read from", buf, (unsigned long long)o->index,
                    (unsigned long long)o->len, kh->name, o->line, src ? " of " : "",
                    src ? src : "");
}

static dck_status launch_kernel(dck_queue q, dck_kernel kh, const dck_range *range, uint32_t nargs,
                                const dck_arg *args, RtDevEvent **ev_out)
{
    dck_context ctx = q->ctx;
    ArgState s = {0};
    ArgStack stack;
    dck_status st = arg_state_new(ctx, kh->nparams, &s, &stack);
    if (st) return st;
    RtLaunch l;
    memset(&l, 0, sizeof l);
    l.k = kh->k;
    l.module = kh->module;
    l.kernel_index = kh->index;
    l.kernel_name = kh->name;
    l.args = s.vals;
    l.bufs = s.bufs;
    l.checked = (ctx->flags & DCK_CONTEXT_CHECKED) || (kh->k->flags & DCK_ABI_KERNEL_CHECKED);
    st = check_args(kh, nargs, args, &s);
    if (!st) st = resolve_range(kh, range, &l);
    if (!st && l.checked) st = check_overlap(kh, &s);
    if (!st) {
        dck_cpu_oob oob;
        memset(&oob, 0, sizeof oob);
        uint64_t t0 = ctx->trace_path ? rt_now_ns() : 0; /* clock reads only when tracing */
        /* asynchronous backends time a traced launch on the device: the record is completed
           when its queue is finished, so tracing does not wait for the work */
        bool timed = ev_out || (ctx->trace_path && ctx->backend->event_times);
        void *bev = NULL;
        st = ctx->backend->launch(q, &l, l.checked ? &oob : NULL, timed ? &bev : NULL);
        RtDevEvent *dev = st ? NULL : rt_devev_wrap(ctx, bev);
        if (st && bev && ctx->backend->event_release) ctx->backend->event_release(ctx, bev);
        if (ctx->trace_path && !st) {
            if (dev && ctx->backend->event_times)
                rt_trace_device(ctx, q, "launch", kh->name, l.global, dev, dev);
            else
                rt_trace(ctx, "launch", kh->name, t0, rt_now_ns(), 0, l.global);
        }
        if (!st && oob.hit) st = oob_error(kh, &oob);
        if (ev_out && !st)
            *ev_out = dev;
        else
            rt_devev_unref(ctx, dev);
    }
    arg_state_free(ctx, &s, &stack);
    return st;
}

dck_status rt_launch_kernel(dck_queue q, dck_kernel kh, const dck_range *range, uint32_t nargs,
                            const dck_arg *args, RtDevEvent **ev_out)
{
    if (ev_out) *ev_out = NULL;
    return launch_kernel(q, kh, range, nargs, args, ev_out);
}

dck_status dck_launch(dck_queue q, dck_kernel k, const dck_range *range, uint32_t nargs,
                      const dck_arg *args, dck_event *out_event)
{
    if (out_event) *out_event = NULL;
    if (!q || !k)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_launch: NULL %s", q ? "kernel" : "queue");
    dck_context ctx = q->ctx;
    if (k->module->ctx != ctx)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_launch: %s '%s' belongs to another context", kind_word(k), k->name);
    /* the clock is read only for an event or a trace (a launch must cost little more than the
     * backend's own call; in some VMs clock_gettime is a system call) */
    uint64_t t0 = out_event || ctx->trace_path ? rt_now_ns() : 0;
    dck_status st;
    RtDevEvent *span[2] = {NULL, NULL}; /* the device events of the first and last launch */
    if (k->kind == DCK_KERNEL) {
        st = rt_launch_kernel(q, k, range, nargs, args, out_event ? &span[1] : NULL);
        span[0] = rt_devev_ref(ctx, span[1]);
    } else {
        ArgState s = {0};
        ArgStack stack;
        st = arg_state_new(ctx, k->nparams, &s, &stack);
        if (st) return st;
        st = check_args(k, nargs, args, &s);
        if (!st && (ctx->flags & DCK_CONTEXT_CHECKED)) st = check_overlap(k, &s);
        if (!st) {
            bool timed = out_event || (ctx->trace_path && ctx->backend->event_times);
            st = rt_pipeline_run(q, k, s.vals, s.bufs, timed ? span : NULL);
            if (!st && span[1])
                rt_trace_device(ctx, q, "pipeline", k->name, NULL, span[0], span[1]);
            else if (!st)
                rt_trace(ctx, "pipeline", k->name, t0, rt_now_ns(), 0, NULL);
        }
        arg_state_free(ctx, &s, &stack);
    }
    uint64_t t1 = out_event ? rt_now_ns() : 0;
    if (!st && out_event) st = rt_event_new(ctx, t0, t1, out_event);
    if (st) {
        rt_devev_unref(ctx, span[0]);
        rt_devev_unref(ctx, span[1]);
        const char *dev = ctx->device.info.name;
        if (!strstr(dck_last_error(), dev)) rt_error_suffix(" (device '%s')", dev);
        return st;
    }
    if (out_event) {
        (*out_event)->first = span[0];
        (*out_event)->last = span[1];
    } else {
        rt_devev_unref(ctx, span[0]);
        rt_devev_unref(ctx, span[1]);
    }
    return DCK_SUCCESS;
}

/* ---- modules for backends that load package blobs ---- */

const char *rt_module_targets(dck_context ctx, const char *prefer, char *buf, size_t n)
{
    if (prefer && *prefer) {
        snprintf(buf, n, "%s", prefer);
        return buf;
    }
    const char *env = getenv("DCK_OPENCL_PROGRAM");
    if (ctx->backend->id == DCK_BACKEND_OPENCL && env && *env) {
        snprintf(buf, n, "%s", strcmp(env, "spirv") == 0 ? "spirv-opencl" : env);
        return buf;
    }
    snprintf(buf, n, "%s", ctx->backend->targets ? ctx->backend->targets : "");
    return buf;
}

/* Is `t` one of the comma-separated targets of `list`? */
static bool in_list(const char *list, const char *t)
{
    size_t tl = strlen(t);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == tl && strncmp(p, t, l) == 0) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

static dck_status check_target(dck_context ctx, const char *targets)
{
    const char *all = ctx->backend->targets ? ctx->backend->targets : "";
    for (const char *p = targets; *p;) {
        const char *e = strchr(p, ',');
        char t[32];
        snprintf(t, sizeof t, "%.*s", (int)(e ? (size_t)(e - p) : strlen(p)), p);
        if (!in_list(all, t))
            return rt_error(DCK_ERROR_UNSUPPORTED,
                            "backend '%s' cannot run target '%s' (it runs: %s)", ctx->backend->name,
                            t, all);
        if (!e) break;
        p = e + 1;
    }
    return DCK_SUCCESS;
}

static void copy_target(dck_module m, const char *t)
{
    snprintf(m->target, sizeof m->target, "%s", t);
}

/* Tries the package's blobs for this backend in order (rt_package_candidates, or the
 * targets `prefer` / $DCK_OPENCL_PROGRAM name) and keeps the first that loads. */
dck_status rt_module_from_package(dck_context ctx, RtPackage *pkg, const char *prefer, dck_module m)
{
    const RtBlob *cands[16];
    uint32_t n = 0;
    char targets[160];
    rt_module_targets(ctx, prefer, targets, sizeof targets);
    bool explicit = (prefer && *prefer) ||
                    strcmp(targets, ctx->backend->targets ? ctx->backend->targets : "") != 0;
    dck_status st;
    if (explicit && (st = check_target(ctx, targets))) return st;
    if (!pkg->abi.nkernels && !pkg->abi.npipelines) {
        /* nothing to run, so no device code to load: such a module loads on every backend
           (SPIR-V for Vulkan cannot even hold it: a package has no spirv-vulkan for it) */
        if ((st = rt_module_bind(m, &pkg->abi))) return st;
        m->pkg = pkg;
        return DCK_SUCCESS;
    }
    if (explicit) {
        for (const char *p = targets; *p && n < 16;) {
            const char *e = strchr(p, ',');
            char t[32];
            snprintf(t, sizeof t, "%.*s", (int)(e ? (size_t)(e - p) : strlen(p)), p);
            const RtBlob *b = rt_package_blob(pkg, t);
            if (b) cands[n++] = b;
            if (!e) break;
            p = e + 1;
        }
    } else {
        n = rt_package_candidates(pkg, ctx->backend->id, 0, ctx->spirv_ok, cands, 16);
    }
    const char *src = pkg->abi.source_name;
    if (!n) {
        char have[256] = "";
        size_t len = 0;
        for (uint32_t i = 0; i < pkg->nblobs && len < sizeof have; i++)
            len += (size_t)snprintf(have + len, sizeof have - len, "%s%s", i ? ", " : "",
                                    pkg->blobs[i].target);
        return rt_error(DCK_ERROR_NOT_FOUND,
                        "package%s%s%s has no code for backend '%s' (it runs: %s; the "
                        "package has: %s)",
                        src ? " '" : "", src ? src : "", src ? "'" : "", ctx->backend->name,
                        !explicit && ctx->backend->id == DCK_BACKEND_OPENCL && !ctx->spirv_ok
                            ? "opencl; spirv-opencl needs a device with cl_khr_spir and llvm-spirv"
                            : targets,
                        pkg->nblobs ? have : "nothing");
    }
    if (!ctx->backend->module_load)
        return rt_error(DCK_ERROR_UNSUPPORTED, "backend '%s' cannot load packages",
                        ctx->backend->name);
    st = DCK_SUCCESS;
    for (uint32_t i = 0; i < n; i++) {
        if (ctx->backend->module_unload && m->backend_data) ctx->backend->module_unload(m);
        rt_free(ctx, m->kernels);
        m->kernels = NULL;
        if ((st = rt_module_bind(m, &pkg->abi))) return st;
        copy_target(m, cands[i]->target);
        if (!(st = ctx->backend->module_load(ctx, pkg, cands[i], m))) break;
        if (st == DCK_ERROR_OUT_OF_MEMORY) return st;
    }
    if (st) return st; /* the last candidate's reason */
    m->pkg = pkg;
    return DCK_SUCCESS;
}

/* A package holding the first target of the list, compiled from source. */
dck_status rt_module_from_source_pkg(dck_context ctx, const char *path, const char *source,
                                     const dck_module_options *o, dck_module m)
{
    char targets[160];
    rt_module_targets(ctx, o ? o->target : NULL, targets, sizeof targets);
    dck_status st = check_target(ctx, targets);
    if (st) return st;
    char first[32];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(targets, ","), targets);
    char dtarget[16];
    const char *variant; /* the SPIR-V env of "spirv-vulkan", the sm of "ptx-sm90" */
    abi_blob_parse(first, dtarget, sizeof dtarget, &variant);
    bool spirv = strcmp(dtarget, "spirv") == 0, ptx = strcmp(dtarget, "ptx") == 0;
    RtPackage *pkg = NULL;
    st = rt_package_compile_for(ctx, path, source, o, dtarget, spirv ? variant : NULL,
                                ptx ? variant : NULL, &pkg);
    if (st) return st;
    st = rt_module_from_package(ctx, pkg, first, m);
    if (st) rt_package_free(ctx, pkg);
    return st;
}
