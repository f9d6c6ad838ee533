// Multilinear extensions (MLEs) over the boolean hypercube {0,1}^n, given by evaluation tables.
//
// Order (the API): a table of 2^n values holds f(x_0, ..., x_{n-1}) at index
//   sum_i x_i * 2^(n-1-i),
// so x_0, the FIRST variable, is the MOST significant bit of the index. Fixing the first variable
// therefore combines the two contiguous halves of the table (coalesced on a GPU):
//   f(r, x') = lo + r * (hi - lo),  lo = table[x'], hi = table[x' + 2^(n-1)].
// Tables start in M31 (witness values) and are QM31 after the first challenge.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "ptvm/common/error.hpp"
#include "ptvm/common/hd.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::sumcheck {

// The line through (0, lo) and (1, hi) at r; one formula for the CPU backend, the kernels and the
// verifier. An M31 pair costs 4 base multiplications instead of a QM31 product.
PTVM_HD constexpr QM31 fold_pair(M31 lo, M31 hi, QM31 r) { return r * (hi - lo) + lo; }
PTVM_HD constexpr QM31 fold_pair(QM31 lo, QM31 hi, QM31 r) { return r * (hi - lo) + lo; }

// Whether every coordinate is canonical (< p): verifiers refuse proof values that are not, so
// that no two encodings of one proof verify.
inline bool all_canonical(std::span<const QM31> values) {
  for (const QM31& v : values)
    for (int c = 0; c < 4; ++c)
      if (!M31::is_canonical(v.coord(c).v)) return false;
  return true;
}

PTVM_HD constexpr QM31 to_qm31(M31 x) { return QM31(x); }
PTVM_HD constexpr QM31 to_qm31(QM31 x) { return x; }

// log2 of a table size that must be a power of two (1 = 2^0 is a table of no variables).
inline unsigned log2_table_size(size_t size, const char* what) {
  if (size == 0 || (size & (size - 1)) != 0)
    throw Error(ErrorCategory::Usage, std::string(what) + ": table size " + std::to_string(size) +
                                          " is not a power of two");
  unsigned log = 0;
  while ((size_t{1} << log) < size) ++log;
  return log;
}

// f(r, x') for every x' in {0,1}^(n-1): the table with its first variable fixed to r.
template <class F>
std::vector<QM31> fix_first_variable(std::span<const F> table, QM31 r) {
  const unsigned n = log2_table_size(table.size(), "fix_first_variable");
  if (n == 0) throw Error(ErrorCategory::Usage, "fix_first_variable: the table has no variable left");
  const size_t half = table.size() / 2;
  std::vector<QM31> out(half);
  for (size_t i = 0; i < half; ++i) out[i] = fold_pair(table[i], table[i + half], r);
  return out;
}

// f(point) in O(2^n) by fixing the variables one after another (point.size() == n).
template <class F>
QM31 evaluate_mle(std::span<const F> table, std::span<const QM31> point) {
  const unsigned n = log2_table_size(table.size(), "evaluate_mle");
  if (point.size() != n)
    throw Error(ErrorCategory::Usage, "evaluate_mle: point has " + std::to_string(point.size()) +
                                          " coordinates for a table of " + std::to_string(n) +
                                          " variables");
  if (n == 0) return to_qm31(table[0]);
  std::vector<QM31> current = fix_first_variable(table, point[0]);
  for (unsigned i = 1; i < n; ++i) {
    const size_t half = current.size() / 2;
    for (size_t j = 0; j < half; ++j) current[j] = fold_pair(current[j], current[j + half], point[i]);
    current.resize(half);
  }
  return current[0];
}

// evaluate_mle of an M31 table, the same value, as eq(z_hi)^T M eq(z_lo) with M the table as a
// 2^h x 2^(n - h) matrix (h = n / 2; z_hi the first h coordinates): two eq tables of ~2^(n/2)
// entries instead of a 2^(n-1)-entry fold, each row a lazy M31 dot product with eq(z_lo) (one
// reduction per row), row ranges on the library's pool (threads 0: PTVM_THREADS; field sums,
// so the same value for any thread count). Host only (host/sumcheck/mle.cpp).
QM31 evaluate_mle_by_rows(std::span<const M31> table, std::span<const QM31> point, unsigned threads = 0);

}  // namespace ptvm::sumcheck
