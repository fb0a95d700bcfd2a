/* test_header.c: the C header of a module (dckc --emit=header) mirrors the module's structs
 * as a user compiles it (cc -std=c11 -Wall -Wextra -Werror): fixed-array fields keep their
 * dimensions, and the header's own assertions on sizes and offsets hold, together with
 * independent ones written here from the C layout rules.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

/* dckc --emit=header for tests/exec/NAME.dck as module MOD into dir; returns the header */
static char *emit_header(const char *dir, const char *name, const char *mod)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s/driver/dckc --emit=header --target=c --module-name=%s -o %s "
             "%s/tests/exec/%s.dck",
             DCK_BINARY_DIR, mod, dir, DCK_SOURCE_DIR, name);
    cr_assert_eq(sh(cmd), 0, "%s", cmd);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.h", dir, name);
    return read_file(path);
}

/* compiles dir/check.c (which includes the headers) as C11 with every warning an error */
static void compile_check(const char *dir, const char *src)
{
    char path[1024], cmd[4096];
    snprintf(path, sizeof path, "%s/check.c", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(src, f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "cc -std=c11 -Wall -Wextra -Werror -I%s/runtime/include -I%s -c %s -o %s/check.o",
             DCK_SOURCE_DIR, dir, path, dir);
    cr_assert_eq(sh(cmd), 0, "the header does not compile: %s", cmd);
}

Test(header, array_fields)
{
    char dir[] = "/tmp/dck-header-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *h = emit_header(dir, "array_fields", "af");
    static const char *const lines[] = {
        "    int32_t keys[8];\n",
        "    float w[2][3];\n",
        "    dck_float3 pts[2];\n",
        "    int32_t hits[4];\n",
        "DCK_STATIC_ASSERT(sizeof(af_Rec) == 96, af_Rec_size);\n",
        "DCK_STATIC_ASSERT(offsetof(af_Rec, pts) == 64, af_Rec_pts_offset);\n",
        "DCK_STATIC_ASSERT(sizeof(((af_Rec *)0)->w) == 24, af_Rec_w_size);\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_assert_not_null(strstr(h, lines[i]), "the header lacks: %s", lines[i]);
    free(h);
    compile_check(
        dir,
        "#include \"array_fields.h\"\n"
        "_Static_assert(offsetof(af_Rec, keys) == 0 && sizeof(((af_Rec *)0)->keys) == 32, \"keys\");\n"
        "_Static_assert(offsetof(af_Rec, w) == 32 && sizeof(((af_Rec *)0)->w[1]) == 12, \"w\");\n"
        "_Static_assert(offsetof(af_Rec, n) == 56, \"n\");\n"
        "_Static_assert(offsetof(af_Rec, pts) == 64 && sizeof(((af_Rec *)0)->pts[1]) == 16, \"pts\");\n"
        "_Static_assert(sizeof(af_Rec) == 96 && _Alignof(af_Rec) == 16, \"Rec\");\n"
        "_Static_assert(offsetof(af_Hist, fsum) == 16 && sizeof(af_Hist) == 24, \"Hist\");\n"
        "int use(af_Rec *r, int k);\n"
        "int use(af_Rec *r, int k) { r->w[1][2] = 2.0f; return r->keys[k]; }\n");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(sh(cmd), 0);
}

Test(header, typedef_structs)
{
    char dir[] = "/tmp/dck-header-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *h = emit_header(dir, "typedefs", "td");
    /* structs keep their struct names; an unnamed struct takes its typedef name */
    static const char *const lines[] = {
        "typedef struct td_Pair {\n", "typedef struct td_Anon {\n", "typedef struct td_Node_s {\n",
        "    td_Pair p;\n",           "    uint8_t tag;\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_assert_not_null(strstr(h, lines[i]), "the header lacks: %s", lines[i]);
    free(h);
    compile_check(
        dir,
        "#include \"typedefs.h\"\n"
        "_Static_assert(offsetof(td_Pair, big) == 16 && sizeof(td_Pair) == 32, \"Pair\");\n"
        "_Static_assert(offsetof(td_Node_s, tag) == 32 && sizeof(td_Node_s) == 48, \"Node\");\n"
        "_Static_assert(offsetof(td_Anon, b) == 4 && sizeof(td_Anon) == 8, \"Anon\");\n");
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(sh(cmd), 0);
}
