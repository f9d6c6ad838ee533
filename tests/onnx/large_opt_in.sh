#!/bin/sh
# large_opt_in.sh WHAT COMMAND...: runs COMMAND only with PTVM_LARGE_TESTS=1, else skips (exit 77).
what=$1
shift
if [ "${PTVM_LARGE_TESTS:-0}" != 1 ]; then
  echo "skipped: $what (set PTVM_LARGE_TESTS=1 to run it)"
  exit 77
fi
exec "$@"
