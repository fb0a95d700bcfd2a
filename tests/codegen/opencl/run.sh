#!/bin/sh
# run.sh: golden tests of the opencl backend (see ../text/golden.sh).
#   tests/codegen/opencl/run.sh [--update] DCKC [CHECKER]
exec "$(dirname "$0")/../text/golden.sh" opencl "$@"
