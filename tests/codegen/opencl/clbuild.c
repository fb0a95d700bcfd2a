/* clbuild.c: builds OpenCL C files with the first OpenCL CPU device (PoCL here), as an
 * independent check of the OpenCL backend.
 *
 *   clbuild [--label NAME] FILE.cl...
 *
 * The ICD loader is dlopen'ed (libOpenCL.so.1), never linked. Every file is built with
 * -cl-std=CL1.2; a failure prints the build log with the label (the .dck the file came from)
 * and the file name. With no OpenCL platform or device it prints "SKIPPED: ..." and exits 77.
 * Exit status: 0 every file built, 1 a build failed, 2 usage or I/O error, 77 skipped.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int32_t cl_int;
typedef uint32_t cl_uint;
typedef uint64_t cl_ulong;
typedef cl_ulong cl_bitfield;
typedef cl_bitfield cl_device_type;
typedef intptr_t cl_context_properties;
typedef struct _cl_platform_id *cl_platform_id;
typedef struct _cl_device_id *cl_device_id;
typedef struct _cl_context *cl_context;
typedef struct _cl_program *cl_program;

#define CL_SUCCESS           0
#define CL_DEVICE_TYPE_CPU   (1 << 1)
#define CL_DEVICE_TYPE_ALL   0xFFFFFFFF
#define CL_DEVICE_NAME       0x102B
#define CL_PROGRAM_BUILD_LOG 0x1183

typedef cl_int (*PFN_GetPlatformIDs)(cl_uint, cl_platform_id *, cl_uint *);
typedef cl_int (*PFN_GetDeviceIDs)(cl_platform_id, cl_device_type, cl_uint, cl_device_id *,
                                   cl_uint *);
typedef cl_int (*PFN_GetDeviceInfo)(cl_device_id, cl_uint, size_t, void *, size_t *);
typedef cl_context (*PFN_CreateContext)(const cl_context_properties *, cl_uint,
                                        const cl_device_id *, void *, void *, cl_int *);
typedef cl_program (*PFN_CreateProgramWithSource)(cl_context, cl_uint, const char **,
                                                  const size_t *, cl_int *);
typedef cl_int (*PFN_BuildProgram)(cl_program, cl_uint, const cl_device_id *, const char *, void *,
                                   void *);
typedef cl_int (*PFN_GetProgramBuildInfo)(cl_program, cl_device_id, cl_uint, size_t, void *,
                                          size_t *);
typedef cl_int (*PFN_ReleaseProgram)(cl_program);
typedef cl_int (*PFN_ReleaseContext)(cl_context);

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    if (!s || fread(s, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(s);
        return NULL;
    }
    fclose(f);
    s[len] = 0;
    *n = (size_t)len;
    return s;
}

int main(int argc, char **argv)
{
    const char *label = NULL;
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "--label") == 0) {
        label = argv[2];
        first = 3;
    }
    if (first >= argc) {
        fprintf(stderr, "usage: clbuild [--label NAME] FILE.cl...\n");
        return 2;
    }
    void *lib = dlopen("libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libOpenCL.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        printf("SKIPPED: no OpenCL ICD loader (libOpenCL.so.1)\n");
        return 77;
    }
#define SYM(T, name)                                           \
    T name = (T)dlsym(lib, "cl" #name);                        \
    if (!name) {                                               \
        printf("SKIPPED: libOpenCL.so.1 lacks cl%s\n", #name); \
        return 77;                                             \
    }
    SYM(PFN_GetPlatformIDs, GetPlatformIDs)
    SYM(PFN_GetDeviceIDs, GetDeviceIDs)
    SYM(PFN_GetDeviceInfo, GetDeviceInfo)
    SYM(PFN_CreateContext, CreateContext)
    SYM(PFN_CreateProgramWithSource, CreateProgramWithSource)
    SYM(PFN_BuildProgram, BuildProgram)
    SYM(PFN_GetProgramBuildInfo, GetProgramBuildInfo)
    SYM(PFN_ReleaseProgram, ReleaseProgram)
    SYM(PFN_ReleaseContext, ReleaseContext)
#undef SYM
    cl_platform_id plats[16];
    cl_uint np = 0;
    if (GetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0) {
        printf("SKIPPED: no OpenCL platform\n");
        return 77;
    }
    cl_device_id dev = NULL;
    for (int pass = 0; pass < 2 && !dev; pass++)
        for (cl_uint p = 0; p < np && !dev; p++) {
            cl_uint nd = 0;
            if (GetDeviceIDs(plats[p], pass == 0 ? CL_DEVICE_TYPE_CPU : CL_DEVICE_TYPE_ALL, 1, &dev,
                             &nd) != CL_SUCCESS ||
                nd == 0)
                dev = NULL;
        }
    if (!dev) {
        printf("SKIPPED: no OpenCL device\n");
        return 77;
    }
    cl_int err = 0;
    cl_context ctx = CreateContext(NULL, 1, &dev, NULL, NULL, &err);
    if (!ctx) {
        printf("SKIPPED: clCreateContext failed (%d)\n", (int)err);
        return 77;
    }
    int failed = 0;
    for (int i = first; i < argc; i++) {
        size_t n = 0;
        char *src = slurp(argv[i], &n);
        if (!src) {
            fprintf(stderr, "clbuild: cannot read %s\n", argv[i]);
            failed = 2;
            continue;
        }
        const char *s = src;
        cl_program prog = CreateProgramWithSource(ctx, 1, &s, &n, &err);
        if (!prog) {
            printf("FAIL %s%s%s: clCreateProgramWithSource: %d\n", label ? label : "",
                   label ? ": " : "", argv[i], (int)err);
            failed = 1;
            free(src);
            continue;
        }
        err = BuildProgram(prog, 1, &dev, "-cl-std=CL1.2", NULL, NULL);
        if (err != CL_SUCCESS) {
            size_t ln = 0;
            GetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &ln);
            char *log = calloc(1, ln + 1);
            if (log) GetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, ln, log, NULL);
            printf("FAIL %s%s%s: clBuildProgram: %d\n%s\n", label ? label : "", label ? ": " : "",
                   argv[i], (int)err, log ? log : "");
            free(log);
            if (!failed) failed = 1;
        }
        ReleaseProgram(prog);
        free(src);
    }
    ReleaseContext(ctx);
    return failed;
}
