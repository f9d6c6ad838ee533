// Radix-2 NTT over F128 on multiplicative cosets (the classic STARK's LDE, "statement-v1").
//
// Orders: coefficients are in the monomial basis, f(x) = sum_i c_i x^i; values are in NATURAL
// order on the coset offset * <w_n>: values[j] = f(offset * w_n^j), with w_n =
// F128::primitive_root_of_unity(log n). The butterflies are PTVM_HD for kernel reuse; the
// transforms over whole columns are host functions in host/ntt/ntt.cpp.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/common/hd.hpp"
#include "ptvm/field/f128.hpp"

namespace ptvm::ntt {

// Cooley-Tukey (decimation in time): (a, b) <- (a + w b, a - w b).
PTVM_HD PTVM_FORCEINLINE void ct_butterfly(F128& a, F128& b, F128 w) {
  const F128 wb = b * w;
  b = a - wb;
  a = a + wb;
}

// values[j] = f(offset * w_n^j), n = values.size() (a power of two <= 2^119);
// coeffs.size() <= n, any length (the rest is zero). Throws ptvm::Error(Usage) on bad sizes.
void coset_evaluate_natural(std::span<const F128> coeffs, std::span<F128> values, F128 offset);
// The exact inverse: coefficients c_0..c_{n-1} from values[j] = f(offset * w_n^j) (natural order);
// coeffs.size() == values.size(). offset must be non-zero.
void coset_interpolate_natural(std::span<const F128> values, std::span<F128> coeffs, F128 offset);

// Low-degree extension of columns given by their values on trace_offset * <w_n> (natural order,
// n >= 1 a power of two per column) to lde_offset * <w_{n 2^log_blowup}> (natural order).
// n_threads = 0: std::thread::hardware_concurrency(). Checks every column before any work.
std::vector<std::vector<F128>> extend_columns_coset_natural(
    const std::vector<std::vector<F128>>& values, uint32_t log_blowup, F128 trace_offset,
    F128 lde_offset, unsigned n_threads = 0);

}  // namespace ptvm::ntt
