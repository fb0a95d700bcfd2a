#!/bin/sh
# run.sh: golden tests of the SPIR-V backend.
#
#   tests/codegen/spirv/run.sh [--update] DCKC
#
# For every tests/codegen/spirv/NAME.dck and both environments (vulkan, opencl): compiles it
# with `DCKC --target=spirv --spirv-env=ENV` (plus the flags on a `// DCKC: ...` line of the
# file) into a binary and into its disassembly (-o x.spvasm), compares the disassembly with
# NAME.ENV.spvasm.expected, checks that a second run gives a byte-identical binary, and runs
# the standalone spirv-val on the binary as an independent check (Vulkan 1.1; OpenCL 1.2, or
# the SPIR-V 1.0 core rules when the module computes in half or has 64-bit atomics, which
# the OpenCL 1.2 profile cannot express). dckc itself validates every
# module in-process with the same library; spirv-val is the separate tool.
# --update rewrites the .spvasm.expected files instead of comparing.
# Exit status: 0 all passed, 1 a test failed, 2 usage, 77 spirv-val is not installed.
set -u

update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
if [ $# -lt 1 ]; then
    echo "usage: $0 [--update] DCKC" >&2
    exit 2
fi
case "$1" in
/*) dckc=$1 ;;
*) dckc=$(pwd)/$1 ;;
esac
if [ ! -x "$dckc" ]; then
    echo "$0: $dckc is not an executable" >&2
    exit 2
fi
if ! command -v spirv-val >/dev/null 2>&1; then
    echo "SKIPPED: spirv-val (SPIRV-Tools) is not installed"
    exit 77
fi

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-golden-spirv.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

val_env() { # $1 env, $2 disassembly
    if [ "$1" = vulkan ]; then
        echo vulkan1.1
    elif grep -Eq "OpCapability (Float16|Int64Atomics)$" "$2"; then
        echo spv1.0
    else
        echo opencl1.2
    fi
}

pass=0
fail=0
cd "$here" || exit 2
for src in *.dck; do
    name=${src%.dck}
    flags=$(sed -n 's|^// DCKC: ||p' "$src" | head -n 1)
    for env in vulkan opencl; do
        t="$name.$env"
        # shellcheck disable=SC2086
        if ! "$dckc" --target=spirv --spirv-env=$env $flags "$src" -o "$tmp/$t.spv" 2>"$tmp/$t.err" ||
           ! "$dckc" --target=spirv --spirv-env=$env $flags "$src" -o "$tmp/$t.spvasm" 2>>"$tmp/$t.err"; then
            echo "FAIL $t: dckc failed"
            cat "$tmp/$t.err"
            fail=$((fail + 1))
            continue
        fi
        # shellcheck disable=SC2086
        "$dckc" --target=spirv --spirv-env=$env $flags "$src" -o "$tmp/$t.again.spv" 2>/dev/null
        if ! cmp -s "$tmp/$t.spv" "$tmp/$t.again.spv"; then
            echo "FAIL $t: output is not deterministic"
            fail=$((fail + 1))
            continue
        fi
        if [ $update -eq 1 ]; then
            cp "$tmp/$t.spvasm" "$t.spvasm.expected"
            echo "updated $t.spvasm.expected"
        elif [ ! -f "$t.spvasm.expected" ]; then
            echo "FAIL $t: no $t.spvasm.expected (run with --update)"
            fail=$((fail + 1))
            continue
        elif ! diff -u "$t.spvasm.expected" "$tmp/$t.spvasm" >"$tmp/$t.diff"; then
            echo "FAIL $t: output differs from $t.spvasm.expected"
            cat "$tmp/$t.diff"
            fail=$((fail + 1))
            continue
        fi
        venv=$(val_env "$env" "$tmp/$t.spvasm")
        if ! spirv-val --target-env "$venv" "$tmp/$t.spv" >"$tmp/$t.val" 2>&1; then
            echo "FAIL $t: spirv-val --target-env $venv rejects the output"
            cat "$tmp/$t.val"
            fail=$((fail + 1))
            continue
        fi
        pass=$((pass + 1))
        echo "ok   $t"
    done
done
echo "SPIR-V backend goldens: $pass passed, $fail failed"
[ $fail -eq 0 ]
