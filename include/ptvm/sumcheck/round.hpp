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

// evals[X] += g(X, x') for X = 0..degree, from lo[j] = f_j(0, x') and hi[j] = f_j(1, x').
PTVM_HD constexpr void round_accumulate(const ProductShape& shape, uint32_t degree, const QM31* lo,
                                        const QM31* hi, QM31* evals) {
  QM31 value[ProductShape::kMaxFactors] = {};
  QM31 delta[ProductShape::kMaxFactors] = {};
  for (uint32_t j = 0; j < shape.n_factors; ++j) {
    value[j] = lo[j];
    delta[j] = hi[j] - lo[j];
  }
  for (uint32_t x = 0; x <= degree; ++x) {
    if (x > 0)
      for (uint32_t j = 0; j < shape.n_factors; ++j) value[j] += delta[j];
    evals[x] += shape.evaluate(value);
  }
}

}  // namespace ptvm::sumcheck
