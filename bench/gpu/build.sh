#!/bin/sh
# build.sh BUILD_DIR DEST: gathers what the GPU machine needs from a build of this tree (no
# LLVM and no dck build there): dckrun, dckc, libdckrt.so, the PTX plugin and bench_dck, built
# here for x86-64, stripped, into DEST (e.g. .gpu, listed in .git/info/exclude; the device
# tool carries it). See bench/gpu/run.sh and tests/gpu/run.sh.
set -eu
build=$1
dest=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$dest"
cp "$build/runtime/dckrun" "$build/driver/dckc" "$dest/"
cp -L "$build/runtime/libdckrt.so" "$dest/libdckrt.so"
ln -sf libdckrt.so "$dest/libdckrt.so.0"
cp "$build/lib/libdckc_ptx.so" "$dest/"
${CC:-cc} -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -I"$root/runtime/include" "$root/bench/gpu/bench_dck.c" \
    -o "$dest/bench_dck" -L"$dest" -ldckrt -lm -ldl -Wl,-rpath,'$ORIGIN'
strip "$dest/dckrun" "$dest/dckc" "$dest/libdckrt.so" "$dest/libdckc_ptx.so" "$dest/bench_dck"
du -sh "$dest"
