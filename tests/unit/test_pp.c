/* test_pp.c: the preprocessor (lang/pp.c): includes (relative, -I, <dck/...>), #pragma
 * once, #if arithmetic, -D/-U, locations through includes and macros, errors; C99
 * function-like macros (the examples of C99 6.10.3.5), #, ##, variadic macros,
 * __VA_OPT__, painting, backslash-newline, #line / __LINE__ / __FILE__ / _Pragma, and the
 * diagnostics of macro misuse. */
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
    char text[4096];  /* "spelling@file:line:col " per token */
    char spell[4096]; /* "spelling " per token */
    int ntok;
    bool lexerr[256]; /* Token.lex_error of the first tokens */
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
        n = strlen(r->spell);
        snprintf(r->spell + n, sizeof r->spell - n, "%.*s ", t.len, t.text);
        if (r->ntok < 256) r->lexerr[r->ntok] = t.lex_error;
        r->ntok++;
    }
    pp_end(pp);
    return r;
}

static const char *msg(Run *r, int i)
{
    return i < r->d.diags.len ? r->d.diags.data[i].msg : "(none)";
}

static void done(Run *r)
{
    arena_free(r->a);
    free(r);
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
    done(r);
}

Test(pp, relative_include_prefers_the_including_folder)
{
    write_file("sub/x.dck", "sub_x\n");
    write_file("inc/x.dck", "inc_x\n");
    write_file("sub/y.dck", "#include \"x.dck\"\n");
    Run *r = run("#include \"sub/y.dck\"\n#include \"x.dck\"\n", NULL, 0, NULL, 0);
    cr_assert_str_eq(r->text, "sub_x@sub/x.dck:1:1 inc_x@inc/x.dck:1:1 ");
    done(r);
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
    done(r);
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
    done(r);
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
    done(r);
}

Test(pp, macro_locations_and_recursion)
{
    Run *r = run("#define A B + 1\n#define B A\n#define C (C)\n  x A\nC\n", NULL, 0, NULL, 0);
    cr_assert_str_eq(r->text, "x@main.dck:4:3 A@main.dck:4:5 +@main.dck:4:5 1@main.dck:4:5 "
                              "(@main.dck:5:1 C@main.dck:5:1 )@main.dck:5:1 ");
    done(r);
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
    done(r);
}

Test(pp, missing_include)
{
    Run *r = run("#include \"nope.dck\"\nz\n", NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 1);
    cr_assert_str_eq(msg(r, 0), "cannot find include file 'nope.dck'");
    cr_assert_eq(r->d.diags.data[0].loc.line, 1);
    cr_assert_eq(r->d.diags.data[0].loc.col, 10);
    cr_assert_str_eq(r->text, "z@main.dck:2:1 ");
    done(r);
}

/* Preprocesses src alone. */
static Run *pre(const char *src) { return run(src, NULL, 0, NULL, 0); }

Test(pp, function_like_macro)
{
    Run *r = pre("#define F(x) [x]\n#define G (x)\nG F(1) F (2) F\n(3) F + F()\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->spell, "( x ) [ 1 ] [ 2 ] [ 3 ] F + [ ] ");
    /* replacement tokens at the use, argument tokens where they are written */
    Run *l = pre("#define F(a, b) (a + b)\n  F(x,\n    y)\n");
    cr_assert_str_eq(l->text, "(@main.dck:2:3 x@main.dck:2:5 +@main.dck:2:3 y@main.dck:3:5 "
                              ")@main.dck:2:3 ");
    done(r);
    done(l);
}

/* C99 6.10.3.5 EXAMPLE 3 */
Test(pp, c99_example_3)
{
    Run *r = pre("#define x 3\n#define f(a) f(x * (a))\n#undef x\n#define x 2\n#define g f\n"
                 "#define z z[0]\n#define h g(~\n#define m(a) a(w)\n#define w 0,1\n"
                 "#define t(a) a\n#define p() int\n#define q(x) x\n#define r(x,y) x ## y\n"
                 "f(y+1) + f(f(z)) % t(t(g)(0) + t)(1);\n"
                 "g(x+(3,4)-w) | h 5) & m\n(f)^m(m);\n"
                 "p() i[q()] = { q(1), r(2,3), r(4,), r(,5), r(,) };\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(
        r->spell, "f ( 2 * ( y + 1 ) ) + f ( 2 * ( f ( 2 * ( z [ 0 ] ) ) ) ) % f ( 2 * ( 0 ) ) + "
                  "t ( 1 ) ; f ( 2 * ( 2 + ( 3 , 4 ) - 0 , 1 ) ) | f ( 2 * ( ~ 5 ) ) & "
                  "f ( 2 * ( 0 , 1 ) ) ^ m ( 0 , 1 ) ; int i [ ] = { 1 , 23 , 4 , 5 , } ; ");
    done(r);
}

/* C99 6.10.3.5 EXAMPLES 4 (without its character literals), 5 and 7 */
Test(pp, c99_examples_stringize_paste_variadic)
{
    Run *r = pre("#define str(s) # s\n#define xstr(s) str(s)\n"
                 "#define debug(s, t) printf(\"x\" # s \"= %d, x\" # t \"= %s\", \\\n"
                 " x ## s, x ## t)\n#define INCFILE(n) vers ## n\n#define glue(a, b) a ## b\n"
                 "#define xglue(a, b) glue(a, b)\n#define HIGHLOW \"hello\"\n"
                 "#define LOW LOW \", world\"\n"
                 "debug(1, 2); xstr(INCFILE(2).h) glue(HIGH, LOW); xglue(HIGH, LOW)\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->spell, "printf ( \"x\" \"1\" \"= %d, x\" \"2\" \"= %s\" , x1 , x2 ) ; "
                               "\"vers2.h\" \"hello\" ; \"hello\" \", world\" ");
    Run *t = pre("#define t(x,y,z) x ## y ## z\nint j[] = { t(1,2,3), t(,4,5), t(6,,7), t(8,9,),\n"
                 " t(10,,), t(,11,), t(,,12), t(,,) };\n");
    cr_assert_str_eq(t->spell, "int j [ ] = { 123 , 45 , 67 , 89 , 10 , 11 , 12 , } ; ");
    Run *v = pre("#define debug(...) fprintf(stderr, __VA_ARGS__)\n"
                 "#define showlist(...) puts(#__VA_ARGS__)\n"
                 "#define report(test, ...) ((test)?puts(#test):\\\n printf(__VA_ARGS__))\n"
                 "debug(\"Flag\"); debug(\"X = %d\", x);\n"
                 "showlist(The first, second, and third items.);\n"
                 "report(x>y, \"x is %d but y is %d\", x, y);\n");
    cr_assert_eq(v->d.nerrors, 0, "%s", msg(v, 0));
    cr_assert_str_eq(
        v->spell,
        "fprintf ( stderr , \"Flag\" ) ; fprintf ( stderr , \"X = %d\" , x ) ; "
        "puts ( \"The first, second, and third items.\" ) ; "
        "( ( x > y ) ? puts ( \"x>y\" ) : printf ( \"x is %d but y is %d\" , x , y ) ) ; ");
    done(r);
    done(t);
    done(v);
}

Test(pp, painted_names_never_expand)
{
    Run *r = pre("#define f(x) f(x)+1\n#define AA BB\n#define BB AA\n#define g(x) x g\n"
                 "#define a(x) b(x)\n#define b(x) a(x)\n"
                 "f(2) f(f(3)) AA BB g(1)(2) a(1)\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->spell, "f ( 2 ) + 1 f ( f ( 3 ) + 1 ) + 1 AA BB 1 g ( 2 ) a ( 1 ) ");
    /* C99 6.10.3.4 EXAMPLE: the g left at the end of f's expansion meets (9) */
    Run *e = pre("#define f(a) a*g\n#define g(a) f(a)\nf(2)(9)\n");
    cr_assert_str_eq(e->spell, "2 * 9 * g ");
    done(r);
    done(e);
}

Test(pp, stringize_and_paste)
{
    Run *r = pre("#define STR(x) #x\n#define XSTR(x) STR(x)\n#define CAT(a, b) a##b\n"
                 "#define XCAT(a, b) CAT(a, b)\n#define N 16\n#define E\n"
                 "STR(  a  +\n b ) STR() XSTR(E) XSTR(N) STR(N) CAT(x, N) XCAT(x, N) CAT(1, 2) "
                 "CAT(0x, 1F) CAT(1, .5f) CAT(1e, 5) CAT(<, =) CAT([, [) CAT(<<, <) CAT(, y) "
                 "CAT(fl, oat) CAT(tr, ue)\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->spell,
                     "\"a + b\" \"\" \"\" \"16\" \"N\" xN x16 12 0x1F 1.5f 1e5 <= [[ <<< y "
                     "float true ");
    Run *k = pre("#define CAT(a, b) a##b\nCAT(fl, oat) CAT(1, 2) CAT(x, 0)\n");
    cr_assert_eq(k->ntok, 3);
    done(r);
    done(k);
}

Test(pp, paste_results_are_lexed)
{
    Arena *a = arena_new();
    DiagEngine d;
    diag_init(&d, a);
    Pp *pp = pp_new(a, &d, NULL);
    cr_assert(
        pp_begin(pp, "m.dck", "#define CAT(a, b) a##b\nCAT(fl, oat) CAT(0x, 1F) CAT(tr, ue)\n"));
    Token t;
    pp_next(pp, &t);
    cr_assert_eq(t.kind, TK_TYPE);
    cr_assert_not_null(t.type);
    pp_next(pp, &t);
    cr_assert_eq(t.kind, TK_INT_LIT);
    cr_assert_eq(t.ival, 31);
    pp_next(pp, &t);
    cr_assert_eq(t.kind, TK_TRUE);
    cr_assert_eq(t.ival, 1);
    pp_next(pp, &t);
    cr_assert_eq(t.kind, TK_EOF);
    cr_assert_eq(d.nerrors, 0);
    pp_end(pp);
    arena_free(a);
}

Test(pp, variadic_macros)
{
    Run *r = pre("#define LOG(fmt, ...) f(fmt, __VA_ARGS__)\n"
                 "#define LOG2(fmt, ...) f(fmt, ## __VA_ARGS__)\n"
                 "#define NAMED(a, rest...) g(a, rest)\n"
                 "#define OPT(x, ...) h(x __VA_OPT__(,) __VA_ARGS__)\n"
                 "#define SOPT(...) #__VA_OPT__(a b)\n"
                 "LOG(1, 2, 3) LOG(1) LOG(a, (b, c), d) LOG2(1) LOG2(1,) LOG2(1, 2) NAMED(1, 2, 3) "
                 "OPT(1) OPT(1, 2, 3) SOPT() SOPT(x)\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->spell, "f ( 1 , 2 , 3 ) f ( 1 , ) f ( a , ( b , c ) , d ) f ( 1 ) "
                               "f ( 1 , ) f ( 1 , 2 ) g ( 1 , 2 , 3 ) h ( 1 ) h ( 1 , 2 , 3 ) "
                               "\"\" \"a b\" ");
    done(r);
}

Test(pp, multi_line_statement_macro)
{
    Run *r = pre("#define SWAP(a, b) do { \\\n    float t_ = (a); \\\n    (a) = (b); \\\n"
                 "    (b) = t_; \\\n} while (0)\nSWAP(\n  x[i],\n  x[j]);\nz\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->spell, "do { float t_ = ( x [ i ] ) ; ( x [ i ] ) = ( x [ j ] ) ; "
                               "( x [ j ] ) = t_ ; } while ( 0 ) ; z ");
    cr_assert(strstr(r->text, "z@main.dck:9:1 "), "%s", r->text);
    done(r);
}

Test(pp, backslash_newline_anywhere)
{
    /* in an identifier, a number, a comment, a directive; locations stay physical */
    Run *r = pre("ab\\\ncd 1\\\n2 // c \\\n d\n#def\\\nine X \\\n 5\nX e\\  \nf\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->text, "abcd@main.dck:1:1 12@main.dck:2:4 5@main.dck:8:1 ef@main.dck:8:3 ");
    cr_assert_eq(r->d.nwarnings, 1);
    cr_assert_str_eq(msg(r, 0), "backslash and newline separated by space");
    cr_assert_eq(r->d.diags.data[0].loc.line, 8);
    cr_assert_eq(r->d.diags.data[0].loc.col, 4);
    /* a backslash elsewhere is still a stray character */
    Run *s = pre("a \\ b\n");
    cr_assert_eq(s->d.nerrors, 1);
    cr_assert_str_eq(msg(s, 0), "stray '\\' in program");
    done(r);
    done(s);
}

Test(pp, if_with_function_like_macros)
{
    Run *r = pre("#define F(x) ((x) + 1)\n#define HAS_A defined(A)\n#define A\n"
                 "#if F(2) == 3 && F(F(1)) == 3 && HAS_A && !defined B && defined F\nyes\n#endif\n"
                 "#if F\nno\n#endif\n#if __LINE__ == 10\nline\n#endif\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->spell, "yes line ");
    done(r);
}

Test(pp, line_file_and_pragma_operator)
{
    write_file("inc/once2.dck", "_Pragma(\"once\") once\n");
    Run *r =
        pre("__LINE__ __FILE__\n#define L __LINE__\nL\n#line 100 \"gen.dck\"\n__LINE__ __FILE__\n"
            "#include \"once2.dck\"\n#include \"once2.dck\"\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert(strstr(r->spell, "1 \""), "%s", r->spell);
    cr_assert(strstr(r->spell, "main.dck\" 3 100 \"gen.dck\" once "), "%s", r->spell);
    /* diagnostics keep the physical place */
    cr_assert(strstr(r->text, "100@main.dck:5:1 "), "%s", r->text);
    done(r);
}

Test(pp, computed_include)
{
    write_file("inc/comp.dck", "comp\n");
    Run *r = pre("#define STR(x) #x\n#define XSTR(x) STR(x)\n#define NAME comp.dck\n"
                 "#define HDR <comp.dck>\n#include XSTR(NAME)\n#include HDR\n");
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->spell, "comp comp ");
    done(r);
}

Test(pp, function_like_define_on_the_command_line)
{
    const char *defs[] = {"SQ(x)=((x)*(x))", "F()", "V(...)=[__VA_ARGS__]"};
    Run *r = run("SQ(a) F() V(1, 2)\n", defs, 3, NULL, 0);
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->spell, "( ( a ) * ( a ) ) 1 [ 1 , 2 ] ");
    done(r);
}

Test(pp, malformed_numbers_are_reported_only_when_used)
{
    Run *r = pre("#define CAT(a, b) a##b\n#define STR(x) #x\n#define BAD 0x\n"
                 "CAT(0x, 1F) STR(0x 08) STR(BAD)\n#if 0\n08\n#endif\nBAD\n");
    cr_assert_eq(r->d.nerrors, 1, "%s", msg(r, 0));
    cr_assert_str_eq(msg(r, 0), "invalid numeric literal '0x'");
    cr_assert_eq(r->d.diags.data[0].loc.line, 8);
    cr_assert_eq(r->d.diags.data[1].sev, DIAG_NOTE);
    cr_assert_str_eq(r->d.diags.data[1].msg, "in expansion of macro 'BAD'");
    done(r);
}

Test(pp, expansion_notes)
{
    Arena *a = arena_new();
    DiagEngine d;
    diag_init(&d, a);
    Pp *pp = pp_new(a, &d, NULL);
    cr_assert(pp_begin(pp, "m.dck", "#define A(x) x + 1\n#define B A(2)\n  B y\n"));
    Token t[5];
    for (int i = 0; i < 5; i++) pp_next(pp, &t[i]);
    pp_end(pp);
    cr_assert_eq(t[3].kind, TK_IDENT); /* 2 + 1 y */
    cr_assert_eq(t[4].kind, TK_EOF);
    /* an error at a token of the expansion: a note at the outermost macro's #define */
    diag_error(&d, t[1].loc, "boom");
    cr_assert_eq(d.diags.len, 2);
    cr_assert_str_eq(d.diags.data[1].msg, "in expansion of macro 'B'");
    cr_assert_eq(d.diags.data[1].loc.line, 2);
    cr_assert_eq(d.diags.data[1].loc.col, 9);
    /* ...and none elsewhere */
    diag_error(&d, t[3].loc, "bang");
    cr_assert_eq(d.diags.len, 3);
    arena_free(a);
}

Test(pp, directive_errors)
{
    static const struct {
        const char *src, *msg;
        int col;
    } cases[] = {
        {"#define A(x, x) x\n", "duplicate macro parameter 'x'", 14},
        {"#define A(x) #y\n", "'#' is not followed by a macro parameter", 14},
        {"#define A ## x\n", "'##' cannot appear at either end of a macro expansion", 11},
        {"#define A(x) x ##\n", "'##' cannot appear at either end of a macro expansion", 16},
        {"#define A(x) __VA_ARGS__\n",
         "__VA_ARGS__ can only appear in the expansion of a variadic macro", 14},
        {"#define A __VA_OPT__(x)\n",
         "__VA_OPT__ can only appear in the expansion of a variadic macro", 11},
        {"#define A(__VA_ARGS__) 1\n",
         "__VA_ARGS__ can only appear in the expansion of a variadic macro", 11},
        {"#define A(x, y\n", "missing ')' in macro parameter list", 15},
        {"#define A(1) x\n", "expected a parameter name in macro parameter list, found '1'", 11},
        {"#define A(x y) x\n", "expected ',' or ')' in macro parameter list, found 'y'", 13},
        {"#define A(..., x) x\n",
         "expected ')' after the variable arguments in macro parameter list, found ','", 14},
        {"#define A(...) __VA_OPT__(x\n", "unterminated __VA_OPT__", 16},
        {"#define A(...) __VA_OPT__(## x)\n", "'##' cannot appear at either end of __VA_OPT__", 27},
        {"#line 0\n", "'0' after #line is not a positive integer", 7},
        {"#line 5 x\n", "invalid file name 'x' after #line", 9},
        {"_Pragma(1)\n", "_Pragma takes a parenthesized string literal", 1},
    };
    for (int i = 0; i < ARRAY_LEN(cases); i++) {
        Run *r = pre(cases[i].src);
        cr_assert_eq(r->d.nerrors, 1, "%s: %d errors: %s", cases[i].src, r->d.nerrors, msg(r, 0));
        cr_assert_str_eq(msg(r, 0), cases[i].msg, "%s", cases[i].src);
        cr_assert_eq(r->d.diags.data[0].loc.col, cases[i].col, "%s: col %d", cases[i].src,
                     r->d.diags.data[0].loc.col);
        done(r);
    }
}

Test(pp, bad_uses_vanish_without_cascades)
{
    /* a wrong use, and any use of a macro whose #define failed, leaves nothing and marks the
     * next token (the parser then stays quiet) */
    Run *r =
        pre("#define F(a, b) a\n#define G(x, x) x\nF(1, 2, 3) p F() q G(1) r F(1, (2, 3)) s\n");
    cr_assert_eq(r->d.nerrors, 3, "%s", msg(r, 0));
    cr_assert_str_eq(msg(r, 1), "macro 'F' requires 2 arguments, but 3 given");
    cr_assert_str_eq(r->d.diags.data[2].msg, "macro 'F' defined here");
    cr_assert_str_eq(r->d.diags.data[3].msg, "macro 'F' requires 2 arguments, but 0 given");
    cr_assert_eq(r->d.diags.data[3].loc.col, 14);
    cr_assert_str_eq(r->spell, "p q r 1 s ");
    cr_assert(r->lexerr[0] && r->lexerr[1] && r->lexerr[2] && !r->lexerr[3] && !r->lexerr[4]);
    Run *u = pre("#define F(x) x\nF(1, (2)\n");
    cr_assert_eq(u->d.nerrors, 1);
    cr_assert_str_eq(msg(u, 0), "unterminated argument list invoking macro 'F'");
    cr_assert_eq(u->ntok, 0);
    done(r);
    done(u);
}

Test(pp, runaway_expansions_stop)
{
    /* 2^40 tokens: stopped with one error, not a hang */
    StrBuf sb = {0};
    sb_puts(&sb, "#define A0 x x\n");
    for (int i = 1; i <= 40; i++) sb_printf(&sb, "#define A%d A%d A%d\n", i, i - 1, i - 1);
    sb_puts(&sb, "A40\n");
    Run *r = pre(sb.data);
    sb_free(&sb);
    cr_assert_eq(r->d.nerrors, 1);
    cr_assert(strstr(msg(r, 0), "macro expansion produces more than"), "%s", msg(r, 0));
    /* arguments nested without end */
    sb_puts(&sb, "#define F(x) x\n");
    for (int i = 0; i < 5000; i++) sb_puts(&sb, "F(");
    Run *n = pre(sb.data);
    sb_free(&sb);
    cr_assert_geq(n->d.nerrors, 1);
    done(r);
    done(n);
}

Test(pp, conditional_errors)
{
    Run *r = run("#if 1\n#else\n#elif 1\n#endif\n#endif\n#if 1\n", NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 3);
    cr_assert_str_eq(msg(r, 0), "#elif after #else");
    cr_assert_str_eq(msg(r, 2), "#endif without #if");
    cr_assert_str_eq(msg(r, 3), "unterminated #if");
    cr_assert_eq(r->d.diags.data[3].loc.line, 6);
    done(r);
}

Test(pp, include_cycle_stops)
{
    write_file("inc/self.dck", "#include \"self.dck\"\n#include \"self.dck\"\n");
    Run *r = run("#include \"self.dck\"\nz\n", NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 1);
    cr_assert(strstr(msg(r, 0), "nested too deeply"));
    cr_assert_str_eq(r->text, "z@main.dck:2:1 ");
    done(r);
}

Test(pp, skipped_groups_are_quiet)
{
    Run *r = run("#if 0\n@ 12abc #bogus\n#foo\n#endif\nz\n", NULL, 0, NULL, 0);
    cr_assert_eq(r->d.nerrors, 0, "%s", msg(r, 0));
    cr_assert_str_eq(r->text, "z@main.dck:5:1 ");
    done(r);
}
