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
#include "ptvm/sumcheck/backend.hpp"
#include "ptvm/sumcheck/int8_gemm.hpp"
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
// tvm prove-block's --backend: the sumcheck backend its sumchecks and GKR run on, the STARK backend
// of its commitments' encodings and Merkle trees (nullptr: the host's), and the int8 GEMM engine
// of its forward pass (nullptr: the CPU's direct products on the thread pool).
//   auto     cuda when a CUDA device is visible, else cpu (the default)
//   cpu      the CPU sumcheck backend, direct products
//   cuda     the GPU sumcheck kernels, the commitments on the CUDA backend (circle FFT, Merkle),
//            forward GEMMs on cuBLASLt's int8 tensor cores
//   hostsim  the same sumcheck kernels run on the CPU by host-sim; the forward's int8 limb GEMMs
//            on host-sim's engine (the CPU reference GEMM: host-sim has no cuBLASLt)
// Every choice gives the same proof bytes.
struct SelectedZkmlBackend {
  std::unique_ptr<ptvm::sumcheck::SumcheckBackend> sumcheck;
  std::unique_ptr<ptvm::sumcheck::Int8GemmEngine> gemm;
  std::unique_ptr<ptvm::Backend> stark;
  std::string name;
};
SelectedZkmlBackend select_zkml_backend(const std::string& name);
SelectedZkmlBackend make_cuda_zkml_backend();
SelectedZkmlBackend make_hostsim_zkml_backend();
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
