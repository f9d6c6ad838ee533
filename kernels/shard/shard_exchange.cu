// The sharded device backend's transposes and exchange place tables (ptvm/gpu/shard_exchange.hpp).
#include "ptvm/gpu/shard_exchange.hpp"

#include <string>

#include "../common/field_access.cuh"
#include "ptvm/common/error.hpp"
#include "ptvm/gpu/device_wide.hpp"
#include "ptvm/gpu/merkle.hpp"  // kMaxGridY
#include "ptvm/gpu/runtime.hpp"

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;
// A tile is 1024 interleaved values = 1024 / S elements of S values; its planar side is S runs of
// 1024 / S consecutive values (64 bytes or more for S <= 64: whole sectors). In shared memory
// element kk's values sit at kk * (S + 1) + t: the planar side's reads / writes (consecutive kk,
// one t) then fall in distinct banks.
constexpr uint64_t kTile = 1024;
constexpr uint64_t kTileWords = kTile + kTile / 2;

struct TileShape {
  uint64_t values, elements, padded;  // values = elements * S
};
__device__ PTVM_FORCEINLINE TileShape tile_shape(uint64_t m, uint32_t log_ranks) {
  const uint64_t values = m < kTile ? m : kTile;
  return {values, values >> log_ranks, (uint64_t{1} << log_ranks) + 1};
}

__global__ void interleaved_to_planar_kernel(gptr<const gpu::ShardTransposeJob> jobs, uint32_t log_ranks,
                                             uint64_t planar_row) {
  PTVM_SHARED(uint32_t, tile, kTileWords);
  const gpu::ShardTransposeJob job = jobs.load(blockIdx.y);
  const uint64_t S = uint64_t{1} << log_ranks, m = job.part << log_ranks;
  const gptr<const M31> in(job.interleaved, m);
  const gptr<M31> out(job.planar, (S - 1) * planar_row + job.part);
  const TileShape shape = tile_shape(m, log_ranks);
  for (uint64_t base = uint64_t{blockIdx.x} * shape.values; base < m; base += uint64_t{gridDim.x} * shape.values) {
    for (uint64_t i = threadIdx.x; i < shape.values; i += blockDim.x)
      tile[(i >> log_ranks) * shape.padded + (i & (S - 1))] = in.load(base + i).v;
    __syncthreads();
    const uint64_t k0 = base >> log_ranks;
    for (uint64_t i = threadIdx.x; i < shape.values; i += blockDim.x) {
      const uint64_t t = i / shape.elements, kk = i % shape.elements;
      out.store(t * planar_row + k0 + kk, M31::raw(tile[kk * shape.padded + t]));
    }
    __syncthreads();  // the tile is refilled next
  }
}

__global__ void planar_to_interleaved_kernel(gptr<const gpu::ShardTransposeJob> jobs, uint32_t log_ranks,
                                             uint64_t planar_row) {
  PTVM_SHARED(uint32_t, tile, kTileWords);
  const gpu::ShardTransposeJob job = jobs.load(blockIdx.y);
  const uint64_t S = uint64_t{1} << log_ranks, m = job.part << log_ranks;
  const gptr<const M31> in(job.planar, (S - 1) * planar_row + job.part);
  const gptr<M31> out(job.interleaved, m);
  const TileShape shape = tile_shape(m, log_ranks);
  for (uint64_t base = uint64_t{blockIdx.x} * shape.values; base < m; base += uint64_t{gridDim.x} * shape.values) {
    const uint64_t k0 = base >> log_ranks;
    for (uint64_t i = threadIdx.x; i < shape.values; i += blockDim.x) {
      const uint64_t t = i / shape.elements, kk = i % shape.elements;
      tile[kk * shape.padded + t] = in.load(t * planar_row + k0 + kk).v;
    }
    __syncthreads();
    for (uint64_t i = threadIdx.x; i < shape.values; i += blockDim.x)
      out.store(base + i, M31::raw(tile[(i >> log_ranks) * shape.padded + (i & (S - 1))]));
    __syncthreads();
  }
}

// flags[k] = 1 when the source of target_first + k lies in the owner's block.
__global__ void exchange_flags_kernel(gpu::ShardPermutation source, uint32_t block_log, uint64_t target_first,
                                      uint32_t owner, gptr<M31> flags) {
  const size_t m = size_t{1} << block_log;
  for (size_t k = grid_thread_index(); k < m; k += grid_thread_count())
    flags.store(k, M31::raw((source(target_first + k) >> block_log) == owner ? 1u : 0u));
}

// The places of the flagged indices, from the inclusive scan of the flags (slot = scan - 1).
__global__ void exchange_places_kernel(gpu::ExchangePlaceArgs a, uint64_t count, gptr<const M31> scan,
                                       gptr<gpu::GatherPlace> src_places, gptr<gpu::GatherPlace> dst_places) {
  const size_t m = size_t{1} << a.block_log;
  const uint64_t owner_first = uint64_t{a.owner} << a.block_log;
  for (size_t k = grid_thread_index(); k < m; k += grid_thread_count()) {
    const size_t q = a.source(a.target_first + k);
    if ((q >> a.block_log) != a.owner) continue;
    const uint64_t slot = scan.load(k).v - 1;
    if (a.order == gpu::PlaceOrder::ByTarget) {
      src_places.store(k, gpu::GatherPlace{a.base + slot, count});
      dst_places.store(k, gpu::GatherPlace{k, 0});
    } else {
      src_places.store(a.entry_at + slot, gpu::GatherPlace{q - owner_first, 0});
      dst_places.store(a.entry_at + slot, gpu::GatherPlace{a.base + slot, count});
    }
  }
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

namespace {
// Blocks per launch of `count` jobs of at most max_values values: a tile each, as many as fill
// the device (the kernels loop over the remaining tiles).
unsigned transpose_blocks(size_t max_values, uint32_t count) {
  const size_t tiles = (max_values + kTile - 1) / kTile;
  const unsigned max_blocks = 132 * 16 / count + 1;
  return tiles == 0 ? 1 : tiles < max_blocks ? static_cast<unsigned>(tiles) : max_blocks;
}
void check_ranks(uint32_t log_ranks, const char* who) {
  if (log_ranks > 6) throw Error(ErrorCategory::Usage, std::string(who) + ": more than 64 ranks");
}
}  // namespace

void shard_interleaved_to_planar(gptr<const ShardTransposeJob> jobs, uint32_t n_jobs, uint32_t log_ranks,
                                 uint64_t planar_row, size_t max_values, stream_t stream) {
  check_ranks(log_ranks, "shard_interleaved_to_planar");
  for (uint32_t first = 0; first < n_jobs; first += kMaxGridY) {
    const uint32_t count = n_jobs - first < kMaxGridY ? n_jobs - first : kMaxGridY;
    PTVM_LAUNCH(interleaved_to_planar_kernel, dim3(transpose_blocks(max_values, count), count), kThreads, 0, stream)(
        jobs.offset(first), log_ranks, planar_row);
    PTVM_CHECK_LAUNCH("interleaved_to_planar_kernel");
  }
}

void shard_planar_to_interleaved(gptr<const ShardTransposeJob> jobs, uint32_t n_jobs, uint32_t log_ranks,
                                 uint64_t planar_row, size_t max_values, stream_t stream) {
  check_ranks(log_ranks, "shard_planar_to_interleaved");
  for (uint32_t first = 0; first < n_jobs; first += kMaxGridY) {
    const uint32_t count = n_jobs - first < kMaxGridY ? n_jobs - first : kMaxGridY;
    PTVM_LAUNCH(planar_to_interleaved_kernel, dim3(transpose_blocks(max_values, count), count), kThreads, 0, stream)(
        jobs.offset(first), log_ranks, planar_row);
    PTVM_CHECK_LAUNCH("planar_to_interleaved_kernel");
  }
}

void shard_exchange_scan(const ExchangePlaceArgs& args, gptr<M31> scan, stream_t stream) {
  const size_t m = size_t{1} << args.block_log;
  PTVM_LAUNCH(exchange_flags_kernel, grid_stride_blocks(m, kThreads), kThreads, 0, stream)(
      args.source, args.block_log, args.target_first, args.owner, scan);
  PTVM_CHECK_LAUNCH("exchange_flags_kernel");
  // Counts stay below 2^31 - 1, so the M31 prefix sums of 0/1 flags are the integer ones.
  inclusive_scan_add(gptr<const M31>(scan), scan, m, stream);
}

void shard_exchange_places(const ExchangePlaceArgs& args, uint64_t count, gptr<const M31> scan,
                           gptr<GatherPlace> src_places, gptr<GatherPlace> dst_places, stream_t stream) {
  if (count == 0) return;
  const size_t m = size_t{1} << args.block_log;
  PTVM_LAUNCH(exchange_places_kernel, grid_stride_blocks(m, kThreads), kThreads, 0, stream)(args, count, scan,
                                                                                           src_places, dst_places);
  PTVM_CHECK_LAUNCH("exchange_places_kernel");
}

PTVM_GPU_NAMESPACE_END
