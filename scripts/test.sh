#!/usr/bin/env bash
# test.sh: build DCK and run the whole test suite, then the same suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer.
#
#   ./scripts/test.sh                 build/ (RelWithDebInfo) + build-asan/ (DCK_SANITIZE=ON)
#   DCK_TEST_FAST=1 ./scripts/test.sh build/ only
#
# Environment: DCK_TEST_JOBS (ctest -j, default 2), DCK_TEST_FAST, BUILD_DIR (default
# build), ASAN_BUILD_DIR (default build-asan).
# Installs missing packages first (through scripts/setup.sh) only when some are missing.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

JOBS=${DCK_TEST_JOBS:-2}
export BUILD_DIR=${BUILD_DIR:-build}
ASAN_DIR=${ASAN_BUILD_DIR:-build-asan}

log() { printf '\n== test: %s\n' "$*" >&2; }

if ./scripts/setup.sh --check; then
    ./scripts/setup.sh --build-only
else
    ./scripts/setup.sh
fi

log "test suite ($BUILD_DIR)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS"

if [ "${DCK_TEST_FAST:-0}" = 1 ]; then
    log "DCK_TEST_FAST=1: skipping the sanitizer build"
    exit 0
fi

log "test suite under ASan + UBSan ($ASAN_DIR)"
if [ ! -f "$ASAN_DIR/build.ninja" ]; then
    cmake -S . -B "$ASAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDCK_SANITIZE=ON -DDCK_WERROR=ON
fi
cmake --build "$ASAN_DIR"
# Leak checking on; UBSan findings are errors (the build also uses -fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$ASAN_DIR" --output-on-failure -j"$JOBS"

log "all tests passed ($BUILD_DIR and $ASAN_DIR)"
