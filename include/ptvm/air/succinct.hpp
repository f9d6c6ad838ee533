// Succinct preprocessed columns: columns whose value at any point the verifier computes itself in
// O(log n) field operations, so they are not committed (not in tree 0) and cost the verifier
// nothing that grows with the trace. Each is the row selector of one trace row r (1 at row r, 0 on
// every other row) or its complement (1 - selector); the library's boundary selectors and an AIR's
// first-row / not-last-row gates are of this kind.
//
// The selector's circle polynomial (row r = CanonicCoset(n).at(r) = (x_r, y_r), n = 2^log_rows):
//   sel_r(x, y) = v(x) / (x - x_r) * (y + y_r) / (v'(x_r) * 2 y_r),   v = pi^(log_rows - 1)(x),
// v being the canonic coset's vanishing polynomial (every trace point's x is a root, each x twice:
// (x, y) and (x, -y)). v(x) / (x - x_r) vanishes on every trace point except p_r and its conjugate
// (x_r, -y_r), which (y + y_r) removes; y_r != 0 on a canonic coset. It has the form
// p(x) + y q(x) with deg p, q < n/2, the space the circle FFT interpolates into, so it IS the
// interpolant of the selector's row values: the prover's LDE of those rows and this formula agree
// everywhere (tests/stark/succinct_test.cpp checks both).
#pragma once
#include <cstdint>
#include <vector>

#include "ptvm/circle/domain.hpp"
#include "ptvm/circle/point.hpp"
#include "ptvm/common/hd.hpp"
#include "ptvm/field/m31.hpp"

namespace ptvm::air {

struct SuccinctColumn {
  uint32_t row = 0;         // the trace row the selector picks
  bool complement = false;  // 1 - selector (e.g. "not the last row")
  friend bool operator==(const SuccinctColumn&, const SuccinctColumn&) = default;
};

// The column's values in row order (2^log_rows of them).
inline std::vector<M31> succinct_column_rows(uint32_t log_rows, SuccinctColumn c) {
  std::vector<M31> rows(size_t{1} << log_rows, c.complement ? M31::one() : M31::zero());
  rows[c.row] = c.complement ? M31::zero() : M31::one();
  return rows;
}

// 1 / (v'(x_r) * 2 y_r), the selector's normalisation (M31; v'(x) = prod_{j < log_rows-1} 4 pi^j(x)).
PTVM_HD inline M31 row_selector_normalizer(uint32_t log_rows, uint32_t row) {
  const circle::CirclePoint<M31> pr = circle::CanonicCoset{log_rows}.at(row);
  M31 x = pr.x, d = pr.y + pr.y;
  for (uint32_t j = 0; j + 1 < log_rows; ++j) {
    d = d * M31::from_u32(4) * x;
    x = circle::CirclePoint<M31>::double_x(x);
  }
  return d.inverse();
}

// The column's value at a point p of the circle over F (QM31 at the OODS point, M31 on a domain).
// At a point with x = x_r (only p_r and its conjugate on the circle) v(x) / (x - x_r) is v'(x_r).
template <class F>
PTVM_HD inline F succinct_column_at(uint32_t log_rows, SuccinctColumn c, const circle::CirclePoint<F>& p) {
  const circle::CirclePoint<M31> pr = circle::CanonicCoset{log_rows}.at(c.row);
  const M31 normalizer = row_selector_normalizer(log_rows, c.row);
  const F dx = p.x - F(pr.x);
  F quotient;  // v(x) / (x - x_r)
  if (dx.is_zero()) {
    M31 x = pr.x, d = M31::one();
    for (uint32_t j = 0; j + 1 < log_rows; ++j) {
      d = d * M31::from_u32(4) * x;
      x = circle::CirclePoint<M31>::double_x(x);
    }
    quotient = F(d);
  } else {
    quotient = circle::canonic_vanishing(log_rows, p) * dx.inverse();
  }
  const F selector = quotient * (p.y + F(pr.y)) * F(normalizer);
  return c.complement ? F(M31::one()) - selector : selector;
}

}  // namespace ptvm::air
