#!/usr/bin/env bash
# demo.sh: compile every samples/*.dck ahead of time for every target this build has (C for
# the CPU, PTX, OpenCL C, SPIR-V, MSL), plus a .dckpkg package carrying them all and a typed
# C header, then run its kernels and pipelines on the CPU from the package with dckrun,
# printing what each computed.
#
# Each sample names its title on its first line (`// file.dck: title`) and how to run it
# on `// RUN: NAME ARG...` lines (dckrun syntax, see docs/dckrun.md); demo.sh runs
#     dckrun --backend=cpu build/samples/FILE/FILE.dckpkg NAME ARG...
# for every RUN line. Exits non-zero if anything failed.
# Environment: BUILD_DIR (default build).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${BUILD_DIR:-build}
DCKC="$BUILD_DIR/driver/dckc"
DCKRUN="$BUILD_DIR/runtime/dckrun"

for tool in "$DCKC" "$DCKRUN"; do
    if [ ! -x "$tool" ]; then
        echo "demo: $tool not found: run ./scripts/setup.sh first" >&2
        exit 1
    fi
done

mkdir -p "$BUILD_DIR/samples"
status=0
nsamples=0
for src in samples/*.dck; do
    name=$(basename "$src" .dck)
    title=$(sed -n '1s|^// *[^:]*: *||p' "$src")
    echo "=== $name: ${title:-$name}"

    out="$BUILD_DIR/samples/$name"
    rm -rf "$out"
    mkdir -p "$out"
    if ! "$DCKC" --target=all --emit=source,package,header -o "$out" "$src"; then
        echo "demo: dckc failed on $src" >&2
        status=1
        continue
    fi
    (cd "$out" && for f in *; do printf '%s (%s bytes)  ' "$f" "$(wc -c <"$f")"; done; echo)
    pkg="$out/$name.dckpkg"

    runs=0
    while IFS= read -r line; do
        read -r -a args <<<"$line"
        echo "\$ dckrun $pkg ${args[*]}"
        if ! "$DCKRUN" --backend=cpu "$pkg" "${args[@]}" </dev/null; then
            echo "demo: dckrun failed: $pkg ${args[*]}" >&2
            status=1
        fi
        runs=$((runs + 1))
    done < <(sed -n 's|^// RUN: *||p' "$src")
    if [ "$runs" -eq 0 ]; then
        echo "demo: $src has no '// RUN:' line" >&2
        status=1
    fi
    nsamples=$((nsamples + 1))
    echo
done

if [ "$status" -ne 0 ]; then
    echo "demo: FAILED" >&2
    exit "$status"
fi
echo "demo: $nsamples samples compiled for every target and run on the CPU from their packages"
