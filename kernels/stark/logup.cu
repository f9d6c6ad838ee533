// The LogUp running-sum column (declared in ptvm/gpu/stark_kernels.hpp). The row totals were
// scanned device-wide (gpu::inclusive_scan_add); this kernel turns the prefix sums into the
// running column C(r) = sum_{r' < r} (rowtotal(r') - S/N) = S(r-1) - r * S/N, so the claimed sum S
// never leaves the device before the column is written.
#include "../common/field_access.cuh"
#include "../common/row_order_tile.cuh"
#include "ptvm/air/logup.hpp"
#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/stark_kernels.hpp"

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;

__global__ void logup_running_column_kernel(gptr<const QM31> prefix_sums, uint32_t log_rows,
                                            gpu::SecureColumnView out, gptr<QM31> claimed_sum) {
  const size_t n = size_t{1} << log_rows;
  const QM31 total = load_qm31(prefix_sums, n - 1);
  const QM31 per_row = air::logup_sum_per_row(total, log_rows);
  for (size_t r = grid_thread_index(); r < n; r += grid_thread_count()) {
    const QM31 before = r == 0 ? QM31::zero() : load_qm31(prefix_sums, r - 1);
    const QM31 c = air::logup_running_value(before, r, per_row);
    const size_t pos = circle::bit_reverse_index(circle::coset_index_to_circle_domain_index(r, log_rows), log_rows);
    for (int k = 0; k < 4; ++k) out.coords[k].store(pos, c.coord(k));
    if (r == 0) store_qm31(claimed_sum, 0, total);
  }
}

__global__ void logup_running_block_kernel(gptr<const QM31> prefix_sums, uint64_t n, uint64_t row0, QM31 before,
                                           QM31 per_row, gpu::SecureColumnView out) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) {
    const QM31 below = i == 0 ? before : before + load_qm31(prefix_sums, i - 1);
    const QM31 c = air::logup_running_value(below, row0 + i, per_row);
    for (int k = 0; k < 4; ++k) out.coords[k].store(i, c.coord(k));
  }
}

constexpr unsigned kScanThreads = 256;

__device__ PTVM_FORCEINLINE uint4 pack_qm31(const QM31& v) { return uint4{v.x0.a.v, v.x0.b.v, v.x1.a.v, v.x1.b.v}; }
__device__ PTVM_FORCEINLINE QM31 unpack_qm31(const uint4& w) {
  return QM31::from_m31(M31::raw(w.x), M31::raw(w.y), M31::raw(w.z), M31::raw(w.w));
}

// One block per job (blockIdx.y): the inclusive prefix sums of the job's row totals (row order),
// written over them, then the running column and the claimed sum, as inclusive_scan_add followed
// by logup_running_column (field addition is exact: any summation order gives the same sums).
// Every pass is coalesced: the scan walks tiles of kScanThreads consecutive rows (a block-wide
// scan in shared memory), the running column is transposed through shared memory tile by tile
// (../common/row_order_tile.cuh).
__global__ void logup_running_many_kernel(gptr<const gpu::LogupRunningJob> jobs, uint32_t log_rows) {
  PTVM_SHARED(uint4, partial, kScanThreads);
  PTVM_SHARED(uint4, stage, kRowTile);
  const gpu::LogupRunningJob job = jobs.load(blockIdx.y);
  const size_t n = size_t{1} << log_rows;
  const gptr<QM31> totals(job.row_totals, n);
  QM31 carry;
  for (size_t base = 0; base < n; base += kScanThreads) {
    const size_t r = base + threadIdx.x;
    QM31 v = r < n ? load_qm31(totals, r) : QM31::zero();
    for (unsigned d = 1; d < kScanThreads; d <<= 1) {  // Hillis-Steele inclusive scan of the tile
      partial[threadIdx.x] = pack_qm31(v);
      __syncthreads();
      if (threadIdx.x >= d) v += unpack_qm31(partial[threadIdx.x - d]);
      __syncthreads();
    }
    v += carry;
    if (r < n) store_qm31(totals, r, v);
    partial[threadIdx.x] = pack_qm31(v);
    __syncthreads();
    carry = unpack_qm31(partial[kScanThreads - 1]);
    __syncthreads();
  }
  const QM31 total = carry;
  const QM31 per_row = air::logup_sum_per_row(total, log_rows);
  auto running = [&](size_t j) {
    const QM31 before = j == 0 ? QM31::zero() : load_qm31(totals, j - 1);
    return air::logup_running_value(before, j, per_row);
  };
  auto store_running = [&](size_t pos, const uint4& w) {
    job.out.coords[0].store(pos, M31::raw(w.x));
    job.out.coords[1].store(pos, M31::raw(w.y));
    job.out.coords[2].store(pos, M31::raw(w.z));
    job.out.coords[3].store(pos, M31::raw(w.w));
  };
  for (size_t index = 0; index < RowOrderTile::tiles(log_rows); ++index) {
    const RowOrderTile tile(log_rows, index);
    for (uint32_t t = threadIdx.x; t < tile.size(); t += blockDim.x) {
      const size_t j = tile.row(t);
      stage[tile.slot(row_storage_position(j, log_rows))] = pack_qm31(running(j));
    }
    __syncthreads();
    for (uint32_t s = threadIdx.x; s < tile.size(); s += blockDim.x) store_running(tile.position(s), stage[s]);
    __syncthreads();
  }
  if (threadIdx.x == 0) store_qm31(gptr<QM31>(job.claimed_sum, 1), 0, total);
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void logup_running_column(gptr<const QM31> prefix_sums, uint32_t log_rows, SecureColumnView out,
                          gptr<QM31> claimed_sum, stream_t stream) {
  const size_t n = size_t{1} << log_rows;
  PTVM_LAUNCH(logup_running_column_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(
      prefix_sums, log_rows, out, claimed_sum);
  PTVM_CHECK_LAUNCH("logup_running_column_kernel");
}

void logup_running_many(gptr<const LogupRunningJob> jobs, uint32_t n_jobs, uint32_t log_rows, stream_t stream) {
  for (uint32_t first = 0; first < n_jobs; first += kMaxGridY) {
    const uint32_t count = n_jobs - first < kMaxGridY ? n_jobs - first : kMaxGridY;
    PTVM_LAUNCH(logup_running_many_kernel, dim3(1, count), kScanThreads, 0, stream)(jobs.offset(first), log_rows);
    PTVM_CHECK_LAUNCH("logup_running_many_kernel");
  }
}

void logup_running_block(gptr<const QM31> prefix_sums, uint32_t block_log, uint64_t row0, QM31 before, QM31 per_row,
                         SecureColumnView out, stream_t stream) {
  const size_t n = size_t{1} << block_log;
  PTVM_LAUNCH(logup_running_block_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(
      prefix_sums, n, row0, before, per_row, out);
  PTVM_CHECK_LAUNCH("logup_running_block_kernel");
}

PTVM_GPU_NAMESPACE_END
