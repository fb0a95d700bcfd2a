/* test_rt_cputopo.c: where the CPU backend's threads go (runtime/cpu_topo.c). hwloc reports a
 * made-up machine under HWLOC_SYNTHETIC, so placements over several NUMA nodes are checked on
 * this machine of one; pinning to such a machine does nothing, and launches must give the same
 * results as unpinned ones. Skipped (77) when this libdckrt was built without hwloc or cannot
 * load it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_topo.h"
#include "dck.h"

static void need_hwloc(void)
{
    CpuPlacement p;
    char err[256];
    cr_assert(rt_cpu_place(1, &p, err, sizeof err), "%s", err);
    bool have = p.impl != NULL;
    char desc[64];
    snprintf(desc, sizeof desc, "%s", p.desc);
    rt_cpu_place_free(&p);
    if (!have) cr_skip_test("no hwloc: %s", desc);
}

static void place(const char *synthetic, const char *policy, uint32_t n, CpuPlacement *p)
{
    setenv("HWLOC_SYNTHETIC", synthetic, 1);
    setenv("DCK_CPU_BIND", policy, 1);
    need_hwloc();
    char err[256];
    cr_assert(rt_cpu_place(n, p, err, sizeof err), "%s", err);
}

Test(cputopo, cores_spread_over_two_nodes)
{
    CpuPlacement p;
    place("numa:2 core:2 pu:1", "cores", 4, &p);
    cr_expect_eq(p.nnodes, 2);
    cr_expect_eq(p.ncores, 4);
    uint32_t node[] = {0, 0, 1, 1};
    int32_t core[] = {-1, 0, 2, 3}; /* thread 0 is the caller's: never pinned */
    for (int t = 0; t < 4; t++) {
        cr_expect_eq(p.thread_node[t], node[t], "thread %d on node %u", t, p.thread_node[t]);
        cr_expect_eq(p.thread_core[t], core[t], "thread %d on core %d", t, p.thread_core[t]);
    }
    cr_expect(strstr(p.desc, "2 NUMA nodes, 4 cores, pinned to cores"), "%s", p.desc);
    rt_cpu_place_free(&p);
}

Test(cputopo, more_threads_than_cores_share_them)
{
    CpuPlacement p;
    place("numa:2 core:1 pu:1", "cores", 6, &p);
    cr_expect_eq(p.nnodes, 2);
    for (int t = 1; t < 6; t++) {
        cr_expect_eq(p.thread_core[t], (int32_t)p.thread_node[t], "thread %d: core %d, node %u", t,
                     p.thread_core[t], p.thread_node[t]);
    }
    rt_cpu_place_free(&p);
}

Test(cputopo, numa_policy_and_none)
{
    CpuPlacement p;
    place("numa:4 core:2 pu:2", "numa", 8, &p);
    cr_expect_eq(p.nnodes, 4);
    for (int t = 0; t < 8; t++) cr_expect_eq(p.thread_node[t], (uint32_t)t / 2);
    cr_expect(strstr(p.desc, "4 NUMA nodes, 8 cores, pinned to nodes"), "%s", p.desc);
    rt_cpu_place_free(&p);
    place("numa:4 core:2 pu:2", "none", 8, &p);
    cr_expect_eq(p.nnodes, 1, "unpinned threads: one range of groups");
    for (int t = 0; t < 8; t++) cr_expect_eq(p.thread_core[t], -1);
    cr_expect(strstr(p.desc, "threads unpinned"), "%s", p.desc);
    rt_cpu_place_free(&p);
}

Test(cputopo, bad_policy_is_refused)
{
    setenv("DCK_CPU_BIND", "everywhere", 1);
    dck_context_desc d = {0};
    d.backend = DCK_BACKEND_CPU;
    dck_context ctx;
    cr_expect_eq(dck_context_create(&d, &ctx), DCK_ERROR_INVALID_ARGUMENT);
    cr_expect(strstr(dck_last_error(), "DCK_CPU_BIND='everywhere'"), "%s", dck_last_error());
}

/* A launch over two made-up nodes, 4 threads pinned by policy: every element written once,
 * the same as one thread. */
Test(cputopo, launch_over_nodes_matches)
{
    setenv("HWLOC_SYNTHETIC", "numa:2 core:2 pu:1", 1);
    setenv("DCK_CPU_BIND", "cores", 1);
    need_hwloc();
    dck_context_desc d = {0};
    d.backend = DCK_BACKEND_CPU;
    d.num_threads = 4;
    dck_context ctx;
    cr_assert_eq(dck_context_create(&d, &ctx), DCK_SUCCESS, "%s", dck_last_error());
    dck_device dev;
    dck_device_info info;
    cr_assert_eq(dck_context_get_device(ctx, &dev), DCK_SUCCESS);
    cr_assert_eq(dck_device_get_info(dev, &info), DCK_SUCCESS);
    cr_expect(strstr(info.driver, "2 NUMA nodes"), "driver: %s", info.driver);
    dck_module m;
    cr_assert_eq(dck_module_create_from_source(
                     ctx, "k.dck",
                     "kernel void k(uint[] y) { uint i = global_id(0); if (i < len(y)) "
                     "atomic_add(y[i], i + 1u); }",
                     NULL, &m),
                 DCK_SUCCESS, "%s", dck_last_error());
    dck_kernel k;
    cr_assert_eq(dck_module_get_kernel(m, "k", &k), DCK_SUCCESS);
    enum { N = 100003 };
    dck_buffer y;
    cr_assert_eq(dck_buffer_create_elems(ctx, DCK_TYPE_U32, N, &y), DCK_SUCCESS);
    static uint32_t host[N];
    memset(host, 0, sizeof host);
    cr_assert_eq(dck_buffer_write(y, 0, sizeof host, host), DCK_SUCCESS);
    dck_queue q;
    cr_assert_eq(dck_queue_create(ctx, NULL, &q), DCK_SUCCESS);
    dck_arg a = dck_arg_buffer(y);
    for (uint32_t local = 1; local <= 64; local *= 4) {
        dck_range r = {1, {N, 1, 1}, {local, 1, 1}};
        cr_assert_eq(dck_launch(q, k, &r, 1, &a, NULL), DCK_SUCCESS, "%s", dck_last_error());
    }
    cr_assert_eq(dck_buffer_read(y, 0, sizeof host, host), DCK_SUCCESS);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < N; i++) bad += host[i] != 4 * (i + 1);
    cr_expect_eq(bad, 0, "%u elements not written exactly once per launch", bad);
    dck_context_destroy(ctx);
}
