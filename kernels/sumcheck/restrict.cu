// Restriction of an M31 matrix by QM31 weights (declared in ptvm/gpu/sumcheck_restrict.hpp).
// Weights pass through shared memory in tiles, so global traffic is the matrix once (coalesced
// M31 rows), the weights about once per block, and the outputs.
#include "ptvm/gpu/sumcheck_restrict.hpp"

#include <string>

#include "ptvm/sumcheck/lazy_dot.hpp"
#include "qm31_shared.cuh"

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;
constexpr unsigned kWeightTile = 256;                    // QM31 weights staged at a time (4 KB)
constexpr size_t kResidentThreads = size_t{132} * 2048;  // an H100's resident threads
constexpr size_t kMinRowsPerChunk = 128;                 // partial vectors stay ~1/32 of the matrix

__device__ PTVM_FORCEINLINE void stage_weights(uint32_t* tile, gptr<const QM31> weights, size_t first, size_t count) {
  for (size_t t = threadIdx.x; t < count; t += blockDim.x) shared_store_qm31(tile, t, load_qm31(weights, first + t));
}

// Thread k of the grid's x dimension owns column k (no grid-stride: every thread of a block meets
// every barrier); blockIdx.y is a chunk of rows. A warp reads 32 consecutive M31 of a row.
__global__ void restrict_rows_partial_kernel(gptr<const M31> matrix, size_t rows, size_t cols, size_t rows_per_chunk,
                                             gptr<const QM31> weights, gptr<QM31> partials) {
  PTVM_SHARED(uint32_t, tile, 4 * kWeightTile);
  const size_t first = size_t(blockIdx.y) * rows_per_chunk;
  const size_t last = first + rows_per_chunk < rows ? first + rows_per_chunk : rows;
  const size_t k = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  uint64_t acc[4] = {0, 0, 0, 0};
  for (size_t start = first; start < last; start += kWeightTile) {
    const size_t count = last - start < kWeightTile ? last - start : kWeightTile;
    stage_weights(tile, weights, start, count);
    __syncthreads();
    if (k < cols)
      for (size_t t = 0; t < count; ++t)
        sumcheck::lazy_accumulate(acc, shared_load_qm31(tile, t), matrix.load((start + t) * cols + k));
    __syncthreads();
  }
  if (k < cols) store_qm31(partials, size_t(blockIdx.y) * cols + k, sumcheck::lazy_finish(acc));
}

__global__ void sum_chunks_kernel(gptr<const QM31> partials, size_t chunks, size_t cols, gptr<QM31> out) {
  for (size_t k = grid_thread_index(); k < cols; k += grid_thread_count()) {
    QM31 sum = QM31::zero();
    for (size_t c = 0; c < chunks; ++c) sum += load_qm31(partials, c * cols + k);
    store_qm31(out, k, sum);
  }
}

// Thread t of a block: group t / lanes takes row base + t / lanes, lane t % lanes strides along
// it. Weights of at most kWeightTile columns are staged once per block; wider rows stage a tile at
// a time per row group.
__global__ void restrict_columns_kernel(gptr<const M31> matrix, size_t rows, size_t cols, unsigned lanes,
                                        gptr<const QM31> weights, gptr<QM31> out) {
  PTVM_SHARED(uint32_t, sums, 4 * kThreads);
  PTVM_SHARED(uint32_t, tile, 4 * kWeightTile);
  const unsigned groups = blockDim.x / lanes;
  const unsigned group = threadIdx.x / lanes, lane = threadIdx.x % lanes;
  const bool one_tile = cols <= kWeightTile;
  if (one_tile) {
    stage_weights(tile, weights, 0, cols);
    __syncthreads();
  }
  // The loop bounds are the same for the whole block, so every thread meets every barrier.
  for (size_t base = size_t(blockIdx.x) * groups; base < rows; base += size_t(gridDim.x) * groups) {
    const size_t k = base + group;
    uint64_t acc[4] = {0, 0, 0, 0};
    for (size_t start = 0; start < cols; start += kWeightTile) {
      const size_t count = cols - start < kWeightTile ? cols - start : kWeightTile;
      if (!one_tile) {
        stage_weights(tile, weights, start, count);
        __syncthreads();
      }
      if (k < rows)
        for (size_t j = lane; j < count; j += lanes)
          sumcheck::lazy_accumulate(acc, shared_load_qm31(tile, j), matrix.load(k * cols + start + j));
      if (!one_tile) __syncthreads();
    }
    shared_store_qm31(sums, threadIdx.x, sumcheck::lazy_finish(acc));
    __syncthreads();
    shared_group_sum_qm31(sums, lanes, 1);
    if (lane == 0 && k < rows) store_qm31(out, k, shared_load_qm31(sums, threadIdx.x));
    __syncthreads();  // the slots are rewritten by the next iteration
  }
}

void require(size_t rows, size_t cols, const char* who) {
  auto pow2 = [](size_t d) { return d != 0 && (d & (d - 1)) == 0 && d <= sumcheck::kLazyDotMaxTerms; };
  if (!pow2(rows) || !pow2(cols))
    throw Error(ErrorCategory::Usage, std::string(who) + ": a " + std::to_string(rows) + " x " + std::to_string(cols) +
                                          " matrix (powers of two up to 2^32 expected)");
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void sumcheck_restrict_rows(gptr<const M31> matrix, size_t rows, size_t cols, gptr<const QM31> weights,
                            gptr<QM31> out, stream_t stream, size_t max_chunks) {
  require(rows, cols, "sumcheck_restrict_rows");
  // Enough chunks to fill the device, each of at least kMinRowsPerChunk rows.
  size_t chunks = (kResidentThreads + cols - 1) / cols;
  if (chunks > rows / kMinRowsPerChunk) chunks = rows / kMinRowsPerChunk;
  if (chunks == 0) chunks = 1;
  if (chunks > 65535) chunks = 65535;
  if (chunks > max_chunks) chunks = max_chunks == 0 ? 1 : max_chunks;
  const size_t rows_per_chunk = (rows + chunks - 1) / chunks;
  chunks = (rows + rows_per_chunk - 1) / rows_per_chunk;
  const size_t col_blocks = (cols + kThreads - 1) / kThreads;
  if (col_blocks > 0x7fffffffu) throw Error(ErrorCategory::Usage, "sumcheck_restrict_rows: too many columns");
  DeviceBuffer<QM31> partials(chunks * cols);
  const dim3 grid(static_cast<unsigned>(col_blocks), static_cast<unsigned>(chunks));
  PTVM_LAUNCH(restrict_rows_partial_kernel, grid, kThreads, 0, stream)(matrix, rows, cols, rows_per_chunk, weights,
                                                                       partials.ptr());
  PTVM_CHECK_LAUNCH("restrict_rows_partial_kernel");
  PTVM_LAUNCH(sum_chunks_kernel, grid_stride_blocks(cols, kThreads), kThreads, 0, stream)(partials.cptr(), chunks, cols, out);
  PTVM_CHECK_LAUNCH("sum_chunks_kernel");
}

void sumcheck_restrict_columns(gptr<const M31> matrix, size_t rows, size_t cols, gptr<const QM31> weights,
                               gptr<QM31> out, stream_t stream) {
  require(rows, cols, "sumcheck_restrict_columns");
  // A warp per row (fewer lanes for narrower rows); few enough blocks that staging the weights
  // once per block is small beside the matrix.
  const unsigned lanes = cols < 32 ? static_cast<unsigned>(cols) : 32;
  const size_t groups = kThreads / lanes;
  PTVM_LAUNCH(restrict_columns_kernel, grid_stride_blocks(rows, static_cast<unsigned>(groups), 132 * 2), kThreads, 0,
              stream)(matrix, rows, cols, lanes, weights, out);
  PTVM_CHECK_LAUNCH("restrict_columns_kernel");
}

PTVM_GPU_NAMESPACE_END
