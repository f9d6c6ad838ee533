// FRI folds (PROTOCOL.md §6.3; declared in ptvm/gpu/stark_kernels.hpp), the formulas of
// ptvm/stark/fri_math.hpp. One thread per output value; the pair (2i, 2i+1) of bit-reversed
// positions is a point and its conjugate (circle) or x and -x (line). The inverse of p.y / x is
// taken per thread instead of by batch inversion (same unique value).
#include <string>

#include "../common/field_access.cuh"
#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/stark_kernels.hpp"
#include "ptvm/hash/merkle_hash.hpp"
#include "ptvm/stark/fri_math.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;

__device__ PTVM_FORCEINLINE QM31 load_secure(const gpu::SecureColumnConstView& v, size_t i) {
  return QM31::from_m31(v.coords[0].load(i), v.coords[1].load(i), v.coords[2].load(i), v.coords[3].load(i));
}
// The values at positions 2i and 2i + 1 (a fold's pair): one 8-byte load per coordinate, so a
// warp's request covers consecutive words instead of every other word of two requests (falls back
// to two loads where a coordinate column is not 8-byte aligned).
__device__ PTVM_FORCEINLINE void load_secure_pair(const gpu::SecureColumnConstView& v, size_t i, QM31& even, QM31& odd) {
  M31 e[4], o[4];
  for (int k = 0; k < 4; ++k) {
    if ((reinterpret_cast<uintptr_t>(v.coords[k].get()) & 7) == 0) {
      const uint2 w = v.coords[k].template as<const uint2>().load(i);
      e[k] = M31::raw(w.x);
      o[k] = M31::raw(w.y);
    } else {
      e[k] = v.coords[k].load(2 * i);
      o[k] = v.coords[k].load(2 * i + 1);
    }
  }
  even = QM31::from_m31(e[0], e[1], e[2], e[3]);
  odd = QM31::from_m31(o[0], o[1], o[2], o[3]);
}
__device__ PTVM_FORCEINLINE void store_secure(const gpu::SecureColumnView& v, size_t i, const QM31& x) {
  for (int k = 0; k < 4; ++k) v.coords[k].store(i, x.coord(k));
}

// The folded value x at position i of a layer of n values, and (leaves: not null) the Merkle leaf of
// row i of the layer's tree, which is the 4 coordinates of x (the hash of blake2s_merkle_layer over
// the 4 coordinate columns), word-major: the next layer's leaf hashes without re-reading the layer.
__device__ PTVM_FORCEINLINE void store_folded(const gpu::SecureColumnView& out, gptr<uint32_t> leaves, size_t n, size_t i,
                                             const QM31& x) {
  store_secure(out, i, x);
  if (!leaves) return;
  const uint32_t values[4] = {x.coord(0).v, x.coord(1).v, x.coord(2).v, x.coord(3).v};
  uint32_t h[8];
  hash::merkle_hash_node_words(nullptr, values, 4, h);
  for (int k = 0; k < 8; ++k) leaves.store(static_cast<size_t>(k) * n + i, h[k]);
}

__device__ PTVM_FORCEINLINE void fold_circle(const gpu::SecureColumnConstView& in, uint32_t log_size, const QM31& alpha,
                                            bool accumulate, const gpu::SecureColumnConstView& acc,
                                            const gpu::SecureColumnView& out, gptr<uint32_t> leaves = {},
                                            size_t first_pair = 0, size_t half = 0) {
  if (half == 0) half = size_t{1} << (log_size - 1);
  const circle::CircleDomain domain = circle::CanonicCoset{log_size}.circle_domain();
  const QM31 alpha_sq = alpha * alpha;
  for (size_t i = grid_thread_index(); i < half; i += grid_thread_count()) {
    const M31 y = domain.at(circle::bit_reverse_index(2 * (first_pair + i), log_size)).y;
    QM31 even, odd;
    load_secure_pair(in, i, even, odd);
    QM31 g = stark::fold_circle_pair(even, odd, y.inverse(), alpha);
    if (accumulate) g = load_secure(acc, i) * alpha_sq + g;
    store_folded(out, leaves, half, i, g);
  }
}

__device__ PTVM_FORCEINLINE void fold_line(const gpu::SecureColumnConstView& in, const circle::LineDomain& domain,
                                          const QM31& alpha, const gpu::SecureColumnView& out, gptr<uint32_t> leaves = {},
                                          size_t first_pair = 0, size_t half = 0) {
  if (half == 0) half = domain.size() / 2;
  for (size_t i = grid_thread_index(); i < half; i += grid_thread_count()) {
    const M31 x = domain.at(circle::bit_reverse_index(2 * (first_pair + i), domain.log_size()));
    QM31 even, odd;
    load_secure_pair(in, i, even, odd);
    store_folded(out, leaves, half, i, stark::fold_line_pair(even, odd, x.inverse(), alpha));
  }
}

__global__ void fri_fold_circle_kernel(gpu::SecureColumnConstView in, uint32_t log_size, QM31 alpha,
                                       bool accumulate, gpu::SecureColumnConstView acc,
                                       gpu::SecureColumnView out) {
  fold_circle(in, log_size, alpha, accumulate, acc, out);
}
__global__ void fri_fold_line_kernel(gpu::SecureColumnConstView in, circle::LineDomain domain, QM31 alpha,
                                     gpu::SecureColumnView out) {
  fold_line(in, domain, alpha, out);
}
__global__ void fri_fold_circle_block_kernel(gpu::SecureColumnConstView in, uint32_t log_size, uint64_t first_pair,
                                             uint64_t half, QM31 alpha, bool accumulate, gpu::SecureColumnConstView acc,
                                             gpu::SecureColumnView out) {
  fold_circle(in, log_size, alpha, accumulate, acc, out, {}, first_pair, half);
}
__global__ void fri_fold_line_block_kernel(gpu::SecureColumnConstView in, circle::LineDomain domain, uint64_t first_pair,
                                           uint64_t half, QM31 alpha, gpu::SecureColumnView out) {
  fold_line(in, domain, alpha, out, {}, first_pair, half);
}
// Many folds of one size: fold blockIdx.y of the table.
__global__ void fri_fold_circle_many_kernel(gptr<const gpu::FriFoldJob> jobs, uint32_t log_size) {
  const gpu::FriFoldJob j = jobs.load(blockIdx.y);
  fold_circle(j.in, log_size, j.alpha, j.accumulate != 0, j.acc, j.out);
}
__global__ void fri_fold_line_many_kernel(gptr<const gpu::FriFoldJob> jobs) {
  const gpu::FriFoldJob j = jobs.load(blockIdx.y);
  fold_line(j.in, j.domain, j.alpha, j.out);
}
// The same folds with the leaf hashes of the folded layer (FriFoldJob::leaf_words): fold and the
// next layer's Merkle leaves in one kernel.
__global__ void fri_fold_circle_leaves_many_kernel(gptr<const gpu::FriFoldJob> jobs, uint32_t log_size) {
  const gpu::FriFoldJob j = jobs.load(blockIdx.y);
  fold_circle(j.in, log_size, j.alpha, j.accumulate != 0, j.acc, j.out,
              gptr<uint32_t>(j.leaf_words, 8 * (size_t{1} << (log_size - 1))));
}
__global__ void fri_fold_line_leaves_many_kernel(gptr<const gpu::FriFoldJob> jobs) {
  const gpu::FriFoldJob j = jobs.load(blockIdx.y);
  fold_line(j.in, j.domain, j.alpha, j.out, gptr<uint32_t>(j.leaf_words, 8 * (j.domain.size() / 2)));
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void fri_fold_circle(SecureColumnConstView in, uint32_t log_size, QM31 alpha, bool accumulate,
                     SecureColumnConstView acc, SecureColumnView out, stream_t stream) {
  const size_t half = size_t{1} << (log_size - 1);
  PTVM_LAUNCH(fri_fold_circle_kernel, grid_stride_blocks(half, kThreads), kThreads, 0, stream)(
      in, log_size, alpha, accumulate, acc, out);
  PTVM_CHECK_LAUNCH("fri_fold_circle_kernel");
}

void fri_fold_line(SecureColumnConstView in, circle::LineDomain domain, QM31 alpha,
                   SecureColumnView out, stream_t stream) {
  const size_t half = domain.size() / 2;
  PTVM_LAUNCH(fri_fold_line_kernel, grid_stride_blocks(half, kThreads), kThreads, 0, stream)(in, domain, alpha, out);
  PTVM_CHECK_LAUNCH("fri_fold_line_kernel");
}

void fri_fold_circle_many(gptr<const FriFoldJob> jobs, uint32_t n_jobs, uint32_t log_size, stream_t stream, bool leaves) {
  const size_t half = size_t{1} << (log_size - 1);
  for (uint32_t first = 0; first < n_jobs; first += kMaxGridY) {
    const uint32_t count = n_jobs - first < kMaxGridY ? n_jobs - first : kMaxGridY;
    const dim3 grid(grid_stride_blocks(half, kThreads, 132 * 16 / count + 1), count);
    if (leaves) {
      PTVM_LAUNCH(fri_fold_circle_leaves_many_kernel, grid, kThreads, 0, stream)(jobs.offset(first), log_size);
      PTVM_CHECK_LAUNCH("fri_fold_circle_leaves_many_kernel");
    } else {
      PTVM_LAUNCH(fri_fold_circle_many_kernel, grid, kThreads, 0, stream)(jobs.offset(first), log_size);
      PTVM_CHECK_LAUNCH("fri_fold_circle_many_kernel");
    }
  }
#if defined(PTVM_HOSTSIM)
  if (leaves) hostsim::declare_kernel_ops("fri_fold_circle_leaves_many_kernel", n_jobs * half * hostsim::kBlake2sCompressionOps);
#endif
}

void fri_fold_line_many(gptr<const FriFoldJob> jobs, uint32_t n_jobs, uint32_t log_size, stream_t stream, bool leaves) {
  const size_t half = size_t{1} << (log_size - 1);
  for (uint32_t first = 0; first < n_jobs; first += kMaxGridY) {
    const uint32_t count = n_jobs - first < kMaxGridY ? n_jobs - first : kMaxGridY;
    const dim3 grid(grid_stride_blocks(half, kThreads, 132 * 16 / count + 1), count);
    if (leaves) {
      PTVM_LAUNCH(fri_fold_line_leaves_many_kernel, grid, kThreads, 0, stream)(jobs.offset(first));
      PTVM_CHECK_LAUNCH("fri_fold_line_leaves_many_kernel");
    } else {
      PTVM_LAUNCH(fri_fold_line_many_kernel, grid, kThreads, 0, stream)(jobs.offset(first));
      PTVM_CHECK_LAUNCH("fri_fold_line_many_kernel");
    }
  }
#if defined(PTVM_HOSTSIM)
  if (leaves) hostsim::declare_kernel_ops("fri_fold_line_leaves_many_kernel", n_jobs * half * hostsim::kBlake2sCompressionOps);
#endif
}

namespace {
void check_fold_block(uint32_t log_size, uint64_t first_position, uint32_t block_log, const char* fn) {
  if (block_log < 1 || block_log > log_size || (first_position & ((uint64_t{1} << block_log) - 1)) ||
      first_position >= (uint64_t{1} << log_size))
    throw Error(ErrorCategory::Usage, std::string(fn) + ": block of 2^" + std::to_string(block_log) + " at " +
                                          std::to_string(first_position) + " outside a domain of 2^" +
                                          std::to_string(log_size));
}
}  // namespace

void fri_fold_circle_block(SecureColumnConstView in, uint32_t log_size, uint64_t first_position, uint32_t block_log,
                           QM31 alpha, bool accumulate, SecureColumnConstView acc, SecureColumnView out,
                           stream_t stream) {
  check_fold_block(log_size, first_position, block_log, "fri_fold_circle_block");
  const size_t half = size_t{1} << (block_log - 1);
  PTVM_LAUNCH(fri_fold_circle_block_kernel, grid_stride_blocks(half, kThreads), kThreads, 0, stream)(
      in, log_size, first_position / 2, half, alpha, accumulate, acc, out);
  PTVM_CHECK_LAUNCH("fri_fold_circle_block_kernel");
}

void fri_fold_line_block(SecureColumnConstView in, circle::LineDomain domain, uint64_t first_position, uint32_t block_log,
                         QM31 alpha, SecureColumnView out, stream_t stream) {
  check_fold_block(domain.log_size(), first_position, block_log, "fri_fold_line_block");
  const size_t half = size_t{1} << (block_log - 1);
  PTVM_LAUNCH(fri_fold_line_block_kernel, grid_stride_blocks(half, kThreads), kThreads, 0, stream)(
      in, domain, first_position / 2, half, alpha, out);
  PTVM_CHECK_LAUNCH("fri_fold_line_block_kernel");
}

PTVM_GPU_NAMESPACE_END
