#!/bin/sh
# nokernel.sh: SPIR-V of a module without a kernel (an empty file, a file of functions).
#
#   tests/codegen/spirv/nokernel.sh DCKC
#
# Such a module is valid DCK. SPIR-V for Vulkan cannot hold it (no entry point, and the
# Linkage capability that would allow none is not Vulkan's), so --target=spirv for Vulkan
# says so (exit 1, nothing written); for OpenCL it is a library module (Linkage, no entry
# point) that spirv-val and llvm-spirv take; a package leaves spirv-vulkan out (the runtime
# loads the module on Vulkan without code). These were internal compiler errors (exit 3: "No
# OpEntryPoint instruction was found"), --emit=package --target=all included, for 79 inputs of
# the fuzzer corpus: every corpus input must now compile for both environments or be refused
# with a user error, never exit 3 or crash.
# Exit status: 0 passed, 1 a check failed, 2 usage.
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 DCKC" >&2
    exit 2
fi
case "$1" in
/*) dckc=$1 ;;
*) dckc=$(pwd)/$1 ;;
esac
root=$(cd "$(dirname "$0")/../../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
    echo "FAIL $*"
    fail=1
}

printf '' >"$tmp/empty.dck"
printf 'float twice(float x) { return 2.0 * x; }\nstruct P { float3 p; uint id; };\nconst int N = 4;\n' >"$tmp/lib.dck"
for f in empty lib; do
    src=$tmp/$f.dck
    # Vulkan: a user error that says why, nothing written
    "$dckc" --target=spirv --spirv-env=vulkan "$src" -o "$tmp/$f.vk.spv" >"$tmp/out" 2>&1
    rc=$?
    if [ $rc -ne 1 ] || ! grep -q "has no kernel" "$tmp/out" || grep -q "internal compiler error" "$tmp/out"; then
        bad "$f.dck --spirv-env=vulkan: exit $rc, expected 1 and 'has no kernel':"
        cat "$tmp/out"
    fi
    [ -e "$tmp/$f.vk.spv" ] && bad "$f.dck --spirv-env=vulkan wrote $f.vk.spv"
    "$dckc" --target=spirv "$src" -o "$tmp/$f.default.spv" >"$tmp/out" 2>&1
    [ $? -eq 1 ] || bad "$f.dck --target=spirv (the default environment, vulkan): $(cat "$tmp/out")"
    # OpenCL: a valid module without an entry point
    if ! "$dckc" --target=spirv --spirv-env=opencl "$src" -o "$tmp/$f.cl.spv" >"$tmp/out" 2>&1; then
        bad "$f.dck --spirv-env=opencl:"
        cat "$tmp/out"
        continue
    fi
    if command -v spirv-val >/dev/null 2>&1 &&
        ! spirv-val --target-env opencl1.2 "$tmp/$f.cl.spv" >"$tmp/out" 2>&1; then
        bad "spirv-val rejects $f.dck's OpenCL module: $(cat "$tmp/out")"
    fi
    if command -v llvm-spirv-15 >/dev/null 2>&1 &&
        ! llvm-spirv-15 -r "$tmp/$f.cl.spv" -o "$tmp/$f.bc" >"$tmp/out" 2>&1; then
        bad "llvm-spirv-15 -r rejects $f.dck's OpenCL module: $(cat "$tmp/out")"
    fi
    # packages: every target but spirv-vulkan
    for envs in vulkan vulkan,opencl; do
        if ! "$dckc" --emit=manifest --target=all --spirv-env=$envs "$src" -o "$tmp/$f.json" >"$tmp/out" 2>&1 ||
            ! "$dckc" --emit=package --target=all --spirv-env=$envs "$src" -o "$tmp/$f.dckpkg" >>"$tmp/out" 2>&1; then
            bad "$f.dck --emit=package --target=all --spirv-env=$envs:"
            cat "$tmp/out"
            continue
        fi
        grep -q '"spirv-vulkan"' "$tmp/$f.json" && bad "$f.dck's package (--spirv-env=$envs) has spirv-vulkan"
        grep -q '"c"' "$tmp/$f.json" || bad "$f.dck's package (--spirv-env=$envs) lacks c"
        case $envs in *opencl*)
            grep -q '"spirv-opencl"' "$tmp/$f.json" || bad "$f.dck's package (--spirv-env=$envs) lacks spirv-opencl" ;;
        esac
    done
done

# the fuzzer corpus (from inside it, as fuzz_replay runs it: relative #includes find corpus
# files): no input may make an internal error (exit 3) or a crash for either environment
cd "$root/tests/fuzz/corpus" || exit 2
ls | xargs -P 2 -I{} sh -c '
    for env in vulkan opencl; do
        timeout 60 "$0" --target=spirv --spirv-env=$env "{}" -o /dev/null >/dev/null 2>&1
        rc=$?
        if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then echo "corpus input {} (--spirv-env=$env): exit status $rc"; fi
    done' "$dckc" >"$tmp/corpus" 2>&1
if [ -s "$tmp/corpus" ]; then
    bad "$(wc -l <"$tmp/corpus") corpus runs ended otherwise than with 0 or 1:"
    head -20 "$tmp/corpus"
fi
n=$(ls | wc -l)
[ $fail -eq 0 ] && echo "spirv without kernels: ok (and $n fuzzer corpus inputs in both environments)"
exit $fail
