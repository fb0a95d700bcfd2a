/* test_lexer.c: the flex lexer (lang/lexer.l): literals, suffixes, operators, keywords,
 * locations and lexical errors. */
#include <criterion/criterion.h>
#include <string.h>

#include "lang/pp.h"

typedef struct Lx {
    Arena *a;
    DiagEngine d;
    LexEnv env;
    Lexer *lx;
} Lx;

static Lx *lx_open(const char *src)
{
    Lx *l = calloc(1, sizeof *l);
    l->a = arena_new();
    diag_init(&l->d, l->a);
    lex_env_init(&l->env, l->a, &l->d);
    int f = diag_add_file(&l->d, "t.dck", src, strlen(src));
    l->lx = lex_open(&l->env, f, src, strlen(src));
    return l;
}

static Token next(Lx *l)
{
    Token t;
    lex_next(l->lx, &t);
    return t;
}

static void lx_close(Lx *l)
{
    lex_close(l->lx);
    arena_free(l->a);
    free(l);
}

Test(lexer, integer_literals)
{
    Lx *l = lx_open("42 0x1F 0b101 7u 8l 9ul 10UL 11lu 0 0XfFu");
    struct {
        uint64_t v;
        int suf;
    } want[] = {
        {42, 0},
        {31, 0},
        {5, 0},
        {7, LIT_U},
        {8, LIT_L},
        {9, LIT_U | LIT_L},
        {10, LIT_U | LIT_L},
        {11, LIT_U | LIT_L},
        {0, 0},
        {255, LIT_U},
    };
    for (int i = 0; i < ARRAY_LEN(want); i++) {
        Token t = next(l);
        cr_assert_eq(t.kind, TK_INT_LIT, "token %d", i);
        cr_assert_eq(t.ival, want[i].v, "token %d", i);
        cr_assert_eq(t.suffix, want[i].suf, "token %d", i);
    }
    cr_assert_eq(next(l).kind, TK_EOF);
    cr_assert_eq(l->d.nerrors, 0);
    lx_close(l);
}

Test(lexer, float_literals)
{
    Lx *l = lx_open("1.0 1. .5 1e-3 2.5f 3.0h 4.0d 1.5E+2F 7e2");
    struct {
        double v;
        int suf;
    } want[] = {
        {1.0, 0},     {1.0, 0},     {0.5, 0},       {1e-3, 0},  {2.5, LIT_F},
        {3.0, LIT_H}, {4.0, LIT_D}, {150.0, LIT_F}, {700.0, 0},
    };
    for (int i = 0; i < ARRAY_LEN(want); i++) {
        Token t = next(l);
        cr_assert_eq(t.kind, TK_FLOAT_LIT, "token %d", i);
        cr_assert_float_eq(t.fval, want[i].v, 1e-12, "token %d", i);
        cr_assert_eq(t.suffix, want[i].suf, "token %d", i);
    }
    cr_assert_eq(l->d.nerrors, 0);
    lx_close(l);
}

Test(lexer, operators)
{
    Lx *l = lx_open("<<< >>> [[ ]] <<= >>= ++ -- << >> <= >= == != && || += -= *= /= %= &= |= ^= "
                    "( ) [ ] { } ; , . ? : + - * / % & | ^ ! ~ < > = #");
    int want[] = {TK_LAUNCH_OPEN,
                  TK_LAUNCH_CLOSE,
                  TK_ATTR_OPEN,
                  ']',
                  ']',
                  TK_SHL_ASSIGN,
                  TK_SHR_ASSIGN,
                  TK_INC,
                  TK_DEC,
                  TK_SHL,
                  TK_SHR,
                  TK_LE,
                  TK_GE,
                  TK_EQ,
                  TK_NE,
                  TK_ANDAND,
                  TK_OROR,
                  TK_ADD_ASSIGN,
                  TK_SUB_ASSIGN,
                  TK_MUL_ASSIGN,
                  TK_DIV_ASSIGN,
                  TK_MOD_ASSIGN,
                  TK_AND_ASSIGN,
                  TK_OR_ASSIGN,
                  TK_XOR_ASSIGN,
                  '(',
                  ')',
                  '[',
                  ']',
                  '{',
                  '}',
                  ';',
                  ',',
                  '.',
                  '?',
                  ':',
                  '+',
                  '-',
                  '*',
                  '/',
                  '%',
                  '&',
                  '|',
                  '^',
                  '!',
                  '~',
                  '<',
                  '>',
                  '=',
                  '#',
                  TK_EOF};
    for (int i = 0; i < ARRAY_LEN(want); i++) cr_assert_eq(next(l).kind, want[i], "token %d", i);
    lx_close(l);
}

Test(lexer, nested_index_is_not_an_attribute_close)
{
    Lx *l = lx_open("y[ix[i]]");
    int want[] = {TK_IDENT, '[', TK_IDENT, '[', TK_IDENT, ']', ']', TK_EOF};
    for (int i = 0; i < ARRAY_LEN(want); i++) cr_assert_eq(next(l).kind, want[i], "token %d", i);
    lx_close(l);
}

Test(lexer, keywords_and_types)
{
    Lx *l = lx_open("kernel pipeline struct const shared if else for while do break continue "
                    "return void true false float4 uint3 half2 bool i32 f64 u8 float5 f32x4 foo");
    int want[] = {TK_KERNEL, TK_PIPELINE, TK_STRUCT, TK_CONST, TK_SHARED,   TK_IF,     TK_ELSE,
                  TK_FOR,    TK_WHILE,    TK_DO,     TK_BREAK, TK_CONTINUE, TK_RETURN, TK_VOID,
                  TK_TRUE,   TK_FALSE,    TK_TYPE,   TK_TYPE,  TK_TYPE,     TK_TYPE,   TK_TYPE,
                  TK_TYPE,   TK_TYPE,     TK_IDENT,  TK_IDENT, TK_IDENT};
    Token t[ARRAY_LEN(want)];
    for (int i = 0; i < ARRAY_LEN(want); i++) {
        t[i] = next(l);
        cr_assert_eq(t[i].kind, want[i], "token %d", i);
    }
    cr_assert_eq(t[16].type, ty_vec(ty_scalar(SC_FLOAT), 4));
    cr_assert_eq(t[17].type, ty_vec(ty_scalar(SC_UINT), 3));
    cr_assert_eq(t[18].type, ty_vec(ty_scalar(SC_HALF), 2));
    cr_assert_eq(t[20].type, ty_scalar(SC_INT));
    cr_assert_eq(t[21].type, ty_scalar(SC_DOUBLE));
    cr_assert_eq(t[14].ival, 1);
    cr_assert_str_eq(t[25].name, "foo");
    cr_assert_eq(t[25].name, intern("foo"));
    lx_close(l);
}

Test(lexer, locations)
{
    Lx *l = lx_open("a\n  b\t c /* x\n y */ d // e\n\tf");
    int want[][2] = {{1, 1}, {2, 3}, {2, 6}, {3, 7}, {4, 2}};
    for (int i = 0; i < ARRAY_LEN(want); i++) {
        Token t = next(l);
        cr_assert_eq(t.loc.line, want[i][0], "token %d line %d", i, t.loc.line);
        cr_assert_eq(t.loc.col, want[i][1], "token %d col %d", i, t.loc.col);
    }
    lx_close(l);
}

Test(lexer, beginning_of_line_flag)
{
    /* a newline inside a comment starts a new line too (outside directives) */
    Lx *l = lx_open("a b\n# c /* \n */ #d");
    bool want[] = {true, false, true, false, true, false};
    for (int i = 0; i < ARRAY_LEN(want); i++) cr_assert_eq(next(l).bol, want[i], "token %d", i);
    lx_close(l);
}

Test(lexer, errors_do_not_stop_lexing)
{
    Lx *l = lx_open("a @ b 12abc 0x c");
    cr_assert_eq(next(l).kind, TK_IDENT);
    Token b = next(l);
    cr_assert_eq(b.kind, TK_IDENT);
    cr_assert(b.lex_error);
    cr_assert_eq(next(l).kind, TK_INT_LIT);
    cr_assert_eq(next(l).kind, TK_INT_LIT);
    cr_assert_eq(next(l).kind, TK_IDENT);
    cr_assert_eq(l->d.nerrors, 3);
    cr_assert_str_eq(l->d.diags.data[0].msg, "stray '@' in program");
    cr_assert_eq(l->d.diags.data[0].loc.col, 3);
    cr_assert_str_eq(l->d.diags.data[1].msg, "invalid numeric literal '12abc'");
    lx_close(l);
}

Test(lexer, unterminated_comment)
{
    Lx *l = lx_open("a /* never\nclosed");
    cr_assert_eq(next(l).kind, TK_IDENT);
    cr_assert_eq(next(l).kind, TK_EOF);
    cr_assert_eq(next(l).kind, TK_EOF);
    cr_assert_eq(l->d.nerrors, 1);
    cr_assert_str_eq(l->d.diags.data[0].msg, "unterminated comment");
    cr_assert_eq(l->d.diags.data[0].loc.col, 3);
    lx_close(l);
}

Test(lexer, integer_overflow)
{
    Lx *l = lx_open("18446744073709551615 18446744073709551616");
    Token t = next(l);
    cr_assert_eq(t.ival, UINT64_MAX);
    next(l);
    cr_assert_eq(l->d.nerrors, 1);
    lx_close(l);
}
