// MLEs, eq tables and the product sumcheck against brute force; prove -> verify -> tamper.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "ptvm/sumcheck/eq.hpp"
#include "ptvm/sumcheck/mle.hpp"
#include "ptvm/sumcheck/sumcheck.hpp"
#include "random_values.hpp"

namespace ptvm::sumcheck {
namespace {

using test::random_qm31;
using test::random_m31;


// The MLE by its definition: sum_x f[x] eq(point, bits(x)).
QM31 mle_by_definition(const std::vector<QM31>& table, const std::vector<QM31>& point) {
  const size_t n = point.size();
  QM31 sum = QM31::zero();
  for (size_t x = 0; x < table.size(); ++x) {
    QM31 w = QM31::one();
    for (size_t i = 0; i < n; ++i) {
      const bool bit = (x >> (n - 1 - i)) & 1;
      w *= bit ? point[i] : QM31::one() - point[i];
    }
    sum += w * table[x];
  }
  return sum;
}

TEST(Mle, EvaluationMatchesDefinitionAndHypercube) {
  std::mt19937_64 rng(1);
  for (unsigned n = 0; n <= 6; ++n) {
    auto table = random_qm31(size_t{1} << n, rng);
    auto point = random_qm31(n, rng);
    EXPECT_EQ(evaluate_mle<QM31>(table, point), mle_by_definition(table, point)) << "n=" << n;
    // On a hypercube vertex the MLE is the table entry (first variable = top index bit).
    for (size_t x = 0; x < table.size(); ++x) {
      std::vector<QM31> vertex(n);
      for (unsigned i = 0; i < n; ++i) vertex[i] = QM31(M31::from_u32((x >> (n - 1 - i)) & 1));
      ASSERT_EQ(evaluate_mle<QM31>(table, vertex), table[x]);
    }
  }
}

TEST(Mle, FixFirstVariableAndM31Tables) {
  std::mt19937_64 rng(2);
  auto base = random_m31(32, rng);
  std::vector<QM31> lifted(base.begin(), base.end());
  for (size_t i = 0; i < base.size(); ++i) lifted[i] = QM31(base[i]);
  auto point = random_qm31(5, rng);
  auto fixed = fix_first_variable<M31>(base, point[0]);
  ASSERT_EQ(fixed.size(), 16u);
  std::vector<QM31> rest(point.begin() + 1, point.end());
  EXPECT_EQ(evaluate_mle<QM31>(fixed, rest), mle_by_definition(lifted, point));
  EXPECT_EQ(evaluate_mle<M31>(base, point), mle_by_definition(lifted, point));
  EXPECT_THROW(fix_first_variable<M31>(std::vector<M31>(3), point[0]), Error);
  EXPECT_THROW(evaluate_mle<M31>(base, rest), Error);
}

TEST(Eq, TableMatchesProductFormula) {
  std::mt19937_64 rng(3);
  for (unsigned n = 0; n <= 7; ++n) {
    auto r = random_qm31(n, rng);
    const QM31 scale = random_qm31(1, rng)[0];
    auto table = eq_table(r, scale);
    ASSERT_EQ(table.size(), size_t{1} << n);
    for (size_t x = 0; x < table.size(); ++x) {
      std::vector<QM31> vertex(n);
      for (unsigned i = 0; i < n; ++i) vertex[i] = QM31(M31::from_u32((x >> (n - 1 - i)) & 1));
      ASSERT_EQ(table[x], scale * eq_eval(r, vertex)) << "n=" << n << " x=" << x;
    }
    // The MLE of the eq table is eq itself: MLE(eq(r, .))(s) = eq(r, s).
    auto s = random_qm31(n, rng);
    EXPECT_EQ(evaluate_mle<QM31>(eq_table(r), s), eq_eval(r, s));
  }
}

TEST(RoundPolynomial, InterpolationRecoversValues) {
  std::mt19937_64 rng(4);
  for (size_t d = 0; d <= 8; ++d) {
    auto values = random_qm31(d + 1, rng);
    RoundPolynomial p{coefficients_from_evaluations(values)};
    ASSERT_EQ(p.coefficients.size(), d + 1);
    for (size_t x = 0; x <= d; ++x)
      EXPECT_EQ(p.evaluate(QM31(M31::from_u32(uint32_t(x)))), values[x]) << "d=" << d << " x=" << x;
  }
}

ProductShape shape_of(std::vector<std::pair<QM31, uint32_t>> terms, uint32_t n_factors) {
  ProductShape s;
  s.n_factors = n_factors;
  s.n_terms = uint32_t(terms.size());
  for (size_t t = 0; t < terms.size(); ++t) {
    s.term_coefficients[t] = terms[t].first;
    s.term_masks[t] = terms[t].second;
  }
  return s;
}

struct Case {
  const char* name;
  ProductShape shape;
  bool with_eq;
};

std::vector<Case> cases() {
  const QM31 one = QM31::one();
  const QM31 c = QM31::from_u32(7, 11, 13, 17);
  return {
      {"degree2 a*b", shape_of({{one, 0b11}}, 2), false},
      {"degree2 a*b with eq", shape_of({{one, 0b11}}, 2), true},
      {"degree3 a*b*c", shape_of({{one, 0b111}}, 3), false},
      {"degree3 eq*(a*b + c*a*b)", shape_of({{one, 0b011}, {c, 0b111}}, 3), true},
      {"logup-like eq*(p0 q1 + p1 q0 + l q0 q1)", shape_of({{one, 0b1001}, {one, 0b0110}, {c, 0b1010}}, 4), true},
      {"degree1 sum", shape_of({{one, 0b1}}, 1), false},
  };
}

TEST(Sumcheck, ClaimIsBruteForceSumAndProofVerifies) {
  for (const Case& cs : cases())
    for (unsigned n = 1; n <= 7; ++n) {
      std::mt19937_64 rng(100 + n);
      std::vector<std::vector<QM31>> tables;
      for (uint32_t j = 0; j < cs.shape.n_factors; ++j) tables.push_back(random_qm31(size_t{1} << n, rng));
      std::vector<QM31> z = cs.with_eq ? random_qm31(n, rng) : std::vector<QM31>{};
      // Brute force: sum over the hypercube of eq(z, x) * g(x) evaluated term by term.
      QM31 brute = QM31::zero();
      for (size_t x = 0; x < (size_t{1} << n); ++x) {
        QM31 g = QM31::zero();
        for (uint32_t t = 0; t < cs.shape.n_terms; ++t) {
          QM31 prod = cs.shape.term_coefficients[t];
          for (uint32_t j = 0; j < cs.shape.n_factors; ++j)
            if (cs.shape.term_masks[t] >> j & 1) prod *= tables[j][x];
          g += prod;
        }
        if (cs.with_eq) {
          std::vector<QM31> vertex(n);
          for (unsigned i = 0; i < n; ++i) vertex[i] = QM31(M31::from_u32((x >> (n - 1 - i)) & 1));
          g *= eq_eval(z, vertex);
        }
        brute += g;
      }
      EXPECT_EQ(product_sum<QM31>(cs.shape, z, tables), brute) << cs.name << " n=" << n;

      Blake2sChannel prover_channel;
      auto out = prove_product_sumcheck<QM31>(cs.shape, z, tables, prover_channel);
      EXPECT_EQ(out.claim, brute) << cs.name;
      Blake2sChannel verifier_channel;
      auto verdict = verify_product_sumcheck(cs.shape, n, z, brute, out.proof, verifier_channel);
      ASSERT_TRUE(verdict.accepted) << cs.name << " n=" << n << ": " << verdict.reason;
      EXPECT_EQ(verdict.point, out.point);
      EXPECT_EQ(verifier_channel.digest(), prover_channel.digest()) << cs.name;
      // The final values are the MLEs at the point: the claims the caller discharges.
      for (uint32_t j = 0; j < cs.shape.n_factors; ++j)
        EXPECT_EQ(verdict.final_values[j], evaluate_mle<QM31>(tables[j], verdict.point)) << cs.name;
    }
}

TEST(Sumcheck, M31TablesGiveTheSameTranscriptAsLiftedOnes) {
  std::mt19937_64 rng(5);
  std::vector<std::vector<M31>> base = {random_m31(64, rng), random_m31(64, rng)};
  std::vector<std::vector<QM31>> lifted(2);
  for (int j = 0; j < 2; ++j)
    for (M31 v : base[j]) lifted[j].push_back(QM31(v));
  const ProductShape s = shape_of({{QM31::one(), 0b11}}, 2);
  Blake2sChannel c1, c2;
  auto a = prove_product_sumcheck<M31>(s, {}, base, c1);
  auto b = prove_product_sumcheck<QM31>(s, {}, lifted, c2);
  EXPECT_EQ(c1.digest(), c2.digest());
  EXPECT_EQ(a.point, b.point);
}

// Every coefficient of every round polynomial, every final value and the claim, tampered, is
// rejected with a reason; so are wrong lengths.
TEST(Sumcheck, TamperedProofsAreRejected) {
  const Case cs = cases()[3];  // degree 3 with eq
  const unsigned n = 4;
  std::mt19937_64 rng(6);
  std::vector<std::vector<QM31>> tables;
  for (uint32_t j = 0; j < cs.shape.n_factors; ++j) tables.push_back(random_qm31(size_t{1} << n, rng));
  auto z = random_qm31(n, rng);
  Blake2sChannel pc;
  auto out = prove_product_sumcheck<QM31>(cs.shape, z, tables, pc);
  auto verify = [&](const ProductSumcheckProof& proof, QM31 claim) {
    Blake2sChannel vc;
    return verify_product_sumcheck(cs.shape, n, z, claim, proof, vc);
  };
  ASSERT_TRUE(verify(out.proof, out.claim).accepted);
  const QM31 delta = QM31::from_u32(1, 0, 0, 0);
  size_t rejected = 0, total = 0;
  for (size_t i = 0; i < out.proof.sumcheck.rounds.size(); ++i)
    for (size_t k = 0; k < out.proof.sumcheck.rounds[i].coefficients.size(); ++k)
      for (int coord = 0; coord < 4; ++coord) {
        auto bad = out.proof;
        QM31 d = QM31::from_u32(coord == 0, coord == 1, coord == 2, coord == 3);
        bad.sumcheck.rounds[i].coefficients[k] += d;
        auto v = verify(bad, out.claim);
        ++total;
        if (!v.accepted && !v.reason.empty()) ++rejected;
      }
  EXPECT_EQ(rejected, total);
  for (size_t j = 0; j < out.proof.final_values.size(); ++j) {
    auto bad = out.proof;
    bad.final_values[j] += delta;
    auto v = verify(bad, out.claim);
    EXPECT_FALSE(v.accepted);
    EXPECT_NE(v.reason.find("final values"), std::string::npos) << v.reason;
  }
  EXPECT_FALSE(verify(out.proof, out.claim + delta).accepted);
  {
    // The same value written non-canonically (p instead of 0 is never a valid coordinate).
    auto bad = out.proof;
    bad.sumcheck.rounds[0].coefficients[0] =
        QM31::from_m31(M31::raw(M31::P), bad.sumcheck.rounds[0].coefficients[0].coord(1),
                       bad.sumcheck.rounds[0].coefficients[0].coord(2), bad.sumcheck.rounds[0].coefficients[0].coord(3));
    auto v = verify(bad, out.claim);
    EXPECT_FALSE(v.accepted);
    EXPECT_NE(v.reason.find("canonical"), std::string::npos) << v.reason;
  }
  {
    auto bad = out.proof;
    bad.sumcheck.rounds.pop_back();
    auto v = verify(bad, out.claim);
    EXPECT_FALSE(v.accepted);
    EXPECT_NE(v.reason.find("round polynomials"), std::string::npos) << v.reason;
  }
  {
    auto bad = out.proof;
    bad.sumcheck.rounds[1].coefficients.push_back(QM31::zero());
    EXPECT_FALSE(verify(bad, out.claim).accepted);
  }
  {
    auto bad = out.proof;
    bad.final_values.clear();
    EXPECT_FALSE(verify(bad, out.claim).accepted);
  }
  // A false claim proven honestly from the tables fails in round 0.
  const QM31 wrong = out.claim + delta;
  Blake2sChannel pc2;
  auto lie = prove_product_sumcheck<QM31>(cs.shape, z, tables, pc2, default_sumcheck_backend(), &wrong);
  auto v = verify(lie.proof, wrong);
  EXPECT_FALSE(v.accepted);
  EXPECT_NE(v.reason.find("round 0"), std::string::npos) << v.reason;
}

TEST(Sumcheck, MalformedStatementIsRejectedNotThrown) {
  ProductShape bad;  // no factors
  Blake2sChannel c;
  ProductSumcheckProof proof;
  auto v = verify_product_sumcheck(bad, 3, {}, QM31::zero(), proof, c);
  EXPECT_FALSE(v.accepted);
  EXPECT_FALSE(v.reason.empty());
}

}  // namespace
}  // namespace ptvm::sumcheck
