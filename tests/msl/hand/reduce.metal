// Hand-written MSL in the style dckc --target=msl emits (the DCK GPU kernel ABI): buffers at
// [[buffer(0..nbuf-1)]] in .dck order, then the argument block.
// DCK: tests/exec/reduce.dck reduce
#include <metal_stdlib>
using namespace metal;

struct reduce_args {
    uint usum_len;
    uint fsum_len;
    uint x_len;
    uint global_size_x;
    uint global_size_y;
    uint global_size_z;
};

kernel void dck_k_reduce(device uint* usum [[buffer(0)]],
                   device float* fsum [[buffer(1)]],
                   device const uint* x [[buffer(2)]],
                   constant reduce_args& args [[buffer(3)]],
                   uint3 gid [[thread_position_in_grid]],
                   uint3 lid [[thread_position_in_threadgroup]])
{
    threadgroup uint partial[128];
    uint v = 0u;
    if (gid.x < args.x_len)
        v = x[gid.x];
    partial[lid.x] = v;
    threadgroup_barrier(mem_flags::mem_threadgroup | mem_flags::mem_device);
    for (uint s = 64u; s > 0u; s >>= 1) {
        if (lid.x < s)
            partial[lid.x] += partial[lid.x + s];
        threadgroup_barrier(mem_flags::mem_threadgroup | mem_flags::mem_device);
    }
    if (lid.x == 0u) {
        atomic_fetch_add_explicit((device atomic_uint*)&usum[0], partial[0], memory_order_relaxed);
        device atomic_uint* fa = (device atomic_uint*)&fsum[0];
        uint old = atomic_load_explicit(fa, memory_order_relaxed);
        while (true) {
            uint nv = as_type<uint>(as_type<float>(old) + (float)partial[0]);
            if (atomic_compare_exchange_weak_explicit(fa, &old, nv, memory_order_relaxed, memory_order_relaxed))
                break;
        }
    }
}
