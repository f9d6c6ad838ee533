// Kernels that test host-sim itself: barriers, warp collectives, access counting, faults.
#include "test_kernels.hpp"

#include "ptvm/gpu/device.hpp"

namespace ptvm::testkernels {
namespace {

__global__ void rotate_kernel(gptr<const uint32_t> in, gptr<uint32_t> out, bool with_barrier) {
  PTVM_SHARED(uint32_t, slots, 1024);
  const unsigned t = threadIdx.x, base = blockIdx.x * blockDim.x;
  slots[t] = in.load(base + t);
  if (with_barrier) __syncthreads();
  out.store(base + t, slots[(t + 1) % blockDim.x]);
}

__global__ void warp_sums_kernel(gptr<const uint32_t> in, gptr<uint32_t> sums,
                                 gptr<uint32_t> ballots) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  uint32_t v = in.load(i);
  unsigned odd = __ballot_sync(0xffffffffu, v & 1);
  for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(0xffffffffu, v, m);
  if (threadIdx.x % 32 == 0) {
    sums.store(i / 32, v);
    ballots.store(i / 32, odd);
  }
}

__global__ void copy_kernel(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out.store(i, in.load(i));
}

__global__ void strided_kernel(gptr<const uint32_t> in, gptr<uint32_t> out) {
  const unsigned lane = threadIdx.x % 32, warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const unsigned at = warp * 1024 + lane * 32;
  out.store(at, in.load(at));
}

__global__ void divergent_kernel(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  uint32_t extra = 0;
  for (unsigned k = 0; k < threadIdx.x % 4; ++k) extra += in.load(k);  // 0..3 loads per lane
  if (i < n) out.store(i, in.load(i) + extra);
}

__global__ void broadcast_kernel(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out.store(i, in.load(0));
}

// Lane i loads in[i] three times, stores out[i], loads out[i] back, then past a __syncthreads loads
// in[i] once more: out[i] = 4 in[i]. n: a multiple of 128.
__global__ void reloads_kernel(gptr<const uint32_t> in, gptr<uint32_t> out) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  const uint32_t a = in.load(i);
  const uint32_t b = in.load(i);
  const uint32_t c = in.load(i);
  out.store(i, a + b + c);
  const uint32_t d = out.load(i);
  __syncthreads();
  out.store(i, d + in.load(i));
}

// out[i] = in[i] + in[n - 1 - i]: every input word is read twice (by two different warps).
__global__ void reads_twice_kernel(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out.store(i, in.load(i) + in.load(n - 1 - i));
}

__global__ void mismatched_kernel(gptr<uint32_t> out) {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    uint32_t v = __shfl_sync(0xffffffffu, threadIdx.x, 0);
    out.store(threadIdx.x, v);
  }
}

__global__ void past_end_kernel(gptr<uint32_t> out, uint32_t n) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) out.store(i, i);
}

__global__ void block_kernel(gptr<uint32_t> out) { out.store(0, 1); }

__global__ void atomics_kernel(gptr<const uint64_t> keys, gptr<uint32_t> counter,
                               gptr<uint64_t> min_out, uint32_t n) {
  const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  gpu::atomic_add_u32(counter, 0, 1);
  gpu::atomic_min_u64(min_out, 0, keys.load(i));
}

__global__ void block_sums_kernel(gptr<const uint32_t> in, gptr<uint32_t> sums) {
  PTVM_DYNAMIC_SHARED(uint32_t, partial);
  const unsigned t = threadIdx.x;
  partial[t] = in.load(blockIdx.x * blockDim.x + t);
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (t < half) partial[t] += partial[t + half];
    __syncthreads();
  }
  if (t == 0) sums.store(blockIdx.x, partial[0]);
}

__global__ void order_kernel(gptr<uint32_t> order, gptr<uint32_t> ticket) {
  const uint32_t slot = gpu::atomic_add_u32(ticket, 0, 1);
  order.store(slot, threadIdx.x);
}

}  // namespace

void rotate_in_block(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n_blocks,
                     uint32_t threads, bool with_barrier) {
  PTVM_LAUNCH(rotate_kernel, n_blocks, threads, 0, nullptr)(in, out, with_barrier);
  PTVM_CHECK_LAUNCH("rotate_kernel");
}
void warp_sums(gptr<const uint32_t> in, gptr<uint32_t> sums, gptr<uint32_t> ballots, uint32_t warps) {
  PTVM_LAUNCH(warp_sums_kernel, warps, 32, 0, nullptr)(in, sums, ballots);
  PTVM_CHECK_LAUNCH("warp_sums_kernel");
}
void copy_coalesced(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n) {
  PTVM_LAUNCH(copy_kernel, (n + 127) / 128, 128, 0, nullptr)(in, out, n);
  PTVM_CHECK_LAUNCH("copy_kernel");
}
void copy_strided32(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n_warps) {
  PTVM_LAUNCH(strided_kernel, n_warps, 32, 0, nullptr)(in, out);
  PTVM_CHECK_LAUNCH("strided_kernel");
}
void divergent_then_coalesced(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n) {
  PTVM_LAUNCH(divergent_kernel, (n + 127) / 128, 128, 0, nullptr)(in, out, n);
  PTVM_CHECK_LAUNCH("divergent_kernel");
}
void broadcast(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n) {
  PTVM_LAUNCH(broadcast_kernel, (n + 63) / 64, 64, 0, nullptr)(in, out, n);
  PTVM_CHECK_LAUNCH("broadcast_kernel");
}
void reads_twice(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n) {
  PTVM_LAUNCH(reads_twice_kernel, (n + 127) / 128, 128, 0, nullptr)(in, out, n);
  PTVM_CHECK_LAUNCH("reads_twice_kernel");
}
void reloads(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n) {
  PTVM_LAUNCH(reloads_kernel, n / 128, 128, 0, nullptr)(in, out);
  PTVM_CHECK_LAUNCH("reloads_kernel");
}
void mismatched_barriers(gptr<uint32_t> out) {
  PTVM_LAUNCH(mismatched_kernel, 1, 64, 0, nullptr)(out);
  PTVM_CHECK_LAUNCH("mismatched_kernel");
}
void write_one_past_end(gptr<uint32_t> out, uint32_t n) {
  PTVM_LAUNCH(past_end_kernel, (n + 64) / 64, 64, 0, nullptr)(out, n);
  PTVM_CHECK_LAUNCH("past_end_kernel");
}
void launch_with_block(gptr<uint32_t> out, uint32_t threads) {
  PTVM_LAUNCH(block_kernel, 1, threads, 0, nullptr)(out);
  PTVM_CHECK_LAUNCH("block_kernel");
}
void atomics(gptr<const uint64_t> keys, gptr<uint32_t> counter, gptr<uint64_t> min_out, uint32_t n) {
  PTVM_LAUNCH(atomics_kernel, (n + 95) / 96, 96, 0, nullptr)(keys, counter, min_out, n);
  PTVM_CHECK_LAUNCH("atomics_kernel");
}
void block_sums_dynamic_shared(gptr<const uint32_t> in, gptr<uint32_t> sums, uint32_t n_blocks,
                               uint32_t threads) {
  PTVM_LAUNCH(block_sums_kernel, n_blocks, threads, threads * sizeof(uint32_t), nullptr)(in, sums);
  PTVM_CHECK_LAUNCH("block_sums_kernel");
}
void record_order(gptr<uint32_t> order, gptr<uint32_t> ticket, uint32_t threads) {
  PTVM_LAUNCH(order_kernel, 1, threads, 0, nullptr)(order, ticket);
  PTVM_CHECK_LAUNCH("order_kernel");
}

}  // namespace ptvm::testkernels
