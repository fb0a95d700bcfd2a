#!/bin/sh
# assemble.sh: every kernel of the test corpus through PTX and ptxas.
#
#   tests/codegen/ptx/assemble.sh [--via=llvm|nvrtc] DCKC
#
# Compiles every tests/exec/*.dck and samples/*.dck to PTX (plain and --checked, at -O0 and
# -O2) by the chosen route (LLVM plugin, or CUDA C through NVRTC) and assembles each PTX with
# `ptxas --gpu-name sm_80` and `sm_90`. A file dckc rejects or ptxas refuses is a compiler bug.
# Exit status: 0 all passed, 1 a failure, 2 usage, 77 skipped (no ptxas; no PTX route).
set -u
via=llvm
case "${1:-}" in
--via=*) via=${1#--via=}; shift ;;
esac
if [ $# -lt 1 ]; then
    echo "usage: $0 [--via=llvm|nvrtc] DCKC" >&2
    exit 2
fi
dckc=$1
root=$(cd "$(dirname "$0")/../../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-ptxas.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

PTXAS=${PTXAS:-}
if [ -z "$PTXAS" ]; then
    if command -v ptxas >/dev/null 2>&1; then PTXAS=ptxas
    elif [ -x /usr/local/cuda/bin/ptxas ]; then PTXAS=/usr/local/cuda/bin/ptxas
    fi
fi
if [ -z "$PTXAS" ]; then
    echo "SKIPPED: ptxas not found (CUDA toolkit; set PTXAS)"
    exit 77
fi
if ! "$dckc" --target=ptx --ptx-via="$via" "$root/tests/exec/saxpy.dck" -o "$tmp/probe.ptx" 2>"$tmp/probe.err"; then
    echo "SKIPPED: dckc cannot produce PTX via $via: $(cat "$tmp/probe.err")"
    exit 77
fi

pass=0
fail=0
for src in "$root"/tests/exec/*.dck "$root"/samples/*.dck; do
    name=$(basename "$src" .dck)
    for opt in -O0 -O2; do
        for chk in "" --checked; do
            out="$tmp/$name$opt$chk.ptx"
            # shellcheck disable=SC2086
            if ! "$dckc" --target=ptx --ptx-via="$via" $opt $chk "$src" -o "$out" 2>"$tmp/err"; then
                echo "FAIL $name $opt $chk: dckc failed"
                cat "$tmp/err"
                fail=$((fail + 1))
                continue
            fi
            for sm in sm_80 sm_90; do
                if "$PTXAS" --gpu-name $sm "$out" -o "$tmp/x.cubin" 2>"$tmp/err"; then
                    pass=$((pass + 1))
                else
                    echo "FAIL $name $opt $chk: ptxas --gpu-name $sm"
                    head -20 "$tmp/err"
                    fail=$((fail + 1))
                fi
            done
        done
    done
done
echo "PTX via $via assembled by ptxas: $pass passed, $fail failed"
[ $fail -eq 0 ]
