/* cpu_topo.h: where the CPU backend's threads run (runtime/cpu_topo.c, docs/runtime.md).
 *
 * The topology comes from hwloc, loaded at run time (libhwloc.so.15): NUMA nodes and cores.
 * A policy ($DCK_CPU_BIND) places the pool's worker threads: `none` (the default: the
 * operating system places them), `cores` (each worker pinned to one core, workers spread over
 * the NUMA nodes in contiguous blocks) or `numa` (each worker pinned to the cores of its
 * node). The calling thread, which also runs work-groups, is the user's and is never pinned.
 * With several nodes a launch's work-groups are cut into one contiguous range per node, and
 * each worker takes groups of its own node's range first (then helps the others), so that
 * the memory a worker touches first is on its node. Without hwloc, or with one node, there is
 * one range and nothing is pinned.
 */
#ifndef DCK_CPU_TOPO_H
#define DCK_CPU_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum CpuBind { CPU_BIND_NONE = 0, CPU_BIND_CORES, CPU_BIND_NUMA } CpuBind;

typedef struct CpuPlacement {
    CpuBind policy;
    uint32_t nnodes;       /* NUMA nodes the workers are spread over (1: no NUMA) */
    uint32_t ncores;       /* cores hwloc found (0: no hwloc) */
    uint32_t nthreads;     /* threads placed, the calling thread (index 0) included */
    uint32_t *thread_node; /* per thread: its node (the calling thread: 0) */
    int32_t *thread_core;  /* per thread: the core index it is pinned to, -1: none */
    char desc[64];         /* one short line: what was found and done (the device's driver) */
    void *impl;            /* hwloc topology and cpusets (NULL without hwloc) */
} CpuPlacement;

/* Computes the placement of nthreads threads by the policy $DCK_CPU_BIND names (or `bind`
 * when the variable is unset). Returns false with a message in `err` for a bad policy
 * name; a missing hwloc is not an error (one node, nothing pinned, said in desc). */
bool rt_cpu_place(uint32_t nthreads, CpuPlacement *out, char *err, size_t errlen);

/* Pins the calling thread as thread `index` of the placement (no-op when unpinned). Returns
 * false when the operating system refused (the thread then runs unpinned). */
bool rt_cpu_bind_self(const CpuPlacement *p, uint32_t index);

void rt_cpu_place_free(CpuPlacement *p);

#endif
