/* pass_dce.c: dead code elimination by marking.
 *
 * Roots are the instructions that must stay: terminators and OPF_SIDE instructions
 * (STORE, ATOMIC, BARRIER, CALL). Everything their operands reach, transitively, is live;
 * the rest (including LOADs and cycles of phis that feed only each other) is removed.
 * Local slots are kept. Needs no CFG information.
 */
#include "passes.h"

static bool is_root(const IrInst *i)
{
    return (ir_op_info[i->op].flags & (OPF_TERM | OPF_SIDE)) != 0;
}

bool pass_dce(IrModule *m, Arena *scratch)
{
    bool changed = false;
    for (int fi = 0; fi < m->funcs.len; fi++) {
        IrFunc *f = m->funcs.data[fi];
        bool *live = arena_alloc(scratch, sizeof *live * (size_t)(f->next_id + 1));
        VEC(IrInst *) work = {0};
        for (int bi = 0; bi < f->blocks.len; bi++)
            for (IrInst *i = f->blocks.data[bi]->first; i; i = i->next)
                if (is_root(i)) {
                    live[i->id] = true;
                    vec_push(scratch, &work, i);
                }
        while (work.len > 0) {
            IrInst *i = work.data[--work.len];
            for (int k = 0; k < i->nops; k++) {
                IrInst *o = i->ops[k];
                if (!live[o->id]) {
                    live[o->id] = true;
                    vec_push(scratch, &work, o);
                }
            }
        }
        for (int bi = 0; bi < f->blocks.len; bi++) {
            IrInst *next;
            for (IrInst *i = f->blocks.data[bi]->first; i; i = next) {
                next = i->next;
                if (!live[i->id]) {
                    ir_remove(i);
                    changed = true;
                }
            }
        }
    }
    return changed;
}
