// launched_by_mpi (ptvm/comm/mpi_communicator.hpp): in the core library, which never links MPI.
#include <cstdlib>

#include "ptvm/comm/mpi_communicator.hpp"

namespace ptvm::comm {

bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(name))
      return true;
  return false;
}

} // namespace ptvm::comm
