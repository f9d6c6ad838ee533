// Bridge to the CUDA runtime build (library ptvm::cuda). Compiled in its own small library so its
// runtime choice (PTVM_HOSTSIM or not) does not leak into the rest of the CLI.
#include <memory>
#include <string>

#include "backend_select.hpp"
#include "tensor_device.hpp"

#if defined(TVM_WITH_CUDA_RUNTIME)
#include "ptvm/gpu/cuda_backend.hpp"
#include "ptvm/gpu/runtime.hpp"
#include "ptvm/gpu/tensor_batch.hpp"
#endif

namespace tvm_cli {

#if defined(TVM_WITH_CUDA_RUNTIME)
bool cuda_runtime_built() { return true; }
bool cuda_device_visible() { return ptvm::gpu::device_available(); }
std::unique_ptr<ptvm::Backend> make_cuda_runtime_backend(const std::string& name) {
  return ptvm::gpu::make_backend(name);
}
ptvm::vm::TensorFfnFactory make_cuda_tensor_ffn(bool cublas) {
  return ptvm::gpu::device_tensor_ffn_factory(cublas ? ptvm::gpu::TensorGemmPath::Cublas
                                                     : ptvm::gpu::TensorGemmPath::OwnKernel);
}
#else
bool cuda_runtime_built() { return false; }
bool cuda_device_visible() { return false; }
std::unique_ptr<ptvm::Backend> make_cuda_runtime_backend(const std::string& name) {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--backend " + name + ": CUDA backend not built");
}
ptvm::vm::TensorFfnFactory make_cuda_tensor_ffn(bool) {
  throw ptvm::Error(ptvm::ErrorCategory::Usage, "--tensor-device gpu: the CUDA runtime is not built");
}
#endif

}  // namespace tvm_cli
