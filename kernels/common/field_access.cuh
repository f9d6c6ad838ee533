// Global-memory access helpers for field elements shared by the kernels.
#pragma once
#include "ptvm/field/qm31.hpp"
#include "ptvm/gpu/device.hpp"

namespace ptvm::kernels {
using gpu::gptr;

// QM31 columns are arrays of 16-byte elements (a, b, c, d); each is moved with one 16-byte vector
// access (a warp request of 32 lanes covers 512 contiguous bytes = 16 sectors, fully used) instead
// of four 4-byte accesses. Device buffers are 256-byte aligned, so element i is 16-byte aligned.
__device__ PTVM_FORCEINLINE QM31 load_qm31(gptr<const QM31> p, size_t i) {
  uint4 w = p.template as<const uint4>().load(i);
  return QM31(CM31(M31::raw(w.x), M31::raw(w.y)), CM31(M31::raw(w.z), M31::raw(w.w)));
}
__device__ PTVM_FORCEINLINE void store_qm31(gptr<QM31> p, size_t i, QM31 v) {
  uint4 w;
  w.x = v.x0.a.v;
  w.y = v.x0.b.v;
  w.z = v.x1.a.v;
  w.w = v.x1.b.v;
  p.template as<uint4>().store(i, w);
}

// First index and stride of a 1-D grid-stride loop.
__device__ PTVM_FORCEINLINE size_t grid_thread_index() {
  return static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ PTVM_FORCEINLINE size_t grid_thread_count() {
  return static_cast<size_t>(gridDim.x) * blockDim.x;
}

}  // namespace ptvm::kernels
