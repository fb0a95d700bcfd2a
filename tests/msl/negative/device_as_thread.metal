// Must be REJECTED by the shim's address-space checking mode, as by Metal's compiler:
// a `device` pointer passed where a `thread` pointer is expected.
#include <metal_stdlib>
using namespace metal;

static inline void msl_bump_(thread float* p) { p[0] += 1.0f; }

kernel void bad(device float* y [[buffer(0)]], uint gid [[thread_position_in_grid]])
{
    msl_bump_(&y[gid]);
}
