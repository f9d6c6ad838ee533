#!/usr/bin/env bash
# tools/gpu_check.sh OUTDIR: the GPU check of a machine with an NVIDIA GPU (written for 16 cores,
# CUDA 13, an sm_90 device). Configures a native Release tree for sm_90 (build-gpu/, or
# $PTVM_GPU_BUILD_DIR), builds only the GPU test suites and GPU benchmarks, runs every GPU test
# suite (GoogleTest JSON per suite) and the GPU benchmarks (Google Benchmark JSON), all within 8
# minutes (each step gets what is left of the budget, PTVM_GPU_CHECK_SECONDS, default 480), and
# writes into OUTDIR: gpu.txt (nvidia-smi), <suite>.json, <bench>.json, the logs, and summary.json
# (every step's exit status and seconds). Exit 0 when every step passed.
set -uo pipefail
if [ $# -ne 1 ]; then
  echo "usage: tools/gpu_check.sh OUTDIR" >&2
  exit 2
fi
mkdir -p "$1" || exit 2
OUT=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
BUILD=${PTVM_GPU_BUILD_DIR:-build-gpu}
JOBS=${PTVM_JOBS:-$(nproc)}
BUDGET=${PTVM_GPU_CHECK_SECONDS:-480}
START=$SECONDS
steps=()
left() { echo $((BUDGET - (SECONDS - START))); }
# step NAME COMMAND...: runs with the time left (at least 10 s), records rc and seconds.
step() {
  local name=$1; shift
  local t0=$SECONDS budget
  budget=$(left)
  if [ "$budget" -lt 10 ]; then
    steps+=("{\"step\":\"$name\",\"rc\":124,\"seconds\":0,\"note\":\"no time left\"}")
    echo "gpu_check: $name: skipped, no time left" >&2
    return
  fi
  timeout --kill-after=10 "$budget" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  steps+=("{\"step\":\"$name\",\"rc\":$rc,\"seconds\":$((SECONDS - t0))}")
  echo "gpu_check: $name: rc $rc, $((SECONDS - t0)) s" >&2
}

command -v nvidia-smi > /dev/null && nvidia-smi > "$OUT/gpu.txt" 2>&1
command -v nvcc > /dev/null && nvcc --version >> "$OUT/gpu.txt" 2>&1
launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
gen=()
command -v ninja > /dev/null && gen=(-G Ninja)
step configure cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DPTVM_ENABLE_CUDA=ON -DPTVM_NATIVE=ON -DPTVM_BUILD_FUZZ=OFF "${launcher[@]}"

suites=(ptvm_gpu_tests ptvm_cuda_backend_gpu_tests ptvm_backend_gpu_tests ptvm_comm_nccl_tests)
benches=(ptvm_group_bench_cuda ptvm_fusion_bench_cuda ptvm_gpu_bench_cuda ptvm_sumcheck_gpu_bench_cuda ptvm_cuda_backend_bench)
step build cmake --build "$BUILD" -j "$JOBS" --target "${suites[@]}" "${benches[@]}"

for s in "${suites[@]}"; do
  bin=$(find "$BUILD/tests" -type f -name "$s" -perm -u+x | head -1)
  [ -n "$bin" ] || { steps+=("{\"step\":\"$s\",\"rc\":127,\"seconds\":0,\"note\":\"not built\"}"); continue; }
  step "$s" "$bin" --gtest_output="json:$OUT/$s.json"
done
for b in "${benches[@]}"; do
  bin=$(find "$BUILD/bench" -type f -name "$b" -perm -u+x | head -1)
  [ -n "$bin" ] || { steps+=("{\"step\":\"$b\",\"rc\":127,\"seconds\":0,\"note\":\"not built\"}"); continue; }
  step "$b" "$bin" --benchmark_format=json --benchmark_out="$OUT/$b.json" --benchmark_out_format=json
done

failed=0
{
  echo "{\"seconds\":$((SECONDS - START)),\"budget_seconds\":$BUDGET,\"steps\":["
  for i in "${!steps[@]}"; do
    [ "$i" -gt 0 ] && echo ","
    echo -n "${steps[$i]}"
    case "${steps[$i]}" in *'"rc":0,'*) ;; *) failed=1 ;; esac
  done
  echo "]}"
} > "$OUT/summary.json"
echo "gpu_check: $((SECONDS - START)) s; results in $OUT" >&2
exit $failed
