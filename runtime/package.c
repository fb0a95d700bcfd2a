/* package.c: reading .dckpkg packages (layout in dckpkg.h), the target fallback order, the
 * registry of CPU code compiled into the program, and the file-loading entry point.
 *
 * The parser checks the whole image before building anything from it, and builds the
 * reflection (dck_abi_module) into arrays it owns, pointing into its own copy of the bytes.
 * Every read goes through a bounds-checked helper, every count is checked against the
 * section that holds its records before it is used to size an allocation.
 */
#include "rt.h"
#include "package.h"
#include "abi/abi.h"

#include "driver/dckc.h"

/* libspirv.h defines a const at file scope, which in C is a definition with external linkage;
   codegen/cg_spirv.c includes it too, and both end up in the same link */
#define kDefaultMaxIdBound rt_spirv_max_id_bound
#include <spirv-tools/libspirv.h>
#undef kDefaultMaxIdBound

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- little-endian reads (bounds are checked by the callers) ---- */

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

typedef struct Sec {
    uint64_t off, size;
} Sec;

typedef struct Parse {
    const uint8_t *b; /* the package copy */
    uint64_t size;
    Sec sec[DCK_PKG_NSECTIONS];
} Parse;

/* A malformed package: the message says what is wrong and where. */
#define BAD(...) rt_error(DCK_ERROR_INVALID_MODULE, "invalid package: " __VA_ARGS__)
#define ULL(x)   ((unsigned long long)(x))

/* A string reference: NULL for DCK_PKG_NO_STRING when allowed, else a pointer to a
 * NUL-terminated string inside the string section (the section ends with a NUL). */
static bool get_str(const Parse *ps, uint32_t ref, bool nullable, const char **out)
{
    if (ref == DCK_PKG_NO_STRING) {
        *out = NULL;
        return nullable;
    }
    const Sec *s = &ps->sec[DCK_PKG_SEC_STRINGS];
    if (ref >= s->size) return false;
    *out = (const char *)ps->b + s->off + ref;
    return true;
}

/* Word i of record r of a u32 record section. */
static uint32_t rec32(const Parse *ps, int sec, uint32_t words, uint32_t r, uint32_t i)
{
    return rd32(ps->b + ps->sec[sec].off + ((uint64_t)r * words + i) * 4);
}

static const char *const section_names[DCK_PKG_NSECTIONS] = {
    "strings", "kernels", "pipelines", "params", "code", "consts", "blobs"};

static bool range_ok(uint64_t first, uint64_t n, uint64_t total)
{
    return first <= total && n <= total - first;
}

static bool param_ok(const dck_abi_param *p)
{
    bool scalar_ok = p->scalar <= DCK_ABI_F64 || p->scalar == DCK_ABI_STRUCT;
    return p->name && p->type_name && p->kind <= DCK_ABI_PARAM_BUFFER && p->is_const <= 1 &&
           scalar_ok && p->vec >= 1 && p->vec <= 4 && p->size > 0 && p->align > 0 &&
           p->align <= p->size;
}

static dck_status parse_image(dck_context ctx, RtPackage *pkg)
{
    Parse ps = {pkg->bytes, pkg->nbytes, {{0, 0}}};
    const uint8_t *b = ps.b;
    uint64_t size = ps.size;
    if (size < DCK_PKG_MAGIC_SIZE || memcmp(b, DCK_PKG_MAGIC, DCK_PKG_MAGIC_SIZE) != 0)
        return rt_error(DCK_ERROR_INVALID_MODULE,
                        "not a DCK package (no .dckpkg magic at the start%s)",
                        size < DCK_PKG_MAGIC_SIZE ? "; the data is shorter than the magic" : "");
    if (size < DCK_PKG_OFF_HEADER_SIZE + 4)
        return BAD("truncated: %llu bytes, the header alone has %d", ULL(size),
                   DCK_PKG_HEADER_SIZE);
    uint32_t version = rd32(b + DCK_PKG_OFF_VERSION);
    if (version > DCK_PKG_VERSION)
        return rt_error(
            DCK_ERROR_UNSUPPORTED,
            "package format version %u is newer than this runtime reads "
            "(version %u): update libdckrt, or rebuild the package with a matching dckc",
            version, DCK_PKG_VERSION);
    if (version == 0) return BAD("format version 0");
    if (size < DCK_PKG_HEADER_SIZE)
        return BAD("truncated: %llu bytes, the header alone has %d", ULL(size),
                   DCK_PKG_HEADER_SIZE);
    if (rd32(b + DCK_PKG_OFF_HEADER_SIZE) != DCK_PKG_HEADER_SIZE)
        return BAD("header size %u (expected %d)", rd32(b + DCK_PKG_OFF_HEADER_SIZE),
                   DCK_PKG_HEADER_SIZE);
    uint64_t file_size = rd64(b + DCK_PKG_OFF_FILE_SIZE);
    if (file_size > size)
        return BAD("truncated: the header says %llu bytes, only %llu are there", ULL(file_size),
                   ULL(size));
    if (file_size < size)
        return BAD("%llu bytes of package followed by %llu unexpected bytes", ULL(file_size),
                   ULL(size - file_size));
    uint64_t sum = rd64(b + DCK_PKG_OFF_CHECKSUM), actual = dck_pkg_checksum(b, size);
    if (sum != actual)
        return rt_error(DCK_ERROR_INVALID_MODULE,
                        "corrupted package: checksum 0x%016llx does not match the "
                        "contents (0x%016llx)",
                        (unsigned long long)sum, (unsigned long long)actual);
    uint32_t abi_version = rd32(b + DCK_PKG_OFF_ABI_VERSION);
    if (abi_version != DCK_ABI_VERSION)
        return rt_error(abi_version > DCK_ABI_VERSION ? DCK_ERROR_UNSUPPORTED
                                                      : DCK_ERROR_INVALID_MODULE,
                        "package built for kernel ABI version %u; this runtime supports version %u "
                        "(rebuild it with a matching dckc)",
                        abi_version, DCK_ABI_VERSION);
    pkg->format_version = version;
    pkg->flags = rd32(b + DCK_PKG_OFF_FLAGS);
    if (pkg->flags & ~(uint32_t)DCK_PKG_FLAG_CHECKED) return BAD("unknown flags 0x%x", pkg->flags);
    pkg->checksum = sum;

    uint32_t cnt[6];
    for (int k = 0; k < 6; k++) cnt[k] = rd32(b + DCK_PKG_OFF_COUNTS + 4 * k);
    uint32_t nkernels = cnt[0], npipes = cnt[1], nparams = cnt[2], ncode = cnt[3], nconsts = cnt[4],
             nblobs = cnt[5];
    const uint64_t want[DCK_PKG_NSECTIONS] = {
        0,
        (uint64_t)nkernels * DCK_PKG_KERNEL_WORDS * 4,
        (uint64_t)npipes * DCK_PKG_PIPELINE_WORDS * 4,
        (uint64_t)nparams * DCK_PKG_PARAM_WORDS * 4,
        (uint64_t)ncode * 4,
        (uint64_t)nconsts * 8,
        (uint64_t)nblobs * DCK_PKG_BLOB_BYTES,
    };
    for (int s = 0; s < DCK_PKG_NSECTIONS; s++) {
        Sec *sec = &ps.sec[s];
        sec->off = rd64(b + DCK_PKG_OFF_SECTIONS + 16 * s);
        sec->size = rd64(b + DCK_PKG_OFF_SECTIONS + 16 * s + 8);
        if (sec->off < DCK_PKG_HEADER_SIZE || sec->off % 8 || !range_ok(sec->off, sec->size, size))
            return BAD("section '%s' at %llu (%llu bytes) lies outside the package",
                       section_names[s], ULL(sec->off), ULL(sec->size));
        if (s != DCK_PKG_SEC_STRINGS && sec->size != want[s])
            return BAD("section '%s' has %llu bytes; its count needs %llu", section_names[s],
                       ULL(sec->size), ULL(want[s]));
    }
    const Sec *st = &ps.sec[DCK_PKG_SEC_STRINGS];
    if (st->size == 0 || b[st->off] != 0 || b[st->off + st->size - 1] != 0)
        return BAD("the string table (%llu bytes) must start and end with a NUL", ULL(st->size));
    const char *hs[4];
    for (int k = 0; k < 4; k++)
        if (!get_str(&ps, rd32(b + DCK_PKG_OFF_STRINGS + 4 * k), k == 2, &hs[k]))
            return BAD("header string %d is not in the string table", k);
    pkg->compiler_version = hs[0];
    pkg->options = hs[1];
    pkg->abi.source_name = hs[2];
    pkg->module_name = hs[3];

    /* the arrays, sized by counts the section sizes have just confirmed */
    pkg->kernels = rt_calloc(ctx, (nkernels ? nkernels : 1) * sizeof *pkg->kernels);
    pkg->pipelines = rt_calloc(ctx, (npipes ? npipes : 1) * sizeof *pkg->pipelines);
    pkg->params = rt_calloc(ctx, (nparams ? nparams : 1) * sizeof *pkg->params);
    pkg->code = rt_calloc(ctx, (ncode ? ncode : 1) * sizeof *pkg->code);
    pkg->consts = rt_calloc(ctx, (nconsts ? nconsts : 1) * sizeof *pkg->consts);
    pkg->blobs = rt_calloc(ctx, (nblobs ? nblobs : 1) * sizeof *pkg->blobs);
    if (!pkg->kernels || !pkg->pipelines || !pkg->params || !pkg->code || !pkg->consts ||
        !pkg->blobs)
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory reading a package");

    for (uint32_t i = 0; i < nparams; i++) {
        dck_abi_param *p = &pkg->params[i];
        uint32_t w[DCK_PKG_PARAM_WORDS];
        for (uint32_t k = 0; k < DCK_PKG_PARAM_WORDS; k++)
            w[k] = rec32(&ps, DCK_PKG_SEC_PARAMS, DCK_PKG_PARAM_WORDS, i, k);
        if (!get_str(&ps, w[0], false, &p->name) || !get_str(&ps, w[7], false, &p->type_name))
            return BAD("parameter %u has a bad name or type string", i);
        p->kind = w[1];
        p->is_const = w[2];
        p->scalar = w[3];
        p->vec = w[4];
        p->size = w[5];
        p->align = w[6];
        if (!param_ok(p)) return BAD("parameter '%s' (record %u) is malformed", p->name, i);
    }
    for (uint32_t i = 0; i < nkernels; i++) {
        dck_abi_kernel *k = &pkg->kernels[i];
        uint32_t w[DCK_PKG_KERNEL_WORDS];
        for (uint32_t j = 0; j < DCK_PKG_KERNEL_WORDS; j++)
            w[j] = rec32(&ps, DCK_PKG_SEC_KERNELS, DCK_PKG_KERNEL_WORDS, i, j);
        if (!get_str(&ps, w[0], false, &k->name)) return BAD("kernel %u has a bad name string", i);
        if (!range_ok(w[1], w[2], nparams))
            return BAD("kernel '%s': parameters %u+%u are outside the parameter table", k->name,
                       w[1], w[2]);
        k->nparams = w[2];
        k->params = w[2] ? &pkg->params[w[1]] : NULL;
        k->wg[0] = w[3];
        k->wg[1] = w[4];
        k->wg[2] = w[5];
        k->shared_bytes = w[6];
        k->flags = w[7];
        k->line = w[8];
        if (k->flags &
            ~(uint32_t)(DCK_ABI_KERNEL_BARRIER | DCK_ABI_KERNEL_ATOMICS | DCK_ABI_KERNEL_SUBGROUP |
                        DCK_ABI_KERNEL_CHECKED | DCK_ABI_KERNEL_DIM_Y | DCK_ABI_KERNEL_DIM_Z))
            return BAD("kernel '%s': unknown flags 0x%x", k->name, k->flags);
        if (w[9] != 0) return BAD("kernel '%s': reserved word is %u", k->name, w[9]);
    }
    for (uint32_t i = 0; i < npipes; i++) {
        dck_abi_pipeline *p = &pkg->pipelines[i];
        uint32_t w[DCK_PKG_PIPELINE_WORDS];
        for (uint32_t j = 0; j < DCK_PKG_PIPELINE_WORDS; j++)
            w[j] = rec32(&ps, DCK_PKG_SEC_PIPELINES, DCK_PKG_PIPELINE_WORDS, i, j);
        if (!get_str(&ps, w[0], false, &p->name))
            return BAD("pipeline %u has a bad name string", i);
        if (!range_ok(w[1], w[2], nparams))
            return BAD("pipeline '%s': parameters %u+%u are outside the parameter table", p->name,
                       w[1], w[2]);
        if (!range_ok(w[5], w[6], ncode) || w[6] == 0)
            return BAD("pipeline '%s': code words %u+%u are outside the code section", p->name,
                       w[5], w[6]);
        if (!range_ok(w[7], w[8], nconsts))
            return BAD("pipeline '%s': constants %u+%u are outside the constants section", p->name,
                       w[7], w[8]);
        p->nparams = w[2];
        p->params = w[2] ? &pkg->params[w[1]] : NULL;
        p->ntemps = w[3];
        p->nregs = w[4];
        p->ncode = w[6];
        p->code = &pkg->code[w[5]];
        p->nconsts = w[8];
        p->consts = w[8] ? &pkg->consts[w[7]] : NULL;
        p->line = w[9];
    }
    for (uint32_t i = 0; i < ncode; i++)
        pkg->code[i] = rd32(b + ps.sec[DCK_PKG_SEC_CODE].off + 4 * (uint64_t)i);
    for (uint32_t i = 0; i < nconsts; i++)
        pkg->consts[i] = rd64(b + ps.sec[DCK_PKG_SEC_CONSTS].off + 8 * (uint64_t)i);

    const Sec *bs = &ps.sec[DCK_PKG_SEC_BLOBS];
    for (uint32_t i = 0; i < nblobs; i++) {
        const uint8_t *r = b + bs->off + (uint64_t)i * DCK_PKG_BLOB_BYTES;
        RtBlob *blob = &pkg->blobs[i];
        const char *name;
        uint32_t flags = rd32(r + 4);
        uint64_t off = rd64(r + 8), len = rd64(r + 16);
        if (!get_str(&ps, rd32(r), false, &name) || !name[0] || strlen(name) >= sizeof blob->target)
            return BAD("blob %u has a bad target name", i);
        if (flags & ~(uint32_t)DCK_PKG_BLOB_TEXT)
            return BAD("blob '%s': unknown flags 0x%x", name, flags);
        bool text = flags & DCK_PKG_BLOB_TEXT;
        if (off < DCK_PKG_HEADER_SIZE || off % DCK_PKG_BLOB_ALIGN || !range_ok(off, len, size) ||
            (text && len == size - off))
            return BAD(
                "blob '%s' at %llu (%llu bytes) lies outside the package or is not 16-byte aligned",
                name, ULL(off), ULL(len));
        if (text && b[off + len] != 0) return BAD("text blob '%s' is not NUL-terminated", name);
        if (i > 0 && strcmp(pkg->blobs[i - 1].target, name) >= 0)
            return BAD("blob '%s' is out of order or repeated", name);
        memcpy(blob->target, name, strlen(name) + 1);
        blob->data = b + off;
        blob->size = len;
    }
    pkg->nblobs = nblobs;
    pkg->abi.magic = DCK_ABI_MAGIC;
    pkg->abi.version = DCK_ABI_VERSION;
    pkg->abi.nkernels = nkernels;
    pkg->abi.kernels = nkernels ? pkg->kernels : NULL;
    pkg->abi.npipelines = npipes;
    pkg->abi.pipelines = npipes ? pkg->pipelines : NULL;
    return DCK_SUCCESS;
}

dck_status rt_package_parse(dck_context ctx, const void *data, size_t size, RtPackage **out)
{
    if (!out) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "rt_package_parse: NULL out");
    *out = NULL;
    if (!ctx || (!data && size))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "rt_package_parse: NULL argument");
    RtPackage *pkg = rt_calloc(ctx, sizeof *pkg);
    if (!pkg || !(pkg->bytes = rt_alloc(ctx, size ? size : 1))) {
        rt_free(ctx, pkg);
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory reading a package of %zu bytes",
                        size);
    }
    if (size) memcpy(pkg->bytes, data, size);
    pkg->nbytes = size;
    dck_status st = parse_image(ctx, pkg);
    if (st) {
        rt_package_free(ctx, pkg);
        return st;
    }
    *out = pkg;
    return DCK_SUCCESS;
}

const RtBlob *rt_package_blob(const RtPackage *p, const char *target)
{
    if (!p || !target) return NULL;
    for (uint32_t i = 0; i < p->nblobs; i++)
        if (strcmp(p->blobs[i].target, target) == 0) return &p->blobs[i];
    return NULL;
}

void rt_package_free(dck_context ctx, RtPackage *p)
{
    if (!p) return;
    rt_free(ctx, p->kernels);
    rt_free(ctx, p->pipelines);
    rt_free(ctx, p->params);
    rt_free(ctx, p->code);
    rt_free(ctx, p->consts);
    rt_free(ctx, p->blobs);
    rt_free(ctx, p->bytes);
    rt_free(ctx, p);
}

/* ---- SPIR-V blobs ---- */

dck_status rt_package_check_spirv(const RtPackage *pkg, const RtBlob *blob)
{
    if (!pkg || pkg->compiled_here) return DCK_SUCCESS;
    bool vk = strcmp(blob->target, "spirv-vulkan") == 0;
    const char *src = pkg->abi.source_name ? pkg->abi.source_name : "<module>";
    size_t n = (size_t)blob->size / 4;
    if (blob->size % 4 || n < 5 || rd32(blob->data) != 0x07230203u)
        return rt_error(DCK_ERROR_INVALID_MODULE,
                        "invalid package '%s': its %s code is not a SPIR-V module (%llu bytes)",
                        src, blob->target, (unsigned long long)blob->size);
    uint32_t *w = malloc(n * sizeof *w); /* the blob may be unaligned in the package */
    if (!w) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory checking '%s'", src);
    bool core_only = false;
    for (size_t i = 0; i < n; i++) w[i] = rd32(blob->data + 4 * i);
    /* as dckc validates: OpenCL modules with Float16 or Int64Atomics against the core rules */
    for (size_t i = 5; i < n && (w[i] >> 16);) {
        if ((w[i] & 0xffffu) == 17 /* OpCapability */ && i + 1 < n)
            core_only |= w[i + 1] == 9 /* Float16 */ || w[i + 1] == 12 /* Int64Atomics */;
        i += w[i] >> 16;
    }
    spv_context sc = spvContextCreate(vk          ? SPV_ENV_VULKAN_1_1
                                      : core_only ? SPV_ENV_UNIVERSAL_1_0
                                                  : SPV_ENV_OPENCL_1_2);
    spv_const_binary_t bin = {w, n};
    spv_diagnostic diag = NULL;
    dck_status st = DCK_SUCCESS;
    if (!sc)
        st = rt_error(DCK_ERROR_OUT_OF_MEMORY, "cannot create a SPIR-V validation context");
    else if (spvValidate(sc, &bin, &diag) != SPV_SUCCESS)
        st = rt_error(DCK_ERROR_INVALID_MODULE,
                      "invalid package '%s': its %s code is not valid SPIR-V: %s", src,
                      blob->target, diag && diag->error ? diag->error : "(no message)");
    spvDiagnosticDestroy(diag);
    if (sc) spvContextDestroy(sc);
    /* every kernel of the reflection an entry point of the module (the driver looks it up) */
    for (uint32_t k = 0; !st && k < pkg->abi.nkernels; k++) {
        const char *name = pkg->abi.kernels[k].name;
        bool found = false;
        for (size_t i = 5; i < n && (w[i] >> 16) && !found;) {
            uint32_t len = w[i] >> 16;
            if ((w[i] & 0xffffu) == 15 /* OpEntryPoint */ && len > 3 && i + len <= n)
                found = strncmp((const char *)&w[i + 3], name, (size_t)(len - 3) * 4) == 0 &&
                        strlen(name) < (size_t)(len - 3) * 4;
            i += len;
        }
        if (!found)
            st = rt_error(DCK_ERROR_INVALID_MODULE,
                          "invalid package '%s': its %s code has no entry point for kernel '%s'",
                          src, blob->target, name);
    }
    free(w);
    return st;
}

/* ---- compiling a package in process (the runtime's path from .dck source) ---- */

/* "NAME" or "NAME=VALUE": NAME an identifier, no line break anywhere (the preprocessor turns
 * each define into a #define line) */
static bool define_ok(const char *d)
{
    if (!(d[0] == '_' || (d[0] >= 'a' && d[0] <= 'z') || (d[0] >= 'A' && d[0] <= 'Z')))
        return false;
    const char *p = d + 1;
    while (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
           (*p >= '0' && *p <= '9'))
        p++;
    return (*p == 0 || *p == '=') && !strpbrk(p, "\r\n");
}

dck_status rt_check_module_options(const dck_module_options *o, const char *fn)
{
    if (!o) return DCK_SUCCESS;
    dck_status st = rt_check_next(o->next, fn, "options");
    if (st) return st;
    if (o->flags & ~DCK_MODULE_CHECKED)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "%s: options->flags 0x%x has unknown bits 0x%x (the only flag is "
                        "DCK_MODULE_CHECKED)",
                        fn, o->flags, o->flags & ~DCK_MODULE_CHECKED);
    if (o->opt_level > 3)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "%s: options->opt_level is %d (0..3, or negative for the default)", fn,
                        (int)o->opt_level);
    if (o->ndefines > RT_MAX_OPTION_COUNT || o->ninclude_dirs > RT_MAX_OPTION_COUNT)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "%s: options->%s is %u; the most is %u", fn,
                        o->ndefines > RT_MAX_OPTION_COUNT ? "ndefines" : "ninclude_dirs",
                        o->ndefines > RT_MAX_OPTION_COUNT ? o->ndefines : o->ninclude_dirs,
                        RT_MAX_OPTION_COUNT);
    if ((o->ndefines && !o->defines) || (o->ninclude_dirs && !o->include_dirs))
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "%s: options->%s is NULL with %s %u", fn,
                        o->ndefines && !o->defines ? "defines" : "include_dirs",
                        o->ndefines && !o->defines ? "ndefines" : "ninclude_dirs",
                        o->ndefines && !o->defines ? o->ndefines : o->ninclude_dirs);
    for (uint32_t i = 0; i < o->ndefines; i++) {
        if (!o->defines[i])
            return rt_error(DCK_ERROR_INVALID_ARGUMENT, "%s: options->defines[%u] is NULL", fn, i);
        if (!define_ok(o->defines[i]))
            return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                            "%s: options->defines[%u] is \"%.64s\"; expected NAME or NAME=VALUE "
                            "(NAME an identifier, no line break)",
                            fn, i, o->defines[i]);
    }
    for (uint32_t i = 0; i < o->ninclude_dirs; i++) {
        if (!o->include_dirs[i])
            return rt_error(DCK_ERROR_INVALID_ARGUMENT, "%s: options->include_dirs[%u] is NULL", fn,
                            i);
        if (!o->include_dirs[i][0])
            return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                            "%s: options->include_dirs[%u] is empty (\".\" names the current "
                            "directory)",
                            fn, i);
    }
    return DCK_SUCCESS;
}

/* Fills opts (after dckc_options_init) from the module options and the context's checked
 * flag. *defs and *incs are allocated here (NULL when empty); the caller frees them with
 * rt_free after dckc_compile. */
dck_status rt_dckc_options(dck_context ctx, const char *path, const dck_module_options *o,
                           struct DckcOptions *opts, const char ***defs_out, const char ***incs_out)
{
    const char **defs = NULL, **incs = NULL;
    *defs_out = *incs_out = NULL;
    dck_status st = rt_check_module_options(o, "dck_module_create_from_source");
    if (st) return st;
    if (o) {
        if ((o->ndefines && !(defs = rt_alloc(ctx, o->ndefines * sizeof *defs))) ||
            (o->ninclude_dirs && !(incs = rt_alloc(ctx, o->ninclude_dirs * sizeof *incs)))) {
            rt_free(ctx, defs);
            return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory compiling '%s'", path);
        }
        for (uint32_t i = 0; i < o->ndefines; i++) defs[i] = o->defines[i];
        for (uint32_t i = 0; i < o->ninclude_dirs; i++) incs[i] = o->include_dirs[i];
        opts->defines = defs;
        opts->ndefines = (int)o->ndefines;
        opts->include_dirs = incs;
        opts->ninclude_dirs = (int)o->ninclude_dirs;
        if (o->opt_level >= 0) opts->opt_level = o->opt_level > 3 ? 3 : o->opt_level;
        if (o->flags & DCK_MODULE_CHECKED) opts->checked = true;
    }
    if (ctx->flags & DCK_CONTEXT_CHECKED) opts->checked = true;
    *defs_out = defs;
    *incs_out = incs;
    return DCK_SUCCESS;
}

dck_status rt_package_compile_for(dck_context ctx, const char *path, const char *source,
                                  const dck_module_options *o, const char *targets, const char *env,
                                  const char *sm, RtPackage **out)
{
    if (!out) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "rt_package_compile: NULL out");
    *out = NULL;
    if (!ctx || !path || !targets)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "rt_package_compile: NULL argument");
    DckcOptions opts;
    dckc_options_init(&opts);
    const char **defs = NULL, **incs = NULL;
    dck_status ost = rt_dckc_options(ctx, path, o, &opts, &defs, &incs);
    if (ost) return ost;
    const char *envs[1] = {env}, *sms[1] = {sm};
    if (env) {
        opts.spirv_envs = envs;
        opts.nspirv_envs = 1;
    }
    if (sm) {
        opts.sms = sms;
        opts.nsms = 1;
    }
    DckcResult res;
    memset(&res, 0, sizeof res);
    DckcStatus cs = dckc_compile(path, source, &opts, targets, DCKC_EMIT_PACKAGE, &res);
    rt_free(ctx, defs);
    rt_free(ctx, incs);
    dck_status st;
    if (cs != DCKC_OK || !res.output) {
        const char *diag = res.diagnostics ? res.diagnostics : "";
        size_t n = strlen(diag);
        while (n && diag[n - 1] == '\n') n--;
        st = rt_error(cs == DCKC_INTERNAL ? DCK_ERROR_JIT
                      : cs == DCKC_USAGE  ? DCK_ERROR_UNSUPPORTED
                                          : DCK_ERROR_COMPILE,
                      "%s '%s' for device '%s' (targets %s%s%s%s%s):\n%.*s",
                      cs == DCKC_INTERNAL ? "internal compiler error compiling" : "cannot compile",
                      path, ctx->device.info.name, targets, env ? ", environment " : "",
                      env ? env : "", sm ? ", sm " : "", sm ? sm : "", (int)n, diag);
    } else {
        st = rt_package_parse(ctx, res.output, res.output_len, out);
        if (st)
            rt_error_prefix("package compiled from '%s'", path);
        else
            (*out)->compiled_here = true;
    }
    dckc_result_free(&res);
    return st;
}

dck_status rt_package_compile(dck_context ctx, const char *path, const char *source,
                              const dck_module_options *o, const char *targets, RtPackage **out)
{
    return rt_package_compile_for(ctx, path, source, o, targets, NULL, NULL, out);
}

/* ---- target choice: one function per backend kind (the order is documented in package.h) ---- */

typedef struct Cands {
    const RtBlob **out;
    uint32_t n, max;
} Cands;

static void add(Cands *c, const RtBlob *b)
{
    if (!b || c->n >= c->max) return;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->out[i] == b) return;
    c->out[c->n++] = b;
}

static uint32_t ptx_sm(const RtBlob *b) { return abi_blob_sm(b->target); }

static void pick_cuda(const RtPackage *p, uint32_t arch, Cands *c)
{
    /* the device's own sm first, then lower ones highest first (driver JIT), then CUDA C */
    for (;;) {
        const RtBlob *best = NULL;
        uint32_t best_sm = 0;
        for (uint32_t i = 0; i < p->nblobs; i++) {
            uint32_t sm = ptx_sm(&p->blobs[i]);
            bool taken = false;
            for (uint32_t k = 0; k < c->n; k++) taken |= c->out[k] == &p->blobs[i];
            if (!sm || taken || (arch && sm > arch)) continue;
            if (sm > best_sm) best = &p->blobs[i], best_sm = sm;
        }
        if (!best || c->n >= c->max) break;
        add(c, best);
    }
    add(c, rt_package_blob(p, "cuda"));
}

static void pick_vulkan(const RtPackage *p, Cands *c)
{
    add(c, rt_package_blob(p, "spirv-vulkan"));
}

static void pick_opencl(const RtPackage *p, bool spirv_ok, Cands *c)
{
    if (spirv_ok) add(c, rt_package_blob(p, "spirv-opencl"));
    add(c, rt_package_blob(p, "opencl"));
}

static void pick_metal(const RtPackage *p, Cands *c) { add(c, rt_package_blob(p, "msl")); }

static void pick_cpu(const RtPackage *p, Cands *c) { add(c, rt_package_blob(p, "c")); }

uint32_t rt_package_candidates(const RtPackage *p, dck_backend backend, uint32_t arch,
                               bool spirv_ok, const RtBlob **out, uint32_t max)
{
    Cands c = {out, 0, out ? max : 0};
    if (!p) return 0;
    switch (backend) {
    case DCK_BACKEND_CUDA: pick_cuda(p, arch, &c); break;
    case DCK_BACKEND_VULKAN: pick_vulkan(p, &c); break;
    case DCK_BACKEND_OPENCL: pick_opencl(p, spirv_ok, &c); break;
    case DCK_BACKEND_METAL: pick_metal(p, &c); break;
    case DCK_BACKEND_CPU: pick_cpu(p, &c); break;
    case DCK_BACKEND_AUTO: break;
    }
    return c.n;
}

/* ---- CPU code compiled into the program (dckc --emit=embed) ---- */

enum { AOT_MAX = 1024 };
static pthread_mutex_t aot_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
    uint64_t checksum;
    const dck_abi_module *abi;
} aot[AOT_MAX];
static uint32_t naot;

dck_status dck_register_cpu_code(uint64_t package_checksum, const struct dck_abi_module *abi)
{
    if (!abi) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_register_cpu_code: NULL module");
    if (abi->magic != DCK_ABI_MAGIC || abi->version != DCK_ABI_VERSION)
        return rt_error(DCK_ERROR_INVALID_MODULE,
                        "dck_register_cpu_code: the module was generated for another "
                        "ABI version (%u; this runtime has %u): rebuild it with this dckc",
                        abi->version, DCK_ABI_VERSION);
    dck_status st = DCK_SUCCESS;
    pthread_mutex_lock(&aot_mu);
    uint32_t i = 0;
    while (i < naot && aot[i].checksum != package_checksum) i++;
    if (i < naot)
        aot[i].abi = abi; /* the same package registered again (a constructor and a loader) */
    else if (naot == AOT_MAX)
        st = rt_error(DCK_ERROR_OUT_OF_MEMORY,
                      "dck_register_cpu_code: more than %d modules registered", AOT_MAX);
    else
        aot[naot].checksum = package_checksum, aot[naot++].abi = abi;
    pthread_mutex_unlock(&aot_mu);
    return st;
}

const dck_abi_module *rt_package_aot_cpu(uint64_t checksum)
{
    const dck_abi_module *abi = NULL;
    pthread_mutex_lock(&aot_mu);
    for (uint32_t i = 0; i < naot && !abi; i++)
        if (aot[i].checksum == checksum) abi = aot[i].abi;
    pthread_mutex_unlock(&aot_mu);
    return abi;
}

/* ---- loading a package file ---- */

dck_status rt_read_file(dck_context ctx, const char *path, const char *what, uint64_t limit,
                        void **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return rt_error(DCK_ERROR_IO, "cannot open %s '%s': %s", what, path, strerror(errno));
    struct stat sb;
    dck_status st = DCK_SUCCESS;
    if (fstat(fileno(f), &sb) != 0)
        st = rt_error(DCK_ERROR_IO, "cannot read %s '%s': %s", what, path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = rt_error(DCK_ERROR_IO, "cannot read %s '%s': not a regular file", what, path);
    else if ((uint64_t)sb.st_size > limit)
        st = rt_error(DCK_ERROR_IO, "cannot read %s '%s': %llu bytes, more than the %llu allowed",
                      what, path, (unsigned long long)sb.st_size, (unsigned long long)limit);
    if (st) {
        fclose(f);
        return st;
    }
    /* exactly the size seen: a file that grows meanwhile is read no further */
    size_t size = (size_t)sb.st_size, n = 0;
    char *buf = rt_alloc(ctx, size + 1);
    if (!buf) {
        fclose(f);
        return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory reading %s '%s' (%zu bytes)", what,
                        path, size);
    }
    while (n < size) {
        size_t r = fread(buf + n, 1, size - n, f);
        if (!r) break;
        n += r;
    }
    if (ferror(f))
        st = rt_error(DCK_ERROR_IO, "cannot read %s '%s': %s", what, path, strerror(errno));
    fclose(f);
    if (st) {
        rt_free(ctx, buf);
        return st;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return DCK_SUCCESS;
}

dck_status dck_module_create_from_file(dck_context ctx, const char *path,
                                       const dck_module_options *options, dck_module *out)
{
    if (out) *out = NULL;
    if (!ctx || !path || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_module_create_from_file: %s is NULL",
                        !ctx    ? "ctx"
                        : !path ? "path"
                                : "out");
    dck_status st = rt_check_module_options(options, "dck_module_create_from_file");
    if (st) return st;
    void *buf = NULL;
    size_t len = 0;
    st = rt_read_file(ctx, path, "package", RT_MAX_PACKAGE_BYTES, &buf, &len);
    if (st) return st;
    st = dck_module_create_from_package(ctx, buf, len, options, out);
    rt_free(ctx, buf);
    return st;
}
