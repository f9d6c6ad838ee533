// The LogUp running-sum column (declared in ptvm/gpu/stark_kernels.hpp). The row totals were
// scanned device-wide (gpu::inclusive_scan_add); this kernel turns the prefix sums into the
// running column C(r) = sum_{r' < r} (rowtotal(r') - S/N) = S(r-1) - r * S/N, so the claimed sum S
// never leaves the device before the column is written.
#include "../common/field_access.cuh"
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

PTVM_GPU_NAMESPACE_END
