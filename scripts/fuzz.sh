#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer frontend fuzzer with clang in build-fuzz/ and run it.
#
#   ./scripts/fuzz.sh [SECONDS] [-- LIBFUZZER-OPTION...]     (default 600 seconds)
#
# Starts from tests/fuzz/corpus and merges the new interesting inputs back into it (review
# and commit them: they become regression tests through the fuzz_replay_corpus ctest).
# Crashes are written to build-fuzz/artifacts/; replay one with
#     build-fuzz/tests/fuzz/fuzz_frontend build-fuzz/artifacts/crash-...
# Environment: FUZZ_JOBS (parallel fuzzing processes, default 1), FUZZ_BUILD_DIR
# (default build-fuzz), FUZZ_TARGET (frontend, default; or package: the .dckpkg reader,
# fuzz_package with tests/fuzz/corpus-package).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

SECONDS_TO_RUN=600
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    SECONDS_TO_RUN=$1
    shift
fi
[ "${1:-}" = "--" ] && shift
JOBS=${FUZZ_JOBS:-1}

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang not found (./scripts/setup.sh installs it)" >&2
    exit 1
fi

BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
TARGET=${FUZZ_TARGET:-frontend}
case "$TARGET" in
    frontend) CORPUS=tests/fuzz/corpus ;;
    package) CORPUS=tests/fuzz/corpus-package ;;
    *) echo "fuzz: unknown FUZZ_TARGET '$TARGET' (frontend or package)" >&2; exit 2 ;;
esac
if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
        -DDCK_FUZZ=ON -DDCK_SANITIZE=ON
fi
cmake --build "$BUILD" --target "fuzz_$TARGET"

ROOT=$PWD
BUILD_ABS=$(cd "$BUILD" && pwd)
FUZZER="$BUILD_ABS/tests/fuzz/fuzz_$TARGET"
WORK="$BUILD_ABS/fuzz-work-$TARGET" # inputs found in this run, before the merge
RUNDIR="$BUILD_ABS/fuzz-run"       # the fuzzer's cwd: its logs (fuzz-N.log with -jobs)
ARTIFACTS="$BUILD_ABS/artifacts/"
mkdir -p "$ARTIFACTS" "$WORK" "$RUNDIR"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
parallel=()
if [ "$JOBS" -gt 1 ]; then
    parallel=(-jobs="$JOBS" -workers="$JOBS")
fi

# libFuzzer exits non-zero when it finds a crash: still merge what was found, fail at the end.
rc=0
(cd "$RUNDIR" && "$FUZZER" -max_len=65536 -timeout=10 -max_total_time="$SECONDS_TO_RUN" \
    -print_final_stats=1 -artifact_prefix="$ARTIFACTS" "${parallel[@]}" "$@" \
    "$WORK" "$ROOT/$CORPUS") || rc=$?

# Keep only the new inputs that add coverage over the seed corpus.
mrc=0
(cd "$RUNDIR" && "$FUZZER" -merge=1 -max_len=65536 -timeout=10 -artifact_prefix="$ARTIFACTS" \
    "$ROOT/$CORPUS" "$WORK") || mrc=$?
[ "$rc" -ne 0 ] || rc=$mrc

echo "fuzz: corpus $CORPUS now has $(find "$CORPUS" -type f | wc -l) inputs"
if [ "$rc" -ne 0 ]; then
    echo "fuzz: the fuzzer stopped with status $rc: see $ARTIFACTS" >&2
    exit "$rc"
fi
