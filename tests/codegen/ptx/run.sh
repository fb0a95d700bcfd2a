#!/bin/sh
# run.sh: golden tests of the PTX backend (LLVM route, sm_80).
#
#   tests/codegen/ptx/run.sh [--update] DCKC
#
# For every tests/codegen/ptx/NAME.dck: compiles it with `DCKC --target=ptx --sm=80` (plus the
# flags on a `// DCKC: ...` line of the file), compares the output with NAME.ptx.expected,
# checks that a second run gives byte-identical output (determinism), and, where ptxas is
# installed, assembles the output for sm_80 and sm_90 as an independent check. It also checks
# that --sm=80,90 writes one file per architecture (NAME.sm80.ptx, NAME.sm90.ptx).
# --update rewrites the .ptx.expected files instead of comparing.
# Exit status: 0 all passed, 1 a test failed, 2 usage, 77 skipped (dckc built without the
# PTX plugin).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../golden_lib.sh"
label="PTX backend"
golden_init "$@"

if ! "$dckc" --target=ptx "$here/saxpy.dck" -o "$tmp/probe.ptx" 2>"$tmp/probe.err"; then
    if grep -q "PTX code generator" "$tmp/probe.err"; then
        echo "SKIPPED: this dckc has no PTX code generator: $(cat "$tmp/probe.err")"
        exit 77
    fi
fi

PTXAS=${PTXAS:-}
if [ -z "$PTXAS" ]; then
    if command -v ptxas >/dev/null 2>&1; then PTXAS=ptxas
    elif [ -x /usr/local/cuda/bin/ptxas ]; then PTXAS=/usr/local/cuda/bin/ptxas
    fi
fi
[ -n "$PTXAS" ] || echo "note: ptxas not found: the outputs are compared, not assembled"

golden_emit() {
    # shellcheck disable=SC2046
    "$dckc" --target=ptx --sm=80 $(golden_flags "$1") "$1" -o "$2"
}

golden_check() {
    [ -n "$PTXAS" ] || return 77
    for sm in sm_80 sm_90; do
        if ! "$PTXAS" --gpu-name $sm "$2" -o "$tmp/$1.cubin" 2>"$tmp/$1.ptxas"; then
            echo "FAIL $1: ptxas --gpu-name $sm rejects the output"
            cat "$tmp/$1.ptxas"
            return 1
        fi
    done
    return 0
}

cd "$here" || exit 2
for src in *.dck; do
    golden_one "${src%.dck}" "$src" "${src%.dck}.ptx.expected"
done
# several architectures: one file each, each naming its own target
mkdir -p "$tmp/multi"
if "$dckc" --target=ptx --sm=80,90 saxpy.dck -o "$tmp/multi" 2>"$tmp/multi.err" &&
    grep -q '^\.target sm_80' "$tmp/multi/saxpy.sm80.ptx" 2>/dev/null &&
    grep -q '^\.target sm_90' "$tmp/multi/saxpy.sm90.ptx" 2>/dev/null; then
    pass=$((pass + 1))
    echo "ok   --sm=80,90 writes saxpy.sm80.ptx and saxpy.sm90.ptx"
else
    echo "FAIL --sm=80,90: expected saxpy.sm80.ptx and saxpy.sm90.ptx"
    cat "$tmp/multi.err"
    ls "$tmp/multi"
    fail=$((fail + 1))
fi
# a bad architecture is a usage error
"$dckc" --target=ptx --sm=70 saxpy.dck -o "$tmp/x.ptx" 2>/dev/null
if [ $? -eq 2 ]; then
    pass=$((pass + 1))
    echo "ok   --sm=70 is a usage error"
else
    echo "FAIL --sm=70 should be a usage error (exit 2)"
    fail=$((fail + 1))
fi

golden_finish
