// Succinct preprocessed columns (ptvm/air/succinct.hpp): the verifier's formula is the circle
// polynomial the prover gets by interpolating the row values, at trace points, at the row's own
// point (the x = x_r branch) and at random QM31 points; and a proof with boundary selectors commits
// none of them in tree 0.
#include <gtest/gtest.h>

#include <random>

#include "ptvm/air/succinct.hpp"
#include "ptvm/backend.hpp"
#include "ptvm/circle/fft.hpp"
#include "ptvm/circle/point.hpp"
#include "stark_test_util.hpp"

namespace ptvm::stark::testing {
namespace {

TEST(SuccinctColumns, FormulaIsTheInterpolantOfTheRowValues) {
  auto be = make_cpu_backend();
  std::mt19937_64 rng(8);
  auto qm31 = [&] {
    return QM31::from_u32(static_cast<uint32_t>(rng() % M31::P), static_cast<uint32_t>(rng() % M31::P),
                          static_cast<uint32_t>(rng() % M31::P), static_cast<uint32_t>(rng() % M31::P));
  };
  for (uint32_t log : {2u, 3u, 4u, 7u, 10u}) {
    const uint32_t n = 1u << log;
    for (uint32_t row : {0u, 1u, n / 2 - 1, n / 2, n - 2, n - 1}) {
      for (bool complement : {false, true}) {
        SCOPED_TRACE("log " + std::to_string(log) + " row " + std::to_string(row) + (complement ? " complement" : ""));
        const air::SuccinctColumn c{row, complement};
        const std::vector<M31> rows = air::succinct_column_rows(log, c);
        for (uint32_t j = 0; j < n; ++j)
          ASSERT_EQ(air::succinct_column_at<M31>(log, c, circle::CanonicCoset{log}.at(j)), rows[j]) << "row " << j;
        auto coeffs = be->interpolate(*be->upload_rows({rows}))->to_host(0);
        for (int k = 0; k < 4; ++k) {
          const circle::CirclePoint<QM31> p = circle::point_from_t(qm31());
          ASSERT_EQ(air::succinct_column_at<QM31>(log, c, p), circle::circle_eval_at_point<QM31>(coeffs, p)) << k;
        }
        // The conjugate (x_r, -y_r) shares the row's x (the formula's x = x_r branch) and is
        // another row's point, where the selector is 0.
        const auto pr = circle::CanonicCoset{log}.at(row);
        const circle::CirclePoint<M31> conj{pr.x, -pr.y};
        ASSERT_EQ(air::succinct_column_at<M31>(log, c, conj), circle::circle_eval_at_point<M31>(coeffs, conj));
      }
    }
  }
}

// A wrong formula would be caught: the selector of another row differs at a random point.
TEST(SuccinctColumns, DifferentRowsDiffer) {
  const circle::CirclePoint<QM31> p = circle::point_from_t(QM31::from_u32(5, 6, 7, 8));
  EXPECT_NE(air::succinct_column_at<QM31>(6, {3, false}, p), air::succinct_column_at<QM31>(6, {4, false}, p));
  EXPECT_EQ(air::succinct_column_at<QM31>(6, {3, true}, p),
            QM31::one() - air::succinct_column_at<QM31>(6, {3, false}, p));
}

// Boundary selectors are succinct: tree 0 of a wide-Fibonacci proof (one boundary row, no
// AIR-defined preprocessed columns) is empty, the proof verifies, and a tampered sample of a
// committed column elsewhere is still rejected.
TEST(SuccinctColumns, BoundarySelectorsAreNotCommitted) {
  Statement s = wide_fibonacci(6, 8);
  const auto& shape = s.air.components[0]->shape();
  ASSERT_EQ(shape.n_committed_preprocessed, 0u);
  ASSERT_EQ(shape.succinct.size(), shape.n_preprocessed_total);
  const Profile profile = profile_by_name("fast-test-insecure");
  StarkProof proof = prove_cpu(s, profile);
  EXPECT_TRUE(proof.sampled_values[kPreprocessedTree].empty());
  Verdict v = verify(s.air, s.public_inputs, proof, profile);
  EXPECT_TRUE(v.accepted) << v.reason;
  std::vector<M31> wrong = s.public_inputs;
  wrong[0] += M31::one();
  EXPECT_FALSE(verify(s.air, wrong, proof, profile).accepted);
}

}  // namespace
}  // namespace ptvm::stark::testing
