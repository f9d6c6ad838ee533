// Exact integer GEMMs for the witness of the matrix products (the zkML forward pass), and M31
// matrix products built from them by splitting the operands into int8 limbs.
//
//   C[i][j] = sum_l A[i][l] * Bt[j][l]
// with A (m x k), Bt (n x k: B given by columns, both operands k-contiguous) int8 row-major and C
// (m x n) int32 row-major. The sum is exact in int32 while k * 128^2 < 2^31, i.e. k < 2^17
// (k <= 2^17 also holds when no operand entry is -128: 127^2 2^17 < 2^31); engines refuse k >= 2^17.
//
// Engines: make_cpu_int8_gemm() (the reference, always there) and, on a GPU build,
// gpu::make_gpu_int8_gemm() (ptvm/gpu/int8_gemm.hpp: cuBLASLt int8 tensor cores on ptvm::cuda;
// under host-sim it is this CPU GEMM and its name() says so).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ptvm/field/m31.hpp"
#include "ptvm/sumcheck/matmul.hpp"

namespace ptvm::sumcheck {

inline constexpr size_t kInt8GemmMaxK = (size_t{1} << 17) - 1;

class Int8GemmEngine {
 public:
  virtual ~Int8GemmEngine() = default;
  virtual std::string name() const = 0;
  // Shapes as above; a, bt, c of m*k, n*k, m*n entries (Usage error otherwise, or k > kInt8GemmMaxK).
  virtual void gemm(std::span<const int8_t> a, std::span<const int8_t> bt, std::span<int32_t> c, size_t m,
                    size_t k, size_t n) = 0;
};

std::unique_ptr<Int8GemmEngine> make_cpu_int8_gemm();

// x written in n balanced base-256 digits, x = sum_{l<n} digits[l] 256^l with digits in
// [-128, 127]; false when x needs more than n (the limb split of every int8 product path).
inline bool split_balanced_int8(int64_t x, unsigned n, int8_t* digits) {
  for (unsigned l = 0; l < n; ++l) {
    const int64_t digit = ((x + 128) & 255) - 128;
    digits[l] = static_cast<int8_t>(digit);
    x = (x - digit) / 256;
  }
  return x == 0;
}

// The shape checks every engine makes (Usage errors naming `who`).
void check_int8_gemm_shape(std::span<const int8_t> a, std::span<const int8_t> bt, std::span<int32_t> c, size_t m,
                           size_t k, size_t n, const char* who);

// C = A B over M31 through int8 GEMMs: every entry is taken as its centred representative
// x in (-2^30, 2^30) and written in balanced base 256, x = sum_{l<4} d_l 256^l, d_l in [-128, 127];
// the 16 limb products A_l B_m are exact int8 GEMMs on `engine`, and C = sum_{l,m} 256^(l+m)
// A_l B_m mod p. k < 2^17. On tensor cores this trades one M31 product for 16 int8 ones.
std::vector<M31> multiply_m31_by_int8_limbs(const MatrixView& a, const MatrixView& b, Int8GemmEngine& engine);

}  // namespace ptvm::sumcheck
