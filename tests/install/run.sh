#!/usr/bin/env bash
# The installed tree works on its own: `cmake --install` into a fresh prefix, then the
# installed dckc finds <dck/math.dck> in PREFIX/share/dck/stdlib (not in the source tree),
# and the installed dckrun compiles and runs a kernel that includes it.
# Usage: tests/install/run.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: run.sh BUILD_DIR}")
cd "$(dirname "$0")/../.."
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/dckc bin/dckrun include/dck.h share/dck/stdlib/dck/math.dck share/man/man1/dckc.1 share/man/man1/dckrun.1; do
  [ -e "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
# run from a folder outside the source tree, with the source tree's stdlib out of reach
work=$prefix/work
mkdir -p "$work"
cp tests/exec/stdlib_use.dck "$work/k.dck"
cd "$work"
"$prefix/bin/dckc" --target=c -MD k.dck -o k.c
grep -q "$prefix/bin/../share/dck/stdlib/dck/math.dck" k.c.d || { echo "FAIL: stdlib not taken from the prefix"; cat k.c.d; exit 1; }
out=$(DCK_CACHE_DIR=$work/cache "$prefix/bin/dckrun" k.dck polar xy=zeros:4 s=zeros:4 deg=rand:4:1 --print=s)
echo "$out"
echo "$out" | grep -q '^s: float\[4\]' || { echo "FAIL: installed dckrun"; exit 1; }
echo "1 passed, 0 failed"
