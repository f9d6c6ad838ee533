// The MPI communicator: one rank per MPI process (MPI_COMM_WORLD), host byte buffers. Built as
// ptvm::mpi (host/comm/mpi_communicator.cpp) when CMake finds MPI (Debian: libopenmpi-dev); this
// header needs no MPI headers. Every MPI call is checked: a failure throws ptvm::Error(Runtime)
// naming the call, its error string and file:line. Blocks are limited to 2^31 - 1 bytes (MPI's
// int counts); larger ones are a Usage error.
#pragma once
#include <memory>

#include "ptvm/comm/communicator.hpp"

namespace ptvm::comm {

// True when this process was started by an MPI launcher (mpirun / mpiexec / srun): Open MPI's
// OMPI_COMM_WORLD_SIZE, PMIx's PMIX_RANK or PMI's PMI_SIZE is set. In the core library (no MPI
// needed), so that a build without MPI can refuse an MPI launch clearly.
bool launched_by_mpi();

// MPI_Init_thread (MPI_THREAD_FUNNELED) if MPI is not initialized yet; the communicator calls
// MPI_Finalize when destroyed if it initialized MPI. Only one may exist at a time.
std::unique_ptr<Communicator> make_mpi_communicator();

} // namespace ptvm::comm
