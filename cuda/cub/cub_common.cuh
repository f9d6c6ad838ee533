// Shared pieces of the CUB wrappers: the field addition functor and temporary storage on the
// stream's memory pool.
#pragma once
#include <cub/device/device_reduce.cuh>
#include <cub/device/device_scan.cuh>

#include "ptvm/gpu/cuda_check.hpp"
#include "ptvm/gpu/device_wide.hpp"
#include "ptvm/gpu/runtime.hpp"

namespace ptvm::gpu::cub_detail {

struct FieldAdd {
  template <class F>
  __device__ F operator()(const F& a, const F& b) const {
    return a + b;
  }
};

// CUB's two-phase call: ask for the temporary size, allocate it stream-ordered from the runtime's
// pool (ptvm::gpu::device_malloc_async), run, free.
template <class Call>
void run_with_temp_storage(Call call, cudaStream_t stream) {
  size_t bytes = 0;
  PTVM_CUDA_CHECK(call(nullptr, bytes));
  void* temp = device_malloc_async(bytes ? bytes : 1, stream);
  cudaError_t status = call(temp, bytes);
  device_free_async(temp, stream);
  PTVM_CUDA_CHECK(status);
}

}  // namespace ptvm::gpu::cub_detail
