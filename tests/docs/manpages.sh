#!/usr/bin/env bash
# The man pages (docs/man/*.1) render without groff warnings and name every option the
# tools' --help lists, so that a new option cannot be left out of them.
# Usage: tests/docs/manpages.sh DCKC DCKRUN   (from anywhere)
set -u
dckc=${1:?usage: manpages.sh DCKC DCKRUN}
dckrun=${2:?usage: manpages.sh DCKC DCKRUN}
cd "$(dirname "$0")/../.." || exit 2
pass=0 fail=0
for tool in dckc dckrun; do
  page=docs/man/$tool.1
  if command -v groff >/dev/null; then
    if err=$(groff -ww -z -man "$page" 2>&1) && [ -z "$err" ]; then pass=$((pass+1)); else echo "FAIL: groff warns on $page: $err"; fail=$((fail+1)); fi
  fi
  bin=$dckc; [ $tool = dckrun ] && bin=$dckrun
  # every --long option of --help, and -O/-I/-D/-U/-M/-W/-v single-dash ones
  text=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' "$page")
  for opt in $("$bin" --help | grep -oE '(^|[ ,])--[a-z][a-z0-9-]*|(^|[ ])-(O[0-3]|[IDUvhw]|MD|MF|Werror)\b' | tr -d ' ,' | sort -u); do
    if grep -qF -- "$opt" <<<"$text"; then pass=$((pass+1)); else echo "FAIL: $page does not mention $opt"; fail=$((fail+1)); fi
  done
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
