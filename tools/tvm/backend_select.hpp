// Which proving backend `tvm prove` / `prove-batch` use. The verifier always runs on the CPU.
//   auto     cuda when a CUDA device is visible, else cpu (the default)
//   cpu      the reference backend
//   cuda     the CUDA backend on the GPU (error if no device is visible)
//   dual     CPU and CUDA side by side; reports the first stage, column and row that differ
//   hostsim, hostsim-dual   the CUDA backend's kernels run on the CPU by host-sim (debugging, CI)
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "ptvm/backend.hpp"
#include "ptvm/stark128/backend.hpp"
#include "ptvm/comm/communicator.hpp"
#include "ptvm/vmair/batch.hpp"

namespace tvm_cli {

struct SelectedBackend {
  std::unique_ptr<ptvm::Backend> backend;
  std::string name;  // the resolved name ("cpu" for auto without a device)
};

// Throws ptvm::Error (Usage) for an unknown name or one this build lacks, (Device) for cuda
// without a visible device.
SelectedBackend select_backend(const std::string& name);
// The F128 STARK's backend for statement-v1 (ptvm/stark128/backend.hpp) for the same names: nullptr
// for cpu (and auto without a device); the same errors as select_backend.
struct SelectedBackend128 {
  std::unique_ptr<ptvm::stark128::Backend128> backend;
  std::string name;
};
SelectedBackend128 select_stark128_backend(const std::string& name);
// Validates a --backend value without creating anything.
void check_backend_name(const std::string& name);

// Defined in backend_cuda.cpp / backend_hostsim.cpp when those runtimes are built.
bool cuda_runtime_built();
bool cuda_device_visible();
std::unique_ptr<ptvm::Backend> make_cuda_runtime_backend(const std::string& name);
// Visible CUDA devices (0 without the CUDA runtime or a device); makes `device` the calling
// thread's current device (Device error naming it if that fails).
int cuda_device_count();
void use_cuda_device(int device);
bool hostsim_runtime_built();
// prove-batch's lockstep device groups over a backend made by make_*_runtime_backend("cuda")
// (nullopt for any other backend); the backend must outlive the result.
std::optional<ptvm::vmair::GroupProving> make_cuda_group_proving(ptvm::Backend& backend, size_t max_group);
std::optional<ptvm::vmair::GroupProving> make_hostsim_group_proving(ptvm::Backend& backend, size_t max_group);
std::unique_ptr<ptvm::Backend> make_hostsim_runtime_backend(const std::string& name);
// The F128 STARK's device backend ("cuda" or "dual") on each runtime.
std::unique_ptr<ptvm::stark128::Backend128> make_cuda_runtime_stark128_backend(const std::string& name);
std::unique_ptr<ptvm::stark128::Backend128> make_hostsim_runtime_stark128_backend(const std::string& name);
// One rank of a sharded proof on a device (ptvm/gpu/sharded_device_backend.hpp); `comm` must
// outlive it. CUDA: on `device` (made current), its collectives over an NCCL communicator
// bootstrapped from `comm` when this build has NCCL (device_comm), else over `comm` (staged
// through the host). Host-sim: each rank a simulated device, collectives over `comm`.
struct ShardRankBackend {
  std::unique_ptr<ptvm::comm::Communicator> device_comm;  // destroyed after the backend
  std::unique_ptr<ptvm::Backend> backend;
};
ShardRankBackend make_cuda_sharded_backend(ptvm::comm::Communicator& comm, int device);
ShardRankBackend make_hostsim_sharded_backend(ptvm::comm::Communicator& comm);

}  // namespace tvm_cli
