/* lower.h: AST -> IR (lower.c). Runs only on a translation unit that passed sema. */
#ifndef DCK_LOWER_H
#define DCK_LOWER_H

#include "lang/ast.h"
#include "ir.h"

/* Builds the module: every defined function and kernel, every pipeline. Never fails on
 * sema-checked input except through ICE(); pipeline constructs sema let through but that
 * have no register form are reported in d. */
IrModule *lower_module(Arena *a, DiagEngine *d, TranslationUnit *tu);

#endif
