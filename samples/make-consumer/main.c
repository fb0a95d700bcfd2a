/* main.c: the Makefile consumer sample (docs/build.md): typed calls into blur.dck and
 * count.dck, whose CPU code and package are compiled into this program. */
#include <dck.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "blur.h"
#include "count.h"

#define CHECK(call)                                                                 \
    do {                                                                            \
        dck_status st_ = (call);                                                    \
        if (st_ != DCK_SUCCESS) {                                                   \
            fprintf(stderr, "%s failed: %s\n  %s\n", #call, dck_status_string(st_), \
                    dck_last_error());                                              \
            return 1;                                                               \
        }                                                                           \
    } while (0)

enum { N = 4096 };

int main(void)
{
    dck_context_desc cd;
    memset(&cd, 0, sizeof cd);
    cd.backend = DCK_BACKEND_CPU; /* built with --target=c */
    dck_context ctx;
    CHECK(dck_context_create(&cd, &ctx));
    dck_module blur, count;
    CHECK(dck_load_blur(ctx, &blur));
    CHECK(dck_load_count(ctx, &count));
    dck_queue q;
    CHECK(dck_queue_create(ctx, NULL, &q));

    static float x[N], y[N];
    static uint32_t data[N];
    uint32_t below = 0, got = 0;
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i % 17);
        data[i] = (uint32_t)(i * 7919) % 1000;
        below += data[i] < 250;
    }
    dck_buffer bx, by, bd, bc;
    CHECK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &bx));
    CHECK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &by));
    CHECK(dck_buffer_create_elems(ctx, DCK_TYPE_U32, N, &bd));
    CHECK(dck_buffer_create_elems(ctx, DCK_TYPE_U32, 1, &bc));
    CHECK(dck_buffer_write(bx, 0, sizeof x, x));
    CHECK(dck_buffer_write(bd, 0, sizeof data, data));
    CHECK(dck_buffer_write(bc, 0, sizeof got, &got));
    dck_range r = {1, {N, 1, 1}, {0, 0, 0}};
    CHECK(blur_blur(blur, q, r, bx, by));
    CHECK(count_count_below(count, q, r, 250u, bd, bc));
    CHECK(dck_queue_finish(q));
    CHECK(dck_buffer_read(by, 0, sizeof y, y));
    CHECK(dck_buffer_read(bc, 0, sizeof got, &got));
    int bad = got != below;
    for (int i = 0; i < N; i++) {
        int l = i > 0 ? i - 1 : 0, rr = i + 1 < N ? i + 1 : N - 1;
        bad += fabsf(y[i] - (0.25f * x[l] + 0.5f * x[i] + 0.25f * x[rr])) > 1e-5f;
    }
    printf("make consumer: blur of %d and count %u/%u: %s\n", N, got, below,
           bad ? "WRONG" : "correct");
    CHECK(dck_context_destroy(ctx));
    return bad != 0;
}
