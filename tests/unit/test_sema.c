/* test_sema.c: semantic analysis: expression types, inserted conversions, literal typing,
 * swizzles, struct layout, builtins, uniformity and the main diagnostics. */
#include <criterion/criterion.h>
#include <string.h>

#include "lang/frontend.h"

static Arena *arena;
static DiagEngine diag;
static TranslationUnit *tu;
static char *diags; /* rendered diagnostics of the last run */

static void teardown(void)
{
    free(diags);
    diags = NULL;
    arena_free(arena);
    arena = NULL;
}

/* Parses and checks src; returns sema's result (false if parsing failed). */
static bool run(const char *src)
{
    teardown();
    arena = arena_new();
    diag_init(&diag, arena);
    FrontendOptions o = {0};
    tu = fe_parse(arena, &diag, &o, "t.dck", src);
    cr_assert(tu, "parse returned NULL");
    cr_assert(!diag_has_errors(&diag), "parse errors in test source");
    bool ok = sema_check(arena, &diag, tu);
    StrBuf sb = {0};
    diag_render_text(&diag, &sb, false);
    diags = sb_take(&sb);
    return ok;
}

static void ok(const char *src)
{
    bool r = run(src);
    cr_assert(r, "unexpected errors:\n%s", diags);
}

static void fails_with(const char *src, const char *msg)
{
    bool r = run(src);
    cr_assert(!r, "expected an error containing '%s'", msg);
    cr_assert(strstr(diags, msg), "expected '%s' in:\n%s", msg, diags);
}

/* ---- finding nodes ---- */

static AstNode *find_in(AstNode *n, AstKind k, const char *name)
{
    if (!n) return NULL;
    if (n->kind == k && (!name || (n->name && strcmp(n->name, name) == 0))) return n;
    AstNode *kids[] = {n->a, n->b, n->c, n->d, n->dims[0], n->dims[1], n->dims[2]};
    for (int i = 0; i < 7; i++) {
        AstNode *r = find_in(kids[i], k, name);
        if (r) return r;
    }
    for (int i = 0; i < n->nlist; i++) {
        AstNode *r = find_in(n->list[i], k, name);
        if (r) return r;
    }
    return NULL;
}

static AstNode *find(AstKind k, const char *name)
{
    for (int i = 0; i < tu->ndecls; i++) {
        AstNode *r = find_in(tu->decls[i], k, name);
        if (r) return r;
    }
    cr_assert_fail("no %s node named %s", ast_kind_name(k), name ? name : "(any)");
    return NULL;
}

/* the initializer of local variable `name` */
static AstNode *init_of(const char *name)
{
    AstNode *d = find(AST_DECL, name);
    cr_assert(d->a, "no initializer for %s", name);
    return d->a;
}

static const char *tname(const AstNode *n) { return n->type ? n->type->name : "(null)"; }

#define TYPE_IS(n, s) cr_assert_str_eq(tname(n), s)

TestSuite(sema, .fini = teardown);

/* ---- literal typing ---- */

Test(sema, float_literal_follows_float_operand)
{
    ok("kernel void k(float[] y) { float x = y[0]; float r = x * 2.0; y[0] = r; }");
    AstNode *m = init_of("r");
    TYPE_IS(m, "float");
    cr_assert_eq(m->b->kind, AST_FLOAT_LIT);
    TYPE_IS(m->b, "float");
    cr_assert_eq(m->a->kind, AST_IDENT);
}

Test(sema, float_literal_follows_double_operand)
{
    ok("kernel void k(double[] y) { double d = y[0]; double e = d * 0.1; y[0] = e; }");
    AstNode *m = init_of("e");
    TYPE_IS(m, "double");
    TYPE_IS(m->b, "double");
    cr_assert_eq(m->b->kind, AST_FLOAT_LIT);
}

Test(sema, int_literal_follows_uint)
{
    ok("kernel void k(uint[] y) { uint i = global_id(0); uint j = i + 1; y[0] = j; }");
    AstNode *m = init_of("j");
    TYPE_IS(m, "uint");
    cr_assert_eq(m->b->kind, AST_INT_LIT);
    TYPE_IS(m->b, "uint");
}

Test(sema, float_literal_with_int_makes_float)
{
    ok("kernel void k(float[] y) { int i = 3; float f = 1.5 * i; y[0] = f; }");
    AstNode *m = init_of("f");
    TYPE_IS(m, "float");
    TYPE_IS(m->a, "float");
    cr_assert_eq(m->b->kind, AST_CAST);
    cr_assert(m->b->implicit);
    TYPE_IS(m->b, "float");
    TYPE_IS(m->b->a, "int");
    cr_assert(!strstr(diags ? diags : "", "warning"), "no warning expected: %s", diags);
}

Test(sema, literal_defaults)
{
    ok("const long BIG = 3000000000; const float F = 2.5; const int I = 7;");
    AstNode *c = find(AST_CONST, "BIG");
    cr_assert_eq(c->sym->value->lit.i, 3000000000u);
    TYPE_IS(c->sym->value, "long");
}

Test(sema, literal_in_declared_type)
{
    ok("kernel void k(float[] y) { float x = 1; double d = 2; half h = 0.5; y[0] = x; }");
    AstNode *x = init_of("x");
    cr_assert_eq(x->kind, AST_FLOAT_LIT, "int literal retyped to a float literal");
    TYPE_IS(x, "float");
    TYPE_IS(init_of("d"), "double");
    TYPE_IS(init_of("h"), "half");
}

Test(sema, integer_division_of_literals_stays_integer)
{
    ok("kernel void k(float[] y) { float x = 1 / 2; y[0] = x; }");
    AstNode *x = init_of("x");
    cr_assert_eq(x->kind, AST_CAST);
    TYPE_IS(x->a, "int");
}

Test(sema, negative_literal_to_unsigned_is_error)
{
    fails_with("kernel void k(uint[] y) { uint u = -1; y[0] = u; }",
               "integer literal -1 does not fit in type 'uint'");
}

Test(sema, literal_does_not_fit)
{
    fails_with("kernel void k(uchar[] y) { uchar c = 300; y[0] = c; }",
               "integer literal 300 does not fit in type 'uchar'");
}

Test(sema, float_literal_to_int_is_error)
{
    fails_with("kernel void k(int[] y) { int i = 1.5; y[0] = i; }",
               "floating-point literal 1.5 cannot be implicitly converted to 'int'");
    ok("kernel void k(int[] y) { int i = (int)1.5; y[0] = i; }");
}

Test(sema, suffixed_literals)
{
    ok("kernel void k(float[] y) { float a = 1.0f; double b = 1.0d; half c = 1.0h; uint d = 2u; long e = 3l; y[0] = a; }");
    TYPE_IS(init_of("a"), "float");
    TYPE_IS(init_of("b"), "double");
    TYPE_IS(init_of("c"), "half");
    TYPE_IS(init_of("d"), "uint");
    TYPE_IS(init_of("e"), "long");
}

/* ---- usual conversions ---- */

Test(sema, usual_arithmetic_conversions)
{
    ok("kernel void k(float[] y) { int i = 1; uint u = 2u; long l = 3l; char c = 1; float f = 1.0;"
       " uint a = i + u; long b = l + u; float d = u + f; int e = c + c; y[0] = d; }");
    TYPE_IS(init_of("a"), "uint");
    TYPE_IS(init_of("b"), "long");
    TYPE_IS(init_of("d"), "float");
    AstNode *e = init_of("e");
    TYPE_IS(e, "int");
    TYPE_IS(e->a, "int");
    cr_assert_eq(e->a->kind, AST_CAST);
}

Test(sema, vector_scalar_splat)
{
    ok("kernel void k(float4[] y) { float4 v = y[0]; float4 w = v * 2; y[0] = w; }");
    AstNode *w = init_of("w");
    TYPE_IS(w, "float4");
    cr_assert_eq(w->b->kind, AST_CAST);
    TYPE_IS(w->b, "float4");
    cr_assert_eq(w->b->a->kind, AST_FLOAT_LIT);
    TYPE_IS(w->b->a, "float");
}

Test(sema, vector_element_types_meet)
{
    ok("kernel void k(float4[] y, int4[] z) { float4 a = y[0] + z[0]; bool4 c = y[0] < z[0]; y[0] = a; }");
    AstNode *a = init_of("a");
    TYPE_IS(a, "float4");
    TYPE_IS(a->b, "float4");
    cr_assert_eq(a->b->kind, AST_CAST);
    TYPE_IS(init_of("c"), "bool4");
}

Test(sema, vector_width_mismatch)
{
    fails_with("kernel void k(float4[] y, float3[] z) { float4 a = y[0] + z[0]; }",
               "vector widths differ");
}

Test(sema, conditions_become_bool)
{
    ok("kernel void k(int[] y) { int i = y[0]; if (i) y[0] = 1; while (i) i--; }");
    AstNode *f = find(AST_IF, NULL);
    cr_assert_eq(f->a->kind, AST_CAST);
    TYPE_IS(f->a, "bool");
    cr_assert(f->a->implicit);
}

Test(sema, logical_on_vector_is_error)
{
    fails_with("kernel void k(float4[] y) { bool4 b = y[0] > 0.0; if (b) y[0] = 1.0; }",
               "use any() or all()");
}

Test(sema, shift_takes_left_type)
{
    ok("kernel void k(long[] y) { long l = y[0]; int s = 3; long r = l << s; y[0] = r; }");
    AstNode *r = init_of("r");
    TYPE_IS(r, "long");
    TYPE_IS(r->b, "long");
}

Test(sema, modulo_on_float_suggests_fmod)
{
    fails_with("kernel void k(float[] y) { float a = y[0] % 2.0; }", "use fmod()");
}

Test(sema, compound_assignment_optype)
{
    ok("kernel void k(uchar[] y, float[] z) { uchar c = y[0]; c += 1; float f = z[0]; f *= 2; y[0] = c; z[0] = f; }");
    AstNode *d = find(AST_DECL, "c");
    (void)d;
    AstNode *asg = NULL;
    for (int i = 0; i < tu->ndecls; i++) {
        AstNode *body = tu->decls[i]->a;
        for (int j = 0; body && j < body->nlist; j++)
            if (body->list[j]->kind == AST_EXPR && body->list[j]->a->kind == AST_ASSIGN &&
                body->list[j]->a->op == '+')
                asg = body->list[j]->a;
    }
    cr_assert(asg);
    TYPE_IS(asg, "uchar");
    cr_assert_str_eq(asg->optype->name, "int");
    TYPE_IS(asg->b, "int");
}

Test(sema, lossy_conversion_warns)
{
    bool r = run("kernel void k(float[] y, double[] z) { float f = z[0]; y[0] = f; }");
    cr_assert(r);
    cr_assert(
        strstr(diags, "warning: implicit conversion from 'double' to 'float' may lose precision"),
        "%s", diags);
    r = run("kernel void k(float[] y, double[] z) { float f = (float)z[0]; y[0] = f; }");
    cr_assert(r);
    cr_assert(!strstr(diags, "warning"), "%s", diags);
}

/* ---- swizzles, members, layout ---- */

Test(sema, swizzles)
{
    ok("kernel void k(float4[] y) { float4 v = y[0]; float4 a = v.wzyx; float b = v.x; float2 c = v.rg; float3 d = v.xxy;"
       " v.xy = c; y[0] = v; }");
    AstNode *a = init_of("a");
    TYPE_IS(a, "float4");
    cr_assert_eq(a->nswz, 4);
    cr_assert_eq(a->swz[0], 3);
    cr_assert_eq(a->field, -1);
    TYPE_IS(init_of("b"), "float");
    TYPE_IS(init_of("c"), "float2");
    TYPE_IS(init_of("d"), "float3");
}

Test(sema, swizzle_errors)
{
    fails_with("kernel void k(float4[] y) { float4 v = y[0]; v.xx = float2(1.0); }",
               "swizzle 'xx' has repeated components and cannot be assigned");
    fails_with("kernel void k(float2[] y) { float2 v = y[0]; float z = v.z; }",
               "swizzle component 'z' is out of range for 'float2'");
    fails_with("kernel void k(float4[] y) { float4 v = y[0]; float2 z = v.xg; }", "mixes");
}

Test(sema, struct_layout_float3)
{
    ok("struct P { float3 a; float3 b; float3 c; }; struct Q { float x; double y; char z; };");
    Type *p = find(AST_STRUCT, "P")->type;
    cr_assert_eq(p->fields[0].offset, 0);
    cr_assert_eq(p->fields[1].offset, 16);
    cr_assert_eq(p->fields[2].offset, 32);
    cr_assert_eq(p->size, 48);
    Type *q = find(AST_STRUCT, "Q")->type;
    cr_assert_eq(q->fields[1].offset, 8);
    cr_assert_eq(q->size, 24);
}

Test(sema, struct_fields)
{
    ok("struct P { float3 pos; float mass; }; kernel void k(P[] ps) { P p = ps[0]; p.mass = 2.0; ps[0].pos.x = p.mass; }");
    AstNode *m = find(AST_MEMBER, "mass");
    cr_assert_eq(m->field, 1);
    TYPE_IS(m, "float");
    fails_with("struct P { float x; }; kernel void k(P[] ps) { float q = ps[0].q; }",
               "no field 'q' in struct 'P'");
    fails_with("struct P { bool b; };", "struct field 'b' cannot have type 'bool'");
}

/* ---- builtins and constructors ---- */

Test(sema, builtin_resolution)
{
    ok("kernel void k(float4[] y, float[] z) { float x = z[0]; float4 v = y[0];"
       " float m = min(x, 0); float4 c = clamp(v, 0.0, 1.0); float d = dot(v, v); bool4 n = isnan(v);"
       " float l = length(v); bool a = any(n); y[0] = c; z[0] = m + d + l; }");
    AstNode *m = init_of("m");
    TYPE_IS(m, "float");
    cr_assert_eq(m->builtin, BI_MIN);
    TYPE_IS(m->list[1], "float");
    AstNode *c = init_of("c");
    TYPE_IS(c, "float4");
    for (int i = 0; i < 3; i++) TYPE_IS(c->list[i], "float4");
    cr_assert_eq(c->list[1]->kind, AST_CAST);
    cr_assert(c->list[1]->implicit);
    TYPE_IS(init_of("d"), "float");
    TYPE_IS(init_of("n"), "bool4");
    TYPE_IS(init_of("l"), "float");
    TYPE_IS(init_of("a"), "bool");
}

Test(sema, builtin_wrong_types)
{
    fails_with("kernel void k(int[] y) { int i = y[0]; float s = sqrt(i); }",
               "invalid argument type 'int' to 'sqrt'");
    fails_with("kernel void k(float[] y) { float s = sqrt(y[0], 1.0); }",
               "too many arguments to 'sqrt'");
    fails_with("kernel void k(float[] y) { uint i = global_id(3); }",
               "argument of global_id must be a constant 0, 1 or 2");
}

Test(sema, atomics)
{
    ok("kernel void k(uint[] hist, float[] f) { shared int t[4]; uint o = atomic_add(hist[0], 1u); uint p = atomic_max(hist[1], 3);"
       " float q = atomic_add(f[0], 1.0); int r = atomic_cas(t[0], 0, 1); }");
    TYPE_IS(init_of("o"), "uint");
    AstNode *p = init_of("p");
    TYPE_IS(p->list[1], "uint");
    TYPE_IS(init_of("q"), "float");
    TYPE_IS(init_of("r"), "int");
    fails_with(
        "kernel void k(uint[] h) { uint c = 0u; atomic_add(c, 1u); }",
        "atomic operation needs an element of a buffer or of a shared array, not local variable 'c'");
    fails_with("kernel void k(const uint[] h) { atomic_add(h[0], 1u); }", "read-only buffer 'h'");
    fails_with("kernel void k(float[] h) { atomic_min(h[0], 1.0); }",
               "atomic_min does not support type 'float'");
}

Test(sema, constructors)
{
    ok("kernel void k(float4[] y) { float2 a = float2(1, 2); float4 v = float4(a, 0, 1); float4 s = float4(2); int2 i = int2(a); y[0] = v + s; }");
    AstNode *v = init_of("v");
    cr_assert_eq(v->ctor, ty_vec(ty_scalar(SC_FLOAT), 4));
    TYPE_IS(v->list[1], "float");
    TYPE_IS(init_of("i")->list[0], "int2");
    fails_with("kernel void k(float4[] y) { float4 v = float4(1.0, 2.0); }", "needs 4 components");
}

/* ---- writes, functions, kernels ---- */

Test(sema, const_buffer_write)
{
    fails_with("kernel void k(const float[] x) { x[0] = 1.0; }",
               "cannot write to read-only buffer 'x' (type 'const float[]')");
    fails_with("void f(float[] b) { b[0] = 1.0; } kernel void k(const float[] x) { f(x); }",
               "cannot pass read-only buffer 'x'");
    fails_with("const int N = 3; kernel void k(int[] x) { N = 4; }",
               "cannot assign to constant 'N'");
}

Test(sema, functions)
{
    ok("float sq(float x); float sq(float x) { return x * x; } kernel void k(float[] y) { y[0] = sq(2); }");
    AstNode *c = find(AST_CALL, "sq");
    cr_assert_eq(c->sym->kind, SYM_FUNC);
    TYPE_IS(c->list[0], "float");
    fails_with("float f(float x) { return x; } kernel void k(float[] y) { y[0] = f(1.0, 2.0); }",
               "too many arguments to function 'f' (expected 1, have 2)");
    fails_with("float f(float x) { if (x > 0.0) return x; }",
               "does not return a value on every path");
    fails_with("float f(float x); kernel void k(float[] y) { y[0] = f(1.0); }",
               "declared but never defined");
    fails_with("kernel void k(float[] y) { return 1.0; }",
               "kernel 'k' returns void and cannot return a value");
}

Test(sema, undeclared_suggests)
{
    fails_with("kernel void k(float[] y) { float value = 1.0; y[0] = valeu; }",
               "use of undeclared identifier 'valeu'; did you mean 'value'?");
}

Test(sema, recursion_cycle)
{
    fails_with("int g(int x); int f(int x) { return g(x); } int g(int x) { return f(x); }",
               "recursion is not allowed: f -> g -> f");
}

Test(sema, workgroup_folding)
{
    ok("const int B = 64; [[workgroup(B * 2, 2)]] kernel void k(float[] y) { }");
    AstNode *k = find(AST_FUNC, "k");
    cr_assert_eq(k->wg[0], 128);
    cr_assert_eq(k->wg[1], 2);
    cr_assert_eq(k->wg[2], 1);
}

Test(sema, shared_rules)
{
    ok("kernel void k(float[] y) { shared float tile[16][17]; tile[0][1] = y[0]; }");
    TYPE_IS(find(AST_DECL, "tile"), "float[16][17]");
    cr_assert_eq(find(AST_DECL, "tile")->sym->kind, SYM_SHARED);
    fails_with("void f() { shared float t[4]; }", "shared arrays are only allowed in kernels");
    fails_with("kernel void k() { if (true) { shared float t[4]; } }",
               "top level of the kernel body");
}

/* ---- uniformity ---- */

Test(sema, uniformity_flags)
{
    ok("kernel void k(float s, float[] y) { uint i = global_id(0); float a = s * 2.0; float b = y[0]; uint g = group_id(0) + len(y); }");
    cr_assert(!init_of("i")->is_uniform);
    cr_assert(init_of("a")->is_uniform);
    cr_assert(!init_of("b")->is_uniform);
    cr_assert(init_of("g")->is_uniform);
}

Test(sema, barrier_under_varying_if)
{
    fails_with(
        "kernel void k(float[] y) { uint i = global_id(0); if (i < 4u) { barrier(); } }",
        "barrier() must be reached by every work-item of the group, but this one is under control flow that depends on 'global_id(0)'");
    ok("kernel void k(uint n, float[] y) { if (n > 4u) { barrier(); } for (uint j = 0u; j < n; j++) barrier(); }");
}

Test(sema, barrier_after_varying_return)
{
    fails_with("kernel void k(float[] y) { if (global_id(0) >= len(y)) return; barrier(); }",
               "this one is under control flow");
    cr_assert(strstr(diags, "note: some work-items return here"), "%s", diags);
}

Test(sema, barrier_through_function_and_params)
{
    fails_with("void sync() { barrier(); } kernel void k(float[] y) { if (y[0] > 0.0) sync(); }",
               "call to 'sync', which reaches barrier()");
    fails_with(
        "void f(uint n) { if (n > 2u) barrier(); } kernel void k(float[] y) { f(global_id(0)); }",
        "depends on 'global_id(0)'");
    ok("void f(uint n) { if (n > 2u) barrier(); } kernel void k(uint m, float[] y) { f(m); }");
}

Test(sema, varying_loop_variable)
{
    fails_with(
        "kernel void k(float[] y) { uint j = 0u; while (j < 10u) { if (y[j] > 0.0) j = 100u; j++; barrier(); } }",
        "barrier()");
}

/* ---- pipelines ---- */

Test(sema, pipeline)
{
    ok("kernel void scale(float s, const float[] x, float[] y) { uint i = global_id(0); if (i < len(y)) y[i] = s * x[i]; }\n"
       "kernel void relu(const float[] x, float[] y) { uint i = global_id(0); if (i < len(y)) y[i] = max(x[i], 0.0); }\n"
       "pipeline p(float s, const float[] x, float[] y) { float t[len(x)]; uint n = len(x); scale<<<n, 64>>>(s, x, t);"
       " relu<<<uint2(n, 1u)>>>(t, y); }");
    AstNode *t = find(AST_DECL, "t");
    cr_assert_eq(t->sym->kind, SYM_TEMP);
    TYPE_IS(t, "float[]");
    AstNode *l = find(AST_LAUNCH, "scale");
    cr_assert_eq(l->sym->kind, SYM_FUNC);
    TYPE_IS(l->a, "uint");
    AstNode *r = find(AST_LAUNCH, "relu");
    TYPE_IS(r->a, "uint2");
}

Test(sema, pipeline_errors)
{
    fails_with("void f(float[] y) {} pipeline p(float[] y) { f<<<1>>>(y); }",
               "'f' is not a kernel");
    fails_with("kernel void k(float[] y) {} pipeline p(int[] y) { k<<<1>>>(y); }",
               "cannot pass buffer 'y'");
    fails_with("kernel void k(float[] y) {} pipeline p(const float[] y) { k<<<1>>>(y); }",
               "read-only buffer 'y'");
    fails_with("pipeline p(float4 v) { float4 w = v; }", "not allowed in a pipeline");
    fails_with("pipeline p(float[] y) { barrier(); }", "'barrier' is not allowed in a pipeline");
}

Test(sema, bool_restrictions)
{
    fails_with("kernel void k(bool[] y) {}", "buffer element type cannot be 'bool'");
    fails_with("kernel void k(bool b) {}", "kernel parameter 'b' cannot have type 'bool'");
}

Test(sema, scopes)
{
    ok("kernel void k(float[] y) { float a = 1.0; { float a = 2.0; y[0] = a; } }");
    fails_with("kernel void k(float[] y) { float a = 1.0; float a = 2.0; }", "redefinition of 'a'");
    fails_with("kernel void k(float[] y) { float y = 1.0; }", "redefinition of 'y'");
}

Test(sema, functional_cast_and_ctor_conversions)
{
    ok("kernel void k(float4[] y) { uint i = global_id(0); float f = float(i); float4 v = float4(i, i, 0, 1); y[i] = v * f; }");
    AstNode *f = init_of("f");
    cr_assert_eq(f->kind, AST_CAST);
    cr_assert(!f->implicit);
    TYPE_IS(f, "float");
    cr_assert(!strstr(diags, "warning"), "constructor arguments convert explicitly: %s", diags);
}

Test(sema, conditional_literals_follow_context)
{
    ok("kernel void k(double[] y) { double d = y[0]; double e = d * (d > 1.0 ? 0.1 : 0.2); y[0] = e; }");
    AstNode *c = find(AST_COND, NULL);
    TYPE_IS(c, "double");
    TYPE_IS(c->b, "double");
    TYPE_IS(c->c, "double");
}

Test(sema, pipeline_assignments)
{
    ok("kernel void k(float[] y) {} pipeline p(uint n, float[] y) { uint m = n * 2u; m += 1u; for (uint j = 0u; j < m; j++) k<<<m>>>(y); }");
    fails_with("kernel void k(float[] y) {} pipeline p(uint n, float[] y) { n = 3u; }",
               "a pipeline can assign only to its own scalar variables");
    fails_with(
        "kernel void k(float[] y) {} pipeline p(uint n, float[] y) { k<<<uint2(n, 2u), 8u>>>(y); }",
        "local size has 1 dimension but the global size has 2");
}

Test(sema, writable_rules)
{
    fails_with("kernel void k(const float s, float[] y) { s = 2.0; }",
               "cannot assign to const parameter 's'");
    fails_with("kernel void k(float[] y) { float a[4]; float b[4]; a = b; }",
               "cannot be assigned as a whole");
    fails_with("kernel void k(float[] y, float[] z) { y = z; }",
               "cannot assign to buffer 'y' itself");
}

Test(sema, lossy_int_narrowing_and_float_to_int)
{
    bool r = run(
        "kernel void k(const long[] l, const float[] f, int[] y) { int a = l[0]; int b = f[0]; y[0] = a + b; }");
    cr_assert(r);
    cr_assert(strstr(diags, "implicit conversion from 'long' to 'int' may change the value"), "%s",
              diags);
    cr_assert(strstr(diags, "implicit conversion from 'float' to 'int' may lose precision"), "%s",
              diags);
}
