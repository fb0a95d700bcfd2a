/* main.c: the CMake consumer sample (docs/build.md). Calls the typed functions that
 * dck_add_kernels generated from kernels/particles.dck and kernels/scale.dck; the kernels'
 * CPU code is compiled into this program (no C compiler needed at run time) and their
 * package is embedded in it (no file to ship beside it).
 */
#include <dck.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "particles.h" /* particles_Particle, particles_advance, dck_load_particles */
#include "scale.h"     /* scale_scale, scale_scale_twice, dck_load_scale */

#define CHECK(call)                                                                 \
    do {                                                                            \
        dck_status st_ = (call);                                                    \
        if (st_ != DCK_SUCCESS) {                                                   \
            fprintf(stderr, "%s failed: %s\n  %s\n", #call, dck_status_string(st_), \
                    dck_last_error());                                              \
            return 1;                                                               \
        }                                                                           \
    } while (0)

enum { N = 1000 };

static int close_to(float a, float b) { return fabsf(a - b) <= 1e-5f * (1.0f + fabsf(b)); }

int main(void)
{
    dck_context_desc cd;
    memset(&cd, 0, sizeof cd);
    cd.backend = DCK_BACKEND_CPU; /* the package holds CPU code only (TARGETS c) */
    dck_context ctx;
    CHECK(dck_context_create(&cd, &ctx));
    dck_module particles, scale;
    CHECK(dck_load_particles(ctx, &particles));
    CHECK(dck_load_scale(ctx, &scale));
    dck_module_info mi;
    CHECK(dck_module_get_info(particles, &mi));
    printf("particles: target %s, %s\n", mi.target ? mi.target : "?",
           mi.cache_hit < 0 ? "CPU code compiled into the program" : "JIT-compiled");
    dck_queue q;
    CHECK(dck_queue_create(ctx, NULL, &q));

    /* one step of every particle, checked against the same step in C */
    static particles_Particle p[N], want[N];
    for (int i = 0; i < N; i++) {
        memset(&p[i], 0, sizeof p[i]);
        p[i].pos.x = (float)i;
        p[i].vel.y = 1.0f + (float)(i % 7);
        p[i].mass = 1.0f;
        p[i].id = (uint32_t)i;
    }
    memcpy(want, p, sizeof p);
    const float dt = 0.125f;
    dck_float3 g;
    memset(&g, 0, sizeof g);
    g.y = -9.75f;
    for (int i = 0; i < N; i++) {
        particles_Particle *w = &want[i];
        w->vel.x += (g.x - w->vel.x * 0.5f) * dt; /* DAMPING=0.5 from CMakeLists.txt */
        w->vel.y += (g.y - w->vel.y * 0.5f) * dt;
        w->vel.z += (g.z - w->vel.z * 0.5f) * dt;
        w->pos.x += w->vel.x * dt;
        w->pos.y += w->vel.y * dt;
        w->pos.z += w->vel.z * dt;
    }
    dck_buffer bp;
    CHECK(dck_buffer_create_bytes(ctx, sizeof p, (uint32_t)sizeof p[0], &bp));
    CHECK(dck_buffer_write(bp, 0, sizeof p, p));
    dck_range r = {1, {N, 1, 1}, {0, 0, 0}};
    CHECK(particles_advance(particles, q, r, dt, g, bp));
    CHECK(dck_queue_finish(q));
    CHECK(dck_buffer_read(bp, 0, sizeof p, p));
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += !close_to(p[i].pos.x, want[i].pos.x) || !close_to(p[i].pos.y, want[i].pos.y) ||
               !close_to(p[i].vel.y, want[i].vel.y) || p[i].id != (uint32_t)i;

    /* a pipeline: y = a * (a * x) */
    static float x[N], y[N];
    for (int i = 0; i < N; i++) x[i] = (float)i * 0.5f;
    dck_buffer bx, by;
    CHECK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &bx));
    CHECK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &by));
    CHECK(dck_buffer_write(bx, 0, sizeof x, x));
    CHECK(scale_scale_twice(scale, q, 3.0f, bx, by));
    CHECK(dck_queue_finish(q));
    CHECK(dck_buffer_read(by, 0, sizeof y, y));
    for (int i = 0; i < N; i++) bad += !close_to(y[i], 9.0f * x[i]);

    printf("consumer: %d particles and a %d-element pipeline: %s\n", N, N,
           bad ? "WRONG" : "correct");
    CHECK(dck_context_destroy(ctx)); /* releases the modules, buffers and queue */
    return bad != 0;
}
