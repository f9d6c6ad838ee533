#!/usr/bin/env bash
# tvm prove --shards S --backend hostsim (the sharded device backend, each rank a simulated device)
# writes the same proof file, byte for byte, as one CPU rank: S = 2 and 4 in-process ranks, and,
# where mpirun and an MPI-enabled tvm exist, mpirun -n 2 (one rank per process). --devices outside
# --backend cuda, and --backend cuda without a visible device, are refused with a clear error.
# Usage: TVM SOURCE_DIR WORK_DIR. Exit 77 (skipped) when this tvm has no host-sim runtime.
set -euo pipefail
tvm=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
program=$src/programs/counter_100k.tvm
common=(--max-steps 300 --profile fast-test-insecure -q)
"$tvm" prove "$program" "${common[@]}" --backend cpu -o "$work/one.proof.json" > "$work/one.log" 2>&1 \
  || { echo "FAIL: one CPU rank"; cat "$work/one.log"; exit 1; }
set +e
"$tvm" prove "$program" "${common[@]}" --backend hostsim --shards 2 -o "$work/hs2.proof.json" > "$work/hs2.log" 2>&1
code=$?
set -e
if [ $code != 0 ] && grep -q "host-sim not built" "$work/hs2.log"; then echo "skipped: no host-sim runtime"; exit 77; fi
status=0
[ $code = 0 ] || { echo "FAIL: --shards 2 --backend hostsim exited $code"; cat "$work/hs2.log"; status=1; }
"$tvm" prove "$program" "${common[@]}" --backend hostsim --shards 4 -o "$work/hs4.proof.json" > "$work/hs4.log" 2>&1 \
  || { echo "FAIL: --shards 4 --backend hostsim"; cat "$work/hs4.log"; status=1; }
for run in hs2 hs4; do
  if ! cmp "$work/one.proof.json" "$work/$run.proof.json"; then echo "FAIL: $run's proof differs from one CPU rank's"; status=1; fi
done
# Refusals: a clear message, a non-zero exit, no proof file.
expect_refused() {  # expected-text args...
  local want=$1; shift
  set +e
  "$tvm" prove "$program" "${common[@]}" -o "$work/refused.proof.json" "$@" > "$work/refused.log" 2>&1
  local c=$?
  set -e
  if [ $c = 0 ] || ! grep -q -- "$want" "$work/refused.log" || [ -e "$work/refused.proof.json" ]; then
    echo "FAIL: tvm prove $* exited $c, expected a refusal with '$want'"; cat "$work/refused.log"; status=1
  fi
}
expect_refused "applies to --shards S with --backend cuda" --shards 2 --backend hostsim --devices 0
expect_refused "applies to --shards S with --backend cuda" --devices 0
if ! "$tvm" prove --help | grep -q -- "--devices"; then echo "FAIL: tvm prove --help lacks --devices"; status=1; fi
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  # A GPU machine: the same proof on 2 CUDA devices when there are 2.
  if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
    "$tvm" prove "$program" "${common[@]}" --backend cuda --shards 2 -o "$work/cuda2.proof.json" > "$work/cuda2.log" 2>&1 \
      || { echo "FAIL: --shards 2 --backend cuda"; cat "$work/cuda2.log"; status=1; }
    cmp "$work/one.proof.json" "$work/cuda2.proof.json" || { echo "FAIL: cuda shards differ"; status=1; }
  fi
else
  expect_refused "device" --shards 2 --backend cuda
fi
if command -v mpirun >/dev/null; then
  mpi_env=(env OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1)
  set +e
  "${mpi_env[@]}" mpirun -n 2 --allow-run-as-root --oversubscribe \
    "$tvm" prove "$program" "${common[@]}" --backend hostsim --shards 2 -o "$work/mpi.proof.json" > "$work/mpi.log" 2>&1
  mpi=$?
  set -e
  if grep -q "built without MPI" "$work/mpi.log"; then
    echo "note: this tvm was built without MPI (mpirun case skipped)"
  elif [ $mpi != 0 ]; then
    echo "FAIL: mpirun -n 2 --backend hostsim exited $mpi"; cat "$work/mpi.log"; status=1
  elif ! cmp "$work/one.proof.json" "$work/mpi.proof.json"; then
    echo "FAIL: mpirun -n 2 --backend hostsim's proof differs"; status=1
  fi
fi
[ $status = 0 ] && echo "ok: host-sim device shards (2, 4, mpirun -n 2) give one CPU rank's proof"
exit $status
