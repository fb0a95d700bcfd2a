#!/usr/bin/env bash
# Pathological but legal (or cleanly rejected) programs: huge expressions, deep nesting,
# thousands of statements, variables and inlined calls. Each must finish (the timeout is
# generous: this catches super-linear behaviour and hangs, it measures no speed) with exit
# 0 or 1, never a crash (>128) or an internal error (3).
# Usage: tests/cli/stress.sh path/to/dckc
set -u
dckc=$(realpath "${1:?usage: stress.sh DCKC}")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$tmp" <<'PY'
import sys
d = sys.argv[1]
def w(name, text):
    open(f"{d}/{name}.dck", "w").write(text)
n = 40000
w("sum_float", "kernel void k(float[] y) { y[0] = 1.0" + " + 1.0" * n + "; }\n")
w("sum_int_var", "kernel void k(int[] y, int q) { y[0] = q" + " + 1" * n + "; }\n")
w("sub_int_lits", "kernel void k(int[] y) { y[0] = -(" + " - ".join(["1"] * n) + "); }\n")
w("parens", "kernel void k(float[] y) { y[0] = " + "(" * 9000 + "1.0" + ")" * 9000 + "; }\n")
w("deep_ifs", "kernel void k(float[] y) { float a = 1.0; " + "if (a > 0.0) {" * 6000 + "y[0] = a;" + "}" * 6000 + " }\n")
w("statements", "kernel void k(float[] y) { float x = y[0];\n" + "".join(f"    x = x * 1.5 + {i}.0;\n" for i in range(8000)) + "    y[0] = x; }\n")
w("else_ifs", "kernel void k(int[] y) { int v = y[0]; int r = 0;\n    if (v == 0) r = 0;\n" + "".join(f"    else if (v == {i}) r = {i * 3};\n" for i in range(1, 3000)) + "    y[0] = r; }\n")
w("locals", "kernel void k(int[] y) {\n" + "".join(f"    int a{i} = y[{i}];\n" for i in range(4000)) + "    y[0] = " + " + ".join(f"a{i}" for i in range(4000)) + "; }\n")
w("loop_nest", "kernel void k(int[] y) { int s = 0;\n" + "".join(f"for (int j{i} = 0; j{i} < 2; j{i}++) {{\n" for i in range(300)) + "s += 1;\n" + "}\n" * 300 + "y[0] = s; }\n")
w("call_chain", "float g0(float x) { return x; }\n" + "".join(f"float g{i}(float x) {{ return x * {i}.0 + g{i-1}(x); }}\n" for i in range(1, 400)) + "kernel void k(float[] y) { y[0] = g399(y[0]); }\n")
w("kernels", "".join(f"kernel void k{i}(float a, const float[] x, float[] y) {{ uint i = global_id(0); if (i < len(y)) y[i] = a * x[i] + y[i]; }}\n" for i in range(3000)))
# a pipeline of 3000 launches, every one fusable: fusion took O(n^3) (0.9 s for 1000, some 24 s
# for 3000) before it looked only at the steps each join adds; "fast_" files get 10 seconds
w("fast_pipeline_launches", "kernel void st(const float[] a, float[] b) { uint i = global_id(0); if (i < len(b)) b[i] = a[i] * 0.5 + 1.0; }\n"
  "pipeline many(float[] a, float[] b) {\n" + "    st<<<len(a)>>>(a, b);\n    st<<<len(a)>>>(b, a);\n" * 1500 + "}\n")
w("long_line_error", "kernel void k(float[] y) { y[0] = 1.0" + " + 1.0" * 20000 + " +; }\n")
PY
pass=0 fail=0
for f in "$tmp"/*.dck; do
  name=$(basename "$f" .dck)
  limit=60; case $name in fast_*) limit=10 ;; esac
  timeout $limit "$dckc" --target=c "$f" -o "$tmp/$name.c" >/dev/null 2>"$tmp/$name.err"
  rc=$?
  if [ $rc -eq 0 ] || [ $rc -eq 1 ]; then
    pass=$((pass+1))
  else
    echo "FAIL $name: exit $rc $( [ $rc -eq 124 ] && echo '(timed out)')"; head -3 "$tmp/$name.err"
    fail=$((fail+1))
  fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
