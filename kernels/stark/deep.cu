// DEEP quotients (PROTOCOL.md §5.3-5.4; declared in ptvm/gpu/stark_kernels.hpp). One thread per
// domain position: the point q is derived from the position, each batch's denominator D_b(q) is
// inverted in CM31 directly (the CPU backend's batch inversion gives the same unique inverse),
// and the batches are combined by Horner with alpha^m_b in the same order as stark::DeepBatch.
#include <string>

#include "../common/field_access.cuh"
#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/stark_kernels.hpp"

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;

__device__ PTVM_FORCEINLINE void deep_column(uint32_t log_size, gptr<const gpu::DeviceDeepBatch> batches,
                                            uint32_t n_batches, gptr<const gpu::DeviceColumnRef> columns,
                                            gptr<const QM31> coefficients, const gpu::SecureColumnView& out,
                                            size_t first_position = 0, size_t n = 0) {
  if (n == 0) n = size_t{1} << log_size;
  const circle::CircleDomain domain = circle::CanonicCoset{log_size}.circle_domain();
  for (size_t pos = grid_thread_index(); pos < n; pos += grid_thread_count()) {
    const circle::CirclePoint<M31> q = domain.at(circle::bit_reverse_index(first_position + pos, log_size));
    QM31 acc;
    for (uint32_t b = 0; b < n_batches; ++b) {
      const gpu::DeviceDeepBatch batch = batches.load(b);
      const CM31 den = (batch.prx - q.x) * batch.piy - (batch.pry - q.y) * batch.pix;
      QM31 num = -(batch.a_sum * q.y) - batch.b_sum;
      for (uint32_t k = 0; k < batch.n_columns; ++k) {
        const gpu::DeviceColumnRef c = columns.load(batch.first_column + k);
        num += load_qm31(coefficients, batch.first_column + k) * gptr<const M31>(c.data, c.length).load(pos);
      }
      acc = acc * batch.alpha_pow_m + num * den.inverse();
    }
    for (int k = 0; k < 4; ++k) out.coords[k].store(pos, acc.coord(k));
  }
}

__global__ void deep_quotients_kernel(uint32_t log_size, gptr<const gpu::DeviceDeepBatch> batches,
                                      uint32_t n_batches, gptr<const gpu::DeviceColumnRef> columns,
                                      gptr<const QM31> coefficients, gpu::SecureColumnView out) {
  deep_column(log_size, batches, n_batches, columns, coefficients, out);
}
__global__ void deep_quotients_block_kernel(uint32_t log_size, uint64_t first_position, uint64_t n,
                                            gptr<const gpu::DeviceDeepBatch> batches, uint32_t n_batches,
                                            gptr<const gpu::DeviceColumnRef> columns, gptr<const QM31> coefficients,
                                            gpu::SecureColumnView out) {
  deep_column(log_size, batches, n_batches, columns, coefficients, out, first_position, n);
}
// deep_column with every column read once per position: each batch's numerator starts at
// -(a_sum q.y) - b_sum, each column's value is added, times its coefficient, to the numerators of
// the batches that use it (field addition is exact: the same N_b(q) as deep_column's order), then
// the batches are combined by Horner as there.
__device__ PTVM_FORCEINLINE void deep_column_once(uint32_t log_size, const gpu::DeepQuotientJob& j) {
  const size_t n = size_t{1} << log_size;
  const circle::CircleDomain domain = circle::CanonicCoset{log_size}.circle_domain();
  for (size_t pos = grid_thread_index(); pos < n; pos += grid_thread_count()) {
    const circle::CirclePoint<M31> q = domain.at(circle::bit_reverse_index(pos, log_size));
    QM31 num[gpu::kMaxDeepBatchesPerPass];
    for (uint32_t b = 0; b < j.n_batches; ++b) {
      const gpu::DeviceDeepBatch batch = j.batches.load(b);
      num[b] = -(batch.a_sum * q.y) - batch.b_sum;
    }
    for (uint32_t u = 0; u < j.n_unique; ++u) {
      const gpu::DeepUniqueColumn c = j.unique_columns.load(u);
      const M31 v = gptr<const M31>(c.ref.data, c.ref.length).load(pos);
      for (uint32_t k = 0; k < c.n_uses; ++k) {
        const gpu::DeepColumnUse use = j.uses.load(c.first_use + k);
        num[use.batch] += use.coefficient * v;
      }
    }
    QM31 acc;
    for (uint32_t b = 0; b < j.n_batches; ++b) {
      const gpu::DeviceDeepBatch batch = j.batches.load(b);
      const CM31 den = (batch.prx - q.x) * batch.piy - (batch.pry - q.y) * batch.pix;
      acc = acc * batch.alpha_pow_m + num[b] * den.inverse();
    }
    for (int k = 0; k < 4; ++k) j.out.coords[k].store(pos, acc.coord(k));
  }
}

// Many quotient columns of one size: job blockIdx.y of the table.
__global__ void deep_quotients_many_kernel(uint32_t log_size, gptr<const gpu::DeepQuotientJob> jobs) {
  const gpu::DeepQuotientJob j = jobs.load(blockIdx.y);
  if (j.n_unique != 0 && j.n_batches <= gpu::kMaxDeepBatchesPerPass)
    deep_column_once(log_size, j);
  else
    deep_column(log_size, j.batches, j.n_batches, j.columns, j.coefficients, j.out);
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void deep_quotients(uint32_t log_size, gptr<const DeviceDeepBatch> batches, uint32_t n_batches,
                    gptr<const DeviceColumnRef> columns, gptr<const QM31> column_coefficients,
                    SecureColumnView out, stream_t stream) {
  const size_t n = size_t{1} << log_size;
  PTVM_LAUNCH(deep_quotients_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(
      log_size, batches, n_batches, columns, column_coefficients, out);
  PTVM_CHECK_LAUNCH("deep_quotients_kernel");
}

void deep_quotients_many(uint32_t log_size, gptr<const DeepQuotientJob> jobs, uint32_t n_jobs, stream_t stream) {
  const size_t n = size_t{1} << log_size;
  for (uint32_t first = 0; first < n_jobs; first += kMaxGridY) {
    const uint32_t count = n_jobs - first < kMaxGridY ? n_jobs - first : kMaxGridY;
    PTVM_LAUNCH(deep_quotients_many_kernel, dim3(grid_stride_blocks(n, kThreads, 132 * 16 / count + 1), count), kThreads, 0,
                stream)(log_size, jobs.offset(first));
    PTVM_CHECK_LAUNCH("deep_quotients_many_kernel");
  }
}

void deep_quotients_block(uint32_t log_size, uint64_t first_position, uint32_t block_log,
                          gptr<const DeviceDeepBatch> batches, uint32_t n_batches, gptr<const DeviceColumnRef> columns,
                          gptr<const QM31> column_coefficients, SecureColumnView out, stream_t stream) {
  const size_t n = size_t{1} << block_log;
  if (block_log > log_size || (first_position & (n - 1)) || first_position >= (size_t{1} << log_size))
    throw Error(ErrorCategory::Usage, "deep_quotients_block: block of 2^" + std::to_string(block_log) + " at " +
                                          std::to_string(first_position) + " outside a domain of 2^" +
                                          std::to_string(log_size));
  PTVM_LAUNCH(deep_quotients_block_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(
      log_size, first_position, n, batches, n_batches, columns, column_coefficients, out);
  PTVM_CHECK_LAUNCH("deep_quotients_block_kernel");
}

PTVM_GPU_NAMESPACE_END
