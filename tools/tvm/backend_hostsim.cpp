// Bridge to the host-sim build of the CUDA backend (library ptvm::hostsim): the project's kernels
// run on the CPU. In its own small library because ptvm::hostsim defines PTVM_HOSTSIM publicly.
#include <memory>
#include <string>

#include "backend_select.hpp"
#include "tensor_device.hpp"

#if defined(TVM_WITH_HOSTSIM_RUNTIME)
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/sharded_device_backend.hpp"
#include "ptvm/gpu/group_backend.hpp"
#include "ptvm/gpu/int8_gemm.hpp"
#include "ptvm/gpu/sumcheck_backend.hpp"
#include "ptvm/gpu/stark128_backend.hpp"
#include "ptvm/gpu/tensor_batch.hpp"
#include "ptvm/gpu/vmair_device.hpp"
#endif

namespace tvm_cli {

#if defined(TVM_WITH_HOSTSIM_RUNTIME)
bool hostsim_runtime_built() { return true; }
std::unique_ptr<ptvm::Backend> make_hostsim_runtime_backend(const std::string& name) {
  // The CLI proves VM programs: its CUDA backends carry the VM AIR's device evaluators.
  if (name == "cuda" || name == "dual") {
    auto device = ptvm::gpu::make_cuda_backend();
    ptvm::vmair::register_device_airs(*device);
    if (name == "cuda") return device;
    return ptvm::gpu::make_dual_backend(ptvm::make_cpu_backend(), std::move(device));
  }
  return ptvm::gpu::make_backend(name);
}
ptvm::vm::TensorFfnFactory make_hostsim_tensor_ffn() {
  return ptvm::gpu::device_tensor_ffn_factory(ptvm::gpu::TensorGemmPath::OwnKernel);
}
std::optional<ptvm::vmair::GroupProving> make_hostsim_group_proving(ptvm::Backend& backend, size_t max_group) {
  auto* device = dynamic_cast<ptvm::gpu::CudaBackend*>(&backend);
  if (!device) return std::nullopt;
  return ptvm::vmair::group_proving(*device, max_group);
}
std::unique_ptr<ptvm::stark128::Backend128> make_hostsim_runtime_stark128_backend(const std::string& name) {
  return ptvm::gpu::make_stark128_backend(name);
}
ShardRankBackend make_hostsim_sharded_backend(ptvm::comm::Communicator& comm) {
  ShardRankBackend out;
  auto backend = ptvm::gpu::make_sharded_device_backend(comm);
  ptvm::vmair::register_device_airs(backend->air_registry());
  out.backend = std::move(backend);
  return out;
}
SelectedZkmlBackend make_hostsim_zkml_backend() {
  SelectedZkmlBackend s;
  s.sumcheck = ptvm::gpu::make_gpu_sumcheck_backend();
  s.gemm = ptvm::gpu::make_gpu_int8_gemm();
  s.stark = ptvm::gpu::make_cuda_backend();
  s.name = "hostsim";
  return s;
}
#else
bool hostsim_runtime_built() { return false; }
std::unique_ptr<ptvm::Backend> make_hostsim_runtime_backend(const std::string& name) {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--backend " + name + ": host-sim not built");
}
ptvm::vm::TensorFfnFactory make_hostsim_tensor_ffn() {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--tensor-device hostsim: host-sim not built");
}
std::optional<ptvm::vmair::GroupProving> make_hostsim_group_proving(ptvm::Backend&, size_t) { return std::nullopt; }
std::unique_ptr<ptvm::stark128::Backend128> make_hostsim_runtime_stark128_backend(const std::string& name) {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--backend " + name + ": host-sim not built");
}
ShardRankBackend make_hostsim_sharded_backend(ptvm::comm::Communicator&) {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--shards: host-sim not built");
}
SelectedZkmlBackend make_hostsim_zkml_backend() {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--backend hostsim: host-sim is not built");
}
#endif

}  // namespace tvm_cli
