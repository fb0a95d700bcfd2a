#!/bin/sh
# run.sh: golden tests of the C backend.
#
#   tests/codegen/c/run.sh [--update] DCKC
#
# For every tests/codegen/c/NAME.dck: compiles it with `DCKC --target=c` (plus the flags on a
# `// DCKC: ...` line of the file), compares the output with NAME.c.expected, checks that a
# second run gives byte-identical output, and compiles the output with the system C compiler
# (and clang when present) under -std=c11 -O2 -Wall -Wextra -Werror, as an independent check.
# The copy of abi/dck_abi.h that every output starts with is replaced by a one-line
# marker before comparing, so a change to the ABI header alone does not touch the goldens.
# --update rewrites the .c.expected files instead of comparing.
# Exit status: 0 all passed, 1 a test failed, 2 usage.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../golden_lib.sh"
label="C backend"
golden_init "$@"
CC=${CC:-cc}

golden_emit() {
    # shellcheck disable=SC2046
    "$dckc" --target=c $(golden_flags "$1") "$1" -o "$2"
}

golden_normalize() { golden_strip_abi "$1"; }

have_clang=0
if command -v clang >/dev/null 2>&1; then
    have_clang=1
    clang_major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
fi

golden_check() {
    if ! $CC -x c -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared "$2" -o "$tmp/$1.so" 2>"$tmp/$1.cc"; then
        echo "FAIL $1: $CC rejects the output"
        cat "$tmp/$1.cc"
        return 1
    fi
    [ $have_clang -eq 1 ] || return 0
    if grep -q _Float16 "$2" && [ "${clang_major:-0}" -lt 15 ]; then
        echo "note $1: clang $clang_major has no _Float16 on x86-64; clang check skipped"
    elif ! clang -x c -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared "$2" -o "$tmp/$1.so" 2>"$tmp/$1.cc"; then
        echo "FAIL $1: clang rejects the output"
        cat "$tmp/$1.cc"
        return 1
    fi
    return 0
}

cd "$here" || exit 2
for src in *.dck; do
    golden_one "${src%.dck}" "$src" "${src%.dck}.c.expected"
done
golden_finish
