#!/usr/bin/env bash
# bench/run.sh: the DCK benchmark suite, one command (about 5 minutes on a 2-core machine).
#   bench/run.sh            build (Release, in build/bench), run everything, write bench/results/
#   bench/run.sh saxpy      one benchmark only (stream saxpy reduce histogram transpose sgemm
#                           mandelbrot jacobi nbody softmax pipe3), no compile-speed part
# Environment: BUILD_DIR (default build/bench), SKIP_COMPILE_SPEED=1.
# Results: bench/results/results.json, results.md (the table), *.png, named with the machine;
# a full run is appended to bench/history.jsonl and checked for regressions (bench/history.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD_DIR=${BUILD_DIR:-build/bench}
OUT=bench/results
ONLY=${1:-}
PY=python3
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c "import matplotlib" 2>/dev/null && PY=/usr/bin/python3
mkdir -p "$OUT" "$BUILD_DIR/halide"

echo "== building dckc and libdckrt (Release) in $BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DDCK_TESTS=OFF >/dev/null
ninja -C "$BUILD_DIR" -j2 dckc dckrt >/dev/null

HAL_FLAGS=()
HAL_LIBS=()
if [ -f /usr/include/halide14/Halide.h ]; then
  HB=$BUILD_DIR/halide
  if [ ! -f "$HB/halide_runtime.a" ] || [ bench/halide_gen.cpp -nt "$HB/halide_runtime.a" ]; then
    echo "== building the Halide peers"
    g++ -std=c++17 -O1 -I/usr/include/halide14 bench/halide_gen.cpp -o "$HB/halide_gen" -lHalide14 -lpthread -ldl
    "$HB/halide_gen" "$HB"
  fi
  HAL_FLAGS=(-DBENCH_HALIDE -I/usr/include/halide14 -I"$HB")
  HAL_LIBS=("$HB/halide_saxpy.a" "$HB/halide_jacobi.a" "$HB/halide_transpose.a" "$HB/halide_runtime.a")
else
  echo "== Halide 14 not installed (libhalide14-0-dev): no Halide peers"
fi

echo "== building the harness (gcc -O3 -march=native -fopenmp)"
gcc -std=gnu11 -O3 -march=native -fopenmp -Wall -Wno-unused-function -Iruntime/include "${HAL_FLAGS[@]}" \
    bench/bench.c -o "$BUILD_DIR/bench" -L"$BUILD_DIR/runtime" -Wl,-rpath,"$ROOT/$BUILD_DIR/runtime" \
    -ldckrt "${HAL_LIBS[@]}" -lOpenCL -lpthread -ldl -lm

echo "== running (2 threads everywhere)"
export OMP_NUM_THREADS=2 HL_NUM_THREADS=2 POCL_MAX_PTHREAD_COUNT=2 XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
"$BUILD_DIR/bench" "$OUT/kernels.json" bench/kernels.dck bench/kernels.cl $ONLY

if [ -z "$ONLY" ] && [ -z "${SKIP_COMPILE_SPEED:-}" ]; then
  echo "== compile speed"
  "$PY" bench/compile_speed.py "$BUILD_DIR/driver/dckc" "$OUT/compile.json"
fi
"$PY" bench/report.py "$OUT"
# the history (bench/history.jsonl, kept in the repository): a full run is appended, then the
# newest run is compared with the earlier ones of this machine; exit 1 on a severe regression
# (BENCH_FAIL_ON=minor|moderate|severe|never)
if [ -z "$ONLY" ]; then
  "$PY" bench/history.py append "$OUT"
  "$PY" bench/history.py report --plot "$OUT/history.png" --fail-on="${BENCH_FAIL_ON:-severe}"
fi
