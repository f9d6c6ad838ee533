// The sumcheck round sum (declared in ptvm/gpu/sumcheck_round.hpp). Grid-stride over the half
// hypercube x'; thread-local sums of round.hpp's round_accumulate, then a shared-memory tree per
// block; QM31 loads are 16-byte vectors (one warp request: 512 contiguous bytes).
#include "ptvm/gpu/sumcheck_round.hpp"

#include <string>

#include "qm31_shared.cuh"

namespace ptvm::kernels {
namespace {

using sumcheck::ProductShape;
constexpr unsigned kThreads = 256;
constexpr unsigned kPlanes = ProductShape::kMaxDegree + 1;

__global__ void sumcheck_round_kernel(gptr<const QM31> tables, size_t stride, size_t half, ProductShape shape,
                                      uint32_t n_points, gptr<const QM31> weights, bool weighted,
                                      gptr<QM31> block_sums) {
  PTVM_SHARED(uint32_t, sums, 4 * kThreads * kPlanes);
  QM31 evals[kPlanes] = {};
  QM31 lo[ProductShape::kMaxFactors] = {}, hi[ProductShape::kMaxFactors] = {};
  for (size_t x = grid_thread_index(); x < half; x += grid_thread_count()) {
    for (uint32_t j = 0; j < shape.n_factors; ++j) {
      lo[j] = load_qm31(tables, j * stride + x);
      hi[j] = load_qm31(tables, j * stride + x + half);
    }
    if (weighted)
      sumcheck::round_accumulate_weighted(shape, n_points, lo, hi, load_qm31(weights, x), evals);
    else
      sumcheck::round_accumulate(shape, n_points - 1, lo, hi, evals);
  }
  for (uint32_t e = 0; e < n_points; ++e) shared_store_qm31(sums, size_t(e) * blockDim.x + threadIdx.x, evals[e]);
  __syncthreads();
  shared_group_sum_qm31(sums, blockDim.x, n_points);
  if (threadIdx.x == 0)
    for (uint32_t e = 0; e < n_points; ++e)
      store_qm31(block_sums, size_t(blockIdx.x) * n_points + e, shared_load_qm31(sums, size_t(e) * blockDim.x));
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

std::vector<QM31> sumcheck_round(gptr<const QM31> tables, size_t stride, size_t n_tables, unsigned n_vars,
                                 const sumcheck::ProductShape& shape, uint32_t n_points, gptr<const QM31> weights,
                                 stream_t stream) {
  if (n_vars == 0 || n_vars > 40 || shape.n_factors != n_tables || n_tables == 0 ||
      n_tables > sumcheck::ProductShape::kMaxFactors || n_points == 0 || n_points > kPlanes ||
      (size_t{1} << n_vars) > stride)
    throw Error(ErrorCategory::Usage, "sumcheck_round: bad tables or shape (n_vars " + std::to_string(n_vars) +
                                          ", tables " + std::to_string(n_tables) + ", points " +
                                          std::to_string(n_points) + ")");
  const size_t half = size_t{1} << (n_vars - 1);
  const bool weighted = static_cast<bool>(weights);
  const unsigned blocks = grid_stride_blocks(half, kThreads, 132 * 4);
  DeviceBuffer<QM31> block_sums(size_t(blocks) * n_points);
  PTVM_LAUNCH(sumcheck_round_kernel, blocks, kThreads, 0, stream)(tables, stride, half, shape, n_points, weights,
                                                                  weighted, block_sums.ptr());
  PTVM_CHECK_LAUNCH("sumcheck_round_kernel");
  std::vector<QM31> host = block_sums.to_host(stream);
  std::vector<QM31> evals(n_points, QM31::zero());
  for (size_t b = 0; b < blocks; ++b)
    for (uint32_t e = 0; e < n_points; ++e) evals[e] += host[b * n_points + e];
  return evals;
}

PTVM_GPU_NAMESPACE_END
