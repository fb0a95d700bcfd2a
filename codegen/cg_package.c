/* cg_package.c: the .dckpkg writer (dckc --emit=package); the layout is abi/dckpkg.h.
 *
 * The reflection comes from the IR through the helpers every backend shares (cg_param_info,
 * cg_shared_bytes, cg_kernel_flags, cg_encode_pipeline), so the package describes exactly
 * what the C tables of dck_abi.h describe. The output is canonical: strings are interned in
 * first-use order, blobs are sorted by target name, padding is zero, and nothing depends on
 * addresses or time, so the same module and options give the same bytes.
 */
#include "cg.h"

#include <stdlib.h>
#include <string.h>

#include "abi/dckpkg.h"

typedef VEC(uint32_t) U32s;
typedef VEC(uint64_t) U64s;

typedef struct PkgW {
    Arena *a;
    StrBuf strs; /* the string section */
    U32s kernels, pipelines, params;
    CgWords code;
    CgConsts consts;
} PkgW;

/* Offset of s in the string section (each distinct string once, first use first). */
static uint32_t str_ref(PkgW *w, const char *s)
{
    if (!s) return DCK_PKG_NO_STRING;
    size_t n = strlen(s);
    for (size_t off = 0; off + n < w->strs.len;) {
        const char *at = w->strs.data + off;
        size_t len = strlen(at);
        if (len >= n && strcmp(at + len - n, s) == 0)
            return (uint32_t)(off + len - n); /* suffix sharing */
        off += len + 1;
    }
    uint32_t off = (uint32_t)w->strs.len;
    sb_putn(&w->strs, s, n + 1);
    return off;
}

static void put_params(PkgW *w, const IrParam *ps, int n)
{
    for (int i = 0; i < n; i++) {
        CgParamInfo pi = cg_param_info(&ps[i]);
        uint32_t rec[DCK_PKG_PARAM_WORDS] = {
            str_ref(w, ps[i].name),   pi.kind, pi.is_const, pi.scalar, pi.vec, pi.size, pi.align,
            str_ref(w, pi.type_name),
        };
        for (int k = 0; k < DCK_PKG_PARAM_WORDS; k++) vec_push(w->a, &w->params, rec[k]);
    }
}

static void put_u32(StrBuf *sb, uint32_t v)
{
    unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    sb_putn(sb, b, 4);
}

static void put_u64(StrBuf *sb, uint64_t v)
{
    put_u32(sb, (uint32_t)v);
    put_u32(sb, (uint32_t)(v >> 32));
}

static void set_u64(StrBuf *sb, size_t at, uint64_t v)
{
    for (int i = 0; i < 8; i++) sb->data[at + (size_t)i] = (char)(unsigned char)(v >> (8 * i));
}

static void pad_to(StrBuf *sb, size_t base, size_t align)
{
    while ((sb->len - base) % align) sb_putc(sb, 0);
}

static int cmp_blob(const void *x, const void *y)
{
    return strcmp((*(const CgBlob *const *)x)->target, (*(const CgBlob *const *)y)->target);
}

void cg_write_package(const IrModule *m, const CgPackageInfo *info, const CgBlob *blobs, int nblobs,
                      StrBuf *out)
{
    PkgW w = {.a = arena_new()};
    sb_putc(&w.strs, 0); /* offset 0 is "" */
    uint32_t s_version = str_ref(&w, info->compiler_version);
    uint32_t s_options = str_ref(&w, info->options);
    uint32_t s_source = str_ref(&w, info->source_name);
    uint32_t s_module = str_ref(&w, info->module_name);

    uint32_t nkernels = 0, nparams = 0;
    for (int i = 0; i < m->funcs.len; i++) {
        const IrFunc *f = m->funcs.data[i];
        if (!f->is_kernel) continue;
        nkernels++;
        uint32_t rec[DCK_PKG_KERNEL_WORDS] = {
            str_ref(&w, f->name),
            nparams,
            (uint32_t)f->nparams,
            f->has_wg ? f->wg[0] : 0,
            f->has_wg ? f->wg[1] : 0,
            f->has_wg ? f->wg[2] : 0,
            cg_shared_bytes(f),
            cg_kernel_flags(f, info->checked || m->checked),
            f->loc.line > 0 ? (uint32_t)f->loc.line : 0,
            0,
        };
        for (int k = 0; k < DCK_PKG_KERNEL_WORDS; k++) vec_push(w.a, &w.kernels, rec[k]);
        put_params(&w, f->params, f->nparams);
        nparams += (uint32_t)f->nparams;
    }
    for (int i = 0; i < m->pipelines.len; i++) {
        const IrPipeline *p = m->pipelines.data[i];
        uint32_t first_code = (uint32_t)w.code.len, first_const = (uint32_t)w.consts.len;
        CgWords code = {0};
        CgConsts consts = {0};
        cg_encode_pipeline(m, p, &code, &consts,
                           w.a); /* jump targets are relative to the pipeline */
        for (int k = 0; k < code.len; k++) vec_push(w.a, &w.code, code.data[k]);
        for (int k = 0; k < consts.len; k++) vec_push(w.a, &w.consts, consts.data[k]);
        uint32_t rec[DCK_PKG_PIPELINE_WORDS] = {
            str_ref(&w, p->name), nparams,
            (uint32_t)p->nparams, (uint32_t)p->temps.len,
            (uint32_t)p->nregs,   first_code,
            (uint32_t)code.len,   first_const,
            (uint32_t)consts.len, p->loc.line > 0 ? (uint32_t)p->loc.line : 0,
        };
        for (int k = 0; k < DCK_PKG_PIPELINE_WORDS; k++) vec_push(w.a, &w.pipelines, rec[k]);
        put_params(&w, p->params, p->nparams);
        nparams += (uint32_t)p->nparams;
    }
    const CgBlob **sorted = arena_alloc(w.a, sizeof *sorted * (size_t)(nblobs ? nblobs : 1));
    for (int i = 0; i < nblobs; i++) sorted[i] = &blobs[i];
    qsort(sorted, (size_t)nblobs, sizeof *sorted, cmp_blob);
    uint32_t *blob_name = arena_alloc(w.a, sizeof *blob_name * (size_t)(nblobs ? nblobs : 1));
    for (int i = 0; i < nblobs; i++) blob_name[i] = str_ref(&w, sorted[i]->target);

    /* header, then the sections in enum order, then the blob data */
    size_t base = out->len;
    sb_putn(out, DCK_PKG_MAGIC, DCK_PKG_MAGIC_SIZE);
    put_u32(out, DCK_PKG_VERSION);
    put_u32(out, DCK_PKG_HEADER_SIZE);
    put_u64(out, 0); /* file size, set below */
    put_u64(out, 0); /* checksum, set below */
    put_u32(out, DCK_ABI_VERSION);
    put_u32(out, (info->checked || m->checked) ? DCK_PKG_FLAG_CHECKED : 0);
    uint32_t counts[6] = {nkernels,
                          (uint32_t)m->pipelines.len,
                          nparams,
                          (uint32_t)w.code.len,
                          (uint32_t)w.consts.len,
                          (uint32_t)nblobs};
    for (int k = 0; k < 6; k++) put_u32(out, counts[k]);
    put_u32(out, s_version);
    put_u32(out, s_options);
    put_u32(out, s_source);
    put_u32(out, s_module);
    size_t table = out->len;
    for (int k = 0; k < DCK_PKG_NSECTIONS * 2; k++) put_u64(out, 0);
    ICE_ASSERT(out->len - base == DCK_PKG_HEADER_SIZE);

    size_t blob_table_at = 0;
    for (int sec = 0; sec < DCK_PKG_NSECTIONS; sec++) {
        pad_to(out, base, 8);
        size_t start = out->len;
        switch (sec) {
        case DCK_PKG_SEC_STRINGS: sb_putn(out, w.strs.data, w.strs.len); break;
        case DCK_PKG_SEC_KERNELS:
            for (int k = 0; k < w.kernels.len; k++) put_u32(out, w.kernels.data[k]);
            break;
        case DCK_PKG_SEC_PIPELINES:
            for (int k = 0; k < w.pipelines.len; k++) put_u32(out, w.pipelines.data[k]);
            break;
        case DCK_PKG_SEC_PARAMS:
            for (int k = 0; k < w.params.len; k++) put_u32(out, w.params.data[k]);
            break;
        case DCK_PKG_SEC_CODE:
            for (int k = 0; k < w.code.len; k++) put_u32(out, w.code.data[k]);
            break;
        case DCK_PKG_SEC_CONSTS:
            for (int k = 0; k < w.consts.len; k++) put_u64(out, w.consts.data[k]);
            break;
        case DCK_PKG_SEC_BLOBS:
            blob_table_at = out->len;
            for (int k = 0; k < nblobs; k++) {
                put_u32(out, blob_name[k]);
                put_u32(out, sorted[k]->text ? DCK_PKG_BLOB_TEXT : 0);
                put_u64(out, 0); /* offset, set below */
                put_u64(out, (uint64_t)sorted[k]->size);
            }
            break;
        }
        set_u64(out, table + 16 * (size_t)sec, (uint64_t)(start - base));
        set_u64(out, table + 16 * (size_t)sec + 8, (uint64_t)(out->len - start));
    }
    for (int k = 0; k < nblobs; k++) {
        pad_to(out, base, DCK_PKG_BLOB_ALIGN);
        set_u64(out, blob_table_at + (size_t)DCK_PKG_BLOB_BYTES * (size_t)k + 8,
                (uint64_t)(out->len - base));
        sb_putn(out, sorted[k]->data, sorted[k]->size);
        if (sorted[k]->text) sb_putc(out, 0);
    }
    set_u64(out, base + DCK_PKG_OFF_FILE_SIZE, (uint64_t)(out->len - base));
    set_u64(out, base + DCK_PKG_OFF_CHECKSUM, dck_pkg_checksum(out->data + base, out->len - base));
    sb_free(&w.strs);
    arena_free(w.a);
}
