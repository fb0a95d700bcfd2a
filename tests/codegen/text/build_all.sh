#!/bin/sh
# build_all.sh: every kernel of tests/exec/*.dck and samples/*.dck, compiled for TARGET at
# -O0 and -O2 (MSL: -O2), plain and --checked, must be accepted by the target's own compiler.
#
#   tests/codegen/text/build_all.sh TARGET DCKC CHECKER
#
# TARGET/CHECKER as in golden.sh (opencl: clbuild, cuda: nvrtc_check, msl: clang++ with the
# Metal shim). A failure names the .dck file and the flags. Exit status: 0 all built, 1 a
# failure, 2 usage, 77 the checker is not available here (prints SKIPPED).
set -u
if [ $# -lt 3 ]; then
    echo "usage: $0 opencl|cuda|msl DCKC CHECKER" >&2
    exit 2
fi
target=$1
case "$target" in
opencl) ext=cl ;;
cuda) ext=cu ;;
msl) ext=metal ;;
*) echo "$0: unknown target $target" >&2; exit 2 ;;
esac
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
dckc=$(abspath "$2")
checker=$3
[ -e "$checker" ] && checker=$(abspath "$checker")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
if [ "$target" = msl ] && ! command -v "$checker" >/dev/null 2>&1; then
    echo "SKIPPED: $checker is not installed"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-buildall-$target.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

fail=0
n=0
for src in "$root"/tests/exec/*.dck "$root"/samples/*.dck; do
    base=$(basename "$src" .dck)
    dir=$(basename "$(dirname "$src")")
    # MSL: -O2 only (clang++ with the shim header is slow; tests/msl runs every kernel too)
    opts="-O0 -O2"
    [ "$target" = msl ] && opts=-O2
    for opt in $opts; do
        for chk in "" --checked; do
            n=$((n + 1))
            out="$tmp/$dir-$base$opt$chk.$ext"
            if ! "$dckc" --target="$target" $opt $chk "$src" -o "$out" 2>"$tmp/err"; then
                echo "FAIL $dir/$base.dck $opt $chk: dckc failed"
                cat "$tmp/err"
                fail=1
                continue
            fi
            case "$target" in
            msl)
                # half literals (2.0h) respelled for C++ first, as tests/msl/run.py does
                python3 "$root/tests/msl/gen_driver.py" --half-literals "$out" "$out.cpp"
                if ! "$checker" -std=c++17 -Wall -Werror -Wno-unknown-attributes -fsyntax-only \
                    -I "$root/tests/msl/include" -x c++ "$out.cpp" >"$tmp/log" 2>&1; then
                    echo "FAIL $dir/$base.dck $opt $chk: clang++ with the Metal shim rejects the MSL"
                    cat "$tmp/log"
                    fail=1
                fi
                ;;
            *) ;; # built together below: one OpenCL context / NVRTC load for all files
            esac
        done
    done
done
if [ "$target" != msl ]; then
    # the file names say which .dck and flags: DIR-NAME-O2--checked.cl
    "$checker" --label "build_all" "$tmp"/*."$ext" >"$tmp/log" 2>&1
    r=$?
    if [ $r -eq 77 ]; then
        cat "$tmp/log"
        exit 77
    fi
    if [ $r -ne 0 ]; then
        cat "$tmp/log"
        fail=1
    fi
fi
if [ $fail -eq 0 ]; then
    echo "$target: all $n builds accepted"
fi
exit $fail
