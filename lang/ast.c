/* ast.c: AST node creation and the --emit=ast dump.
 *
 * The dump is one node per line, indented two spaces per level: the kind, then what
 * identifies the node (name, operator, literal, type as written, flags), then
 * ": <type>" once sema has set node->type. Children follow in a fixed order:
 * workgroup sizes, array dimensions, a, b, c, d, then the list (for functions and
 * pipelines the parameter list comes before the body). Absent optional children
 * of `for` print as "<none>" so that the positions stay unambiguous.
 */
#include "ast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

AstNode *ast_new(Arena *a, AstKind kind, Loc loc)
{
    AstNode *n = arena_alloc(a, sizeof *n);
    n->kind = kind;
    n->loc = loc;
    n->field = -1;
    return n;
}

const char *ast_kind_name(AstKind k)
{
    static const char *const names[] = {
        [AST_INT_LIT] = "INT_LIT", [AST_FLOAT_LIT] = "FLOAT_LIT", [AST_BOOL_LIT] = "BOOL_LIT",
        [AST_IDENT] = "IDENT",     [AST_UNARY] = "UNARY",         [AST_INCDEC] = "INCDEC",
        [AST_BINARY] = "BINARY",   [AST_ASSIGN] = "ASSIGN",       [AST_COND] = "COND",
        [AST_CALL] = "CALL",       [AST_INDEX] = "INDEX",         [AST_MEMBER] = "MEMBER",
        [AST_CAST] = "CAST",       [AST_LAUNCH] = "LAUNCH",       [AST_BLOCK] = "BLOCK",
        [AST_DECL] = "DECL",       [AST_EXPR] = "EXPR",           [AST_IF] = "IF",
        [AST_FOR] = "FOR",         [AST_WHILE] = "WHILE",         [AST_DO] = "DO",
        [AST_BREAK] = "BREAK",     [AST_CONTINUE] = "CONTINUE",   [AST_RETURN] = "RETURN",
        [AST_EMPTY] = "EMPTY",     [AST_FUNC] = "FUNC",           [AST_PIPELINE] = "PIPELINE",
        [AST_PARAM] = "PARAM",     [AST_STRUCT] = "STRUCT",       [AST_CONST] = "CONST",
        [AST_TYPEDEF] = "TYPEDEF",
    };
    if ((int)k < 0 || (int)k >= ARRAY_LEN(names) || !names[k]) return "?";
    return names[k];
}

const char *ast_op_name(int op)
{
    switch (op) {
    case OP_EQ: return "==";
    case OP_NE: return "!=";
    case OP_LE: return "<=";
    case OP_GE: return ">=";
    case OP_SHL: return "<<";
    case OP_SHR: return ">>";
    case OP_ANDAND: return "&&";
    case OP_OROR: return "||";
    case OP_INC: return "++";
    case OP_DEC: return "--";
    default: break;
    }
    static const char ops[] = "+-*/%&|^<>!~=";
    static const char *const names[] = {"+", "-", "*", "/", "%", "&", "|",
                                        "^", "<", ">", "!", "~", "="};
    const char *p = op > 0 && op < 128 ? strchr(ops, op) : NULL;
    return p ? names[p - ops] : "?";
}

static void put_tspec(StrBuf *out, const AstTypeSpec *ts)
{
    if (!ts) return;
    sb_putc(out, ' ');
    if (ts->is_const) sb_puts(out, "const ");
    if (ts->builtin)
        sb_puts(out, ts->builtin->name ? ts->builtin->name : "void");
    else
        sb_printf(out, "%s%s", ts->is_tag ? "struct " : "", ts->name ? ts->name : "?");
    if (ts->is_buffer) sb_puts(out, "[]");
}

static void put_float(StrBuf *out, double v)
{
    char buf[64];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    sb_puts(out, buf);
    if (!strpbrk(buf, ".einn")) sb_puts(out, ".0");
}

static void print_node(StrBuf *out, const AstNode *n, int depth);

static void print_child(StrBuf *out, const AstNode *n, int depth, bool show_none)
{
    if (n)
        print_node(out, n, depth);
    else if (show_none)
        sb_printf(out, "%*s<none>\n", depth * 2, "");
}

static void print_node(StrBuf *out, const AstNode *n, int depth)
{
    sb_printf(out, "%*s%s", depth * 2, "", ast_kind_name(n->kind));
    switch (n->kind) {
    case AST_INT_LIT:
        sb_printf(out, " %llu%s%s", (unsigned long long)n->lit.i, n->op & LIT_U ? "u" : "",
                  n->op & LIT_L ? "l" : "");
        break;
    case AST_FLOAT_LIT:
        sb_putc(out, ' ');
        put_float(out, n->lit.f);
        sb_puts(out, n->op & LIT_F ? "f" : n->op & LIT_H ? "h" : n->op & LIT_D ? "d" : "");
        break;
    case AST_BOOL_LIT: sb_puts(out, n->lit.i ? " true" : " false"); break;
    case AST_IDENT:
    case AST_CALL:
    case AST_LAUNCH:
    case AST_MEMBER:
    case AST_PIPELINE:
    case AST_STRUCT: sb_printf(out, " %s", n->name ? n->name : "?"); break;
    case AST_UNARY:
    case AST_BINARY: sb_printf(out, " '%s'", ast_op_name(n->op)); break;
    case AST_INCDEC:
        sb_printf(out, " '%s'%s", ast_op_name(n->op), n->is_postfix ? " postfix" : " prefix");
        break;
    case AST_ASSIGN: sb_printf(out, " '%s%s'", n->op == '=' ? "" : ast_op_name(n->op), "="); break;
    case AST_CAST:
        put_tspec(out, n->tspec);
        if (n->implicit) sb_puts(out, " implicit");
        break;
    case AST_DECL:
        sb_printf(out, " %s", n->name ? n->name : "?");
        put_tspec(out, n->tspec);
        if (n->is_shared) sb_puts(out, " shared");
        if (n->list) sb_printf(out, " init-list(%d)", n->nlist);
        break;
    case AST_PARAM:
    case AST_CONST:
    case AST_TYPEDEF:
        sb_printf(out, " %s", n->name ? n->name : "?");
        put_tspec(out, n->tspec);
        break;
    case AST_FUNC:
        sb_printf(out, " %s", n->name ? n->name : "?");
        put_tspec(out, n->tspec);
        if (n->is_kernel) sb_puts(out, " kernel");
        if (n->has_wg) {
            if (n->wg[0])
                sb_printf(out, " workgroup(%u,%u,%u)", n->wg[0], n->wg[1], n->wg[2]);
            else
                sb_puts(out, " workgroup");
        }
        if (!n->a) sb_puts(out, " prototype");
        break;
    default: break;
    }
    if (n->type) sb_printf(out, " : %s", n->type->name ? n->type->name : "?");
    sb_putc(out, '\n');
    for (int i = 0; i < n->nwg; i++) print_child(out, n->wg_expr[i], depth + 1, false);
    for (int i = 0; i < n->ndims; i++) print_child(out, n->dims[i], depth + 1, false);
    bool is_for = n->kind == AST_FOR;
    bool params_first = n->kind == AST_FUNC || n->kind == AST_PIPELINE;
    for (int i = 0; params_first && i < n->nlist; i++)
        print_child(out, n->list[i], depth + 1, false);
    print_child(out, n->a, depth + 1, is_for);
    print_child(out, n->b, depth + 1, is_for);
    print_child(out, n->c, depth + 1, is_for);
    print_child(out, n->d, depth + 1, false);
    for (int i = 0; !params_first && i < n->nlist; i++)
        print_child(out, n->list[i], depth + 1, false);
}

void ast_print(StrBuf *out, const TranslationUnit *tu)
{
    for (int i = 0; i < tu->ndecls; i++) print_node(out, tu->decls[i], 0);
}
