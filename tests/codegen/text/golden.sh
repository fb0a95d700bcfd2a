#!/bin/sh
# golden.sh: golden tests of the C-like GPU text backends (OpenCL C, CUDA C, MSL).
#
#   tests/codegen/text/golden.sh TARGET [--update] DCKC [CHECKER]
#
# TARGET is opencl, cuda or msl; tests/codegen/TARGET/run.sh calls this. For every
# tests/codegen/c/NAME.dck and tests/codegen/text/NAME.dck: compiles it with
# `DCKC --target=TARGET` (plus the flags of a `// DCKC: ...` line), compares the output
# with tests/codegen/TARGET/NAME.EXT.expected, checks that a second run gives byte-identical
# output, and, when a checker is given, has the output built by an independent compiler:
#   opencl: CHECKER = the clbuild tool (PoCL; skipped when no OpenCL platform)
#   cuda:   CHECKER = the nvrtc_check tool (NVRTC; skipped when absent)
#   msl:    CHECKER = clang++ (C++17 with the Metal shim of tests/msl/include)
# --update rewrites the .expected files instead of comparing.
# Exit status: 0 all passed, 1 a test failed, 2 usage.
set -u

target=${1:-}
shift
case "$target" in
opencl) ext=cl ;;
cuda) ext=cu ;;
msl) ext=metal ;;
*)
    echo "usage: $0 opencl|cuda|msl [--update] DCKC [CHECKER]" >&2
    exit 2
    ;;
esac
update=0
if [ "${1:-}" = "--update" ]; then
    update=1
    shift
fi
if [ $# -lt 1 ]; then
    echo "usage: $0 $target [--update] DCKC [CHECKER]" >&2
    exit 2
fi
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
dckc=$(abspath "$1")
checker=${2:-}
[ -n "$checker" ] && [ -e "$checker" ] && checker=$(abspath "$checker")
if [ ! -x "$dckc" ]; then
    echo "$0: $dckc is not an executable" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
codegen=$(dirname "$here")
root=$(dirname "$(dirname "$codegen")")
expdir="$codegen/$target"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-golden-$target.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

check() { # check FILE: 0 built, 1 rejected, 77 checker unavailable
    [ -z "$checker" ] && return 77
    case "$target" in
    msl)
        command -v "$checker" >/dev/null 2>&1 || return 77
        "$checker" -std=c++17 -Wall -Werror -Wno-unknown-attributes -fsyntax-only -I "$root/tests/msl/include" \
            -x c++ "$1" >"$tmp/check.log" 2>&1
        ;;
    *) "$checker" "$1" >"$tmp/check.log" 2>&1 ;;
    esac
    r=$?
    [ $r -eq 77 ] && return 77
    [ $r -eq 0 ] && return 0
    cat "$tmp/check.log"
    return 1
}

pass=0
fail=0
skipped_check=0
for src in "$codegen"/c/*.dck "$here"/*.dck; do
    name=$(basename "$src" .dck)
    flags=$(sed -n 's|^// DCKC: ||p' "$src" | head -n 1)
    out="$tmp/$name.$ext"
    # shellcheck disable=SC2086
    if ! (cd "$(dirname "$src")" && "$dckc" --target=$target $flags "$(basename "$src")" -o "$out") 2>"$tmp/$name.err"; then
        echo "FAIL $name: dckc failed"
        cat "$tmp/$name.err"
        fail=$((fail + 1))
        continue
    fi
    # shellcheck disable=SC2086
    (cd "$(dirname "$src")" && "$dckc" --target=$target $flags "$(basename "$src")" -o "$tmp/$name.again.$ext") 2>/dev/null
    if ! cmp -s "$out" "$tmp/$name.again.$ext"; then
        echo "FAIL $name: output is not deterministic"
        fail=$((fail + 1))
        continue
    fi
    exp="$expdir/$name.$ext.expected"
    if [ $update -eq 1 ]; then
        cp "$out" "$exp"
        echo "updated $target/$name.$ext.expected"
        continue
    elif [ ! -f "$exp" ]; then
        echo "FAIL $name: no $target/$name.$ext.expected (run with --update)"
        fail=$((fail + 1))
        continue
    elif ! diff -u "$exp" "$out" >"$tmp/$name.diff"; then
        echo "FAIL $name: output differs from $target/$name.$ext.expected"
        cat "$tmp/$name.diff"
        fail=$((fail + 1))
        continue
    fi
    check "$out"
    r=$?
    if [ $r -eq 1 ]; then
        echo "FAIL $name: the $target compiler rejects the output"
        fail=$((fail + 1))
        continue
    fi
    [ $r -eq 77 ] && skipped_check=$((skipped_check + 1))
    pass=$((pass + 1))
    echo "ok   $name"
done
[ $skipped_check -gt 0 ] && echo "note: $skipped_check outputs not built (no $target compiler here)"
echo "$target backend goldens: $pass passed, $fail failed"
[ $fail -eq 0 ]
