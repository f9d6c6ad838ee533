// Line polynomials over QM31 for the FRI last layer (PROTOCOL.md §6.5).
//
// Basis (natural coefficient order k): prod_i (pi^i(x))^{k_i}, i.e. 1, x, pi(x), x*pi(x), pi^2(x), ...
// with pi(x) = 2x^2 - 1. f(x) = f_even(pi(x)) + x * f_odd(pi(x)), f_even/f_odd taking the even/odd
// coefficients: the same split the FRI line fold uses, so a folded layer stays in this basis.
// Unlike stwo, coefficients are stored in natural (not bit-reversed) order.
#pragma once
#include <span>
#include <vector>

#include "ptvm/circle/domain.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::stark {

// values: bit-reversed evaluations on `domain` (position r is domain.at(bitrev(r))), length
// domain.size(); returns domain.size() coefficients in natural order.
std::vector<QM31> line_interpolate_bitrev(std::span<const QM31> values, const circle::LineDomain& domain);

// sum_k coefficients[k] * basis_k(x); coefficients.size() must be a power of two (or 0 -> 0).
QM31 line_evaluate(std::span<const QM31> coefficients, const QM31& x);

}  // namespace ptvm::stark
