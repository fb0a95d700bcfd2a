/* saxpy_host.c: a complete host program for samples/saxpy.dck through the C runtime API.
 *
 *   cc saxpy_host.c -I<prefix>/include -L<prefix>/lib -ldckrt -o saxpy_host
 *   ./saxpy_host path/to/saxpy.dck
 *
 * It compiles the kernel for the CPU at load time (cached on disk), fills two buffers,
 * launches y = a*x + y over n work-items, reads y back and checks it. Every call returns a
 * dck_status; dck_last_error() says what went wrong, with the kernel and argument named.
 */
#include <dck.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK(call)                                                                 \
    do {                                                                            \
        dck_status st_ = (call);                                                    \
        if (st_ != DCK_SUCCESS) {                                                   \
            fprintf(stderr, "%s failed: %s\n  %s\n", #call, dck_status_string(st_), \
                    dck_last_error());                                              \
            return 1;                                                               \
        }                                                                           \
    } while (0)

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "samples/saxpy.dck";
    enum { N = 100000 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = (float)i;
        y[i] = 1.0f;
    }

    dck_context ctx;
    CHECK(dck_context_create(NULL, &ctx)); /* the best device present: here the CPU */
    dck_device_info info;
    dck_device dev;
    CHECK(dck_context_get_device(ctx, &dev));
    CHECK(dck_device_get_info(dev, &info));
    printf("device: %s (%s)\n", info.name, info.backend_name);

    dck_module mod;
    CHECK(dck_module_create_from_source(ctx, path, NULL, NULL, &mod));
    dck_kernel saxpy;
    CHECK(dck_module_get_kernel(mod, "saxpy", &saxpy));

    dck_buffer bx, by;
    CHECK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &bx));
    CHECK(dck_buffer_create_elems(ctx, DCK_TYPE_F32, N, &by));
    CHECK(dck_buffer_write(bx, 0, sizeof x, x));
    CHECK(dck_buffer_write(by, 0, sizeof y, y));

    dck_queue q;
    CHECK(dck_queue_create(ctx, NULL, &q));
    dck_arg args[] = {dck_arg_f32(2.0f), dck_arg_buffer(bx), dck_arg_buffer(by)};
    dck_range range = {1, {N, 1, 1}, {0, 0, 0}}; /* local size 0: the runtime chooses */
    dck_event ev;
    CHECK(dck_launch(q, saxpy, &range, 3, args, &ev));
    CHECK(dck_event_wait(ev));
    uint64_t ns = 0;
    CHECK(dck_event_elapsed_ns(ev, &ns));
    CHECK(dck_buffer_read(by, 0, sizeof y, y));

    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += fabsf(y[i] - (2.0f * (float)i + 1.0f)) > 1e-3f * (float)(i + 1);
    printf("saxpy over %d elements: %s (%.1f us)\n", N, bad ? "WRONG" : "correct",
           (double)ns / 1e3);

    dck_event_destroy(ev);
    dck_queue_destroy(q);
    dck_buffer_destroy(bx);
    dck_buffer_destroy(by);
    dck_module_destroy(mod);
    dck_context_destroy(ctx);
    return bad != 0;
}
