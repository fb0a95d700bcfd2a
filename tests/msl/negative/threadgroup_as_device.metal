// Must be REJECTED by the shim's address-space checking mode, as by Metal's compiler:
// a pointer to `threadgroup` memory passed where a `device` pointer is expected.
#include <metal_stdlib>
using namespace metal;

static inline void msl_store_(device float* p, float v) { p[0] = v; }

kernel void bad(device float* y [[buffer(0)]], uint lid [[thread_index_in_threadgroup]])
{
    threadgroup float tile[64];
    tile[lid] = y[lid];
    msl_store_(&tile[lid], 1.0f);
}
