#!/bin/sh
# run.sh: golden tests of the SIMD variants of the C backend (codegen/cg_simd.inc).
#
#   tests/codegen/simd/run.sh [--update] DCKC
#
# For every tests/codegen/simd/NAME.dck: compiles it with
# `DCKC --target=c --cpu-isa=sse4,avx2,avx512,neon` (or the flags of a `// DCKC: ...` line),
# compares the output with NAME.c.expected (the pasted abi/dck_abi.h replaced by a
# marker), checks that a second run is byte-identical, that every kernel got its SIMD
# variants, and compiles the output with the system C compiler and clang (when present)
# under -std=c11 -O2 -Wall -Wextra -Werror (the x86 variants: sse4, avx2 and avx512 are
# compiled, whatever this CPU runs). The NEON variants are compiled by
# tests/codegen/simd/neon.sh (aarch64 cross compiler). The body is ../golden_lib.sh.
# --update rewrites the .c.expected files instead of comparing.
# Exit status: 0 all passed, 1 a test failed, 2 usage.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../golden_lib.sh"
label="SIMD"
golden_init "$@"
CC=${CC:-cc}

golden_emit() {
    flags=$(golden_flags "$1")
    # shellcheck disable=SC2086
    "$dckc" --target=c ${flags:---cpu-isa=sse4,avx2,avx512,neon} "$1" -o "$2"
}

golden_normalize() { golden_strip_abi "$1"; }

have_clang=0
command -v clang >/dev/null 2>&1 && have_clang=1

golden_check() {
    if grep -q "^/\* kernel .*: no .* variant" "$2"; then
        echo "FAIL $1: a kernel was not vectorized:"
        grep "^/\* kernel .*: no .* variant" "$2"
        return 1
    fi
    for c in $CC clang; do
        [ "$c" = clang ] && [ $have_clang -eq 0 ] && continue
        if ! $c -x c -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared "$2" -o "$tmp/$1.so" 2>"$tmp/$1.cc"; then
            echo "FAIL $1: $c rejects the output"
            cat "$tmp/$1.cc"
            return 1
        fi
    done
    return 0
}

cd "$here" || exit 2
for src in *.dck; do
    golden_one "${src%.dck}" "$src" "${src%.dck}.c.expected"
done
golden_finish
