/* batch.c: batches of launches recorded once and replayed (dck.h), and the device's memory.
 *
 * A thin layer over the optional RtBackend hooks batch_* and mem_info: the CUDA backend
 * records through stream capture into a CUDA graph and replays it with one cuGraphLaunch;
 * backends without the hooks answer DCK_ERROR_UNSUPPORTED.
 */
#include "rt.h"

struct dck_batch_s {
    dck_context ctx;
    void *backend_batch;
};

static dck_status no_batches(dck_context ctx)
{
    return rt_error(DCK_ERROR_UNSUPPORTED,
                    "backend '%s' has no batches of launches (the CUDA backend has: CUDA graphs)",
                    ctx->backend->name);
}

dck_status dck_queue_begin_batch(dck_queue q)
{
    if (!q) return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_queue_begin_batch: NULL queue");
    if (!q->ctx->backend->batch_begin) return no_batches(q->ctx);
    return q->ctx->backend->batch_begin(q);
}

dck_status dck_queue_end_batch(dck_queue q, dck_batch *out)
{
    if (out) *out = NULL;
    if (!q || !out)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_queue_end_batch: NULL argument");
    if (!q->ctx->backend->batch_end) return no_batches(q->ctx);
    dck_batch b = rt_calloc(q->ctx, sizeof *b);
    if (!b) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory ending a batch");
    dck_status st = q->ctx->backend->batch_end(q, &b->backend_batch);
    if (st) {
        rt_free(q->ctx, b);
        return st;
    }
    b->ctx = q->ctx;
    *out = b;
    return DCK_SUCCESS;
}

dck_status dck_batch_launch(dck_queue q, dck_batch batch)
{
    if (!q || !batch)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_batch_launch: NULL argument");
    if (batch->ctx != q->ctx)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT,
                        "dck_batch_launch: the batch belongs to another context");
    uint64_t t0 = rt_now_ns();
    dck_status st = q->ctx->backend->batch_run(q, batch->backend_batch);
    if (!st) rt_trace(q->ctx, "launch", "batch", t0, rt_now_ns(), 0, NULL);
    return st;
}

dck_status dck_batch_destroy(dck_batch batch)
{
    if (!batch) return DCK_SUCCESS;
    dck_context ctx = batch->ctx;
    if (ctx->backend->batch_release) ctx->backend->batch_release(ctx, batch->backend_batch);
    rt_free(ctx, batch);
    return DCK_SUCCESS;
}

dck_status dck_context_get_memory_info(dck_context ctx, uint64_t *free_bytes, uint64_t *total_bytes)
{
    if (!ctx || !free_bytes || !total_bytes)
        return rt_error(DCK_ERROR_INVALID_ARGUMENT, "dck_context_get_memory_info: NULL argument");
    if (!ctx->backend->mem_info)
        return rt_error(DCK_ERROR_UNSUPPORTED,
                        "backend '%s' cannot report its free device memory "
                        "(dck_context_get_pool_stats has the runtime's own use)",
                        ctx->backend->name);
    return ctx->backend->mem_info(ctx, free_bytes, total_bytes);
}
