// consumer_mpi: links ptvm::mpi from the install prefix and runs a one-rank MPI communicator
// (MPI's singleton start: no launcher needed): its kind, size and rank, and a broadcast from root 0.
#include <cstdio>
#include <memory>
#include <string>

#include "ptvm/comm/mpi_communicator.hpp"

int main() {
  std::unique_ptr<ptvm::comm::Communicator> comm = ptvm::comm::make_mpi_communicator();
  if (comm->kind() != "mpi" || comm->size() != 1 || comm->rank() != 0) {
    std::fprintf(stderr, "consumer_mpi: expected the mpi communicator with one rank, got %s rank %d of %d\n",
                 std::string(comm->kind()).c_str(), comm->rank(), comm->size());
    return 1;
  }
  ptvm::comm::Bytes bytes{1, 2, 3};
  comm->broadcast(bytes, 0);
  comm->barrier();
  if (bytes != ptvm::comm::Bytes{1, 2, 3}) {
    std::fprintf(stderr, "consumer_mpi: a one-rank broadcast changed its bytes\n");
    return 1;
  }
  std::printf("consumer_mpi: mpi communicator, rank 0 of 1\n");
  return 0;
}
