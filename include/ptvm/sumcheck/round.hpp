// The sumcheck round sum, written once (PTVM_HD) for the CPU backend and the kernels.
//
// A ProductShape describes g(x) = sum_t c_t * prod_{j in term t} f_j(x) over MLE factors f_j
// (a sum of products; degree = the longest product). For a round with m variables left and the
// tables of the f_j (2^m entries each), the round polynomial is
//   p(X) = sum_{x' in {0,1}^(m-1)} g(X, x'),   f_j(X, x') = lo_j + X (hi_j - lo_j),
// with lo_j = f_j[x'], hi_j = f_j[x' + 2^(m-1)] (mle.hpp's order). round_accumulate adds one
// x''s contribution to p(0), ..., p(degree). QM31 addition is exact, so any summation order (CPU
// loop, GPU tree reduction) gives the same bytes.
#pragma once
#include <cstdint>

#include "ptvm/common/hd.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::sumcheck {

struct ProductShape {
  static constexpr uint32_t kMaxFactors = 8;
  static constexpr uint32_t kMaxTerms = 8;
  static constexpr uint32_t kMaxDegree = 8;

  uint32_t n_factors = 0;
  uint32_t n_terms = 0;
  uint32_t term_masks[kMaxTerms] = {};  // bit j set: factor j is in term t
  QM31 term_coefficients[kMaxTerms] = {};

  PTVM_HD constexpr uint32_t degree() const {
    uint32_t d = 0;
    for (uint32_t t = 0; t < n_terms; ++t) {
      uint32_t bits = 0;
      for (uint32_t m = term_masks[t]; m != 0; m &= m - 1) ++bits;
      d = bits > d ? bits : d;
    }
    return d;
  }
  // The shape with one more factor (index n_factors) multiplying every term: how an eq(z, x)
  // factor enters the rounds.
  PTVM_HD constexpr ProductShape with_common_factor() const {
    ProductShape s = *this;
    for (uint32_t t = 0; t < n_terms; ++t) s.term_masks[t] |= 1u << n_factors;
    s.n_factors = n_factors + 1;
    return s;
  }
  // g at one point, from the factor values there.
  PTVM_HD constexpr QM31 evaluate(const QM31* factor_values) const {
    QM31 sum = QM31::zero();
    for (uint32_t t = 0; t < n_terms; ++t) {
      QM31 prod = term_coefficients[t];
      for (uint32_t j = 0; j < n_factors; ++j)
        if (term_masks[t] >> j & 1u) prod *= factor_values[j];
      sum += prod;
    }
    return sum;
  }
};

// g(X, x') for X = 0 .. n_points - 1, from lo[j] = f_j(0, x') and hi[j] = f_j(1, x').
PTVM_HD constexpr void round_point_values(const ProductShape& shape, uint32_t n_points, const QM31* lo,
                                          const QM31* hi, QM31* g) {
  QM31 value[ProductShape::kMaxFactors] = {};
  QM31 delta[ProductShape::kMaxFactors] = {};
  for (uint32_t j = 0; j < shape.n_factors; ++j) {
    value[j] = lo[j];
    delta[j] = hi[j] - lo[j];
  }
  for (uint32_t x = 0; x < n_points; ++x) {
    if (x > 0)
      for (uint32_t j = 0; j < shape.n_factors; ++j) value[j] += delta[j];
    g[x] = shape.evaluate(value);
  }
}

// evals[X] += g(X, x') for X = 0..degree.
PTVM_HD constexpr void round_accumulate(const ProductShape& shape, uint32_t degree, const QM31* lo,
                                        const QM31* hi, QM31* evals) {
  QM31 g[ProductShape::kMaxDegree + 1] = {};
  round_point_values(shape, degree + 1, lo, hi, g);
  for (uint32_t x = 0; x <= degree; ++x) evals[x] += g[x];
}

// evals[X] += weight * g(X, x') for X < n_points: the round sum of an eq-weighted sumcheck, the
// weight being eq(z_{i+1..}, x') (see eq_round_from_quotient).
PTVM_HD constexpr void round_accumulate_weighted(const ProductShape& shape, uint32_t n_points, const QM31* lo,
                                                 const QM31* hi, QM31 weight, QM31* evals) {
  QM31 g[ProductShape::kMaxDegree + 1] = {};
  round_point_values(shape, n_points, lo, hi, g);
  for (uint32_t x = 0; x < n_points; ++x) evals[x] += weight * g[x];
}

// The first round on M31 tables, before any challenge: at the integer points X = 0..n_points-1
// every f_j(X, x') = lo + X (hi - lo) is still in M31, so each term's product stays in the base
// field. products[X * n_terms + t] = prod_{j in term t} f_j(X, x') (the coefficients c_t, QM31,
// are applied once per round by the caller, after the sum over x').
PTVM_HD constexpr void round_term_products_base(const ProductShape& shape, uint32_t n_points, const M31* lo,
                                                const M31* hi, M31* products) {
  M31 value[ProductShape::kMaxFactors] = {};
  M31 delta[ProductShape::kMaxFactors] = {};
  for (uint32_t j = 0; j < shape.n_factors; ++j) {
    value[j] = lo[j];
    delta[j] = hi[j] - lo[j];
  }
  for (uint32_t x = 0; x < n_points; ++x) {
    if (x > 0)
      for (uint32_t j = 0; j < shape.n_factors; ++j) value[j] += delta[j];
    for (uint32_t t = 0; t < shape.n_terms; ++t) {
      M31 prod = M31::one();
      for (uint32_t j = 0; j < shape.n_factors; ++j)
        if (shape.term_masks[t] >> j & 1u) prod *= value[j];
      products[x * shape.n_terms + t] = prod;
    }
  }
}

// The eq factor of round i taken out of the sum (Gruen, "Some improvements for the PIOP for
// ZeroCheck", 2024, §3; the round polynomial itself is unchanged, so is the transcript): with
//   eq(z, (r_0..r_{i-1}, X, x')) = prefix * eq(z_i, X) * eq(z_{i+1..}, x'),
// prefix = prod_{j<i} eq(z_j, r_j), the round polynomial is p(X) = prefix * eq(z_i, X) * q(X),
// q(X) = sum_{x'} eq(z_{i+1..}, x') g(X, x') of degree D = the shape's degree. From q(0..D) this
// gives p(0..D+1): q(D+1) by the vanishing (D+1)-th difference,
//   q(D+1) = sum_{j<=D} (-1)^(D-j) C(D+1, j) q(j),
// and eq(z_i, t) = (1 - z_i) + t (2 z_i - 1).
PTVM_HD constexpr void eq_round_from_quotient(const QM31* q, uint32_t q_degree, QM31 z_i, QM31 prefix, QM31* p) {
  QM31 q_all[ProductShape::kMaxDegree + 2] = {};
  for (uint32_t j = 0; j <= q_degree; ++j) q_all[j] = q[j];
  QM31 next = QM31::zero();
  uint32_t binomial = 1;  // C(D+1, j), at most C(9, 4) = 126
  for (uint32_t j = 0; j <= q_degree; ++j) {
    const QM31 term = q[j] * M31::from_u32(binomial);
    next = ((q_degree - j) % 2 == 0) ? next + term : next - term;
    binomial = binomial * (q_degree + 1 - j) / (j + 1);
  }
  q_all[q_degree + 1] = next;
  const QM31 base = QM31::one() - z_i, slope = z_i + z_i - QM31::one();
  QM31 eq_at = base;
  for (uint32_t t = 0; t <= q_degree + 1; ++t) {
    p[t] = prefix * eq_at * q_all[t];
    eq_at += slope;
  }
}

}  // namespace ptvm::sumcheck
