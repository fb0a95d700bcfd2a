/* dckpkg.h: the on-disk layout of a .dckpkg (dckc --emit=package), shared by the writer
 * (codegen/cg_package.c) and the reader (runtime/package.c). Self-contained C99.
 *
 * All integers are little-endian. A file is:
 *
 *   header            DCK_PKG_HEADER_SIZE bytes (below)
 *   sections          each at the offset and with the size its header entry gives, 8-byte aligned
 *   blob data         each blob at the offset its record gives, 16-byte aligned; a text blob is
 *                     followed by one NUL byte that is not counted in its size
 *
 * Header (offsets in bytes):
 *   0   u8  magic[8]          DCK_PKG_MAGIC ("\x7f" "DCKPKG" "\x1a")
 *   8   u32 format_version    DCK_PKG_VERSION; a reader rejects a newer one
 *   12  u32 header_size       DCK_PKG_HEADER_SIZE
 *   16  u64 file_size         the whole file
 *   24  u64 checksum          FNV-1a 64 of the whole file with these 8 bytes read as zero
 *   32  u32 abi_version       DCK_ABI_VERSION of the reflection (scalar codes, pipeline opcodes)
 *   36  u32 flags             DCK_PKG_FLAG_*
 *   40  u32 nkernels, npipelines, nparams, ncode, nconsts, nblobs
 *   64  u32 compiler_version  string: dckc's version ("0.1.0")
 *   68  u32 options           string: the compilation options, canonical ("-O2 --checked ...")
 *   72  u32 source_name       string: the .dck file name as given to dckc
 *   76  u32 module_name       string: the C identifier the header/embed outputs use
 *   80  section table         DCK_PKG_NSECTIONS entries of { u64 offset, u64 size }
 *
 * Sections (record arrays; counts are the header's):
 *   STRINGS   NUL-terminated strings; a string is a u32 byte offset into this section, the
 *             section starts with a NUL (offset 0 is ""), DCK_PKG_NO_STRING is a NULL string
 *   KERNELS   nkernels records of DCK_PKG_KERNEL_WORDS u32:
 *             name, first_param, nparams, wg[3], shared_bytes, flags, line, reserved (0)
 *   PIPELINES npipelines records of DCK_PKG_PIPELINE_WORDS u32:
 *             name, first_param, nparams, ntemps, nregs, first_code, ncode, first_const,
 *             nconsts, line
 *   PARAMS    nparams records of DCK_PKG_PARAM_WORDS u32:
 *             name, kind, is_const, scalar, vec, size, align, type_name   (dck_abi_param)
 *   CODE      ncode u32: every pipeline's program words, one after the other
 *   CONSTS    nconsts u64: every pipeline's constants, one after the other
 *   BLOBS     nblobs records of DCK_PKG_BLOB_BYTES: u32 target (string), u32 flags
 *             (DCK_PKG_BLOB_*), u64 offset (from the start of the file), u64 size
 *
 * Blob targets: "c" (C source for the CPU), "opencl", "cuda", "msl", "spirv-vulkan",
 * "spirv-opencl", "ptx-sm75" / "ptx-sm80" / "ptx-sm86" / "ptx-sm89" / "ptx-sm90" (any
 * "ptx-smNN"), in the order dckc writes them (sorted by name, so the bytes are canonical).
 */
#ifndef DCK_PKG_FORMAT_H
#define DCK_PKG_FORMAT_H

#include <stdint.h>

#define DCK_PKG_MAGIC \
    "\x7f"            \
    "DCKPKG"          \
    "\x1a"
#define DCK_PKG_MAGIC_SIZE 8
#define DCK_PKG_VERSION    1u
#define DCK_PKG_NO_STRING  0xffffffffu
#define DCK_PKG_TARGET_MAX 32 /* a blob target name, NUL included */

enum dck_pkg_section {
    DCK_PKG_SEC_STRINGS,
    DCK_PKG_SEC_KERNELS,
    DCK_PKG_SEC_PIPELINES,
    DCK_PKG_SEC_PARAMS,
    DCK_PKG_SEC_CODE,
    DCK_PKG_SEC_CONSTS,
    DCK_PKG_SEC_BLOBS,
    DCK_PKG_NSECTIONS
};

enum {
    DCK_PKG_OFF_VERSION = 8,
    DCK_PKG_OFF_HEADER_SIZE = 12,
    DCK_PKG_OFF_FILE_SIZE = 16,
    DCK_PKG_OFF_CHECKSUM = 24,
    DCK_PKG_OFF_ABI_VERSION = 32,
    DCK_PKG_OFF_FLAGS = 36,
    DCK_PKG_OFF_COUNTS = 40,  /* nkernels, npipelines, nparams, ncode, nconsts, nblobs */
    DCK_PKG_OFF_STRINGS = 64, /* compiler_version, options, source_name, module_name */
    DCK_PKG_OFF_SECTIONS = 80,
    DCK_PKG_HEADER_SIZE = 80 + 16 * DCK_PKG_NSECTIONS,
    DCK_PKG_KERNEL_WORDS = 10,
    DCK_PKG_PIPELINE_WORDS = 10,
    DCK_PKG_PARAM_WORDS = 8,
    DCK_PKG_BLOB_BYTES = 24,
    DCK_PKG_BLOB_ALIGN = 16,
};

enum dck_pkg_flags {
    DCK_PKG_FLAG_CHECKED =
        1, /* compiled with --checked (every kernel has DCK_ABI_KERNEL_CHECKED) */
};

enum dck_pkg_blob_flags {
    DCK_PKG_BLOB_TEXT = 1, /* source text (C, OpenCL C, CUDA C, MSL, PTX): a NUL follows the data */
};

/* FNV-1a 64 over n bytes, continuing from h (start with DCK_PKG_FNV_INIT). */
#define DCK_PKG_FNV_INIT 0xcbf29ce484222325ull
static inline uint64_t dck_pkg_fnv1a(uint64_t h, const void *data, uint64_t n)
{
    const unsigned char *p = (const unsigned char *)data;
    for (uint64_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* The checksum of a whole package image: FNV-1a 64 with the checksum field as zero. */
static inline uint64_t dck_pkg_checksum(const void *data, uint64_t size)
{
    static const unsigned char zero[8] = {0};
    const unsigned char *p = (const unsigned char *)data;
    if (size < DCK_PKG_OFF_CHECKSUM + 8) return dck_pkg_fnv1a(DCK_PKG_FNV_INIT, p, size);
    uint64_t h = dck_pkg_fnv1a(DCK_PKG_FNV_INIT, p, DCK_PKG_OFF_CHECKSUM);
    h = dck_pkg_fnv1a(h, zero, 8);
    return dck_pkg_fnv1a(h, p + DCK_PKG_OFF_CHECKSUM + 8, size - DCK_PKG_OFF_CHECKSUM - 8);
}

#endif
