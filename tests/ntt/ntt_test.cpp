// F128 coset NTT: against naive O(n^2) evaluation at every size up to 2^10, round trips up to
// 2^16 (2^20 with PTVM_LARGE_TESTS=1), and the LDE.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "../field/field_test_util.hpp"
#include "ptvm/ntt/ntt.hpp"

using namespace ptvm;
using namespace ptvm::ntt;
using ptvm::test::FieldOps;
using ptvm::test::large_tests;
using ptvm::test::test_seed;

namespace {

std::vector<F128> random_f128s(std::mt19937_64& rng, size_t n) {
  std::vector<F128> v(n);
  for (auto& x : v) x = FieldOps<F128>::random(rng);
  return v;
}

F128 horner(const std::vector<F128>& coeffs, F128 x) {
  F128 acc = F128::zero();
  for (size_t i = coeffs.size(); i-- > 0;) acc = acc * x + coeffs[i];
  return acc;
}

}  // namespace

TEST(F128Ntt, MatchesNaiveEvaluationAtEverySizeUpTo1024) {
  std::mt19937_64 rng(test_seed());
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  for (uint32_t log = 0; log <= 10; ++log) {
    const size_t n = size_t{1} << log;
    const F128 w = F128::primitive_root_of_unity(log);
    for (F128 offset : {F128::one(), F128::generator(), FieldOps<F128>::random(rng)}) {
      const auto coeffs = random_f128s(rng, n);
      std::vector<F128> values(n);
      coset_evaluate_natural(coeffs, values, offset);
      F128 x = offset;
      for (size_t j = 0; j < n; ++j, x *= w) ASSERT_EQ(values[j], horner(coeffs, x)) << log << " " << j;
      // Interpolation recovers coefficients whose naive evaluation matches random values.
      const auto rand_values = random_f128s(rng, n);
      std::vector<F128> back(n);
      coset_interpolate_natural(rand_values, back, offset);
      x = offset;
      for (size_t j = 0; j < n; ++j, x *= w) ASSERT_EQ(horner(back, x), rand_values[j]) << log << " " << j;
    }
  }
}

TEST(F128Ntt, RoundTrips) {
  std::mt19937_64 rng(test_seed());
  SCOPED_TRACE("seed " + std::to_string(test_seed()));
  const uint32_t max_log = large_tests() ? 20 : 16;
  for (uint32_t log = 0; log <= max_log; log += (log < 12 ? 1 : 2)) {
    const auto coeffs = random_f128s(rng, size_t{1} << log);
    const F128 offset = F128::generator();
    std::vector<F128> values(coeffs.size()), back(coeffs.size());
    coset_evaluate_natural(coeffs, values, offset);
    coset_interpolate_natural(values, back, offset);
    ASSERT_EQ(back, coeffs) << "log " << log;
    // Spot check against Horner.
    const F128 w = F128::primitive_root_of_unity(log);
    for (int k = 0; k < 3; ++k) {
      const size_t j = rng() % values.size();
      ASSERT_EQ(values[j], horner(coeffs, offset * w.pow(j)));
    }
  }
}

TEST(F128Ntt, LdeExtendsLowDegreePolynomials) {
  std::mt19937_64 rng(test_seed());
  const F128 trace_offset = F128::one(), lde_offset = F128::generator();
  for (uint32_t log_blowup : {0u, 1u, 2u, 3u}) {
    std::vector<std::vector<F128>> coeffs, columns;
    for (uint32_t log : {0u, 1u, 4u, 7u}) {
      coeffs.push_back(random_f128s(rng, size_t{1} << log));
      std::vector<F128> v(coeffs.back().size());
      coset_evaluate_natural(coeffs.back(), v, trace_offset);
      columns.push_back(v);
    }
    for (unsigned threads : {1u, 2u}) {
      const auto ext = extend_columns_coset_natural(columns, log_blowup, trace_offset, lde_offset, threads);
      for (size_t c = 0; c < columns.size(); ++c) {
        ASSERT_EQ(ext[c].size(), columns[c].size() << log_blowup);
        std::vector<F128> back(ext[c].size());
        coset_interpolate_natural(ext[c], back, lde_offset);
        std::vector<F128> padded = coeffs[c];
        padded.resize(back.size(), F128::zero());
        ASSERT_EQ(back, padded) << c << " " << log_blowup;
      }
    }
  }
}

TEST(F128Ntt, BadInputsThrow) {
  std::vector<F128> v3(3), v4(4), v8(8);
  EXPECT_NO_THROW(coset_evaluate_natural(v3, v4, F128::one()));  // any degree below n is fine
  EXPECT_THROW(coset_evaluate_natural(v8, v4, F128::one()), Error);
  EXPECT_THROW(coset_evaluate_natural(v4, v3, F128::one()), Error);
  EXPECT_THROW(coset_interpolate_natural(v4, v8, F128::one()), Error);
  EXPECT_THROW(coset_interpolate_natural(v4, v4, F128::zero()), Error);
  EXPECT_THROW(extend_columns_coset_natural({v3}, 1, F128::one(), F128::generator()), Error);
}
