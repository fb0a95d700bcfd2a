/* header_exec.c: runs kernels through generated headers and embed files (built by
 * tests/buildsys/headers.sh as C99, C11 and C++17): saxpy, a three-launch pipeline and a
 * kernel over a buffer of structs with float3 fields, compared with the same computation
 * here. The CPU code is compiled in: the test runs with DCK_CC=/bin/false (no JIT possible)
 * and checks that every module reports it was not JIT-compiled. */
#include <dck.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "exec_pipeline3.h"
#include "exec_saxpy.h"
#include "exec_structs.h"

#define CHECK(call)                                                                 \
    do {                                                                            \
        dck_status st_ = (call);                                                    \
        if (st_ != DCK_SUCCESS) {                                                   \
            fprintf(stderr, "%s failed: %s\n  %s\n", #call, dck_status_string(st_), \
                    dck_last_error());                                              \
            return 1;                                                               \
        }                                                                           \
    } while (0)

enum { N = 777 };

static int near(float a, float b) { return fabsf(a - b) <= 1e-5f * (1.0f + fabsf(b)); }

static float maxf(float a, float b) { return a > b ? a : b; }

int main(void)
{
    dck_context_desc cd;
    memset(&cd, 0, sizeof cd);
    cd.backend = DCK_BACKEND_CPU;
    dck_context ctx;
    CHECK(dck_context_create(&cd, &ctx));
    dck_module ms, mp, mt;
    CHECK(dck_load_exec_saxpy(ctx, &ms));
    CHECK(dck_load_exec_pipeline3(ctx, &mp));
    CHECK(dck_load_exec_structs(ctx, &mt));
    int bad = 0;
    dck_module mods[3] = {ms, mp, mt};
    for (int i = 0; i < 3; i++) {
        dck_module_info mi;
        CHECK(dck_module_get_info(mods[i], &mi));
        if (mi.cache_hit >= 0) {
            printf("module %d was JIT-compiled, not taken from the program\n", i);
            bad++;
        }
    }
    dck_queue q;
    CHECK(dck_queue_create(ctx, NULL, &q));
    static float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = (float)i / N, y[i] = 1.0f;
    dck_buffer bx, by;
    CHECK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &bx));
    CHECK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &by));
    CHECK(dck_buffer_write(bx, 0, sizeof x, x));
    CHECK(dck_buffer_write(by, 0, sizeof y, y));
    dck_range r = {1, {N, 1, 1}, {0, 0, 0}};
    CHECK(exec_saxpy_saxpy(ms, q, r, 2.0f, bx, by));
    CHECK(dck_queue_finish(q));
    CHECK(dck_buffer_read(by, 0, sizeof y, y));
    for (int i = 0; i < N; i++) bad += !near(y[i], 2.0f * x[i] + 1.0f);

    CHECK(exec_pipeline3_pipe3(mp, q, 3.0f, -1.0f, bx, by));
    CHECK(dck_queue_finish(q));
    CHECK(dck_buffer_read(by, 0, sizeof y, y));
    for (int i = 0; i < N; i++) {
        float t = 3.0f * x[i] * x[i] - 1.0f;
        bad += !near(y[i], t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t);
    }

    /* structs: Particle is 48 bytes with float3 fields (asserted by the header as well) */
    enum { P = 100 };
    static dck_float4 seed[2 * P];
    static exec_structs_Particle p[P];
    for (int i = 0; i < 2 * P; i++) {
        seed[i].x = 0.01f * (float)i;
        seed[i].y = 1.0f - 0.003f * (float)i;
        seed[i].z = 0.5f;
        seed[i].w = 0.1f * (float)(i % 13);
    }
    dck_buffer bs, bp;
    CHECK(dck_buffer_create_bytes(ctx, sizeof seed, (uint32_t)sizeof seed[0], &bs));
    CHECK(dck_buffer_create_bytes(ctx, sizeof p, (uint32_t)sizeof p[0], &bp));
    CHECK(dck_buffer_write(bs, 0, sizeof seed, seed));
    dck_float3 g;
    memset(&g, 0, sizeof g);
    g.x = 0.0f, g.y = -9.75f, g.z = 0.5f;
    dck_range rp = {1, {P, 1, 1}, {0, 0, 0}};
    CHECK(exec_structs_integrate(mt, q, rp, 0.125f, g, bs, bp));
    CHECK(dck_queue_finish(q));
    CHECK(dck_buffer_read(bp, 0, sizeof p, p));
    for (int i = 0; i < P; i++) {
        const dck_float4 *a = &seed[2 * i], *b = &seed[2 * i + 1];
        float k = 0.5f / maxf(a->w, 0.25f), dt = 0.125f;
        float vx = b->x + (g.x - b->x * k) * dt, vy = b->y + (g.y - b->y * k) * dt,
              vz = b->z + (g.z - b->z * k) * dt;
        bad += !near(p[i].vel.x, vx) || !near(p[i].vel.y, vy) || !near(p[i].vel.z, vz);
        bad += !near(p[i].pos.x, a->x + vx * dt) || !near(p[i].pos.y, a->y + vy * dt);
        bad += !near(p[i].mass, a->w) || !near(p[i].age, b->w + dt);
    }
    printf("header_exec: saxpy, pipe3, integrate through the generated API: %s\n",
           bad ? "WRONG" : "correct");
    CHECK(dck_context_destroy(ctx));
    return bad != 0;
}
