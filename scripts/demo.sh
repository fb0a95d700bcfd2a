#!/usr/bin/env bash
# demo.sh: compile every samples/*.dck to C with dckc and run its kernels and pipelines on
# the CPU with dckrun, printing what each computed.
#
# Each sample names its title on its first line (`// file.dck: title`) and how to run it
# on `// RUN: NAME ARG...` lines (dckrun syntax, see docs/dckrun.md); demo.sh runs
#     dckrun --backend=cpu samples/FILE.dck NAME ARG...
# for every RUN line. Exits non-zero on the first failure.
# Environment: BUILD_DIR (default build).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${BUILD_DIR:-build}
DCKC="$BUILD_DIR/compiler/dckc"
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

    if ! "$DCKC" --target=c -o "$BUILD_DIR/samples/$name.c" "$src"; then
        echo "demo: dckc failed on $src" >&2
        status=1
        continue
    fi

    runs=0
    while IFS= read -r line; do
        read -r -a args <<<"$line"
        echo "\$ dckrun $src ${args[*]}"
        if ! "$DCKRUN" --backend=cpu "$src" "${args[@]}" </dev/null; then
            echo "demo: dckrun failed: $src ${args[*]}" >&2
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
echo "demo: $nsamples samples compiled and run"
