// Evaluation of coefficient columns at one QM31 point (PROTOCOL.md §3.1; declared in
// ptvm/gpu/stark_kernels.hpp). One block per column: w_j is the product of the basis factors
// selected by the bits of j; each thread sums coeff[j] * w_j over its share of j, then the block
// reduces its partial sums in shared memory (field addition is exact, so the order of the sum
// does not change the result).
#include <string>

#include "../common/field_access.cuh"
#include "ptvm/gpu/stark_kernels.hpp"

namespace ptvm::kernels {
namespace {

constexpr unsigned kLogThreads = 8;
constexpr unsigned kThreads = 1u << kLogThreads;
constexpr unsigned kMaxFactors = 32;

// Shared memory holds raw words (field types have default member initializers, which CUDA does
// not allow on __shared__ variables).
__device__ PTVM_FORCEINLINE uint4 to_words(const QM31& v) {
  uint4 w;
  w.x = v.x0.a.v;
  w.y = v.x0.b.v;
  w.z = v.x1.a.v;
  w.w = v.x1.b.v;
  return w;
}
__device__ PTVM_FORCEINLINE QM31 from_words(const uint4& w) {
  return QM31::from_m31(M31::raw(w.x), M31::raw(w.y), M31::raw(w.z), M31::raw(w.w));
}

// The evaluation of one column of 2^log_size coefficients at the point whose basis factors are in
// factor[0, log_size) (shared memory, filled by the caller before a barrier), by the whole block;
// thread 0 gets the value. j = low + (m << low_bits) with low = threadIdx.x, so w_j = w_low(low) *
// w_high(m): each thread sums w_high(m) * coeff[j] over its m (one QM31 x M31 product per
// coefficient) and multiplies by its own w_low once at the end. The block computes 256 w_high
// values at a time in shared memory (the chunked high-bit weight loop), then reduces its partial
// sums. Returns with every shared read done (the caller may overwrite factor and partial).
__device__ PTVM_FORCEINLINE QM31 evaluate_column_at_point(gptr<const M31> coeffs, uint32_t log_size, const uint4* factor,
                                                         uint4* partial, uint4* high_weight) {
  const uint32_t low_bits = log_size < kLogThreads ? log_size : kLogThreads;
  const size_t n_low = size_t{1} << low_bits, n_high = (size_t{1} << log_size) >> low_bits;
  QM31 w_low = QM31::one();
  for (uint32_t k = 0; k < low_bits; ++k)
    if ((threadIdx.x >> k) & 1) w_low = w_low * from_words(factor[k]);
  QM31 sum;
  for (size_t base = 0; base < n_high; base += kThreads) {
    __syncthreads();  // the previous chunk's weights are no longer read
    const size_t m = base + threadIdx.x;
    if (m < n_high) {
      QM31 w = QM31::one();
      for (uint32_t k = 0; low_bits + k < log_size; ++k)
        if ((m >> k) & 1) w = w * from_words(factor[low_bits + k]);
      high_weight[threadIdx.x] = to_words(w);
    }
    __syncthreads();
    const size_t count = n_high - base < kThreads ? n_high - base : kThreads;
    if (threadIdx.x < n_low)
      for (size_t i = 0; i < count; ++i)
        sum += from_words(high_weight[i]) * coeffs.load(threadIdx.x + ((base + i) << low_bits));
  }
  partial[threadIdx.x] = to_words(threadIdx.x < n_low ? sum * w_low : QM31::zero());
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride) partial[threadIdx.x] = to_words(from_words(partial[threadIdx.x]) + from_words(partial[threadIdx.x + stride]));
    __syncthreads();
  }
  const QM31 value = from_words(partial[0]);
  __syncthreads();  // partial[0] is read before the caller's next column overwrites it
  return value;
}

__global__ void evaluate_columns_at_point_kernel(gptr<const gpu::DeviceColumnRef> columns, uint32_t n_columns,
                                                 uint32_t log_size, gptr<const QM31> factors, gptr<QM31> out) {
  PTVM_SHARED(uint4, partial, kThreads);
  PTVM_SHARED(uint4, factor, kMaxFactors);
  PTVM_SHARED(uint4, high_weight, kThreads);
  if (threadIdx.x < log_size) factor[threadIdx.x] = to_words(load_qm31(factors, threadIdx.x));
  __syncthreads();
  for (uint32_t c = blockIdx.x; c < n_columns; c += gridDim.x) {
    const gpu::DeviceColumnRef ref = columns.load(c);
    const QM31 v = evaluate_column_at_point(gptr<const M31>(ref.data, ref.length), log_size, factor, partial, high_weight);
    if (threadIdx.x == 0) store_qm31(out, c, v);
  }
}

// One column at P <= kMaxPointsPerColumnPass points (the factors of point p in factor[p * kMaxFactors
// ...]), by the whole block, as evaluate_column_at_point does for one: every coefficient is loaded
// once and multiplied into the P sums. Thread 0 gets the values in value[0, P).
__device__ PTVM_FORCEINLINE void evaluate_column_at_points(gptr<const M31> coeffs, uint32_t log_size, uint32_t P,
                                                          const uint4* factor, uint4* partial, uint4* high_weight,
                                                          QM31* value) {
  constexpr uint32_t kP = gpu::kMaxPointsPerColumnPass;
  const uint32_t low_bits = log_size < kLogThreads ? log_size : kLogThreads;
  const size_t n_low = size_t{1} << low_bits, n_high = (size_t{1} << log_size) >> low_bits;
  QM31 w_low[kP], sum[kP];
  for (uint32_t p = 0; p < P; ++p) {
    w_low[p] = QM31::one();
    for (uint32_t k = 0; k < low_bits; ++k)
      if ((threadIdx.x >> k) & 1) w_low[p] = w_low[p] * from_words(factor[p * kMaxFactors + k]);
  }
  for (size_t base = 0; base < n_high; base += kThreads) {
    __syncthreads();  // the previous chunk's weights are no longer read
    const size_t m = base + threadIdx.x;
    if (m < n_high)
      for (uint32_t p = 0; p < P; ++p) {
        QM31 w = QM31::one();
        for (uint32_t k = 0; low_bits + k < log_size; ++k)
          if ((m >> k) & 1) w = w * from_words(factor[p * kMaxFactors + low_bits + k]);
        high_weight[p * kThreads + threadIdx.x] = to_words(w);
      }
    __syncthreads();
    const size_t count = n_high - base < kThreads ? n_high - base : kThreads;
    if (threadIdx.x < n_low)
      for (size_t i = 0; i < count; ++i) {
        const M31 c = coeffs.load(threadIdx.x + ((base + i) << low_bits));
        for (uint32_t p = 0; p < P; ++p) sum[p] += from_words(high_weight[p * kThreads + i]) * c;
      }
  }
  for (uint32_t p = 0; p < P; ++p)
    partial[p * kThreads + threadIdx.x] = to_words(threadIdx.x < n_low ? sum[p] * w_low[p] : QM31::zero());
  __syncthreads();
  for (unsigned stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (threadIdx.x < stride)
      for (uint32_t p = 0; p < P; ++p)
        partial[p * kThreads + threadIdx.x] =
            to_words(from_words(partial[p * kThreads + threadIdx.x]) + from_words(partial[p * kThreads + threadIdx.x + stride]));
    __syncthreads();
  }
  for (uint32_t p = 0; p < P; ++p) value[p] = from_words(partial[p * kThreads]);
  __syncthreads();  // partial is read before the caller's next column overwrites it
}

// Columns with their own points: entry c reads its log_size factors at factors[entry.first_factor];
// an entry with n_points = P > 1 is followed by P - 1 entries of the same column (n_points 0),
// evaluated with it in one pass over the column.
__global__ void evaluate_columns_at_points_kernel(gptr<const gpu::PointEvalColumn> columns, uint32_t n_columns,
                                                  uint32_t log_size, gptr<const QM31> factors, gptr<QM31> out) {
  constexpr uint32_t kP = gpu::kMaxPointsPerColumnPass;
  PTVM_SHARED(uint4, partial, kThreads * kP);
  PTVM_SHARED(uint4, factor, kMaxFactors * kP);
  PTVM_SHARED(uint4, high_weight, kThreads * kP);
  for (uint32_t c = blockIdx.x; c < n_columns; c += gridDim.x) {
    const gpu::PointEvalColumn col = columns.load(c);
    if (col.n_points == 0) continue;  // evaluated with the entry before it
    const uint32_t P = col.n_points < kP ? col.n_points : kP;
    for (uint32_t p = 0; p < P; ++p) {
      const uint32_t first = p == 0 ? col.first_factor : columns.load(c + p).first_factor;
      if (threadIdx.x < log_size) factor[p * kMaxFactors + threadIdx.x] = to_words(load_qm31(factors, first + threadIdx.x));
    }
    __syncthreads();
    QM31 v[kP];
    evaluate_column_at_points(gptr<const M31>(col.data, size_t{1} << log_size), log_size, P, factor, partial,
                              high_weight, v);
    if (threadIdx.x == 0)
      for (uint32_t p = 0; p < P; ++p) store_qm31(out, c + p, v[p]);
  }
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void evaluate_columns_at_point(gptr<const DeviceColumnRef> columns, uint32_t n_columns,
                               uint32_t log_size, gptr<const QM31> factors, gptr<QM31> out,
                               stream_t stream) {
  if (n_columns == 0) return;
  if (log_size > kMaxFactors)
    throw Error(ErrorCategory::Usage, "evaluate_columns_at_point: log_size " + std::to_string(log_size) + " above 32");
  const unsigned blocks = n_columns < 65535 ? n_columns : 65535;
  PTVM_LAUNCH(evaluate_columns_at_point_kernel, blocks, kThreads, 0, stream)(columns, n_columns, log_size, factors, out);
  PTVM_CHECK_LAUNCH("evaluate_columns_at_point_kernel");
}

void evaluate_columns_at_points(gptr<const PointEvalColumn> columns, uint32_t n_columns, uint32_t log_size,
                                gptr<const QM31> factors, gptr<QM31> out, stream_t stream) {
  if (n_columns == 0) return;
  if (log_size > kMaxFactors)
    throw Error(ErrorCategory::Usage, "evaluate_columns_at_points: log_size " + std::to_string(log_size) + " above 32");
  const unsigned blocks = n_columns < 65535 ? n_columns : 65535;
  PTVM_LAUNCH(evaluate_columns_at_points_kernel, blocks, kThreads, 0, stream)(columns, n_columns, log_size, factors, out);
  PTVM_CHECK_LAUNCH("evaluate_columns_at_points_kernel");
}

PTVM_GPU_NAMESPACE_END
