#!/usr/bin/env bash
# IR pass goldens: every tests/ir/NAME.dck is compiled with `dckc --emit=ir --verify-each`
# (at -O2 unless its first line says `// FLAGS: -O0 ...`) and the printed IR must equal
# tests/ir/NAME.ir byte for byte (stdout only: warnings on stderr are not compared).
# Run from anywhere:
#   tests/ir/run.sh path/to/dckc            check
#   tests/ir/run.sh path/to/dckc --update   regenerate the .ir files
set -u
dckc=${1:?usage: run.sh DCKC [--update]}
update=${2:-}
case $dckc in /*) ;; */*) dckc=$PWD/$dckc ;; esac
cd "$(dirname "$0")/../.." || exit 2
pass=0 fail=0
errf=$(mktemp) || exit 2
trap 'rm -f "$errf"' EXIT
for src in tests/ir/*.dck; do
  exp=${src%.dck}.ir
  extra=()
  flags=$(sed -n '1s|^// FLAGS: ||p' "$src")
  [ -n "$flags" ] && read -r -a extra <<<"$flags"
  act=$("$dckc" --emit=ir --verify-each "${extra[@]}" "$src" 2>"$errf")
  code=$?
  if [ $code -ne 0 ]; then
    echo "FAIL $src: dckc exited with $code"
    head -20 "$errf"
    fail=$((fail+1)); continue
  fi
  if [ "$update" = "--update" ]; then
    printf '%s\n' "$act" >"$exp"
    continue
  fi
  if [ ! -f "$exp" ]; then
    echo "FAIL $src: no expected file $exp"; fail=$((fail+1)); continue
  fi
  if [ "$(printf '%s\n' "$act")" != "$(cat "$exp")" ]; then
    echo "FAIL $src"
    diff <(cat "$exp") <(printf '%s\n' "$act") | head -30
    fail=$((fail+1))
  else
    pass=$((pass+1))
  fi
done
[ "$update" = "--update" ] && { echo "updated"; [ $fail -eq 0 ]; exit; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
