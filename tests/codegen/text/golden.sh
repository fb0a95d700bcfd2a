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
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../golden_lib.sh"
golden_extra_usage=" [CHECKER]"
label=$target
golden_init "$@"
checker=$extra
[ -n "$checker" ] && [ -e "$checker" ] && checker=$(cd "$(dirname "$checker")" && pwd)/$(basename "$checker")
codegen=$(dirname "$here")
root=$(dirname "$(dirname "$codegen")")
expdir="$codegen/$target"

golden_emit() {
    # shellcheck disable=SC2046
    (cd "$(dirname "$1")" && "$dckc" --target=$target $(golden_flags "$1") "$(basename "$1")" -o "$2")
}

golden_check() { # 0 built, 1 rejected, 77 checker unavailable
    [ -z "$checker" ] && return 77
    case "$target" in
    msl)
        command -v "$checker" >/dev/null 2>&1 || return 77
        # half literals (2.0h) respelled for C++ first, as tests/msl/run.py does
        python3 "$root/tests/msl/gen_driver.py" --half-literals "$2" "$tmp/check.cpp" &&
            "$checker" -std=c++17 -Wall -Werror -Wno-unknown-attributes -fsyntax-only \
                -I "$root/tests/msl/include" -x c++ "$tmp/check.cpp" >"$tmp/check.log" 2>&1
        ;;
    *) cp "$2" "$tmp/$1.$ext" && "$checker" "$tmp/$1.$ext" >"$tmp/check.log" 2>&1 ;;
    esac
    r=$?
    [ $r -eq 77 ] && return 77
    [ $r -eq 0 ] && return 0
    echo "FAIL $1: the $target compiler rejects the output"
    cat "$tmp/check.log"
    return 1
}

for src in "$codegen"/c/*.dck "$here"/*.dck; do
    name=$(basename "$src" .dck)
    golden_one "$name" "$src" "$expdir/$name.$ext.expected"
done
golden_finish
