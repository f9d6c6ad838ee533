// Fixing the first variable of sumcheck tables (declared in ptvm/gpu/sumcheck_fix_variable.hpp).
// blockIdx.y strides over tables, a grid-stride loop over x: coalesced 16-byte loads and stores.
#include "ptvm/gpu/sumcheck_fix_variable.hpp"

#include <string>

#include "../common/field_access.cuh"
#include "ptvm/sumcheck/mle.hpp"

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;

__global__ void fix_first_variable_kernel(gptr<QM31> tables, size_t stride, size_t n_tables, size_t half, QM31 r) {
  const gptr<const QM31> in(tables);
  for (size_t j = blockIdx.y; j < n_tables; j += gridDim.y)
    for (size_t x = grid_thread_index(); x < half; x += grid_thread_count()) {
      const QM31 lo = load_qm31(in, j * stride + x), hi = load_qm31(in, j * stride + x + half);
      store_qm31(tables, j * stride + x, sumcheck::fold_pair(lo, hi, r));
    }
}

__global__ void fix_first_variable_m31_kernel(gptr<const M31> in, size_t in_stride, gptr<QM31> out,
                                              size_t out_stride, size_t n_tables, size_t half, QM31 r) {
  for (size_t j = blockIdx.y; j < n_tables; j += gridDim.y)
    for (size_t x = grid_thread_index(); x < half; x += grid_thread_count())
      store_qm31(out, j * out_stride + x,
                 sumcheck::fold_pair(in.load(j * in_stride + x), in.load(j * in_stride + x + half), r));
}

void require(unsigned n_vars, size_t stride, size_t n_tables, const char* who) {
  if (n_vars == 0 || n_vars > 40 || (size_t{1} << n_vars) > stride || n_tables == 0)
    throw Error(ErrorCategory::Usage, std::string(who) + ": n_vars " + std::to_string(n_vars) +
                                          " does not fit the stride " + std::to_string(stride));
}

dim3 grid_for(size_t half, size_t n_tables) {
  return dim3(gpu::grid_stride_blocks(half, kThreads, 132 * 8), static_cast<unsigned>(n_tables < 65535 ? n_tables : 65535));
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void sumcheck_fix_first_variable(gptr<QM31> tables, size_t stride, size_t n_tables, unsigned n_vars, QM31 r,
                                 stream_t stream) {
  require(n_vars, stride, n_tables, "sumcheck_fix_first_variable");
  const size_t half = size_t{1} << (n_vars - 1);
  PTVM_LAUNCH(fix_first_variable_kernel, grid_for(half, n_tables), kThreads, 0, stream)(tables, stride, n_tables, half, r);
  PTVM_CHECK_LAUNCH("fix_first_variable_kernel");
}

void sumcheck_fix_first_variable_m31(gptr<const M31> in, size_t in_stride, gptr<QM31> out, size_t out_stride,
                                     size_t n_tables, unsigned n_vars, QM31 r, stream_t stream) {
  require(n_vars, in_stride, n_tables, "sumcheck_fix_first_variable_m31");
  const size_t half = size_t{1} << (n_vars - 1);
  if (half > out_stride) throw Error(ErrorCategory::Usage, "sumcheck_fix_first_variable_m31: out_stride too small");
  PTVM_LAUNCH(fix_first_variable_m31_kernel, grid_for(half, n_tables), kThreads, 0, stream)(
      in, in_stride, out, out_stride, n_tables, half, r);
  PTVM_CHECK_LAUNCH("fix_first_variable_m31_kernel");
}

PTVM_GPU_NAMESPACE_END
