/* dckrun: run a kernel or pipeline of a .dck file from the command line (docs/dckrun.md).
 *
 * Uses only the public API (dck.h). Arguments are matched to parameters by name; buffers
 * are made from files, zeros or a deterministic PRNG; results are printed or written raw.
 * Exit status: 0 success, 1 runtime error (compile, load, launch, I/O), 2 usage error.
 */
#include "dck.h"
#include "abi/dckpkg.h"
#include "rt.h" /* rt_f32_to_f16 / rt_f16_to_f32: one conversion for the library and the tool */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LIST 256

static const char *usage_text =
    "usage: dckrun [options] FILE.dck|FILE.dckpkg NAME [ARG...]\n"
    "Runs kernel or pipeline NAME of FILE; ARGs give its parameters by name, in any order.\n"
    "\n"
    "ARG:\n"
    "  NAME=VALUE            scalar or vector value (vector as 1,2,3,4; one value is splat)\n"
    "  NAME=@FILE.bin        buffer from a raw little-endian file (element count from its size)\n"
    "  NAME=@FILE.npy        buffer from a NumPy .npy file (its dtype must match the element type)\n"
    "  NAME=zeros:N          buffer of N zero elements\n"
    "  NAME=rand:N[:SEED]    buffer of N uniform random elements: floats in [0,1), integers in\n"
    "                        [0,100); SEED defaults to the parameter's position (1-based)\n"
    "options:\n"
    "  --backend=B           auto (default: CUDA, then an OpenCL GPU, then a Vulkan GPU, then\n"
    "                        the CPU), cpu, cuda, opencl, vulkan, metal\n"
    "  --target=T            code to load: opencl or spirv-opencl on OpenCL (the SPIR-V goes\n"
    "                        through llvm-spirv -r), c, spirv-vulkan, ptx-smNN, msl\n"
    "  --device=N            device index within the backend (default 0)\n"
    "  --list-devices        list the devices of every backend (FILE optional)\n"
    "  --global=X[,Y[,Z]]    kernels: work-items (default: length of the last buffer argument)\n"
    "  --local=X[,Y[,Z]]     kernels: work-group size (default: the runtime chooses)\n"
    "  --out=NAME=FILE       write buffer NAME after the run to FILE (raw bytes; FILE.npy: NumPy)\n"
    "  --print=NAME          print buffer or value NAME after the run\n"
    "  --bench[=REPEATS]     time REPEATS more launches (default 10): median, min, max, GB/s\n"
    "  --bench-json=FILE     also write those figures to FILE as JSON (implies --bench)\n"
    "  --checked             bounds-checked accesses and overlap checks\n"
    "  -D NAME[=VALUE]       define a macro for the .dck compile (also -DNAME)\n"
    "  -I DIR                add an include directory for the .dck compile (also -IDIR)\n"
    "  -O0 -O1 -O2 -O3       optimization level of the .dck compile (default -O2)\n"
    "  -v                    say which device, backend and cache entry are used\n"
    "  -h, --help            this text\n"
    "  --version             the version of dckrun\n";

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "dckrun: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(dckrun --help for usage)\n");
    return 2;
}

static int runtime_error(dck_status st, const char *what)
{
    fprintf(stderr, "dckrun: %s: %s [%s]\n", what, dck_last_error(), dck_status_string(st));
    return 1;
}

typedef struct Options {
    const char *backend, *file, *name, *target;
    uint32_t device;
    bool list_devices, checked, verbose, bench;
    uint32_t repeats;
    const char *bench_json; /* --bench-json=FILE */
    uint32_t gdims, ldims, global[3], local[3];
    const char *args[MAX_LIST];
    int nargs;
    const char *outs[MAX_LIST];
    int nouts;
    const char *prints[MAX_LIST];
    int nprints;
    const char *defines[MAX_LIST];
    int ndefines;
    const char *incdirs[MAX_LIST];
    int nincdirs;
    int opt_level; /* -O0..-O3; -1: the compiler's default */
} Options;

static bool parse_u32(const char *s, uint32_t *out)
{
    if (!*s || *s == '-') return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || errno || v > UINT32_MAX) return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_dims(const char *s, uint32_t *dims, uint32_t out[3])
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    *dims = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (*dims == 3 || !parse_u32(tok, &out[*dims])) return false;
        (*dims)++;
    }
    return *dims > 0;
}

static int push(const char **list, int *n, const char *v, const char *what)
{
    if (*n == MAX_LIST) return usage_error("too many %s", what);
    list[(*n)++] = v;
    return 0;
}

static int parse_options(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof *o);
    o->backend = "auto";
    o->repeats = 10;
    o->opt_level = -1;
    int npos = 0, rc;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return -1;
        } else if (strcmp(a, "--version") == 0) {
            printf("dckrun %s\n", DCK_VERSION_STRING);
            return -1;
        } else if (strncmp(a, "--backend=", 10) == 0) {
            dck_backend b;
            o->backend = a + 10;
            if (dck_backend_from_name(o->backend, &b) != DCK_SUCCESS)
                return usage_error("%s", dck_last_error());
        } else if (strncmp(a, "--target=", 9) == 0) {
            if (!a[9]) return usage_error("bad '%s' (expected --target=NAME)", a);
            o->target = a + 9;
        } else if (strncmp(a, "--device=", 9) == 0) {
            if (!parse_u32(a + 9, &o->device)) return usage_error("bad device index in '%s'", a);
        } else if (strcmp(a, "--list-devices") == 0) {
            o->list_devices = true;
        } else if (strncmp(a, "--global=", 9) == 0) {
            if (!parse_dims(a + 9, &o->gdims, o->global))
                return usage_error("bad size in '%s' (expected X[,Y[,Z]])", a);
        } else if (strncmp(a, "--local=", 8) == 0) {
            if (!parse_dims(a + 8, &o->ldims, o->local))
                return usage_error("bad size in '%s' (expected X[,Y[,Z]])", a);
        } else if (strncmp(a, "--out=", 6) == 0) {
            if (!strchr(a + 6, '=') || a[6] == '=')
                return usage_error("bad '%s' (expected --out=NAME=FILE)", a);
            if ((rc = push(o->outs, &o->nouts, a + 6, "--out options"))) return rc;
        } else if (strncmp(a, "--print=", 8) == 0) {
            if (!a[8]) return usage_error("bad '%s' (expected --print=NAME)", a);
            if ((rc = push(o->prints, &o->nprints, a + 8, "--print options"))) return rc;
        } else if (strcmp(a, "--bench") == 0) {
            o->bench = true;
        } else if (strncmp(a, "--bench=", 8) == 0) {
            o->bench = true;
            if (!parse_u32(a + 8, &o->repeats) || !o->repeats)
                return usage_error("bad repeat count in '%s'", a);
        } else if (strncmp(a, "--bench-json=", 13) == 0) {
            if (!a[13]) return usage_error("bad '%s' (expected --bench-json=FILE)", a);
            o->bench = true;
            o->bench_json = a + 13;
        } else if (strcmp(a, "--checked") == 0) {
            o->checked = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) {
            o->opt_level = a[2] - '0';
        } else if (strncmp(a, "-D", 2) == 0 || strncmp(a, "-I", 2) == 0) {
            const char *v = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !*v) return usage_error("%s needs a value", a);
            rc = a[1] == 'D' ? push(o->defines, &o->ndefines, v, "-D options")
                             : push(o->incdirs, &o->nincdirs, v, "-I options");
            if (rc) return rc;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option '%s'", a);
        } else if (npos == 0) {
            o->file = a;
            npos++;
        } else if (npos == 1) {
            o->name = a;
            npos++;
        } else {
            if (!strchr(a, '=') || a[0] == '=')
                return usage_error("bad argument '%s' (expected NAME=VALUE)", a);
            if ((rc = push(o->args, &o->nargs, a, "arguments"))) return rc;
        }
    }
    if (!o->file && !o->list_devices) return usage_error("no input file");
    if (o->file && !o->name) return usage_error("no kernel or pipeline name after '%s'", o->file);
    if (o->ldims && o->ldims != o->gdims && o->gdims)
        return usage_error("--local has %u dimensions but --global has %u", o->ldims, o->gdims);
    return 0;
}

/* ---- devices ---- */

static void print_features(uint64_t f)
{
    static const struct {
        uint64_t bit;
        const char *name;
    } names[] = {
        {DCK_FEATURE_FP64, "fp64"},
        {DCK_FEATURE_FP16, "fp16"},
        {DCK_FEATURE_INT64_ATOMICS, "int64-atomics"},
        {DCK_FEATURE_FLOAT_ATOMICS, "float-atomics"},
        {DCK_FEATURE_SUBGROUPS, "subgroups"},
        {DCK_FEATURE_UNIFIED_MEMORY, "unified-memory"},
        {DCK_FEATURE_CPU_SSE4, "sse4"},
        {DCK_FEATURE_CPU_AVX2, "avx2"},
        {DCK_FEATURE_CPU_AVX512, "avx512"},
        {DCK_FEATURE_CPU_NEON, "neon"},
        {DCK_FEATURE_CPU_FMA, "fma"},
        {DCK_FEATURE_CPU_F16C, "f16c"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (f & names[i].bit) printf(" %s", names[i].name);
}

static int list_devices(void)
{
    static const dck_backend all[] = {DCK_BACKEND_CUDA, DCK_BACKEND_OPENCL, DCK_BACKEND_VULKAN,
                                      DCK_BACKEND_METAL, DCK_BACKEND_CPU};
    static const char *const names[] = {"cuda", "opencl", "vulkan", "metal", "cpu"};
    static const char *const types[] = {"CPU", "GPU", "other"};
    for (int b = 0; b < 5; b++) {
        dck_device_info infos[16];
        uint32_t n = 16;
        dck_status st = dck_backend_available(all[b]);
        if (st) {
            printf("%s: unavailable: %s\n", names[b], dck_last_error());
            continue;
        }
        if ((st = dck_enumerate_devices(all[b], &n, infos)))
            return runtime_error(st, "listing devices");
        for (uint32_t i = 0; i < n; i++) {
            const dck_device_info *d = &infos[i];
            printf("%s:%u  %s (%s%s%s)\n", d->backend_name, d->index, d->name,
                   (unsigned)d->device_type < 3 ? types[d->device_type] : "?",
                   d->driver[0] ? ", " : "", d->driver);
            char cu[16] = "unknown";
            if (d->compute_units) snprintf(cu, sizeof cu, "%u", d->compute_units);
            printf(
                "    compute units %s, memory %.1f GiB, max work-group %u (%u, %u, %u), subgroup %u, "
                "shared %" PRIu64 " KiB\n    features:",
                cu, (double)d->global_memory_bytes / (1024.0 * 1024.0 * 1024.0),
                d->max_work_group_size, d->max_work_group_dims[0], d->max_work_group_dims[1],
                d->max_work_group_dims[2], d->subgroup_size, d->max_shared_bytes / 1024);
            print_features(d->features);
            printf("\n");
        }
    }
    return 0;
}

/* ---- values ---- */

static uint32_t scalar_size(dck_type t)
{
    static const uint8_t s[] = {1, 1, 1, 2, 2, 4, 4, 8, 8, 2, 4, 8};
    return (unsigned)t < sizeof s ? s[t] : 0;
}
static bool is_float(dck_type t)
{
    return t == DCK_TYPE_F16 || t == DCK_TYPE_F32 || t == DCK_TYPE_F64;
}
static bool is_signed(dck_type t)
{
    return t == DCK_TYPE_I8 || t == DCK_TYPE_I16 || t == DCK_TYPE_I32 || t == DCK_TYPE_I64;
}

/* Parses one scalar component of type t into out (scalar_size(t) bytes). */
static bool parse_scalar(const char *s, dck_type t, void *out)
{
    char *end;
    errno = 0;
    if (t == DCK_TYPE_BOOL) {
        uint8_t b;
        if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
            b = 1;
        else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
            b = 0;
        else
            return false;
        memcpy(out, &b, 1);
        return true;
    }
    if (is_float(t)) {
        double d = strtod(s, &end);
        if (!*s || *end || errno == EINVAL) return false;
        if (t == DCK_TYPE_F64)
            memcpy(out, &d, 8);
        else if (t == DCK_TYPE_F32) {
            float f = (float)d;
            memcpy(out, &f, 4);
        } else {
            uint16_t h = rt_f32_to_f16((float)d);
            memcpy(out, &h, 2);
        }
        return true;
    }
    unsigned bits = scalar_size(t) * 8;
    uint64_t v;
    if (is_signed(t)) {
        long long x = strtoll(s, &end, 0);
        if (!*s || *end || errno) return false;
        if (bits < 64 && (x < -(1ll << (bits - 1)) || x > (1ll << (bits - 1)) - 1)) return false;
        v = (uint64_t)x;
    } else {
        if (*s == '-') return false;
        unsigned long long x = strtoull(s, &end, 0);
        if (!*s || *end || errno) return false;
        if (bits < 64 && x > (1ull << bits) - 1) return false;
        v = x;
    }
    memcpy(out, &v, bits / 8); /* little-endian */
    return true;
}

static double scalar_as_double(const void *p, dck_type t, bool *is_int, int64_t *ival,
                               uint64_t *uval)
{
    *is_int = !is_float(t);
    union {
        int8_t i8;
        uint8_t u8;
        int16_t i16;
        uint16_t u16;
        int32_t i32;
        uint32_t u32;
        int64_t i64;
        uint64_t u64;
        float f;
        double d;
    } v;
    memcpy(&v, p, scalar_size(t));
    *ival = 0;
    *uval = 0;
    switch (t) {
    case DCK_TYPE_BOOL: *uval = v.u8; return v.u8;
    case DCK_TYPE_I8: *ival = v.i8; return v.i8;
    case DCK_TYPE_U8: *uval = v.u8; return v.u8;
    case DCK_TYPE_I16: *ival = v.i16; return v.i16;
    case DCK_TYPE_U16: *uval = v.u16; return v.u16;
    case DCK_TYPE_I32: *ival = v.i32; return v.i32;
    case DCK_TYPE_U32: *uval = v.u32; return v.u32;
    case DCK_TYPE_I64: *ival = v.i64; return (double)v.i64;
    case DCK_TYPE_U64: *uval = v.u64; return (double)v.u64;
    case DCK_TYPE_F16: return rt_f16_to_f32(v.u16);
    case DCK_TYPE_F32: return v.f;
    case DCK_TYPE_F64: return v.d;
    default: return 0;
    }
}

static void print_scalar(const void *p, dck_type t)
{
    bool is_int;
    int64_t iv;
    uint64_t uv;
    double d = scalar_as_double(p, t, &is_int, &iv, &uv);
    if (t == DCK_TYPE_BOOL)
        printf("%s", uv ? "true" : "false");
    else if (!is_int)
        printf("%.7g", d);
    else if (is_signed(t))
        printf("%" PRId64, iv);
    else
        printf("%" PRIu64, uv);
}

static void print_element(const unsigned char *p, const dck_param_info *pi)
{
    if (pi->type == DCK_TYPE_STRUCT) {
        printf("{");
        for (uint32_t i = 0; i < pi->size; i++) printf("%s%02x", i ? " " : "", p[i]);
        printf("}");
        return;
    }
    if (pi->vec > 1) printf("(");
    for (uint32_t c = 0; c < pi->vec; c++) {
        if (c) printf(", ");
        print_scalar(p + c * scalar_size(pi->type), pi->type);
    }
    if (pi->vec > 1) printf(")");
}

/* splitmix64: deterministic across platforms */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rand_component(uint64_t *state, dck_type t, unsigned char *out)
{
    uint64_t r = next_rand(state);
    if (t == DCK_TYPE_F64) {
        double d = (double)(r >> 11) * 0x1p-53;
        memcpy(out, &d, 8);
    } else if (t == DCK_TYPE_F32) {
        float f = (float)(r >> 40) * 0x1p-24f;
        memcpy(out, &f, 4);
    } else if (t == DCK_TYPE_F16) {
        uint16_t h = rt_f32_to_f16((float)(r >> 53) * 0x1p-11f);
        memcpy(out, &h, 2);
    } else {
        uint64_t v = t == DCK_TYPE_BOOL ? (r >> 63) : (r >> 32) % 100;
        memcpy(out, &v, scalar_size(t));
    }
}

/* ---- run ---- */

typedef struct Param {
    dck_param_info info;
    const char *spec; /* the VALUE part of NAME=VALUE */
    dck_buffer buf;
    uint64_t count;
    unsigned char value[128];
} Param;

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *data = malloc(cap + 1);
    size_t r;
    while (data && (r = fread(data + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *d2 = realloc(data, cap * 2 + 1);
            if (!d2) {
                free(data);
                data = NULL;
                break;
            }
            data = d2;
            cap *= 2;
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (!data || err) {
        free(data);
        return NULL;
    }
    data[n] = 0;
    *len = n;
    return data;
}

/* ---- NumPy .npy files (format versions 1 to 3; C order, little-endian) ---- */

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* The NumPy dtype string of a DCK element type ("<f4"), NULL for structs. */
static const char *npy_descr(dck_type t)
{
    switch (t) {
    case DCK_TYPE_BOOL: return "|b1";
    case DCK_TYPE_I8: return "|i1";
    case DCK_TYPE_U8: return "|u1";
    case DCK_TYPE_I16: return "<i2";
    case DCK_TYPE_U16: return "<u2";
    case DCK_TYPE_I32: return "<i4";
    case DCK_TYPE_U32: return "<u4";
    case DCK_TYPE_I64: return "<i8";
    case DCK_TYPE_U64: return "<u8";
    case DCK_TYPE_F16: return "<f2";
    case DCK_TYPE_F32: return "<f4";
    case DCK_TYPE_F64: return "<f8";
    default: return NULL;
    }
}

/* The value of key `key` in the header dictionary: points after "'key':" and blanks. */
static const char *npy_field(const char *hdr, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(hdr, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p++ != ':') return NULL;
    while (*p == ' ') p++;
    return p;
}

/* Checks an .npy file's header against buffer parameter p; on success *data and *count are the
 * elements (data points into `file`). Returns 0 or an exit status (message printed). */
static int npy_parse(const char *path, const char *file, size_t len, const dck_param_info *p,
                     const char **data, uint64_t *count)
{
    if (len < 10 || memcmp(file, npy_magic, 6) != 0)
        return usage_error("'%s' is not a NumPy .npy file (no \\x93NUMPY magic)", path);
    unsigned major = (unsigned char)file[6];
    size_t hlen, off;
    if (major == 1) {
        hlen = (unsigned char)file[8] | (size_t)(unsigned char)file[9] << 8;
        off = 10;
    } else if ((major == 2 || major == 3) && len >= 12) {
        hlen = (unsigned char)file[8] | (size_t)(unsigned char)file[9] << 8 |
               (size_t)(unsigned char)file[10] << 16 | (size_t)(unsigned char)file[11] << 24;
        off = 12;
    } else {
        return usage_error("'%s': .npy format version %u is not supported (1 to 3 are)", path,
                           major);
    }
    if (hlen > len - off || hlen > (1u << 20))
        return usage_error("'%s': truncated .npy header", path);
    char *hdr = malloc(hlen + 1);
    if (!hdr) return usage_error("out of memory reading '%s'", path);
    memcpy(hdr, file + off, hlen);
    hdr[hlen] = 0;
    int rc = 0;
    const char *want = npy_descr(p->type);
    const char *descr = npy_field(hdr, "descr"), *fortran = npy_field(hdr, "fortran_order"),
               *shape = npy_field(hdr, "shape");
    char got[32] = "";
    if (descr && (*descr == '\'' || *descr == '"')) {
        const char *e = strchr(descr + 1, *descr);
        if (e && e - descr - 1 < (ptrdiff_t)sizeof got)
            memcpy(got, descr + 1, (size_t)(e - descr - 1)), got[e - descr - 1] = 0;
    }
    /* NumPy writes one-byte types as "|u1"; accept "<u1" and "=u1" too */
    bool same = want && got[0] && (strcmp(got + 1, want + 1) == 0) &&
                (got[0] == want[0] || want[0] == '|' || got[0] == '=');
    uint64_t total = 1;
    uint64_t last = 1;
    int ndim = 0;
    if (!want) {
        rc = usage_error("argument '%s' is a buffer of struct '%s': .npy files hold arrays of "
                         "scalars here; give @FILE.bin (raw bytes) instead",
                         p->name, p->type_name);
    } else if (!descr || !fortran || !shape || *shape != '(') {
        rc = usage_error("'%s': malformed .npy header", path);
    } else if (!same) {
        rc = usage_error("'%s' holds dtype '%s', but '%s' is a buffer of %s (dtype '%s')", path,
                         got[0] ? got : "?", p->name, p->type_name, want);
    } else if (strncmp(fortran, "True", 4) == 0) {
        rc = usage_error("'%s' is in Fortran order; save it with numpy.ascontiguousarray", path);
    } else {
        const char *q = shape + 1;
        while (*q && *q != ')') {
            while (*q == ' ' || *q == ',') q++;
            if (*q == ')') break;
            char *end;
            errno = 0;
            unsigned long long d = strtoull(q, &end, 10);
            if (end == q || errno) {
                rc = usage_error("'%s': malformed .npy shape", path);
                break;
            }
            if (d && total > UINT64_MAX / d) {
                rc = usage_error("'%s': .npy shape too large", path);
                break;
            }
            total *= d;
            last = d;
            ndim++;
            q = end;
        }
        if (!rc && p->vec > 1 && (ndim < 2 || last != p->vec))
            rc = usage_error("'%s' has shape %.*s, but '%s' is a buffer of %s: give an array of "
                             "shape (N, %u)",
                             path, (int)(strchr(shape, ')') ? strchr(shape, ')') - shape + 1 : 1),
                             shape, p->name, p->type_name, p->vec);
        uint32_t cs = p->size / p->vec; /* a 3-vector element is padded to 4 components */
        if (!rc && p->vec == 3)
            rc = usage_error("argument '%s' is a buffer of %s (16-byte elements, padded): give "
                             "@FILE.bin with the padding",
                             p->name, p->type_name);
        if (!rc && total * cs > len - off - hlen)
            rc = usage_error("'%s' is truncated: its shape needs %llu bytes of data", path,
                             (unsigned long long)(total * cs));
        if (!rc) {
            *data = file + off + hlen;
            *count = total / p->vec;
        }
    }
    free(hdr);
    return rc;
}

/* Writes `count` elements of parameter p as a C-order .npy file (version 1). */
static bool npy_write(FILE *f, const dck_param_info *p, const void *data, uint64_t count)
{
    char hdr[160];
    int n;
    if (p->vec > 1)
        n = snprintf(hdr, sizeof hdr,
                     "{'descr': '%s', 'fortran_order': False, 'shape': (%llu, %u), }",
                     npy_descr(p->type), (unsigned long long)count, p->vec);
    else
        n = snprintf(hdr, sizeof hdr, "{'descr': '%s', 'fortran_order': False, 'shape': (%llu,), }",
                     npy_descr(p->type), (unsigned long long)count);
    size_t total = 10 + (size_t)n + 1, pad = (64 - total % 64) % 64; /* data 64-byte aligned */
    size_t hlen = (size_t)n + pad + 1;
    unsigned char pre[10] = {0x93,
                             'N',
                             'U',
                             'M',
                             'P',
                             'Y',
                             1,
                             0,
                             (unsigned char)(hlen & 0xff),
                             (unsigned char)(hlen >> 8)};
    bool ok = fwrite(pre, 1, 10, f) == 10 && fwrite(hdr, 1, (size_t)n, f) == (size_t)n;
    for (size_t i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    size_t bytes = (size_t)(count * p->size);
    return ok && fwrite(data, 1, bytes, f) == bytes;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Whether `path` starts with a package's magic (whatever its name), or, unreadable, is named
 * .dckpkg (the loader then reports why it cannot be read). */
static bool is_package_file(const char *path)
{
    char head[DCK_PKG_MAGIC_SIZE];
    FILE *f = fopen(path, "rb");
    if (!f) return has_suffix(path, ".dckpkg");
    bool pkg = fread(head, 1, sizeof head, f) == sizeof head &&
               memcmp(head, DCK_PKG_MAGIC, DCK_PKG_MAGIC_SIZE) == 0;
    fclose(f);
    return pkg;
}

static int make_buffer(dck_context ctx, const char *kname, uint32_t index, Param *p)
{
    const char *spec = p->spec, *name = p->info.name;
    dck_buffer_desc d = {0};
    d.elem_size = p->info.size;
    d.type = p->info.type;
    d.vec = p->info.vec;
    d.name = name;
    char *file_data = NULL;
    size_t file_len = 0;
    uint64_t seed = index + 1;
    bool random = false;
    if (spec[0] == '@') {
        file_data = read_file(spec + 1, &file_len);
        if (!file_data) {
            fprintf(stderr, "dckrun: cannot read '%s' for argument '%s': %s\n", spec + 1, name,
                    strerror(errno));
            return 1;
        }
        if (has_suffix(spec + 1, ".npy")) {
            const char *elems = NULL;
            uint64_t count = 0;
            int rc = npy_parse(spec + 1, file_data, file_len, &p->info, &elems, &count);
            if (rc) {
                free(file_data);
                return rc;
            }
            d.count = count;
            d.initial_data = elems;
        } else if (file_len % p->info.size) {
            free(file_data);
            return usage_error(
                "'%s' has %zu bytes, not a multiple of the %u-byte elements of '%s' (%s[])",
                spec + 1, file_len, p->info.size, name, p->info.type_name);
        } else {
            d.count = file_len / p->info.size;
            d.initial_data = file_data;
        }
    } else if (strncmp(spec, "zeros:", 6) == 0 || strncmp(spec, "rand:", 5) == 0) {
        random = spec[0] == 'r';
        const char *num = strchr(spec, ':') + 1;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(num, &end, 0);
        if (end == num || *num == '-' || errno || (*end && !(random && *end == ':')))
            return usage_error("bad element count in '%s=%s'", name, spec);
        if (random && *end == ':') {
            const char *s = end + 1;
            seed = strtoull(s, &end, 0);
            if (end == s || *end) return usage_error("bad seed in '%s=%s'", name, spec);
        }
        if (random && p->info.type == DCK_TYPE_STRUCT)
            return usage_error(
                "rand: cannot fill buffer '%s' of struct '%s' (use zeros:N or @FILE)", name,
                p->info.type_name);
        d.count = n;
    } else {
        return usage_error(
            "argument '%s' of '%s' is a buffer (%s%s[]): give @FILE.bin, zeros:N or rand:N[:SEED], "
            "not '%s'",
            name, kname, p->info.access == DCK_ACCESS_READ ? "const " : "", p->info.type_name,
            spec);
    }
    dck_status st = dck_buffer_create(ctx, &d, &p->buf);
    free(file_data);
    if (st) return runtime_error(st, name);
    p->count = d.count;
    if (random && d.count) {
        unsigned char *data;
        if ((st = dck_buffer_map(p->buf, DCK_MAP_WRITE, (void **)&data)))
            return runtime_error(st, name);
        uint32_t cs = scalar_size(p->info.type);
        for (uint64_t i = 0; i < d.count; i++)
            for (uint32_t c = 0; c < p->info.vec; c++)
                rand_component(&seed, p->info.type, data + i * p->info.size + c * cs);
        if ((st = dck_buffer_unmap(p->buf))) return runtime_error(st, name);
    } else if (!file_data && d.count && spec[0] != '@') {
        /* zeros: pool memory is recycled, so clear it explicitly */
        unsigned char *data;
        if ((st = dck_buffer_map(p->buf, DCK_MAP_WRITE, (void **)&data)))
            return runtime_error(st, name);
        memset(data, 0, d.count * p->info.size);
        if ((st = dck_buffer_unmap(p->buf))) return runtime_error(st, name);
    }
    return 0;
}

static int make_value(const char *kname, Param *p)
{
    const dck_param_info *pi = &p->info;
    const char *spec = p->spec;
    if (spec[0] == '@' || strncmp(spec, "zeros:", 6) == 0 || strncmp(spec, "rand:", 5) == 0)
        return usage_error("argument '%s' of '%s' is a %s value, not a buffer", pi->name, kname,
                           pi->type_name);
    if (pi->type == DCK_TYPE_STRUCT)
        return usage_error(
            "cannot pass struct parameter '%s' from the command line (its type is '%s')", pi->name,
            pi->type_name);
    if (pi->size > sizeof p->value) return usage_error("parameter '%s' is too large", pi->name);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    uint32_t cs = scalar_size(pi->type), n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ') tok++;
        if (n == pi->vec || !parse_scalar(tok, pi->type, p->value + n * cs))
            return usage_error(
                "bad value '%s' for '%s' (%s%s)", spec, pi->name, pi->type_name,
                pi->vec > 1 ? ": give one value or one per component, separated by commas" : "");
        n++;
    }
    if (n == 1)
        for (uint32_t c = 1; c < pi->vec; c++) memcpy(p->value + c * cs, p->value, cs);
    else if (n != pi->vec)
        return usage_error("'%s' (%s) needs %u components, got %u", pi->name, pi->type_name,
                           pi->vec, n);
    return 0;
}

static void param_list(dck_kernel k, uint32_t nparams, char *out, size_t n)
{
    size_t len = 0;
    out[0] = 0;
    for (uint32_t i = 0; i < nparams && len < n; i++) {
        dck_param_info pi;
        if (dck_kernel_get_param(k, i, &pi)) break;
        len += (size_t)snprintf(
            out + len, n - len, "%s%s%s%s %s", i ? ", " : "",
            pi.kind == DCK_PARAM_BUFFER && pi.access == DCK_ACCESS_READ ? "const " : "",
            pi.type_name, pi.kind == DCK_PARAM_BUFFER ? "[]" : "", pi.name);
    }
}

static int print_param(const Param *p)
{
    const dck_param_info *pi = &p->info;
    if (pi->kind == DCK_PARAM_VALUE) {
        printf("%s = ", pi->name);
        print_element(p->value, pi);
        printf("\n");
        return 0;
    }
    unsigned char *data = NULL;
    dck_status st = dck_buffer_map(p->buf, DCK_MAP_READ, (void **)&data);
    if (st) return runtime_error(st, pi->name);
    printf("%s: %s[%" PRIu64 "] = [", pi->name, pi->type_name, p->count);
    const uint64_t head = 8, tail = 4;
    for (uint64_t i = 0; i < p->count; i++) {
        if (p->count > 16 && i == head) {
            printf(", ...");
            i = p->count - tail;
        }
        if (i) printf(", ");
        print_element(data + i * pi->size, pi);
    }
    printf("]\n");
    dck_buffer_unmap(p->buf);
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --bench-json=FILE: the --bench figures as one JSON object (times in nanoseconds). */
static int write_bench_json(const Options *o, const char *kind, const dck_device_info *di,
                            const uint64_t *sorted, double median, double host_median,
                            uint64_t bytes)
{
    FILE *f = fopen(o->bench_json, "w");
    if (!f) {
        fprintf(stderr, "dckrun: cannot write '%s': %s\n", o->bench_json, strerror(errno));
        return 1;
    }
    fprintf(f, "{\"name\": ");
    rt_json_string(f, o->name);
    fprintf(f, ", \"kind\": \"%s\", \"file\": ", kind);
    rt_json_string(f, o->file);
    fprintf(f, ", \"backend\": ");
    rt_json_string(f, di->backend_name);
    fprintf(f, ", \"device\": ");
    rt_json_string(f, di->name);
    fprintf(f,
            ", \"device_index\": %u, \"repeats\": %u, \"median_ns\": %.0f, \"min_ns\": %" PRIu64
            ", \"max_ns\": %" PRIu64 ", \"times_ns\": [",
            di->index, o->repeats, median, sorted[0], sorted[o->repeats - 1]);
    for (uint32_t r = 0; r < o->repeats; r++) fprintf(f, "%s%" PRIu64, r ? ", " : "", sorted[r]);
    fprintf(f, "], \"host_median_ns\": %.0f, \"bytes\": %" PRIu64 ", \"gb_per_s\": ", host_median,
            bytes);
    if (bytes && median > 0)
        fprintf(f, "%.4f", (double)bytes / median);
    else
        fprintf(f, "null");
    fprintf(f, "}\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "dckrun: cannot write '%s': %s\n", o->bench_json, strerror(errno));
        return 1;
    }
    return 0;
}

static int run(const Options *o)
{
    dck_context_desc cd = {0};
    cd.backend_name = o->backend;
    cd.device_index = o->device;
    cd.flags = o->checked ? DCK_CONTEXT_CHECKED : 0;
    dck_context ctx;
    dck_status st = dck_context_create(&cd, &ctx);
    if (st) return runtime_error(st, "cannot create a context");
    int rc = 0;
    dck_device dev;
    dck_device_info di;
    dck_context_get_device(ctx, &dev);
    dck_device_get_info(dev, &di);
    if (o->verbose) {
        if (strcmp(o->backend, "auto") == 0) {
            const char *why = NULL;
            dck_context_get_auto_reason(ctx, &why);
            fprintf(stderr, "dckrun: backend auto: %s\n", why && *why ? why : di.backend_name);
        }
        char cu[32] = "compute units unknown";
        if (di.compute_units) snprintf(cu, sizeof cu, "%u compute units", di.compute_units);
        fprintf(stderr, "dckrun: device %s:%u: %s (%s%s%s)%s\n", di.backend_name, di.index, di.name,
                cu, di.driver[0] ? "; " : "", di.driver, o->checked ? ", checked mode" : "");
    }
    dck_module_options mo = {0};
    mo.defines = o->defines;
    mo.ndefines = (uint32_t)o->ndefines;
    mo.include_dirs = o->incdirs;
    mo.ninclude_dirs = (uint32_t)o->nincdirs;
    mo.opt_level = o->opt_level;
    mo.flags = o->checked ? DCK_MODULE_CHECKED : 0;
    mo.target = o->target;
    dck_module mod;
    dck_queue q;
    dck_kernel k;
    dck_kernel_info ki;
    Param *params = NULL;
    dck_arg *args = NULL;
    bool is_pkg = is_package_file(o->file); /* loaded as is (docs/dckrun.md) */
    if ((st = is_pkg ? dck_module_create_from_file(ctx, o->file, &mo, &mod)
                     : dck_module_create_from_source(ctx, o->file, NULL, &mo, &mod))) {
        if (st == DCK_ERROR_COMPILE) {
            fprintf(stderr, "%s\n", dck_last_error());
            rc = 1;
        } else {
            rc = runtime_error(st, o->file);
        }
        goto out;
    }
    if (o->verbose) {
        dck_module_info mi;
        dck_module_get_info(mod, &mi);
        if (!is_pkg && mi.target)
            fprintf(stderr, "dckrun: %s: compiled for target '%s'\n", o->file, mi.target);
        if (mi.cache_hit >= 0)
            fprintf(stderr, "dckrun: %s: kernel cache %s: %s\n", o->file,
                    mi.cache_hit ? "hit" : "miss (compiled)", mi.cache_path);
        if (is_pkg && mi.target)
            fprintf(stderr, "dckrun: %s: target '%s' loaded from the package%s\n", o->file,
                    mi.target,
                    mi.cache_hit < 0 && strcmp(mi.target, "c") == 0
                        ? " (CPU code compiled into the program)"
                        : "");
    }
    if ((st = dck_module_get_kernel(mod, o->name, &k))) {
        rc = runtime_error(st, o->file);
        goto out;
    }
    dck_kernel_get_info(k, &ki);
    const char *kind = ki.kind == DCK_KERNEL ? "kernel" : "pipeline";
    params = calloc(ki.nparams ? ki.nparams : 1, sizeof *params);
    args = calloc(ki.nparams ? ki.nparams : 1, sizeof *args);
    if (!params || !args || dck_queue_create(ctx, NULL, &q)) {
        fprintf(stderr, "dckrun: out of memory\n");
        rc = 1;
        goto out;
    }
    char sig[2048];
    param_list(k, ki.nparams, sig, sizeof sig);
    for (uint32_t i = 0; i < ki.nparams; i++) dck_kernel_get_param(k, i, &params[i].info);
    /* match NAME=VALUE to parameters */
    for (int a = 0; a < o->nargs; a++) {
        const char *eq = strchr(o->args[a], '=');
        size_t nlen = (size_t)(eq - o->args[a]);
        uint32_t i;
        for (i = 0; i < ki.nparams; i++)
            if (strlen(params[i].info.name) == nlen &&
                strncmp(params[i].info.name, o->args[a], nlen) == 0)
                break;
        if (i == ki.nparams) {
            rc = usage_error("%s '%s' has no parameter '%.*s'; its parameters are: %s", kind,
                             o->name, (int)nlen, o->args[a], ki.nparams ? sig : "(none)");
            goto out;
        }
        if (params[i].spec) {
            rc = usage_error("argument '%s' is given twice", params[i].info.name);
            goto out;
        }
        params[i].spec = eq + 1;
    }
    for (uint32_t i = 0; i < ki.nparams; i++)
        if (!params[i].spec) {
            rc = usage_error("missing argument '%s' of %s '%s'; its parameters are: %s",
                             params[i].info.name, kind, o->name, sig);
            goto out;
        }
    int64_t last_buf = -1;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < ki.nparams; i++) {
        Param *p = &params[i];
        if (p->info.kind == DCK_PARAM_BUFFER) {
            if ((rc = make_buffer(ctx, o->name, i, p))) goto out;
            args[i] = dck_arg_buffer(p->buf);
            last_buf = i;
            bytes += p->count * p->info.size;
        } else {
            if ((rc = make_value(o->name, p))) goto out;
            args[i] = dck_arg_value(p->value, p->info.size, p->info.type_name);
        }
    }
    for (int i = 0; i < o->nouts + o->nprints; i++) {
        const char *n = i < o->nouts ? o->outs[i] : o->prints[i - o->nouts];
        size_t nlen = i < o->nouts ? (size_t)(strchr(n, '=') - n) : strlen(n);
        uint32_t j;
        for (j = 0; j < ki.nparams; j++)
            if (strlen(params[j].info.name) == nlen && strncmp(params[j].info.name, n, nlen) == 0)
                break;
        if (j == ki.nparams) {
            rc = usage_error("%s names '%.*s', which is not a parameter of '%s' (%s)",
                             i < o->nouts ? "--out" : "--print", (int)nlen, n, o->name, sig);
            goto out;
        }
        if (i < o->nouts && params[j].info.kind != DCK_PARAM_BUFFER) {
            rc = usage_error("--out names '%s', which is not a buffer", params[j].info.name);
            goto out;
        }
    }
    dck_range range;
    memset(&range, 0, sizeof range);
    if (ki.kind == DCK_KERNEL) {
        if (o->gdims) {
            range.dims = o->gdims;
            memcpy(range.global, o->global, sizeof range.global);
        } else if (last_buf >= 0) {
            if (params[last_buf].count > UINT32_MAX) {
                rc = usage_error("buffer '%s' is too long to size the launch; give --global",
                                 params[last_buf].info.name);
                goto out;
            }
            range.dims = o->ldims ? o->ldims : 1;
            range.global[0] = (uint32_t)params[last_buf].count;
            range.global[1] = range.global[2] = 1;
            if (ki.dims > 1)
                fprintf(stderr,
                        "dckrun: warning: kernel '%s' is %u-D (it reads global_id(%u) or the like) "
                        "but runs over (%u, 1, 1), the length of buffer '%s'; give "
                        "--global=X,Y%s\n",
                        o->name, ki.dims, ki.dims - 1, range.global[0], params[last_buf].info.name,
                        ki.dims > 2 ? ",Z" : "");
        } else {
            rc = usage_error(
                "kernel '%s' has no buffer parameter to size the launch; give --global", o->name);
            goto out;
        }
        if (o->ldims) {
            if (o->ldims != range.dims) {
                rc = usage_error("--local has %u dimensions but the launch has %u", o->ldims,
                                 range.dims);
                goto out;
            }
            memcpy(range.local, o->local, sizeof range.local);
        }
    } else if (o->gdims || o->ldims) {
        rc = usage_error(
            "--global and --local apply to kernels; '%s' is a pipeline (it sizes its own launches)",
            o->name);
        goto out;
    }
    if (o->verbose && ki.kind == DCK_KERNEL)
        fprintf(stderr, "dckrun: launching kernel '%s' over (%u, %u, %u)\n", o->name,
                range.global[0], range.dims > 1 ? range.global[1] : 1,
                range.dims > 2 ? range.global[2] : 1);
    dck_event ev;
    if ((st = dck_launch(q, k, ki.kind == DCK_KERNEL ? &range : NULL, ki.nparams, args, &ev)) ||
        (st = dck_queue_finish(q))) {
        rc = runtime_error(st, "launch failed");
        goto out;
    }
    dck_event_destroy(ev);
    for (int i = 0; i < o->nprints; i++)
        for (uint32_t j = 0; j < ki.nparams; j++)
            if (strcmp(params[j].info.name, o->prints[i]) == 0 && (rc = print_param(&params[j])))
                goto out;
    for (int i = 0; i < o->nouts; i++) {
        const char *eq = strchr(o->outs[i], '=');
        for (uint32_t j = 0; j < ki.nparams; j++) {
            Param *p = &params[j];
            if (strlen(p->info.name) != (size_t)(eq - o->outs[i]) ||
                strncmp(p->info.name, o->outs[i], (size_t)(eq - o->outs[i])))
                continue;
            unsigned char *data;
            if ((st = dck_buffer_map(p->buf, DCK_MAP_READ, (void **)&data))) {
                rc = runtime_error(st, p->info.name);
                goto out;
            }
            bool npy = has_suffix(eq + 1, ".npy");
            if (npy && !npy_descr(p->info.type)) {
                dck_buffer_unmap(p->buf);
                rc = usage_error("--out=%s: buffer '%s' holds structs ('%s'); write a .bin file",
                                 o->outs[i], p->info.name, p->info.type_name);
                goto out;
            }
            FILE *f = fopen(eq + 1, "wb");
            size_t n = (size_t)(p->count * p->info.size);
            bool ok =
                f && (npy ? npy_write(f, &p->info, data, p->count) : fwrite(data, 1, n, f) == n);
            if (f && fclose(f) != 0) ok = false;
            dck_buffer_unmap(p->buf);
            if (!ok) {
                fprintf(stderr, "dckrun: cannot write '%s': %s\n", eq + 1, strerror(errno));
                rc = 1;
                goto out;
            }
        }
    }
    if (o->bench) {
        uint64_t *t = calloc(o->repeats, sizeof *t);
        if (!t) {
            rc = 1;
            goto out;
        }
        uint64_t *h = calloc(o->repeats, sizeof *h); /* host: dck_launch to dck_event_wait */
        if (!h) {
            free(t);
            rc = 1;
            goto out;
        }
        for (uint32_t r = 0; r < o->repeats; r++) {
            uint64_t h0 = wall_ns();
            if ((st = dck_launch(q, k, ki.kind == DCK_KERNEL ? &range : NULL, ki.nparams, args,
                                 &ev)) ||
                (st = dck_event_wait(ev))) {
                free(t);
                free(h);
                rc = runtime_error(st, "launch failed");
                goto out;
            }
            h[r] = wall_ns() - h0;
            dck_event_elapsed_ns(ev, &t[r]);
            dck_event_destroy(ev);
        }
        qsort(t, o->repeats, sizeof *t, cmp_u64);
        qsort(h, o->repeats, sizeof *h, cmp_u64);
        double hmed = o->repeats % 2
                          ? (double)h[o->repeats / 2]
                          : ((double)h[o->repeats / 2 - 1] + (double)h[o->repeats / 2]) / 2.0;
        free(h);
        double med = o->repeats % 2
                         ? (double)t[o->repeats / 2]
                         : ((double)t[o->repeats / 2 - 1] + (double)t[o->repeats / 2]) / 2.0;
        /* milliseconds, or microseconds for launches under 0.1 ms */
        bool us = t[o->repeats - 1] < 100000;
        double u = us ? 1e3 : 1e6;
        const char *un = us ? "us" : "ms";
        printf("bench: %s '%s' on %s: %u runs after warm-up: median %.3f %s, min %.3f %s, max "
               "%.3f %s",
               kind, o->name, di.name, o->repeats, med / u, un, (double)t[0] / u, un,
               (double)t[o->repeats - 1] / u, un);
        if (bytes && med > 0)
            printf(", %.2f GB/s (%.3f MB of buffer arguments per launch)", (double)bytes / med,
                   (double)bytes / 1e6);
        printf("; on the host %.1f us from dck_launch to the end of dck_event_wait (median)\n",
               hmed / 1e3);
        if (o->bench_json && (rc = write_bench_json(o, kind, &di, t, med, hmed, bytes))) {
            free(t);
            goto out;
        }
        free(t);
    }
out:
    free(params);
    free(args);
    st = dck_context_destroy(ctx); /* releases buffers, module, queue; writes DCK_TRACE */
    if (st && !rc) rc = runtime_error(st, "shutting down");
    return rc;
}

int main(int argc, char **argv)
{
    Options o;
    int rc = parse_options(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.list_devices && (rc = list_devices())) return rc;
    if (!o.file) return 0;
    return run(&o);
}
