// Bridge to the CUDA runtime build (library ptvm::cuda). Compiled in its own small library so its
// runtime choice (PTVM_HOSTSIM or not) does not leak into the rest of the CLI.
#include <memory>
#include <string>

#include "backend_select.hpp"
#include "tensor_device.hpp"

#if defined(TVM_WITH_CUDA_RUNTIME)
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/comm/nccl_communicator.hpp"
#include "ptvm/gpu/sharded_device_backend.hpp"
#include "ptvm/gpu/group_backend.hpp"
#include "ptvm/gpu/int8_gemm.hpp"
#include "ptvm/gpu/sumcheck_backend.hpp"
#include "ptvm/gpu/stark128_backend.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/tensor_batch.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#if !defined(PTVM_HOSTSIM)
#include "ptvm/gpu/cuda_check.hpp"
#endif
#endif

namespace tvm_cli {

#if defined(TVM_WITH_CUDA_RUNTIME)
bool cuda_runtime_built() { return true; }
bool cuda_device_visible() { return ptvm::gpu::device_available(); }
std::unique_ptr<ptvm::Backend> make_cuda_runtime_backend(const std::string& name) {
  // The CLI proves VM programs: its CUDA backends carry the VM AIR's device evaluators.
  if (name == "cuda" || name == "dual") {
    auto device = ptvm::gpu::make_cuda_backend();
    ptvm::vmair::register_device_airs(*device);
    if (name == "cuda") return device;
    return ptvm::gpu::make_dual_backend(ptvm::make_cpu_backend(), std::move(device));
  }
  return ptvm::gpu::make_backend(name);
}
int cuda_device_count() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess ? count : 0;  // no driver or no device: none
}
void use_cuda_device(int device) { PTVM_CUDA_CHECK(cudaSetDevice(device)); }
ptvm::vm::TensorFfnFactory make_cuda_tensor_ffn(bool cublas) {
  return ptvm::gpu::device_tensor_ffn_factory(cublas ? ptvm::gpu::TensorGemmPath::Cublas
                                                     : ptvm::gpu::TensorGemmPath::OwnKernel);
}
std::optional<ptvm::vmair::GroupProving> make_cuda_group_proving(ptvm::Backend& backend, size_t max_group) {
  auto* device = dynamic_cast<ptvm::gpu::CudaBackend*>(&backend);
  if (!device) return std::nullopt;
  return ptvm::vmair::group_proving(*device, max_group);
}
std::unique_ptr<ptvm::stark128::Backend128> make_cuda_runtime_stark128_backend(const std::string& name) {
  return ptvm::gpu::make_stark128_backend(name);
}
ShardRankBackend make_cuda_sharded_backend(ptvm::comm::Communicator& comm, int device) {
  use_cuda_device(device);
  ShardRankBackend out;
  if (ptvm::comm::nccl_communicator_built()) out.device_comm = ptvm::comm::make_nccl_communicator(comm, device);
  auto backend = ptvm::gpu::make_sharded_device_backend(out.device_comm ? *out.device_comm : comm);
  ptvm::vmair::register_device_airs(backend->air_registry());
  out.backend = std::move(backend);
  return out;
}
SelectedZkmlBackend make_cuda_zkml_backend() {
  SelectedZkmlBackend s;
  s.sumcheck = ptvm::gpu::make_gpu_sumcheck_backend();
  s.gemm = ptvm::gpu::make_gpu_int8_gemm();
  s.stark = ptvm::gpu::make_cuda_backend();
  s.name = "cuda";
  return s;
}
#else
bool cuda_runtime_built() { return false; }
bool cuda_device_visible() { return false; }
std::unique_ptr<ptvm::Backend> make_cuda_runtime_backend(const std::string& name) {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--backend " + name + ": CUDA backend not built");
}
int cuda_device_count() { return 0; }
void use_cuda_device(int device) {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "device " + std::to_string(device) + ": the CUDA runtime is not built");
}
ptvm::vm::TensorFfnFactory make_cuda_tensor_ffn(bool) {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--tensor-device gpu: the CUDA runtime is not built");
}
std::optional<ptvm::vmair::GroupProving> make_cuda_group_proving(ptvm::Backend&, size_t) { return std::nullopt; }
std::unique_ptr<ptvm::stark128::Backend128> make_cuda_runtime_stark128_backend(const std::string& name) {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--backend " + name + ": CUDA backend not built");
}
ShardRankBackend make_cuda_sharded_backend(ptvm::comm::Communicator&, int) {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--shards: the CUDA runtime is not built");
}
SelectedZkmlBackend make_cuda_zkml_backend() {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--backend cuda: the CUDA runtime is not built");
}
#endif

}  // namespace tvm_cli
