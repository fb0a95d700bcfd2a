// Hand-written MSL: the simd_* exchanges of the shim at its default width (4 lanes), with
// threadgroup memory and a barrier. simd.dck computes the same without subgroup operations.
// DCK: tests/msl/hand/simd.dck simd
#include <metal_stdlib>
using namespace metal;

struct simd_args {
    uint x_len;
    uint y_len;
    uint global_size_x;
    uint global_size_y;
    uint global_size_z;
};

kernel void dck_k_simd(device const float* x [[buffer(0)]],
                 device float* y [[buffer(1)]],
                 constant simd_args& args [[buffer(2)]],
                 uint gid [[thread_position_in_grid]],
                 uint lidx [[thread_index_in_threadgroup]],
                 uint lane [[thread_index_in_simdgroup]],
                 uint width [[threads_per_simdgroup]],
                 uint sg [[simdgroup_index_in_threadgroup]],
                 uint3 tg [[threadgroup_position_in_grid]])
{
    threadgroup float t[64];
    float v = x[gid];
    float s = simd_sum(v);
    float mx = simd_max(v);
    float sh = simd_shuffle(v, (ushort)(lane ^ 1u));
    float bc = simd_broadcast(v, (ushort)2);
    float pre = simd_prefix_exclusive_sum(v);
    t[lidx] = v;
    threadgroup_barrier(mem_flags::mem_threadgroup);
    float nb = t[63u - lidx];
    uint o = gid * 8u;
    y[o + 0u] = s;
    y[o + 1u] = mx;
    y[o + 2u] = sh;
    y[o + 3u] = bc;
    y[o + 4u] = pre;
    y[o + 5u] = (float)width;
    y[o + 6u] = (float)sg + (float)tg.x * 100.0f;
    y[o + 7u] = nb;
}
