// Hand-written MSL: a 2-D launch with uint2/ushort2 position attributes, packed_float3,
// half vectors and element conversions. misc.dck computes the same.
// DCK: tests/msl/hand/misc.dck misc
#include <metal_stdlib>
using namespace metal;

struct misc_args {
    uint w;
    uint x_len;
    uint y_len;
    uint global_size_x;
    uint global_size_y;
    uint global_size_z;
};

struct PackedP {
    packed_float3 pos;
    float m;
};
static_assert(sizeof(PackedP) == 16, "packed_float3 has no padding");

kernel void dck_k_misc(device const float4* x [[buffer(0)]],
                 device float* y [[buffer(1)]],
                 constant misc_args& args [[buffer(2)]],
                 uint2 gid [[thread_position_in_grid]],
                 ushort2 lid [[thread_position_in_threadgroup]],
                 uint2 tpg [[threads_per_threadgroup]])
{
    if (gid.x >= args.global_size_x || gid.y >= args.global_size_y)
        return;
    uint i = gid.y * args.w + gid.x;
    float4 v = x[i];
    PackedP pp;
    pp.pos = v.zyx;
    pp.m = v.w;
    float3 q = pp.pos;
    half4 hv = half4(v) * (half)2.0f;
    int4 iv = int4(v * 100.0f);
    uint o = i * 4u;
    y[o + 0u] = q.x + q.y * 2.0f + q.z * 3.0f + pp.m;
    y[o + 1u] = (float)(hv.x + hv.w);
    y[o + 2u] = (float)(iv.x + iv.y * iv.z - iv.w);
    y[o + 3u] = (float)lid.x * 10.0f + (float)lid.y + (float)(tpg.x * tpg.y) * 100.0f;
}
