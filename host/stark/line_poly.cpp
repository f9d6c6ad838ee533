#include "ptvm/stark/line_poly.hpp"

#include "ptvm/common/error.hpp"

namespace ptvm::stark {
namespace {

// values[r] = f(x_r) with x_r = domain point at bit-reversed position r; positions 2i, 2i+1 hold
// x and -x. Writes coefficients to out (natural order).
void interpolate_rec(std::vector<QM31> values, circle::LineDomain domain, std::span<QM31> out) {
  const size_t n = values.size();
  if (n == 1) {
    out[0] = values[0];
    return;
  }
  const uint32_t log_n = domain.log_size();
  const M31 inv_two = M31::from_u32(2).inverse();
  std::vector<QM31> even(n / 2), odd(n / 2);
  for (size_t i = 0; i < n / 2; ++i) {
    M31 x = domain.at(circle::bit_reverse_index(2 * i, log_n));
    QM31 a = values[2 * i], b = values[2 * i + 1];
    even[i] = (a + b) * inv_two;
    odd[i] = (a - b) * (x.doubled().inverse());
  }
  std::vector<QM31> ce(n / 2), co(n / 2);
  interpolate_rec(std::move(even), domain.doubled(), ce);
  interpolate_rec(std::move(odd), domain.doubled(), co);
  for (size_t k = 0; k < n / 2; ++k) {
    out[2 * k] = ce[k];
    out[2 * k + 1] = co[k];
  }
}

QM31 evaluate_rec(std::span<const QM31> c, const QM31& x, size_t stride, size_t offset, size_t n) {
  if (n == 1) return c[offset];
  QM31 px = x * x + x * x - QM31::one();
  return evaluate_rec(c, px, stride * 2, offset, n / 2) + x * evaluate_rec(c, px, stride * 2, offset + stride, n / 2);
}

}  // namespace

std::vector<QM31> line_interpolate_bitrev(std::span<const QM31> values, const circle::LineDomain& domain) {
  if (values.size() != domain.size())
    throw Error(ErrorCategory::Internal, "line_interpolate_bitrev: values do not match the domain size");
  std::vector<QM31> out(values.size());
  interpolate_rec(std::vector<QM31>(values.begin(), values.end()), domain, out);
  return out;
}

QM31 line_evaluate(std::span<const QM31> coefficients, const QM31& x) {
  if (coefficients.empty()) return QM31::zero();
  return evaluate_rec(coefficients, x, 1, 0, coefficients.size());
}

}  // namespace ptvm::stark
