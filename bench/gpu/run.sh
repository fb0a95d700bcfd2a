#!/bin/sh
# run.sh: the GPU benchmark, dck (both PTX routes) against nvcc, cuBLAS and the copy bandwidth.
#
#   bench/gpu/build.sh BUILD_DIR .gpu      (here: the dck binaries into .gpu/)
#   bench/gpu/run.sh [.gpu [REPEATS]]      (on the GPU machine, from the repository root)
#
# Compiles bench_cuda.cu with `nvcc -O3 -arch=sm_90` there, runs bench_dck (kernels.dck through
# dck.h on the CUDA backend) once per PTX route (LLVM; CUDA C + NVRTC where dckc has the cuda
# target) and bench_cuda, and prints the table of bench/README.md (bench/gpu/report.py).
# Medians of REPEATS (default 20) device-timed launches after 3 warm-ups. Results also go to
# $OUT when set (the device tool's output folder).
set -eu
dir=${1:-.gpu}
reps=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$(mktemp -d)}
export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export DCK_PTX_PLUGIN="$dir/libdckc_ptx.so"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv,noheader || true
nvcc -O3 -arch=sm_90 "$here/bench_cuda.cu" -o "$out/bench_cuda" -lcublas -lcuda
"$dir/dckc" --target=ptx --sm=90 "$here/kernels.dck" -o "$out/kernels.ptx"
"$dir/bench_dck" "$here/kernels.dck" dck-llvm "$reps" "$out/kernels.ptx" | tee "$out/dck-llvm.txt"
if DCK_CUDA_PTX_VIA=nvrtc "$dir/bench_dck" "$here/kernels.dck" dck-nvrtc "$reps" "$out/kernels.ptx" >"$out/dck-nvrtc.txt" 2>&1; then
    cat "$out/dck-nvrtc.txt"
else
    echo "NVRTC route: $(tail -3 "$out/dck-nvrtc.txt")"
    : >"$out/dck-nvrtc.txt"
fi
"$out/bench_cuda" "$reps" | tee "$out/nvcc.txt"
rm -f "$out/bench_cuda" "$out/kernels.ptx"
python3 "$here/report.py" "$out/dck-llvm.txt" "$out/dck-nvrtc.txt" "$out/nvcc.txt" | tee "$out/table.md"
