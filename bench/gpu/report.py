#!/usr/bin/env python3
"""report.py RESULTS...: the GPU benchmark table (markdown) from bench_dck / bench_cuda output.

Lines `RESULT <impl> <benchmark> <median ms> <value> <unit>`; the table has one row per
benchmark: time and throughput of each dck route and of nvcc, dck/nvcc (nvcc time over dck
time: above 1 means dck is faster), and the share of the device copy bandwidth (memory-bound
kernels) or of cuBLAS (sgemm)."""
import sys

res = {}
order = []
for path in sys.argv[1:]:
    with open(path) as f:
        for line in f:
            p = line.split()
            if len(p) >= 6 and p[0] == "RESULT":
                impl, bench, ms, val, unit = p[1], p[2], float(p[3]), float(p[4]), " ".join(p[5:])
                res[(impl, bench)] = (ms, val, unit)
                if bench not in order:
                    order.append(bench)

routes = [r for r in ("dck-llvm", "dck-nvrtc") if any(k[0] == r for k in res)]
copy = res.get(("copy", "device_copy"))
cublas = res.get(("cublas", "sgemm_4096"))
hdr = "| benchmark | " + " | ".join(f"{r} time, rate" for r in routes) + " | nvcc time, rate | " + \
      " | ".join(f"{r}/nvcc" for r in routes) + " | ceiling |"
print(hdr)
print("|" + " --- |" * (hdr.count("|") - 1))
for b in order:
    if b in ("device_copy",) or b.startswith("launch"):
        continue
    nv = res.get(("nvcc", b))
    cells = []
    for r in routes:
        d = res.get((r, b))
        cells.append(f"{d[0]:.3f} ms, {d[1]:g} {d[2]}" if d else "-")
    cells.append(f"{nv[0]:.3f} ms, {nv[1]:g} {nv[2]}" if nv else "-")
    for r in routes:
        d = res.get((r, b))
        cells.append(f"{nv[0] / d[0]:.2f}x" if d and nv else "-")
    ceil = "-"
    best = max((res[(r, b)] for r in routes if (r, b) in res), key=lambda t: t[1], default=None)
    if best and best[2] == "GB/s" and copy:
        ceil = f"{100 * best[1] / copy[1]:.0f}% of copy ({copy[1]:g} GB/s)"
    if best and b == "sgemm_4096" and cublas:
        ceil = f"{100 * best[1] / cublas[1]:.0f}% of cuBLAS ({cublas[1]:g} TFLOP/s)"
    print(f"| {b} | " + " | ".join(cells) + f" | {ceil} |")
print()
print("| launch overhead (empty kernel, 20000 launches) | us/launch |")
print("| --- | --- |")
for k in sorted(res):
    if k[1].startswith("launch"):
        print(f"| {k[0]} {k[1]} | {res[k][1]:g} |")
raw = res.get(("raw", "launch_cuLaunchKernel"))
for r in routes:
    d = res.get((r, "launch_dck_launch"))
    same = res.get((r, "launch_raw_same_process"))
    if d and same:
        print(f"\n{r}: dck_launch / raw cuLaunchKernel (same process, interleaved) = {d[1] / same[1]:.2f}x")
    if d and raw:
        print(f"\n{r}: dck_launch / raw cuLaunchKernel (nvcc program) = {d[1] / raw[1]:.2f}x")
