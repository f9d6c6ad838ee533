#!/usr/bin/env bash
# Configures and builds ptvm in ./build (Release, ccache, Ninja). Extra arguments go to cmake configure.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${PTVM_BUILD_DIR:-build}
JOBS=${PTVM_JOBS:-2}
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
fi
gen=()
if command -v ninja >/dev/null; then gen=(-G Ninja); fi
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE=${PTVM_BUILD_TYPE:-Release} "${launcher[@]}" "$@"
elif [ $# -gt 0 ]; then
  cmake -S . -B "$BUILD_DIR" "$@"
fi
cmake --build "$BUILD_DIR" -j "$JOBS"

# The fuzz/sanitizer tree (clang, ASan + UBSan, libFuzzer; no CUDA, no benchmarks, no CLI) under
# $BUILD_DIR/sanitize: its fuzzers and sanitized reader/verifier tests are run by the ordinary
# tree's ctest (fuzz_run_*, sanitized_reader_tests). PTVM_FUZZ=0 skips it.
if [ "${PTVM_FUZZ:-1}" != 0 ] && command -v clang++ >/dev/null; then
  FUZZ_DIR="$BUILD_DIR/sanitize"
  fuzz_launcher=()
  if command -v ccache >/dev/null; then
    fuzz_launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  if [ ! -f "$FUZZ_DIR/CMakeCache.txt" ]; then
    cmake -S . -B "$FUZZ_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
      -DCMAKE_CXX_COMPILER=clang++ -DPTVM_BUILD_FUZZ=ON "${fuzz_launcher[@]}"
  fi
  cmake --build "$FUZZ_DIR" -j "$JOBS"
fi
