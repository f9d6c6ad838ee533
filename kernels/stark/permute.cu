// Row order <-> bit-reversed storage, and the word gather of query extraction (declared in
// ptvm/gpu/stark_kernels.hpp). One thread per element, grid-stride.
#include "../common/field_access.cuh"
#include "../common/row_order_tile.cuh"
#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/stark_kernels.hpp"

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;

// Storage position of row j of CanonicCoset(log_size) (PROTOCOL.md §2.5 then §2.4).
__device__ PTVM_FORCEINLINE size_t row_position(size_t j, uint32_t log_size) {
  return circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(j, log_size), log_size);
}

__global__ void rows_to_bitrev_kernel(gptr<const M31> rows, gptr<M31> out, uint32_t log_size) {
  const size_t n = size_t{1} << log_size;
  for (size_t j = grid_thread_index(); j < n; j += grid_thread_count())
    out.store(row_position(j, log_size), rows.load(j));
}

// Many columns of one size: column blockIdx.y of the table, tile blockIdx.x of the permutation
// (../common/row_order_tile.cuh): runs of consecutive rows in, runs of consecutive positions out.
__global__ void rows_to_bitrev_many_kernel(gptr<const gpu::PermuteJob> jobs, uint32_t log_size) {
  PTVM_SHARED(uint32_t, stage, kRowTile);
  const gpu::PermuteJob job = jobs.load(blockIdx.y);
  const size_t n = size_t{1} << log_size;
  const gptr<const M31> rows(job.src, n);
  const gptr<M31> out(job.dst, n);
  const RowOrderTile tile(log_size, blockIdx.x);
  for (uint32_t t = threadIdx.x; t < tile.size(); t += blockDim.x) {
    const size_t j = tile.row(t);
    stage[tile.slot(row_position(j, log_size))] = rows.load(j).v;
  }
  __syncthreads();
  for (uint32_t s = threadIdx.x; s < tile.size(); s += blockDim.x) out.store(tile.position(s), M31::raw(stage[s]));
}
__global__ void bitrev_to_rows_kernel(gptr<const M31> evaluations, gptr<M31> rows, uint32_t log_size) {
  const size_t n = size_t{1} << log_size;
  for (size_t j = grid_thread_index(); j < n; j += grid_thread_count())
    rows.store(j, evaluations.load(row_position(j, log_size)));
}

__global__ void gather_words_kernel(gptr<const gpu::GatherSource> sources, gptr<uint32_t> out, size_t n) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) {
    const gpu::GatherSource s = sources.load(i);
    out.store(i, gptr<const uint32_t>(s.base).load(s.index));
  }
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void rows_to_bitrev(gptr<const M31> rows, gptr<M31> out, uint32_t log_size, stream_t stream) {
  const size_t n = size_t{1} << log_size;
  PTVM_LAUNCH(rows_to_bitrev_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(rows, out, log_size);
  PTVM_CHECK_LAUNCH("rows_to_bitrev_kernel");
}

void bitrev_to_rows(gptr<const M31> evaluations, gptr<M31> rows, uint32_t log_size, stream_t stream) {
  const size_t n = size_t{1} << log_size;
  PTVM_LAUNCH(bitrev_to_rows_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(evaluations, rows, log_size);
  PTVM_CHECK_LAUNCH("bitrev_to_rows_kernel");
}

void gather_words(gptr<const GatherSource> sources, gptr<uint32_t> out, size_t n, stream_t stream) {
  if (n == 0) return;
  PTVM_LAUNCH(gather_words_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(sources, out, n);
  PTVM_CHECK_LAUNCH("gather_words_kernel");
}

void rows_to_bitrev_many(gptr<const PermuteJob> jobs, uint32_t n_jobs, uint32_t log_size, stream_t stream) {
  for (uint32_t first = 0; first < n_jobs; first += kMaxGridY) {
    const uint32_t count = n_jobs - first < kMaxGridY ? n_jobs - first : kMaxGridY;
    PTVM_LAUNCH(rows_to_bitrev_many_kernel, dim3(static_cast<uint32_t>(RowOrderTile::tiles(log_size)), count), kThreads, 0,
                stream)(jobs.offset(first), log_size);
    PTVM_CHECK_LAUNCH("rows_to_bitrev_many_kernel");
  }
}

PTVM_GPU_NAMESPACE_END
