#!/usr/bin/env bash
# DCK in other people's builds (docs/build.md), end to end:
#  1. `cmake --install` into a fresh prefix: DCKConfig.cmake, dckrt.pc, both libraries;
#  2. samples/cmake-consumer against that prefix (find_package) with Ninja and with Unix
#     Makefiles: build, run (DCK_CC=/bin/false: the CPU code must be compiled in), then touch
#     the .dck that only particles.dck includes and check that particles' outputs are
#     regenerated and scale's are not, and that it still runs;
#  3. the same project through add_subdirectory of this source tree (Ninja);
#  4. samples/make-consumer (plain Makefile, pkg-config, dckc -MD), with the same touch check;
#  5. a program linked against the installed static libdckrt.a alone (pkg-config --static).
# Usage: tests/buildsys/run.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: run.sh BUILD_DIR}")
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in cmake ninja make pkg-config cc; do
  command -v $tool >/dev/null || { echo "SKIPPED: $tool not found"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name DCKConfig.cmake | head -1)")/../..
for f in include/dck.h lib/cmake/DCK/DCKConfig.cmake lib/cmake/DCK/DCKConfigVersion.cmake \
         lib/cmake/DCK/DCKKernels.cmake lib/pkgconfig/dckrt.pc lib/libdckrt.a lib/libdckrt.so; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
pass=0
mtime() { stat -c %Y.%y "$1"; }

# consumer_check BUILD_DIR TOUCH BUILD_COMMAND...: build, run, and with TOUCH=1: touch
# physics.dck, rebuild, compare. (Through add_subdirectory the build also depends on this
# source tree, which may change under a running test: there only build and run.)
consumer_check() {
  local bdir=$1 touch=$2; shift 2
  "$@" > "$tmp/log1" 2>&1 || { cat "$tmp/log1"; echo "FAIL: build in $bdir"; exit 1; }
  DCK_CC=/bin/false "$bdir/consumer" | tee "$tmp/out"
  grep -q "CPU code compiled into the program" "$tmp/out" || { echo "FAIL: $bdir: CPU code was not compiled in"; exit 1; }
  if [ "$touch" = 0 ]; then pass=$((pass + 1)); return; fi
  local gen=$bdir/dck/consumer
  local p0 s0 e0
  p0=$(mtime "$gen/particles.h"); s0=$(mtime "$gen/scale.h"); e0=$(mtime "$gen/scale.embed.c")
  sleep 1
  touch "$work/kernels/include/physics.dck"
  "$@" > "$tmp/log2" 2>&1 || { cat "$tmp/log2"; echo "FAIL: rebuild in $bdir"; exit 1; }
  [ "$(mtime "$gen/particles.h")" != "$p0" ] || { cat "$tmp/log2"; echo "FAIL: particles.dck not recompiled after its include changed"; exit 1; }
  [ "$(mtime "$gen/scale.h")" = "$s0" ] && [ "$(mtime "$gen/scale.embed.c")" = "$e0" ] ||
    { cat "$tmp/log2"; echo "FAIL: scale.dck recompiled though it does not include physics.dck"; exit 1; }
  grep -q "scale.embed.c.o" "$tmp/log2" && { cat "$tmp/log2"; echo "FAIL: scale.embed.c recompiled"; exit 1; }
  DCK_CC=/bin/false "$bdir/consumer" > /dev/null || { echo "FAIL: $bdir after the rebuild"; exit 1; }
  pass=$((pass + 1))
}

# a copy of the sample, so that touching its files leaves the source tree alone
work=$tmp/cmake-consumer
cp -r "$root/samples/cmake-consumer" "$work"
cmake -S "$work" -B "$tmp/b-ninja" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
consumer_check "$tmp/b-ninja" 1 cmake --build "$tmp/b-ninja"
# no CMAKE_BUILD_TYPE (-O0 for the program): the kernels' CPU code is still optimised, with
# the SIMD variants (it was compiled at -O0, scalar only: 40-80x slower than dckrun)
cmds=$(ninja -C "$tmp/b-ninja" -t commands consumer)
grep -q 'scale.embed.c' <<<"$cmds" || { echo "FAIL: no compile command for scale.embed.c"; exit 1; }
grep 'scale.embed.c' <<<"$cmds" | grep -q -- '-O3' || { grep 'scale.embed.c' <<<"$cmds"; echo "FAIL: embed.c compiled without -O3"; exit 1; }
if [ "$(uname -m)" = x86_64 ]; then
  grep -q -- '--cpu-isa=sse4,avx2,avx512' <<<"$cmds" || { grep dckc <<<"$cmds"; echo "FAIL: dckc not asked for the SIMD variants"; exit 1; }
fi
pass=$((pass + 1))
# bad arguments fail when CMake configures, naming the argument
mkdir -p "$tmp/badargs"
cat > "$tmp/badargs/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(badargs LANGUAGES C)
find_package(DCK REQUIRED)
file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/m.c "int main(void) { return 0; }\n")
add_executable(app ${CMAKE_CURRENT_BINARY_DIR}/m.c)
dck_add_kernels(app SOURCES ${BAD_SOURCE} TARGETS ${BAD_TARGET} CPU_ISA ${BAD_ISA})
CM
badcfg() { # EXPECTED-TEXT cmake -D...
  local want=$1; shift
  if cmake -S "$tmp/badargs" -B "$tmp/badargs/b$pass" -DCMAKE_PREFIX_PATH="$prefix" "$@" > "$tmp/badcfg.log" 2>&1; then
    echo "FAIL: configure accepted $*"; exit 1
  fi
  grep -q "$want" "$tmp/badcfg.log" || { cat "$tmp/badcfg.log"; echo "FAIL: configure did not say '$want'"; exit 1; }
  rm -rf "$tmp/badargs/b$pass"
}
good=$work/kernels/scale.dck
badcfg "unknown TARGETS entry 'cuda9'" -DBAD_SOURCE="$good" -DBAD_TARGET=cuda9 -DBAD_ISA=avx2
badcfg "unknown CPU_ISA entry 'avx3'" -DBAD_SOURCE="$good" -DBAD_TARGET=c -DBAD_ISA=avx3
badcfg "source '.*nope.dck' does not exist" -DBAD_SOURCE=nope.dck -DBAD_TARGET=c -DBAD_ISA=avx2
pass=$((pass + 1))
cmake -S "$work" -B "$tmp/b-make" -G "Unix Makefiles" -DCMAKE_PREFIX_PATH="$prefix" > /dev/null
consumer_check "$tmp/b-make" 1 cmake --build "$tmp/b-make" -- -j2
cmake -S "$work" -B "$tmp/b-subdir" -G Ninja -DDCK_SOURCE_DIR="$root" > /dev/null
consumer_check "$tmp/b-subdir" 0 cmake --build "$tmp/b-subdir" -j 2

# the plain Makefile sample through pkg-config
mwork=$tmp/make-consumer
cp -r "$root/samples/make-consumer" "$mwork"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
make -C "$mwork" > "$tmp/mlog1" 2>&1 || { cat "$tmp/mlog1"; echo "FAIL: make-consumer build"; exit 1; }
DCK_CC=/bin/false "$mwork/app"
sleep 1
touch "$mwork/kernels/include/window.dck"
make -C "$mwork" > "$tmp/mlog2" 2>&1 || { cat "$tmp/mlog2"; echo "FAIL: make-consumer rebuild"; exit 1; }
grep -q "kernels/blur.dck" "$tmp/mlog2" || { cat "$tmp/mlog2"; echo "FAIL: blur.dck not recompiled after window.dck changed"; exit 1; }
grep -q "kernels/count.dck" "$tmp/mlog2" && { cat "$tmp/mlog2"; echo "FAIL: count.dck recompiled"; exit 1; }
DCK_CC=/bin/false "$mwork/app" > /dev/null
pass=$((pass + 1))

# the static library on its own (it carries the compiler library inside)
cat > "$tmp/static.c" <<'C'
#include <dck.h>
#include <stdio.h>
int main(void) {
    dck_context ctx;
    dck_context_desc d = {0};
    d.backend = DCK_BACKEND_CPU;
    if (dck_context_create(&d, &ctx)) return 1;
    dck_module m;
    dck_status st = dck_module_create_from_source(ctx, "k.dck", "kernel void k(float[] y) { y[0] = 1.0; }", NULL, &m);
    if (st == DCK_SUCCESS || st == DCK_ERROR_JIT) puts("static libdckrt: compiler inside, ok");
    else printf("static libdckrt: %s\n", dck_last_error());
    dck_context_destroy(ctx);
    return st != DCK_SUCCESS && st != DCK_ERROR_JIT;
}
C
# Libs.private names libraries, not paths of the machine DCK was built on
if pkg-config --static --libs dckrt | tr ' ' '\n' | grep -E '^/'; then
  echo "FAIL: pkg-config --static gives absolute library paths"; exit 1
fi
cc "$tmp/static.c" $(pkg-config --cflags dckrt) -o "$tmp/static" "$prefix/lib/libdckrt.a" \
  $(pkg-config --static --libs dckrt | sed 's/ -ldckrt / /; s/-L[^ ]*\/pkgconfig\/[^ ]* //')
DCK_CACHE_DIR=$tmp/cache "$tmp/static"
pass=$((pass + 1))
echo "$pass passed, 0 failed"
