# golden_lib.sh: the shared body of the codegen golden tests; sourced by each backend's run.sh.
#
# A run.sh sets `label` (for its summary line), calls `golden_init "$@"` (parses
# `[--update] DCKC [EXTRA]`: sets $update, $dckc (absolute), $extra, $tmp, with $tmp removed at
# exit), defines
#   golden_emit SRC OUT         compile SRC (a .dck path) into OUT; non-zero on failure
#   golden_normalize IN         optional: print IN as it is compared (default: unchanged)
#   golden_check NAME OUT       optional independent check of OUT: 0 accepted, 1 rejected (after
#                               printing why), 77 checker not available here
# then calls `golden_one NAME SRC EXPECTED` per case and ends with `golden_finish`.
#
# golden_one compiles SRC twice (the outputs must be byte-identical: determinism), compares
# the normalized output with EXPECTED (or rewrites EXPECTED under --update) and runs the check.
# Exit status of golden_finish: 0 all passed, 1 a test failed.

golden_usage() {
    echo "usage: $0 [--update] DCKC${golden_extra_usage:-}" >&2
    exit 2
}

golden_init() {
    update=0
    if [ "${1:-}" = "--update" ]; then
        update=1
        shift
    fi
    [ $# -ge 1 ] || golden_usage
    case "$1" in
    /*) dckc=$1 ;;
    *) dckc=$(pwd)/$1 ;;
    esac
    if [ ! -x "$dckc" ]; then
        echo "$0: $dckc is not an executable" >&2
        exit 2
    fi
    extra=${2:-}
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/dck-golden.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT INT TERM
    pass=0
    fail=0
    skipped_check=0
    skipped=0
}

# default hooks: a run.sh redefines what it needs
golden_normalize() { cat "$1"; }
golden_check() { return 77; }

# The C backend's output without the copy of abi/dck_abi.h every file starts with (one
# marker line instead), so a change to the ABI header alone does not touch the goldens.
golden_strip_abi() {
    awk '
        !done && /^\/\* dck_abi\.h:/ { skipping = 1 }
        skipping { if ($0 == "#endif") { skipping = 0; done = 1; print "/* [abi/dck_abi.h, pasted verbatim] */" } next }
        { print }
    ' "$1"
}

# The `// DCKC: flags` line of a source, if any.
golden_flags() { sed -n 's|^// DCKC: ||p' "$1" | head -n 1; }

golden_one() {
    g_name=$1
    g_src=$2
    g_exp=$3
    g_out="$tmp/$g_name.out"
    if ! golden_emit "$g_src" "$g_out" 2>"$tmp/$g_name.err"; then
        # the target needs something this machine lacks (CUDA's libdevice): said, not failed
        if grep -q "cannot compile for .* on this machine" "$tmp/$g_name.err"; then
            echo "skip $g_name: $(grep -m1 'on this machine' "$tmp/$g_name.err")"
            skipped=$((skipped + 1))
            return
        fi
        echo "FAIL $g_name: dckc failed"
        cat "$tmp/$g_name.err"
        fail=$((fail + 1))
        return
    fi
    golden_emit "$g_src" "$tmp/$g_name.again" 2>/dev/null
    if ! cmp -s "$g_out" "$tmp/$g_name.again"; then
        echo "FAIL $g_name: output is not deterministic"
        fail=$((fail + 1))
        return
    fi
    golden_normalize "$g_out" >"$tmp/$g_name.norm"
    if [ $update -eq 1 ]; then
        cp "$tmp/$g_name.norm" "$g_exp"
        echo "updated $g_exp"
    elif [ ! -f "$g_exp" ]; then
        echo "FAIL $g_name: no $g_exp (run with --update)"
        fail=$((fail + 1))
        return
    elif ! diff -u "$g_exp" "$tmp/$g_name.norm" >"$tmp/$g_name.diff"; then
        echo "FAIL $g_name: output differs from $g_exp"
        cat "$tmp/$g_name.diff"
        fail=$((fail + 1))
        return
    fi
    golden_check "$g_name" "$g_out"
    case $? in
    0) ;;
    77) skipped_check=$((skipped_check + 1)) ;;
    *)
        fail=$((fail + 1))
        return
        ;;
    esac
    pass=$((pass + 1))
    echo "ok   $g_name"
}

golden_finish() {
    [ $skipped_check -gt 0 ] && echo "note: $skipped_check outputs not checked by an independent compiler (none here)"
    echo "$label goldens: $pass passed, $fail failed${skipped:+, $skipped skipped}"
    [ $fail -eq 0 ]
}
