// tvm prove --shards S: one trace proven across S ranks (ptvm/shard/sharded_backend.hpp).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ptvm/vm/isa.hpp"
#include "ptvm/vmair/prove.hpp"

namespace tvm_cli {

// Usage errors for --shards S with --backend NAME (S a power of two in 1..64; NAME auto or cpu:
// CPU ranks, hostsim: simulated devices, cuda: one GPU per rank), before anything runs.
void check_shard_arguments(int shards, const std::string& backend_name);
// The backend's name in reports ("sharded-cpu", "sharded-hostsim", "sharded-cuda").
std::string shard_backend_label(const std::string& backend_name);

// Proves `program` with a sharded backend on every rank: S in-process ranks over threads, or,
// under an MPI launch of K processes, the K MPI ranks (S must equal K). Returns the proved run on
// rank 0 and nullopt on the other MPI ranks (which write nothing). `backend_name` is the
// command's --backend (auto and cpu: CPU ranks; hostsim, cuda: the sharded device backend);
// `devices` (cuda): rank r drives devices[r] (under MPI, its local rank's), one rank per device.
std::optional<ptvm::vmair::ProvedRun> prove_sharded(const ptvm::vm::Program& program,
                                                    const ptvm::vmair::ProveOptions& options,
                                                    int shards, const std::string& backend_name,
                                                    const std::vector<int>& devices = {});

} // namespace tvm_cli
