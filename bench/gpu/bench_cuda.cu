// bench_cuda.cu: the nvcc side of the GPU benchmark (bench/gpu/run.sh): the same algorithms
// as kernels.dck in CUDA C, compiled on the GPU machine with
//   nvcc -O3 -arch=sm_90 bench_cuda.cu -lcublas -lcuda
// plus the ceilings: cuBLAS sgemm (FP32, no TF32) and the device-to-device copy bandwidth, and
// the raw cost of cuLaunchKernel for an empty kernel. Output lines as bench_dck:
//   RESULT nvcc <benchmark> <median ms> <value> <unit>
#include <cublas_v2.h>
#include <cuda.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#define CK(x)                                                                                    \
    do {                                                                                         \
        cudaError_t e_ = (x);                                                                    \
        if (e_ != cudaSuccess) {                                                                 \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_));  \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

__global__ void saxpy(float a, const float *__restrict__ x, float *__restrict__ y, unsigned n)
{
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}

__global__ void vadd(const float *__restrict__ a, const float *__restrict__ b, float *__restrict__ c, unsigned n)
{
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

__global__ void reduce_sum(const float *__restrict__ x, float *__restrict__ out, unsigned n)
{
    __shared__ float part[8];
    unsigned stride = gridDim.x * blockDim.x;
    float s = 0.0f;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) s += x[i];
    for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x / 32] = s;
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < 8 ? part[threadIdx.x] : 0.0f;
        for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
        if (threadIdx.x == 0) atomicAdd(out, v);
    }
}

__global__ void reduce_sum4(const float4 *__restrict__ x, float *__restrict__ out, unsigned n)
{
    __shared__ float part[8];
    unsigned stride = gridDim.x * blockDim.x;
    float s0 = 0.0f, s1 = 0.0f;
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    for (; i + stride < n; i += 2 * stride) {
        float4 a = x[i], b = x[i + stride];
        s0 += (a.x + a.y) + (a.z + a.w);
        s1 += (b.x + b.y) + (b.z + b.w);
    }
    if (i < n) {
        float4 a = x[i];
        s0 += (a.x + a.y) + (a.z + a.w);
    }
    float s = s0 + s1;
    for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
    if ((threadIdx.x & 31) == 0) part[threadIdx.x / 32] = s;
    __syncthreads();
    if (threadIdx.x < 32) {
        float v = threadIdx.x < 8 ? part[threadIdx.x] : 0.0f;
        for (int o = 16; o > 0; o /= 2) v += __shfl_xor_sync(0xffffffffu, v, o);
        if (threadIdx.x == 0) atomicAdd(out, v);
    }
}

__global__ void transpose(const float *__restrict__ src, float *__restrict__ dst, unsigned n)
{
    __shared__ float tile[32][33];
    unsigned bx = blockIdx.x * 32, by = blockIdx.y * 32, tx = threadIdx.x, ty = threadIdx.y;
    for (unsigned j = 0; j < 32; j += 8) tile[ty + j][tx] = src[(by + ty + j) * n + bx + tx];
    __syncthreads();
    for (unsigned j = 0; j < 32; j += 8) dst[(bx + ty + j) * n + by + tx] = tile[tx][ty + j];
}

__global__ void sgemm(const float *__restrict__ a, const float *__restrict__ b, float *__restrict__ c, unsigned n)
{
    __shared__ float ta[16][16], tb[16][16];
    unsigned tx = threadIdx.x, ty = threadIdx.y;
    unsigned row = blockIdx.y * 16 + ty, col = blockIdx.x * 16 + tx;
    float acc = 0.0f;
    for (unsigned t = 0; t < n; t += 16) {
        ta[ty][tx] = a[row * n + t + tx];
        tb[ty][tx] = b[(t + ty) * n + col];
        __syncthreads();
        for (unsigned k = 0; k < 16; k++) acc += ta[ty][k] * tb[k][tx];
        __syncthreads();
    }
    c[row * n + col] = acc;
}

__global__ void mandelbrot(unsigned w, unsigned h, unsigned max_iter, unsigned *out)
{
    unsigned x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= h) return;
    float cr = -2.0f + 3.0f * (float)x / (float)w, ci = -1.5f + 3.0f * (float)y / (float)h;
    float zr = 0.0f, zi = 0.0f;
    unsigned i = 0;
    while (i < max_iter && zr * zr + zi * zi < 4.0f) {
        float t = zr * zr - zi * zi + cr;
        zi = 2.0f * zr * zi + ci;
        zr = t;
        i++;
    }
    out[y * w + x] = i;
}

__global__ void empty(unsigned *x) {}

static int repeats = 20;

template <typename F> static double time_ms(F launch)
{
    for (int i = 0; i < 3; i++) launch();
    CK(cudaDeviceSynchronize());
    std::vector<double> ms;
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    for (int i = 0; i < repeats; i++) {
        CK(cudaEventRecord(a));
        launch();
        CK(cudaEventRecord(b));
        CK(cudaEventSynchronize(b));
        float t;
        CK(cudaEventElapsedTime(&t, a, b));
        ms.push_back(t);
    }
    CK(cudaGetLastError());
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

int main(int argc, char **argv)
{
    if (argc > 1) repeats = atoi(argv[1]) > 0 ? atoi(argv[1]) : 20;
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("device: %s, %d SMs, sm_%d%d\n", prop.name, prop.multiProcessorCount, prop.major, prop.minor);
    const unsigned N = 1u << 26;
    std::vector<float> hx(N), hy(N);
    unsigned seed = 1;
    for (auto &v : hx) seed = seed * 1664525u + 1013904223u, v = (float)(seed >> 8) / 16777216.0f;
    for (auto &v : hy) seed = seed * 1664525u + 1013904223u, v = (float)(seed >> 8) / 16777216.0f;
    float *x, *y, *z, *out;
    CK(cudaMalloc(&x, 4ull * N));
    CK(cudaMalloc(&y, 4ull * N));
    CK(cudaMalloc(&z, 4ull * N));
    CK(cudaMalloc(&out, 4));
    CK(cudaMemcpy(x, hx.data(), 4ull * N, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(y, hy.data(), 4ull * N, cudaMemcpyHostToDevice));

    double ms = time_ms([&] { saxpy<<<N / 256, 256>>>(2.0f, x, y, N); });
    printf("RESULT nvcc saxpy_64M %.4f %.1f GB/s\n", ms, 12.0 * N / (ms * 1e-3) / 1e9);
    ms = time_ms([&] { vadd<<<N / 256, 256>>>(x, y, z, N); });
    printf("RESULT nvcc vadd_64M %.4f %.1f GB/s\n", ms, 12.0 * N / (ms * 1e-3) / 1e9);
    ms = time_ms([&] { reduce_sum<<<prop.multiProcessorCount * 8, 256>>>(x, out, N); });
    printf("RESULT nvcc reduce_64M %.4f %.1f GB/s\n", ms, 4.0 * N / (ms * 1e-3) / 1e9);
    ms = time_ms([&] { reduce_sum4<<<prop.multiProcessorCount * 8, 256>>>((const float4 *)x, out, N / 4); });
    printf("RESULT nvcc reduce4_64M %.4f %.1f GB/s\n", ms, 4.0 * N / (ms * 1e-3) / 1e9);
    {
        unsigned n = 8192;
        ms = time_ms([&] { transpose<<<dim3(n / 32, n / 32), dim3(32, 8)>>>(x, z, n); });
        printf("RESULT nvcc transpose_8192 %.4f %.1f GB/s\n", ms, 8.0 * n * (double)n / (ms * 1e-3) / 1e9);
    }
    {
        unsigned n = 4096;
        ms = time_ms([&] { sgemm<<<dim3(n / 16, n / 16), dim3(16, 16)>>>(x, y, z, n); });
        printf("RESULT nvcc sgemm_4096 %.4f %.2f TFLOP/s\n", ms, 2.0 * n * (double)n * n / (ms * 1e-3) / 1e12);
        cublasHandle_t h;
        cublasCreate(&h);
        cublasSetMathMode(h, CUBLAS_PEDANTIC_MATH); /* plain FP32, no TF32 */
        float one = 1.0f, zero = 0.0f;
        ms = time_ms([&] { cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, y, n, x, n, &zero, z, n); });
        printf("RESULT cublas sgemm_4096 %.4f %.2f TFLOP/s\n", ms, 2.0 * n * (double)n * n / (ms * 1e-3) / 1e12);
        cublasDestroy(h);
    }
    {
        unsigned w = 4096, hh = 4096, it = 256;
        unsigned *o;
        CK(cudaMalloc(&o, 4ull * w * hh));
        ms = time_ms([&] { mandelbrot<<<dim3(w / 16, hh / 16), dim3(16, 16)>>>(w, hh, it, o); });
        printf("RESULT nvcc mandelbrot_4096 %.4f %.1f Mpixel/s\n", ms, (double)w * hh / (ms * 1e-3) / 1e6);
        CK(cudaFree(o));
    }
    /* the device copy: 256 MiB read and written */
    ms = time_ms([&] { CK(cudaMemcpyAsync(z, x, 4ull * N, cudaMemcpyDeviceToDevice)); });
    printf("RESULT copy device_copy %.4f %.1f GB/s\n", ms, 8.0 * N / (ms * 1e-3) / 1e9);

    /* raw cuLaunchKernel of an empty kernel */
    {
        CUfunction fn;
        CK(cudaGetFuncBySymbol((cudaFunction_t *)&fn, (const void *)empty));
        unsigned *d;
        CK(cudaMalloc(&d, 128));
        void *params[] = {&d};
        cudaStream_t s;
        CK(cudaStreamCreate(&s));
        const int L = 20000;
        for (int i = 0; i < 1000; i++) cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, (CUstream)s, params, nullptr);
        CK(cudaStreamSynchronize(s));
        auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < L; i++) cuLaunchKernel(fn, 1, 1, 1, 32, 1, 1, 0, (CUstream)s, params, nullptr);
        CK(cudaStreamSynchronize(s));
        double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / L;
        printf("RESULT raw launch_cuLaunchKernel %.4f %.3f us/launch\n", us * 1e-3, us);
        CK(cudaFree(d));
    }
    return 0;
}
