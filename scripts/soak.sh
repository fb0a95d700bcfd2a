#!/usr/bin/env bash
# soak.sh: the runtime on every backend present for a long time (default an hour): buffers of
# changing sizes, plain, barrier and pipeline launches with every result checked, contexts
# re-made every tenth round, the RSS sampled (tests/soak/soak.c; docs/soak.md has the numbers).
#
#   ./scripts/soak.sh [SECONDS] [BACKEND...]      (after ./scripts/setup.sh)
#
# Exit status: 0 clean, 1 a wrong result, an error, or RSS growth after the warm-up.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
ninja -C "$BUILD_DIR" soak >/dev/null
export DCK_QUIET=1
exec "$BUILD_DIR/tests/soak" "${1:-3600}" "${@:2}"
