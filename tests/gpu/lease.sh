#!/usr/bin/env bash
# tests/gpu/lease.sh: everything the GPU tests need on a lent NVIDIA machine, in one call.
#
#   tests/gpu/lease.sh prepare [BUILD]  (here) stages dckrun, dckc, libdckrt and the PTX plugin
#                                       in .gpu/ (bench/gpu/build.sh), the CPU references of
#                                       the exec corpus in .gpu/refs, and the Vulkan run in
#                                       build-gpu/stage (tests/gpu/vulkan_h100.sh prepare)
#   tests/gpu/lease.sh run              (there, carrying .gpu and build-gpu/stage) runs the
#                                       exec corpus through CUDA on both PTX routes (LLVM and
#                                       NVRTC; tests/gpu/run.sh), then the Vulkan exec corpus
#                                       on NVIDIA's driver (tests/gpu/vulkan_h100.sh run)
# Exit status: 0 when both passed, else the first failure's.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
case "${1:-}" in
prepare)
    build=${2:-build}
    set -e
    rm -rf .gpu
    bench/gpu/build.sh "$build" .gpu >/dev/null
    tests/gpu/run.sh --refs .gpu/refs "$build/runtime/dckrun"
    tests/gpu/vulkan_h100.sh prepare >/dev/null
    du -sh .gpu build-gpu/stage
    ;;
run)
    export LD_LIBRARY_PATH=$root/.gpu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    export DCK_PTX_PLUGIN=$root/.gpu/libdckc_ptx.so DCK_GPU_REFS=$root/.gpu/refs
    export DCK_STDLIB_DIR=$root/stdlib DCK_CACHE_DIR=/tmp/dck-cache
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
    echo "== exec corpus on CUDA, PTX through LLVM and CUDA C through NVRTC"
    DCK_GPU_ROUTES="llvm nvrtc" tests/gpu/run.sh .gpu/dckrun .gpu/dckc
    rc=$?
    echo "== exec corpus on Vulkan"
    tests/gpu/vulkan_h100.sh run
    r=$?
    [ "$rc" != 0 ] || rc=$r
    exit "$rc"
    ;;
*)
    echo "usage: $0 prepare [BUILD] | run" >&2
    exit 2
    ;;
esac
