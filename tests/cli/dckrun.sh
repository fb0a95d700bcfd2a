#!/usr/bin/env bash
# dckrun command-line behaviour (docs/dckrun.md) on the CPU backend: --version, and the
# warning for a 2-D kernel sized from a buffer (it used to run 1-D without a word).
# Usage: tests/cli/dckrun.sh path/to/dckrun   (from anywhere)
set -u
dckrun=$(realpath "${1:?usage: dckrun.sh DCKRUN}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }

out=$("$dckrun" --version); rc=$?
check "--version exits 0 and names dckrun (got $rc: $out)" "[ $rc -eq 0 ] && [[ '$out' =~ ^dckrun\ [0-9]+\.[0-9]+\.[0-9]+$ ]]"

printf 'kernel void k2(float[] y) { uint x = global_id(0); uint r = global_id(1); if (x < 4u && r < 4u) y[r * 4u + x] = 1.0 + (float)r; }\n' >"$tmp/k2.dck"
printf 'kernel void k1(float[] y) { uint i = global_id(0); if (i < len(y)) y[i] = 2.0; }\n' >"$tmp/k1.dck"
"$dckrun" --backend=cpu "$tmp/k2.dck" k2 y=zeros:16 >/dev/null 2>"$tmp/k2.err"; rc=$?
check "2-D kernel without --global: runs (got $rc)" "[ $rc -eq 0 ]"
check "2-D kernel without --global: warns ($(head -c 300 "$tmp/k2.err"))" "grep -q \"warning: kernel 'k2' is 2-D\" '$tmp/k2.err' && grep -q -- '--global=X,Y' '$tmp/k2.err'"
"$dckrun" --backend=cpu "$tmp/k2.dck" k2 y=zeros:16 --global=4,4 --print=y >"$tmp/k2g.out" 2>"$tmp/k2g.err"
check "2-D kernel with --global: no warning" "! grep -q warning '$tmp/k2g.err'"
check "2-D kernel with --global: every row written" "grep -q '1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4' '$tmp/k2g.out'"
"$dckrun" --backend=cpu "$tmp/k1.dck" k1 y=zeros:16 >/dev/null 2>"$tmp/k1.err"
check "1-D kernel: no warning" "! grep -q warning '$tmp/k1.err'"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
