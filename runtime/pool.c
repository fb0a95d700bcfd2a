/* pool.c: the context's memory pool for buffers and pipeline temporaries.
 *
 * Sizes are rounded to size classes (multiples of 64 up to 256 bytes, then four classes per
 * power of two, so at most 25% is wasted); freed blocks are kept on one free list per class
 * and served again to later allocations of the same class. The cache never holds more than
 * the peak of bytes in use, so a steady workload (a pipeline run in a loop) stops calling
 * the allocator after its first iteration, while a shrinking one gives memory back.
 * Each block carries a 64-byte header in front of the data (keeps the data 64-byte aligned).
 */
#include "rt.h"

#include <string.h>

#define NCLASSES 232

typedef struct PoolBlock {
    struct PoolBlock *next; /* free list link */
    uint64_t size;          /* class size of the data part */
    uint32_t cls;
} PoolBlock;

struct RtPool {
    dck_context ctx;
    pthread_mutex_t mu;
    PoolBlock *free_lists[NCLASSES];
    dck_pool_stats st;
};

_Static_assert(sizeof(PoolBlock) <= RT_ALIGN, "pool header must fit in the alignment padding");

static uint64_t class_of(uint64_t s, uint32_t *idx)
{
    if (s <= 256) {
        uint64_t r = s ? (s + 63) & ~63ull : 64;
        *idx = (uint32_t)(r / 64 - 1);
        return r;
    }
    unsigned lg = 63u - (unsigned)__builtin_clzll(s - 1); /* 2^lg <= s-1 < 2^(lg+1), lg >= 8 */
    uint64_t step = 1ull << (lg - 2);
    uint64_t r = (s + step - 1) & ~(step - 1); /* r / step in 5..8 */
    *idx = 4 + (lg - 8) * 4 + (uint32_t)(r / step - 5);
    return r;
}

dck_status rt_pool_create(dck_context ctx, RtPool **out)
{
    RtPool *p = rt_calloc(ctx, sizeof *p);
    if (!p) return rt_error(DCK_ERROR_OUT_OF_MEMORY, "out of memory creating the memory pool");
    p->ctx = ctx;
    pthread_mutex_init(&p->mu, NULL);
    *out = p;
    return DCK_SUCCESS;
}

static void release_cached(RtPool *p)
{
    for (int i = 0; i < NCLASSES; i++)
        while (p->free_lists[i]) {
            PoolBlock *b = p->free_lists[i];
            p->free_lists[i] = b->next;
            rt_free(p->ctx, b);
        }
    p->st.bytes_cached = 0;
}

void rt_pool_destroy(RtPool *p)
{
    if (!p) return;
    release_cached(p);
    pthread_mutex_destroy(&p->mu);
    rt_free(p->ctx, p);
}

void *rt_pool_get(RtPool *p, uint64_t size)
{
    uint32_t cls;
    if (size > UINT64_MAX / 2) return NULL;
    uint64_t cs = class_of(size, &cls);
    if (cs > SIZE_MAX - RT_ALIGN) return NULL;
    pthread_mutex_lock(&p->mu);
    PoolBlock *b = p->free_lists[cls];
    if (b) {
        p->free_lists[cls] = b->next;
        p->st.bytes_cached -= cs;
        p->st.allocations_from_pool++;
    } else {
        pthread_mutex_unlock(&p->mu);
        b = rt_alloc_aligned(p->ctx, (size_t)(cs + RT_ALIGN), RT_ALIGN);
        if (!b) return NULL;
        b->size = cs;
        b->cls = cls;
        pthread_mutex_lock(&p->mu);
    }
    b->next = NULL;
    p->st.allocations++;
    p->st.bytes_in_use += cs;
    if (p->st.bytes_in_use > p->st.peak_bytes_in_use) p->st.peak_bytes_in_use = p->st.bytes_in_use;
    pthread_mutex_unlock(&p->mu);
    return (char *)b + RT_ALIGN;
}

void rt_pool_put(RtPool *p, void *ptr)
{
    if (!ptr) return;
    PoolBlock *b = (PoolBlock *)((char *)ptr - RT_ALIGN);
    pthread_mutex_lock(&p->mu);
    p->st.bytes_in_use -= b->size;
    p->st.frees++;
    if (p->st.bytes_cached + b->size <= p->st.peak_bytes_in_use) {
        b->next = p->free_lists[b->cls];
        p->free_lists[b->cls] = b;
        p->st.bytes_cached += b->size;
        b = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    if (b) rt_free(p->ctx, b);
}

void rt_pool_stats(RtPool *p, dck_pool_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    pthread_mutex_unlock(&p->mu);
}

void rt_pool_trim(RtPool *p)
{
    pthread_mutex_lock(&p->mu);
    release_cached(p);
    pthread_mutex_unlock(&p->mu);
}
