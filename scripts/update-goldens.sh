#!/usr/bin/env bash
# update-goldens.sh: regenerate every golden file from the current compiler, then show
# what changed (review the diff before committing it).
#   diagnostics  tests/lang/*.err           IR after passes  tests/ir/*.ir
#   C backend    tests/codegen/c/*.c.expected
#   GPU text     tests/codegen/{opencl,cuda,msl}/*.{cl,cu,metal}.expected
#   SPIR-V       tests/codegen/spirv/*.{vulkan,opencl}.spvasm.expected
#   fusion       tests/fusion/*.report, *.ir
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake --build "$BUILD_DIR" --target dckc
DCKC=$PWD/$BUILD_DIR/driver/dckc
tests/lang/run.sh "$DCKC" --update
tests/ir/run.sh "$DCKC" --update
tests/fusion/run.sh --update "$DCKC"
tests/codegen/c/run.sh --update "$DCKC"
tests/codegen/simd/run.sh --update "$DCKC"
tests/codegen/opencl/run.sh --update "$DCKC"
tests/codegen/cuda/run.sh --update "$DCKC"
tests/codegen/msl/run.sh --update "$DCKC"
tests/codegen/ptx/run.sh --update "$DCKC"
tests/codegen/spirv/run.sh --update "$DCKC"
tests/msl/run.sh --update
git status --short -- tests/lang tests/ir tests/fusion tests/codegen
