/* replay.c: runs LLVMFuzzerTestOneInput over files, without libFuzzer.
 *
 *     fuzz_replay PATH...
 *
 * Each PATH is a file or a directory (its regular files, non-recursively, in name order).
 * Used by ctest to replay the seed corpus and any crash reproducers with a plain build
 * (and under ASan/UBSan in the sanitizer build). Prints each file before running it, so
 * that a crash names its input. Exit status 0 when every input ran, 1 on a read error.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz_replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int err = ferror(f) || buf == NULL;
    fclose(f);
    if (err) {
        fprintf(stderr, "fuzz_replay: %s: read error\n", path);
        free(buf);
        return 1;
    }
    fprintf(stderr, "fuzz_replay: %s (%zu bytes)\n", path, len);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, int *count)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "fuzz_replay: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t nnames = 0, cap = 0;
    struct dirent *e;
    int failed = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (nnames == cap) {
            size_t nc = cap ? cap * 2 : 64;
            char **nn = realloc(names, nc * sizeof *nn);
            if (nn == NULL) {
                failed = 1;
                break;
            }
            names = nn;
            cap = nc;
        }
        size_t need = strlen(dir) + strlen(e->d_name) + 2;
        names[nnames] = malloc(need);
        if (names[nnames] == NULL) {
            failed = 1;
            break;
        }
        snprintf(names[nnames], need, "%s/%s", dir, e->d_name);
        nnames++;
    }
    closedir(d);
    if (nnames > 1) qsort(names, nnames, sizeof *names, cmp_names);
    for (size_t i = 0; i < nnames; i++) {
        struct stat st;
        if (!failed && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            failed |= run_file(names[i]);
            ++*count;
        }
        free(names[i]);
    }
    free(names);
    if (failed) fprintf(stderr, "fuzz_replay: %s: could not run every file\n", dir);
    return failed;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_replay FILE-OR-DIR...\n");
        return 2;
    }
    int failed = 0, count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz_replay: %s: %s\n", argv[i], strerror(errno));
            failed = 1;
        } else if (S_ISDIR(st.st_mode)) {
            failed |= run_dir(argv[i], &count);
        } else {
            failed |= run_file(argv[i]);
            count++;
        }
    }
    fprintf(stderr, "fuzz_replay: %d inputs run%s\n", count, failed ? ", with errors" : "");
    return failed;
}
