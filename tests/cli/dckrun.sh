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

# .npy in and out (format 1, written and read here without NumPy), dtype and shape checked;
# --bench-json; a package named anything is read as a package
python3 - "$tmp" <<'PY'
import struct, sys
d = sys.argv[1]
def npy(path, descr, shape, data, fmt):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    hdr += " " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode())
        f.write(struct.pack("<%d%s" % (len(data), fmt), *data))
npy(d + "/x.npy", "<f4", "(5,)", [1, 2, 3, 4, 5], "f")
npy(d + "/y.npy", "<f4", "(5,)", [10, 20, 30, 40, 50], "f")
npy(d + "/xd.npy", "<f8", "(5,)", [1, 2, 3, 4, 5], "d")
npy(d + "/v.npy", "<f4", "(2, 4)", [1, 2, 3, 4, 5, 6, 7, 8], "f")
PY
printf 'kernel void saxpy(float a, const float[] x, float[] y) { uint i = global_id(0); if (i < len(y)) y[i] = a * x[i] + y[i]; }\n' >"$tmp/saxpy.dck"
printf 'kernel void dbl(float4[] v) { uint i = global_id(0); if (i < len(v)) v[i] = v[i] * 2.0; }\n' >"$tmp/v.dck"
"$dckrun" --backend=cpu "$tmp/saxpy.dck" saxpy a=2 x=@"$tmp/x.npy" y=@"$tmp/y.npy" --out=y="$tmp/out.npy" --print=y >"$tmp/npy.out" 2>&1; rc=$?
check ".npy in: runs (got $rc: $(head -c 300 "$tmp/npy.out"))" "[ $rc -eq 0 ] && grep -q '12, 24, 36, 48, 60' '$tmp/npy.out'"
check ".npy out: a NumPy file of the right dtype, shape and values" "python3 - '$tmp/out.npy' <<'PY'
import ast, struct, sys
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b'\x93NUMPY\x01\x00', b[:8]
n = struct.unpack('<H', b[8:10])[0]
h = ast.literal_eval(b[10:10 + n].decode())
assert h == {'descr': '<f4', 'fortran_order': False, 'shape': (5,)}, h
assert (10 + n) % 64 == 0
assert list(struct.unpack('<5f', b[10 + n:])) == [12, 24, 36, 48, 60]
PY"
"$dckrun" --backend=cpu "$tmp/saxpy.dck" saxpy a=2 x=@"$tmp/xd.npy" y=@"$tmp/y.npy" >"$tmp/npyd.out" 2>&1; rc=$?
check ".npy of the wrong dtype: exit 2, both dtypes named ($(head -c 300 "$tmp/npyd.out"))" "[ $rc -eq 2 ] && grep -q \"dtype '<f8'.*dtype '<f4'\" '$tmp/npyd.out'"
"$dckrun" --backend=cpu "$tmp/v.dck" dbl v=@"$tmp/v.npy" --out=v="$tmp/vout.npy" --print=v >"$tmp/v.out" 2>&1; rc=$?
check ".npy of float4: shape (N, 4) ($(head -c 300 "$tmp/v.out"))" "[ $rc -eq 0 ] && grep -q '(2, 4, 6, 8), (10, 12, 14, 16)' '$tmp/v.out'"
check ".npy out of float4: shape (2, 4)" "head -c 128 '$tmp/vout.npy' | grep -q \"'shape': (2, 4)\""
"$dckrun" --backend=cpu "$tmp/v.dck" dbl v=@"$tmp/x.npy" >"$tmp/v1.out" 2>&1; rc=$?
check ".npy of shape (5,) for float4[]: refused ($(head -c 300 "$tmp/v1.out"))" "[ $rc -eq 2 ] && grep -q 'shape (N, 4)' '$tmp/v1.out'"
head -c 40 "$tmp/x.npy" >"$tmp/trunc.npy"
"$dckrun" --backend=cpu "$tmp/saxpy.dck" saxpy a=2 x=@"$tmp/trunc.npy" y=@"$tmp/y.npy" >"$tmp/tr.out" 2>&1; rc=$?
check "truncated .npy: exit 2 ($(head -c 300 "$tmp/tr.out"))" "[ $rc -eq 2 ] && grep -q 'truncated' '$tmp/tr.out'"
"$dckrun" --backend=cpu "$tmp/saxpy.dck" saxpy a=2 x=rand:1000 y=zeros:1000 --bench=5 --bench-json="$tmp/b.json" >"$tmp/b.out" 2>&1; rc=$?
check "--bench-json: valid JSON with the figures ($(head -c 300 "$tmp/b.out"))" "[ $rc -eq 0 ] && python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j[\"name\"] == \"saxpy\" and j[\"kind\"] == \"kernel\" and j[\"backend\"] == \"cpu\", j
assert j[\"repeats\"] == 5 and len(j[\"times_ns\"]) == 5 and j[\"bytes\"] == 8000, j
assert j[\"min_ns\"] <= j[\"median_ns\"] <= j[\"max_ns\"] and j[\"gb_per_s\"] > 0, j
assert j[\"host_median_ns\"] > 0, j
' '$tmp/b.json'"
if [ -n "${DCKC:-}" ]; then
  "$DCKC" --emit=package --target=c "$tmp/saxpy.dck" -o "$tmp/kernels.bin" 2>/dev/null
  "$dckrun" --backend=cpu "$tmp/kernels.bin" saxpy a=2 x=@"$tmp/x.npy" y=@"$tmp/y.npy" --print=y >"$tmp/pk.out" 2>&1; rc=$?
  check "a package named .bin is read as a package ($(head -c 300 "$tmp/pk.out"))" "[ $rc -eq 0 ] && grep -q '12, 24, 36, 48, 60' '$tmp/pk.out'"
fi

# checked mode and packages: an unchecked package is refused, never run unchecked in silence
if [ -n "${DCKC:-}" ]; then
  printf 'kernel void oob(float[] y) { uint i = global_id(0); y[i + 1u] = 1.0; }\n' >"$tmp/oob.dck"
  "$DCKC" --emit=package --target=c "$tmp/oob.dck" -o "$tmp/oob.dckpkg" 2>/dev/null
  "$DCKC" --emit=package --target=c --checked "$tmp/oob.dck" -o "$tmp/oobc.dckpkg" 2>/dev/null
  "$dckrun" --backend=cpu --checked "$tmp/oob.dckpkg" oob y=zeros:8 >"$tmp/ck1.out" 2>&1; rc=$?
  check "--checked with an unchecked package: refused ($(head -c 300 "$tmp/ck1.out"))" "[ $rc -eq 1 ] && grep -q 'compiled without bounds checks' '$tmp/ck1.out'"
  "$dckrun" --backend=cpu --checked "$tmp/oobc.dckpkg" oob y=zeros:8 >"$tmp/ck2.out" 2>&1; rc=$?
  check "--checked with a checked package: the violation reported ($(head -c 300 "$tmp/ck2.out"))" "[ $rc -eq 1 ] && grep -q \"out-of-bounds write to buffer 'y' (index 8, length 8)\" '$tmp/ck2.out'"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
