#!/usr/bin/env bash
# update-goldens.sh: regenerate every golden file from the current compiler, then show
# what changed (review the diff before committing it).
#   diagnostics  tests/lang/*.err           IR after passes  tests/ir/*.ir
#   C backend    tests/codegen/c/*.c.expected
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake --build "$BUILD_DIR" --target dckc
DCKC=$PWD/$BUILD_DIR/compiler/dckc
tests/lang/run.sh "$DCKC" --update
tests/ir/run.sh "$DCKC" --update
tests/codegen/c/run.sh --update "$DCKC"
git status --short -- tests/lang tests/ir tests/codegen
