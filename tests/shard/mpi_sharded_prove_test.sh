#!/usr/bin/env bash
# mpirun -n 2 tvm prove --shards 2 (CPU ranks, MPI communicator) writes the same proof file, byte
# for byte, as one rank and as 2 in-process shards; a shard count that is not the MPI size is
# refused, as are shard counts that are not powers of two. Usage: TVM SOURCE_DIR WORK_DIR. Exit 77 (skipped) without mpirun or an MPI-enabled tvm.
set -euo pipefail
tvm=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
# Bad shard counts and backends are usage errors (exit 2) naming the option, with or without MPI.
expect_usage() {  # expected-text args...
  local want=$1; shift
  set +e
  "$tvm" prove "$src/programs/fibonacci.tvm" --profile fast-test-insecure -q -o "$work/refused.proof.json" "$@" \
    > "$work/refused.log" 2>&1
  local code=$?
  set -e
  if [ $code != 2 ] || ! grep -q -- "$want" "$work/refused.log" || [ -e "$work/refused.proof.json" ]; then
    echo "FAIL: tvm prove $* exited $code, expected 2 with '$want'"; cat "$work/refused.log"; exit 1
  fi
}
expect_usage "expected a power of two" --shards 3
expect_usage "expected a power of two" --shards 128
expect_usage "expected a power of two" --shards 0
expect_usage "is not sharded" --shards 2 --backend dual
expect_usage "too few to split across 64 ranks" --shards 64 --max-steps 100
if ! command -v mpirun >/dev/null; then
  echo "skipped: mpirun not found (apt-get install openmpi-bin libopenmpi-dev; tools/setup.sh)"
  exit 77
fi
program=$src/programs/counter_100k.tvm
common=(--max-steps 300 --profile fast-test-insecure --backend cpu -q)
mpi_env=(env OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1)
status=0
"$tvm" prove "$program" "${common[@]}" -o "$work/one.proof.json" > "$work/one.log" 2>&1 || { echo "FAIL: one rank"; cat "$work/one.log"; exit 1; }
"$tvm" prove "$program" "${common[@]}" --shards 2 -o "$work/threads.proof.json" > "$work/threads.log" 2>&1 || { echo "FAIL: --shards 2"; cat "$work/threads.log"; status=1; }
set +e
"${mpi_env[@]}" mpirun -n 2 --allow-run-as-root --oversubscribe \
  "$tvm" prove "$program" "${common[@]}" --shards 2 -o "$work/mpi.proof.json" > "$work/mpi.log" 2>&1
mpi=$?
"${mpi_env[@]}" mpirun -n 2 --allow-run-as-root --oversubscribe \
  "$tvm" prove "$program" "${common[@]}" --shards 4 -o "$work/bad.proof.json" > "$work/bad.log" 2>&1
bad=$?
set -e
if grep -q "built without MPI" "$work/mpi.log"; then
  echo "skipped: this tvm was built without MPI"
  exit 77
fi
if [ $mpi != 0 ]; then echo "FAIL: mpirun -n 2 exited $mpi"; cat "$work/mpi.log"; status=1; fi
for run in threads mpi; do
  if ! cmp "$work/one.proof.json" "$work/$run.proof.json"; then echo "FAIL: $run's proof differs from one rank's"; status=1; fi
done
if [ $bad = 0 ] || ! grep -q "the shards are the MPI ranks" "$work/bad.log"; then
  echo "FAIL: --shards 4 under mpirun -n 2 was not refused"; cat "$work/bad.log"; status=1
fi
[ $status = 0 ] && echo "ok: mpirun -n 2 --shards 2, --shards 2 and one rank give the same proof"
exit $status
