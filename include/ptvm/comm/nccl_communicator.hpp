// The NCCL communicator: one rank per GPU, device-buffer collectives on CUDA streams (NCCL), host
// collectives through the bootstrap communicator it is made from. Built into ptvm::cuda
// (cuda/comm/nccl_communicator.cpp) when PTVM_ENABLE_NCCL is on and NCCL is found under the CUDA
// toolkit; this header needs neither CUDA nor NCCL headers.
//
// Bootstrap: rank 0 of `bootstrap` makes the NCCL unique id and broadcasts it over `bootstrap`:
// a thread communicator for the GPUs of one process (one thread per GPU), the MPI communicator
// across processes and nodes. Every NCCL and CUDA call is checked: a failure throws
// ptvm::Error(Device) naming the call, its error string and file:line.
#pragma once
#include <memory>

#include "ptvm/comm/communicator.hpp"

namespace ptvm::comm {

// Whether this build has the NCCL communicator (false: make_nccl_communicator throws Usage).
bool nccl_communicator_built();

// Collective over `bootstrap`: every rank calls it with its own CUDA device ordinal. The result
// has bootstrap's rank and size; `bootstrap` must outlive it.
std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int device);

} // namespace ptvm::comm
