#!/bin/sh
# all.sh: every kernel of tests/exec/*.dck and samples/*.dck through the SPIR-V backend, for
# both environments, plain and --checked, at -O0 and -O2, checked by independent tools.
#
#   tests/codegen/spirv/all.sh DCKC                 spirv-val on every module
#   tests/codegen/spirv/all.sh --llvm-spirv DCKC    llvm-spirv-15 -r on every OpenCL module
#                                                   (what the OpenCL runtime does before PoCL);
#                                                   with llvm-dis, the bitcode may have no
#                                                   module-scope variable but shared memory
#                                                   (addrspace 3) and constants (2): a kernel's
#                                                   private variable made global is shared by
#                                                   every work-item (llvm-spirv 15 does that to
#                                                   a Function variable with an initializer)
#
# Run from the repository root (ctest does). Exit status: 0 all passed, 1 a failure, 2 usage,
# 77 the tool is not installed (the test is skipped, and says so).
set -u

mode=val
if [ "${1:-}" = "--llvm-spirv" ]; then
    mode=llvm
    shift
fi
if [ $# -lt 1 ]; then
    echo "usage: $0 [--llvm-spirv] DCKC" >&2
    exit 2
fi
dckc=$1
if [ ! -x "$dckc" ]; then
    echo "$0: $dckc is not an executable" >&2
    exit 2
fi
LLVM_SPIRV=${LLVM_SPIRV:-llvm-spirv-15}
if [ $mode = val ] && ! command -v spirv-val >/dev/null 2>&1; then
    echo "SKIPPED: spirv-val (SPIRV-Tools) is not installed"
    exit 77
fi
if [ $mode = llvm ] && ! command -v "$LLVM_SPIRV" >/dev/null 2>&1; then
    echo "SKIPPED: $LLVM_SPIRV is not installed"
    exit 77
fi
LLVM_DIS=
for d in llvm-dis-15 llvm-dis-16 llvm-dis; do
    if command -v $d >/dev/null 2>&1; then
        LLVM_DIS=$d
        break
    fi
done
[ $mode = llvm ] && [ -z "$LLVM_DIS" ] && echo "note: no llvm-dis: module-scope variables are not checked"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-spirv-all.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

pass=0
fail=0
envs="vulkan opencl"
[ $mode = llvm ] && envs=opencl
for src in tests/exec/*.dck samples/*.dck; do
    [ -f "$src" ] || continue
    name=$(basename "$src" .dck)
    for env in $envs; do
        for opt in -O0 -O2; do
            for chk in "" --checked; do
                t="$name $env $opt${chk:+ $chk}"
                out="$tmp/$name.spv"
                # shellcheck disable=SC2086
                if ! "$dckc" --target=spirv --spirv-env=$env $opt $chk "$src" -o "$out" 2>"$tmp/err"; then
                    echo "FAIL $t: dckc failed"
                    cat "$tmp/err"
                    fail=$((fail + 1))
                    continue
                fi
                if [ $mode = llvm ]; then
                    if ! "$LLVM_SPIRV" -r "$out" -o "$tmp/$name.bc" >"$tmp/err" 2>&1; then
                        echo "FAIL $t: $LLVM_SPIRV -r rejects the module"
                        head -n 20 "$tmp/err"
                        fail=$((fail + 1))
                        continue
                    fi
                    if [ -n "$LLVM_DIS" ] && "$LLVM_DIS" "$tmp/$name.bc" -o - 2>/dev/null |
                        grep '^@.* global ' | grep -v 'addrspace([23])' >"$tmp/err"; then
                        echo "FAIL $t: the bitcode has module-scope variables every work-item shares:"
                        cat "$tmp/err"
                        fail=$((fail + 1))
                        continue
                    fi
                else
                    venv=vulkan1.1
                    if [ $env = opencl ]; then
                        "$dckc" --target=spirv --spirv-env=$env $opt $chk "$src" -o "$tmp/$name.spvasm" 2>/dev/null
                        venv=opencl1.2
                        grep -Eq "OpCapability (Float16|Int64Atomics)$" "$tmp/$name.spvasm" && venv=spv1.0
                    fi
                    if ! spirv-val --target-env $venv "$out" >"$tmp/err" 2>&1; then
                        echo "FAIL $t: spirv-val --target-env $venv rejects the module"
                        cat "$tmp/err"
                        fail=$((fail + 1))
                        continue
                    fi
                fi
                pass=$((pass + 1))
            done
        done
    done
done
echo "SPIR-V of every exec test and sample ($mode): $pass passed, $fail failed"
[ $fail -eq 0 ]
