#!/usr/bin/env bash
# Runs a GoogleTest binary of the fuzz tree (built with ASan + UBSan): any sanitizer report fails it.
#   tools/run_sanitized.sh BINARY [gtest args...]
# Exit 77 (ctest: skipped) when the binary is missing.
set -uo pipefail
bin=$1
shift
if [ ! -x "$bin" ]; then
  echo "skipped: $bin not built (tools/build.sh builds the fuzz tree when clang++ is installed)"
  exit 77
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
exec "$bin" --gtest_brief=1 "$@"
