#!/usr/bin/env bash
# Runs one libFuzzer binary of the fuzz tree for a bounded time from its kept corpus:
#   tools/run_fuzzer.sh BINARY CORPUS_DIR SECONDS
# New inputs go to a scratch folder (the kept corpus is only read); a crash, a sanitizer report,
# a leak, an input slower than 20 s or above 2 GB fails the run, and the offending input is printed
# (hex) so that it can be added to the corpus. Exit 77 (ctest: skipped) when the binary is missing.
set -uo pipefail
bin=$1 corpus=$2 seconds=$3
if [ ! -x "$bin" ]; then
  echo "skipped: $bin not built (tools/build.sh builds the fuzz tree when clang++ is installed)"
  exit 77
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/new" "$scratch/artifacts"
# One job: the CI machine has two cores and ctest runs two tests at a time.
"$bin" "$scratch/new" "$corpus" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$scratch/artifacts/" 2>&1 | tail -n 40
rc=${PIPESTATUS[0]}
for f in "$scratch"/artifacts/*; do
  [ -e "$f" ] || continue
  echo "failing input $(basename "$f") ($(wc -c < "$f") bytes):"
  od -An -tx1 -v "$f" | head -n 64
done
if [ "$rc" -ne 0 ]; then
  echo "fuzzer failed (exit $rc)"
  exit 1
fi
echo "fuzzed $seconds s, $(ls "$scratch/new" | wc -l) new inputs found (not kept)"
