// eq tables (declared in ptvm/gpu/sumcheck_eq_table.hpp). The point's coordinates are staged in
// shared memory; the table is written coalesced, 16 bytes a lane.
#include "ptvm/gpu/sumcheck_eq_table.hpp"

#include <string>

#include "qm31_shared.cuh"

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;
constexpr unsigned kMaxVars = 40;

// The point is staged in shared memory once per block (n <= 40 coordinates), so the table's
// writes are the only global traffic that grows with the size.
__global__ void eq_table_kernel(gptr<const QM31> point, unsigned n, QM31 scale, gptr<QM31> out, size_t size) {
  PTVM_SHARED(uint32_t, coords, 4 * kMaxVars);
  if (threadIdx.x < n) shared_store_qm31(coords, threadIdx.x, load_qm31(point, threadIdx.x));
  __syncthreads();
  for (size_t x = grid_thread_index(); x < size; x += grid_thread_count()) {
    QM31 acc = scale;
    for (unsigned i = 0; i < n; ++i) {
      const QM31 r = shared_load_qm31(coords, i);
      acc *= ((x >> (n - 1 - i)) & 1) ? r : QM31::one() - r;
    }
    store_qm31(out, x, acc);
  }
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void sumcheck_eq_table(gptr<const QM31> point, unsigned n, QM31 scale, gptr<QM31> out, stream_t stream) {
  if (n > kMaxVars) throw Error(ErrorCategory::Usage, "sumcheck_eq_table: " + std::to_string(n) + " variables");
  const size_t size = size_t{1} << n;
  PTVM_LAUNCH(eq_table_kernel, grid_stride_blocks(size, kThreads), kThreads, 0, stream)(point, n, scale, out, size);
  PTVM_CHECK_LAUNCH("eq_table_kernel");
}

PTVM_GPU_NAMESPACE_END
