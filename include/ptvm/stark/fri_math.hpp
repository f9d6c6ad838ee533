// Formulas shared by prover backends and the verifier: FRI folds (PROTOCOL.md §6.3) and the
// DEEP quotient of a batch of columns sampled at one point (§5.3, §5.4). Header-only, PTVM_HD
// where a kernel needs them.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "ptvm/circle/point.hpp"
#include "ptvm/common/hd.hpp"
#include "ptvm/field/cm31.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::stark {

// Circle -> line fold of the conjugate pair f(p), f(-p) (unnormalized, no 1/2):
//   (f(p) + f(-p)) + alpha * (f(p) - f(-p)) / p.y
PTVM_HD inline QM31 fold_circle_pair(const QM31& f_p, const QM31& f_conj_p, M31 inv_p_y, const QM31& alpha) {
  return (f_p + f_conj_p) + alpha * ((f_p - f_conj_p) * inv_p_y);
}

// Line -> line fold of f(x), f(-x): (f(x) + f(-x)) + alpha * (f(x) - f(-x)) / x
PTVM_HD inline QM31 fold_line_pair(const QM31& f_x, const QM31& f_neg_x, M31 inv_x, const QM31& alpha) {
  return (f_x + f_neg_x) + alpha * ((f_x - f_neg_x) * inv_x);
}

// One batch of the DEEP quotient: columns f_1..f_m sampled at the same point P with values v_k.
//   N(q) = sum_k alpha^k * (c * f_k(q) - a_k * q.y - b_k),  with  a_k = sigma(v_k) - v_k,
//   c = sigma(P.y) - P.y,  b_k = v_k * c - a_k * P.y;   D(q) = (prx - q.x) piy - (pry - q.y) pix.
// The batch's value at q is N(q) / D(q); batches are combined by Horner with alpha^m.
struct DeepBatch {
  std::vector<QM31> column_coefficients;  // alpha^k * c, k = 1..m
  QM31 a_sum;                             // sum_k alpha^k a_k
  QM31 b_sum;                             // sum_k alpha^k b_k
  QM31 alpha_pow_m;                       // alpha^m: the Horner step to the next batch
  CM31 prx, pix, pry, piy;                // P.x = prx + u pix, P.y = pry + u piy

  static DeepBatch make(const circle::CirclePoint<QM31>& point, std::span<const QM31> values, const QM31& alpha) {
    DeepBatch b;
    const QM31 c = point.y.conj_u() - point.y;
    QM31 alpha_k = QM31::one();
    for (const QM31& v : values) {
      alpha_k = alpha_k * alpha;
      QM31 a = v.conj_u() - v;
      QM31 bk = v * c - a * point.y;
      b.column_coefficients.push_back(alpha_k * c);
      b.a_sum += alpha_k * a;
      b.b_sum += alpha_k * bk;
    }
    b.alpha_pow_m = alpha_k;
    b.prx = point.x.x0;
    b.pix = point.x.x1;
    b.pry = point.y.x0;
    b.piy = point.y.x1;
    return b;
  }

  PTVM_HD CM31 denominator(M31 qx, M31 qy) const { return (prx - qx) * piy - (pry - qy) * pix; }

  // The numerator at q from the columns' values there (same order as the values given to make).
  template <class GetValue>
  PTVM_HD QM31 numerator(M31 qy, GetValue&& column_value) const {
    QM31 acc = -(a_sum * qy) - b_sum;
    for (size_t k = 0; k < column_coefficients.size(); ++k) acc += column_coefficients[k] * column_value(k);
    return acc;
  }
};

}  // namespace ptvm::stark
