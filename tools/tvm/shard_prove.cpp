// tvm prove --shards S (see shard_prove.hpp).
#include "shard_prove.hpp"

#include <mutex>

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
  if (backend_name != "auto" && backend_name != "cpu")
    throw Error(ErrorCategory::Usage,
                "--shards runs CPU ranks (--backend cpu or auto); --backend " + backend_name +
                    " is not sharded (GPU shards would need a sharded CUDA backend over NCCL)");
}

std::optional<ptvm::vmair::ProvedRun> prove_sharded(const ptvm::vm::Program& program,
                                                    const ptvm::vmair::ProveOptions& options,
                                                    int shards, const std::string& backend_name) {
  check_shard_arguments(shards, backend_name);
  std::optional<ptvm::vmair::ProvedRun> result;
  std::mutex result_mutex;
  auto prove_rank = [&](ptvm::comm::Communicator& comm) {
    std::unique_ptr<ptvm::Backend> backend = ptvm::shard::make_sharded_backend(comm);
    ptvm::vmair::ProveOptions rank_options = options;
    rank_options.backend = backend.get();
    if (comm.rank() != 0)
      rank_options.progress = nullptr;
    ptvm::vmair::ProvedRun run = ptvm::vmair::prove_program(program, rank_options);
    if (comm.rank() == 0) {
      std::lock_guard<std::mutex> lock(result_mutex);
      result = std::move(run);
    }
  };
  const bool mpi = ptvm::comm::launched_by_mpi() && mpi_world_size() != 1;
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
