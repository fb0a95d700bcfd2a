#!/usr/bin/env bash
# The generated C API (dckc --emit=header) in every language mode a user may compile it in:
#  1. a header for every kernel file of tests/exec, tests/codegen/c and samples (module names
#     prefixed by folder), all included by one program that calls every function once with
#     a NULL module (each must come back DCK_ERROR_INVALID_ARGUMENT from the runtime),
#     compiled with `cc -std=c99 -pedantic -Wall -Wextra -Werror`, `-std=c11` and
#     `c++ -std=c++17 -Wall -Wextra -Werror`, linked with libdckrt and run;
#  2. header_exec.c in the same three modes with the embed files (CPU code compiled in):
#     real launches compared with C, run with DCK_CC=/bin/false so no JIT can happen.
# Usage: tests/buildsys/headers.sh BUILD_DIR
set -euo pipefail
build=$(realpath "${1:?usage: headers.sh BUILD_DIR}")
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in cc c++ python3; do
  command -v $tool >/dev/null || { echo "SKIPPED: $tool not found"; exit 77; }
done
dckc=$build/driver/dckc
libdir=$(dirname "$(find "$build/runtime" -maxdepth 1 -name 'libdckrt.so' | head -1)")
[ -n "$libdir" ] || { echo "FAIL: libdckrt.so not in $build/runtime"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/gen" "$tmp/w"
manifests=()
for f in "$root"/tests/exec/*.dck "$root"/tests/codegen/c/*.dck "$root"/samples/*.dck; do
  case "$f" in */tests/exec/*) pre=exec ;; */tests/codegen/*) pre=cg ;; *) pre=sample ;; esac
  name=$(basename "$f" .dck)
  mod=${pre}_$(echo "$name" | tr -c 'A-Za-z0-9_\n' '_')
  "$dckc" --emit=header,manifest,embed --target=c --module-name="$mod" -o "$tmp/w" "$f"
  for ext in h json embed.c; do mv "$tmp/w/$name.$ext" "$tmp/gen/$mod.$ext"; done
  manifests+=("$tmp/gen/$mod.json")
done
python3 "$root/tests/buildsys/gen_calls.py" "$tmp/calls.c" "${manifests[@]}"
inc=(-I"$root/runtime/include" -I"$tmp/gen")
link=(-L"$libdir" -ldckrt -Wl,-rpath,"$libdir" -lm)
pass=0
run_mode() { # name compiler flags...
  local name=$1; shift
  "$@" "${inc[@]}" "$tmp/calls.c" -o "$tmp/calls-$name" "${link[@]}"
  "$tmp/calls-$name" || { echo "FAIL: calls ($name)"; exit 1; }
  "$@" "${inc[@]}" -c "$root/tests/buildsys/header_exec.c" -o "$tmp/exec-$name.o"
  "${cc_link[@]}" "$tmp/exec-$name.o" "${embeds[@]}" -o "$tmp/exec-$name" "${link[@]}"
  DCK_CC=/bin/false "$tmp/exec-$name" || { echo "FAIL: header_exec ($name)"; exit 1; }
  pass=$((pass + 1))
}
embeds=()
for m in exec_saxpy exec_pipeline3 exec_structs; do
  cc -std=gnu11 -O1 -w "${inc[@]}" -c "$tmp/gen/$m.embed.c" -o "$tmp/$m.embed.o"
  embeds+=("$tmp/$m.embed.o")
done
cc_link=(c++)
run_mode c99 cc -std=c99 -pedantic -Wall -Wextra -Werror
run_mode c11 cc -std=c11 -pedantic -Wall -Wextra -Werror
run_mode cxx17 c++ -x c++ -std=c++17 -Wall -Wextra -Werror
echo "${#manifests[@]} headers; $pass passed, 0 failed"
