/* test_parser.c: the grammar (lang/parser.y): every statement and expression form gives
 * the AST shape ast.h describes; precedence; error recovery (several errors, no cascade). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lang/frontend.h"

typedef struct Parsed {
    Arena *a;
    DiagEngine d;
    TranslationUnit *tu;
    char *dump;
} Parsed;

static Parsed *parse(const char *src)
{
    Parsed *p = calloc(1, sizeof *p);
    p->a = arena_new();
    diag_init(&p->d, p->a);
    FrontendOptions o = {0};
    p->tu = fe_parse(p->a, &p->d, &o, "t.dck", src);
    cr_assert_not_null(p->tu);
    StrBuf sb = {0};
    ast_print(&sb, p->tu);
    p->dump = sb_take(&sb);
    return p;
}

/* The dump of the statements of `kernel void k() { body }`, one level of indent removed. */
static char *body_dump(const char *body)
{
    char src[2048];
    snprintf(src, sizeof src, "kernel void k() {\n%s\n}\n", body);
    Parsed *p = parse(src);
    cr_assert_eq(p->d.nerrors, 0, "unexpected error: %s",
                 p->d.diags.len ? p->d.diags.data[0].msg : "");
    const char *s = strstr(p->dump, "  BLOCK\n");
    cr_assert_not_null(s, "%s", p->dump);
    s += strlen("  BLOCK\n");
    StrBuf out = {0};
    for (const char *l = s; *l;) {
        const char *e = strchr(l, '\n');
        sb_putn(&out, l + 4, (size_t)(e - l) - 4 + 1);
        l = e + 1;
    }
    return sb_take(&out);
}

static const char *msgs(Parsed *p)
{
    StrBuf sb = {0};
    for (int i = 0; i < p->d.diags.len; i++)
        sb_printf(&sb, "%d:%d: %s\n", p->d.diags.data[i].loc.line, p->d.diags.data[i].loc.col,
                  p->d.diags.data[i].msg);
    return sb.data ? sb_take(&sb) : "";
}

Test(parser, precedence_and_associativity)
{
    cr_assert_str_eq(
        body_dump("x = a + b * c - d;"),
        "EXPR\n  ASSIGN '='\n    IDENT x\n    BINARY '-'\n      BINARY '+'\n        IDENT a\n"
        "        BINARY '*'\n          IDENT b\n          IDENT c\n      IDENT d\n");
    cr_assert_str_eq(
        body_dump("a = b += c;"),
        "EXPR\n  ASSIGN '='\n    IDENT a\n    ASSIGN '+='\n      IDENT b\n      IDENT c\n");
    cr_assert_str_eq(
        body_dump("x = a || b && c | d ^ e & f == g < h << i;"),
        "EXPR\n  ASSIGN '='\n    IDENT x\n    BINARY '||'\n      IDENT a\n      BINARY '&&'\n"
        "        IDENT b\n        BINARY '|'\n          IDENT c\n          BINARY '^'\n"
        "            IDENT d\n            BINARY '&'\n              IDENT e\n"
        "              BINARY '=='\n                IDENT f\n                BINARY '<'\n"
        "                  IDENT g\n                  BINARY '<<'\n"
        "                    IDENT h\n                    IDENT i\n");
    cr_assert_str_eq(body_dump("x = c ? a : d ? e : f;"),
                     "EXPR\n  ASSIGN '='\n    IDENT x\n    COND\n      IDENT c\n      IDENT a\n"
                     "      COND\n        IDENT d\n        IDENT e\n        IDENT f\n");
}

Test(parser, unary_postfix_cast_call)
{
    cr_assert_str_eq(body_dump("x = -a[i].y++ * (float)!b;"),
                     "EXPR\n  ASSIGN '='\n    IDENT x\n    BINARY '*'\n      UNARY '-'\n"
                     "        INCDEC '++' postfix\n          MEMBER y\n            INDEX\n"
                     "              IDENT a\n              IDENT i\n      CAST float\n"
                     "        UNARY '!'\n          IDENT b\n");
    cr_assert_str_eq(body_dump("v = float4(a, 1.0f).wzyx + (int4)w + ~--n + max(p, q);"),
                     "EXPR\n  ASSIGN '='\n    IDENT v\n    BINARY '+'\n      BINARY '+'\n"
                     "        BINARY '+'\n          MEMBER wzyx\n            CALL float4\n"
                     "              IDENT a\n              FLOAT_LIT 1.0f\n          CAST int4\n"
                     "            IDENT w\n        UNARY '~'\n          INCDEC '--' prefix\n"
                     "            IDENT n\n      CALL max\n        IDENT p\n        IDENT q\n");
    /* a parenthesized identifier is an expression, not a cast */
    cr_assert_str_eq(
        body_dump("x = (a) - b;"),
        "EXPR\n  ASSIGN '='\n    IDENT x\n    BINARY '-'\n      IDENT a\n      IDENT b\n");
}

Test(parser, literals)
{
    cr_assert_str_eq(body_dump("x = 1u + 2ul + 0x10 + 2.5 + 3.0h + 1e3d + true + false;"),
                     "EXPR\n  ASSIGN '='\n    IDENT x\n    BINARY '+'\n      BINARY '+'\n"
                     "        BINARY '+'\n          BINARY '+'\n            BINARY '+'\n"
                     "              BINARY '+'\n                BINARY '+'\n"
                     "                  INT_LIT 1u\n                  INT_LIT 2ul\n"
                     "                INT_LIT 16\n              FLOAT_LIT 2.5\n"
                     "            FLOAT_LIT 3.0h\n          FLOAT_LIT 1000.0d\n"
                     "        BOOL_LIT true\n      BOOL_LIT false\n");
}

Test(parser, declarations)
{
    cr_assert_str_eq(
        body_dump("float a = 1, b; P p; const int c = 2;"),
        "DECL a float\n  INT_LIT 1\nDECL b float\nDECL p P\nDECL c const int\n  INT_LIT 2\n");
    cr_assert_str_eq(
        body_dump("shared float tile[16][17]; float w[3] = {1.0, 2.0, 1.0,}; float t[len(x)];"),
        "DECL tile float shared\n  INT_LIT 16\n  INT_LIT 17\n"
        "DECL w float init-list(3)\n  INT_LIT 3\n  FLOAT_LIT 1.0\n  FLOAT_LIT 2.0\n  FLOAT_LIT 1.0\n"
        "DECL t float\n  CALL len\n    IDENT x\n");
    Parsed *p = parse("kernel void k() { float a = 1, b[2]; }");
    AstNode *blk = p->tu->decls[0]->a;
    cr_assert_eq(blk->nlist, 2);
    cr_assert_eq(blk->list[1]->kind, AST_DECL);
    cr_assert_eq(blk->list[1]->ndims, 1);
    cr_assert_eq(blk->list[1]->loc.col, 32);
    cr_assert_eq(blk->list[0]->tspec->builtin, ty_scalar(SC_FLOAT));
}

Test(parser, statements)
{
    cr_assert_str_eq(
        body_dump("if (a) if (b) x(); else y(); ;"),
        "IF\n  IDENT a\n  IF\n    IDENT b\n    EXPR\n      CALL x\n    EXPR\n      CALL y\nEMPTY\n");
    cr_assert_str_eq(body_dump("for (int i = 0; i < n; i++) { continue; } for (;;) break;"),
                     "FOR\n  DECL i int\n    INT_LIT 0\n  BINARY '<'\n    IDENT i\n    IDENT n\n"
                     "  INCDEC '++' postfix\n    IDENT i\n  BLOCK\n    CONTINUE\n"
                     "FOR\n  <none>\n  <none>\n  <none>\n  BREAK\n");
    cr_assert_str_eq(body_dump("while (x) x--; do { } while (y); return; return 1;"),
                     "WHILE\n  IDENT x\n  EXPR\n    INCDEC '--' postfix\n      IDENT x\n"
                     "DO\n  IDENT y\n  BLOCK\nRETURN\nRETURN\n  INT_LIT 1\n");
}

Test(parser, launches)
{
    cr_assert_str_eq(
        body_dump("k<<<n>>>(a, b); k<<<uint2(w, h), 64>>>();"),
        "EXPR\n  LAUNCH k\n    IDENT n\n    IDENT a\n    IDENT b\n"
        "EXPR\n  LAUNCH k\n    CALL uint2\n      IDENT w\n      IDENT h\n    INT_LIT 64\n");
    Parsed *p = parse("pipeline pl(float s) { k<<<n>>>(s); }");
    AstNode *l = p->tu->decls[0]->a->list[0]->a;
    cr_assert_eq(l->kind, AST_LAUNCH);
    cr_assert_null(l->b);
    cr_assert_eq(l->nlist, 1);
}

Test(parser, top_level)
{
    Parsed *p = parse("struct P { float3 pos; float m, q; };\n"
                      "const float K = 2.0;\n"
                      "float sq(float x);\n"
                      "float sq(float x) { return x * x; }\n"
                      "[[workgroup(8, 4)]]\n"
                      "kernel void k(const float[] x, P[] ps, uint n) { }\n"
                      "pipeline pl(void) { }\n");
    cr_assert_eq(p->d.nerrors, 0, "%s", msgs(p));
    cr_assert_eq(p->tu->ndecls, 6);
    AstNode **d = p->tu->decls;
    cr_assert_eq(d[0]->kind, AST_STRUCT);
    cr_assert_eq(d[0]->nlist, 3);
    cr_assert_str_eq(d[0]->list[2]->name, "q");
    cr_assert_eq(d[1]->kind, AST_CONST);
    cr_assert(d[1]->tspec->is_const);
    cr_assert_eq(d[2]->kind, AST_FUNC);
    cr_assert_null(d[2]->a);
    cr_assert_not_null(d[3]->a);
    cr_assert(d[4]->is_kernel);
    cr_assert(d[4]->has_wg);
    cr_assert_eq(d[4]->nwg, 2);
    cr_assert_eq(d[4]->wg_expr[1]->lit.i, 4);
    cr_assert_eq(d[4]->nlist, 3);
    cr_assert(d[4]->list[0]->tspec->is_const && d[4]->list[0]->tspec->is_buffer);
    cr_assert_str_eq(d[4]->list[1]->tspec->name, "P");
    cr_assert(d[4]->list[1]->tspec->is_buffer);
    cr_assert_eq(d[4]->list[2]->tspec->builtin, ty_scalar(SC_UINT));
    cr_assert_eq(d[4]->tspec->builtin, ty_void);
    cr_assert_eq(d[5]->kind, AST_PIPELINE);
    cr_assert_eq(d[5]->nlist, 0);
    cr_assert_eq(d[4]->loc.line, 6);
    cr_assert_eq(d[4]->loc.col, 13);
}

Test(parser, several_errors_no_cascade)
{
    Parsed *p = parse("kernel void a(float[] y) {\n"
                      "    y[0] = 1.0\n"
                      "    y[1] = 2.0;\n"
                      "    y[2] = (3.0;\n"
                      "}\n"
                      "kernel void b(float[] y) {\n"
                      "    if y[0] > 0.0) { y[0] = 1.0; }\n"
                      "    y[1] = ;\n"
                      "    else y[2] = 0.0;\n"
                      "}\n"
                      "kernel void c(float[] y) { y[0] = 1.0; }\n");
    cr_assert_str_eq(msgs(p), "2:15: expected ';' after expression\n"
                              "4:16: expected ')' to close '(' opened at 4:12\n"
                              "7:8: expected '(' before 'y'\n"
                              "8:12: expected expression before ';'\n"
                              "9:5: unexpected 'else' without a matching 'if'\n");
    /* recovery keeps the following declarations */
    cr_assert_eq(p->tu->ndecls, 3);
    cr_assert_str_eq(p->tu->decls[2]->name, "c");
}

Test(parser, missing_brace_and_eof)
{
    Parsed *p = parse("kernel void a(float[] y) {\n  if (1) {\n    y[0] = 1.0;\n}\n");
    cr_assert_str_eq(msgs(p), "4:2: expected '}' to close '{' opened at 1:26\n");
    p = parse("kernel void a(float[] y) {\n  y[0] = f(1, 2));\n}\n}\n");
    cr_assert_str_eq(msgs(p), "2:17: unmatched ')'\n4:1: unmatched '}'\n");
}
