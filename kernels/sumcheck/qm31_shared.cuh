// QM31 values in shared memory as 4 u32 words each (a shared array of a type with default member
// initializers is not allowed by nvcc), and a tree sum over groups of threads of a block.
#pragma once
#include "../common/field_access.cuh"

namespace ptvm::kernels {

__device__ PTVM_FORCEINLINE void shared_store_qm31(uint32_t* s, size_t slot, QM31 v) {
  s[4 * slot + 0] = v.x0.a.v;
  s[4 * slot + 1] = v.x0.b.v;
  s[4 * slot + 2] = v.x1.a.v;
  s[4 * slot + 3] = v.x1.b.v;
}
__device__ PTVM_FORCEINLINE QM31 shared_load_qm31(const uint32_t* s, size_t slot) {
  return QM31::from_m31(M31::raw(s[4 * slot]), M31::raw(s[4 * slot + 1]), M31::raw(s[4 * slot + 2]),
                        M31::raw(s[4 * slot + 3]));
}

// Sums the `lanes` consecutive slots of each group (lanes a power of two dividing blockDim.x) of
// `n_values` value planes: plane e holds slot e * blockDim.x + threadIdx.x. After the call the
// group's first slot holds the group's sum in every plane. Every thread of the block must call it
// (it contains barriers); the caller synchronizes before it, after writing its slots.
__device__ PTVM_FORCEINLINE void shared_group_sum_qm31(uint32_t* s, unsigned lanes, unsigned n_values) {
  const unsigned tid = threadIdx.x;
  const unsigned lane = tid & (lanes - 1);
  for (unsigned stride = lanes / 2; stride > 0; stride /= 2) {
    if (lane < stride)
      for (unsigned e = 0; e < n_values; ++e) {
        const size_t mine = size_t(e) * blockDim.x + tid;
        shared_store_qm31(s, mine, shared_load_qm31(s, mine) + shared_load_qm31(s, mine + stride));
      }
    __syncthreads();
  }
}

}  // namespace ptvm::kernels
