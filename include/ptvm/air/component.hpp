// ptvm's AIR interface: components (one trace each, its own power-of-two size) and the Air that
// groups several components and their shared LogUp relations into one proof.
//
// An AIR type T written by a user provides
//   ComponentInfo info() const;                                   // sizes, columns, boundaries
//   template <class E> PTVM_HD void evaluate(E& e) const;         // see ptvm/air/eval.hpp
//   std::vector<std::vector<M31>> preprocessed_columns() const;   // optional: row order, one per
//                                                                 // info().n_preprocessed_columns
// and is wrapped by make_component(T{...}). Column kinds:
//   * preprocessed: fixed by the AIR and its size (the verifier recomputes their commitment);
//     the library appends one selector column per distinct boundary row. Succinct ones
//     (ptvm/air/succinct.hpp: row selectors and their complements, the boundary selectors and the
//     AIR's ComponentInfo::succinct_columns) are not committed: the verifier evaluates them itself
//     at the OODS point, so its cost does not grow with the trace;
//   * main: the witness, given to the prover in row order;
//   * interaction: the LogUp columns, built by the prover from the fractions (4 M31 per batch).
// Boundary constraints "main column c at row r equals public input k" become
// selector_r * (main_c - public_k), evaluated after the AIR's own constraints.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "ptvm/air/eval.hpp"
#include "ptvm/air/relation.hpp"
#include "ptvm/air/succinct.hpp"
#include "ptvm/common/error.hpp"
#include "ptvm/field/batch_inverse.hpp"
#include "ptvm/field/m31.hpp"
#include "ptvm/field/qm31.hpp"

namespace ptvm::air {

struct BoundaryConstraint {
  uint32_t main_column = 0;
  uint32_t row = 0;
  uint32_t public_input = 0;  // index into the proof's public inputs
};

struct ComponentInfo {
  std::string name;
  uint32_t log_rows = 0;                // 2^log_rows rows; the trace is cyclic (next of last = 0)
  uint32_t n_main_columns = 0;
  uint32_t n_preprocessed_columns = 0;  // AIR-defined ones (selectors are appended after them)
  // The last succinct_columns.size() of the AIR-defined preprocessed columns are succinct (not
  // committed; the AIR's preprocessed_columns() still returns their row values, checked against
  // these descriptions).
  std::vector<SuccinctColumn> succinct_columns;
  uint32_t max_constraint_degree = 2;   // of any constraint, LogUp batches count as 3
  std::vector<BoundaryConstraint> boundary_constraints;
};

// What the library learns from info() and one CountingEval pass.
enum class ConstraintKind : uint8_t { Air, Boundary, Logup };

struct ComponentShape {
  uint32_t n_air_constraints = 0;
  uint32_t n_fractions = 0;
  uint32_t n_logup_batches = 0;                // ceil(n_fractions / 2)
  std::vector<uint32_t> selector_rows;         // distinct boundary rows, ascending
  uint32_t n_preprocessed_total = 0;           // AIR-defined + selectors
  // Columns [0, n_committed_preprocessed) are committed in tree 0; the others, succinct[i] for
  // column n_committed_preprocessed + i, are evaluated by the verifier (the AIR's succinct
  // columns, then the boundary selectors).
  uint32_t n_committed_preprocessed = 0;
  std::vector<SuccinctColumn> succinct;
  uint32_t n_interaction_columns() const { return 4 * n_logup_batches; }
  uint32_t n_boundary_constraints = 0;
  uint32_t n_relations_referenced = 0;         // 1 + the largest relation index used
  uint32_t n_constraints() const { return n_air_constraints + n_boundary_constraints + n_logup_batches; }
  // The kind of constraint j in evaluation order (the order of the composition coefficients):
  // the AIR's constraints interleaved with a LogUp constraint per completed pair of fractions, in
  // call order; then the boundary constraints; then the last, odd LogUp batch if any.
  std::vector<ConstraintKind> constraint_kinds;
  // log2 of (constraint-evaluation domain / trace domain): degree <= 2^k + 1 needs k (§4.2).
  uint32_t log_constraint_extension = 1;
  // The composition's inputs read at the next row (mask offset 1), ascending, indexed over
  // [preprocessed (n_preprocessed_total) | main (n_main_columns) | interaction (4 per batch)]:
  // the AIR's own next-row reads (learned by CountingEval) and the LogUp running sum (the last
  // batch's 4 coordinates). A sharded backend exchanges only these columns' next rows.
  std::vector<uint32_t> next_row_inputs;
};

// Columns on the constraint-evaluation domain, for DomainEval.
struct DomainColumns {
  uint32_t log_size = 0;                      // e: CanonicCoset(e), bit-reversed storage
  std::vector<const M31*> preprocessed;       // n_preprocessed_total
  std::vector<const M31*> main;               // n_main_columns
  std::vector<const M31*> interaction;        // 4 * n_logup_batches
  const uint32_t* next_position = nullptr;    // storage position -> position of the next row
};

// Sampled values at the OODS point P (offset 0) and at P + step (offset 1).
struct PointSamples {
  std::vector<QM31> preprocessed;  // [column * 2 + offset]
  std::vector<QM31> main;
  std::vector<QM31> interaction;   // [(4 * batch + coordinate) * 2 + offset]
};

// Type-erased component. The evaluation entry points are what the CPU backend and the verifier
// loop over; a device backend instantiates the AIR's template evaluate() in its own kernel.
class Component {
 public:
  virtual ~Component() = default;
  const ComponentInfo& info() const { return info_; }
  const ComponentShape& shape() const { return shape_; }
  uint32_t log_rows() const { return info_.log_rows; }

  // The AIR's preprocessed columns followed by the boundary selectors, row order.
  std::vector<std::vector<M31>> all_preprocessed_columns() const {
    std::vector<std::vector<M31>> cols = air_preprocessed_columns();
    if (cols.size() != info_.n_preprocessed_columns)
      throw Error(ErrorCategory::Internal, "component '" + info_.name + "': preprocessed_columns() returned " +
                                               std::to_string(cols.size()) + " columns, info says " +
                                               std::to_string(info_.n_preprocessed_columns));
    for (auto& c : cols)
      if (c.size() != (size_t{1} << info_.log_rows))
        throw Error(ErrorCategory::Internal, "component '" + info_.name + "': preprocessed column of wrong length");
    for (uint32_t i = shape_.n_committed_preprocessed; i < info_.n_preprocessed_columns; ++i)
      if (cols[i] != succinct_column_rows(info_.log_rows, shape_.succinct[i - shape_.n_committed_preprocessed]))
        throw Error(ErrorCategory::Internal, "component '" + info_.name + "': preprocessed column " +
                                                 std::to_string(i) + " differs from its succinct description");
    for (uint32_t row : shape_.selector_rows) cols.push_back(succinct_column_rows(info_.log_rows, {row, false}));
    return cols;
  }
  // The committed ones (tree 0): the first n_committed_preprocessed of all_preprocessed_columns().
  // A component without committed columns computes none (the verifier's cost stays polylog).
  std::vector<std::vector<M31>> committed_preprocessed_columns() const {
    if (shape_.n_committed_preprocessed == 0) return {};
    std::vector<std::vector<M31>> cols = all_preprocessed_columns();
    cols.resize(shape_.n_committed_preprocessed);
    return cols;
  }

  // The LogUp batches of rows [row_begin, row_end) (the row's fractions paired in call order,
  // ptvm/air/logup.hpp): numerators/denominators[(row - row_begin) * n_logup_batches + j].
  virtual void trace_batches(std::span<const M31* const> preprocessed, std::span<const M31* const> main,
                             std::span<const RelationChallenges> challenges, size_t row_begin,
                             size_t row_end, QM31* numerators, QM31* denominators) const = 0;

  // The LogUp interaction of rows [row_begin, row_end) (ptvm/air/logup.hpp): every batch's value
  // N_j / D_j; batches j < B-1 go to their four coordinate columns batch_columns[4 j + k][row]
  // (row order, absolute rows), and the sum of all B values to row_totals[row - row_begin].
  // Returns the first row with a zero batch denominator (SIZE_MAX when there is none); the
  // outputs are then incomplete.
  virtual size_t interaction_rows(std::span<const M31* const> preprocessed, std::span<const M31* const> main,
                                  std::span<const RelationChallenges> challenges, size_t row_begin, size_t row_end,
                                  M31* const* batch_columns, QM31* row_totals) const = 0;

  // out[pos] = (sum_j coefficients[j] * C_j(row at pos)) * inv_vanishing[pos >> log_rows]
  // for storage positions [begin, end) of the domain; out is 4 coordinate arrays.
  virtual void composition_on_domain(const DomainColumns& columns, std::span<const M31> public_inputs,
                                     std::span<const RelationChallenges> challenges,
                                     std::span<const QM31> coefficients, QM31 claimed_sum,
                                     std::span<const M31> inv_vanishing, size_t begin, size_t end,
                                     M31* const out[4]) const = 0;

  // sum_j coefficients[j] * C_j(P) from the sampled values (not divided by the vanishing poly).
  virtual QM31 composition_at_point(const PointSamples& samples, std::span<const M31> public_inputs,
                                    std::span<const RelationChallenges> challenges,
                                    std::span<const QM31> coefficients, QM31 claimed_sum) const = 0;

 protected:
  virtual std::vector<std::vector<M31>> air_preprocessed_columns() const = 0;
  ComponentInfo info_;
  ComponentShape shape_;
};

// The entries of `inputs` (one per composition input, in order: preprocessed, main, interaction)
// that the constraints read at the next row (shape().next_row_inputs); every entry when `inputs`
// does not have the shape's count.
template <class T>
std::vector<T> next_row_inputs(const Component& component, const std::vector<T>& inputs) {
  const ComponentShape& shape = component.shape();
  if (inputs.size() != size_t{shape.n_preprocessed_total} + component.info().n_main_columns +
                           shape.n_interaction_columns())
    return inputs;
  std::vector<T> out;
  for (uint32_t i : shape.next_row_inputs) out.push_back(inputs[i]);
  return out;
}

template <class T>
concept HasPreprocessedColumns = requires(const T& t) {
  { t.preprocessed_columns() } -> std::convertible_to<std::vector<std::vector<M31>>>;
};

template <class AirT>
class ComponentAdapter;

// A host-only evaluator of composition_on_domain that handles a prefix of [begin, end) (16
// positions at a time on the CPU, ptvm/air/packed_composition.hpp) and returns where the
// one-position loop goes on. make_component passes it; a ComponentAdapter compiled by nvcc (which
// the device backend only inspects, never constructs) has the same definition everywhere.
template <class AirT>
using PackedCompositionFn = size_t (*)(const ComponentAdapter<AirT>& component, const DomainColumns& columns,
                                       std::span<const M31> public_inputs,
                                       std::span<const RelationChallenges> challenges,
                                       std::span<const QM31> coefficients, QM31 sum_per_row,
                                       std::span<const M31> inv_vanishing, size_t begin, size_t end,
                                       M31* const out[4]);

// The same for interaction_rows: handles a prefix of [row_begin, row_end), returns where the
// one-row path goes on, or the first row with a zero denominator (through *zero_row).
template <class AirT>
using PackedInteractionFn = size_t (*)(const ComponentAdapter<AirT>& component, std::span<const M31* const> preprocessed,
                                       std::span<const M31* const> main,
                                       std::span<const RelationChallenges> challenges, size_t row_begin,
                                       size_t row_end, M31* const* batch_columns, QM31* row_totals,
                                       size_t* zero_row);

template <class AirT>
class ComponentAdapter final : public Component {
 public:
  explicit ComponentAdapter(AirT air, PackedCompositionFn<AirT> packed = nullptr,
                            PackedInteractionFn<AirT> packed_interaction = nullptr)
      : air_(std::move(air)), packed_(packed), packed_interaction_(packed_interaction) {
    info_ = air_.info();
    const std::string& name = info_.name;
    if (info_.log_rows < 2 || info_.log_rows > 26)
      throw Error(ErrorCategory::Usage, "component '" + name + "': log_rows " +
                                            std::to_string(info_.log_rows) + " outside [2, 26]");
    if (info_.max_constraint_degree < 1 || info_.max_constraint_degree > 9)
      throw Error(ErrorCategory::Usage, "component '" + name + "': max_constraint_degree outside [1, 9]");
    CountingEval counter;
    air_.evaluate(counter);
    if (counter.bad_offset)
      throw Error(ErrorCategory::Usage, "component '" + name + "': mask offsets must be 0 or 1");
    if (counter.max_main_column_plus_one > info_.n_main_columns)
      throw Error(ErrorCategory::Usage, "component '" + name + "': evaluate() reads main column " +
                                            std::to_string(counter.max_main_column_plus_one - 1) +
                                            " of " + std::to_string(info_.n_main_columns));
    if (counter.max_preprocessed_column_plus_one > info_.n_preprocessed_columns)
      throw Error(ErrorCategory::Usage, "component '" + name + "': evaluate() reads an undeclared preprocessed column");
    shape_.n_air_constraints = counter.n_constraints;
    shape_.n_fractions = counter.n_fractions;
    shape_.n_logup_batches = (counter.n_fractions + 1) / 2;
    shape_.n_relations_referenced = counter.max_relation_plus_one;
    for (const auto& b : info_.boundary_constraints) {
      if (b.row >= (1u << info_.log_rows) || b.main_column >= info_.n_main_columns)
        throw Error(ErrorCategory::Usage, "component '" + name + "': boundary constraint out of range");
      shape_.selector_rows.push_back(b.row);
    }
    std::sort(shape_.selector_rows.begin(), shape_.selector_rows.end());
    shape_.selector_rows.erase(std::unique(shape_.selector_rows.begin(), shape_.selector_rows.end()),
                               shape_.selector_rows.end());
    shape_.n_boundary_constraints = static_cast<uint32_t>(info_.boundary_constraints.size());
    for (bool logup : counter.is_logup)
      shape_.constraint_kinds.push_back(logup ? ConstraintKind::Logup : ConstraintKind::Air);
    shape_.constraint_kinds.insert(shape_.constraint_kinds.end(), shape_.n_boundary_constraints, ConstraintKind::Boundary);
    if (counter.n_fractions % 2 == 1) shape_.constraint_kinds.push_back(ConstraintKind::Logup);
    shape_.n_preprocessed_total = info_.n_preprocessed_columns + static_cast<uint32_t>(shape_.selector_rows.size());
    if (info_.succinct_columns.size() > info_.n_preprocessed_columns)
      throw Error(ErrorCategory::Usage, "component '" + name + "': more succinct than preprocessed columns");
    for (const auto& c : info_.succinct_columns)
      if (c.row >= (1u << info_.log_rows))
        throw Error(ErrorCategory::Usage, "component '" + name + "': succinct column row out of range");
    shape_.n_committed_preprocessed = info_.n_preprocessed_columns - static_cast<uint32_t>(info_.succinct_columns.size());
    shape_.succinct = info_.succinct_columns;
    for (uint32_t row : shape_.selector_rows) shape_.succinct.push_back({row, false});
    for (uint32_t c = 0; c < counter.preprocessed_at_next.size(); ++c)
      if (counter.preprocessed_at_next[c]) shape_.next_row_inputs.push_back(c);
    for (uint32_t c = 0; c < counter.main_at_next.size(); ++c)
      if (counter.main_at_next[c]) shape_.next_row_inputs.push_back(shape_.n_preprocessed_total + c);
    if (shape_.n_logup_batches > 0)
      for (uint32_t k = 0; k < 4; ++k)
        shape_.next_row_inputs.push_back(shape_.n_preprocessed_total + info_.n_main_columns +
                                         4 * (shape_.n_logup_batches - 1) + k);
    uint32_t degree = info_.max_constraint_degree;
    if (!info_.boundary_constraints.empty()) degree = std::max<uint32_t>(degree, 2);
    if (shape_.n_logup_batches > 0) degree = std::max<uint32_t>(degree, 3);
    uint32_t k = 1;
    while ((1u << k) + 1 < degree) ++k;
    shape_.log_constraint_extension = k;
  }

  const AirT& air() const { return air_; }

  void trace_batches(std::span<const M31* const> preprocessed, std::span<const M31* const> main,
                     std::span<const RelationChallenges> challenges, size_t row_begin, size_t row_end,
                     QM31* numerators, QM31* denominators) const override {
    const size_t nb = shape_.n_logup_batches;
    for (size_t row = row_begin; row < row_end; ++row) {
      const size_t slot = (row - row_begin) * nb;
      TraceFractionEval e{preprocessed.data(), main.data(), challenges.data(), info_.log_rows, row,
                          numerators + slot, denominators + slot, {}};
      air_.evaluate(e);
      e.finish();
    }
  }

  size_t interaction_rows(std::span<const M31* const> preprocessed, std::span<const M31* const> main,
                          std::span<const RelationChallenges> challenges, size_t row_begin, size_t row_end,
                          M31* const* batch_columns, QM31* row_totals) const override {
    size_t row = row_begin;
    if (packed_interaction_) {
      size_t zero_row = SIZE_MAX;
      row = packed_interaction_(*this, preprocessed, main, challenges, row_begin, row_end, batch_columns,
                                row_totals, &zero_row);
      if (zero_row != SIZE_MAX) return zero_row;
    }
    if (row == row_end) return SIZE_MAX;
    // One row at a time: the batches of the rows left, their denominators inverted together.
    const size_t nb = shape_.n_logup_batches, len = row_end - row;
    std::vector<QM31> num(len * nb), den(len * nb), inv(len * nb);
    trace_batches(preprocessed, main, challenges, row, row_end, num.data(), den.data());
    for (size_t i = 0; i < den.size(); ++i)
      if (den[i].is_zero()) return row + i / nb;
    batch_inverse_raw(den.data(), inv.data(), inv.data(), den.size());
    for (size_t i = 0; i < len; ++i) {
      QM31 total;
      for (size_t j = 0; j < nb; ++j) {
        const QM31 v = num[i * nb + j] * inv[i * nb + j];
        if (j + 1 < nb)
          for (int k = 0; k < 4; ++k) batch_columns[4 * j + k][row + i] = v.coord(k);
        total += v;
      }
      row_totals[row - row_begin + i] = total;
    }
    return SIZE_MAX;
  }

  void composition_on_domain(const DomainColumns& columns, std::span<const M31> public_inputs,
                             std::span<const RelationChallenges> challenges,
                             std::span<const QM31> coefficients, QM31 claimed_sum,
                             std::span<const M31> inv_vanishing, size_t begin, size_t end,
                             M31* const out[4]) const override {
    const QM31 sum_per_row = logup_sum_per_row(claimed_sum, info_.log_rows);
    size_t pos = begin;
    if (packed_)
      pos = packed_(*this, columns, public_inputs, challenges, coefficients, sum_per_row, inv_vanishing, begin, end, out);
    for (; pos < end; ++pos) {
      DomainEval e{columns.preprocessed.data(), columns.main.data(), columns.interaction.data(),
                   challenges.data(), coefficients.data(), sum_per_row, shape_.n_logup_batches,
                   pos, columns.next_position[pos], QM31::zero(), 0, {}};
      air_.evaluate(e);
      add_boundary_and_logup(e, public_inputs);
      QM31 v = e.accumulator * inv_vanishing[pos >> info_.log_rows];
      out[0][pos] = v.x0.a;
      out[1][pos] = v.x0.b;
      out[2][pos] = v.x1.a;
      out[3][pos] = v.x1.b;
    }
  }

  QM31 composition_at_point(const PointSamples& samples, std::span<const M31> public_inputs,
                            std::span<const RelationChallenges> challenges,
                            std::span<const QM31> coefficients, QM31 claimed_sum) const override {
    const QM31 sum_per_row = logup_sum_per_row(claimed_sum, info_.log_rows);
    PointEval e{samples.preprocessed.data(), samples.main.data(), samples.interaction.data(),
                challenges.data(), coefficients.data(), sum_per_row, shape_.n_logup_batches, QM31::zero(), 0, {}};
    air_.evaluate(e);
    add_boundary_and_logup(e, public_inputs);
    return e.accumulator;
  }

 protected:
  std::vector<std::vector<M31>> air_preprocessed_columns() const override {
    if constexpr (HasPreprocessedColumns<AirT>) {
      return air_.preprocessed_columns();
    } else {
      return {};
    }
  }

 public:
  // The boundary constraints and the last LogUp batch of a row, after the AIR's own constraints.
  template <class E>
  void add_boundary_and_logup(E& e, std::span<const M31> public_inputs) const {
    using F = typename E::F;
    for (const auto& b : info_.boundary_constraints) {
      size_t sel = std::lower_bound(shape_.selector_rows.begin(), shape_.selector_rows.end(), b.row) -
                   shape_.selector_rows.begin();
      F selector = e.preprocessed(info_.n_preprocessed_columns + static_cast<uint32_t>(sel), 0);
      e.add_constraint(selector * (e.main(b.main_column, 0) - F(public_inputs[b.public_input])));
    }
    e.logup.finalize(e);
  }

 private:
  AirT air_;
  PackedCompositionFn<AirT> packed_ = nullptr;
  PackedInteractionFn<AirT> packed_interaction_ = nullptr;
};

// Everything one proof is about: components in a fixed order, the LogUp relations they share,
// the number of public inputs, and the AIR's public LogUp terms (e.g. 1/comb(initial state)).
struct Air {
  std::vector<std::shared_ptr<const Component>> components;
  std::vector<RelationInfo> relations;
  uint32_t n_public_inputs = 0;
  // Optional: sum of public fractions; the verifier checks sum(claimed sums) + this == 0.
  std::function<QM31(std::span<const RelationChallenges>, std::span<const M31>)> public_logup_sum;
};

}  // namespace ptvm::air

// make_component (host code): the adapter with the CPU's packed evaluator.
#if !defined(__CUDACC__)
#include "ptvm/air/packed_composition.hpp"
#endif
