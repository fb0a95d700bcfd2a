/* test_cg_c.c: the C backend, end to end on hand-built IR.
 *
 * Each test builds a module with the ir.h API, emits C, compiles it with the system C
 * compiler (-std=c11 -O2 -Wall -Wextra -Werror; also with clang when present), dlopens the
 * shared object, finds `dck_module` and runs kernels through the ABI directly (one
 * dck_cpu_launch, a loop over the groups), checking the results.
 */
#include <criterion/criterion.h>

#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codegen/cg.h"

/* ---------------------------------------------------------------- IR building */

typedef struct Bld {
    IrModule *m;
    IrFunc *f;
    IrBlock *b;
    int line;
} Bld;

static Type *T(ScalarId s) { return ty_scalar(s); }

static Bld new_module(void)
{
    Bld b = {0};
    Arena *a = arena_new();
    b.m = ir_module_new(a);
    static const char *files[] = {"tests/unit/test.dck"};
    b.m->files = files;
    b.m->nfiles = 1;
    b.m->source_name = "test.dck";
    return b;
}

static void new_kernel(Bld *b, const char *name, const IrParam *ps, int n)
{
    b->f = ir_func_new(b->m, name, true, ty_void, ps, n);
    b->f->loc = (Loc){0, 1, 1};
    b->b = ir_block_new(b->f);
    b->line = 2;
}

static IrInst *put(Bld *b, IrInst *i)
{
    i->loc = (Loc){0, b->line, 1};
    ir_append(b->b, i);
    return i;
}

static IrInst *op(Bld *b, IrOp o, Type *t, IrInst *x, IrInst *y)
{
    IrInst *ops[2] = {x, y};
    return put(b, ir_inst_new(b->f, o, t, ops, y ? 2 : x ? 1 : 0));
}

static IrInst *op3(Bld *b, IrOp o, Type *t, IrInst *x, IrInst *y, IrInst *z)
{
    IrInst *ops[3] = {x, y, z};
    return put(b, ir_inst_new(b->f, o, t, ops, 3));
}

static IrInst *ci(Bld *b, Type *t, uint64_t v) { return put(b, ir_const_int(b->f, t, v)); }
static IrInst *cu(Bld *b, uint32_t v) { return ci(b, T(SC_UINT), v); }
static IrInst *cf(Bld *b, double v) { return put(b, ir_const_float(b->f, T(SC_FLOAT), v)); }

static IrInst *param(Bld *b, int k)
{
    IrInst *i = ir_inst_new(b->f, IR_PARAM, b->f->params[k].type, NULL, 0);
    i->param = k;
    return put(b, i);
}

static IrInst *wi(Bld *b, BuiltinId q, int d)
{
    IrInst *i = ir_inst_new(b->f, IR_WORKITEM, T(SC_UINT), NULL, 0);
    i->builtin = q;
    i->dim = d;
    return put(b, i);
}

static IrInst *buflen(Bld *b, int k)
{
    IrInst *i = ir_inst_new(b->f, IR_BUFLEN, T(SC_UINT), NULL, 0);
    i->mem = (IrMemRef){.kind = MEM_BUFFER, .id = k};
    return put(b, i);
}

static IrInst *builtin(Bld *b, BuiltinId bi, Type *t, IrInst *x, IrInst *y, IrInst *z)
{
    IrInst *ops[3] = {x, y, z};
    IrInst *i = ir_inst_new(b->f, IR_BUILTIN, t, ops, z ? 3 : y ? 2 : x ? 1 : 0);
    i->builtin = bi;
    return put(b, i);
}

static IrMemRef mref(IrMemKind k, int id, int nidx)
{
    return (IrMemRef){.kind = k, .id = id, .nidx = nidx};
}

static IrInst *load(Bld *b, Type *t, IrMemRef mr, IrInst *i0, IrInst *i1)
{
    IrInst *ops[2] = {i0, i1};
    IrInst *i = ir_inst_new(b->f, IR_LOAD, t, ops, mr.nidx);
    i->mem = mr;
    return put(b, i);
}

static IrInst *store(Bld *b, IrMemRef mr, IrInst *idx, IrInst *v)
{
    IrInst *ops[2] = {idx, v};
    int n = mr.nidx + 1;
    if (mr.nidx == 0) ops[0] = v;
    IrInst *i = ir_inst_new(b->f, IR_STORE, ty_void, ops, n);
    i->mem = mr;
    return put(b, i);
}

static IrInst *atomic(Bld *b, BuiltinId bi, Type *t, IrMemRef mr, IrInst *idx, IrInst *v,
                      IrInst *v2)
{
    IrInst *ops[3] = {idx, v, v2};
    IrInst *i = ir_inst_new(b->f, IR_ATOMIC, t, ops, v2 ? 3 : 2);
    i->mem = mr;
    i->builtin = bi;
    return put(b, i);
}

static void br(Bld *b, IrBlock *to)
{
    IrInst *i = put(b, ir_inst_new(b->f, IR_BR, ty_void, NULL, 0));
    i->target[0] = to;
}

static void cbr(Bld *b, IrInst *c, IrBlock *t, IrBlock *f)
{
    IrInst *ops[1] = {c};
    IrInst *i = put(b, ir_inst_new(b->f, IR_CBR, ty_void, ops, 1));
    i->target[0] = t;
    i->target[1] = f;
}

static void ret(Bld *b) { put(b, ir_inst_new(b->f, IR_RET, ty_void, NULL, 0)); }

static IrInst *phi2(Bld *b, Type *t) { return put(b, ir_inst_new(b->f, IR_PHI, t, NULL, 2)); }

static IrParam P(const char *name, Type *t) { return (IrParam){name, t, {0, 1, 1}}; }

/* ---------------------------------------------------------------- compile and run */

typedef struct Mod {
    void *so;
    const dck_abi_module *mod;
    char *src;
} Mod;

static char *emit_c(IrModule *m, bool checked)
{
    for (int i = 0; i < m->funcs.len; i++) ir_recompute_preds(m->funcs.data[i]);
    CgOptions o = {.opt_level = 2, .checked = checked};
    StrBuf out = {0}, err = {0};
    const CgTarget *t = cg_find_target("c");
    cr_assert(t != NULL);
    bool ok = t->emit(m, &o, &out, &err);
    cr_assert(ok, "emit failed: %s", err.data ? err.data : "");
    sb_free(&err);
    return sb_take(&out);
}

static bool have(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

static void write_file(const char *path, const char *s)
{
    FILE *fp = fopen(path, "w");
    cr_assert(fp);
    fputs(s, fp);
    fclose(fp);
}

/* Compiles src into a shared object with `compiler`; returns the .so path (static buffer). */
static const char *compile_with(const char *compiler, const char *src, const char *tag)
{
    static char so[256];
    char cpath[256], cmd[1024];
    snprintf(cpath, sizeof cpath, "/tmp/dck_test_cg_c_%d_%s_%s.c", (int)getpid(), tag, compiler);
    snprintf(so, sizeof so, "/tmp/dck_test_cg_c_%d_%s_%s.so", (int)getpid(), tag, compiler);
    write_file(cpath, src);
    snprintf(cmd, sizeof cmd, "%s -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared %s -o %s 2>&1",
             compiler, cpath, so);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, p);
    buf[n] = 0;
    int rc = pclose(p);
    cr_assert(rc == 0, "%s failed on %s:\n%s", compiler, cpath, buf);
    unlink(cpath);
    return so;
}

static Mod build(IrModule *m, bool checked, const char *tag)
{
    Mod r = {0};
    r.src = emit_c(m, checked);
    if (getenv("DCK_TEST_DUMP")) fprintf(stderr, "%s\n", r.src);
    if (have("clang") && !strstr(r.src, "_Float16")) unlink(compile_with("clang", r.src, tag));
    const char *so = compile_with("cc", r.src, tag);
    r.so = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    cr_assert(r.so, "dlopen: %s", dlerror());
    unlink(so);
    r.mod = dlsym(r.so, "dck_module");
    cr_assert(r.mod, "no dck_module");
    cr_assert_eq(r.mod->magic, DCK_ABI_MAGIC);
    cr_assert_eq(r.mod->version, DCK_ABI_VERSION);
    return r;
}

static void unload(Mod *r)
{
    dlclose(r->so);
    free(r->src);
}

static const dck_abi_kernel *kernel(const Mod *r, const char *name)
{
    for (uint32_t k = 0; k < r->mod->nkernels; k++)
        if (strcmp(r->mod->kernels[k].name, name) == 0) return &r->mod->kernels[k];
    cr_assert_fail("no kernel %s", name);
    return NULL;
}

static void launch(const dck_abi_kernel *k, uint32_t global, uint32_t local, void **args,
                   dck_cpu_oob *oob)
{
    dck_cpu_launch L = {0};
    L.global_size[0] = global;
    L.global_size[1] = L.global_size[2] = 1;
    L.local_size[0] = local;
    L.local_size[1] = L.local_size[2] = 1;
    L.num_groups[0] = (global + local - 1) / local;
    L.num_groups[1] = L.num_groups[2] = 1;
    L.args = args;
    L.oob = oob;
    size_t bytes = ((k->shared_bytes + 63u) & ~(size_t)63) + (size_t)k->private_bytes * local;
    size_t alloc = (bytes + 63) / 64 * 64 + 64;
    void *shared = aligned_alloc(64, alloc);
    cr_assert(shared);
    for (uint32_t g = 0; g < L.num_groups[0]; g++) {
        memset(shared, 0, alloc);
        k->cpu_group(&L, g, 0, 0, shared);
    }
    free(shared);
}

/* ---------------------------------------------------------------- tests */

/* saxpy(float a, const float[] x, float[] y): if (i < len(y)) y[i] = a * x[i] + y[i] */
static void build_saxpy(Bld *b)
{
    IrParam ps[3] = {P("a", T(SC_FLOAT)), P("x", ty_buffer(T(SC_FLOAT), true)),
                     P("y", ty_buffer(T(SC_FLOAT), false))};
    new_kernel(b, "saxpy", ps, 3);
    b->f->has_wg = true;
    b->f->wg[0] = 64;
    IrBlock *body = ir_block_new(b->f), *exit = ir_block_new(b->f);
    IrInst *a = param(b, 0), *i = wi(b, BI_GLOBAL_ID, 0);
    IrInst *c = op(b, IR_LT, T(SC_BOOL), i, buflen(b, 2));
    cbr(b, c, body, exit);
    b->b = body;
    b->line = 3;
    IrInst *x = load(b, T(SC_FLOAT), mref(MEM_BUFFER, 1, 1), i, NULL);
    IrInst *y = load(b, T(SC_FLOAT), mref(MEM_BUFFER, 2, 1), i, NULL);
    IrInst *s = op(b, IR_ADD, T(SC_FLOAT), op(b, IR_MUL, T(SC_FLOAT), a, x), y);
    store(b, mref(MEM_BUFFER, 2, 1), i, s);
    br(b, exit);
    b->b = exit;
    ret(b);
}

Test(cg_c, saxpy)
{
    Bld b = new_module();
    build_saxpy(&b);
    Mod r = build(b.m, false, "saxpy");
    const dck_abi_kernel *k = kernel(&r, "saxpy");
    cr_assert_eq(k->nparams, 3);
    cr_assert_str_eq(k->params[1].name, "x");
    cr_assert_eq(k->params[1].kind, DCK_ABI_PARAM_BUFFER);
    cr_assert_eq(k->params[1].is_const, 1);
    cr_assert_eq(k->params[0].scalar, DCK_ABI_F32);
    cr_assert_eq(k->wg[0], 64);
    cr_assert_eq(k->flags, 0);
    cr_assert_eq(k->private_bytes, 0);
    enum { N = 1000 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)i;
        y[i] = 1.0f;
    }
    float a = 2.0f;
    dck_cpu_buf bx = {x, N}, by = {y, N};
    void *args[3] = {&a, &bx, &by};
    launch(k, N, 64, args, NULL);
    for (int i = 0; i < N; i++)
        cr_assert_float_eq(y[i], 2.0f * i + 1.0f, 1e-6, "y[%d] = %f", i, y[i]);
    /* the plain loops: no per-work-item state, no resume switch */
    cr_assert(strstr(r.src, "switch (resume)") == NULL);
    cr_assert(strstr(r.src, "/* test.dck:3 */") != NULL);
    unload(&r);
    arena_free(b.m->arena);
}

/* fib(uint[] out): a = 1, b = 1; for (k = 0; k < i; k++) (a, b) = (b, a + b); out[i] = a;
 * and swp(uint[] out): (a, b) = (1, 2) swapped i times: the phi copy problems */
Test(cg_c, loop_phis)
{
    Bld b = new_module();
    IrParam ps[2] = {P("out", ty_buffer(T(SC_UINT), false)),
                     P("out2", ty_buffer(T(SC_UINT), false))};
    new_kernel(&b, "fib", ps, 2);
    IrBlock *entry = b.b, *head = ir_block_new(b.f), *body = ir_block_new(b.f),
            *exit = ir_block_new(b.f);
    IrInst *i = wi(&b, BI_GLOBAL_ID, 0);
    IrInst *zero = cu(&b, 0), *one = cu(&b, 1), *two = cu(&b, 2);
    br(&b, head);
    b.b = head;
    IrInst *k = phi2(&b, T(SC_UINT)), *pa = phi2(&b, T(SC_UINT)), *pb = phi2(&b, T(SC_UINT));
    IrInst *sa = phi2(&b, T(SC_UINT)), *sb = phi2(&b, T(SC_UINT));
    cbr(&b, op(&b, IR_LT, T(SC_BOOL), k, i), body, exit);
    b.b = body;
    IrInst *ab = op(&b, IR_ADD, T(SC_UINT), pa, pb);
    IrInst *k1 = op(&b, IR_ADD, T(SC_UINT), k, one);
    br(&b, head);
    /* head preds: entry, body */
    IrInst *kops[2] = {zero, k1}, *aops[2] = {one, pb}, *bops[2] = {one, ab};
    IrInst *saops[2] = {one, sb}, *sbops[2] = {two, sa};
    ir_set_ops(b.f, k, kops, 2);
    ir_set_ops(b.f, pa, aops, 2);
    ir_set_ops(b.f, pb, bops, 2);
    ir_set_ops(b.f, sa, saops, 2);
    ir_set_ops(b.f, sb, sbops, 2);
    b.b = exit;
    store(&b, mref(MEM_BUFFER, 0, 1), i, pa);
    store(&b, mref(MEM_BUFFER, 1, 1), i,
          op(&b, IR_ADD, T(SC_UINT), op(&b, IR_MUL, T(SC_UINT), sa, cu(&b, 10)), sb));
    ret(&b);
    (void)entry;
    Mod r = build(b.m, false, "phis");
    enum { N = 40 };
    uint32_t out[N], out2[N];
    dck_cpu_buf bo = {out, N}, bo2 = {out2, N};
    void *args[2] = {&bo, &bo2};
    launch(kernel(&r, "fib"), N, 16, args, NULL);
    uint32_t fa = 1, fb = 1;
    for (int n = 0; n < N; n++) {
        cr_assert_eq(out[n], fa, "fib[%d] = %u, want %u", n, out[n], fa);
        cr_assert_eq(out2[n], n % 2 ? 21u : 12u, "swap[%d] = %u", n, out2[n]);
        uint32_t t = fa + fb;
        fa = fb;
        fb = t;
    }
    unload(&r);
    arena_free(b.m->arena);
}

/* reduce(const float[] in, float[] out): the classic shared-memory tree reduction
 *   shared float t[64]; t[lid] = in[gid]; barrier();
 *   for (s = 32; s > 0; s >>= 1) { if (lid < s) t[lid] += t[lid + s]; barrier(); }
 *   if (lid == 0) out[group_id] = t[0]; */
Test(cg_c, reduction_barriers)
{
    Bld b = new_module();
    IrParam ps[2] = {P("in", ty_buffer(T(SC_FLOAT), true)),
                     P("out", ty_buffer(T(SC_FLOAT), false))};
    new_kernel(&b, "reduce", ps, 2);
    b.f->has_wg = true;
    b.f->wg[0] = 64;
    IrSlot t = {"t", ty_array(T(SC_FLOAT), 64), {0, 2, 5}};
    vec_push(b.m->arena, &b.f->shared, t);
    IrMemRef tm = mref(MEM_SHARED, 0, 1);
    IrBlock *head = ir_block_new(b.f), *body = ir_block_new(b.f), *add = ir_block_new(b.f),
            *latch = ir_block_new(b.f), *done = ir_block_new(b.f), *wr = ir_block_new(b.f),
            *exit = ir_block_new(b.f);
    IrInst *lid = wi(&b, BI_LOCAL_ID, 0), *gid = wi(&b, BI_GLOBAL_ID, 0);
    /* a value computed before the first barrier and used after it: must survive in P */
    IrInst *twice = op(&b, IR_MUL, T(SC_UINT), lid, cu(&b, 2));
    store(&b, tm, lid, load(&b, T(SC_FLOAT), mref(MEM_BUFFER, 0, 1), gid, NULL));
    b.line = 4;
    put(&b, ir_inst_new(b.f, IR_BARRIER, ty_void, NULL, 0));
    br(&b, head);
    b.b = head;
    b.line = 5;
    IrInst *s = phi2(&b, T(SC_UINT));
    cbr(&b, op(&b, IR_GT, T(SC_BOOL), s, cu(&b, 0)), body, done);
    b.b = body;
    cbr(&b, op(&b, IR_LT, T(SC_BOOL), lid, s), add, latch);
    b.b = add;
    b.line = 6;
    IrInst *j = op(&b, IR_ADD, T(SC_UINT), lid, s);
    IrInst *v = op(&b, IR_ADD, T(SC_FLOAT), load(&b, T(SC_FLOAT), tm, lid, NULL),
                   load(&b, T(SC_FLOAT), tm, j, NULL));
    store(&b, tm, lid, v);
    br(&b, latch);
    b.b = latch;
    b.line = 7;
    put(&b, ir_inst_new(b.f, IR_BARRIER, ty_void, NULL, 0));
    IrInst *s2 = op(&b, IR_SHR, T(SC_UINT), s, cu(&b, 1));
    br(&b, head);
    IrInst *sops[2] = {put(&b, ir_const_int(b.f, T(SC_UINT), 32)), s2};
    ir_remove(sops[0]);
    ir_insert_before(b.f->blocks.data[0]->first, sops[0]);
    ir_set_ops(b.f, s, sops, 2);
    b.b = done;
    b.line = 8;
    cbr(&b, op(&b, IR_EQ, T(SC_BOOL), lid, cu(&b, 0)), wr, exit);
    b.b = wr;
    IrInst *tz = load(&b, T(SC_FLOAT), tm, cu(&b, 0), NULL);
    /* + twice - twice: keeps `twice` alive across all barriers */
    IrInst *adj =
        op(&b, IR_CONVERT, T(SC_FLOAT),
           op(&b, IR_SUB, T(SC_UINT), twice, op(&b, IR_MUL, T(SC_UINT), lid, cu(&b, 2))), NULL);
    store(&b, mref(MEM_BUFFER, 1, 1), wi(&b, BI_GROUP_ID, 0), op(&b, IR_ADD, T(SC_FLOAT), tz, adj));
    br(&b, exit);
    b.b = exit;
    ret(&b);

    Mod r = build(b.m, false, "reduce");
    const dck_abi_kernel *k = kernel(&r, "reduce");
    cr_assert(k->flags & DCK_ABI_KERNEL_BARRIER);
    cr_assert_eq(k->shared_bytes, 256);
    cr_assert(k->private_bytes > 0);
    enum { G = 8, N = 64 * G };
    float in[N], out[G];
    double want[G] = {0};
    for (int i = 0; i < N; i++) {
        in[i] = (float)(i % 7) + 0.5f;
        want[i / 64] += in[i];
    }
    dck_cpu_buf bi = {in, N}, bo = {out, G};
    void *args[2] = {&bi, &bo};
    launch(k, N, 64, args, NULL);
    for (int g = 0; g < G; g++)
        cr_assert_float_eq(out[g], (float)want[g], 1e-3, "group %d: %f vs %f", g, out[g], want[g]);
    unload(&r);
    arena_free(b.m->arena);
}

/* hist(const uint[] data, uint[] bins, float[] fsum, int[] mx): atomics on buffers and shared */
Test(cg_c, atomic_histogram)
{
    Bld b = new_module();
    IrParam ps[4] = {
        P("data", ty_buffer(T(SC_UINT), true)), P("bins", ty_buffer(T(SC_UINT), false)),
        P("fsum", ty_buffer(T(SC_FLOAT), false)), P("mx", ty_buffer(T(SC_INT), false))};
    new_kernel(&b, "hist", ps, 4);
    IrBlock *body = ir_block_new(b.f), *exit = ir_block_new(b.f);
    IrInst *i = wi(&b, BI_GLOBAL_ID, 0);
    cbr(&b, op(&b, IR_LT, T(SC_BOOL), i, buflen(&b, 0)), body, exit);
    b.b = body;
    IrInst *d = load(&b, T(SC_UINT), mref(MEM_BUFFER, 0, 1), i, NULL);
    IrInst *bin = op(&b, IR_REM, T(SC_UINT), d, buflen(&b, 1));
    atomic(&b, BI_ATOMIC_ADD, T(SC_UINT), mref(MEM_BUFFER, 1, 1), bin, cu(&b, 1), NULL);
    atomic(&b, BI_ATOMIC_ADD, T(SC_FLOAT), mref(MEM_BUFFER, 2, 1), cu(&b, 0), cf(&b, 0.5), NULL);
    IrInst *di = op(&b, IR_CONVERT, T(SC_INT), d, NULL);
    atomic(&b, BI_ATOMIC_MAX, T(SC_INT), mref(MEM_BUFFER, 3, 1), cu(&b, 0), di, NULL);
    atomic(&b, BI_ATOMIC_MIN, T(SC_INT), mref(MEM_BUFFER, 3, 1), cu(&b, 1), di, NULL);
    /* cas(mx[2], 0, 7) once: returns the old value, only the first succeeds */
    IrInst *old = atomic(&b, BI_ATOMIC_CAS, T(SC_INT), mref(MEM_BUFFER, 3, 1), cu(&b, 2),
                         ci(&b, T(SC_INT), 0), ci(&b, T(SC_INT), 7));
    atomic(&b, BI_ATOMIC_ADD, T(SC_INT), mref(MEM_BUFFER, 3, 1), cu(&b, 3), old, NULL);
    br(&b, exit);
    b.b = exit;
    ret(&b);
    Mod r = build(b.m, false, "hist");
    const dck_abi_kernel *k = kernel(&r, "hist");
    cr_assert(k->flags & DCK_ABI_KERNEL_ATOMICS);
    enum { N = 1000, B = 16 };
    uint32_t data[N], bins[B] = {0}, want[B] = {0};
    float fsum = 0;
    int32_t mx[4] = {INT_MIN, INT_MAX, 0, 0};
    for (int n = 0; n < N; n++) {
        data[n] = (uint32_t)((n * 7919u) % 1000u);
        want[data[n] % B]++;
    }
    dck_cpu_buf bd = {data, N}, bb = {bins, B}, bf = {&fsum, 1}, bm = {mx, 4};
    void *args[4] = {&bd, &bb, &bf, &bm};
    launch(k, N, 32, args, NULL);
    for (int j = 0; j < B; j++) cr_assert_eq(bins[j], want[j], "bin %d", j);
    cr_assert_float_eq(fsum, 500.0f, 1e-3);
    cr_assert_eq(mx[0], 999);
    cr_assert_eq(mx[1], 0);
    cr_assert_eq(mx[2], 7);
    cr_assert_eq(mx[3], 7 * (N - 1));
    unload(&r);
    arena_free(b.m->arena);
}

/* struct Pt { float3 pos; float mass; };
 * vecs(const Pt[] ps, float4[] out, Pt[] outp, float3 off):
 *   q = ps[i].pos + off; out[i] = float4(q.x * mass, dot(q, q), length(q), cross(q, (0,0,1)).x);
 *   outp[i].pos = q.zyx; outp[i].mass = ps[i].mass * 2 */
Test(cg_c, vectors_structs)
{
    Bld b = new_module();
    Type *f3 = ty_vec(T(SC_FLOAT), 3), *f4 = ty_vec(T(SC_FLOAT), 4);
    Field fl[2] = {{"pos", f3, 0}, {"mass", T(SC_FLOAT), 0}};
    Type *pt = ty_struct("Pt", fl, 2);
    vec_push(b.m->arena, &b.m->structs, pt);
    cr_assert_eq(pt->size, 32);
    IrParam ps[4] = {P("ps", ty_buffer(pt, true)), P("out", ty_buffer(f4, false)),
                     P("outp", ty_buffer(pt, false)), P("off", f3)};
    new_kernel(&b, "vecs", ps, 4);
    IrInst *i = wi(&b, BI_GLOBAL_ID, 0);
    IrInst *p = load(&b, pt, mref(MEM_BUFFER, 0, 1), i, NULL);
    IrInst *pos = op(&b, IR_EXTRACT, f3, p, NULL);
    pos->idx = 0;
    IrInst *mass = op(&b, IR_EXTRACT, T(SC_FLOAT), p, NULL);
    mass->idx = 1;
    IrInst *q = op(&b, IR_ADD, f3, pos, param(&b, 3));
    IrInst *qx = op(&b, IR_EXTRACT, T(SC_FLOAT), q, NULL);
    qx->idx = 0;
    IrInst *zaxis = op3(&b, IR_VECTOR, f3, cf(&b, 0), cf(&b, 0), cf(&b, 1));
    IrInst *cr = builtin(&b, BI_CROSS, f3, q, zaxis, NULL);
    IrInst *crx = op(&b, IR_EXTRACT, T(SC_FLOAT), cr, NULL);
    crx->idx = 0;
    IrInst *v4ops[4] = {op(&b, IR_MUL, T(SC_FLOAT), qx, mass),
                        builtin(&b, BI_DOT, T(SC_FLOAT), q, q, NULL),
                        builtin(&b, BI_LENGTH, T(SC_FLOAT), q, NULL, NULL), crx};
    IrInst *v4 = put(&b, ir_inst_new(b.f, IR_VECTOR, f4, v4ops, 4));
    store(&b, mref(MEM_BUFFER, 1, 1), i, v4);
    IrInst *sh = op(&b, IR_SHUFFLE, f3, q, NULL);
    sh->mask[0] = 2, sh->mask[1] = 1, sh->mask[2] = 0;
    IrMemRef mp = mref(MEM_BUFFER, 2, 1);
    mp.path[0] = 0;
    mp.npath = 1;
    store(&b, mp, i, sh);
    mp.path[0] = 1;
    IrInst *m2 = op(&b, IR_MUL, T(SC_FLOAT), mass, cf(&b, 2));
    store(&b, mp, i, m2);
    /* a component store: outp[i].pos.y = clamp(q.y, 0, 1) via a vector min/max with scalar bounds */
    IrInst *cl = builtin(&b, BI_CLAMP, f3, q, cf(&b, 0), cf(&b, 1));
    IrInst *cly = op(&b, IR_EXTRACT, T(SC_FLOAT), cl, NULL);
    cly->idx = 1;
    IrMemRef mpy = mref(MEM_BUFFER, 2, 1);
    mpy.path[0] = 0, mpy.path[1] = 1, mpy.npath = 2;
    store(&b, mpy, i, cly);
    ret(&b);
    Mod r = build(b.m, false, "vecs");
    const dck_abi_kernel *k = kernel(&r, "vecs");
    cr_assert_eq(k->params[0].scalar, DCK_ABI_STRUCT);
    cr_assert_eq(k->params[0].size, 32);
    cr_assert_str_eq(k->params[0].type_name, "Pt");
    cr_assert_eq(k->params[3].vec, 3);
    cr_assert_eq(k->params[3].size, 16);
    typedef struct {
        float x, y, z, w;
    } V4;
    typedef struct {
        V4 pos;
        float mass;
        float pad[3];
    } CPt;
    enum { N = 10 };
    CPt in[N], outp[N];
    V4 out[N];
    for (int n = 0; n < N; n++) in[n] = (CPt){{(float)n, 0.25f * n, -1.0f, 99}, 1.5f, {0}};
    V4 off = {1, 0.5f, 2, 0};
    dck_cpu_buf b0 = {in, N}, b1 = {out, N}, b2 = {outp, N};
    void *args[4] = {&b0, &b1, &b2, &off};
    launch(k, N, 4, args, NULL);
    for (int n = 0; n < N; n++) {
        float qx_ = n + 1.0f, qy_ = 0.25f * n + 0.5f, qz_ = 1.0f;
        float d = qx_ * qx_ + qy_ * qy_ + qz_ * qz_;
        cr_assert_float_eq(out[n].x, qx_ * 1.5f, 1e-5);
        cr_assert_float_eq(out[n].y, d, 1e-4);
        cr_assert_float_eq(out[n].z, sqrtf(d), 1e-4);
        cr_assert_float_eq(out[n].w, qy_ * 1.0f - qz_ * 0.0f, 1e-5);
        cr_assert_float_eq(outp[n].pos.x, qz_, 1e-6);
        cr_assert_float_eq(outp[n].pos.y, fminf(fmaxf(qy_, 0), 1), 1e-6);
        cr_assert_float_eq(outp[n].pos.z, qx_, 1e-6);
        cr_assert_float_eq(outp[n].mass, 3.0f, 1e-6);
    }
    cr_assert(strstr(r.src, "_Static_assert(offsetof(dcks_Pt, mass) == 16") != NULL);
    unload(&r);
    arena_free(b.m->arena);
}

/* oob(float[] y): y[i + 1] = 1 at line 7 -> index len(y) for the last work-item */
static IrModule *build_oob(void)
{
    Bld b = new_module();
    IrParam ps[2] = {P("unused", T(SC_INT)), P("y", ty_buffer(T(SC_FLOAT), false))};
    new_kernel(&b, "oob", ps, 2);
    IrInst *i = wi(&b, BI_GLOBAL_ID, 0);
    b.line = 7;
    IrInst *j = op(&b, IR_ADD, T(SC_UINT), i, cu(&b, 1));
    store(&b, mref(MEM_BUFFER, 1, 1), j, cf(&b, 1.0));
    b.line = 8;
    IrInst *v = load(&b, T(SC_FLOAT), mref(MEM_BUFFER, 1, 1), j, NULL);
    (void)v;
    ret(&b);
    return b.m;
}

Test(cg_c, checked_oob)
{
    IrModule *m = build_oob();
    Mod r = build(m, true, "oob");
    const dck_abi_kernel *k = kernel(&r, "oob");
    cr_assert(k->flags & DCK_ABI_KERNEL_CHECKED);
    enum { N = 10 };
    float y[N + 4];
    for (int n = 0; n < N + 4; n++) y[n] = -5.0f;
    dck_cpu_buf by = {y, N};
    int unused = 0;
    void *args[2] = {&unused, &by};
    dck_cpu_oob oob = {0};
    launch(k, N, 4, args, &oob);
    cr_assert_eq(oob.hit, 1);
    cr_assert_eq(oob.param, 1);
    cr_assert_eq(oob.line, 7);
    cr_assert_eq(oob.is_write, 1);
    cr_assert_eq(oob.index, N);
    cr_assert_eq(oob.len, N);
    cr_assert_float_eq(y[0], -5.0f, 0);
    for (int n = 1; n < N; n++) cr_assert_float_eq(y[n], 1.0f, 0);
    for (int n = N; n < N + 4; n++)
        cr_assert_float_eq(y[n], -5.0f, 0, "wrote out of bounds at %d", n);
    unload(&r);
    arena_free(m->arena);

    /* unchecked: no checks in the code at all */
    m = build_oob();
    char *src = emit_c(m, false);
    cr_assert(strstr(src, "dck_oob") == NULL);
    free(src);
    arena_free(m->arena);
}

/* Integer corner cases: division by zero, INT_MIN / -1, shifts modulo width, clz/ctz(0),
 * popcount, mul_hi, rotate, float -> int saturation. One kernel, results per slot. */
Test(cg_c, integer_semantics)
{
    Bld b = new_module();
    Type *I = T(SC_INT), *U = T(SC_UINT), *UC = T(SC_UCHAR), *L = T(SC_LONG);
    IrParam ps[3] = {P("ia", ty_buffer(I, true)), P("ib", ty_buffer(I, true)),
                     P("out", ty_buffer(T(SC_LONG), false))};
    new_kernel(&b, "ints", ps, 3);
    IrInst *a = load(&b, I, mref(MEM_BUFFER, 0, 1), cu(&b, 0), NULL);
    IrInst *bb = load(&b, I, mref(MEM_BUFFER, 1, 1), cu(&b, 0), NULL);
    IrInst *a1 = load(&b, I, mref(MEM_BUFFER, 0, 1), cu(&b, 1), NULL);  /* INT_MIN */
    IrInst *bm1 = load(&b, I, mref(MEM_BUFFER, 1, 1), cu(&b, 1), NULL); /* -1 */
    int slot = 0;
#define OUT(v) store(&b, mref(MEM_BUFFER, 2, 1), cu(&b, slot++), op(&b, IR_CONVERT, L, (v), NULL))
    OUT(op(&b, IR_DIV, I, a, bb));              /* 0: 7 / 0 -> 0 */
    OUT(op(&b, IR_REM, I, a, bb));              /* 1: 7 % 0 -> 0 */
    OUT(op(&b, IR_DIV, I, a1, bm1));            /* 2: INT_MIN / -1 -> INT_MIN */
    OUT(op(&b, IR_REM, I, a1, bm1));            /* 3: 0 */
    OUT(op(&b, IR_SHL, I, a, ci(&b, I, 33)));   /* 4: 7 << 1 = 14 */
    OUT(op(&b, IR_SHR, I, bm1, ci(&b, I, 35))); /* 5: -1 >> 3 = -1 */
    IrInst *ua = op(&b, IR_CONVERT, U, a, NULL);
    OUT(builtin(&b, BI_CLZ, U, op(&b, IR_SUB, U, ua, ua), NULL, NULL)); /* 6: clz(0) = 32 */
    OUT(builtin(&b, BI_CTZ, U, op(&b, IR_SUB, U, ua, ua), NULL, NULL)); /* 7: ctz(0) = 32 */
    OUT(builtin(&b, BI_CLZ, U, ua, NULL, NULL));                        /* 8: clz(7) = 29 */
    OUT(builtin(&b, BI_POPCOUNT, I, bm1, NULL, NULL));                  /* 9: 32 */
    IrInst *c8 = op(&b, IR_CONVERT, UC, a, NULL);
    OUT(builtin(&b, BI_CLZ, UC, c8, NULL, NULL));             /* 10: clz((uchar)7) = 5 */
    OUT(builtin(&b, BI_ROTATE, UC, c8, ci(&b, UC, 7), NULL)); /* 11: rotl(7, 7) = 0x83 = 131 */
    OUT(builtin(&b, BI_MUL_HI, I, a1, ci(&b, I, 4), NULL));   /* 12: (INT_MIN * 4) >> 32 = -2 */
    OUT(builtin(&b, BI_ABS, I, a1, NULL, NULL));              /* 13: abs(INT_MIN) = INT_MIN */
    OUT(op(&b, IR_CONVERT, I, cf(&b, 1e20), NULL));           /* 14: saturates: INT_MAX */
    OUT(op(&b, IR_CONVERT, U, cf(&b, -5.0), NULL));           /* 15: 0 */
    OUT(op(&b, IR_CONVERT, I,
           op(&b, IR_DIV, T(SC_FLOAT), cf(&b, 0), op(&b, IR_CONVERT, T(SC_FLOAT), bb, NULL)),
           NULL));                                   /* 16: NaN -> 0 */
    OUT(op(&b, IR_ADD, I, ci(&b, I, INT32_MAX), a)); /* 17: wraps: INT_MIN + 6 */
    OUT(builtin(&b, BI_MAX, I, a, ci(&b, I, (uint32_t)INT32_MIN), NULL)); /* 18: 7 */
    OUT(op3(&b, IR_SELECT, U, op(&b, IR_GE, T(SC_BOOL), ua, cu(&b, 0)), cu(&b, 1),
            cu(&b, 2))); /* 19: 1 */
    OUT(builtin(&b, BI_MUL_HI, L, op(&b, IR_CONVERT, L, bm1, NULL), ci(&b, L, 5),
                NULL)); /* 20: -1 */
#undef OUT
    ret(&b);
    Mod r = build(b.m, false, "ints");
    int32_t ia[2] = {7, INT32_MIN}, ib[2] = {0, -1};
    int64_t out[32];
    dck_cpu_buf b0 = {ia, 2}, b1 = {ib, 2}, b2 = {out, 32};
    void *args[3] = {&b0, &b1, &b2};
    launch(kernel(&r, "ints"), 1, 1, args, NULL);
    int64_t want[] = {0,  0, INT32_MIN, 0,  14,        -1,        32, 32, 29,
                      32, 5, 131,       -2, INT32_MIN, INT32_MAX, 0,  0,  (int64_t)INT32_MIN + 6,
                      7,  1, -1};
    for (int k = 0; k < (int)(sizeof want / sizeof want[0]); k++)
        cr_assert_eq(out[k], want[k], "slot %d: %lld, want %lld", k, (long long)out[k],
                     (long long)want[k]);
    unload(&r);
    arena_free(b.m->arena);
}

/* Every float builtin on float4 and double, integer builtins on int2/ulong, bool reductions,
 * subgroups: compiles warning-free with gcc and clang and gives plausible values. */
Test(cg_c, all_builtins_compile)
{
    Bld b = new_module();
    Type *f4 = ty_vec(T(SC_FLOAT), 4), *D = T(SC_DOUBLE), *i2 = ty_vec(T(SC_INT), 2),
         *UL = T(SC_ULONG);
    IrParam ps[4] = {P("v", f4), P("d", D), P("o4", ty_buffer(f4, false)),
                     P("od", ty_buffer(D, false))};
    new_kernel(&b, "allb", ps, 4);
    IrInst *v = param(&b, 0), *d = param(&b, 1);
    IrInst *acc4 = v, *accd = d;
    for (int bi = BI_ABS; bi <= BI_ALL; bi++) {
        BuiltinClass k = builtin_info[bi].cls;
        int n = builtin_info[bi].nargs;
        if (k == BK_I1 || k == BK_I2 || k == BK_ANYALL || k == BK_CROSS) continue;
        if (k == BK_FTEST) {
            IrInst *t = builtin(&b, (BuiltinId)bi, ty_vec(T(SC_BOOL), 4), v, NULL, NULL);
            IrInst *any = builtin(&b, BI_ANY, T(SC_BOOL), t, NULL, NULL);
            IrInst *all = builtin(&b, BI_ALL, T(SC_BOOL), t, NULL, NULL);
            IrInst *x = op3(&b, IR_SELECT, D, op(&b, IR_OR, T(SC_BOOL), any, all), d, accd);
            accd =
                op3(&b, IR_SELECT, D, builtin(&b, (BuiltinId)bi, T(SC_BOOL), x, NULL, NULL), d, x);
            continue;
        }
        if (bi == BI_SELECT) {
            IrInst *c4 = op(&b, IR_LT, ty_vec(T(SC_BOOL), 4), v, acc4);
            acc4 = builtin(&b, BI_SELECT, f4, v, acc4, c4);
            continue;
        }
        bool scalar_res = k == BK_DOT || k == BK_LENGTH;
        IrInst *r4 = builtin(&b, (BuiltinId)bi, scalar_res ? T(SC_FLOAT) : f4, acc4,
                             n > 1 ? v : NULL, n > 2 ? v : NULL);
        if (scalar_res) r4 = op(&b, IR_SPLAT, f4, r4, NULL);
        acc4 = op(&b, IR_ADD, f4, acc4, r4);
        IrInst *rd = builtin(&b, (BuiltinId)bi, D, accd, n > 1 ? d : NULL, n > 2 ? d : NULL);
        accd = op(&b, IR_ADD, D, accd, rd);
    }
    IrInst *f3 = op(&b, IR_SHUFFLE, ty_vec(T(SC_FLOAT), 3), acc4, NULL);
    f3->mask[0] = 0, f3->mask[1] = 1, f3->mask[2] = 2;
    IrInst *c3 = builtin(&b, BI_CROSS, ty_vec(T(SC_FLOAT), 3), f3, f3, NULL);
    IrInst *c4 = builtin(&b, BI_CROSS, f4, acc4, v, NULL);
    acc4 = op(&b, IR_ADD, f4, c4, op(&b, IR_SHUFFLE, f4, c3, NULL));
    acc4->ops[1]->mask[0] = 0, acc4->ops[1]->mask[1] = 1, acc4->ops[1]->mask[2] = 2,
    acc4->ops[1]->mask[3] = 2;
    IrInst *iv =
        op(&b, IR_CONVERT, i2, op(&b, IR_SHUFFLE, ty_vec(T(SC_FLOAT), 2), acc4, NULL), NULL);
    iv->ops[0]->mask[0] = 0, iv->ops[0]->mask[1] = 1;
    IrInst *ul = op(&b, IR_CONVERT, UL, d, NULL);
    for (int bi = BI_ABS; bi <= BI_ROTATE; bi++) {
        BuiltinClass k = builtin_info[bi].cls;
        if (!(k == BK_I1 || k == BK_I2 || k == BK_N1 || k == BK_N2 || k == BK_N3)) continue;
        int n = builtin_info[bi].nargs;
        iv = builtin(&b, (BuiltinId)bi, i2, iv, n > 1 ? iv : NULL, n > 2 ? iv : NULL);
        ul = builtin(&b, (BuiltinId)bi, UL, ul, n > 1 ? ul : NULL, n > 2 ? ul : NULL);
    }
    IrInst *sg = builtin(&b, BI_SUBGROUP_ADD, D, accd, NULL, NULL);
    sg = op(&b, IR_ADD, D, sg,
            builtin(&b, BI_SUBGROUP_SHUFFLE, D, accd,
                    builtin(&b, BI_SUBGROUP_LOCAL_ID, T(SC_UINT), NULL, NULL, NULL), NULL));
    sg = op(
        &b, IR_ADD, D, sg,
        op(&b, IR_CONVERT, D, builtin(&b, BI_SUBGROUP_SIZE, T(SC_UINT), NULL, NULL, NULL), NULL));
    sg = op(&b, IR_ADD, D, sg, op(&b, IR_CONVERT, D, ul, NULL));
    IrInst *ix = op(&b, IR_EXTRACT, T(SC_INT), iv, NULL);
    ix->idx = 1;
    sg = op(&b, IR_ADD, D, sg, op(&b, IR_CONVERT, D, ix, NULL));
    store(&b, mref(MEM_BUFFER, 2, 1), cu(&b, 0), acc4);
    store(&b, mref(MEM_BUFFER, 3, 1), cu(&b, 0), sg);
    ret(&b);
    Mod r = build(b.m, false, "allb");
    cr_assert(kernel(&r, "allb")->flags & DCK_ABI_KERNEL_SUBGROUP);
    unload(&r);
    arena_free(b.m->arena);
}

Test(cg_c, half_gcc)
{
    Bld b = new_module();
    Type *H = T(SC_HALF), *h4 = ty_vec(H, 4);
    IrParam ps[2] = {P("x", ty_buffer(h4, true)), P("y", ty_buffer(H, false))};
    new_kernel(&b, "hk", ps, 2);
    IrInst *i = wi(&b, BI_GLOBAL_ID, 0);
    IrInst *x = load(&b, h4, mref(MEM_BUFFER, 0, 1), i, NULL);
    IrInst *s =
        op(&b, IR_MUL, h4, x, op(&b, IR_SPLAT, h4, put(&b, ir_const_float(b.f, H, 2.0)), NULL));
    IrInst *d = builtin(&b, BI_DOT, H, s, x, NULL);
    d = op(&b, IR_ADD, H, d, builtin(&b, BI_SQRT, H, d, NULL, NULL));
    store(&b, mref(MEM_BUFFER, 1, 1), i, d);
    ret(&b);
    Mod r = build(b.m, false, "half");
    _Float16 hx[8], hy[2];
    for (int k = 0; k < 8; k++) hx[k] = (_Float16)(k * 0.5f);
    dck_cpu_buf b0 = {hx, 2}, b1 = {hy, 2};
    void *args[2] = {&b0, &b1};
    launch(kernel(&r, "hk"), 2, 2, args, NULL);
    float d0 = 2 * (0 + 0.25f + 1 + 2.25f);
    cr_assert_float_eq((float)hy[0], d0 + sqrtf(d0), 0.02);
    unload(&r);
    arena_free(b.m->arena);
}

/* A pipeline: len, launch, a loop with a label and jz; checks the encoded words. */
Test(cg_c, pipeline_encoding)
{
    Bld b = new_module();
    build_saxpy(&b);
    IrFunc *saxpy = b.f;
    IrPipeline *p = arena_alloc(b.m->arena, sizeof *p);
    p->name = "pipe";
    p->nparams = 3;
    p->params = saxpy->params;
    p->nregs = 3;
    Arena *a = b.m->arena;
    IrPArg *args = arena_alloc(a, sizeof(IrPArg) * 3);
    args[0] = (IrPArg){PA_PARAM, 0, T(SC_FLOAT)};
    args[1] = (IrPArg){PA_BUF, 1, NULL};
    args[2] = (IrPArg){PA_BUF, 2, NULL};
    IrPStep st[] = {
        {.kind = PS_LEN, .dst = 0, .a = 2},
        {.kind = PS_CONST, .dst = 1, .imm = 3, .type = T(SC_LONG)},
        {.kind = PS_LABEL, .a = 0},
        {.kind = PS_JZ, .a = 1, .b = 1},
        {.kind = PS_LAUNCH, .kernel = saxpy, .ndims = 1, .global = {0}, .args = args, .nargs = 3},
        {.kind = PS_CONST, .dst = 2, .imm = 1, .type = T(SC_LONG)},
        {.kind = PS_BIN, .op = DCK_POPB_ISUB, .dst = 1, .a = 1, .b = 2},
        {.kind = PS_JMP, .a = 0},
        {.kind = PS_LABEL, .a = 1},
    };
    for (int k = 0; k < (int)(sizeof st / sizeof st[0]); k++) vec_push(a, &p->steps, st[k]);
    vec_push(a, &b.m->pipelines, p);
    CgWords code = {0};
    CgConsts consts = {0};
    cg_encode_pipeline(b.m, p, &code, &consts, a);
    uint32_t want[] = {DCK_POP_LEN,
                       0,
                       2,
                       DCK_POP_CONST,
                       1,
                       0, /* label 0 = 6 */
                       DCK_POP_JZ,
                       1,
                       35,
                       DCK_POP_LAUNCH,
                       0,
                       1,
                       0,
                       0,
                       0,
                       0,
                       0,
                       0,
                       0,
                       3,
                       DCK_POPA_PARAM,
                       0,
                       DCK_ABI_F32,
                       DCK_POPA_BUF,
                       1,
                       0,
                       DCK_POPA_BUF,
                       2,
                       0,
                       DCK_POP_CONST,
                       2,
                       1,
                       DCK_POP_BIN,
                       DCK_POPB_ISUB,
                       1,
                       1,
                       2,
                       DCK_POP_JMP,
                       6, /* label 1 = 39 */
                       DCK_POP_END};
    /* recompute the label offsets from the layout above */
    want[8] = 39;
    cr_assert_eq(code.len, (int)(sizeof want / sizeof want[0]), "ncode %d", code.len);
    for (int k = 0; k < code.len; k++)
        cr_assert_eq(code.data[k], want[k], "word %d: %u vs %u", k, code.data[k], want[k]);
    cr_assert_eq(consts.len, 2);
    cr_assert_eq(consts.data[0], 3);
    cr_assert_eq(consts.data[1], 1);
    /* and the module with a pipeline compiles and exports it */
    Mod r = build(b.m, false, "pipe");
    cr_assert_eq(r.mod->npipelines, 1);
    cr_assert_str_eq(r.mod->pipelines[0].name, "pipe");
    cr_assert_eq(r.mod->pipelines[0].ncode, (uint32_t)code.len);
    cr_assert_eq(r.mod->pipelines[0].code[8], 39);
    cr_assert_eq(r.mod->pipelines[0].consts[0], 3);
    unload(&r);
    arena_free(b.m->arena);
}

Test(cg_c, helpers_common)
{
    Bld b = new_module();
    IrParam ps[1] = {P("x", ty_buffer(T(SC_FLOAT), false))};
    new_kernel(&b, "k0", ps, 1);
    ret(&b);
    IrFunc *helper = ir_func_new(b.m, "h", false, ty_void, NULL, 0);
    new_kernel(&b, "k1", ps, 1);
    vec_push(b.m->arena, &b.f->shared, ((IrSlot){"a", ty_array(T(SC_UCHAR), 3), {0}}));
    vec_push(b.m->arena, &b.f->shared, ((IrSlot){"b", ty_array(ty_vec(T(SC_FLOAT), 4), 2), {0}}));
    vec_push(b.m->arena, &b.f->shared,
             ((IrSlot){"c", ty_array(ty_array(T(SC_DOUBLE), 3), 2), {0}}));
    ret(&b);
    cr_assert_eq(cg_kernel_index(b.m, b.m->funcs.data[0]), 0);
    cr_assert_eq(cg_kernel_index(b.m, helper), -1);
    cr_assert_eq(cg_kernel_index(b.m, b.f), 1);
    cr_assert_eq(cg_shared_offset(b.f, 0), 0);
    cr_assert_eq(cg_shared_offset(b.f, 1), 16);
    cr_assert_eq(cg_shared_offset(b.f, 2), 48);
    cr_assert_eq(cg_shared_bytes(b.f), 96);
    CgParamInfo pi = cg_param_info(&ps[0]);
    cr_assert_eq(pi.kind, DCK_ABI_PARAM_BUFFER);
    cr_assert_eq(pi.scalar, DCK_ABI_F32);
    cr_assert_eq(cg_find_target("c"), &cg_target_c);
    cr_assert_null(cg_find_target("nope"));
    arena_free(b.m->arena);
}

Test(cg_c, deterministic_and_fast)
{
    Bld b = new_module();
    for (int k = 0; k < 100; k++) {
        char name[32];
        snprintf(name, sizeof name, "saxpy%d", k);
        build_saxpy(&b);
        b.f->name = arena_strdup(b.m->arena, name);
    }
    for (int i = 0; i < b.m->funcs.len; i++) ir_recompute_preds(b.m->funcs.data[i]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *s1 = emit_c(b.m, false);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    char *s2 = emit_c(b.m, false);
    cr_assert_str_eq(s1, s2);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_log_info("100 kernels emitted in %.2f ms (%zu bytes)", ms, strlen(s1));
    cr_assert(ms < 100.0, "emission took %.2f ms", ms);
    free(s1);
    free(s2);
    arena_free(b.m->arena);
}
