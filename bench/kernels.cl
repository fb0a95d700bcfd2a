// kernels.cl: the algorithms of kernels.dck in OpenCL C 1.2, run on PoCL by bench.c.
// Buffers' lengths are explicit parameters (what len() is in .dck).

__kernel void saxpy(float a, __global const float *restrict x, __global float *restrict y, uint n) {
    uint i = get_global_id(0);
    if (i < n) y[i] = a * x[i] + y[i];
}

__kernel void vadd(__global const float *restrict a, __global const float *restrict b, __global float *restrict c, uint n) {
    uint i = get_global_id(0);
    if (i < n) c[i] = a[i] + b[i];
}

#define RB 256
__kernel __attribute__((reqd_work_group_size(RB, 1, 1)))
void reduce(__global const float *restrict x, uint n, __global float *restrict partial) {
    __local float s[RB];
    uint lid = get_local_id(0), gs = get_global_size(0);
    float acc = 0.0f;
    for (uint i = get_global_id(0); i < n; i += gs) acc += x[i];
    s[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint k = RB / 2; k > 0; k >>= 1) {
        if (lid < k) s[lid] += s[lid + k];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partial[get_group_id(0)] = s[0];
}

#define HB 256
__kernel __attribute__((reqd_work_group_size(HB, 1, 1)))
void histogram(__global const uint *restrict data, uint n, __global uint *restrict hist) {
    __local uint h[HB];
    uint lid = get_local_id(0);
    h[lid] = 0u;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint i = get_global_id(0); i < n; i += get_global_size(0)) atomic_add(&h[data[i] & 255u], 1u);
    barrier(CLK_LOCAL_MEM_FENCE);
    atomic_add(&hist[lid], h[lid]);
}

#define TT 16
__kernel __attribute__((reqd_work_group_size(TT, TT, 1)))
void transpose(uint w, uint h, __global const float *restrict src, __global float *restrict dst) {
    __local float tile[TT][TT + 1];
    uint x = get_global_id(0), y = get_global_id(1), lx = get_local_id(0), ly = get_local_id(1);
    if (x < w && y < h) tile[ly][lx] = src[y * w + x];
    barrier(CLK_LOCAL_MEM_FENCE);
    uint ox = get_group_id(1) * TT + lx, oy = get_group_id(0) * TT + ly;
    if (ox < h && oy < w) dst[oy * h + ox] = tile[lx][ly];
}

#define MT 16
__kernel __attribute__((reqd_work_group_size(MT, MT, 1)))
void sgemm(uint n, __global const float *restrict a, __global const float *restrict b, __global float *restrict c) {
    __local float ta[MT][MT];
    __local float tb[MT][MT];
    uint tx = get_local_id(0), ty = get_local_id(1), col = get_global_id(0), row = get_global_id(1);
    float acc = 0.0f;
    for (uint t = 0; t < n; t += MT) {
        ta[ty][tx] = a[row * n + t + tx];
        tb[ty][tx] = b[(t + ty) * n + col];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint k = 0; k < MT; k++) acc += ta[ty][k] * tb[k][tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    c[row * n + col] = acc;
}

__kernel void mandelbrot(uint w, uint h, uint max_iter, __global uint *restrict iters) {
    uint x = get_global_id(0), y = get_global_id(1);
    if (x >= w || y >= h) return;
    float cx = -2.0f + 3.0f * ((float)x + 0.5f) / (float)w;
    float cy = -1.2f + 2.4f * ((float)y + 0.5f) / (float)h;
    float zx = 0.0f, zy = 0.0f;
    uint n = 0;
    while (n < max_iter && zx * zx + zy * zy <= 4.0f) {
        float t = zx * zx - zy * zy + cx;
        zy = 2.0f * zx * zy + cy;
        zx = t;
        n++;
    }
    iters[y * w + x] = n;
}

__kernel void jacobi(uint w, uint h, __global const float *restrict src, __global float *restrict dst) {
    uint x = get_global_id(0), y = get_global_id(1);
    if (x >= w || y >= h) return;
    uint xl = x > 0 ? x - 1 : 0, xr = x + 1 < w ? x + 1 : w - 1;
    uint yu = y > 0 ? y - 1 : 0, yd = y + 1 < h ? y + 1 : h - 1;
    dst[y * w + x] = 0.25f * (src[y * w + xl] + src[y * w + xr] + src[yu * w + x] + src[yd * w + x]);
}

#define NB 128
__kernel __attribute__((reqd_work_group_size(NB, 1, 1)))
void nbody(__global const float4 *restrict pos, uint n, __global float4 *restrict acc) {
    __local float4 tile[NB];
    uint i = get_global_id(0), lid = get_local_id(0);
    float4 p = pos[i];
    float ax = 0.0f, ay = 0.0f, az = 0.0f;
    for (uint t = 0; t < n; t += NB) {
        tile[lid] = pos[t + lid];
        barrier(CLK_LOCAL_MEM_FENCE);
        for (uint j = 0; j < NB; j++) {
            float4 q = tile[j];
            float dx = q.x - p.x, dy = q.y - p.y, dz = q.z - p.z;
            float r2 = dx * dx + dy * dy + dz * dz + 0.01f;
            float inv = 1.0f / sqrt(r2);
            float s = q.w * inv * inv * inv;
            ax += dx * s;
            ay += dy * s;
            az += dz * s;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    acc[i] = (float4)(ax, ay, az, 0.0f);
}

#define SB 256
__kernel __attribute__((reqd_work_group_size(SB, 1, 1)))
void softmax(uint cols, __global const float *restrict x, __global float *restrict y) {
    __local float s[SB];
    uint row = get_group_id(0), lid = get_local_id(0), base = row * cols;
    float m = -3.0e38f;
    for (uint c = lid; c < cols; c += SB) m = fmax(m, x[base + c]);
    s[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint k = SB / 2; k > 0; k >>= 1) {
        if (lid < k) s[lid] = fmax(s[lid], s[lid + k]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    m = s[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    float sum = 0.0f;
    for (uint c = lid; c < cols; c += SB) sum += exp(x[base + c] - m);
    s[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint k = SB / 2; k > 0; k >>= 1) {
        if (lid < k) s[lid] += s[lid + k];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float inv = 1.0f / s[0];
    for (uint c = lid; c < cols; c += SB) y[base + c] = exp(x[base + c] - m) * inv;
}

// the pipeline, unfused (three kernels) and fused by hand (one)
__kernel void square(__global const float *restrict x, __global float *restrict y, uint n) {
    uint i = get_global_id(0);
    if (i < n) y[i] = x[i] * x[i];
}
__kernel void axpb(float a, float b, __global const float *restrict x, __global float *restrict y, uint n) {
    uint i = get_global_id(0);
    if (i < n) y[i] = a * x[i] + b;
}
__kernel void clamp01(__global const float *restrict x, __global float *restrict y, uint n) {
    uint i = get_global_id(0);
    if (i < n) y[i] = clamp(x[i], 0.0f, 1.0f);
}
__kernel void pipe3_fused(float a, float b, __global const float *restrict x, __global float *restrict y, uint n) {
    uint i = get_global_id(0);
    if (i < n) y[i] = clamp(a * (x[i] * x[i]) + b, 0.0f, 1.0f);
}
