#!/usr/bin/env bash
# dckc command-line behaviour (docs/dckc.md): exit codes, determinism, depfiles, JSON
# diagnostics, no half-written outputs, and every generated C file accepted by
# `cc -std=c11 -Wall -Wextra -Werror` (gcc, and clang when installed).
# Usage: tests/cli/run.sh path/to/dckc   (from anywhere)
set -u
dckc=$(realpath "${1:?usage: run.sh DCKC}")
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok()   { pass=$((pass+1)); }
bad()  { echo "FAIL: $*"; fail=$((fail+1)); }
check() { if eval "$2"; then ok; else bad "$1"; fi; }

corpus=(tests/exec/*.dck samples/*.dck)

# 1. every corpus file compiles, twice, to byte-identical C; the C is -Werror clean
compilers=(gcc)
command -v clang >/dev/null && compilers+=(clang)
for f in "${corpus[@]}"; do
  b=$(basename "$f" .dck)
  if ! "$dckc" --target=c "$f" -o "$tmp/$b.1.c" 2>"$tmp/$b.err"; then bad "compile $f: $(head -3 "$tmp/$b.err")"; continue; fi
  "$dckc" --target=c "$f" -o "$tmp/$b.2.c" 2>/dev/null
  check "deterministic C for $f" "cmp -s '$tmp/$b.1.c' '$tmp/$b.2.c'"
  "$dckc" --emit=ir "$f" -o "$tmp/$b.1.ir" 2>/dev/null; "$dckc" --emit=ir "$f" -o "$tmp/$b.2.ir" 2>/dev/null
  check "deterministic IR for $f" "cmp -s '$tmp/$b.1.ir' '$tmp/$b.2.ir'"
  "$dckc" --target=c --checked "$f" -o "$tmp/$b.chk.c" 2>/dev/null
  for cc in "${compilers[@]}"; do
    for src in "$tmp/$b.1.c" "$tmp/$b.chk.c"; do
      if ! $cc -std=c11 -O2 -Wall -Wextra -Werror -fPIC -c "$src" -o "$tmp/$b.o" 2>"$tmp/$b.cc.err"; then
        bad "$cc -Werror on C of $f ($(basename "$src")): $(head -5 "$tmp/$b.cc.err")"
      else ok; fi
    done
  done
done

# 2. exit codes: 0 ok, 1 program errors, 2 usage errors
printf 'kernel void k(float[] y) { y[0] = 1.0; }\n' >"$tmp/good.dck"
printf 'kernel void k(float[] y) { y[0] = nope; }\n' >"$tmp/bad.dck"
"$dckc" --target=c "$tmp/good.dck" -o "$tmp/good.c" 2>/dev/null; check "exit 0 on success" "[ $? -eq 0 ]"
"$dckc" --target=c "$tmp/bad.dck" -o "$tmp/bad.c" 2>/dev/null; check "exit 1 on errors" "[ $? -eq 1 ]"
check "no output written on errors" "[ ! -e '$tmp/bad.c' ]"
check "no temporary left behind" "[ -z \"\$(ls '$tmp' | grep tmp)\" ]"
"$dckc" --bogus "$tmp/good.dck" 2>/dev/null; check "exit 2 on unknown option" "[ $? -eq 2 ]"
"$dckc" 2>/dev/null; check "exit 2 without inputs" "[ $? -eq 2 ]"
"$dckc" --target=nope "$tmp/good.dck" 2>/dev/null; check "exit 2 on unknown target" "[ $? -eq 2 ]"
"$dckc" --target=c "$tmp/missing.dck" 2>"$tmp/missing.err"; rc=$?
check "exit 1 on a missing input" "[ $rc -eq 1 ]"
check "missing input is named" "grep -q 'missing.dck' '$tmp/missing.err'"
"$dckc" --version | grep -q '^dckc '; check "--version" "[ $? -eq 0 ]"

# 3. an existing output survives a failed compilation untouched
echo keep >"$tmp/keep.c"
"$dckc" --target=c "$tmp/bad.dck" -o "$tmp/keep.c" 2>/dev/null
check "failed compile leaves existing output alone" "[ \"\$(cat '$tmp/keep.c')\" = keep ]"

# 4. JSON diagnostics: one object per line with file, line, col, severity, message
"$dckc" --diagnostics=json --target=c "$tmp/bad.dck" -o "$tmp/x.c" 2>"$tmp/diag.json"
check "json diagnostics parse" "python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert rows and all({\"file\",\"line\",\"col\",\"severity\",\"message\"} <= set(r) for r in rows), rows
assert rows[0][\"line\"] == 1 and rows[0][\"severity\"] == \"error\"' '$tmp/diag.json'"

# 5. -MD -MF: the depfile lists the main file and every include
mkdir -p "$tmp/inc"
printf '#pragma once\n#define SCALE 2.0\n' >"$tmp/inc/scale.dck"
printf '#include "inc/scale.dck"\n#include <dck/math.dck>\nkernel void k(float[] y) { y[0] = SCALE * M_PI; }\n' >"$tmp/dep.dck"
"$dckc" --target=c -MD -MF "$tmp/dep.d" "$tmp/dep.dck" -o "$tmp/dep.c" 2>"$tmp/dep.err"
check "depfile written" "[ -s '$tmp/dep.d' ]"
check "depfile names the target" "grep -q '^$tmp/dep.c:' '$tmp/dep.d'"
check "depfile lists the include" "grep -q 'inc/scale.dck' '$tmp/dep.d'"
check "depfile lists the stdlib module" "grep -q 'dck/math.dck' '$tmp/dep.d'"
"$dckc" --target=c -MD "$tmp/dep.dck" -o "$tmp/dep2.c" 2>/dev/null
check "-MD alone writes OUTPUT.d" "[ -s '$tmp/dep2.c.d' ]"

# 6. -D overrides and -U removes a macro
printf '#ifndef N\n#error_no\n#endif\nkernel void k(float[] y) { y[0] = (float)N; }\n' >"$tmp/def.dck"
"$dckc" --emit=ir -DN=7 "$tmp/def.dck" -o "$tmp/def.ir" 2>/dev/null
check "-D defines a value" "grep -q '7' '$tmp/def.ir'"

# 7. -Werror turns a warning into an error, -w silences it
printf 'kernel void k(float[] y, double d) { float f = d; y[0] = f; }\n' >"$tmp/warn.dck"
"$dckc" --emit=ir "$tmp/warn.dck" -o "$tmp/w.ir" 2>"$tmp/w.err"; rc=$?
check "warning keeps exit 0" "[ $rc -eq 0 ] && grep -q 'warning:' '$tmp/w.err'"
"$dckc" --emit=ir -Werror "$tmp/warn.dck" -o "$tmp/w.ir" 2>/dev/null; check "-Werror fails" "[ $? -eq 1 ]"
"$dckc" --emit=ir -w "$tmp/warn.dck" -o "$tmp/w.ir" 2>"$tmp/w2.err"; check "-w silences" "[ ! -s '$tmp/w2.err' ]"

# 8. several inputs and targets into a directory
mkdir -p "$tmp/out"
"$dckc" --target=all --emit=source,ir tests/exec/saxpy.dck tests/exec/vadd.dck -o "$tmp/out" 2>/dev/null
check "several outputs into a directory" "[ -s '$tmp/out/saxpy.c' ] && [ -s '$tmp/out/vadd.ir' ]"

# 9. 64-bit atomics in OpenCL-env SPIR-V (issue 12: the validator's OpenCL 1.2 profile
#    rejected Int64Atomics, an internal error, exit 3, also for --emit=package): now a valid
#    module, and the package carries its spirv-opencl blob
printf 'kernel void k(ulong[] big, long[] s){ atomic_add(big[0],(ulong)4000000000); atomic_max(s[0],(long)global_id(0)); }\n' >"$tmp/a64.dck"
"$dckc" --target=spirv --spirv-env=opencl "$tmp/a64.dck" -o "$tmp/a64.spv" 2>"$tmp/a64.err"; rc=$?
check "64-bit atomics: OpenCL SPIR-V exits 0 (got $rc: $(head -c 300 "$tmp/a64.err"))" "[ $rc -eq 0 ] && [ -s '$tmp/a64.spv' ]"
if command -v spirv-val >/dev/null; then
  check "64-bit atomics: spirv-val accepts the OpenCL SPIR-V" "spirv-val --target-env spv1.0 '$tmp/a64.spv'"
fi
if command -v llvm-spirv-15 >/dev/null; then
  check "64-bit atomics: llvm-spirv-15 -r reads the OpenCL SPIR-V" "llvm-spirv-15 -r '$tmp/a64.spv' -o '$tmp/a64.bc'"
fi
"$dckc" --emit=package --target=all --spirv-env=vulkan,opencl "$tmp/a64.dck" -o "$tmp/a64.dckpkg" 2>"$tmp/a64p.err"; rc=$?
check "64-bit atomics: package of every target exits 0 (got $rc: $(head -c 300 "$tmp/a64p.err"))" "[ $rc -eq 0 ] && [ -s '$tmp/a64.dckpkg' ]"
"$dckc" --emit=manifest --target=all --spirv-env=vulkan,opencl "$tmp/a64.dck" -o "$tmp/a64.json" 2>/dev/null
check "64-bit atomics: the package has a spirv-opencl blob" "grep -q '\"name\": \"spirv-opencl\"' '$tmp/a64.json'"

# 10. A target this machine cannot build (PTX of a kernel using libdevice math, no libdevice:
#     a machine without the CUDA toolkit) is a clear error, exit 1, with nothing written; it
#     was an internal error (exit 3) and broke packages of every target
if "$dckc" --target=ptx "$tmp/a64.dck" -o "$tmp/probe.ptx" 2>/dev/null; then
  printf 'kernel void k(float[] y){ uint i = global_id(0); if (i < len(y)) y[i] = sin(y[i]); }\n' >"$tmp/sin.dck"
  DCK_LIBDEVICE=/nonexistent "$dckc" --target=ptx "$tmp/sin.dck" -o "$tmp/sin.ptx" 2>"$tmp/sin.err"; rc=$?
  check "no libdevice: exit 1 (got $rc: $(head -c 300 "$tmp/sin.err"))" "[ $rc -eq 1 ] && [ ! -e '$tmp/sin.ptx' ]"
  check "no libdevice: the message says what is missing" "grep -q \"cannot compile for 'ptx' on this machine: .*libdevice\" '$tmp/sin.err'"
  DCK_LIBDEVICE=/nonexistent "$dckc" --emit=package --target=c,ptx "$tmp/sin.dck" -o "$tmp/sin.dckpkg" 2>"$tmp/sinp.err"; rc=$?
  check "no libdevice: a package with PTX exits 1, nothing written (got $rc)" "[ $rc -eq 1 ] && [ ! -e '$tmp/sin.dckpkg' ]"
fi

# 11. several outputs of one input print each diagnostic once (each output compiles again);
#     a package or a binary given as source is one clear error, not a cascade of stray bytes
mkdir -p "$tmp/multi"
"$dckc" --emit=header,embed "$tmp/bad.dck" -o "$tmp/multi" 2>"$tmp/multi.err"
check "header+embed: the error is printed once (got $(grep -c 'error:' "$tmp/multi.err"))" "[ \$(grep -c 'error:' '$tmp/multi.err') -eq 1 ]"
"$dckc" --target=c,opencl --diagnostics=json "$tmp/bad.dck" -o "$tmp/multi" 2>"$tmp/multi.json"
check "two targets, JSON: the error is printed once (got $(wc -l <"$tmp/multi.json"))" "[ \$(wc -l <'$tmp/multi.json') -eq 1 ]"
printf 'kernel void k(float[] y) { float unused = 1.0; y[0] = 2.0; }\nkernel void j(float[] y) { y[0] = 3.0; }\n' >"$tmp/warn.dck"
"$dckc" --target=c "$tmp/warn.dck" -o "$tmp/warn.c" 2>"$tmp/warn1.err"
"$dckc" --target=c,opencl "$tmp/warn.dck" -o "$tmp/multi" 2>"$tmp/warn2.err"
check "two targets print the warnings of one" "cmp -s '$tmp/warn1.err' '$tmp/warn2.err'"
"$dckc" --emit=package --target=c "$tmp/good.dck" -o "$tmp/good.dckpkg" 2>/dev/null
"$dckc" --target=c "$tmp/good.dckpkg" -o "$tmp/pkg.c" 2>"$tmp/pkg.err"; rc=$?
check "a package as source: exit 1 (got $rc)" "[ $rc -eq 1 ] && [ ! -e '$tmp/pkg.c' ]"
check "a package as source: one line saying so ($(head -c 200 "$tmp/pkg.err"))" "[ \$(wc -l <'$tmp/pkg.err') -eq 1 ] && grep -q 'is a DCK package\|this is a DCK package' '$tmp/pkg.err'"
"$dckc" --target=c "$dckc" -o "$tmp/bin.c" 2>"$tmp/bin.err"; rc=$?
check "a binary as source: exit 1, one line (got $rc: $(head -c 200 "$tmp/bin.err"))" "[ $rc -eq 1 ] && [ \$(wc -l <'$tmp/bin.err') -eq 1 ] && grep -q 'binary file' '$tmp/bin.err'"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
