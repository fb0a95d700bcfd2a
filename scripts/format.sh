#!/usr/bin/env bash
# format.sh: apply the project's one style (.clang-format, clang-format 14) to every C source
# it owns. Generated or vendored-shape files are left out: the MSL shim's swizzle table
# (written by tests/msl/gen_swizzles.py) and the Objective-C stubs.
#   ./scripts/format.sh          rewrite in place
#   ./scripts/format.sh --check  list files that differ, exit 1 if any
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
files=$(git ls-files '*.c' '*.h' '*.inc' '*.m' |
        grep -v -e '^tests/msl/objc_stub/' -e '^tests/msl/include/msl_shim/swizzles.inc$')
if [ "${1:-}" = --check ]; then
    bad=0
    for f in $files; do
        if ! clang-format --style=file "$f" | cmp -s - "$f"; then echo "$f"; bad=1; fi
    done
    exit $bad
fi
echo "$files" | xargs clang-format -i --style=file
