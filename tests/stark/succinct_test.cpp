// Succinct preprocessed columns (ptvm/air/succinct.hpp): the verifier's formula is the circle
// polynomial the prover gets by interpolating the row values, at trace points, at the row's own
// point (the x = x_r branch) and at random QM31 points; and a proof with boundary selectors commits
// none of them in tree 0; the statement binds their rows.
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
        auto coeffs = be->interpolate(be->upload_rows({rows})).to_host(0);
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

// One main column, constant on every row (c' = c, the trace being cyclic), bound to pub[0] at
// `row`: a constant trace satisfies it for every row, so only the transcript tells the rows apart.
struct ConstantColumn {
  uint32_t log_rows = 4;
  uint32_t row = 0;
  air::ComponentInfo info() const {
    air::ComponentInfo i;
    i.name = "constant_column";
    i.log_rows = log_rows;
    i.n_main_columns = 1;
    i.max_constraint_degree = 2;
    i.boundary_constraints = {{0, row, 0}};
    return i;
  }
  template <class E>
  void evaluate(E& e) const {
    e.add_constraint(e.main(0, 1) - e.main(0, 0));
  }
};

// The statement binds the succinct columns' rows (tree 0 does not commit them): a proof made for
// the boundary at row 0 is rejected by the verifier of the same AIR with the boundary at row 1,
// although the trace satisfies both.
TEST(SuccinctColumns, TheirRowsAreBoundIntoTheTranscript) {
  auto statement = [](uint32_t row) {
    Statement s;
    s.air.components.push_back(air::make_component(ConstantColumn{4, row}));
    s.air.n_public_inputs = 1;
    s.public_inputs = {M31::from_u64(7)};
    s.traces.push_back({std::vector<M31>(16, M31::from_u64(7))});
    return s;
  };
  const Profile profile = profile_by_name("fast-test-insecure");
  const Statement at0 = statement(0), at1 = statement(1);
  const StarkProof proof = prove_cpu(at0, profile);
  const Verdict own = verify(at0.air, at0.public_inputs, proof, profile);
  EXPECT_TRUE(own.accepted) << own.reason;
  EXPECT_TRUE(verify(at1.air, at1.public_inputs, prove_cpu(at1, profile), profile).accepted);
  EXPECT_FALSE(verify(at1.air, at1.public_inputs, proof, profile).accepted);
}

}  // namespace
}  // namespace ptvm::stark::testing
