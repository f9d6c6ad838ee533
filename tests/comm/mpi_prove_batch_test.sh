#!/usr/bin/env bash
# mpirun -n 2 tvm prove-batch (CPU ranks) proves a small manifest into the same proof files, byte
# for byte, as one rank, and as 2 in-process ranks (--ranks 2). Usage: TVM SOURCE_DIR WORK_DIR.
# Exit 77 (skipped) without mpirun or when tvm was built without MPI.
set -euo pipefail
tvm=$1 src=$2 work=$3
if ! command -v mpirun >/dev/null; then
  echo "skipped: mpirun not found (apt-get install openmpi-bin libopenmpi-dev; tools/setup.sh)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
cat > "$work/jobs.json" <<JSON
[{"program": "$src/programs/fibonacci.tvm"},
 {"program": "$src/programs/addition.tvm", "max_steps": 2},
 {"program": "$work/missing.tvm"},
 {"program": "$src/programs/multiply.tvm", "initial_memory": [3, 4, 0]},
 {"program": "$src/programs/bitwise.tvm"},
 {"program": "$src/programs/counter_100k.tvm", "max_steps": 300}]
JSON
common=(--profile fast-test-insecure --backend cpu -q)
set +e
"$tvm" prove-batch "$work/jobs.json" --out "$work/one" "${common[@]}" > "$work/one.log" 2>&1
one=$?
"$tvm" prove-batch "$work/jobs.json" --out "$work/threads" --ranks 2 "${common[@]}" > "$work/threads.log" 2>&1
threads=$?
# Open MPI in a container: root allowed, more ranks than cores, no shared-memory single copy.
OMPI_MCA_btl_vader_single_copy_mechanism=none OMPI_MCA_rmaps_base_oversubscribe=1 \
  mpirun -n 2 --allow-run-as-root --oversubscribe \
  "$tvm" prove-batch "$work/jobs.json" --out "$work/mpi" "${common[@]}" > "$work/mpi.log" 2>&1
mpi=$?
set -e
if grep -q "built without MPI" "$work/mpi.log"; then
  echo "skipped: this tvm was built without MPI"
  exit 77
fi
status=0
for run in one threads mpi; do
  code_var=$run
  if [ "${!code_var}" != 1 ]; then  # job 2 fails, so the exit code is 1
    echo "FAIL: $run exited ${!code_var}, expected 1"; cat "$work/$run.log"; status=1
  fi
done
for i in 0 1 3 4 5; do
  for run in threads mpi; do
    if ! cmp "$work/one/job-$i.proof.json" "$work/$run/job-$i.proof.json"; then
      echo "FAIL: job $i: $run's proof differs from one rank's"; status=1
    fi
  done
done
for run in threads mpi; do
  if [ -e "$work/$run/job-2.proof.json" ]; then echo "FAIL: $run wrote a proof for the failing job"; status=1; fi
  python3 - "$work/one/summary.json" "$work/$run/summary.json" "$run" <<'PY' || status=1
import json, sys
one, other, run = (json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3])
assert other["ranks"] == 2, (run, other["ranks"])
assert [j["ok"] for j in one["jobs"]] == [j["ok"] for j in other["jobs"]], run
assert [j["job"] for j in other["jobs"]] == list(range(6)), run
assert sorted({j["rank"] for j in other["jobs"]}) == [0, 1], (run, "both ranks proved jobs")
assert other["jobs"][2]["error"] == one["jobs"][2]["error"], run
PY
done
[ $status = 0 ] && echo "ok: mpirun -n 2, --ranks 2 and one rank give the same proofs"
exit $status
