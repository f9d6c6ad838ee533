// The one header every kernel file (kernels/**/*.cu) includes first. It gives the same source two
// meanings: under nvcc the CUDA built-ins, under host-sim (PTVM_HOSTSIM, host compiler) the fiber
// runtime of ptvm/gpu/hostsim/prelude.hpp. Kernels therefore use only:
//   PTVM_LAUNCH(kernel, grid, block, smem, stream)(args...)   -- the only launch syntax (a nullptr
//                                                                stream: the thread's default one,
//                                                                ptvm::gpu::resolve_stream)
//   PTVM_SHARED(T, name, N)                                   -- static shared array T name[N]
//   PTVM_DYNAMIC_SHARED(T, name)                              -- dynamic shared memory as T*
//   gptr<T> load/store                                        -- global memory
//   threadIdx, blockIdx, blockDim, gridDim, __syncthreads, __shfl_*_sync, __ballot_sync, atomics
// and no CUB block primitives, cooperative groups or inline PTX (DESIGN.md "host-sim").
#pragma once
#include <cstdint>

#include "ptvm/common/hd.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"
#include "ptvm/gpu/runtime.hpp"

#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/prelude.hpp"

#define PTVM_LAUNCH(kernel, grid, block, smem, stream) \
  ::ptvm::hostsim::make_launcher(kernel, #kernel, grid, block, smem, ::ptvm::gpu::resolve_stream(stream), \
                                 __FILE__, __LINE__)
// One arena slot per declaration site (the address of a static tag) and per block.
#define PTVM_SHARED(T, name, N)                                               \
  static const char name##_ptvm_shared_tag = 0;                               \
  T* const name = static_cast<T*>(::ptvm::hostsim::static_shared(             \
      &name##_ptvm_shared_tag, sizeof(T) * static_cast<size_t>(N), alignof(T)))
#define PTVM_DYNAMIC_SHARED(T, name) \
  T* const name = static_cast<T*>(::ptvm::hostsim::dynamic_shared())

#else  // nvcc

#define PTVM_LAUNCH(kernel, grid, block, smem, stream) kernel<<<(grid), (block), (smem), ::ptvm::gpu::resolve_stream(stream)>>>
#define PTVM_SHARED(T, name, N) __shared__ T name[N]
#define PTVM_DYNAMIC_SHARED(T, name)                                 \
  extern __shared__ __align__(16) unsigned char ptvm_dynamic_smem[]; \
  T* const name = reinterpret_cast<T*>(ptvm_dynamic_smem)

#endif

#if defined(PTVM_HOSTSIM)
#define PTVM_ACCESS_SITE_PARAM , std::source_location site = std::source_location::current()
#else
#define PTVM_ACCESS_SITE_PARAM
#endif

PTVM_GPU_NAMESPACE_BEGIN

// 64-bit atomics on uint64_t: CUDA declares them on unsigned long long, a distinct type from
// uint64_t (unsigned long) on Linux.
static_assert(sizeof(unsigned long long) == sizeof(uint64_t));
__device__ inline uint64_t atomic_min_u64(gptr<uint64_t> p, size_t i, uint64_t v PTVM_ACCESS_SITE_PARAM) {
#if defined(PTVM_HOSTSIM)
  if (::ptvm::hostsim::tls_access_log)
    ::ptvm::hostsim::record_access(p.address(i), 8, true, ::ptvm::hostsim::access_site(site));
#endif
  return atomicMin(reinterpret_cast<unsigned long long*>(p.address(i)),
                   static_cast<unsigned long long>(v));
}
__device__ inline uint64_t atomic_add_u64(gptr<uint64_t> p, size_t i, uint64_t v PTVM_ACCESS_SITE_PARAM) {
#if defined(PTVM_HOSTSIM)
  if (::ptvm::hostsim::tls_access_log)
    ::ptvm::hostsim::record_access(p.address(i), 8, true, ::ptvm::hostsim::access_site(site));
#endif
  return atomicAdd(reinterpret_cast<unsigned long long*>(p.address(i)),
                   static_cast<unsigned long long>(v));
}
__device__ inline uint32_t atomic_add_u32(gptr<uint32_t> p, size_t i, uint32_t v PTVM_ACCESS_SITE_PARAM) {
#if defined(PTVM_HOSTSIM)
  if (::ptvm::hostsim::tls_access_log)
    ::ptvm::hostsim::record_access(p.address(i), 4, true, ::ptvm::hostsim::access_site(site));
#endif
  return atomicAdd(reinterpret_cast<unsigned*>(p.address(i)), static_cast<unsigned>(v));
}
__device__ inline uint32_t atomic_min_u32(gptr<uint32_t> p, size_t i, uint32_t v PTVM_ACCESS_SITE_PARAM) {
#if defined(PTVM_HOSTSIM)
  if (::ptvm::hostsim::tls_access_log)
    ::ptvm::hostsim::record_access(p.address(i), 4, true, ::ptvm::hostsim::access_site(site));
#endif
  return atomicMin(reinterpret_cast<unsigned*>(p.address(i)), static_cast<unsigned>(v));
}

// Grid size for a grid-stride loop over n items with `threads_per_block` threads: enough blocks to
// fill an H100 (132 SMs) several times over, never more than the work needs.
inline unsigned grid_stride_blocks(size_t n, unsigned threads_per_block,
                                   unsigned max_blocks = 132 * 16) {
  size_t blocks = (n + threads_per_block - 1) / threads_per_block;
  if (blocks == 0) blocks = 1;
  return blocks < max_blocks ? static_cast<unsigned>(blocks) : max_blocks;
}

PTVM_GPU_NAMESPACE_END
