// tvm prove --shards S (see shard_prove.hpp).
#include "shard_prove.hpp"

#include <mutex>

#include "backend_select.hpp"
#include "mpi_bridge.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/comm/mpi_communicator.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/shard/sharded_backend.hpp"

namespace tvm_cli {

using ptvm::Error;
using ptvm::ErrorCategory;

void check_shard_arguments(int shards, const std::string& backend_name) {
  ptvm::shard::shard_log(shards, "--shards");
  if (backend_name != "auto" && backend_name != "cpu" && backend_name != "hostsim" && backend_name != "cuda")
    throw Error(ErrorCategory::Usage,
                "--shards runs CPU ranks (--backend cpu or auto) or device ranks (--backend hostsim or cuda); "
                "--backend " + backend_name + " is not sharded");
  if (backend_name == "hostsim" && !hostsim_runtime_built())
    throw Error(ErrorCategory::Usage, "--shards with --backend hostsim: host-sim not built");
  if (backend_name == "cuda" && !cuda_runtime_built())
    throw Error(ErrorCategory::Usage, "--shards with --backend cuda: the CUDA runtime is not built");
}

std::string shard_backend_label(const std::string& backend_name) {
  return backend_name == "hostsim" || backend_name == "cuda" ? "sharded-" + backend_name : "sharded-cpu";
}

std::optional<ptvm::vmair::ProvedRun> prove_sharded(const ptvm::vm::Program& program,
                                                    const ptvm::vmair::ProveOptions& options,
                                                    int shards, const std::string& backend_name,
                                                    const std::vector<int>& devices) {
  check_shard_arguments(shards, backend_name);
  const bool mpi = ptvm::comm::launched_by_mpi() && mpi_world_size() != 1;
  if (backend_name == "cuda" && !mpi && static_cast<int>(devices.size()) < shards)
    throw Error(ErrorCategory::Usage, "--shards " + std::to_string(shards) + " --backend cuda: one rank per device, but " +
                                          std::to_string(devices.size()) + " device(s) listed or visible (--devices)");
  std::optional<ptvm::vmair::ProvedRun> result;
  std::mutex result_mutex;
  auto prove_rank = [&](ptvm::comm::Communicator& comm) {
    ShardRankBackend rank_backend;
    if (backend_name == "hostsim") {
      rank_backend = make_hostsim_sharded_backend(comm);
    } else if (backend_name == "cuda") {
      // One rank per device: its in-process rank, or under MPI its local rank on this node.
      const size_t local = static_cast<size_t>(mpi ? mpi_local_rank() : comm.rank());
      if (local >= devices.size())
        throw Error(ErrorCategory::Usage, "rank " + std::to_string(comm.rank()) + ": no device left for it (--devices)");
      rank_backend = make_cuda_sharded_backend(comm, devices[local]);
    } else {
      rank_backend.backend = ptvm::shard::make_sharded_backend(comm);
    }
    ptvm::Backend* backend = rank_backend.backend.get();
    ptvm::vmair::ProveOptions rank_options = options;
    rank_options.backend = backend;
    if (comm.rank() != 0)
      rank_options.progress = nullptr;
    ptvm::vmair::ProvedRun run = ptvm::vmair::prove_program(program, rank_options);
    if (comm.rank() == 0) {
      std::lock_guard<std::mutex> lock(result_mutex);
      result = std::move(run);
    }
  };
  if (mpi) {
    if (!mpi_runtime_built())
      throw Error(ErrorCategory::Usage,
                  "this tvm was built without MPI (libopenmpi-dev); it cannot run as one of " +
                      std::to_string(mpi_world_size()) + " MPI ranks");
    // Checked before MPI starts: an error thrown while a communicator lives aborts the job
    // without its message.
    const int world = mpi_world_size();
    if (world != 0 && world != shards)
      throw Error(ErrorCategory::Usage,
                  "--shards " + std::to_string(shards) + " under an MPI launch of " +
                      std::to_string(world) +
                      " processes: the shards are the MPI ranks (pass --shards " +
                      std::to_string(world) + ")");
    std::unique_ptr<ptvm::comm::Communicator> comm = make_mpi_runtime_communicator();
    if (comm->size() != shards)
      throw Error(ErrorCategory::Usage,
                  "--shards " + std::to_string(shards) + " under an MPI launch of " +
                      std::to_string(comm->size()) + " processes: the shards are the MPI ranks");
    prove_rank(*comm);
    return result;
  }
  ptvm::comm::run_ranks(shards, prove_rank);
  return result;
}

} // namespace tvm_cli
