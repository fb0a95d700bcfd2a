/* test_pp.c: the preprocessor (lang/pp.c): includes (relative, -I, <dck/...>), #pragma
 * once, #if arithmetic, -D/-U, locations through includes and macros, errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lang/pp.h"

static char root[256];

static void write_file(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void setup(void)
{
    strcpy(root, "/tmp/dck_test_pp_XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    char p[512];
    const char *dirs[] = {"sub", "inc", "std", "std/dck"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", root, dirs[i]);
        mkdir(p, 0755);
    }
}

typedef struct Run {
    Arena *a;
    DiagEngine d;
    char text[4096]; /* "spelling@file:line:col " per token */
    int ntok;
} Run;

/* Preprocesses main.dck (written from src) and records the token stream. */
static Run *run(const char *src, const char **defs, int ndefs, const char **undefs, int nundefs)
{
    Run *r = calloc(1, sizeof *r);
    r->a = arena_new();
    diag_init(&r->d, r->a);
    write_file("main.dck", src);
    char incdir[300], stdlib[300], path[300];
    snprintf(incdir, sizeof incdir, "%s/inc", root);
    snprintf(stdlib, sizeof stdlib, "%s/std", root);
    snprintf(path, sizeof path, "%s/main.dck", root);
    const char *incs[] = {incdir};
    FrontendOptions o = {incs, 1, stdlib, defs, ndefs, undefs, nundefs};
    Pp *pp = pp_new(r->a, &r->d, &o);
    cr_assert(pp_begin(pp, path, NULL));
    size_t rl = strlen(root) + 1;
    for (;;) {
        Token t;
        pp_next(pp, &t);
        if (t.kind == TK_EOF) break;
        const char *file = r->d.files.data[t.loc.file].path;
        if (strncmp(file, root, rl - 1) == 0) file += rl;
        size_t n = strlen(r->text);
        snprintf(r->text + n, sizeof r->text - n, "%.*s@%s:%d:%d ", t.len, t.text, file, t.loc.line,
                 t.loc.col);
        r->ntok++;
    }
    pp_end(pp);
    return r;
}

static const char *msg(Run *r, int i)
{
    return i < r->d.diags.len ? r->d.diags.data[i].msg : "(none)";
}

TestSuite(pp, .init = setup);

Test(pp, include_relative_then_I_then_stdlib)
{
    write_file("sub/a.dck", "#include \"b.dck\"\na\n");
    write_file("sub/b.dck", "b\n");
    write_file("inc/c.dck", "c\n");
    write_file("std/dck/m.dck", "m\n");
    Run *r = run("#include \"sub/a.dck\"\n#include \"c.dck\"\n#include <dck/m.dck>\nz\n", NULL, 0,
                 NULL, 0);
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(
        r->text,
        "b@sub/b.dck:1:1 a@sub/a.dck:2:1 c@inc/c.dck:1:1 m@std/dck/m.dck:1:1 z@main.dck:4:1 ");
    /* every opened file is in the file table, main first */
    cr_assert_eq(r->d.files.len, 5);
    cr_assert(strstr(r->d.files.data[0].path, "main.dck"));
}

Test(pp, relative_include_prefers_the_including_folder)
{
    write_file("sub/x.dck", "sub_x\n");
    write_file("inc/x.dck", "inc_x\n");
    write_file("sub/y.dck", "#include \"x.dck\"\n");
    Run *r = run("#include \"sub/y.dck\"\n#include \"x.dck\"\n", NULL, 0, NULL, 0);
    cr_assert_str_eq(r->text, "sub_x@sub/x.dck:1:1 inc_x@inc/x.dck:1:1 ");
}

Test(pp, pragma_once)
{
    write_file("inc/once.dck", "#pragma once\nonce\n");
    write_file("inc/twice.dck", "twice\n");
    Run *r = run(
        "#include \"once.dck\"\n#include \"once.dck\"\n#include \"twice.dck\"\n#include \"twice.dck\"\n",
        NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 0);
    cr_assert_str_eq(r->text,
                     "once@inc/once.dck:2:1 twice@inc/twice.dck:1:1 twice@inc/twice.dck:1:1 ");
}

Test(pp, if_arithmetic)
{
    Run *r =
        run("#define A 3\n"
            "#if (A + 4) * 2 == 14 && (1 << 3) == 8 && -1 < 0 && 7 / 2 == 3 && 7 % 4 == 3\n"
            "yes1\n#endif\n"
            "#if defined(A) && defined A && !defined(B) && UNDEFINED == 0 && (1 ? 2 : 3) == 2\n"
            "yes2\n#else\nno2\n#endif\n"
            "#if 0\nno3\n#elif A > 2\nyes3\n#elif 1\nno4\n#else\nno5\n#endif\n"
            "#ifdef A\nyes4\n#endif\n#ifndef A\nno6\n#endif\n"
            "#if 0 && 1 / 0\nno7\n#endif\n"
            "#if 0\n#if 1\nno8\n#else\nno9\n#endif\n#endif\n",
            NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->text,
                     "yes1@main.dck:3:1 yes2@main.dck:6:1 yes3@main.dck:13:1 yes4@main.dck:20:1 ");
}

Test(pp, command_line_defines)
{
    const char *defs[] = {"X=5", "Y", "Z=1+2"};
    const char *undefs[] = {"Y"};
    Run *r = run("X Z\n#ifdef Y\ny\n#endif\n#define X 7\nX\n", defs, 3, undefs, 1);
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    /* macro tokens carry the use site; -D wins over a #define in the file */
    cr_assert_str_eq(r->text,
                     "5@main.dck:1:1 1@main.dck:1:3 +@main.dck:1:3 2@main.dck:1:3 5@main.dck:6:1 ");
    cr_assert_str_eq(r->d.files.data[1].path, "<command line>");
}

Test(pp, macro_locations_and_recursion)
{
    Run *r = run("#define A B + 1\n#define B A\n#define C (C)\n  x A\nC\n", NULL, 0, NULL, 0);
    cr_assert_str_eq(r->text, "x@main.dck:4:3 A@main.dck:4:5 +@main.dck:4:5 1@main.dck:4:5 "
                              "(@main.dck:5:1 C@main.dck:5:1 )@main.dck:5:1 ");
}

Test(pp, undef_and_redefinition_warning)
{
    Run *r = run("#define A 1\n#undef A\nA\n#define B 1\n#define B 1\n#define B 2\nB\n", NULL, 0,
                 NULL, 0);
    cr_assert_str_eq(r->text, "A@main.dck:3:1 2@main.dck:7:1 ");
    cr_assert_eq(r->d.nerrors, 0);
    cr_assert_eq(r->d.nwarnings, 1);
    cr_assert_str_eq(msg(r, 0), "'B' redefined");
    cr_assert_eq(r->d.diags.data[1].sev, DIAG_NOTE);
}

Test(pp, missing_include)
{
    Run *r = run("#include \"nope.dck\"\nz\n", NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 1);
    cr_assert_str_eq(msg(r, 0), "cannot find include file 'nope.dck'");
    cr_assert_eq(r->d.diags.data[0].loc.line, 1);
    cr_assert_eq(r->d.diags.data[0].loc.col, 10);
    cr_assert_str_eq(r->text, "z@main.dck:2:1 ");
}

Test(pp, function_like_macro)
{
    Run *r = run("#define F(x) x\n#define G (x)\nG\n", NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 1);
    cr_assert_str_eq(msg(r, 0), "function-like macros are not supported");
    cr_assert_str_eq(r->text, "(@main.dck:3:1 x@main.dck:3:1 )@main.dck:3:1 ");
}

Test(pp, conditional_errors)
{
    Run *r = run("#if 1\n#else\n#elif 1\n#endif\n#endif\n#if 1\n", NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 3);
    cr_assert_str_eq(msg(r, 0), "#elif after #else");
    cr_assert_str_eq(msg(r, 2), "#endif without #if");
    cr_assert_str_eq(msg(r, 3), "unterminated #if");
    cr_assert_eq(r->d.diags.data[3].loc.line, 6);
}

Test(pp, include_cycle_stops)
{
    write_file("inc/self.dck", "#include \"self.dck\"\n#include \"self.dck\"\n");
    Run *r = run("#include \"self.dck\"\nz\n", NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 1);
    cr_assert(strstr(msg(r, 0), "nested too deeply"));
    cr_assert_str_eq(r->text, "z@main.dck:2:1 ");
}

Test(pp, skipped_groups_are_quiet)
{
    Run *r = run("#if 0\n@ 12abc #bogus\n#foo\n#endif\nz\n", NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->text, "z@main.dck:5:1 ");
}
