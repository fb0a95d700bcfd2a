#!/bin/sh
# exec_isa.sh: the execution corpus on one SIMD ISA.
#
#   tests/codegen/simd/exec_isa.sh ISA TEST_EXEC [ARGS...]
#
# Runs the test_exec binary (tests/exec/*.dck against C references, plain and checked) with
# DCK_CPU_ISA=ISA: the runtime JIT compiles that ISA's group functions and runs them. An ISA
# this CPU cannot run is skipped (exit 77) rather than silently falling back to scalar code.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 ISA TEST_EXEC" >&2
    exit 2
fi
isa=$1
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has() { case " $flags " in *" $1 "*) return 0 ;; esac; return 1; }
arch=$(uname -m)
case "$isa" in
scalar) ok=1 ;;
sse4) [ "$arch" = x86_64 ] && has sse4_2 && ok=1 || ok=0 ;;
avx2) [ "$arch" = x86_64 ] && has avx2 && has fma && ok=1 || ok=0 ;;
avx512) [ "$arch" = x86_64 ] && has avx512f && has avx512bw && has avx512dq && has avx512vl && ok=1 || ok=0 ;;
neon) [ "$arch" = aarch64 ] && ok=1 || ok=0 ;;
*) echo "$0: unknown ISA '$isa'" >&2; exit 2 ;;
esac
if [ "$ok" -ne 1 ]; then
    echo "SKIPPED: this CPU ($arch) cannot run $isa code (its variants are compile-checked by the SIMD goldens)"
    exit 77
fi
test_exec=$2
shift 2
DCK_CPU_ISA=$isa exec "$test_exec" "$@"
