// The evaluators an AIR's constraint function runs against (stwo's "EvalAtRow" pattern).
//
// An AIR writes its transition constraints and LogUp fractions ONCE, as
//
//   template <class E> PTVM_HD void evaluate(E& e) const {
//     typename E::F a = e.main(0, 0), a_next = e.main(0, 1);      // column 0 at this row / next row
//     e.add_constraint(a_next - a * a);                            // must vanish on every row
//     e.add_fraction(/*relation=*/0, /*multiplicity=*/typename E::F(M31::one()), {a});
//   }
//
// and the library runs it with different E:
//   * CountingEval      (host)  learns the number of constraints and fractions;
//   * TraceFractionEval (host)  F = M31 on trace rows: the LogUp fractions (interaction trace);
//   * DomainEval        (host now, device later) F = M31 on the constraint-evaluation domain:
//                               the random linear combination of all constraints;
//   * PointEval         (verifier) F = QM31 at the OODS point: the same combination.
// E::F is the type of column values (M31 on a domain, QM31 at the OODS point), E::EF is QM31.
// Mask offsets are 0 (this row) and 1 (next row, cyclic). The sequence of calls an AIR makes
// must not depend on the values it reads (it is learned once by CountingEval).
//
// LogUp constraints (PROTOCOL.md §12.2, adapted to offsets {0, +1}): the fractions of a row are
// batched in pairs in call order; batch j < B-1 owns a QM31 interaction column c_j with
// c_j * D_j - N_j = 0. The last batch owns the running-sum column C with C(0) = 0 and
// C(r+1) = C(r) + rowtotal(r) - S/N, constrained as
//   (C(next) - C(this) - sum_{j<B-1} c_j + S/N) * D_last - N_last = 0,
// which closes cyclically iff the claimed sum S equals the sum of all fractions of the component.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ptvm/air/logup.hpp"
#include "ptvm/air/relation.hpp"
#include "ptvm/common/hd.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::air {

// Rebuilds a QM31 from its 4 coordinate columns: v0 + v1*i + v2*u + v3*(i*u).
template <class F>
PTVM_HD inline QM31 combine_coordinates(const F& v0, const F& v1, const F& v2, const F& v3) {
  return QM31(v0) + QM31::from_u32(0, 1, 0, 0) * v1 + QM31::from_u32(0, 0, 1, 0) * v2 +
         QM31::from_u32(0, 0, 0, 1) * v3;
}
template <>
PTVM_HD inline QM31 combine_coordinates<M31>(const M31& v0, const M31& v1, const M31& v2,
                                             const M31& v3) {
  return QM31::from_m31(v0, v1, v2, v3);
}

// Whether evaluator E keeps the constraints an AIR emits. The LogUp fraction passes (trace rows:
// TraceFractionEval, the packed and device ones) collect only add_fraction calls and declare
// `static constexpr bool kEvaluatesConstraints = false`; an AIR may skip, under `if constexpr`,
// reads that feed only constraints (its next-row reads), which such a pass would load and drop.
// Every other evaluator (CountingEval included: it learns the constraint order) keeps them.
template <class E>
PTVM_HD constexpr bool evaluates_constraints() {
  if constexpr (requires { E::kEvaluatesConstraints; }) {
    return E::kEvaluatesConstraints;
  } else {
    return true;
  }
}

// Pairs fractions (FractionPairer) and turns each batch into one constraint (see the header
// comment and ptvm/air/logup.hpp). Shared by every constraint evaluator, so that prover, verifier
// and device cannot disagree on the batching.
template <class E>
struct LogupBatcher {
  using EF = typename E::EF;
  FractionPairer<EF> pairer;
  EF previous_batches_sum;  // sum of c_j(this row) for the batches already emitted

  PTVM_HD PTVM_FORCEINLINE void add(E& e, const EF& num, const EF& den) {
    pairer.add(num, den, [&](uint32_t batch, const EF& n, const EF& d) { emit(e, batch, n, d); });
  }
  PTVM_HD PTVM_FORCEINLINE void finalize(E& e) {
    pairer.finish([&](uint32_t batch, const EF& n, const EF& d) { emit(e, batch, n, d); });
  }
  PTVM_HD PTVM_FORCEINLINE void emit(E& e, uint32_t batch, const EF& num, const EF& den) {
    if (batch + 1 < e.n_logup_batches()) {
      EF c = e.interaction(batch, 0);
      e.add_constraint(logup_batch_constraint(c, num, den));
      previous_batches_sum += c;
    } else {
      e.add_constraint(logup_last_batch_constraint(e.interaction(batch, 0), e.interaction(batch, 1),
                                                   previous_batches_sum, e.claimed_sum_per_row(), num, den));
    }
  }
};

// Counts what an AIR's evaluate() does. Values read are zero.
struct CountingEval {
  using F = M31;
  using EF = QM31;
  uint32_t n_constraints = 0;
  uint32_t n_fractions = 0;
  uint32_t max_main_column_plus_one = 0;
  uint32_t max_preprocessed_column_plus_one = 0;
  uint32_t max_relation_plus_one = 0;
  bool bad_offset = false;
  std::vector<bool> main_at_next, preprocessed_at_next;  // [column]: read at offset 1

  F main(uint32_t column, int offset) {
    if (column + 1 > max_main_column_plus_one) max_main_column_plus_one = column + 1;
    note_offset(main_at_next, column, offset);
    return F();
  }
  F preprocessed(uint32_t column, int offset) {
    if (column + 1 > max_preprocessed_column_plus_one) max_preprocessed_column_plus_one = column + 1;
    note_offset(preprocessed_at_next, column, offset);
    return F();
  }
  void note_offset(std::vector<bool>& at_next, uint32_t column, int offset) {
    if (offset != 0 && offset != 1) bad_offset = true;
    if (offset == 1) {
      if (at_next.size() <= column) at_next.resize(column + 1, false);
      at_next[column] = true;
    }
  }
  // The kind of every constraint the evaluators emit, in emission order: LogupBatcher emits a
  // LogUp constraint as soon as a pair of fractions completes, interleaved with the AIR's own.
  std::vector<bool> is_logup;  // AIR part only; boundary and the final odd batch come after

  template <class X>
  void add_constraint(const X&) {
    ++n_constraints;
    is_logup.push_back(false);
  }
  template <class Mult, size_t K>
  void add_fraction(uint32_t relation, const Mult&, const F (&)[K]) {
    ++n_fractions;
    if (n_fractions % 2 == 0) is_logup.push_back(true);
    if (relation + 1 > max_relation_plus_one) max_relation_plus_one = relation + 1;
  }
};

// Trace rows, row order (row j = CanonicCoset(n).at(j)): pairs the fractions of one row into its
// LogUp batches (FractionPairer) and stores each batch's numerator and denominator.
struct TraceFractionEval {
  using F = M31;
  using EF = QM31;
  const M31* const* preprocessed_columns;  // each 2^log_rows values in row order
  const M31* const* main_columns;
  const RelationChallenges* challenges;  // indexed by relation
  uint32_t log_rows;
  size_t row;
  QM31* numerators;    // n_logup_batches slots for this row
  QM31* denominators;  // n_logup_batches slots for this row
  FractionPairer<QM31> pairer;
  static constexpr bool kEvaluatesConstraints = false;

  size_t at(int offset) const { return (row + static_cast<size_t>(offset)) & ((size_t{1} << log_rows) - 1); }
  F main(uint32_t column, int offset) const { return main_columns[column][at(offset)]; }
  F preprocessed(uint32_t column, int offset) const { return preprocessed_columns[column][at(offset)]; }
  template <class X>
  void add_constraint(const X&) {}
  void store(uint32_t batch, const QM31& num, const QM31& den) {
    numerators[batch] = num;
    denominators[batch] = den;
  }
  template <class Mult, size_t K>
  void add_fraction(uint32_t relation, const Mult& multiplicity, const F (&values)[K]) {
    pairer.add(QM31(multiplicity), challenges[relation].combine(values),
               [&](uint32_t b, const QM31& n, const QM31& d) { store(b, n, d); });
  }
  void finish() {
    pairer.finish([&](uint32_t b, const QM31& n, const QM31& d) { store(b, n, d); });
  }
};

// Constraint-evaluation domain CanonicCoset(e), bit-reversed storage; one row at a time.
// The random linear combination uses coefficients[j] = alpha^(M-1-j_global) for this component's
// j-th constraint, so the sum over components is Horner's sum of PROTOCOL.md §4.3.
struct DomainEval {
  using F = M31;
  using EF = QM31;
  const M31* const* preprocessed_columns;  // each 2^e values, bit-reversed on CanonicCoset(e)
  const M31* const* main_columns;
  const M31* const* interaction_columns;   // 4 per LogUp batch (coordinates)
  const RelationChallenges* challenges;
  const QM31* coefficients;
  QM31 claimed_sum_over_rows;              // S / 2^log_rows
  uint32_t logup_batches;
  size_t position;       // storage position of this row
  size_t next_position;  // storage position of the next row
  QM31 accumulator;
  uint32_t next_constraint = 0;
  LogupBatcher<DomainEval> logup;

  PTVM_FORCEINLINE size_t at(int offset) const { return offset == 0 ? position : next_position; }
  PTVM_FORCEINLINE F main(uint32_t column, int offset) const { return main_columns[column][at(offset)]; }
  PTVM_FORCEINLINE F preprocessed(uint32_t column, int offset) const {
    return preprocessed_columns[column][at(offset)];
  }
  PTVM_FORCEINLINE QM31 interaction(uint32_t batch, int offset) const {
    size_t p = at(offset);
    const M31* const* c = interaction_columns + 4 * batch;
    return QM31::from_m31(c[0][p], c[1][p], c[2][p], c[3][p]);
  }
  uint32_t n_logup_batches() const { return logup_batches; }
  QM31 claimed_sum_per_row() const { return claimed_sum_over_rows; }
  PTVM_FORCEINLINE void add_constraint(const M31& c) { accumulator += coefficients[next_constraint++] * c; }
  void add_constraint(const QM31& c) { accumulator += coefficients[next_constraint++] * c; }
  template <class Mult, size_t K>
  void add_fraction(uint32_t relation, const Mult& multiplicity, const F (&values)[K]) {
    logup.add(*this, QM31(multiplicity), challenges[relation].combine(values));
  }
};

// A single point over QM31 (the verifier's OODS point): column values are the sampled values.
struct PointEval {
  using F = QM31;
  using EF = QM31;
  const QM31* preprocessed_samples;  // [column * 2 + offset]
  const QM31* main_samples;          // [column * 2 + offset]
  const QM31* interaction_samples;   // [(4 * batch + coordinate) * 2 + offset]
  const RelationChallenges* challenges;
  const QM31* coefficients;
  QM31 claimed_sum_over_rows;
  uint32_t logup_batches;
  QM31 accumulator;
  uint32_t next_constraint = 0;
  LogupBatcher<PointEval> logup;

  F main(uint32_t column, int offset) const { return main_samples[column * 2 + offset]; }
  F preprocessed(uint32_t column, int offset) const { return preprocessed_samples[column * 2 + offset]; }
  QM31 interaction(uint32_t batch, int offset) const {
    const QM31* s = interaction_samples + 8 * batch + offset;
    return combine_coordinates(s[0], s[2], s[4], s[6]);
  }
  uint32_t n_logup_batches() const { return logup_batches; }
  QM31 claimed_sum_per_row() const { return claimed_sum_over_rows; }
  void add_constraint(const QM31& c) { accumulator += coefficients[next_constraint++] * c; }
  template <class Mult, size_t K>
  void add_fraction(uint32_t relation, const Mult& multiplicity, const F (&values)[K]) {
    logup.add(*this, QM31(multiplicity), challenges[relation].combine(values));
  }
};

}  // namespace ptvm::air
