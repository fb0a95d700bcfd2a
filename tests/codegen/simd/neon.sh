#!/bin/sh
# neon.sh: the NEON variants compile for aarch64.
#
#   tests/codegen/simd/neon.sh DCKC
#
# Compiles every tests/codegen/simd/*.dck and tests/exec/*.dck with
# `DCKC --target=c --cpu-isa=neon` and builds the output with aarch64-linux-gnu-gcc
# (-std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared): the NEON group functions, their
# intrinsics and the dispatch table. Nothing runs (this is an x86 machine). Skipped (exit 77)
# when the cross compiler is not installed (Debian: gcc-aarch64-linux-gnu).
set -u
if [ $# -lt 1 ]; then
    echo "usage: $0 DCKC" >&2
    exit 2
fi
case "$1" in
/*) dckc=$1 ;;
*) dckc=$(pwd)/$1 ;;
esac
XCC=${AARCH64_CC:-aarch64-linux-gnu-gcc}
if ! command -v "$XCC" >/dev/null 2>&1; then
    echo "SKIPPED: $XCC is not installed (apt-get install gcc-aarch64-linux-gnu)"
    exit 77
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-neon.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
for src in "$here"/*.dck "$root"/tests/exec/*.dck; do
    name=$(basename "$src" .dck)
    out="$tmp/$name.c"
    if ! "$dckc" --target=c --cpu-isa=neon "$src" -o "$out" 2>"$tmp/err"; then
        echo "FAIL $name: dckc failed"
        cat "$tmp/err"
        fail=$((fail + 1))
        continue
    fi
    if ! grep -q "^static void dck_k_.*_neon(" "$out"; then
        echo "FAIL $name: no NEON group function"
        fail=$((fail + 1))
        continue
    fi
    if ! "$XCC" -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared "$out" -o "$tmp/$name.so" 2>"$tmp/err"; then
        echo "FAIL $name: $XCC rejects the output"
        cat "$tmp/err"
        fail=$((fail + 1))
        continue
    fi
    pass=$((pass + 1))
    echo "ok   $name"
done
echo "NEON compile checks: $pass passed, $fail failed"
[ $fail -eq 0 ]
