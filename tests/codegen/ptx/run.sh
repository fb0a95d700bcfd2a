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

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-golden-ptx.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

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

pass=0
fail=0
cd "$here" || exit 2
for src in *.dck; do
    name=${src%.dck}
    flags=$(sed -n 's|^// DCKC: ||p' "$src" | head -n 1)
    out="$tmp/$name.ptx"
    # shellcheck disable=SC2086
    if ! "$dckc" --target=ptx --sm=80 $flags "$src" -o "$out" 2>"$tmp/$name.err"; then
        echo "FAIL $name: dckc failed"
        cat "$tmp/$name.err"
        fail=$((fail + 1))
        continue
    fi
    # shellcheck disable=SC2086
    "$dckc" --target=ptx --sm=80 $flags "$src" -o "$tmp/$name.again.ptx" 2>/dev/null
    if ! cmp -s "$out" "$tmp/$name.again.ptx"; then
        echo "FAIL $name: output is not deterministic"
        fail=$((fail + 1))
        continue
    fi
    if [ $update -eq 1 ]; then
        cp "$out" "$name.ptx.expected"
        echo "updated $name.ptx.expected"
    elif [ ! -f "$name.ptx.expected" ]; then
        echo "FAIL $name: no $name.ptx.expected (run with --update)"
        fail=$((fail + 1))
        continue
    elif ! diff -u "$name.ptx.expected" "$out" >"$tmp/$name.diff"; then
        echo "FAIL $name: output differs from $name.ptx.expected"
        cat "$tmp/$name.diff"
        fail=$((fail + 1))
        continue
    fi
    ok=1
    if [ -n "$PTXAS" ]; then
        for sm in sm_80 sm_90; do
            if ! "$PTXAS" --gpu-name $sm "$out" -o "$tmp/$name.cubin" 2>"$tmp/$name.ptxas"; then
                echo "FAIL $name: ptxas --gpu-name $sm rejects the output"
                cat "$tmp/$name.ptxas"
                ok=0
            fi
        done
    fi
    if [ $ok -eq 1 ]; then
        pass=$((pass + 1))
        echo "ok   $name"
    else
        fail=$((fail + 1))
    fi
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

echo "PTX backend goldens: $pass passed, $fail failed"
[ $fail -eq 0 ]
