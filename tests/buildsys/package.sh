#!/usr/bin/env bash
# dckc --emit=package/embed/manifest/header and dckrun FILE.dckpkg from the command line:
# byte-identical outputs from two runs (every target of this build, two sms, two SPIR-V
# envs where those targets exist), the blobs the manifest lists, dckrun running kernels and
# pipelines of a package and saying which target it loaded, clear errors for a corrupted
# and a truncated package, and one depfile naming every output of a run (-MF).
# Usage: tests/buildsys/package.sh DCKC DCKRUN
set -euo pipefail
dckc=$(realpath "${1:?usage: package.sh DCKC DCKRUN}")
dckrun=$(realpath "${2:?usage: package.sh DCKC DCKRUN}")
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export DCK_CACHE_DIR=$tmp/cache
fail() { echo "FAIL: $*"; exit 1; }
pass=0
opts=(--target=all)
"$dckc" --target=ptx --emit=ir "$root/tests/exec/saxpy.dck" >/dev/null 2>&1 && opts+=(--sm=80,90)
for run in 1 2; do
  mkdir -p "$tmp/$run"
  "$dckc" "${opts[@]}" --spirv-env=vulkan,opencl --emit=package,embed,manifest,header -o "$tmp/$run" \
    "$root/tests/exec/pipeline3.dck" 2>/dev/null ||
    "$dckc" "${opts[@]}" --emit=package,embed,manifest,header -o "$tmp/$run" "$root/tests/exec/pipeline3.dck"
done
for f in pipeline3.dckpkg pipeline3.embed.c pipeline3.json pipeline3.h; do
  cmp -s "$tmp/1/$f" "$tmp/2/$f" || fail "$f differs between two runs"
done
pass=$((pass + 1))
grep -q '"name": "c"' "$tmp/1/pipeline3.json" || fail "the manifest lists no c target"
echo "targets: $(grep -o '"name": "[a-z0-9-]*", "bytes"' "$tmp/1/pipeline3.json" | cut -d'"' -f4 | tr '\n' ' ')"
pass=$((pass + 1))

out=$("$dckrun" -v --backend=cpu "$tmp/1/pipeline3.dckpkg" pipe3 a=3 b=-1 x=rand:100:9 y=zeros:100 --print=y 2>&1)
echo "$out" | grep -q "target 'c' loaded from the package" || { echo "$out"; fail "dckrun -v does not say the target"; }
ref=$("$dckrun" --backend=cpu "$root/tests/exec/pipeline3.dck" pipe3 a=3 b=-1 x=rand:100:9 y=zeros:100 --print=y 2>&1)
[ "$(echo "$out" | grep '^y:')" = "$(echo "$ref" | grep '^y:')" ] || fail "package and source give different results"
"$dckrun" --backend=cpu "$tmp/1/pipeline3.dckpkg" square x=rand:10 y=zeros:10 --print=y >/dev/null || fail "kernel of a package"
pass=$((pass + 1))

head -c 1000 "$tmp/1/pipeline3.dckpkg" > "$tmp/trunc.dckpkg"
cp "$tmp/1/pipeline3.dckpkg" "$tmp/bad.dckpkg"
printf 'X' | dd of="$tmp/bad.dckpkg" bs=1 seek=600 conv=notrunc status=none
for f in trunc bad; do
  rc=0
  msg=$("$dckrun" --backend=cpu "$tmp/$f.dckpkg" square x=rand:10 y=zeros:10 2>&1) || rc=$?
  [ $rc -eq 1 ] || fail "$f package: exit status $rc"
  echo "$msg" | grep -qE "truncated|checksum" || fail "$f package: unclear error: $msg"
  echo "$msg"
done
pass=$((pass + 1))

(cd "$tmp" && "$dckc" --emit=header,embed -MD -MF "$tmp/k.d" -o "$tmp/1" "$root/tests/exec/stdlib_use.dck")
head -1 "$tmp/k.d" | grep -q "^$tmp/1/stdlib_use.h $tmp/1/stdlib_use.embed.c:" || { cat "$tmp/k.d"; fail "depfile targets"; }
grep -q "dck/math.dck" "$tmp/k.d" || fail "depfile misses the include"
pass=$((pass + 1))
echo "$pass passed, 0 failed"
