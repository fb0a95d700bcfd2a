#!/bin/sh
# stride_exec.sh: runs tests/codegen/simd/stride.dck (grid-stride loops, atomics on shared
# memory) with DCK_CPU_ISA=scalar and with every SIMD ISA this CPU runs, plain and --checked,
# and requires every output buffer to be byte-identical to the scalar run's.
#
#   tests/codegen/simd/stride_exec.sh DCKRUN
#
# Exit status: 0 all agree, 1 a difference or a failed run, 2 usage, 77 no SIMD ISA here.
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 DCKRUN" >&2
    exit 2
fi
dckrun=$1
here=$(cd "$(dirname "$0")" && pwd)
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has() { case " $flags " in *" $1 "*) return 0 ;; esac; return 1; }
isas=""
case "$(uname -m)" in
x86_64)
    has sse4_2 && isas="$isas sse4"
    has avx2 && has fma && isas="$isas avx2"
    has avx512f && has avx512bw && has avx512dq && has avx512vl && isas="$isas avx512"
    ;;
aarch64) isas="neon" ;;
esac
if [ -z "$isas" ]; then
    echo "SKIPPED: this CPU has no SIMD ISA the vectorizer targets"
    exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-stride.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# launches: NAME|BUFFERS TO COMPARE|ARGUMENTS (sum3: work-items 100..103 must leave y alone)
# gstride: 1000 elements over 192 work-items, so lanes leave the loop at different iterations
launches="gstride|hist mm bits fsum sums copy|data=rand:1000:3 hist=zeros:16 mm=zeros:2 bits=zeros:1 fsum=zeros:3 sums=zeros:192 copy=zeros:1000 --global=192
tmm|c ct|n=24 a=rand:576 b=rand:576 c=zeros:576 ct=zeros:576 --global=24,24
sum3|y|x=rand:312 y=rand:104 --global=100 --local=64
blive|y|x=rand:48 y=zeros:48 --global=48"
run() { # ISA DIR KERNEL BUFFERS ARGS [--checked]
    mkdir -p "$2"
    outs=""
    for b in $4; do outs="$outs --out=$b=$2/$b.bin"; done
    # shellcheck disable=SC2086
    DCK_CPU_ISA=$1 "$dckrun" --backend=cpu ${6:-} "$here/stride.dck" "$3" $5 $outs >"$2/log" 2>&1
}
fail=0
echo "$launches" | while IFS='|' read -r k bufs args; do
    for mode in plain checked; do
        opt=""
        [ $mode = checked ] && opt=--checked
        if ! run scalar "$tmp/$k-scalar-$mode" "$k" "$bufs" "$args" $opt; then
            echo "FAIL: $k scalar $mode run"; cat "$tmp/$k-scalar-$mode/log"; exit 1
        fi
        for isa in $isas; do
            d="$tmp/$k-$isa-$mode"
            if ! run "$isa" "$d" "$k" "$bufs" "$args" $opt; then
                echo "FAIL: $k $isa $mode run"; cat "$d/log"; exit 1
            fi
            for b in $bufs; do
                if ! cmp -s "$tmp/$k-scalar-$mode/$b.bin" "$d/$b.bin"; then
                    echo "FAIL: $k $isa $mode: buffer $b differs from the scalar run"
                    exit 1
                fi
            done
            echo "ok: $k $isa $mode"
        done
    done
done || fail=1
exit $fail
