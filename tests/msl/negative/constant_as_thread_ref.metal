// Must be REJECTED by the shim's address-space checking mode, as by Metal's compiler:
// a `constant` argument bound to a `thread` reference parameter.
#include <metal_stdlib>
using namespace metal;

struct bad_args {
    float a;
    uint global_size_x, global_size_y, global_size_z;
};

static inline float msl_twice_(thread const float& x) { return 2.0f * x; }

kernel void bad(device float* y [[buffer(0)]], constant bad_args& args [[buffer(1)]],
                uint gid [[thread_position_in_grid]])
{
    y[gid] = msl_twice_(args.a);
}
