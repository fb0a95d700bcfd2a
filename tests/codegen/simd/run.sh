#!/bin/sh
# run.sh: golden tests of the SIMD variants of the C backend (codegen/cg_simd.inc).
#
#   tests/codegen/simd/run.sh [--update] DCKC
#
# For every tests/codegen/simd/NAME.dck: compiles it with
# `DCKC --target=c --cpu-isa=sse4,avx2,avx512,neon` (or the flags of a `// DCKC: ...` line),
# compares the output with NAME.c.expected (the pasted runtime/dck_abi.h replaced by a
# marker), checks that a second run is byte-identical, and compiles the output with the
# system C compiler and clang (when present) under -std=c11 -O2 -Wall -Wextra -Werror (the
# x86 variants: sse4, avx2 and avx512 are compiled, whatever this CPU runs). The NEON
# variants are compiled by tests/codegen/simd/neon.sh (aarch64 cross compiler).
# --update rewrites the .c.expected files instead of comparing.
# Exit status: 0 all passed, 1 a test failed, 2 usage.
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
CC=${CC:-cc}

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-golden-simd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

strip_abi() {
    awk '
        !done && /^\/\* dck_abi\.h:/ { skipping = 1 }
        skipping { if ($0 == "#endif") { skipping = 0; done = 1; print "/* [runtime/dck_abi.h, pasted verbatim] */" } next }
        { print }
    ' "$1"
}

have_clang=0
command -v clang >/dev/null 2>&1 && have_clang=1

pass=0
fail=0
cd "$here" || exit 2
for src in *.dck; do
    name=${src%.dck}
    flags=$(sed -n 's|^// DCKC: ||p' "$src" | head -n 1)
    [ -n "$flags" ] || flags="--cpu-isa=sse4,avx2,avx512,neon"
    out="$tmp/$name.c"
    # shellcheck disable=SC2086
    if ! "$dckc" --target=c $flags "$src" -o "$out" 2>"$tmp/$name.err"; then
        echo "FAIL $name: dckc failed"
        cat "$tmp/$name.err"
        fail=$((fail + 1))
        continue
    fi
    # shellcheck disable=SC2086
    "$dckc" --target=c $flags "$src" -o "$tmp/$name.again.c" 2>/dev/null
    if ! cmp -s "$out" "$tmp/$name.again.c"; then
        echo "FAIL $name: output is not deterministic"
        fail=$((fail + 1))
        continue
    fi
    if grep -q "^/\* kernel .*: no .* variant" "$out"; then
        echo "FAIL $name: a kernel was not vectorized:"
        grep "^/\* kernel .*: no .* variant" "$out"
        fail=$((fail + 1))
        continue
    fi
    strip_abi "$out" >"$tmp/$name.stripped"
    if [ $update -eq 1 ]; then
        cp "$tmp/$name.stripped" "$name.c.expected"
        echo "updated $name.c.expected"
    elif [ ! -f "$name.c.expected" ]; then
        echo "FAIL $name: no $name.c.expected (run with --update)"
        fail=$((fail + 1))
        continue
    elif ! diff -u "$name.c.expected" "$tmp/$name.stripped" >"$tmp/$name.diff"; then
        echo "FAIL $name: output differs from $name.c.expected"
        cat "$tmp/$name.diff"
        fail=$((fail + 1))
        continue
    fi
    ok=1
    if ! $CC -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared "$out" -o "$tmp/$name.so" 2>"$tmp/$name.cc"; then
        echo "FAIL $name: $CC rejects the output"
        cat "$tmp/$name.cc"
        ok=0
    fi
    if [ $ok -eq 1 ] && [ $have_clang -eq 1 ]; then
        if ! clang -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared "$out" -o "$tmp/$name.so" 2>"$tmp/$name.cc"; then
            echo "FAIL $name: clang rejects the output"
            cat "$tmp/$name.cc"
            ok=0
        fi
    fi
    if [ $ok -eq 1 ]; then
        pass=$((pass + 1))
        echo "ok   $name"
    else
        fail=$((fail + 1))
    fi
done
echo "SIMD goldens: $pass passed, $fail failed"
[ $fail -eq 0 ]
