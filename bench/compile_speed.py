#!/usr/bin/env python3
"""compile_speed.py DCKC OUT.json: dckc wall time per target, against nvcc -ptx and clang-16's
OpenCL C -> SPIR, measured in the same run (bench/run.sh calls it).

Inputs: one small kernel (saxpy) and a generated file of 100 kernels (four shapes: elementwise
math, a loop with a branch, a 2-D stencil, a shared-memory reduction), plus the same saxpy
as CUDA (nvcc) and OpenCL C (clang). Each time is the median of REPS wall-clock runs of the
whole process, output written to a temporary directory. "per extra kernel" is
(t(100 kernels) - t(1 kernel)) / 99.
"""
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPS = 7

SAXPY = """kernel void saxpy(float a, const float[] x, float[] y) {
    uint i = global_id(0);
    if (i < len(y)) y[i] = a * x[i] + y[i];
}
"""

SHAPES = [
    """kernel void ew{k}(float a, const float[] x, float[] y) {{
    uint i = global_id(0);
    if (i < len(y)) y[i] = a * sqrt(abs(x[i])) + exp(-x[i] * {k}.0) * y[i];
}}
""",
    """kernel void loop{k}(uint n, const float[] x, float[] y) {{
    uint i = global_id(0);
    if (i >= len(y)) return;
    float s = 0.0;
    for (uint j = 0; j < n; j++) {{
        float v = x[(i + j) % len(x)];
        if (v > 0.5) s += v * {k}.0; else s -= v;
    }}
    y[i] = s;
}}
""",
    """kernel void sten{k}(uint w, uint h, const float[] src, float[] dst) {{
    uint x = global_id(0), y = global_id(1);
    if (x == 0 || y == 0 || x + 1 >= w || y + 1 >= h) return;
    dst[y * w + x] = 0.2 * (src[y * w + x] + src[y * w + x - 1] + src[y * w + x + 1] + src[(y - 1) * w + x] + src[(y + 1) * w + x]) + {k}.0;
}}
""",
    """[[workgroup(64)]]
kernel void red{k}(const float[] x, float[] out) {{
    shared float s[64];
    uint l = local_id(0), i = global_id(0);
    s[l] = i < len(x) ? x[i] * {k}.0 : 0.0;
    barrier();
    for (uint k = 32; k > 0; k >>= 1) {{
        if (l < k) s[l] += s[l + k];
        barrier();
    }}
    if (l == 0) out[group_id(0)] = s[0];
}}
""",
]

CUDA = """extern "C" __global__ void saxpy(float a, const float *x, float *y, unsigned n) {
    unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = a * x[i] + y[i];
}
"""

OPENCL = """__kernel void saxpy(float a, __global const float *x, __global float *y, uint n) {
    uint i = get_global_id(0);
    if (i < n) y[i] = a * x[i] + y[i];
}
"""


CPU = {}  # command -> median CPU time (user + sys of the child), ms


def timed(cmd, cwd):
    """Median wall time (ms) of REPS runs; the median CPU time goes to CPU[tuple(cmd)] (on a
    busy machine CPU time is the steadier measure)."""
    ts, cs = [], []
    for _ in range(REPS):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        ts.append((time.perf_counter() - t0) * 1e3)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cs.append((r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1e3)
        if r.returncode != 0:
            return None, r.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["failed"]
    CPU[tuple(cmd)] = statistics.median(cs)
    return statistics.median(ts), None


def main():
    dckc, out = os.path.abspath(sys.argv[1]), sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="dck-compile-speed-")
    try:
        with open(os.path.join(tmp, "one.dck"), "w") as f:
            f.write(SAXPY)
        with open(os.path.join(tmp, "hundred.dck"), "w") as f:
            for k in range(100):
                f.write(SHAPES[k % 4].format(k=k))
        with open(os.path.join(tmp, "saxpy.cu"), "w") as f:
            f.write(CUDA)
        with open(os.path.join(tmp, "saxpy.cl"), "w") as f:
            f.write(OPENCL)
        rows = []
        for target in ["c", "opencl", "msl", "spirv", "ptx"]:
            probe = subprocess.run([dckc, "--target=" + target, "-o", os.path.join(tmp, "probe.out"), "one.dck"],
                                   cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if probe.returncode != 0:
                rows.append({"tool": "dckc --target=" + target, "status": "n/a: " +
                             probe.stderr.decode(errors="replace").strip().splitlines()[0]})
                continue
            o = os.path.join(tmp, "o")
            c1 = [dckc, "--target=" + target, "-o", o, "one.dck"]
            c100 = [dckc, "--target=" + target, "-o", o, "hundred.dck"]
            one, e1 = timed(c1, tmp)
            hundred, e2 = timed(c100, tmp)
            row = {"tool": "dckc --target=" + target, "target": target, "one_ms": one, "hundred_ms": hundred,
                   "status": "ok" if one and hundred else "failed: " + " ".join(e1 or e2)}
            if one and hundred:
                row["per_extra_ms"] = (hundred - one) / 99
                row["one_cpu_ms"] = CPU[tuple(c1)]
                row["hundred_cpu_ms"] = CPU[tuple(c100)]
                row["per_extra_cpu_ms"] = (CPU[tuple(c100)] - CPU[tuple(c1)]) / 99
                row["goal_one_ms"] = 60 if target == "ptx" else 10
                row["goal_per_extra_ms"] = 2
            rows.append(row)
        nvcc = shutil.which("nvcc") or ("/usr/local/cuda/bin/nvcc" if os.path.exists("/usr/local/cuda/bin/nvcc") else None)
        if nvcc:
            cmd = [nvcc, "-ptx", "-arch=sm_80", "saxpy.cu", "-o", "saxpy.ptx"]
            t, e = timed(cmd, tmp)
            rows.append({"tool": "nvcc -ptx", "one_ms": t, "one_cpu_ms": CPU.get(tuple(cmd)),
                         "status": "ok" if t else "failed: " + " ".join(e)})
        else:
            rows.append({"tool": "nvcc -ptx", "status": "n/a: nvcc not found"})
        clang = shutil.which("clang-16")
        if clang:
            cmd = [clang, "-c", "-target", "spir64", "-emit-llvm", "-cl-std=CL1.2", "-x", "cl", "saxpy.cl", "-o",
                   "saxpy.bc"]
            t, e = timed(cmd, tmp)
            rows.append({"tool": "clang-16 OpenCL C -> SPIR", "one_ms": t, "one_cpu_ms": CPU.get(tuple(cmd)),
                         "status": "ok" if t else "failed: " + " ".join(e)})
        else:
            rows.append({"tool": "clang-16 OpenCL C -> SPIR", "status": "n/a: clang-16 not found"})
        for r in rows:
            if r.get("one_ms"):
                extra = ""
                if r.get("hundred_ms"):
                    extra = "  100 kernels %8.1f ms  (%.2f ms per extra kernel; CPU %.1f / %.2f ms)" % (
                        r["hundred_ms"], r["per_extra_ms"], r["one_cpu_ms"], r["per_extra_cpu_ms"])
                print("  %-28s 1 kernel %8.1f ms%s" % (r["tool"], r["one_ms"], extra))
            else:
                print("  %-28s %s" % (r["tool"], r["status"]))
        with open(out, "w") as f:
            json.dump({"reps": REPS, "rows": rows}, f, indent=1)
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
