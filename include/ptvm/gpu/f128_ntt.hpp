// Coset NTT over F128 on the device (kernels/ntt/f128_ntt.cu): the same transforms as
// ptvm::ntt::coset_evaluate_natural / coset_interpolate_natural, byte for byte.
//
// Orders: coefficients in the monomial basis; values in NATURAL order on offset * <w_n>
// (values[j] = f(offset * w_n^j), w_n = F128::primitive_root_of_unity(log n)).
//
// Structure (a first, correct version): twist by powers of the offset, bit-reversal permutation,
// then one radix-2 Cooley-Tukey pass per layer over global memory with a twiddle table uploaded
// per size. Not yet tiled in shared memory like the circle FFT (log n passes instead of two).
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>

#include "ptvm/field/f128.hpp"
#include "ptvm/gpu/config.hpp"
#include "ptvm/gpu/gptr.hpp"
#include "ptvm/gpu/runtime.hpp"

PTVM_GPU_NAMESPACE_BEGIN

// Powers of the primitive root of order 2^log_n (forward and inverse), in device memory.
struct DeviceNttRoots {
  uint32_t log_n = 0;
  DeviceBuffer<F128> powers, inverse_powers;  // w^j and w^-j, j < 2^(log_n - 1)
  static DeviceNttRoots upload(uint32_t log_n, stream_t stream = nullptr);
};

// values[0, 2^log_n) = f(offset * w^j) from n_coeffs <= 2^log_n coefficients (zero-padded).
// roots.log_n must equal log_n; throws ptvm::Error (Usage) otherwise.
void f128_coset_evaluate_natural(gptr<const F128> coeffs, size_t n_coeffs, gptr<F128> values,
                                 uint32_t log_n, F128 offset, const DeviceNttRoots& roots,
                                 stream_t stream);
// coeffs[0, 2^log_n) from natural-order values on offset * <w_n>; offset non-zero.
void f128_coset_interpolate_natural(gptr<const F128> values, gptr<F128> coeffs, uint32_t log_n,
                                    F128 offset, const DeviceNttRoots& roots, stream_t stream);

// Many columns of one transform size at once (kernels/ntt/f128_ntt_many.cu: blockIdx.y picks the
// column; log n + 3 launches per batch of up to 65535 columns). Same values as the one-column calls.
struct F128NttColumn {
  const F128* in;  // n_in values
  uint64_t n_in;
  F128* out;       // 2^log_n values; != in
};
// out = f(offset w^j), j < 2^log_n, from n_in <= 2^log_n coefficients; stored bit-reversed
// (position i holds f(offset w^bitrev(i))) when bit_reversed_output.
void f128_coset_evaluate_many(std::span<const F128NttColumn> columns, uint32_t log_n, F128 offset,
                              const DeviceNttRoots& roots, bool bit_reversed_output, stream_t stream);
// out = coefficients from natural-order values on offset <w_n> (n_in = 2^log_n).
void f128_coset_interpolate_many(std::span<const F128NttColumn> columns, uint32_t log_n, F128 offset,
                                 const DeviceNttRoots& roots, stream_t stream);

PTVM_GPU_NAMESPACE_END
