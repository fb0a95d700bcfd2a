#!/bin/sh
# run.sh: golden tests of the msl backend (see ../text/golden.sh).
#   tests/codegen/msl/run.sh [--update] DCKC [CHECKER]
exec "$(dirname "$0")/../text/golden.sh" msl "$@"
