#!/usr/bin/env bash
# tests/gpu/vulkan_h100.sh: the Vulkan execution tests on a GPU machine that has a Vulkan
# driver (NVIDIA's ICD) but no Vulkan loader, with binaries built here.
#
#   tests/gpu/vulkan_h100.sh prepare   (here) builds dckrun, test_exec and test_rt_gpu in
#                                      build-gpu/ (Release) and stages what the run needs in
#                                      build-gpu/stage/: the binaries, the shared libraries
#                                      they use beyond glibc (Criterion, ...) and the .debs
#                                      of the Vulkan loader and of what NVIDIA's ICD
#                                      (libGLX_nvidia) links: GLVND, EGL/GLX, X11/xcb
#                                      (apt-get download); rerun it after every change
#   tests/gpu/vulkan_h100.sh run       (there, in the repository root, with build-gpu/stage
#                                      carried along) unpacks each staged .deb whose
#                                      libraries the machine lacks (dpkg -x /, ldconfig),
#                                      points VK_DRIVER_FILES at the NVIDIA ICD, lists the
#                                      devices, runs the exec corpus on --backend=vulkan
#                                      (test_exec: C API + dckrun, compared with C references)
#                                      and one dckrun --bench
#
# Exit status: 0 all passed, 77 no Vulkan device there, otherwise the failing step's.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-gpu
stage=$build/stage
# the Vulkan loader and the libraries NVIDIA's Vulkan ICD (libGLX_nvidia.so.0) needs
debs="libvulkan1 libglvnd0 libegl1 libglx0 libgl1 libx11-6 libxext6 libxcb1 libxau6 libxdmcp6 libbsd0 libmd0"

prepare() {
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    ninja -C "$build" -j2 dckrun test_exec test_rt_gpu
    rm -rf "$stage"
    mkdir -p "$stage/runtime" "$stage/tests/unit" "$stage/lib" "$stage/lib-fallback" "$stage/debs"
    cp "$build/runtime/dckrun" "$stage/runtime/"
    cp "$build/tests/unit/test_exec" "$build/tests/unit/test_rt_gpu" "$stage/tests/unit/"
    # shared libraries beyond glibc (the GPU machine has none of them installed)
    for bin in "$stage/runtime/dckrun" "$stage/tests/unit/test_exec" "$stage/tests/unit/test_rt_gpu"; do
        ldd "$bin" | awk '/=> \// { print $3 }'
    done | sort -u | grep -v -E '/(libc|libm|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
        while read -r lib; do
            case "$lib" in
            # the C++ runtime only where the GPU machine has none (a newer one there must win)
            */libstdc++.so*|*/libgcc_s.so*) cp -L "$lib" "$stage/lib-fallback/" ;;
            *) cp -L "$lib" "$stage/lib/" ;;
            esac
        done
    (cd "$stage/debs" && apt-get download $debs >/dev/null)
    du -sh "$stage"
    echo "staged in $stage; on the GPU machine run: tests/gpu/vulkan_h100.sh run"
}

run() {
    [ -x "$stage/tests/unit/test_exec" ] || { echo "no $stage: run 'tests/gpu/vulkan_h100.sh prepare' first" >&2; exit 2; }
    # a package is unpacked only where one of its shared libraries is missing, so the
    # machine's own (possibly newer) libraries are never replaced
    local unpacked=0 deb so
    for deb in "$stage"/debs/*.deb; do
        for so in $(dpkg-deb -c "$deb" | grep -oE '/[^/ ]+\.so\.[0-9]+( |$)' | tr -d '/ ' | sort -u); do
            if ! ldconfig -p | awk '{ print $1 }' | grep -qxF "$so"; then
                echo "unpacking $(basename "$deb") (no $so here)"
                dpkg -x "$deb" /
                unpacked=1
                break
            fi
        done
    done
    [ "$unpacked" = 0 ] || ldconfig
    export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
    export LD_LIBRARY_PATH=$stage/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    ldconfig -p | grep -q 'libstdc++.so.6 ' || LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$stage/lib-fallback
    export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
    export DCK_TEST_SOURCE_DIR=$root DCK_TEST_BINARY_DIR=$stage DCK_STDLIB_DIR=$root/stdlib
    export DCK_CACHE_DIR=${DCK_CACHE_DIR:-/tmp/dck-cache}
    echo "== devices"
    "$stage/runtime/dckrun" --list-devices
    echo "== exec corpus on Vulkan"
    rc=0
    DCK_TEST_BACKEND=vulkan "$stage/tests/unit/test_exec" -j1 --verbose || rc=$?
    echo "== runtime backend test (hand-written kernels; parts skip without glslc)"
    for f in 'vulkan/*' 'package/*'; do
        "$stage/tests/unit/test_rt_gpu" -j1 --filter "$f" || { r=$?; [ "$rc" != 0 ] || rc=$r; }
    done
    echo "== saxpy 16M on Vulkan"
    "$stage/runtime/dckrun" -v --backend=vulkan "$root/tests/exec/saxpy.dck" saxpy a=2 x=rand:16777216 \
        y=rand:16777216 --bench=20 || { r=$?; [ "$rc" != 0 ] || rc=$r; }
    exit "$rc"
}

case "${1:-}" in
prepare) prepare ;;
run) run ;;
*) echo "usage: $0 prepare|run" >&2; exit 2 ;;
esac
