// LogUp's protocol math, written once for every place that needs it: the CPU backend's
// interaction trace, the device kernels (ptvm/gpu/device_air.cuh), the constraint evaluators of
// prover and verifier (ptvm/air/eval.hpp) and the packed CPU evaluators (ptvm/air/packed.hpp).
// PROTOCOL.md §12.2 gives the construction:
//   * a row's fractions num/den are paired in call order, n0/d0 + n1/d1 = (n0 d1 + n1 d0)/(d0 d1);
//     an odd last fraction forms a batch of its own;
//   * batch j < B-1 of a row is stored in its own QM31 interaction column, c_j = N_j / D_j;
//   * the last batch owns the running-sum column C(r) = sum_{r' < r} rowtotal(r') - r * S/N, where
//     S is the claimed sum of the component and N = 2^log_rows (so C(0) = 0 and the column closes
//     cyclically exactly when S is the sum of all fractions).
// EF is QM31 for one row at a time, or a packed QM31 (16 rows) on the CPU.
#pragma once
#include <cstddef>
#include <cstdint>

#include "ptvm/common/hd.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::air {

// Pairs the fractions of one row as they come and hands each finished batch to a sink:
// sink(batch_index, numerator, denominator). The sequence of batches depends only on the number of
// fractions, never on their values.
template <class EF>
struct FractionPairer {
  EF pending_num, pending_den;
  bool has_pending = false;
  uint32_t next_batch = 0;

  template <class Sink>
  PTVM_HD PTVM_FORCEINLINE void add(const EF& num, const EF& den, Sink&& sink) {
    if (!has_pending) {
      pending_num = num;
      pending_den = den;
      has_pending = true;
      return;
    }
    has_pending = false;
    sink(next_batch++, pending_num * den + num * pending_den, pending_den * den);
  }
  // The odd last fraction, if any, is a batch of its own.
  template <class Sink>
  PTVM_HD PTVM_FORCEINLINE void finish(Sink&& sink) {
    if (has_pending) {
      has_pending = false;
      sink(next_batch++, pending_num, pending_den);
    }
  }
};

// S / N: the share of the claimed sum each of the 2^log_rows rows subtracts in the running column.
PTVM_HD inline QM31 logup_sum_per_row(const QM31& claimed_sum, uint32_t log_rows) {
  return claimed_sum * M31::from_u32(1u << log_rows).inverse();
}

// C(r) from the sum of the row totals of rows [0, r).
PTVM_HD PTVM_FORCEINLINE QM31 logup_running_value(const QM31& totals_before_row, size_t row, const QM31& sum_per_row) {
  return totals_before_row - sum_per_row * M31::from_u64(row);
}

// The constraint of batch `batch` of B at a row (c = the batch's column at this row; for the
// last batch C and C_next are the running column at this row and the next, and `previous` is the
// sum of this row's c_j, j < B-1):
//   j < B-1:  c_j * D_j - N_j
//   j = B-1:  (C_next - C - previous + S/N) * D_last - N_last
template <class EF>
PTVM_HD PTVM_FORCEINLINE EF logup_batch_constraint(const EF& column_value, const EF& num, const EF& den) {
  return column_value * den - num;
}
// (SumT is QM31 for the circle STARK, F128 for the F128 STARK, where EF is F128 too.)
template <class EF, class SumT>
PTVM_HD PTVM_FORCEINLINE EF logup_last_batch_constraint(const EF& running, const EF& running_next, const EF& previous,
                                                       const SumT& sum_per_row, const EF& num, const EF& den) {
  return (running_next - running - previous + sum_per_row) * den - num;
}

}  // namespace ptvm::air
