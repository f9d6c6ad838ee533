// The one checking macro for CUDA runtime calls (CUDA builds only): a failing call throws
// ptvm::Error (category Device) naming file:line, the call's text and CUDA's message.
#pragma once
#if defined(PTVM_HOSTSIM)
#error "ptvm/gpu/cuda_check.hpp is for CUDA builds; host-sim runtime calls throw by themselves"
#endif
#include <cuda_runtime_api.h>

#include <string>

#include "ptvm/common/error.hpp"

namespace ptvm::gpu::detail {
inline void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  throw Error(ErrorCategory::Device, std::string(file) + ":" + std::to_string(line) + ": " + call +
                                         " failed: " + cudaGetErrorName(status) + ": " +
                                         cudaGetErrorString(status));
}
}  // namespace ptvm::gpu::detail

#define PTVM_CUDA_CHECK(call) ::ptvm::gpu::detail::check_cuda((call), #call, __FILE__, __LINE__)
