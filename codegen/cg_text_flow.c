/* cg_text_flow.c: the structured body of a text-backend kernel, printed from the region tree
 * of compiler/ir_cfg.h. Code after a jump is dead and not printed; an if whose then-arm ends
 * in a jump is followed by its else-arm instead of enclosing it; an arm that prints nothing
 * is left out (an if with neither becomes `(void)cond;`, which keeps -Wall quiet). The
 * selector is `dck_sel` (declared by cg_text.c when the tree uses it).
 */
#include "cg_text.h"

#include "compiler/ir_cfg.h"

#define EMIT(...) (indent(t), sb_printf(t->out, __VA_ARGS__))

static void indent(CgText *t)
{
    for (int i = 0; i < t->depth; i++) sb_puts(t->out, "    ");
}

static void truncate_out(CgText *t, size_t mark)
{
    t->out->len = mark;
    if (t->out->data) t->out->data[mark] = 0;
}

/* does a break in r (outside the loops inside it) leave the enclosing loop? */
static bool breaks(const IrRegion *r)
{
    if (r->kind == IR_RG_BREAK) return true;
    if (r->kind == IR_RG_LOOP) return false;
    for (int k = 0; k < r->nkids; k++)
        if (breaks(r->kids[k])) return true;
    return false;
}

static void emit_rg(CgText *t, const IrRegion *r, bool *live);

static const char *cond_of(CgText *t, const IrRegion *r, bool neg)
{
    neg ^= r->neg;
    if (!r->cond) return arena_printf(t->fa, "dck_sel %s %d", neg ? "!=" : "==", r->sel);
    const char *c = cgt_flow_value(t, r->cond);
    return neg ? arena_printf(t->fa, "!%s", c) : c;
}

static void emit_if(CgText *t, const IrRegion *r, bool *live)
{
    size_t h0 = t->out->len;
    EMIT("if (%s) {\n", cond_of(t, r, false));
    size_t a0 = t->out->len;
    bool lt = true, le = true;
    t->depth++;
    emit_rg(t, r->kids[0], &lt);
    t->depth--;
    if (t->out->len == a0) {
        /* an empty then-arm: if (!c) { else } */
        truncate_out(t, h0);
        EMIT("if (%s) {\n", cond_of(t, r, true));
        a0 = t->out->len;
        t->depth++;
        emit_rg(t, r->kids[1], &le);
        t->depth--;
        if (t->out->len == a0) {
            /* neither arm does anything: the condition is still a use of its variable */
            truncate_out(t, h0);
            if (r->cond) EMIT("(void)%s;\n", cgt_flow_value(t, r->cond));
        } else {
            EMIT("}\n");
        }
        return;
    }
    if (!lt) {
        EMIT("}\n");
        emit_rg(t, r->kids[1], &le);
        *live = le;
        return;
    }
    size_t e0 = t->out->len;
    EMIT("} else {\n");
    size_t e1 = t->out->len;
    t->depth++;
    emit_rg(t, r->kids[1], &le);
    t->depth--;
    if (t->out->len == e1) truncate_out(t, e0);
    EMIT("}\n");
    *live = lt || le;
}

static void emit_rg(CgText *t, const IrRegion *r, bool *live)
{
    if (!*live) return;
    switch (r->kind) {
    case IR_RG_SEQ:
        for (int k = 0; k < r->nkids && *live; k++) emit_rg(t, r->kids[k], live);
        return;
    case IR_RG_CODE: cgt_flow_block(t, r->b); return;
    case IR_RG_EDGE: cgt_flow_edge(t, r->b, r->to, r->occ); return;
    case IR_RG_IF: emit_if(t, r, live); return;
    case IR_RG_LOOP: {
        bool in = true;
        EMIT("for (;;) {\n");
        t->depth++;
        emit_rg(t, r->kids[0], &in);
        t->depth--;
        EMIT("}\n");
        *live = breaks(r->kids[0]);
        return;
    }
    case IR_RG_BREAK:
        EMIT("break;\n");
        *live = false;
        return;
    case IR_RG_CONTINUE:
        EMIT("continue;\n");
        *live = false;
        return;
    case IR_RG_RETURN:
        cgt_flow_return(t, r->b);
        EMIT("return;\n");
        *live = false;
        return;
    case IR_RG_SETSEL: EMIT("dck_sel = %d;\n", r->sel); return;
    }
}

void cgt_emit_flow(CgText *t, const IrRegionTree *rt)
{
    bool live = true;
    if (rt->dispatch)
        EMIT("/* control flow that if/else and loops cannot express: a dispatch loop */\n");
    emit_rg(t, rt->root, &live);
}
