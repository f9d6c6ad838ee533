// Coset NTT over F128 (declared in ptvm/gpu/f128_ntt.hpp): twist, bit-reversal, radix-2
// Cooley-Tukey layers with the shared PTVM_HD butterfly of ptvm/ntt/ntt.hpp.
#include <string>
#include <vector>

#include "../common/field_access.cuh"
#include "ptvm/circle/domain.hpp"
#include "ptvm/gpu/f128_ntt.hpp"
#include "ptvm/ntt/ntt.hpp"
#if defined(PTVM_HOSTSIM)
#include "ptvm/gpu/hostsim/profile.hpp"
#endif

namespace ptvm::kernels {
namespace {

constexpr unsigned kThreads = 256;

// data[i] = in[i] * scale * offset^i for i < n_in, 0 for n_in <= i < n.
__global__ void twist_kernel(gptr<const F128> in, size_t n_in, gptr<F128> out, size_t n,
                             F128 offset, F128 scale) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count()) {
    const F128 v = i < n_in ? in.load(i) : F128::zero();
    out.store(i, v * scale * offset.pow(i));
  }
}

// out[bitrev(i)] = in[i] (out != in).
__global__ void bit_reverse_kernel(gptr<const F128> in, gptr<F128> out, size_t n, uint32_t log_n) {
  for (size_t i = grid_thread_index(); i < n; i += grid_thread_count())
    out.store(circle::bit_reverse_index(i, log_n), in.load(i));
}

// Layer with butterfly half-size `half`: pairs (b * 2 half + j, + half), twiddle w_{2 half}^j =
// powers[j * (n / (2 half))].
__global__ void ct_layer_kernel(gptr<F128> data, gptr<const F128> powers, size_t n, size_t half) {
  const size_t stride = n / (2 * half);
  for (size_t t = grid_thread_index(); t < n / 2; t += grid_thread_count()) {
    const size_t j = t % half, base = (t / half) * 2 * half + j;
    F128 a = data.load(base), b = data.load(base + half);
    ntt::ct_butterfly(a, b, powers.load(j * stride));
    data.store(base, a);
    data.store(base + half, b);
  }
}

void check(uint32_t log_n, const gpu::DeviceNttRoots& roots, const char* fn) {
  if (log_n > 30 || roots.log_n != log_n)
    throw Error(ErrorCategory::Usage, std::string(fn) + ": transform of log " +
                                          std::to_string(log_n) + " with roots of log " +
                                          std::to_string(roots.log_n));
}

// Bit-reversal into `out`, then the layers in place.
void ntt_natural(gptr<const F128> in, gptr<F128> out, uint32_t log_n,
                 gptr<const F128> powers, gpu::stream_t stream) {
  const size_t n = size_t{1} << log_n;
  const unsigned blocks = gpu::grid_stride_blocks(n, kThreads);
  PTVM_LAUNCH(bit_reverse_kernel, blocks, kThreads, 0, stream)(in, out, n, log_n);
  PTVM_CHECK_LAUNCH("bit_reverse_kernel");
  for (size_t half = 1; half < n; half *= 2) {
    PTVM_LAUNCH(ct_layer_kernel, gpu::grid_stride_blocks(n / 2, kThreads), kThreads, 0, stream)(
        out, powers, n, half);
    PTVM_CHECK_LAUNCH("ct_layer_kernel");
  }
#if defined(PTVM_HOSTSIM)
  hostsim::declare_kernel_ops("ct_layer_kernel", n / 2 * log_n * hostsim::kF128MulOps);  // one per butterfly
#endif
}

// The twist's multiplications: offset^i by square-and-multiply (about 2 log2 n) and two more.
void declare_twist_ops(size_t n, uint32_t log_n) {
#if defined(PTVM_HOSTSIM)
  hostsim::declare_kernel_ops("twist_kernel", n * (2 * uint64_t{log_n} + 2) * hostsim::kF128MulOps);
#else
  (void)n;
  (void)log_n;
#endif
}

}  // namespace
}  // namespace ptvm::kernels

PTVM_GPU_NAMESPACE_BEGIN
using namespace ::ptvm::kernels;

DeviceNttRoots DeviceNttRoots::upload(uint32_t log_n, stream_t stream) {
  if (log_n > 30)
    throw Error(ErrorCategory::Usage, "DeviceNttRoots::upload: log_n " + std::to_string(log_n) +
                                          " above 30");
  const size_t half = log_n == 0 ? 1 : size_t{1} << (log_n - 1);
  const F128 w = F128::primitive_root_of_unity(log_n), w_inv = w.inverse();
  std::vector<F128> p(half), q(half);
  F128 a = F128::one(), b = F128::one();
  for (size_t j = 0; j < half; ++j) {
    p[j] = a;
    q[j] = b;
    a *= w;
    b *= w_inv;
  }
  DeviceNttRoots r;
  r.log_n = log_n;
  r.powers = DeviceBuffer<F128>::from_host(p, stream);
  r.inverse_powers = DeviceBuffer<F128>::from_host(q, stream);
  return r;
}

void f128_coset_evaluate_natural(gptr<const F128> coeffs, size_t n_coeffs, gptr<F128> values,
                                 uint32_t log_n, F128 offset, const DeviceNttRoots& roots,
                                 stream_t stream) {
  check(log_n, roots, "f128_coset_evaluate_natural");
  const size_t n = size_t{1} << log_n;
  if (n_coeffs > n)
    throw Error(ErrorCategory::Usage, "f128_coset_evaluate_natural: " + std::to_string(n_coeffs) +
                                          " coefficients for " + std::to_string(n) + " values");
  StageScope stage("f128_coset_evaluate_natural", 2 * n * sizeof(F128));
  DeviceBuffer<F128> twisted(n);
  PTVM_LAUNCH(twist_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(
      coeffs, n_coeffs, twisted.ptr(), n, offset, F128::one());
  PTVM_CHECK_LAUNCH("twist_kernel");
  declare_twist_ops(n, log_n);
  ntt_natural(twisted.cptr(), values, log_n, roots.powers.cptr(), stream);
  synchronize(stream);  // `twisted` dies here
}

void f128_coset_interpolate_natural(gptr<const F128> values, gptr<F128> coeffs, uint32_t log_n,
                                    F128 offset, const DeviceNttRoots& roots, stream_t stream) {
  check(log_n, roots, "f128_coset_interpolate_natural");
  if (offset.is_zero())
    throw Error(ErrorCategory::Usage, "f128_coset_interpolate_natural: zero coset offset");
  const size_t n = size_t{1} << log_n;
  StageScope stage("f128_coset_interpolate_natural", 2 * n * sizeof(F128));
  DeviceBuffer<F128> spectrum(n);
  ntt_natural(values, spectrum.ptr(), log_n, roots.inverse_powers.cptr(), stream);
  // c_i = (1/n) offset^-i * (inverse DFT)_i
  const F128 n_inv = F128::from_u64(n).inverse();
  PTVM_LAUNCH(twist_kernel, grid_stride_blocks(n, kThreads), kThreads, 0, stream)(
      spectrum.cptr(), n, coeffs, n, offset.inverse(), n_inv);
  PTVM_CHECK_LAUNCH("twist_kernel");
  declare_twist_ops(n, log_n);
  synchronize(stream);
}

PTVM_GPU_NAMESPACE_END
