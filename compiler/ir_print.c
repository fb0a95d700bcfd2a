/* ir_print.c: the textual form of the IR, for --emit=ir / --emit=ir-raw and the goldens.
 *
 * Deterministic: values are renumbered in print order (starting after the parameters, which
 * are shown by name), blocks by their position in the function, so the text depends
 * only on the module's structure, never on creation order or addresses.
 *
 *   kernel @k(%a: float, %y: float[]) workgroup(256,1,1) {
 *     shared @tile: float[16][17]
 *     local @acc: float[8]
 *   b0:
 *     %2 = workitem.global_id 0 : uint
 *     %3 = load %y[%2].c1 : float
 *     store @acc[%2], %3
 *     cbr %5, b1, b2
 *   ...
 *   }
 */
#include "ir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Namer {
    const IrFunc *f;
    int *val; /* by inst id: print number, -1 = not numbered */
    int *blk; /* by block id: position */
    int nid;
    bool *dup_local; /* local slot names that occur more than once */
} Namer;

static void put_val(StrBuf *o, const Namer *n, const IrInst *v)
{
    if (!v) {
        sb_puts(o, "<null>");
        return;
    }
    if (n && v->id >= 0 && v->id < n->nid && n->val[v->id] >= 0)
        sb_printf(o, "%%%d", n->val[v->id]);
    else if (n)
        sb_printf(o, "%%?%d", v->id); /* not in the function: the verifier reports it */
    else
        sb_printf(o, "%%%d", v->id);
}

static void put_blk(StrBuf *o, const Namer *n, const IrBlock *b)
{
    if (!b)
        sb_puts(o, "<null>");
    else if (n && b->id >= 0 && b->id < n->nid && n->blk[b->id] >= 0)
        sb_printf(o, "b%d", n->blk[b->id]);
    else if (n)
        sb_printf(o, "b?%d", b->id);
    else
        sb_printf(o, "b%d", b->id);
}

/* Shortest decimal that reads back to the same value in t's precision. */
static void put_float(StrBuf *o, Type *t, double v)
{
    if (isnan(v)) {
        sb_puts(o, "nan");
        return;
    }
    if (isinf(v)) {
        sb_puts(o, v < 0 ? "-inf" : "inf");
        return;
    }
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (ir_round_float(t, strtod(buf, NULL)) == v) break;
    }
    char *e = strchr(buf, 'e');
    int ex = e ? atoi(e + 1) : 0;
    if (e && ex >= 0 && ex <= 15) {
        /* "1.5e+03" -> "1500.0": the same digits, written out */
        char digits[32];
        int nd = 0;
        for (char *c = buf; c < e; c++)
            if (*c >= '0' && *c <= '9') digits[nd++] = *c;
        if (buf[0] == '-') sb_putc(o, '-');
        sb_putn(o, digits, (size_t)nd);
        for (int z = nd - 1; z < ex; z++) sb_putc(o, '0');
        sb_puts(o, ".0");
        return;
    }
    sb_puts(o, buf);
    if (!strpbrk(buf, ".eninf")) sb_puts(o, ".0");
}

static void put_const(StrBuf *o, const IrInst *i)
{
    Type *t = i->type;
    if (t->kind == TY_BOOL)
        sb_puts(o, i->imm.i ? "true" : "false");
    else if (t->kind == TY_INT && t->is_signed) {
        uint64_t v = i->imm.i;
        if (t->bits < 64 && (v >> (t->bits - 1)) & 1) v |= ~(uint64_t)0 << t->bits;
        sb_printf(o, "%lld", (long long)(int64_t)v);
    } else if (t->kind == TY_INT)
        sb_printf(o, "%llu", (unsigned long long)i->imm.i);
    else if (t->kind == TY_FLOAT)
        put_float(o, t, i->imm.f);
    else
        sb_printf(o, "0x%llx", (unsigned long long)i->imm.i);
}

static void put_mem(StrBuf *o, const Namer *n, const IrFunc *f, const IrInst *i)
{
    const IrMemRef *m = &i->mem;
    Type *t = NULL;
    switch (m->kind) {
    case MEM_BUFFER:
        if (f && m->id >= 0 && m->id < f->nparams) {
            sb_printf(o, "%%%s", f->params[m->id].name);
            if (f->params[m->id].type->kind == TY_BUFFER) t = f->params[m->id].type->elem;
        } else
            sb_printf(o, "%%buf?%d", m->id);
        break;
    case MEM_SHARED:
        if (f && m->id >= 0 && m->id < f->shared.len) {
            sb_printf(o, "@%s", f->shared.data[m->id].name);
            t = f->shared.data[m->id].type;
        } else
            sb_printf(o, "@shared?%d", m->id);
        break;
    case MEM_LOCAL:
        if (f && m->id >= 0 && m->id < f->locals.len) {
            sb_printf(o, "@%s", f->locals.data[m->id].name);
            if (n && n->dup_local && n->dup_local[m->id]) sb_printf(o, ".%d", m->id);
            t = f->locals.data[m->id].type;
        } else
            sb_printf(o, "@local?%d", m->id);
        break;
    }
    if (i->op == IR_BUFLEN) return;
    int nb = ir_mem_nbase(m), next = nb; /* next: the operand of the next IR_PATH_INDEX */
    for (int k = 0; k < nb; k++) {
        sb_putc(o, '[');
        put_val(o, n, k < i->nops ? i->ops[k] : NULL);
        sb_putc(o, ']');
        if (m->kind != MEM_BUFFER && t && t->kind == TY_ARRAY) t = t->elem;
    }
    for (int k = 0; k < m->npath && k < IR_MAX_PATH; k++) {
        if (m->path[k] == IR_PATH_INDEX) {
            sb_putc(o, '[');
            put_val(o, n, next < i->nops ? i->ops[next] : NULL);
            sb_putc(o, ']');
            next++;
            t = t && t->kind == TY_ARRAY ? t->elem : NULL;
        } else if (t && t->kind == TY_STRUCT) {
            sb_printf(o, ".f%d", m->path[k]);
            t = m->path[k] >= 0 && m->path[k] < t->nfields ? t->fields[m->path[k]].type : NULL;
        } else {
            sb_printf(o, ".c%d", m->path[k]);
            t = t && t->kind == TY_VEC ? t->elem : NULL;
        }
    }
}

static const char *builtin_name(BuiltinId b)
{
    return b > BI_NONE && b < BI_COUNT ? builtin_info[b].name : "?";
}

static void put_ops(StrBuf *o, const Namer *n, const IrInst *i, int from)
{
    for (int k = from; k < i->nops; k++) {
        if (k > from) sb_puts(o, ", ");
        put_val(o, n, i->ops[k]);
    }
}

static void print_inst(StrBuf *o, const Namer *n, const IrInst *i)
{
    const IrFunc *f = i->block ? i->block->func : (n ? n->f : NULL);
    bool has_val = i->type && i->type->kind != TY_VOID;
    if (has_val) {
        put_val(o, n, i);
        sb_puts(o, " = ");
    }
    const char *name = i->op >= 0 && i->op < IR_OP_COUNT ? ir_op_info[i->op].name : "?op";
    switch (i->op) {
    case IR_PARAM:
        if (f && i->param >= 0 && i->param < f->nparams)
            sb_printf(o, "param %%%s", f->params[i->param].name);
        else
            sb_printf(o, "param ?%d", i->param);
        break;
    case IR_CONST:
        sb_puts(o, "const ");
        put_const(o, i);
        break;
    case IR_WORKITEM: sb_printf(o, "workitem.%s %d", builtin_name(i->builtin), i->dim); break;
    case IR_BUILTIN:
        sb_printf(o, "builtin.%s ", builtin_name(i->builtin));
        put_ops(o, n, i, 0);
        break;
    case IR_EXTRACT:
        sb_puts(o, "extract ");
        put_ops(o, n, i, 0);
        sb_printf(o, ", %d", i->idx);
        break;
    case IR_INSERT:
        sb_puts(o, "insert ");
        put_ops(o, n, i, 0);
        sb_printf(o, ", %d", i->idx);
        break;
    case IR_SHUFFLE: {
        sb_puts(o, "shuffle ");
        put_ops(o, n, i, 0);
        sb_puts(o, ", <");
        int w = i->type ? ty_width(i->type) : 1;
        for (int k = 0; k < w && k < 4; k++) sb_printf(o, k ? ",%d" : "%d", i->mask[k]);
        sb_putc(o, '>');
        break;
    }
    case IR_LOAD:
        sb_puts(o, "load ");
        put_mem(o, n, f, i);
        break;
    case IR_STORE:
        sb_puts(o, "store ");
        put_mem(o, n, f, i);
        sb_puts(o, ", ");
        put_ops(o, n, i, i->mem.nidx);
        break;
    case IR_ATOMIC: {
        const char *bn = builtin_name(i->builtin);
        if (strncmp(bn, "atomic_", 7) == 0) bn += 7;
        sb_printf(o, "atomic.%s ", bn);
        put_mem(o, n, f, i);
        sb_puts(o, ", ");
        put_ops(o, n, i, i->mem.nidx);
        break;
    }
    case IR_BUFLEN:
        sb_puts(o, "buflen ");
        put_mem(o, n, f, i);
        break;
    case IR_CALL: {
        sb_printf(o, "call @%s(", i->callee ? i->callee->name : "?");
        put_ops(o, n, i, 0);
        sb_putc(o, ')');
        if (i->callee && i->bufargs) {
            bool first = true;
            for (int k = 0; k < i->callee->nparams; k++) {
                if (i->callee->params[k].type->kind != TY_BUFFER) continue;
                sb_puts(o, first ? " [" : ", ");
                first = false;
                int a = i->bufargs[k];
                if (f && a >= 0 && a < f->nparams)
                    sb_printf(o, "%%%s", f->params[a].name);
                else
                    sb_printf(o, "%%buf?%d", a);
            }
            if (!first) sb_putc(o, ']');
        }
        break;
    }
    case IR_PHI: {
        sb_puts(o, "phi ");
        const IrBlock *b = i->block;
        for (int k = 0; k < i->nops; k++) {
            if (k) sb_puts(o, ", ");
            sb_putc(o, '[');
            put_val(o, n, i->ops[k]);
            sb_puts(o, ", ");
            if (b && k < b->npreds)
                put_blk(o, n, b->preds[k]);
            else
                sb_puts(o, "?");
            sb_putc(o, ']');
        }
        break;
    }
    case IR_BR:
        sb_puts(o, "br ");
        put_blk(o, n, i->target[0]);
        break;
    case IR_CBR:
        sb_puts(o, "cbr ");
        put_ops(o, n, i, 0);
        sb_puts(o, ", ");
        put_blk(o, n, i->target[0]);
        sb_puts(o, ", ");
        put_blk(o, n, i->target[1]);
        break;
    default:
        sb_puts(o, name);
        if (i->nops > 0) {
            sb_putc(o, ' ');
            put_ops(o, n, i, 0);
        }
        break;
    }
    if (has_val)
        sb_printf(o, " : %s", i->type->name ? i->type->name : "?");
    else if (i->op == IR_CALL)
        sb_puts(o, " : void");
}

void ir_print_inst(StrBuf *out, const IrInst *i) { print_inst(out, NULL, i); }

static void put_type(StrBuf *o, const Type *t) { sb_puts(o, t && t->name ? t->name : "?"); }

static void put_params(StrBuf *o, const IrParam *p, int n)
{
    sb_putc(o, '(');
    for (int k = 0; k < n; k++) {
        sb_printf(o, "%s%%%s: ", k ? ", " : "", p[k].name);
        put_type(o, p[k].type);
    }
    sb_putc(o, ')');
}

static void print_func_with(StrBuf *out, const IrFunc *f, Arena *a)
{
    Namer n = {.f = f, .nid = f->next_id + 1};
    n.val = arena_alloc(a, sizeof *n.val * (size_t)n.nid);
    n.blk = arena_alloc(a, sizeof *n.blk * (size_t)n.nid);
    for (int k = 0; k < n.nid; k++) n.val[k] = n.blk[k] = -1;
    int next = f->nparams;
    for (int bi = 0; bi < f->blocks.len; bi++) {
        const IrBlock *b = f->blocks.data[bi];
        if (b->id >= 0 && b->id < n.nid) n.blk[b->id] = bi;
        for (const IrInst *i = b->first; i; i = i->next)
            if (i->id >= 0 && i->id < n.nid && i->type && i->type->kind != TY_VOID)
                n.val[i->id] = next++;
    }
    if (f->locals.len > 1) {
        /* duplicate slot names (shadowing, inlined copies) get their index as a suffix */
        n.dup_local = arena_alloc(a, sizeof *n.dup_local * (size_t)f->locals.len);
        int cap = 16;
        while (cap < f->locals.len * 2) cap *= 2;
        int *tab = arena_alloc(a, sizeof *tab * (size_t)cap);
        for (int k = 0; k < cap; k++) tab[k] = -1;
        for (int s = 0; s < f->locals.len; s++) {
            const char *nm = f->locals.data[s].name ? f->locals.data[s].name : "";
            uint64_t h = hash_fnv1a(nm, strlen(nm), 0);
            for (size_t p = h & (size_t)(cap - 1);; p = (p + 1) & (size_t)(cap - 1)) {
                if (tab[p] < 0) {
                    tab[p] = s;
                    break;
                }
                const char *o = f->locals.data[tab[p]].name ? f->locals.data[tab[p]].name : "";
                if (strcmp(o, nm) == 0) {
                    n.dup_local[s] = n.dup_local[tab[p]] = true;
                    break;
                }
            }
        }
    }

    sb_printf(out, "%s @%s", f->is_kernel ? "kernel" : "func", f->name);
    put_params(out, f->params, f->nparams);
    if (!f->is_kernel) {
        sb_puts(out, " : ");
        put_type(out, f->ret);
    }
    if (f->has_wg) sb_printf(out, " workgroup(%u,%u,%u)", f->wg[0], f->wg[1], f->wg[2]);
    sb_puts(out, " {\n");
    for (int s = 0; s < f->shared.len; s++) {
        sb_printf(out, "  shared @%s: ", f->shared.data[s].name);
        put_type(out, f->shared.data[s].type);
        sb_putc(out, '\n');
    }
    for (int s = 0; s < f->locals.len; s++) {
        sb_printf(out, "  local @%s", f->locals.data[s].name);
        if (n.dup_local && n.dup_local[s]) sb_printf(out, ".%d", s);
        sb_puts(out, ": ");
        put_type(out, f->locals.data[s].type);
        sb_putc(out, '\n');
    }
    for (int bi = 0; bi < f->blocks.len; bi++) {
        const IrBlock *b = f->blocks.data[bi];
        sb_printf(out, "b%d:", bi);
        if (b->npreds > 0 && !(b->first && b->first->op == IR_PHI)) {
            /* predecessors are shown where no phi lists them */
            sb_puts(out, "  ; preds");
            for (int k = 0; k < b->npreds; k++) {
                sb_puts(out, k ? ", " : " ");
                put_blk(out, &n, b->preds[k]);
            }
        }
        sb_putc(out, '\n');
        for (const IrInst *i = b->first; i; i = i->next) {
            sb_puts(out, "  ");
            print_inst(out, &n, i);
            sb_putc(out, '\n');
        }
    }
    sb_puts(out, "}\n");
}

void ir_print_func(StrBuf *out, const IrFunc *f)
{
    Arena *a = arena_new();
    print_func_with(out, f, a);
    arena_free(a);
}

static const char *const pop_bin_names[] = {
    "iadd", "isub", "imul", "sdiv", "udiv", "srem", "urem", "shl", "sshr", "ushr", "and",
    "or",   "xor",  "smin", "umin", "smax", "umax", "ieq",  "ine", "slt",  "ult",  "sle",
    "ule",  "fadd", "fsub", "fmul", "fdiv", "fmin", "fmax", "feq", "fne",  "flt",  "fle",
};
static const char *const pop_un_names[] = {
    "ineg", "not", "lnot",     "fneg",     "s2f",   "u2f",
    "f2s",  "f2u", "trunc32s", "trunc32u", "f2f32", "mov",
};

static void put_slot(StrBuf *o, const IrPipeline *p, int s)
{
    if (s >= 0 && s < p->nparams)
        sb_printf(o, "%%%s", p->params[s].name);
    else if (s >= p->nparams && s < p->nparams + p->temps.len)
        sb_printf(o, "@%s", p->temps.data[s - p->nparams].name);
    else
        sb_printf(o, "slot?%d", s);
}

static void print_step(StrBuf *o, const IrPipeline *p, const IrPStep *s)
{
    switch (s->kind) {
    case PS_CONST:
        if (s->type && s->type->kind == TY_FLOAT) {
            double d;
            memcpy(&d, &s->imm, sizeof d);
            sb_printf(o, "r%d = const ", s->dst);
            put_float(o, ty_scalar(SC_DOUBLE), d);
        } else {
            sb_printf(o, "r%d = const %lld", s->dst, (long long)(int64_t)s->imm);
        }
        sb_puts(o, " : ");
        put_type(o, s->type);
        break;
    case PS_PARAM:
        sb_printf(o, "r%d = param ", s->dst);
        if (s->a >= 0 && s->a < p->nparams)
            sb_printf(o, "%%%s", p->params[s->a].name);
        else
            sb_printf(o, "param?%d", s->a);
        break;
    case PS_LEN:
        sb_printf(o, "r%d = len ", s->dst);
        put_slot(o, p, s->a);
        break;
    case PS_BIN:
        sb_printf(o, "r%d = %s r%d, r%d", s->dst,
                  s->op >= 0 && s->op < ARRAY_LEN(pop_bin_names) ? pop_bin_names[s->op] : "bin?",
                  s->a, s->b);
        break;
    case PS_UN:
        sb_printf(o, "r%d = %s r%d", s->dst,
                  s->op >= 0 && s->op < ARRAY_LEN(pop_un_names) ? pop_un_names[s->op] : "un?",
                  s->a);
        break;
    case PS_ALLOC:
        sb_puts(o, "alloc ");
        put_slot(o, p, s->a);
        sb_printf(o, ", r%d : ", s->b);
        put_type(o, s->type);
        break;
    case PS_LAUNCH:
        sb_printf(o, "launch @%s<<<", s->kernel ? s->kernel->name : "?");
        for (int k = 0; k < s->ndims && k < 3; k++)
            sb_printf(o, k ? " x r%d" : "r%d", s->global[k]);
        if (s->has_local) {
            sb_puts(o, ", ");
            for (int k = 0; k < s->ndims && k < 3; k++)
                sb_printf(o, k ? " x r%d" : "r%d", s->local[k]);
        }
        sb_puts(o, ">>>(");
        for (int k = 0; k < s->nargs; k++) {
            const IrPArg *a = &s->args[k];
            if (k) sb_puts(o, ", ");
            if (a->kind == PA_BUF)
                put_slot(o, p, a->x);
            else if (a->kind == PA_PARAM && a->x >= 0 && a->x < p->nparams)
                sb_printf(o, "%%%s", p->params[a->x].name);
            else if (a->kind == PA_REG) {
                sb_printf(o, "r%d as ", a->x);
                put_type(o, a->type);
            } else
                sb_printf(o, "arg?%d", a->x);
        }
        sb_putc(o, ')');
        break;
    case PS_FREE:
        sb_puts(o, "free ");
        put_slot(o, p, s->a);
        break;
    case PS_LABEL: sb_printf(o, "L%d:", s->a); break;
    case PS_JMP: sb_printf(o, "jmp L%d", s->a); break;
    case PS_JZ: sb_printf(o, "jz r%d, L%d", s->b, s->a); break;
    }
}

static void print_pipeline(StrBuf *out, const IrPipeline *p)
{
    sb_printf(out, "pipeline @%s", p->name);
    put_params(out, p->params, p->nparams);
    sb_printf(out, " regs(%d) {\n", p->nregs);
    for (int t = 0; t < p->temps.len; t++) {
        sb_printf(out, "  temp @%s: ", p->temps.data[t].name);
        put_type(out, p->temps.data[t].type);
        sb_putc(out, '\n');
    }
    for (int k = 0; k < p->steps.len; k++) {
        sb_puts(out, p->steps.data[k].kind == PS_LABEL ? "" : "  ");
        print_step(out, p, &p->steps.data[k]);
        sb_putc(out, '\n');
    }
    sb_puts(out, "}\n");
}

void ir_print_module(StrBuf *out, const IrModule *m)
{
    Arena *a = arena_new();
    bool first = true;
    for (int k = 0; k < m->structs.len; k++) {
        const Type *t = m->structs.data[k];
        sb_printf(out, "struct %s { ", t->name);
        for (int fi = 0; fi < t->nfields; fi++) {
            sb_printf(out, "%s: ", t->fields[fi].name);
            put_type(out, t->fields[fi].type);
            sb_puts(out, "; ");
        }
        sb_printf(out, "} size(%u) align(%u)\n", t->size, t->align);
        first = false;
    }
    for (int k = 0; k < m->funcs.len; k++) {
        if (!first) sb_putc(out, '\n');
        first = false;
        print_func_with(out, m->funcs.data[k], a);
    }
    for (int k = 0; k < m->pipelines.len; k++) {
        if (!first) sb_putc(out, '\n');
        first = false;
        print_pipeline(out, m->pipelines.data[k]);
    }
    arena_free(a);
}
