/* cg_header.c: the outputs for host programs, built on the module's reflection:
 *
 *   --emit=header    <module>.h: typed launch functions, mirrored structs, the loaders
 *   --emit=embed     <module>.embed.c: the package as a C array, the CPU code compiled in and
 *                    registered with the runtime, and dck_load_<module>()
 *   --emit=manifest  <module>.json: the reflection as JSON, for other tools
 *
 * Names (docs/build.md): for module M (the .dck file name made a C identifier),
 *   dck_status M_<kernel>(dck_module, dck_queue, dck_range, <params>)
 *   dck_status M_<pipeline>(dck_module, dck_queue, <params>)
 *   struct M_<Struct>                  a .dck struct with the same layout (asserted; an array
 *                                      field keeps its dimensions: int32_t keys[8])
 *   dck_<type>                         .dck vectors (dck_float4, ...) and dck_half (bits)
 *   dck_load_M(ctx, &module)           from the embedded package (defined by the embed file)
 *   dck_load_M_from_file(ctx, path, &module)
 * Parameters keep their .dck names; a name that is a C or C++ keyword or starts with dck_
 * gets a '_' appended.
 * The header is C99 (-pedantic clean), C11 and C++ (extern "C").
 */
#include "cg.h"

#include <string.h>

/* ---- shared helpers ---- */

static const char *const reserved[] = {
    "alignas",  "alignof",   "and",    "asm",      "auto",      "bool",     "break",    "case",
    "catch",    "char",      "class",  "const",    "constexpr", "continue", "default",  "delete",
    "do",       "double",    "else",   "enum",     "explicit",  "export",   "extern",   "false",
    "float",    "for",       "friend", "goto",     "if",        "inline",   "int",      "long",
    "mutable",  "namespace", "new",    "noexcept", "not",       "nullptr",  "operator", "or",
    "private",  "protected", "public", "register", "restrict",  "return",   "short",    "signed",
    "sizeof",   "static",    "struct", "switch",   "template",  "this",     "throw",    "true",
    "try",      "typedef",   "typeid", "typename", "union",     "unsigned", "using",    "virtual",
    "void",     "volatile",  "while",  "xor",      "char16_t",  "char32_t", "wchar_t",  "concept",
    "requires", "decltype",
};

/* A .dck identifier as a C/C++ identifier (names starting with dck_ get a '_' too: the
 * generated functions use such names for their own parameters and locals). */
static const char *ident(Arena *a, const char *s)
{
    if (strncmp(s, "dck_", 4) == 0) return arena_printf(a, "%s_", s);
    for (int i = 0; i < ARRAY_LEN(reserved); i++)
        if (strcmp(s, reserved[i]) == 0) return arena_printf(a, "%s_", s);
    return s;
}

static const char *const scalar_c[] = {
    [SC_BOOL] = "bool",     [SC_CHAR] = "int8_t",     [SC_UCHAR] = "uint8_t",
    [SC_SHORT] = "int16_t", [SC_USHORT] = "uint16_t", [SC_INT] = "int32_t",
    [SC_UINT] = "uint32_t", [SC_LONG] = "int64_t",    [SC_ULONG] = "uint64_t",
    [SC_HALF] = "dck_half", [SC_FLOAT] = "float",     [SC_DOUBLE] = "double",
};

/* The C spelling of a value type (arrays are handled by decl()). */
static const char *ctype(Arena *a, const CgPackageInfo *info, const Type *t)
{
    switch (t->kind) {
    case TY_VEC: return arena_printf(a, "dck_%s", t->name);
    case TY_STRUCT: return arena_printf(a, "%s_%s", info->module_name, t->name);
    default: return scalar_c[t->scalar];
    }
}

/* "T name[n][m]" for a field of type t. */
static const char *decl(Arena *a, const CgPackageInfo *info, const Type *t, const char *name)
{
    const char *dims = "";
    while (t->kind == TY_ARRAY) {
        dims = arena_printf(a, "%s[%d]", dims, t->n);
        t = t->elem;
    }
    return arena_printf(a, "%s %s%s", ctype(a, info, t), name, dims);
}

static void put_comment_text(StrBuf *o, const char *s)
{
    for (; s && *s; s++)
        sb_putc(o, (s[0] == '*' && s[1] == '/') || (unsigned char)*s < 32 ? '_' : *s);
}

/* ---- vector types used by the module (each defined once per program: guarded) ---- */

typedef VEC(const Type *) Types;

static void note_vec(Arena *a, Types *vs, const Type *t)
{
    while (t->kind == TY_ARRAY || t->kind == TY_BUFFER) t = t->elem;
    if (t->kind == TY_STRUCT) {
        for (int i = 0; i < t->nfields; i++) note_vec(a, vs, t->fields[i].type);
        return;
    }
    if (t->kind != TY_VEC) return;
    for (int i = 0; i < vs->len; i++)
        if (vs->data[i] == t) return;
    vec_push(a, vs, t);
}

static void emit_vectors(Arena *a, const IrModule *m, StrBuf *o)
{
    Types vs = {0};
    for (int i = 0; i < m->structs.len; i++) note_vec(a, &vs, m->structs.data[i]);
    for (int i = 0; i < m->funcs.len; i++)
        if (m->funcs.data[i]->is_kernel)
            for (int p = 0; p < m->funcs.data[i]->nparams; p++)
                note_vec(a, &vs, m->funcs.data[i]->params[p].type);
    for (int i = 0; i < m->pipelines.len; i++)
        for (int p = 0; p < m->pipelines.data[i]->nparams; p++)
            note_vec(a, &vs, m->pipelines.data[i]->params[p].type);
    /* in a fixed order (scalar, width), whatever order the module uses them in */
    for (int i = 1; i < vs.len; i++)
        for (int j = i; j > 0 && (vs.data[j - 1]->scalar > vs.data[j]->scalar ||
                                  (vs.data[j - 1]->scalar == vs.data[j]->scalar &&
                                   vs.data[j - 1]->n > vs.data[j]->n));
             j--) {
            const Type *t = vs.data[j];
            vs.data[j] = vs.data[j - 1];
            vs.data[j - 1] = t;
        }
    static const char comps[] = "xyzw";
    for (int i = 0; i < vs.len; i++) {
        const Type *t = vs.data[i];
        sb_printf(o, "#ifndef DCK_VECTOR_%s_DEFINED\n#define DCK_VECTOR_%s_DEFINED\n", t->name,
                  t->name);
        sb_printf(o, "typedef struct dck_%s { %s ", t->name, scalar_c[t->scalar]);
        for (int k = 0; k < t->n; k++) sb_printf(o, "%s%c", k ? ", " : "", comps[k]);
        sb_printf(o, "; } DCK_ALIGNED(%u) dck_%s;\n", t->align, t->name);
        sb_printf(o, "DCK_STATIC_ASSERT(sizeof(dck_%s) == %u, dck_%s_size);\n#endif\n", t->name,
                  t->size, t->name);
    }
    if (vs.len) sb_putc(o, '\n');
}

/* ---- structs: fields at their .dck offsets, explicit padding, asserted ---- */

static void emit_structs(Arena *a, const IrModule *m, const CgPackageInfo *info, StrBuf *o)
{
    const char *mod = info->module_name;
    for (int i = 0; i < m->structs.len; i++) {
        const Type *t = m->structs.data[i];
        const char *cn = ctype(a, info, t);
        sb_printf(o, "/* struct %s (%u bytes, alignment %u) */\ntypedef struct %s {\n", t->name,
                  t->size, t->align, cn);
        uint32_t at = 0;
        int npad = 0;
        for (int f = 0; f < t->nfields; f++) {
            const Field *fd = &t->fields[f];
            if (fd->offset > at)
                sb_printf(o, "    unsigned char dck_pad%d[%u];\n", npad++, fd->offset - at);
            sb_printf(o, "    %s;\n", decl(a, info, fd->type, ident(a, fd->name)));
            at = fd->offset + fd->type->size;
        }
        if (t->size > at) sb_printf(o, "    unsigned char dck_pad%d[%u];\n", npad++, t->size - at);
        sb_printf(o, "} %s;\n", cn);
        sb_printf(o, "DCK_STATIC_ASSERT(sizeof(%s) == %u, %s_%s_size);\n", cn, t->size, mod,
                  t->name);
        for (int f = 0; f < t->nfields; f++) {
            const Field *fd = &t->fields[f];
            sb_printf(o, "DCK_STATIC_ASSERT(offsetof(%s, %s) == %u, %s_%s_%s_offset);\n", cn,
                      ident(a, fd->name), fd->offset, mod, t->name, fd->name);
            if (fd->type->kind == TY_ARRAY) /* the element stride too, not only the start */
                sb_printf(o, "DCK_STATIC_ASSERT(sizeof(((%s *)0)->%s) == %u, %s_%s_%s_size);\n", cn,
                          ident(a, fd->name), fd->type->size, mod, t->name, fd->name);
        }
        sb_putc(o, '\n');
    }
}

/* ---- launch functions ---- */

/* The dck_arg expression for parameter p named c. */
static const char *arg_expr(Arena *a, const IrParam *p, const char *c)
{
    const Type *t = p->type;
    if (t->kind == TY_BUFFER) return arena_printf(a, "dck_arg_buffer(%s)", c);
    if (t->kind == TY_INT || t->kind == TY_FLOAT) {
        switch (t->scalar) {
        case SC_INT: return arena_printf(a, "dck_arg_i32(%s)", c);
        case SC_UINT: return arena_printf(a, "dck_arg_u32(%s)", c);
        case SC_LONG: return arena_printf(a, "dck_arg_i64(%s)", c);
        case SC_ULONG: return arena_printf(a, "dck_arg_u64(%s)", c);
        case SC_FLOAT: return arena_printf(a, "dck_arg_f32(%s)", c);
        case SC_DOUBLE: return arena_printf(a, "dck_arg_f64(%s)", c);
        default: break;
        }
    }
    /* the bytes, named by the .dck type (bool, narrow ints, half, vectors, structs) */
    return arena_printf(a, "dck_arg_value(&%s, (uint32_t)sizeof %s, \"%s\")", c, c, t->name);
}

static void emit_function(Arena *a, const CgPackageInfo *info, const char *name, const IrParam *ps,
                          int n, bool kernel, int line, StrBuf *o)
{
    sb_printf(
        o,
        "/* %s %s (line %d) */\nstatic inline dck_status %s_%s(dck_module dck_mod, dck_queue dck_q",
        kernel ? "kernel" : "pipeline", name, line, info->module_name, name);
    if (kernel) sb_puts(o, ", dck_range dck_r");
    for (int i = 0; i < n; i++) {
        const Type *t = ps[i].type;
        const char *c = ident(a, ps[i].name);
        if (t->kind == TY_BUFFER)
            sb_printf(o, ", dck_buffer %s", c);
        else
            sb_printf(o, ", %s %s", ctype(a, info, t), c);
    }
    sb_puts(o, ") {\n    dck_kernel dck_k;\n");
    if (n) sb_printf(o, "    dck_arg dck_args[%d];\n", n);
    sb_printf(o, "    dck_status dck_st = dck_module_get_kernel(dck_mod, \"%s\", &dck_k);\n", name);
    sb_puts(o, "    if (dck_st != DCK_SUCCESS) return dck_st;\n");
    for (int i = 0; i < n; i++)
        sb_printf(o, "    dck_args[%d] = %s;\n", i, arg_expr(a, &ps[i], ident(a, ps[i].name)));
    sb_printf(o, "    return dck_launch(dck_q, dck_k, %s, %d, %s, NULL);\n}\n\n",
              kernel ? "&dck_r" : "NULL", n, n ? "dck_args" : "NULL");
}

void cg_emit_header(const IrModule *m, const CgPackageInfo *info, StrBuf *o)
{
    Arena *a = arena_new();
    const char *mod = info->module_name;
    sb_puts(o, "/* Generated by dckc --emit=header from ");
    put_comment_text(o, info->source_name);
    sb_puts(o,
            ". Do not edit.\n * Typed launch functions for the kernels and pipelines of module '");
    sb_puts(o, mod);
    sb_puts(
        o,
        "' (docs/build.md).\n * Every function looks the kernel up in the module and launches it with dck_launch,\n"
        " * which checks the arguments against the kernel's signature. */\n");
    sb_printf(o, "#ifndef DCK_GENERATED_%s_H\n#define DCK_GENERATED_%s_H\n\n", mod, mod);
    sb_puts(
        o,
        "#include <dck.h>\n#include <stddef.h>\n#include <stdint.h>\n#ifndef __cplusplus\n#include <stdbool.h>\n#endif\n\n"
        "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    sb_puts(
        o,
        "#ifndef DCK_GENERATED_COMMON\n#define DCK_GENERATED_COMMON 1\n"
        "#if defined(__cplusplus)\n#define DCK_STATIC_ASSERT(c, id) static_assert(c, #id)\n"
        "#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L\n"
        "#define DCK_STATIC_ASSERT(c, id) _Static_assert(c, #id)\n"
        "#else /* C99: a negative array size fails */\n"
        "#define DCK_STATIC_ASSERT(c, id) typedef char dck_static_assert_##id[(c) ? 1 : -1]\n#endif\n"
        "#if defined(__GNUC__) || defined(__clang__)\n#define DCK_ALIGNED(n) __attribute__((aligned(n)))\n"
        "#elif defined(_MSC_VER)\n#define DCK_ALIGNED(n) __declspec(align(n))\n#else\n#define DCK_ALIGNED(n)\n#endif\n"
        "typedef uint16_t dck_half; /* IEEE binary16 bits */\n#endif\n\n");
    emit_vectors(a, m, o);
    emit_structs(a, m, info, o);
    sb_printf(
        o,
        "/* Loads the module from the package compiled into the program (link the file of\n"
        " * dckc --emit=embed; dck_add_kernels does). */\n"
        "dck_status dck_load_%s(dck_context ctx, dck_module *out);\n"
        "/* Loads the module from a .dckpkg file (dckc --emit=package). */\n"
        "static inline dck_status dck_load_%s_from_file(dck_context ctx, const char *path, dck_module *out) {\n"
        "    return dck_module_create_from_file(ctx, path, NULL, out);\n}\n\n",
        mod, mod);
    for (int i = 0; i < m->funcs.len; i++) {
        const IrFunc *f = m->funcs.data[i];
        if (f->is_kernel && !f->fused) /* a pipeline's fused kernels are launched by the pipeline */
            emit_function(a, info, f->name, f->params, f->nparams, true, f->loc.line, o);
    }
    for (int i = 0; i < m->pipelines.len; i++) {
        const IrPipeline *p = m->pipelines.data[i];
        emit_function(a, info, p->name, p->params, p->nparams, false, p->loc.line, o);
    }
    sb_printf(o, "#ifdef __cplusplus\n}\n#endif\n\n#endif /* DCK_GENERATED_%s_H */\n", mod);
    arena_free(a);
}

/* ---- embed ---- */

static uint64_t package_checksum(const char *pkg, size_t len)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0 && len >= 32; i--) v = v << 8 | (unsigned char)pkg[24 + i];
    return v;
}

void cg_emit_embed(const IrModule *m, const CgPackageInfo *info, const char *pkg, size_t pkg_len,
                   const char *c_source, size_t c_len, StrBuf *o)
{
    const char *mod = info->module_name;
    unsigned long long sum = (unsigned long long)package_checksum(pkg, pkg_len);
    sb_puts(o, "/* Generated by dckc --emit=embed from ");
    put_comment_text(o, info->source_name);
    sb_printf(o, ". Do not edit.\n * Module '%s': its .dckpkg package as a C array (%zu bytes), ",
              mod, pkg_len);
    if (c_source)
        sb_puts(
            o,
            "the CPU code compiled into the\n * program and registered with the runtime (no C compiler "
            "at run time), ");
    sb_printf(
        o,
        "and dck_load_%s(),\n * declared by the header of dckc --emit=header. Compile as C11. */\n\n",
        mod);
    if (c_source) {
        sb_printf(
            o,
            "/* ---- the CPU code (dckc --target=c), its table renamed dck_cpu_module_%s ---- */\n",
            mod);
        sb_printf(o, "#define dck_module dck_cpu_module_%s\n", mod);
        sb_putn(o, c_source, c_len);
        if (c_len && c_source[c_len - 1] != '\n') sb_putc(o, '\n');
        sb_puts(o, "#undef dck_module\n\n");
    }
    sb_puts(o, "#include <dck.h>\n\n");
    sb_printf(o, "static const unsigned char dck_package_%s[%zu] = {", mod, pkg_len);
    for (size_t i = 0; i < pkg_len; i++)
        sb_printf(o, "%s0x%02x,", i % 16 ? " " : "\n    ", (unsigned)(unsigned char)pkg[i]);
    sb_puts(o, "\n};\n\n");
    if (c_source) {
        sb_printf(
            o,
            "#if defined(__GNUC__) || defined(__clang__)\n"
            "/* registered at start-up, so loading the same package from a file also finds it */\n"
            "__attribute__((constructor)) static void dck_register_%s(void) {\n"
            "    (void)dck_register_cpu_code(UINT64_C(0x%016llx), &dck_cpu_module_%s);\n}\n#endif\n\n",
            mod, sum, mod);
    }
    sb_printf(o, "dck_status dck_load_%s(dck_context ctx, dck_module *out) {\n", mod);
    if (c_source)
        sb_printf(
            o,
            "    dck_status st = dck_register_cpu_code(UINT64_C(0x%016llx), &dck_cpu_module_%s);\n"
            "    if (st != DCK_SUCCESS) return st;\n",
            sum, mod);
    sb_printf(
        o,
        "    return dck_module_create_from_package(ctx, dck_package_%s, sizeof dck_package_%s, NULL, out);\n}\n",
        mod, mod);
    (void)m;
}

/* ---- manifest ---- */

static void json_str(StrBuf *o, const char *s)
{
    if (!s) {
        sb_puts(o, "null");
        return;
    }
    sb_putc(o, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            sb_printf(o, "\\%c", c);
        else if (c < 0x20)
            sb_printf(o, "\\u%04x", c);
        else
            sb_putc(o, (char)c);
    }
    sb_putc(o, '"');
}

static uint32_t align_up(uint32_t x, uint32_t al) { return al > 1 ? (x + al - 1) / al * al : x; }

/* Parameters, with the Vulkan/MSL argument-block layout of the GPU kernel ABI (team brief):
 * buffers are bindings 0..nbuf-1, the by-value parameters then each buffer's uint length then
 * the global size x,y,z form one block with C layout. */
static void json_params(StrBuf *o, const IrParam *ps, int n, bool kernel, bool checked)
{
    uint32_t off = 0, binding = 0, nbuf = 0;
    for (int i = 0; i < n; i++) nbuf += ps[i].type->kind == TY_BUFFER;
    sb_puts(o, "[");
    /* by-value offsets first (block order), then buffer lengths */
    uint32_t len_off = 0;
    for (int i = 0; i < n; i++) {
        CgParamInfo pi = cg_param_info(&ps[i]);
        if (pi.kind == DCK_ABI_PARAM_VALUE) off = align_up(off, pi.align) + pi.size;
    }
    len_off = align_up(off, 4);
    off = 0;
    uint32_t nb = 0;
    for (int i = 0; i < n; i++) {
        CgParamInfo pi = cg_param_info(&ps[i]);
        bool buf = pi.kind == DCK_ABI_PARAM_BUFFER;
        sb_printf(o, "%s\n        {\"name\": ", i ? "," : "");
        json_str(o, ps[i].name);
        sb_printf(o, ", \"kind\": \"%s\", \"type\": ", buf ? "buffer" : "value");
        json_str(o, ps[i].type->name);
        sb_puts(o, ", \"element\": ");
        json_str(o, pi.type_name);
        sb_printf(
            o, ", \"scalar\": \"%s\", \"vec\": %u, \"size\": %u, \"align\": %u, \"access\": \"%s\"",
            pi.scalar == DCK_ABI_STRUCT ? "struct" : ty_scalar_name((ScalarId)pi.scalar), pi.vec,
            pi.size, pi.align, buf && !pi.is_const ? "read_write" : "read");
        if (kernel && buf) {
            sb_printf(o, ", \"binding\": %u, \"length_offset\": %u", binding++, len_off + 4 * nb);
            nb++;
        } else if (kernel) {
            off = align_up(off, pi.align);
            sb_printf(o, ", \"block_offset\": %u", off);
            off += pi.size;
        }
        sb_puts(o, "}");
    }
    sb_puts(o, n ? "\n      ]" : "]");
    if (kernel) {
        uint32_t gs = len_off + 4 * nbuf;
        sb_printf(o, ",\n      \"global_size_offset\": %u, \"block_size\": %u", gs,
                  align_up(gs + 12, 4));
        if (checked) sb_printf(o, ", \"oob_binding\": %u", nbuf);
    }
}

void cg_emit_manifest(const IrModule *m, const CgPackageInfo *info, const CgBlob *blobs, int nblobs,
                      StrBuf *o)
{
    bool checked = info->checked || m->checked;
    sb_puts(o, "{\n  \"format\": \"dck-manifest\",\n  \"version\": 1,\n  \"compiler\": ");
    json_str(o, info->compiler_version);
    sb_puts(o, ",\n  \"options\": ");
    json_str(o, info->options);
    sb_puts(o, ",\n  \"source\": ");
    json_str(o, info->source_name);
    sb_puts(o, ",\n  \"module\": ");
    json_str(o, info->module_name);
    sb_printf(o, ",\n  \"checked\": %s,\n  \"targets\": [", checked ? "true" : "false");
    /* sorted by name, as in the package */
    const CgBlob *prev = NULL;
    for (int done = 0; done < nblobs; done++) {
        const CgBlob *next = NULL;
        for (int i = 0; i < nblobs; i++)
            if ((!prev || strcmp(blobs[i].target, prev->target) > 0) &&
                (!next || strcmp(blobs[i].target, next->target) < 0))
                next = &blobs[i];
        if (!next) break;
        sb_printf(o, "%s\n    {\"name\": ", done ? "," : "");
        json_str(o, next->target);
        sb_printf(o, ", \"bytes\": %zu, \"text\": %s}", next->size, next->text ? "true" : "false");
        prev = next;
    }
    sb_puts(o, nblobs ? "\n  ],\n  \"structs\": [" : "],\n  \"structs\": [");
    for (int i = 0; i < m->structs.len; i++) {
        const Type *t = m->structs.data[i];
        sb_printf(o, "%s\n    {\"name\": ", i ? "," : "");
        json_str(o, t->name);
        sb_printf(o, ", \"size\": %u, \"align\": %u, \"fields\": [", t->size, t->align);
        for (int f = 0; f < t->nfields; f++) {
            sb_printf(o, "%s{\"name\": ", f ? ", " : "");
            json_str(o, t->fields[f].name);
            sb_puts(o, ", \"type\": ");
            json_str(o, t->fields[f].type->name);
            sb_printf(o, ", \"offset\": %u}", t->fields[f].offset);
        }
        sb_puts(o, "]}");
    }
    sb_puts(o, m->structs.len ? "\n  ],\n  \"kernels\": [" : "],\n  \"kernels\": [");
    int nk = 0;
    for (int i = 0; i < m->funcs.len; i++) {
        const IrFunc *f = m->funcs.data[i];
        if (!f->is_kernel) continue;
        uint32_t flags = cg_kernel_flags(f, checked);
        sb_printf(o, "%s\n    {\n      \"name\": ", nk++ ? "," : "");
        json_str(o, f->name);
        sb_printf(o, ",\n      \"line\": %d,\n      \"fused\": %s,\n      \"workgroup\": ",
                  f->loc.line, f->fused ? "true" : "false");
        if (f->has_wg)
            sb_printf(o, "[%u, %u, %u]", f->wg[0], f->wg[1], f->wg[2]);
        else
            sb_puts(o, "null");
        sb_printf(
            o,
            ",\n      \"shared_bytes\": %u,\n      \"barrier\": %s, \"atomics\": %s, \"subgroups\": %s, "
            "\"checked\": %s, \"dims\": %d,\n      \"params\": ",
            cg_shared_bytes(f), flags & DCK_ABI_KERNEL_BARRIER ? "true" : "false",
            flags & DCK_ABI_KERNEL_ATOMICS ? "true" : "false",
            flags & DCK_ABI_KERNEL_SUBGROUP ? "true" : "false",
            flags & DCK_ABI_KERNEL_CHECKED ? "true" : "false",
            (flags & DCK_ABI_KERNEL_DIM_Z) || (f->has_wg && f->wg[2] > 1)   ? 3
            : (flags & DCK_ABI_KERNEL_DIM_Y) || (f->has_wg && f->wg[1] > 1) ? 2
                                                                            : 1);
        json_params(o, f->params, f->nparams, true, checked);
        sb_puts(o, "\n    }");
    }
    sb_puts(o, nk ? "\n  ],\n  \"pipelines\": [" : "],\n  \"pipelines\": [");
    for (int i = 0; i < m->pipelines.len; i++) {
        const IrPipeline *p = m->pipelines.data[i];
        sb_printf(o, "%s\n    {\n      \"name\": ", i ? "," : "");
        json_str(o, p->name);
        sb_printf(o, ",\n      \"line\": %d,\n      \"temporaries\": %d,\n      \"launches\": [",
                  p->loc.line, p->temps.len);
        int nl = 0;
        for (int s = 0; s < p->steps.len; s++)
            if (p->steps.data[s].kind == PS_LAUNCH) {
                sb_puts(o, nl++ ? ", " : "");
                json_str(o, p->steps.data[s].kernel->name);
            }
        sb_puts(o, "],\n      \"params\": ");
        json_params(o, p->params, p->nparams, false, checked);
        sb_puts(o, "\n    }");
    }
    sb_puts(o, m->pipelines.len ? "\n  ]\n}\n" : "]\n}\n");
}
