// tvm's bridge to the MPI communicator (library ptvm::mpi, when CMake found MPI): the CLI
// compiles without MPI and says so when launched by mpirun.
#pragma once
#include <memory>

#include "ptvm/comm/communicator.hpp"

namespace tvm_cli {

bool mpi_runtime_built();
// The launcher's world size and this process's rank on its node, from the launcher's environment
// (OMPI_COMM_WORLD_SIZE / PMI_SIZE / SLURM_NTASKS, OMPI_COMM_WORLD_LOCAL_RANK / MPI_LOCALRANKID /
// SLURM_LOCALID); 0 when unknown.
int mpi_world_size();
int mpi_local_rank();
std::unique_ptr<ptvm::comm::Communicator> make_mpi_runtime_communicator();

} // namespace tvm_cli
