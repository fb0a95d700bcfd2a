/* cpu_topo.c: the CPU's NUMA nodes and cores through hwloc, and where the CPU backend's
 * worker threads run (cpu_topo.h). hwloc is loaded at run time, like the GPU drivers, so
 * libdckrt runs on a machine without it (one node, nothing pinned); its header is needed at
 * build time only (DCK_HAVE_HWLOC). HWLOC_SYNTHETIC and HWLOC_XMLFILE make hwloc report a
 * made-up machine, which is how the tests check placements of several nodes on a machine of
 * one; pinning to such a machine's cores does nothing (hwloc knows it is not this system).
 */
#include "cpu_topo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef DCK_HAVE_HWLOC
#include <dlfcn.h>
#include <hwloc.h>
#include <pthread.h>

/* ---- the dlopen'ed API ---- */
// clang-format off
#define HW_FUNCS(X) \
    X(hwloc_get_api_version) X(hwloc_topology_init) X(hwloc_topology_load) \
    X(hwloc_topology_destroy) X(hwloc_get_type_depth) X(hwloc_get_nbobjs_by_depth) \
    X(hwloc_get_obj_by_depth) X(hwloc_set_cpubind) X(hwloc_bitmap_isincluded) \
    X(hwloc_bitmap_intersects) X(hwloc_bitmap_weight)
// clang-format on

static struct {
#define X(f) __typeof__(&f) f;
    HW_FUNCS(X)
#undef X
} hw;
static char hw_error[160];
static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

static void hw_load(void)
{
    void *lib = dlopen("libhwloc.so.15", RTLD_NOW | RTLD_LOCAL);
    if (!lib) lib = dlopen("libhwloc.so", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(hw_error, sizeof hw_error, "no libhwloc.so.15");
        return;
    }
#define X(f)                                                                \
    if (!(*(void **)&hw.f = dlsym(lib, #f))) {                              \
        snprintf(hw_error, sizeof hw_error, "libhwloc.so.15 lacks %s", #f); \
        return;                                                             \
    }
    HW_FUNCS(X)
#undef X
    unsigned v = hw.hwloc_get_api_version();
    if (v >> 16 != HWLOC_API_VERSION >> 16)
        snprintf(hw_error, sizeof hw_error, "hwloc API %x.%x, built for %x.%x", v >> 16,
                 (v >> 8) & 0xff, HWLOC_API_VERSION >> 16, (HWLOC_API_VERSION >> 8) & 0xff);
}

typedef struct HwPlace {
    hwloc_topology_t topo;
    hwloc_const_cpuset_t *thread_set; /* per thread: what it is pinned to, NULL: nothing */
} HwPlace;
#endif

static bool parse_policy(CpuBind *out, char *err, size_t errlen)
{
    const char *e = getenv("DCK_CPU_BIND");
    if (!e || !*e || strcmp(e, "none") == 0)
        *out = CPU_BIND_NONE;
    else if (strcmp(e, "cores") == 0)
        *out = CPU_BIND_CORES;
    else if (strcmp(e, "numa") == 0)
        *out = CPU_BIND_NUMA;
    else {
        snprintf(err, errlen, "DCK_CPU_BIND='%s': expected none, cores or numa", e);
        return false;
    }
    return true;
}

bool rt_cpu_place(uint32_t nthreads, CpuPlacement *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!parse_policy(&out->policy, err, errlen)) return false;
    out->nnodes = 1;
    out->nthreads = nthreads;
    out->thread_node = calloc(nthreads ? nthreads : 1, sizeof *out->thread_node);
    out->thread_core = malloc((nthreads ? nthreads : 1) * sizeof *out->thread_core);
    if (!out->thread_node || !out->thread_core) {
        snprintf(err, errlen, "out of memory placing %u threads", nthreads);
        rt_cpu_place_free(out);
        return false;
    }
    for (uint32_t t = 0; t < nthreads; t++) out->thread_core[t] = -1;
#ifndef DCK_HAVE_HWLOC
    snprintf(out->desc, sizeof out->desc, "threads unpinned (built without hwloc)");
    return true;
#else
    pthread_once(&hw_once, hw_load);
    if (hw_error[0]) {
        snprintf(out->desc, sizeof out->desc, "threads unpinned (%.44s)", hw_error);
        return true;
    }
    HwPlace *hp = calloc(1, sizeof *hp);
    if (!hp || !(hp->thread_set = calloc(nthreads ? nthreads : 1, sizeof *hp->thread_set)) ||
        hw.hwloc_topology_init(&hp->topo) != 0) {
        if (hp) free(hp->thread_set);
        free(hp);
        snprintf(out->desc, sizeof out->desc, "threads unpinned (hwloc could not start)");
        return true;
    }
    if (hw.hwloc_topology_load(hp->topo) != 0) {
        hw.hwloc_topology_destroy(hp->topo);
        free(hp->thread_set);
        free(hp);
        snprintf(out->desc, sizeof out->desc,
                 "threads unpinned (hwloc could not read the topology)");
        return true;
    }
    out->impl = hp;
    int cdepth = hw.hwloc_get_type_depth(hp->topo, HWLOC_OBJ_CORE);
    if (cdepth < 0) cdepth = hw.hwloc_get_type_depth(hp->topo, HWLOC_OBJ_PU);
    unsigned ncores = cdepth < 0 ? 0 : hw.hwloc_get_nbobjs_by_depth(hp->topo, cdepth);
    unsigned nnuma = hw.hwloc_get_nbobjs_by_depth(hp->topo, HWLOC_TYPE_DEPTH_NUMANODE);
    out->ncores = ncores;
    /* the cores of each node, in hwloc's logical order */
    unsigned nodes = nnuma ? nnuma : 1;
    unsigned *node_of_core = calloc(ncores ? ncores : 1, sizeof *node_of_core);
    unsigned *cores_in = calloc(nodes, sizeof *cores_in);
    if (!node_of_core || !cores_in) {
        free(node_of_core);
        free(cores_in);
        snprintf(out->desc, sizeof out->desc, "threads unpinned (out of memory)");
        return true;
    }
    for (unsigned c = 0; c < ncores; c++) {
        hwloc_obj_t core = hw.hwloc_get_obj_by_depth(hp->topo, cdepth, c);
        for (unsigned n = 0; n < nnuma; n++) {
            hwloc_obj_t node = hw.hwloc_get_obj_by_depth(hp->topo, HWLOC_TYPE_DEPTH_NUMANODE, n);
            if (core && node && hw.hwloc_bitmap_intersects(core->cpuset, node->cpuset)) {
                node_of_core[c] = n;
                break;
            }
        }
        cores_in[node_of_core[c]]++;
    }
    /* nodes that have cores; threads go to them in contiguous blocks, the calling thread
       (index 0) counted in the first block */
    unsigned used = 0;
    for (unsigned n = 0; n < nodes; n++) used += cores_in[n] > 0;
    if (!used) used = 1;
    if (out->policy != CPU_BIND_NONE && ncores) {
        out->nnodes = used < nthreads ? used : (nthreads ? nthreads : 1);
        unsigned *taken = calloc(nodes, sizeof *taken);
        for (uint32_t t = 0; taken && t < nthreads; t++) {
            uint32_t block = (uint32_t)((uint64_t)t * out->nnodes / nthreads);
            /* the block-th node that has cores */
            unsigned node = 0;
            for (unsigned n = 0, seen = 0; n < nodes; n++)
                if (cores_in[n] && seen++ == block) {
                    node = n;
                    break;
                }
            out->thread_node[t] = block;
            if (t == 0) continue; /* the caller's thread is the user's: never pinned */
            unsigned want = taken[node]++ % cores_in[node], k = 0;
            for (unsigned c = 0; c < ncores; c++)
                if (node_of_core[c] == node && k++ == want) {
                    out->thread_core[t] = (int32_t)c;
                    hwloc_obj_t o =
                        out->policy == CPU_BIND_CORES
                            ? hw.hwloc_get_obj_by_depth(hp->topo, cdepth, c)
                            : hw.hwloc_get_obj_by_depth(hp->topo, HWLOC_TYPE_DEPTH_NUMANODE, node);
                    hp->thread_set[t] = o ? o->cpuset : NULL;
                    break;
                }
        }
        free(taken);
    }
    snprintf(out->desc, sizeof out->desc, "hwloc: %u NUMA node%s, %u cores, %s", nodes,
             nodes == 1 ? "" : "s", ncores,
             out->policy == CPU_BIND_NONE    ? "threads unpinned"
             : out->policy == CPU_BIND_CORES ? "pinned to cores"
                                             : "pinned to nodes");
    free(node_of_core);
    free(cores_in);
    return true;
#endif
}

bool rt_cpu_bind_self(const CpuPlacement *p, uint32_t index)
{
#ifdef DCK_HAVE_HWLOC
    const HwPlace *hp = p->impl;
    if (!hp || index >= p->nthreads || !hp->thread_set[index]) return true;
    return hw.hwloc_set_cpubind(hp->topo, hp->thread_set[index], HWLOC_CPUBIND_THREAD) == 0;
#else
    (void)p;
    (void)index;
    return true;
#endif
}

void rt_cpu_place_free(CpuPlacement *p)
{
#ifdef DCK_HAVE_HWLOC
    HwPlace *hp = p->impl;
    if (hp) {
        hw.hwloc_topology_destroy(hp->topo);
        free(hp->thread_set);
        free(hp);
    }
#endif
    free(p->thread_node);
    free(p->thread_core);
    memset(p, 0, sizeof *p);
}
