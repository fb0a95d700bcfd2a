#!/usr/bin/env bash
# Fusion goldens: for every tests/fusion/NAME.dck,
#   dckc --report=fusion (stderr)         must equal NAME.report
#   dckc --emit=ir --verify-each (stdout) must equal NAME.ir
# both at -O2 unless the first line says `// FLAGS: ...`.
#   tests/fusion/run.sh DCKC             check
#   tests/fusion/run.sh [--update] DCKC  regenerate (the flag may come first or last)
set -u
update=
args=()
for a in "$@"; do
  if [ "$a" = "--update" ]; then update=1; else args+=("$a"); fi
done
dckc=${args[0]:?usage: run.sh [--update] DCKC}
case $dckc in /*) ;; */*) dckc=$PWD/$dckc ;; esac
cd "$(dirname "$0")/../.." || exit 2
pass=0 fail=0
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
check() { # name expected actual
  if [ -n "$update" ]; then cp "$3" "$2"; return; fi
  if [ ! -f "$2" ]; then echo "FAIL $1: no expected file $2"; fail=$((fail+1)); return; fi
  if cmp -s "$2" "$3"; then pass=$((pass+1)); else
    echo "FAIL $1"; diff "$2" "$3" | head -30; fail=$((fail+1))
  fi
}
for src in tests/fusion/*.dck; do
  base=${src%.dck}
  extra=()
  flags=$(sed -n '1s|^// FLAGS: ||p' "$src")
  [ -n "$flags" ] && read -r -a extra <<<"$flags"
  if ! "$dckc" --emit=ir --verify-each --report=fusion "${extra[@]}" -o "$tmp/out.ir" "$src" 2>"$tmp/out.report"; then
    echo "FAIL $src: dckc failed"; head -20 "$tmp/out.report"; fail=$((fail+1)); continue
  fi
  check "$src (report)" "$base.report" "$tmp/out.report"
  check "$src (IR)" "$base.ir" "$tmp/out.ir"
done
[ -n "$update" ] && { echo "updated"; [ $fail -eq 0 ]; exit; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
