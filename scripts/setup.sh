#!/usr/bin/env bash
# setup.sh: install what DCK needs to build and test (Debian 12 / Ubuntu, apt-get), then
# configure and build it in ./build.
#
#   ./scripts/setup.sh               install missing packages, configure, build
#   ./scripts/setup.sh --deps-only   only install missing packages
#   ./scripts/setup.sh --build-only  only configure and build (no apt-get), install python/
#   ./scripts/setup.sh --check       exit 0 if every required package is installed, 1 if not
#
# Idempotent: packages already installed are not touched, `apt-get update` runs only when
# something is missing, and a second run of the build step is a no-op for ninja.
# Environment: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Required to build and test; optional ones are tried but not fatal (clang + its runtime
# libraries are needed only for the libFuzzer build, scripts/fuzz.sh).
REQUIRED=(build-essential gcc make cmake ninja-build flex bison libfl-dev libcriterion-dev
          pkg-config valgrind python3
          # backends and their independent checkers: LLVM 16 (PTX), SPIRV-Tools, PoCL (OpenCL
          # on the CPU), lavapipe + the validation layers (Vulkan on the CPU), clang 16 (MSL
          # through the Metal shim), llvm-spirv 15 (OpenCL-env SPIR-V back to SPIR for PoCL),
          # an aarch64 cross compiler (NEON output), SLEEF (vector math)
          llvm-16-dev libzstd-dev spirv-tools spirv-headers
          pocl-opencl-icd ocl-icd-opencl-dev opencl-headers
          mesa-vulkan-drivers libvulkan-dev glslc vulkan-validationlayers
          clang-16 llvm-spirv-15 gcc-aarch64-linux-gnu libc6-dev-arm64-cross libsleef-dev
          # the Python package (python/): NumPy, pytest, and pip + setuptools + wheel + venv
          # to install it offline (install_python below; its test builds a scratch venv)
          python3-numpy python3-pytest python3-pip python3-setuptools python3-wheel python3-venv
          # hwloc (CPU topology, thread placement; its header at build time) and groff (the
          # man pages' check)
          libhwloc-dev groff-base)
# Optional: clang + its runtime for the libFuzzer build (scripts/fuzz.sh); Halide and
# matplotlib for the benchmark suite (bench/); clinfo and vulkan-tools for looking around;
# clang-15 for test_rt_gpu's hand-made OpenCL SPIR-V (skipped without it).
OPTIONAL=(clang libclang-rt-14-dev libhalide14-0-dev python3-matplotlib clinfo vulkan-tools clang-15)

BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}

log() { printf 'setup: %s\n' "$*" >&2; }

is_installed() {
    dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'
}

missing_of() {
    local p
    for p in "$@"; do
        is_installed "$p" || printf '%s\n' "$p"
    done
}

have_apt() { command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; }

# Runs apt-get as root: directly when root, through sudo when available.
apt_get() {
    if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo DEBIAN_FRONTEND=noninteractive apt-get "$@"
    else
        log "not root and no sudo: cannot run apt-get $*"
        return 1
    fi
}

install_deps() {
    if ! have_apt; then
        log "no dpkg/apt-get here: install these yourself: ${REQUIRED[*]} ${OPTIONAL[*]}"
        return 0
    fi
    local req opt
    mapfile -t req < <(missing_of "${REQUIRED[@]}")
    mapfile -t opt < <(missing_of "${OPTIONAL[@]}")
    if [ ${#req[@]} -eq 0 ] && [ ${#opt[@]} -eq 0 ]; then
        log "all packages present"
        return 0
    fi
    log "installing: ${req[*]} ${opt[*]}"
    apt_get update -q
    if [ ${#req[@]} -gt 0 ]; then
        apt_get install -y -q --no-install-recommends "${req[@]}" </dev/null
    fi
    if [ ${#opt[@]} -gt 0 ]; then
        # One at a time so that a package missing from this distribution (e.g. the
        # versioned clang runtime on another release) does not block the others.
        local p
        for p in "${opt[@]}"; do
            apt_get install -y -q --no-install-recommends "$p" </dev/null ||
                log "optional package $p could not be installed (only scripts/fuzz.sh or bench/ need it)"
        done
    fi
}

check_deps() {
    have_apt || return 0
    local req
    mapfile -t req < <(missing_of "${REQUIRED[@]}")
    if [ ${#req[@]} -gt 0 ]; then
        log "missing packages: ${req[*]}"
        return 1
    fi
    return 0
}

build() {
    # Reconfigure only when there is no configured tree yet (or it was made with another
    # generator); otherwise ninja re-runs cmake by itself when a CMakeLists.txt changed.
    if [ ! -f "$BUILD_DIR/build.ninja" ]; then
        cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE"
    fi
    cmake --build "$BUILD_DIR"
    install_python
}

# Installs the Python package (python/, with a copy of the libdckrt just built) for python3:
# into ~/.local when python3 is the system's (Debian marks it externally managed; NumPy comes
# from apt, nothing is downloaded), plainly in a virtualenv or another Python. Skipped when
# python/ and the library are unchanged since the last install; a failure only warns.
install_python() {
    command -v python3 >/dev/null 2>&1 || { log "no python3: not installing the dck package"; return 0; }
    local lib="$BUILD_DIR/runtime/libdckrt.so" stamp="$BUILD_DIR/python-install.stamp" sum
    [ -f "$lib" ] || return 0
    sum=$( { command -v python3; cat "$lib"; find python stdlib runtime/include -type f \
               \( -name '*.py' -o -name '*.toml' -o -name '*.dck' -o -name '*.h' \) \
               -not -path 'python/build/*' | sort | xargs cat; } | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && python3 -c "import dck" 2>/dev/null; then
        return 0
    fi
    local flags=(--quiet --disable-pip-version-check)
    if python3 -c 'import setuptools, wheel' 2>/dev/null; then flags+=(--no-build-isolation); fi
    if python3 -c 'import os, sys, sysconfig; sys.exit(not (sys.prefix == sys.base_prefix and
            os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))))'; then
        flags+=(--user --break-system-packages)
    fi
    log "installing the dck Python package: python3 -m pip install ${flags[*]} ./python"
    if DCK_BUILD_DIR="$(cd "$BUILD_DIR" && pwd)" PIP_ROOT_USER_ACTION=ignore python3 -m pip install "${flags[@]}" ./python; then
        echo "$sum" > "$stamp"
    else
        log "pip install ./python failed: the dck package is not installed (docs/python.md)"
    fi
    rm -rf python/build python/dck.egg-info
}

case "${1:-}" in
    "") install_deps; build ;;
    --deps-only) install_deps ;;
    --build-only) build ;;
    --check) check_deps ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) log "unknown option '$1' (try --help)"; exit 2 ;;
esac
