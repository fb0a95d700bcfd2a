#!/bin/sh
# run.sh: the execution-test corpus on an NVIDIA GPU through the CUDA backend.
#
#   tests/gpu/run.sh DCKRUN [DCKC]
#
# For every tests/exec/*.dck: runs its `// RUN:` line with `dckrun --backend=cpu` (the
# reference) and with `dckrun --backend=$be` through both PTX routes (PTX from LLVM, the
# default; CUDA C through NVRTC with DCK_CUDA_PTX_VIA=nvrtc), plain and --checked, and
# compares every `// CHECK:` buffer (tests/gpu/compare.py: integers exactly, floats within a
# relative 1e-4). The PTX plugin is found through $DCK_PTX_PLUGIN when not next to dckrun.
# Known differences (listed in KNOWN below, reported but not failures): subgroups have one
# work-item on the CPU backend and 32 (a warp) on CUDA. Then: checked mode reports an
# out-of-bounds read (tests/gpu/oob.dck) on both routes, and packages made by DCKC (default:
# dckc next to DCKRUN) load on the device: PTX for an older sm only (the driver JIT-compiles
# it), and CUDA C only (NVRTC at load time).
# Exit status: 0 all passed, 1 a failure, 2 usage, 77 skipped (no CUDA device).
# DCK_GPU_ROUTES ("llvm", "nvrtc") limits the routes; DCK_GPU_REFS=DIR takes the CPU
# references from DIR, written beforehand on any machine by `tests/gpu/run.sh --refs DIR DCKRUN`.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)

# a corpus file's `// RUN:` arguments and `// CHECK:` buffers (as --print= options)
run_of() { sed -n 's|^// RUN: ||p' "$1" | head -n 1; }
prints_of() { sed -n 's|^// CHECK: *||p' "$1" | sed 's/^/--print=/' | tr '\n' ' '; }
# cpu_ref DCKRUN SRC OUT: the CPU backend's result of SRC's RUN line, the reference
cpu_ref() {
    # shellcheck disable=SC2046
    "$1" --backend=cpu "$2" $(run_of "$2") $(prints_of "$2") >"$3"
}

if [ "${1:-}" = --refs ] && [ $# -eq 3 ]; then
    mkdir -p "$2"
    for src in "$root"/tests/exec/*.dck; do
        [ -n "$(run_of "$src")" ] || continue
        cpu_ref "$3" "$src" "$2/$(basename "$src").txt" || exit 1
    done
    exit 0
fi
if [ $# -lt 1 ]; then
    echo "usage: $0 DCKRUN [DCKC] | $0 --refs DIR DCKRUN" >&2
    exit 2
fi
dckrun=$1
be=${DCK_GPU_BACKEND:-cuda} # another backend can stand in to try this script
here="$root/tests/gpu"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-gpu.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
PY=${PYTHON:-python3}

if ! "$dckrun" --list-devices 2>&1 | grep -q "^$be:0"; then
    echo "SKIPPED: no CUDA device: $("$dckrun" --list-devices 2>&1 | grep '^cuda')"
    exit 77
fi
"$dckrun" --list-devices 2>&1 | grep -A3 "^$be:"

# file:buffer pairs whose values legitimately differ between the CPU and CUDA backends
KNOWN="features.dck:f"

routes="llvm"
if [ -n "${DCK_GPU_ROUTES:-}" ]; then
    routes=$DCK_GPU_ROUTES # "llvm", "nvrtc" or both: a shorter run on a lent machine
elif DCK_CUDA_PTX_VIA=nvrtc "$dckrun" --backend=$be "$root/tests/exec/saxpy.dck" saxpy a=1 x=rand:4 y=rand:4 \
    >"$tmp/probe" 2>&1; then
    routes="llvm nvrtc"
else
    echo "note: the NVRTC route is not available: $(head -3 "$tmp/probe")"
fi

pass=0
fail=0
known=0
for src in "$root"/tests/exec/*.dck; do
    name=$(basename "$src")
    run=$(run_of "$src")
    [ -n "$run" ] || continue
    prints=$(prints_of "$src")
    if [ -n "${DCK_GPU_REFS:-}" ] && [ -f "$DCK_GPU_REFS/$name.txt" ]; then
        # references made beforehand (tests/gpu/run.sh --refs DIR on any machine): the GPU
        # machine then spends its time on the GPU runs only
        cp "$DCK_GPU_REFS/$name.txt" "$tmp/cpu.txt"
    elif ! cpu_ref "$dckrun" "$src" "$tmp/cpu.txt" 2>"$tmp/cpu.err"; then
        echo "FAIL $name: the CPU reference failed"; cat "$tmp/cpu.err"; fail=$((fail + 1)); continue
    fi
    for route in $routes; do
        for chk in "" --checked; do
            label="$name cuda/$route${chk:+ checked}"
            via=""
            [ "$route" = nvrtc ] && via=nvrtc
            # shellcheck disable=SC2086
            if ! DCK_CUDA_PTX_VIA=$via "$dckrun" --backend=$be $chk "$src" $run $prints >"$tmp/gpu.txt" 2>"$tmp/gpu.err"; then
                echo "FAIL $label: dckrun failed"; head -30 "$tmp/gpu.err"; fail=$((fail + 1)); continue
            fi
            if "$PY" "$here/compare.py" "$tmp/cpu.txt" "$tmp/gpu.txt" >"$tmp/diff.txt"; then
                pass=$((pass + 1)); echo "ok   $label"
                continue
            fi
            expected=1
            for buf in $(sed -n 's/^  \([A-Za-z_0-9]*\)[[:punct:]].*/\1/p' "$tmp/diff.txt" | sort -u); do
                case " $KNOWN " in *" $name:$buf "*) ;; *) expected=0 ;; esac
            done
            if [ $expected -eq 1 ]; then
                known=$((known + 1)); echo "ok   $label (known difference: subgroups of 32 on CUDA, 1 on the CPU)"
            else
                fail=$((fail + 1)); echo "FAIL $label: differs from the CPU backend"; cat "$tmp/diff.txt"
            fi
        done
    done
done

# checked mode: the first violation is reported with the buffer and the line, never a crash
for route in $routes; do
    via=""
    [ "$route" = nvrtc ] && via=nvrtc
    if DCK_CUDA_PTX_VIA=$via "$dckrun" --backend=$be --checked "$here/oob.dck" gather idx=rand:64:3 src=rand:50 \
        dst=zeros:64 >"$tmp/oob.txt" 2>&1; then
        fail=$((fail + 1)); echo "FAIL oob.dck cuda/$route: the out-of-bounds read was not reported"
    elif grep -q "out-of-bounds read from buffer 'src'.*line 5" "$tmp/oob.txt"; then
        pass=$((pass + 1)); echo "ok   oob.dck cuda/$route: $(cat "$tmp/oob.txt")"
    else
        fail=$((fail + 1)); echo "FAIL oob.dck cuda/$route: unexpected report"; cat "$tmp/oob.txt"
    fi
done

# packages: PTX for sm_80 only, and CUDA C only
dckc=${2:-$(dirname "$dckrun")/dckc}
src="$root/tests/exec/saxpy.dck"
args="a=2.5 x=rand:1000:1 y=rand:1000:2 --print=y"
# shellcheck disable=SC2086
"$dckrun" --backend=cpu "$src" saxpy $args >"$tmp/cpu.txt" 2>&1
for t in "ptx --sm=80" cuda; do
    # shellcheck disable=SC2086
    if ! "$dckc" --emit=package --target=$t "$src" -o "$tmp/pkg.dckpkg" 2>"$tmp/pkg.err"; then
        if [ "$t" = cuda ] && ! echo "$routes" | grep -q nvrtc; then continue; fi
        fail=$((fail + 1)); echo "FAIL package --target=$t: dckc failed"; cat "$tmp/pkg.err"; continue
    fi
    # shellcheck disable=SC2086
    if "$dckrun" --backend=$be -v "$tmp/pkg.dckpkg" saxpy $args >"$tmp/gpu.txt" 2>"$tmp/gpu.err" &&
        "$PY" "$here/compare.py" "$tmp/cpu.txt" "$tmp/gpu.txt" >"$tmp/diff.txt"; then
        pass=$((pass + 1)); echo "ok   package --target=$t runs on the device"
    else
        fail=$((fail + 1)); echo "FAIL package --target=$t"; cat "$tmp/gpu.err" "$tmp/diff.txt"
    fi
done
echo "CUDA backend vs CPU: $pass passed, $known known differences, $fail failed (routes: $routes)"
[ $fail -eq 0 ]
