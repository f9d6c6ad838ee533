// Kernels that exist only to test host-sim itself (tests/cuda/test_kernels.cu).
#pragma once
#include <cstdint>

#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"

namespace ptvm::testkernels {
using gpu::gptr;

// out[i] = in[block_base + (t + 1) % block]: each thread reads its neighbour's shared slot, with or
// without the __syncthreads() between the writes and the reads.
void rotate_in_block(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n_blocks,
                     uint32_t threads, bool with_barrier);
// Sum of each warp's 32 values through __shfl_xor_sync, written by lane 0; plus ballot of odd values.
void warp_sums(gptr<const uint32_t> in, gptr<uint32_t> sums, gptr<uint32_t> ballots, uint32_t warps);
// out[i] = in[i] (coalesced, 4-byte words).
void copy_coalesced(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n);
// Thread t of warp w reads in[(w * 32 + t % 32) ... ] with a stride of 32 words between lanes.
void copy_strided32(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n_warps);
// Lane l first loads in[0..l%4) (divergent loop), then out[i] = in[i] + that sum.
void divergent_then_coalesced(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n);
// All lanes read in[0] (broadcast), write out[i].
void broadcast(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n);
// Even threads wait at __syncthreads, odd threads at a warp shuffle: can never complete.
// out[i] = in[i] + in[n - 1 - i] (every input word read twice).
void reads_twice(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n);
// out[i] = 4 in[i] from three loads of in[i], a store, a load of it back, a __syncthreads and one
// more load of in[i] (n: a multiple of 128).
void reloads(gptr<const uint32_t> in, gptr<uint32_t> out, uint32_t n);
void mismatched_barriers(gptr<uint32_t> out);
// Writes out[i] for i < n + 1 (one past the end).
void write_one_past_end(gptr<uint32_t> out, uint32_t n);
// A launch with `threads` threads per block (for configuration errors).
void launch_with_block(gptr<uint32_t> out, uint32_t threads);
// counter[0] += 1 per thread (atomicAdd), min_out[0] = min over keys (atomicMin, u64).
void atomics(gptr<const uint64_t> keys, gptr<uint32_t> counter, gptr<uint64_t> min_out, uint32_t n);
// Block-wide sum through dynamic shared memory (tree reduction with barriers).
void block_sums_dynamic_shared(gptr<const uint32_t> in, gptr<uint32_t> sums, uint32_t n_blocks,
                               uint32_t threads);
// Each thread appends its linear id to `order` via an atomic ticket: records the schedule.
void record_order(gptr<uint32_t> order, gptr<uint32_t> ticket, uint32_t threads);

}  // namespace ptvm::testkernels
