// The int8 GEMM reference against an int64 triple loop (including the extreme entries and the
// k bound), and M31 products on int8 limbs against multiply_m31.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ptvm/sumcheck/int8_gemm.hpp"
#include "ptvm/sumcheck/matmul.hpp"

namespace ptvm::sumcheck {
namespace {

TEST(Int8Gemm, MatchesWideReferenceAtTheExtremes) {
  auto engine = make_cpu_int8_gemm();
  std::mt19937_64 rng(1);
  for (auto [m, k, n] : {std::array<size_t, 3>{1, 1, 1}, {3, 5, 2}, {8, 64, 4}, {4, 1000, 3}}) {
    std::vector<int8_t> a(m * k), bt(n * k);
    for (auto& x : a) x = int8_t(rng() % 256 - 128);
    for (auto& x : bt) x = int8_t(rng() % 256 - 128);
    a[0] = -128;
    bt[0] = -128;
    std::vector<int32_t> c(m * n);
    engine->gemm(a, bt, c, m, k, n);
    for (size_t i = 0; i < m; ++i)
      for (size_t j = 0; j < n; ++j) {
        int64_t s = 0;
        for (size_t l = 0; l < k; ++l) s += int64_t(a[i * k + l]) * bt[j * k + l];
        ASSERT_EQ(c[i * n + j], s) << m << "x" << k << "x" << n;
      }
  }
  // The worst case at the largest k accepted is still exact: (-128)^2 (2^17 - 1) < 2^31.
  const size_t k = kInt8GemmMaxK;
  std::vector<int8_t> a(k, -128), bt(k, -128);
  std::vector<int32_t> c(1);
  engine->gemm(a, bt, c, 1, k, 1);
  EXPECT_EQ(int64_t(c[0]), int64_t(16384) * int64_t(k));
  std::vector<int8_t> too_long(k + 1, 1);
  EXPECT_THROW(engine->gemm(too_long, too_long, c, 1, k + 1, 1), Error);
  EXPECT_THROW(engine->gemm(a, bt, c, 1, k, 2), Error);  // bt too short for n = 2
}

TEST(Int8Gemm, M31ProductsOnLimbsMatchTheFieldProduct) {
  auto engine = make_cpu_int8_gemm();
  std::mt19937_64 rng(2);
  for (auto [m, k, n] : {std::array<size_t, 3>{1, 1, 1}, {4, 16, 1}, {8, 32, 8}, {2, 256, 3}}) {
    std::vector<M31> a(m * k), b(k * n);
    for (auto& x : a) x = M31::from_u64(rng());
    for (auto& x : b) x = M31::from_u64(rng());
    // The extreme residues: 0, 1, p - 1, (p - 1) / 2, (p + 1) / 2.
    const uint32_t extremes[] = {0, 1, M31::P - 1, M31::P / 2, M31::P / 2 + 1};
    for (size_t i = 0; i < 5 && i < a.size(); ++i) a[i] = M31::raw(extremes[i]);
    for (size_t i = 0; i < 5 && i < b.size(); ++i) b[b.size() - 1 - i] = M31::raw(extremes[i]);
    const MatrixView av{a, m, k}, bv{b, k, n};
    EXPECT_EQ(multiply_m31_by_int8_limbs(av, bv, *engine), multiply_m31(av, bv)) << m << "x" << k << "x" << n;
  }
}

}  // namespace
}  // namespace ptvm::sumcheck
