// Hand-written MSL exercising the shim's vectors, swizzles, math, structs and simd functions.
// DCK: tests/msl/hand/vectors.dck vectors
#include <metal_stdlib>
using namespace metal;

struct P {
    float3 pos;
    float m;
};
static_assert(sizeof(P) == 32, "P: C layout");

struct vectors_args {
    float3 ppos;
    float pm;
    uint v_len;
    uint a_len;
    uint global_size_x;
    uint global_size_y;
    uint global_size_z;
};

static inline float msl_helper_(thread float4& v, float s) { v.yz += float2(s, 2.0f * s); return v.x; }

kernel void dck_k_vectors(device const float4* v [[buffer(0)]],
                    device float4* a [[buffer(1)]],
                    constant vectors_args& args [[buffer(2)]],
                    uint gid [[thread_position_in_grid]],
                    uint lane [[thread_index_in_simdgroup]],
                    uint width [[threads_per_simdgroup]])
{
    if (gid >= args.global_size_x) return;
    float4 x = v[gid];
    float4 r = x.wzyx;
    r.xy = x.zw * 2.0f;
    r.w = x.x + x.y;
    float3 t = x.xxy;
    float4 q = float4(t, x.w + t.z);
    q.zw = x.wz + q.xy;
    float h = msl_helper_(q, 1.0f);
    P p; p.pos = args.ppos; p.m = args.pm;
    int4 iv = int4((int)gid, -1, 2, 7);
    uint4 uv = static_cast<uint4>(iv << int4(1));
    bool4 gt = iv > int4(1);
    float4 fv = select(float4(0.0f), float4(1.0f), gt);
    float s = simd_sum(1.0f) + (float)width + (float)simd_broadcast(lane, (ushort)0);
    half hh = (half)1.5f; hh = hh * (half)2.0f;
    float4 e = sqrt(abs(x)) + sin(x) * clamp(x, 0.2f, 0.8f) + mix(x, x.wzyx, 0.25f) + floor(x * 4.0f);
    a[gid] = r + q + fv + float4(h, dot(p.pos, float3(1.0f)) + p.m, (float)(uv.y >> 28u), s + (float)hh) + e
           + float4(length(x.xyz), cross(p.pos, t).y, (float)popcount(uv.x), (float)clz(uv.x));
}
