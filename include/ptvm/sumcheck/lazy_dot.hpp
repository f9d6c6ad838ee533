// Lazy M31 dot products for restricting an M31 matrix by QM31 weights (PTVM_HD: the CPU backend
// and the kernels share it). A product w * a of two canonical values is < 2^62; one fold
// (p & P) + (p >> 31) leaves a value < 2^32 congruent to it, so a u64 accumulator takes 2^32 such
// terms before it can overflow, and one reduction per output coordinate finishes the sum.
#pragma once
#include <cstdint>

#include "ptvm/common/hd.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::sumcheck {

// Terms one accumulator may take (dimensions above it are refused by the backends).
inline constexpr uint64_t kLazyDotMaxTerms = uint64_t{1} << 32;

PTVM_HD PTVM_FORCEINLINE constexpr uint64_t lazy_product(uint32_t w, uint32_t a) {
  const uint64_t p = static_cast<uint64_t>(w) * a;
  return (p & M31::P) + (p >> 31);
}

// acc[c] += weight.coord(c) * a for the four coordinates of a QM31 weight.
PTVM_HD PTVM_FORCEINLINE constexpr void lazy_accumulate(uint64_t acc[4], QM31 weight, M31 a) {
  acc[0] += lazy_product(weight.x0.a.v, a.v);
  acc[1] += lazy_product(weight.x0.b.v, a.v);
  acc[2] += lazy_product(weight.x1.a.v, a.v);
  acc[3] += lazy_product(weight.x1.b.v, a.v);
}

PTVM_HD PTVM_FORCEINLINE constexpr QM31 lazy_finish(const uint64_t acc[4]) {
  return QM31::from_m31(M31::from_u64(acc[0]), M31::from_u64(acc[1]), M31::from_u64(acc[2]),
                        M31::from_u64(acc[3]));
}

}  // namespace ptvm::sumcheck
