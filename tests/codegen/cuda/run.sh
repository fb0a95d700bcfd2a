#!/bin/sh
# run.sh: golden tests of the cuda backend (see ../text/golden.sh).
#   tests/codegen/cuda/run.sh [--update] DCKC [CHECKER]
exec "$(dirname "$0")/../text/golden.sh" cuda "$@"
