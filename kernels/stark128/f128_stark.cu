// The F128 STARK's column kernels (declared in ptvm/gpu/stark128_kernels.hpp): bit reversal,
// Horner at points, DEEP quotient, FRI fold, BLAKE2b proof of work, word gathers for openings.
#include <string>
#include <vector>

#include "../common/field_access.cuh"
#include "ptvm/circle/domain.hpp"
#include "ptvm/field/batch_inverse.hpp"
#include "ptvm/fri/fold.hpp"
#include "ptvm/gpu/stark128_kernels.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace ptvm::kernels {
namespace {

using gpu::DeviceF128ColumnRef;
constexpr unsigned kThreads = 128;
constexpr uint32_t kHornerChunk = 64;

__device__ PTVM_FORCEINLINE gptr<const F128> column(const DeviceF128ColumnRef& r) {
  return gptr<const F128>(r.data, r.length);
}

__global__ void f128_bit_reverse_kernel(gptr<const F128> in, gptr<F128> out, size_t n, uint32_t log_n) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count())
    out.store(circle::bit_reverse_index(i, log_n), in.load(i));
}

// Column blockIdx.y of the table (all of n values) to words [4 n y, 4 n (y + 1)) of out.
__global__ void f128_to_canonical_kernel(gptr<const DeviceF128ColumnRef> columns, size_t n, gptr<uint4> out) {
  const gptr<const F128> in = column(columns.load(blockIdx.y));
  const size_t row = static_cast<size_t>(blockIdx.y) * n;
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) {
    uint64_t lo, hi;
    in.load(i).to_canonical_words(lo, hi);
    uint4 w;
    w.x = static_cast<uint32_t>(lo);
    w.y = static_cast<uint32_t>(lo >> 32);
    w.z = static_cast<uint32_t>(hi);
    w.w = static_cast<uint32_t>(hi >> 32);
    out.store(row + i, w);
  }
}

__global__ void f128_copy_kernel(gptr<const F128> in, size_t first, gptr<F128> out, size_t n) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) out.store(i, in.load(first + i));
}

// partial[r * n_chunks + c] = x^(64 c) * sum_{i < 64} coeff[64 c + i] x^i for request r = blockIdx.y.
__global__ void f128_horner_chunks_kernel(gptr<const gpu::F128PointRequest> requests, uint32_t n_chunks,
                                          gptr<F128> partial) {
  const gpu::F128PointRequest r = requests.load(blockIdx.y);
  const gptr<const F128> coeffs = column(r.coefficients);
  for (size_t c = grid_thread_index(); c < n_chunks; c += grid_thread_count()) {
    const size_t begin = c * kHornerChunk;
    F128 acc = F128::zero();
    if (begin < r.coefficients.length) {
      const size_t end = begin + kHornerChunk < r.coefficients.length ? begin + kHornerChunk : r.coefficients.length;
      for (size_t i = end; i-- > begin;) acc = acc * r.point + coeffs.load(i);
      acc = acc * r.point.pow(begin);
    }
    partial.store(static_cast<size_t>(blockIdx.y) * n_chunks + c, acc);
  }
}

__global__ void f128_sum_chunks_kernel(gptr<const F128> partial, uint32_t n_requests, uint32_t n_chunks,
                                       gptr<F128> out) {
  for (size_t r = grid_thread_index(); r < n_requests; r += grid_thread_count()) {
    F128 acc = F128::zero();
    for (uint32_t c = 0; c < n_chunks; ++c) acc += partial.load(r * n_chunks + c);
    out.store(r, acc);
  }
}

__global__ void f128_deep_kernel(uint32_t log_lde, gptr<const gpu::F128DeepSample> samples,
                                 gptr<const gpu::F128DeepPoint> points, uint32_t n_points, F128 offset,
                                 F128 root, gptr<F128> out) {
  const size_t n = size_t{1} << log_lde;
  for (size_t pos = grid_thread_index(); pos < n; pos += grid_thread_count()) {
    const F128 x = offset * root.pow(circle::bit_reverse_index(pos, log_lde));
    F128 numer[gpu::kMaxDeepPoints], diff[gpu::kMaxDeepPoints], inv[gpu::kMaxDeepPoints];
    for (uint32_t p = 0; p < n_points; ++p) {
      const gpu::F128DeepPoint pt = points.load(p);
      F128 acc = -pt.offset;
      for (uint32_t k = pt.first; k < pt.first + pt.count; ++k) {
        const gpu::F128DeepSample s = samples.load(k);
        acc += s.weight * column(s.column).load(pos);
      }
      numer[p] = acc;
      diff[p] = x - pt.point;
    }
    batch_inverse_raw(diff, inv, inv, n_points);
    F128 f = F128::zero();
    for (uint32_t p = 0; p < n_points; ++p) f += numer[p] * inv[p];
    out.store(pos, f);
  }
}

__global__ void f128_fri_fold_kernel(gptr<const F128> in, uint32_t log_m, F128 inv_offset, F128 w_inv, F128 beta,
                                     F128 half, gptr<F128> out) {
  const size_t n_out = size_t{1} << (log_m - 1);
  for (size_t j = grid_thread_index(); j < n_out; j += grid_thread_count()) {
    const F128 a = in.load(2 * j), b = in.load(2 * j + 1);
    const F128 x_inv = inv_offset * w_inv.pow(circle::bit_reverse_index(j, log_m - 1));
    out.store(j, fri::fold_coset_pair(a, b, x_inv, beta, half));
  }
}

struct PowMessage {
  uint64_t m[6];  // the 48-byte message without the nonce (m[5] is the nonce)
};

__device__ PTVM_FORCEINLINE bool pow_valid(const PowMessage& msg, uint64_t nonce, uint32_t pow_bits) {
  uint64_t block[16];
  for (int i = 0; i < 5; ++i) block[i] = msg.m[i];
  block[5] = nonce;
  for (int i = 6; i < 16; ++i) block[i] = 0;
  uint64_t h[8];
  hash::blake2b_init_state(h, 32);
  hash::blake2b_compress(h, block, 48, true);
  // Trailing zeros of the first 16 digest bytes as a 128-bit little-endian integer.
  uint32_t zeros = 0;
  if (h[0] != 0) {
    uint64_t v = h[0];
    while ((v & 1) == 0) {
      ++zeros;
      v >>= 1;
    }
  } else if (h[1] != 0) {
    zeros = 64;
    uint64_t v = h[1];
    while ((v & 1) == 0) {
      ++zeros;
      v >>= 1;
    }
  } else {
    zeros = 128;
  }
  return zeros >= pow_bits;
}

__global__ void f128_pow_grind_kernel(PowMessage msg, uint32_t pow_bits, uint64_t first, uint64_t count,
                                      gptr<uint64_t> best) {
  uint64_t found = ~uint64_t{0};
  for (uint64_t i = grid_thread_index(); i < count; i += grid_thread_count()) {
    if (pow_valid(msg, first + i, pow_bits)) {
      found = first + i;  // increasing within a thread: the thread's smallest
      break;
    }
  }
  if (found != ~uint64_t{0}) gpu::atomic_min_u64(best, 0, found);
}

__global__ void gather_words_kernel(gptr<const gpu::DeviceWordRef> refs, size_t n, gptr<uint32_t> out) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) {
    const gpu::DeviceWordRef r = refs.load(i);
    out.store(i, gptr<const uint32_t>(r.base, r.length).load(r.index));
  }
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

void f128_bit_reverse(gptr<const F128> in, gptr<F128> out, uint32_t log_n, stream_t stream) {
  const size_t n = size_t{1} << log_n;
  PTVM_LAUNCH(f128_bit_reverse_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(in, out, n, log_n);
  PTVM_CHECK_LAUNCH("f128_bit_reverse_kernel");
}

void f128_to_canonical(std::span<const DeviceF128ColumnRef> columns, gptr<uint32_t> out_words, stream_t stream) {
  if (columns.empty()) return;
  const size_t n = columns[0].length;
  for (const auto& c : columns)
    if (c.length != n) throw Error(ErrorCategory::Usage, "f128_to_canonical: columns of different lengths");
  for (size_t first = 0; first < columns.size(); first += 65535) {
    const size_t count = columns.size() - first < 65535 ? columns.size() - first : 65535;
    DeviceBuffer<DeviceF128ColumnRef> table = DeviceBuffer<DeviceF128ColumnRef>::from_host(columns.subspan(first, count), stream);
    PTVM_LAUNCH(f128_to_canonical_kernel, dim3(grid_stride_blocks(n, kThreads, 132 * 16 / count + 1), count), kThreads,
                0, stream)(table.cptr(), n, out_words.template as<uint4>().offset(first * n));
    PTVM_CHECK_LAUNCH("f128_to_canonical_kernel");
#if defined(PTVM_HOSTSIM)
    hostsim::declare_kernel_ops("f128_to_canonical_kernel", count * n * hostsim::kF128MulOps);  // one reduction each
#endif
    synchronize(stream);  // the table dies here
  }
}

void f128_copy(gptr<const F128> in, size_t first, gptr<F128> out, size_t n, stream_t stream) {
  PTVM_LAUNCH(f128_copy_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(in, first, out, n);
  PTVM_CHECK_LAUNCH("f128_copy_kernel");
}

std::vector<F128> f128_evaluate_at_points(std::span<const F128PointRequest> requests, stream_t stream) {
  if (requests.empty()) return {};
  if (requests.size() > 65535)
    throw Error(ErrorCategory::Usage, "f128_evaluate_at_points: " + std::to_string(requests.size()) +
                                          " requests, at most 65535");
  uint64_t longest = 1;
  for (const auto& r : requests) longest = r.coefficients.length > longest ? r.coefficients.length : longest;
  const uint32_t n_chunks = static_cast<uint32_t>((longest + kHornerChunk - 1) / kHornerChunk);
  const uint32_t n_req = static_cast<uint32_t>(requests.size());
  DeviceBuffer<F128PointRequest> table = DeviceBuffer<F128PointRequest>::from_host(requests, stream);
  DeviceBuffer<F128> partial(size_t{n_chunks} * n_req), out(n_req);
  PTVM_LAUNCH(f128_horner_chunks_kernel, dim3(grid_stride_blocks(n_chunks, kThreads), n_req), kThreads, 0, stream)(
      table.cptr(), n_chunks, partial.ptr());
  PTVM_CHECK_LAUNCH("f128_horner_chunks_kernel");
#if defined(PTVM_HOSTSIM)
  {
    uint64_t muls = 0;  // one per coefficient, x^begin per chunk (about 2 log2 begin)
    for (const auto& r : requests) muls += r.coefficients.length + n_chunks * 2 * 32;
    hostsim::declare_kernel_ops("f128_horner_chunks_kernel", muls * hostsim::kF128MulOps);
  }
#endif
  PTVM_LAUNCH(f128_sum_chunks_kernel, grid_stride_blocks(n_req, kThreads), kThreads, 0, stream)(
      partial.cptr(), n_req, n_chunks, out.ptr());
  PTVM_CHECK_LAUNCH("f128_sum_chunks_kernel");
  return out.to_host(stream);
}

void f128_deep_quotient(uint32_t log_lde, std::span<const F128DeepSample> samples, std::span<const F128DeepPoint> points,
                        gptr<F128> out, stream_t stream) {
  if (points.size() > kMaxDeepPoints)
    throw Error(ErrorCategory::Usage, "f128_deep_quotient: " + std::to_string(points.size()) + " points, at most " +
                                          std::to_string(kMaxDeepPoints));
  for (const auto& p : points)
    if (size_t{p.first} + p.count > samples.size())
      throw Error(ErrorCategory::Usage, "f128_deep_quotient: a point's samples lie outside the sample table");
  const size_t n = size_t{1} << log_lde;
  StageScope stage("f128_deep_quotient", (samples.size() + 1) * n * sizeof(F128));
  DeviceBuffer<F128DeepSample> s = DeviceBuffer<F128DeepSample>::from_host(samples, stream);
  DeviceBuffer<F128DeepPoint> p = DeviceBuffer<F128DeepPoint>::from_host(points, stream);
  PTVM_LAUNCH(f128_deep_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(
      log_lde, s.cptr(), p.cptr(), static_cast<uint32_t>(points.size()), F128::generator(),
      F128::primitive_root_of_unity(log_lde), out);
  PTVM_CHECK_LAUNCH("f128_deep_kernel");
#if defined(PTVM_HOSTSIM)
  // Per position: x (about 2 log_lde), one per sample, the batch inverse (3 per point and one
  // inversion, about 190), one per point for the sum.
  hostsim::declare_kernel_ops("f128_deep_kernel", n * (2 * uint64_t{log_lde} + samples.size() + 4 * points.size() + 190) *
                                                      hostsim::kF128MulOps);
#endif
  synchronize(stream);  // the tables die here
}

void f128_fri_fold(gptr<const F128> in, uint32_t log_m, F128 offset, F128 beta, gptr<F128> out, stream_t stream) {
  if (log_m == 0 || log_m > 30)
    throw Error(ErrorCategory::Usage, "f128_fri_fold: layer of log size " + std::to_string(log_m));
  const size_t n_out = size_t{1} << (log_m - 1);
  StageScope stage("f128_fri_fold", 3 * n_out * sizeof(F128));
  PTVM_LAUNCH(f128_fri_fold_kernel, grid_stride_blocks(n_out, kThreads), kThreads, 0, stream)(
      in, log_m, offset.inverse(), F128::primitive_root_of_unity(log_m).inverse(), beta,
      F128::from_u64(2).inverse(), out);
  PTVM_CHECK_LAUNCH("f128_fri_fold_kernel");
#if defined(PTVM_HOSTSIM)
  hostsim::declare_kernel_ops("f128_fri_fold_kernel", n_out * (2 * uint64_t{log_m} + 4) * hostsim::kF128MulOps);
#endif
}

uint64_t f128_pow_grind(const hash::Blake2b256Hash& digest, uint32_t pow_bits, stream_t stream,
                        uint64_t nonces_per_launch) {
  if (pow_bits > 40)
    throw Error(ErrorCategory::Usage, "f128_pow_grind: pow_bits " + std::to_string(pow_bits) + " above 40");
  if (nonces_per_launch == 0) nonces_per_launch = uint64_t{1} << (pow_bits + 1 < 20 ? pow_bits + 1 : 20);
  uint8_t bytes[40] = {};
  const uint32_t magic = 0x12345678u;
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<uint8_t>(magic >> (8 * i));
  for (int i = 0; i < 32; ++i) bytes[4 + i] = digest.bytes[i];
  for (int i = 0; i < 4; ++i) bytes[36 + i] = static_cast<uint8_t>(pow_bits >> (8 * i));
  PowMessage msg{};
  for (int w = 0; w < 5; ++w)
    for (int b = 0; b < 8; ++b) msg.m[w] |= static_cast<uint64_t>(bytes[8 * w + b]) << (8 * b);
  DeviceBuffer<uint64_t> best(1);
  const unsigned blocks = grid_stride_blocks(nonces_per_launch, kThreads, 132 * 32);
  for (uint64_t first = 0;; first += nonces_per_launch) {
    best.memset(0xff, stream);
    PTVM_LAUNCH(f128_pow_grind_kernel, blocks, kThreads, 0, stream)(msg, pow_bits, first, nonces_per_launch,
                                                                    best.ptr());
    PTVM_CHECK_LAUNCH("f128_pow_grind_kernel");
#if defined(PTVM_HOSTSIM)
    hostsim::declare_kernel_ops("f128_pow_grind_kernel", nonces_per_launch * hostsim::kBlake2bCompressionOps);
#endif
    uint64_t result = 0;
    best.download(std::span<uint64_t>(&result, 1), stream);
    if (result != ~uint64_t{0}) return result;
    if (first > ~uint64_t{0} - 2 * nonces_per_launch)
      throw Error(ErrorCategory::Internal, "f128_pow_grind: nonce space exhausted");
  }
}

std::vector<uint32_t> gather_words(std::span<const DeviceWordRef> refs, stream_t stream) {
  if (refs.empty()) return {};
  DeviceBuffer<DeviceWordRef> table = DeviceBuffer<DeviceWordRef>::from_host(refs, stream);
  DeviceBuffer<uint32_t> out(refs.size());
  PTVM_LAUNCH(gather_words_kernel, grid_stride_blocks(refs.size(), kThreads), kThreads, 0, stream)(
      table.cptr(), refs.size(), out.ptr());
  PTVM_CHECK_LAUNCH("gather_words_kernel");
  return out.to_host(stream);
}

PTVM_GPU_NAMESPACE_END
