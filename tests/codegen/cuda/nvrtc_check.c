/* nvrtc_check.c: compiles CUDA C files with NVRTC (no GPU or driver needed), as an
 * independent check of the CUDA backend.
 *
 *   nvrtc_check [--arch=compute_80] [--label NAME] FILE.cu...
 *
 * libnvrtc is dlopen'ed (the loader path, then /usr/local/cuda/lib64), never linked. Each
 * file is compiled with --gpu-architecture=ARCH -I/usr/local/cuda/include; a failure prints
 * NVRTC's log with the label and the file name. Without NVRTC it prints "SKIPPED: ..." and
 * exits 77. Exit status: 0 all compiled, 1 a compile failed, 2 usage or I/O error, 77 skipped.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct _nvrtcProgram *nvrtcProgram;
typedef int (*PFN_Create)(nvrtcProgram *, const char *, const char *, int, const char *const *,
                          const char *const *);
typedef int (*PFN_Compile)(nvrtcProgram, int, const char *const *);
typedef int (*PFN_LogSize)(nvrtcProgram, size_t *);
typedef int (*PFN_Log)(nvrtcProgram, char *);
typedef int (*PFN_Destroy)(nvrtcProgram *);
typedef const char *(*PFN_ErrStr)(int);

static char *slurp(const char *path)
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
    return s;
}

int main(int argc, char **argv)
{
    const char *label = NULL, *arch = "compute_80";
    int i = 1;
    for (; i < argc; i++) {
        if (strncmp(argv[i], "--arch=", 7) == 0)
            arch = argv[i] + 7;
        else if (strcmp(argv[i], "--label") == 0 && i + 1 < argc)
            label = argv[++i];
        else
            break;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: nvrtc_check [--arch=compute_80] [--label NAME] FILE.cu...\n");
        return 2;
    }
    static const char *const libs[] = {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12",
                                       "/usr/local/cuda/lib64/libnvrtc.so"};
    void *lib = NULL;
    for (size_t k = 0; k < sizeof libs / sizeof libs[0] && !lib; k++)
        lib = dlopen(libs[k], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        printf("SKIPPED: no NVRTC (libnvrtc.so)\n");
        return 77;
    }
    PFN_Create create = (PFN_Create)dlsym(lib, "nvrtcCreateProgram");
    PFN_Compile compile = (PFN_Compile)dlsym(lib, "nvrtcCompileProgram");
    PFN_LogSize logsize = (PFN_LogSize)dlsym(lib, "nvrtcGetProgramLogSize");
    PFN_Log getlog = (PFN_Log)dlsym(lib, "nvrtcGetProgramLog");
    PFN_Destroy destroy = (PFN_Destroy)dlsym(lib, "nvrtcDestroyProgram");
    PFN_ErrStr errstr = (PFN_ErrStr)dlsym(lib, "nvrtcGetErrorString");
    if (!create || !compile || !logsize || !getlog || !destroy || !errstr) {
        printf("SKIPPED: libnvrtc lacks the functions needed\n");
        return 77;
    }
    char archopt[64];
    snprintf(archopt, sizeof archopt, "--gpu-architecture=%s", arch);
    const char *opts[] = {archopt, "-I/usr/local/cuda/include"};
    int failed = 0;
    for (; i < argc; i++) {
        char *src = slurp(argv[i]);
        if (!src) {
            fprintf(stderr, "nvrtc_check: cannot read %s\n", argv[i]);
            failed = 2;
            continue;
        }
        nvrtcProgram prog = NULL;
        int r = create(&prog, src, argv[i], 0, NULL, NULL);
        if (r == 0) r = compile(prog, 2, opts);
        if (r != 0) {
            size_t n = 0;
            char *log = NULL;
            if (prog && logsize(prog, &n) == 0 && (log = calloc(1, n + 1))) getlog(prog, log);
            printf("FAIL %s%s%s: %s\n%s\n", label ? label : "", label ? ": " : "", argv[i],
                   errstr(r), log ? log : "");
            free(log);
            if (!failed) failed = 1;
        }
        if (prog) destroy(&prog);
        free(src);
    }
    return failed;
}
