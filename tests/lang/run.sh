#!/usr/bin/env bash
# Diagnostics goldens: every tests/lang/NAME.dck is compiled by dckc and its stderr must
# equal tests/lang/NAME.err byte for byte; the exit status must be 1 when the .err holds
# an error, else 0. Run from the repository root:
#   tests/lang/run.sh path/to/dckc            check
#   tests/lang/run.sh path/to/dckc --update   regenerate the .err files
set -u
dckc=${1:?usage: run.sh DCKC [--update]}
update=${2:-}
cd "$(dirname "$0")/../.." || exit 2
pass=0 fail=0
for src in tests/lang/*.dck; do
  exp=${src%.dck}.err
  extra=()
  # optional flags for one golden: a first line `// FLAGS: -Werror`
  flags=$(sed -n '1s|^// FLAGS: ||p' "$src")
  [ -n "$flags" ] && read -r -a extra <<<"$flags"
  act=$("$dckc" --emit=ir "${extra[@]}" "$src" 2>&1 >/dev/null)
  code=$?
  if [ "$update" = "--update" ]; then
    printf '%s\n' "$act" >"$exp"
    continue
  fi
  want_code=0
  grep -q ': error: ' "$exp" 2>/dev/null && want_code=1
  if [ ! -f "$exp" ]; then
    echo "FAIL $src: no expected file $exp"; fail=$((fail+1)); continue
  fi
  if [ "$(printf '%s\n' "$act")" != "$(cat "$exp")" ] || [ $code -ne $want_code ]; then
    echo "FAIL $src (exit $code, expected $want_code)"
    diff <(cat "$exp") <(printf '%s\n' "$act") | head -20
    fail=$((fail+1))
  else
    pass=$((pass+1))
  fi
done
[ "$update" = "--update" ] && { echo "updated"; exit 0; }
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
