/* token.h: token kinds of DCK, shared by the lexer, the preprocessor, the parser and
 * every consumer of AstNode.op.
 *
 * Single-character punctuators are their character code ('+', ';', ...); the others are
 * TK_* (tokens.def), numbered from 258 up. These never reach the AST: AstNode.op holds
 * the OP_* codes of ast.h (the parser translates).
 */
#ifndef DCK_TOKEN_H
#define DCK_TOKEN_H

typedef enum TokenKind {
    TK_EOF = 0, /* end of input */
    TK_FIRST_MULTI = 257,
#define TOK(ID, spelling, cls) TK_##ID,
#include "tokens.def"
#undef TOK
    TK_COUNT
} TokenKind;

/* The spelling of a kind ("==", "kernel", "+"), or a description ("identifier"). */
const char *tok_spelling(int kind);

#endif
