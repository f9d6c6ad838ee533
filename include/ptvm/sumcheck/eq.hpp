// The equality polynomial eq(x, y) = prod_i (x_i y_i + (1 - x_i)(1 - y_i)), the MLE of
// [x == y] on the hypercube, and its table eq(r, .) over {0,1}^n in the order of mle.hpp
// (r_0 pairs with the most significant index bit).
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/common/hd.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::sumcheck {

// One factor of eq: x y + (1 - x)(1 - y) = 1 - x - y + 2 x y.
PTVM_HD constexpr QM31 eq_factor(QM31 x, QM31 y) {
  const QM31 xy = x * y;
  return QM31::one() - x - y + xy + xy;
}

inline QM31 eq_eval(std::span<const QM31> x, std::span<const QM31> y) {
  if (x.size() != y.size())
    throw Error(ErrorCategory::Usage, "eq_eval: points of " + std::to_string(x.size()) + " and " +
                                          std::to_string(y.size()) + " coordinates");
  QM31 acc = QM31::one();
  for (size_t i = 0; i < x.size(); ++i) acc *= eq_factor(x[i], y[i]);
  return acc;
}

// One doubling step of the table, written once for the CPU and the kernels: from the table of
// eq(r_0..r_{k-1}, .) (entry j), the entries 2j and 2j + 1 of eq(r_0..r_k, .) are t*(1 - r_k) and
// t*r_k; one multiplication per new entry.
PTVM_HD constexpr void eq_expand_pair(QM31 t, QM31 r, QM31* even, QM31* odd) {
  const QM31 hi = t * r;
  *odd = hi;
  *even = t - hi;
}

// scale * eq(r, x) for every x in {0,1}^n, n = r.size(): 2^n entries, 2^n QM31 multiplications.
inline std::vector<QM31> eq_table(std::span<const QM31> r, QM31 scale = QM31::one()) {
  if (r.size() > 40) throw Error(ErrorCategory::Usage, "eq_table: more than 40 variables");
  std::vector<QM31> table(size_t{1} << r.size());
  table[0] = scale;
  size_t len = 1;
  for (size_t k = 0; k < r.size(); ++k) {
    // In place from the top, so entry j is read before entries 2j, 2j + 1 are written.
    for (size_t j = len; j-- > 0;) eq_expand_pair(table[j], r[k], &table[2 * j], &table[2 * j + 1]);
    len *= 2;
  }
  return table;
}

}  // namespace ptvm::sumcheck
