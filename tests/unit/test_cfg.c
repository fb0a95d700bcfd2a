/* test_cfg.c: the control-flow layer (compiler/ir_cfg.c): post-dominators, natural loops, and
 * the region tree, which must run every CFG's blocks in the CFG's order: an interpreter of the
 * tree and a walk of the CFG, given the same branch decisions, must visit the same blocks
 * (random CFGs, reducible or not, included). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/ir_cfg.h"
#include "ir_build.h"

/* A kernel of n blocks: succ[i] = {t, f}; t < 0: ret; f < 0: br t; else cbr on a condition of
 * its own (a bool parameter value defined in block i). */
static IrFunc *cfg_of(IrModule *m, int n, const int (*succ)[2])
{
    IrParam ps[1] = {{"c", T(SC_BOOL), {0}}};
    IrFunc *f = ir_func_new(m, "k", true, ty_void, ps, 1);
    IrBlock *b[64];
    for (int i = 0; i < n; i++) b[i] = ir_block_new(f);
    for (int i = 0; i < n; i++) {
        if (succ[i][0] < 0)
            emit(b[i], IR_RET, ty_void, NULL, 0);
        else if (succ[i][1] < 0)
            br(b[i], b[succ[i][0]]);
        else
            cbr(b[i], param_at(b[i], 0), b[succ[i][0]], b[succ[i][1]]);
    }
    ir_recompute_preds(f);
    return f;
}

static IrBlock *B(IrFunc *f, int i) { return f->blocks.data[i]; }

Test(cfg, post_dominators)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    /* 0 -> {1, 2}; 1 -> 3; 2 -> {3, 4}; 3 -> 4; 4 ret */
    static const int s[][2] = {{1, 2}, {3, -1}, {3, 4}, {4, -1}, {-1, -1}};
    IrFunc *f = cfg_of(m, 5, s);
    IrCfg *c = ir_cfg_compute(a, f);
    cr_assert(ir_dominates(c->dom, B(f, 0), B(f, 3)));
    cr_assert_not(ir_dominates(c->dom, B(f, 1), B(f, 3)));
    cr_assert_eq(ir_cfg_ipdom(c, B(f, 0)), B(f, 4));
    cr_assert_eq(ir_cfg_ipdom(c, B(f, 1)), B(f, 3));
    cr_assert_eq(ir_cfg_ipdom(c, B(f, 2)), B(f, 4));
    cr_assert_eq(ir_cfg_ipdom(c, B(f, 4)), NULL);
    cr_assert(ir_cfg_postdominates(c, B(f, 4), B(f, 0)));
    cr_assert(ir_cfg_postdominates(c, B(f, 3), B(f, 1)));
    cr_assert_not(ir_cfg_postdominates(c, B(f, 3), B(f, 0)));
    cr_assert_eq(c->nloops, 0);
    cr_assert(c->reducible);
    arena_free(a);
}

/* 0 -> 1; 1 (outer header) -> {2, 6}; 2 (inner header) -> {3, 5}; 3 -> {2, 4};
 * 4 -> {1, 7}: out of both loops; 5 -> 1; 6 -> 7; 7 ret */
static const int nested[][2] = {{1, -1}, {2, 6},  {3, 5},  {2, 4},
                                {1, 7},  {1, -1}, {7, -1}, {-1, -1}};

Test(cfg, loops)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = cfg_of(m, 8, nested);
    IrCfg *c = ir_cfg_compute(a, f);
    cr_assert_eq(c->nloops, 2);
    IrLoop *o = &c->loops[0], *in = &c->loops[1];
    cr_assert_eq(o->header, B(f, 1));
    cr_assert_eq(in->header, B(f, 2));
    cr_assert_eq(in->parent, 0);
    cr_assert_eq(o->parent, -1);
    cr_assert_eq(in->depth, 2);
    cr_assert_eq(o->nblocks, 5); /* 1 2 3 4 5 */
    cr_assert_eq(in->nblocks, 2);
    cr_assert_eq(in->nlatches, 1);
    cr_assert_eq(in->latches[0], B(f, 3));
    cr_assert_eq(o->nlatches, 2);
    cr_assert_eq(in->nexits, 2); /* 4 and 5 */
    cr_assert_eq(o->nexits, 2);  /* 6 and 7 */
    cr_assert_eq(c->loop_of[B(f, 3)->id], 1);
    cr_assert_eq(c->loop_of[B(f, 4)->id], 0);
    cr_assert_eq(c->loop_of[B(f, 7)->id], -1);
    cr_assert(ir_cfg_in_loop(c, 0, B(f, 3)));
    cr_assert_not(ir_cfg_in_loop(c, 1, B(f, 4)));
    cr_assert(ir_cfg_is_back_edge(c, B(f, 3), B(f, 2)));
    cr_assert_not(ir_cfg_is_back_edge(c, B(f, 2), B(f, 3)));
    cr_assert_eq(c->fwd_preds[B(f, 7)->id], 2);
    arena_free(a);
}

static char *tree_text(Arena *a, const IrFunc *f, IrRegionTree **out)
{
    IrRegionTree *t = ir_cfg_regions(a, ir_cfg_compute(a, f));
    StrBuf sb = {0};
    ir_region_print(&sb, t->root, 0);
    char *s = arena_strdup(a, sb.data);
    sb_free(&sb);
    if (out) *out = t;
    return s;
}

Test(cfg, regions_if_else)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    /* 0 -> {1, 2}; 1 -> 3; 2 -> 3; 3 ret */
    static const int s[][2] = {{1, 2}, {3, -1}, {3, -1}, {-1, -1}};
    IrFunc *f = cfg_of(m, 4, s);
    IrRegionTree *t;
    char *txt = tree_text(a, f, &t);
    cr_assert_str_eq(txt, "seq\n"
                          "  b0\n"
                          "  if %4\n"
                          "    seq\n"
                          "      b1\n"
                          "  else\n"
                          "    seq\n"
                          "      b2\n"
                          "  b3\n"
                          "  return\n");
    cr_assert_not(t->uses_selector);
    arena_free(a);
}

Test(cfg, regions_exit_out_of_two_loops_uses_the_selector)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrRegionTree *t;
    char *txt = tree_text(a, cfg_of(m, 8, nested), &t);
    cr_assert(t->uses_selector, "%s", txt);
    if (getenv("SHOW")) fprintf(stderr, "%s", txt);
    cr_assert_not(t->dispatch);
    cr_assert(strstr(txt, "sel = 16\n") && strstr(txt, "if sel == 0\n"), "%s", txt);
    arena_free(a);
}

/* ---- the tree runs the CFG's blocks in order ---- */

typedef struct Run {
    const IrFunc *f;
    int trace[256], n;
    int visits[64];
    int sel;
    unsigned seed;
    int spins; /* loop iterations that ran no block */
} Run;

static int block_index(const IrFunc *f, const IrBlock *b)
{
    for (int i = 0; i < f->blocks.len; i++)
        if (f->blocks.data[i] == b) return i;
    return -1;
}

/* the decision of the k-th visit of block b */
static bool decide(unsigned seed, int b, int k)
{
    unsigned h = seed * 2654435761u ^ (unsigned)(b * 40503 + k * 9973);
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    return h & 1;
}

static int cfg_walk(const IrFunc *f, unsigned seed, int *trace, int max)
{
    int visits[64] = {0}, n = 0;
    const IrBlock *b = f->blocks.data[0];
    while (n < max) {
        int bi = block_index(f, b);
        trace[n++] = bi;
        int k = visits[bi]++;
        IrInst *t = ir_terminator(b);
        if (t->op == IR_RET) break;
        b = t->op == IR_BR ? t->target[0] : t->target[decide(seed, bi, k) ? 0 : 1];
    }
    return n;
}

enum { GO, BRK, CONT, RET, FULL };

static int run_rg(Run *r, const IrRegion *g)
{
    switch (g->kind) {
    case IR_RG_SEQ:
        for (int k = 0; k < g->nkids; k++) {
            int s = run_rg(r, g->kids[k]);
            if (s != GO) return s;
        }
        return GO;
    case IR_RG_CODE: {
        if (r->n == 256) return FULL;
        int bi = block_index(r->f, g->b);
        r->trace[r->n++] = bi;
        r->visits[bi]++;
        return GO;
    }
    case IR_RG_EDGE: return GO;
    case IR_RG_IF: {
        bool c;
        if (g->cond) {
            int bi = block_index(r->f, g->cond->block);
            c = decide(r->seed, bi, r->visits[bi] - 1);
        } else {
            c = r->sel == g->sel;
        }
        c ^= g->neg;
        return run_rg(r, g->kids[c ? 0 : 1]);
    }
    case IR_RG_LOOP:
        for (;;) {
            int n0 = r->n;
            int s = run_rg(r, g->kids[0]);
            if (r->n == n0 && ++r->spins > 1000) return FULL;
            if (s == BRK) return GO;
            if (s == RET || s == FULL) return s;
        }
    case IR_RG_BREAK: return BRK;
    case IR_RG_CONTINUE: return CONT;
    case IR_RG_RETURN: return RET;
    case IR_RG_SETSEL: r->sel = g->sel; return GO;
    }
    return RET;
}

static void check_runs(const IrFunc *f, const IrRegionTree *t, const char *what)
{
    for (unsigned seed = 1; seed <= 24; seed++) {
        Run r = {.f = f, .seed = seed};
        run_rg(&r, t->root);
        cr_assert(r.spins <= 1000, "%s, decisions %u: a loop of the tree spins", what, seed);
        int want[256];
        int n = cfg_walk(f, seed, want, 256);
        int m = r.n < n ? r.n : n;
        if (r.n < 256)
            cr_assert_eq(r.n, n, "%s, decisions %u: %d blocks run, the CFG runs %d", what, seed,
                         r.n, n);
        for (int i = 0; i < m; i++)
            cr_assert_eq(r.trace[i], want[i], "%s, decisions %u: step %d runs b%d, the CFG b%d",
                         what, seed, i, r.trace[i], want[i]);
    }
}

Test(cfg, regions_run_like_the_cfg)
{
    Arena *a = arena_new();
    IrModule *m = ir_module_new(a);
    IrFunc *f = cfg_of(m, 8, nested);
    check_runs(f, ir_cfg_regions(a, ir_cfg_compute(a, f)), "nested loops");
    /* irreducible: 0 -> {1, 2}; 1 -> 2; 2 -> {1, 3}; 3 ret */
    static const int irr[][2] = {{1, 2}, {2, -1}, {1, 3}, {-1, -1}};
    IrFunc *g = cfg_of(m, 4, irr);
    IrCfg *c = ir_cfg_compute(a, g);
    cr_assert_not(c->reducible);
    IrRegionTree *t = ir_cfg_regions(a, c);
    cr_assert(t->dispatch && t->uses_selector);
    check_runs(g, t, "irreducible");
    arena_free(a);
}

Test(cfg, random_cfgs_run_like_the_cfg)
{
    int nred = 0, nsel = 0, ndisp = 0;
    for (unsigned seed = 1; seed <= 3000; seed++) {
        Arena *a = arena_new();
        IrModule *m = ir_module_new(a);
        unsigned x = seed * 7919u + 17u;
#define RND(k) ((x = x * 1103515245u + 12345u), (int)((x >> 16) % (unsigned)(k)))
        int n = 2 + RND(11), s[16][2];
        for (int i = 0; i < n; i++) {
            int kind = i == n - 1 ? 0 : RND(10);
            if (kind == 0) {
                s[i][0] = s[i][1] = -1;
            } else if (kind < 4) {
                s[i][0] = RND(n);
                s[i][1] = -1;
            } else {
                /* mostly forward, some back edges, rarely anything */
                s[i][0] = RND(4) ? i + 1 + RND(n - i - 1 > 0 ? n - i - 1 : 1) : RND(n);
                s[i][1] = RND(3) ? i + 1 + RND(n - i - 1 > 0 ? n - i - 1 : 1) : RND(i + 1);
                if (s[i][0] >= n) s[i][0] = n - 1;
                if (s[i][1] >= n) s[i][1] = n - 1;
            }
        }
#undef RND
        IrFunc *f = cfg_of(m, n, (const int(*)[2])s);
        IrCfg *c = ir_cfg_compute(a, f);
        IrRegionTree *t = ir_cfg_regions(a, c);
        nred += c->reducible;
        nsel += t->uses_selector && !t->dispatch;
        ndisp += t->dispatch;
        char what[32];
        snprintf(what, sizeof what, "random CFG %u", seed);
        check_runs(f, t, what);
        arena_free(a);
    }
    /* the generator makes every kind */
    cr_assert(nred > 1000 && nsel > 50 && ndisp > 50,
              "%d reducible, %d with the selector, %d dispatch", nred, nsel, ndisp);
}
